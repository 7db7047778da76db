/*
 * The checker: proves the guest's memory survived migration and shows it is alive.
 *
 * It owns a private region (default 8 MiB) no workload can touch (separate process).
 * Page p holds words derived from (p, gen[p]). Every tick (default 10 ms) it verifies
 * a slice of the region, so the whole region is re-read every 16 ticks, and rewrites a
 * few pages with gen+1, so the region also carries fresh writes that a migration must
 * not lose (a lost write leaves the old generation behind, which the next pass sees).
 * gen[] lives in this process's heap: the page and its generation are separate memory.
 *
 * Each tick prints exactly one line:  HB <counter> <monotonic_ms> OK|BAD
 * BAD is sticky; the first mismatch is also described once on a "CHK BAD" line.
 */
#define _GNU_SOURCE
#include "util.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WORDS (PAGE / 8)

static inline uint64_t pattern(uint64_t p, uint64_t g, uint64_t i) {
  return (((p << 40) ^ (g << 20) ^ i) + 1) * 0x9E3779B97F4A7C15ULL;
}

static void fill_page(uint64_t *w, uint64_t p, uint64_t g) {
  for (uint64_t i = 0; i < WORDS; i++) w[i] = pattern(p, g, i);
}

/* Returns the first bad word index, or -1. */
static int check_page(const uint64_t *w, uint64_t p, uint64_t g) {
  for (uint64_t i = 0; i < WORDS; i++)
    if (w[i] != pattern(p, g, i)) return (int)i;
  return -1;
}

int checker_main(int argc, char **argv) {
  uint64_t bytes = arg_size(argc, argv, "check", 8u << 20);
  uint64_t period_ms = arg_size(argc, argv, "hb", 10);
  if (bytes < 16 * PAGE) bytes = 16 * PAGE;
  if (period_ms < 1) period_ms = 1;
  uint64_t pages = bytes / PAGE;
  uint64_t *region = alloc_region(pages * PAGE);
  uint32_t *gen = calloc(pages, sizeof *gen);
  if (!gen) { say("CHK ERROR out of memory"); return 1; }
  for (uint64_t p = 0; p < pages; p++) fill_page(region + p * WORDS, p, 0);

  const uint64_t verify_per_tick = (pages + 15) / 16;
  const uint64_t rewrite_per_tick = 4;
  uint64_t vcur = 0, wcur = 0, counter = 0;
  int bad = 0;
  say("CHK start region=%llu KiB period=%llu ms", (unsigned long long)(bytes >> 10),
      (unsigned long long)period_ms);

  uint64_t period = period_ms * 1000000ULL, next = now_ns();
  for (;;) {
    for (uint64_t k = 0; k < verify_per_tick; k++, vcur = (vcur + 1) % pages) {
      int i = check_page(region + vcur * WORDS, vcur, gen[vcur]);
      if (i >= 0 && !bad) {
        bad = 1;
        say("CHK BAD page=%llu word=%d gen=%u want=%016llx got=%016llx", (unsigned long long)vcur, i,
            gen[vcur], (unsigned long long)pattern(vcur, gen[vcur], (uint64_t)i),
            (unsigned long long)region[vcur * WORDS + (uint64_t)i]);
      }
    }
    for (uint64_t k = 0; k < rewrite_per_tick; k++, wcur = (wcur + 1) % pages)
      fill_page(region + wcur * WORDS, wcur, ++gen[wcur]);

    say("HB %llu %llu %s", (unsigned long long)++counter, (unsigned long long)(now_ns() / 1000000ULL),
        bad ? "BAD" : "OK");

    /* Fixed schedule, but never catch up in a burst after a stall (e.g. the VM was paused). */
    next += period;
    uint64_t now = now_ns();
    if (next < now) next = now;
    struct timespec ts = { (time_t)(next / 1000000000ULL), (long)(next % 1000000000ULL) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {}
  }
}
