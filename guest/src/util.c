#define _GNU_SOURCE
#include "util.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int console_fd = 1;

void rng_seed(rng_t *r, uint64_t seed) {
  /* splitmix64 step so that small seeds (0, 1, 2...) still give well-mixed states. */
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  r->s = (z ^ (z >> 31)) | 1;
}

uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t parse_size(const char *s) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s) return 0;
  switch (*end) {
    case 'k': case 'K': v <<= 10; end++; break;
    case 'm': case 'M': v <<= 20; end++; break;
    case 'g': case 'G': v <<= 30; end++; break;
    default: break;
  }
  if (*end == 'i' || *end == 'B') end++; /* tolerate 64MiB / 64MB */
  if (*end == 'B') end++;
  return *end ? 0 : (uint64_t)v;
}

const char *arg_value(int argc, char **argv, const char *key) {
  size_t n = strlen(key);
  for (int i = 0; i < argc; i++)
    if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=') return argv[i] + n + 1;
  return NULL;
}

uint64_t arg_size(int argc, char **argv, const char *key, uint64_t dflt) {
  const char *v = arg_value(argc, argv, key);
  if (!v) return dflt;
  uint64_t n = parse_size(v);
  if (n == 0 && strcmp(v, "0") != 0) {
    say("WL WARN bad %s=%s, using %llu", key, v, (unsigned long long)dflt);
    return dflt;
  }
  return n;
}

void say(const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof buf - 2) n = (int)sizeof buf - 2;
  buf[n++] = '\n';
  ssize_t w = write(console_fd, buf, (size_t)n);
  (void)w;
}

static uint64_t mem_available(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  char line[128];
  unsigned long long kb = 0;
  if (!f) return 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
  fclose(f);
  return (uint64_t)kb << 10;
}

uint64_t clamp_to_memory(uint64_t want, uint64_t reserve, const char *what) {
  uint64_t avail = mem_available();
  if (avail == 0 || want + reserve <= avail) return want;
  uint64_t got = avail > reserve + (4u << 20) ? avail - reserve : (4u << 20);
  got &= ~(uint64_t)(PAGE - 1);
  say("WL WARN %s: %llu MiB does not fit, using %llu MiB", what,
      (unsigned long long)(want >> 20), (unsigned long long)(got >> 20));
  return got;
}

void *alloc_region(uint64_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) {
    say("WL ERROR mmap %llu bytes failed", (unsigned long long)bytes);
    exit(1);
  }
  return p;
}

void pace_init(pacer_t *p, uint64_t rate) {
  p->rate = rate;
  p->t0 = p->last_report = now_ns();
  p->bytes = p->total = 0;
}

void pace_add(pacer_t *p, uint64_t bytes) {
  p->bytes += bytes;
  p->total += bytes;
  if (!p->rate) return;
  uint64_t due = p->t0 + p->bytes * 1000000000ULL / p->rate;
  uint64_t now = now_ns();
  if (now + 1000000000ULL < due) due = now + 1000000000ULL;
  if (due > now) {
    struct timespec ts = { (time_t)((due - now) / 1000000000ULL), (long)((due - now) % 1000000000ULL) };
    nanosleep(&ts, NULL);
  } else if (now - due > 1000000000ULL) {
    p->t0 = now;
    p->bytes = 0;
  }
}

void pace_report(pacer_t *p, const char *name) {
  uint64_t now = now_ns();
  if (now - p->last_report < 10000000000ULL) return;
  double secs = (double)(now - p->last_report) / 1e9;
  say("WL %s written=%llu MiB rate=%.1f MiB/s", name, (unsigned long long)(p->total >> 20),
      (double)p->total / secs / 1048576.0);
  p->total = 0;
  p->last_report = now;
}
