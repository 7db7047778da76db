/*
 * The memory workloads. Each runs forever; the checker (a separate process) reports.
 *   memwrite  rewrites a SIZE working set at RATE bytes/s with mixed realistic content
 *   random    the same writer with random bytes only (compression cannot win)
 *   hog       touches one word in every page of SIZE, nonstop, as fast as it can
 */
#include "content.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (64u * 1024u) /* 16 pages: a chunk keeps one content class, like a heap region */

static int writer(int argc, char **argv, const char *name, int random_only) {
  uint64_t size = arg_size(argc, argv, "size", 64u << 20);
  uint64_t rate = arg_size(argc, argv, "rate", 32u << 20);
  size = clamp_to_memory(size, 24u << 20, name);
  size = (size + CHUNK - 1) / CHUNK * CHUNK;
  say("WL %s start size=%llu MiB rate=%llu KiB/s", name, (unsigned long long)(size >> 20),
      (unsigned long long)(rate >> 10));
  uint8_t *ws = alloc_region(size);
  uint64_t chunks = size / CHUNK;
  rng_t r;
  rng_seed(&r, now_ns());
  /* Populate everything once at full speed, so the working set is realistic from the start. */
  for (uint64_t c = 0; c < chunks; c++)
    fill_class(random_only ? C_RANDOM : content_class_of(c), ws + c * CHUNK, CHUNK, &r);
  pacer_t pace;
  pace_init(&pace, rate);
  for (uint64_t c = 0;; c = (c + 1) % chunks) {
    fill_class(random_only ? C_RANDOM : content_class_of(c), ws + c * CHUNK, CHUNK, &r);
    pace_add(&pace, CHUNK);
    pace_report(&pace, name);
  }
  return 0;
}

int memwrite_main(int argc, char **argv) { return writer(argc, argv, "memwrite", 0); }
int random_main(int argc, char **argv) { return writer(argc, argv, "random", 1); }

int hog_main(int argc, char **argv) {
  uint64_t size = arg_size(argc, argv, "size", 128u << 20);
  size = clamp_to_memory(size, 24u << 20, "hog");
  say("WL hog start size=%llu MiB", (unsigned long long)(size >> 20));
  volatile uint64_t *p = alloc_region(size);
  uint64_t words_per_page = PAGE / 8, pages = size / PAGE, passes = 0, t = now_ns();
  for (;;) {
    for (uint64_t i = 0; i < pages; i++) p[i * words_per_page] += 1;
    passes++;
    uint64_t now = now_ns();
    if (now - t >= 10000000000ULL) {
      say("WL hog pages/s=%llu", (unsigned long long)(passes * pages * 1000000000ULL / (now - t)));
      passes = 0;
      t = now;
    }
  }
  return 0;
}

/* sample [size=..] [class=text|...|mixed]: writes a working set to stdout, so the content
 * mix can be inspected or compressed on a host (MECOMWL_STDOUT=1 mecomwl sample > file). */
int sample_main(int argc, char **argv) {
  uint64_t size = arg_size(argc, argv, "size", 4u << 20);
  const char *cls = arg_value(argc, argv, "class");
  int fixed = -1;
  for (int c = 0; cls && c < C_COUNT; c++)
    if (strcmp(cls, content_names[c]) == 0) fixed = c;
  static uint8_t chunk[CHUNK];
  rng_t r;
  rng_seed(&r, 42);
  for (uint64_t c = 0; c * CHUNK < size; c++) {
    fill_class(fixed >= 0 ? (enum content_class)fixed : content_class_of(c), chunk, CHUNK, &r);
    if (fwrite(chunk, 1, CHUNK, stdout) != CHUNK) return 1;
  }
  return 0;
}
