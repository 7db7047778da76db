/*
 * compile: a build tree in tmpfs. Writes source-like text files, reads each back (the
 * "compiler" reads its input), writes an object-like binary per source, and every 16
 * objects reads them back and writes an archive, replacing the previous one. The tree is
 * rewritten cyclically, so its total stays near SIZE (default 32 MiB, page cache in
 * tmpfs) while fresh files keep dirtying pages at RATE bytes/s (default 16 MiB/s).
 */
#include "content.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAXFILE (64u * 1024u)
#define GROUP 16

static uint8_t buf[MAXFILE * 2], rd[MAXFILE * GROUP];

static void put_file(const char *path, const uint8_t *data, size_t n) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) { say("WL ERROR open %s", path); exit(1); }
  for (size_t o = 0; o < n;) {
    ssize_t w = write(fd, data + o, n - o);
    if (w <= 0) { say("WL ERROR write %s (tmpfs full?)", path); exit(1); }
    o += (size_t)w;
  }
  close(fd);
}

static size_t get_file(const char *path, uint8_t *dst, size_t cap) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  size_t o = 0;
  ssize_t n;
  while (o < cap && (n = read(fd, dst + o, cap - o)) > 0) o += (size_t)n;
  close(fd);
  return o;
}

int compile_main(int argc, char **argv) {
  const char *dir = arg_value(argc, argv, "dir");
  if (!dir) dir = "/tmp/build";
  uint64_t size = arg_size(argc, argv, "size", 32u << 20);
  uint64_t rate = arg_size(argc, argv, "rate", 16u << 20);
  size = clamp_to_memory(size, 32u << 20, "compile");
  mkdir(dir, 0755);
  /* Average source 18 KiB + object 13 KiB, plus archives of about the same again. */
  uint64_t nfiles = size / (62u * 1024u);
  if (nfiles < GROUP) nfiles = GROUP;
  nfiles = nfiles / GROUP * GROUP;
  rng_t r;
  rng_seed(&r, now_ns());
  pacer_t pace;
  pace_init(&pace, rate);
  say("WL compile start dir=%s size=%llu MiB files=%llu rate=%llu KiB/s", dir,
      (unsigned long long)(size >> 20), (unsigned long long)nfiles, (unsigned long long)(rate >> 10));
  char path[256];
  uint64_t sum = 0;
  for (uint64_t i = 0;; i = (i + 1) % nfiles) {
    size_t ns = 4096 + rng_below(&r, MAXFILE / 2);
    fill_source(buf, ns, &r);
    snprintf(path, sizeof path, "%s/src%05llu.c", dir, (unsigned long long)i);
    put_file(path, buf, ns);
    size_t got = get_file(path, buf + MAXFILE, MAXFILE);
    for (size_t k = 0; k < got; k += 64) sum += buf[MAXFILE + k];
    size_t no = 2048 + ns * 2 / 3;
    fill_object(buf, no, &r);
    snprintf(path, sizeof path, "%s/obj%05llu.o", dir, (unsigned long long)i);
    put_file(path, buf, no);
    uint64_t written = ns + no;
    if (i % GROUP == GROUP - 1) {
      size_t total = 0;
      for (uint64_t j = i + 1 - GROUP; j <= i; j++) {
        snprintf(path, sizeof path, "%s/obj%05llu.o", dir, (unsigned long long)j);
        total += get_file(path, rd + total, sizeof rd - total);
      }
      snprintf(path, sizeof path, "%s/lib%05llu.a", dir, (unsigned long long)(i / GROUP));
      put_file(path, rd, total);
      written += total;
    }
    pace_add(&pace, written);
    pace_report(&pace, "compile");
  }
  return (int)(sum & 1);
}
