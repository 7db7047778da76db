/* Shared helpers for the mecom guest workload binary (mecomwl). */
#ifndef MECOMWL_UTIL_H
#define MECOMWL_UTIL_H
#include <stddef.h>
#include <stdint.h>

#define PAGE 4096u

/* xorshift64*: fast, good enough for content generation, no libc state. */
typedef struct { uint64_t s; } rng_t;
static inline uint64_t rng_next(rng_t *r) {
  uint64_t x = r->s;
  x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
  r->s = x;
  return x * 0x2545F4914F6CDD1DULL;
}
static inline uint32_t rng_below(rng_t *r, uint32_t n) { return (uint32_t)((rng_next(r) >> 32) % n); }
void rng_seed(rng_t *r, uint64_t seed);

uint64_t now_ns(void);
/* "64M", "512K", "1G", "4096": bytes; returns 0 on a malformed value. */
uint64_t parse_size(const char *s);
/* Look up key=value among argv[from..argc); NULL when absent. */
const char *arg_value(int argc, char **argv, const char *key);
uint64_t arg_size(int argc, char **argv, const char *key, uint64_t dflt);

/* One line to the console in a single write(), so lines from the checker and the
 * workload never interleave mid-line on the shared tty. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Opened by main: the serial console (falls back to stdout). */
extern int console_fd;

/* Caps a working set to what the guest can hold, leaving `reserve` bytes for the rest. */
uint64_t clamp_to_memory(uint64_t want, uint64_t reserve, const char *what);
/* Anonymous memory, populated up front so the first pass measures writes, not faults. */
void *alloc_region(uint64_t bytes);

/* Rate limiter: call pace_add after each write; it sleeps while ahead of `rate` bytes/s.
 * rate 0 means unlimited. Falling more than a second behind resets the schedule, so a
 * stall (e.g. a migration pause) is not followed by a burst. */
typedef struct { uint64_t rate, t0, bytes, total, last_report; } pacer_t;
void pace_init(pacer_t *p, uint64_t rate);
void pace_add(pacer_t *p, uint64_t bytes);
/* Prints a "WL <name> ..." status line about every 10 s. */
void pace_report(pacer_t *p, const char *name);

#endif
