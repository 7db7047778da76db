/*
 * Content generators. Compression results depend entirely on what pages hold, so each
 * class imitates something real: prose and identifiers, numbers printed as text, heap
 * pointer arrays (shared high bits, aligned low bits), integer arrays (small values,
 * counters), mostly-zero structures, and a little already-compressed/encrypted data.
 * Each call draws fresh values, so a rewrite dirties the page with different bytes.
 */
#include "content.h"
#include <string.h>

const char *const content_names[C_COUNT] = { "text", "decimal", "pointers", "ints", "sparse", "random" };
const unsigned content_mix[C_COUNT] = { 28, 14, 20, 16, 14, 8 };

static const char *const words[] = {
  "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by",
  "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an",
  "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there",
  "been", "if", "more", "when", "will", "would", "who", "so", "no", "memory", "page", "server",
  "request", "response", "buffer", "value", "return", "static", "const", "struct", "error",
  "status", "client", "session", "migration", "network", "virtual", "machine", "kernel",
  "process", "thread", "queue", "table", "index", "record", "string", "number", "system",
  "time", "data", "file", "user", "name", "type", "list", "node", "size", "count", "offset",
  "length", "config", "default", "update", "delete", "insert", "select", "where", "order",
  "group", "commit", "rollback", "transaction", "cache", "hit", "miss", "latency", "throughput",
  "compress", "decompress", "stream", "block", "chunk", "header", "payload", "checksum",
  "timeout", "retry", "connect", "socket", "address", "port", "host", "service", "handler",
  "event", "callback", "promise", "async", "await", "function", "module", "import", "export",
  "class", "interface", "public", "private", "method", "object", "array", "map", "set",
  "key", "hash", "tree", "graph", "path", "root", "child", "parent", "left", "right", "first",
  "last", "next", "previous", "begin", "end", "start", "stop", "open", "close", "read", "write",
  "January", "Monday", "London", "Paris", "customer", "invoice", "payment", "account", "amount",
  "price", "quantity", "product", "order_id", "created_at", "updated_at", "enabled", "true",
  "false", "null", "undefined", "http", "https", "www", "example", "com", "org", "json", "xml",
};
#define NWORDS (sizeof words / sizeof words[0])

enum content_class content_class_of(uint64_t idx) {
  rng_t r;
  rng_seed(&r, idx * 7919 + 17);
  uint32_t x = rng_below(&r, 100), acc = 0;
  for (int c = 0; c < C_COUNT; c++) {
    acc += content_mix[c];
    if (x < acc) return (enum content_class)c;
  }
  return C_TEXT;
}

void fill_text(uint8_t *dst, size_t n, rng_t *r) {
  size_t o = 0;
  unsigned in_sentence = 0;
  while (o < n) {
    const char *w = words[rng_below(r, NWORDS)];
    size_t wl = strlen(w);
    if (o + wl + 2 > n) { memset(dst + o, ' ', n - o); break; }
    memcpy(dst + o, w, wl);
    if (in_sentence == 0 && dst[o] >= 'a' && dst[o] <= 'z') dst[o] -= 32;
    o += wl;
    if (++in_sentence > 6 + rng_below(r, 10)) {
      dst[o++] = '.';
      dst[o++] = rng_below(r, 4) ? ' ' : '\n';
      in_sentence = 0;
    } else {
      dst[o++] = rng_below(r, 12) ? ' ' : ',';
    }
  }
}

static size_t put_u64(uint8_t *dst, uint64_t v) {
  char tmp[24];
  size_t k = 0;
  do { tmp[k++] = (char)('0' + v % 10); v /= 10; } while (v);
  for (size_t i = 0; i < k; i++) dst[i] = (uint8_t)tmp[k - 1 - i];
  return k;
}

/* CSV/log-like lines of numbers: ids that grow, timestamps, amounts with cents. */
void fill_decimal(uint8_t *dst, size_t n, rng_t *r) {
  size_t o = 0;
  uint64_t id = rng_next(r) % 1000000, ts = 1700000000 + rng_next(r) % 50000000;
  while (o + 48 < n) {
    id += 1 + rng_below(r, 3);
    ts += rng_below(r, 60);
    o += put_u64(dst + o, id); dst[o++] = ',';
    o += put_u64(dst + o, ts); dst[o++] = ',';
    o += put_u64(dst + o, rng_below(r, 100000)); dst[o++] = '.';
    o += put_u64(dst + o, 10 + rng_below(r, 90)); dst[o++] = ',';
    o += put_u64(dst + o, rng_below(r, 1000)); dst[o++] = '\n';
  }
  memset(dst + o, ' ', n - o);
}

/* Arrays of heap pointers: one 64-bit base per run (like an allocator arena), 16-byte
 * aligned offsets within a few MiB, with the odd NULL and small tag between them. */
void fill_pointers(uint8_t *dst, size_t n, rng_t *r) {
  uint64_t *w = (uint64_t *)dst;
  size_t nw = n / 8;
  uint64_t base = 0x00007f0000000000ULL | ((rng_next(r) & 0xffffULL) << 24);
  for (size_t i = 0; i < nw; i++) {
    uint32_t k = rng_below(r, 16);
    if (k == 0) w[i] = 0;
    else if (k == 1) w[i] = rng_below(r, 256);
    else if (k == 2) w[i] = 0x0000555500000000ULL | ((rng_next(r) & 0xfffffULL) << 4);
    else w[i] = base + ((rng_next(r) & 0x3fffffULL) << 4);
  }
}

/* int32 arrays: counters, sorted ids with small deltas, small enums. */
void fill_ints(uint8_t *dst, size_t n, rng_t *r) {
  uint32_t *w = (uint32_t *)dst;
  size_t nw = n / 4, i = 0;
  while (i < nw) {
    size_t run = 64 + rng_below(r, 512);
    uint32_t kind = rng_below(r, 3), v = rng_below(r, 100000);
    for (size_t k = 0; k < run && i < nw; k++, i++) {
      if (kind == 0) w[i] = v += 1 + rng_below(r, 8);
      else if (kind == 1) w[i] = rng_below(r, 1000);
      else w[i] = rng_below(r, 8);
    }
  }
}

/* Mostly zero: sparse structs, partly used buffers, freshly allocated arrays. */
void fill_sparse(uint8_t *dst, size_t n, rng_t *r) {
  memset(dst, 0, n);
  for (size_t o = 0; o + 64 <= n; o += PAGE) {
    uint32_t recs = rng_below(r, 4);
    for (uint32_t k = 0; k < recs; k++) {
      size_t at = o + (rng_below(r, PAGE / 64) * 64);
      if (at + 32 > n) continue;
      uint64_t *w = (uint64_t *)(dst + at);
      w[0] = rng_below(r, 1 << 20);
      w[1] = 0x00007f0000000000ULL | (rng_next(r) & 0xffffffff0ULL);
      w[2] = rng_below(r, 4096);
    }
  }
}

void fill_random(uint8_t *dst, size_t n, rng_t *r) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) { uint64_t v = rng_next(r); memcpy(dst + i, &v, 8); }
  for (; i < n; i++) dst[i] = (uint8_t)rng_next(r);
}

void fill_source(uint8_t *dst, size_t n, rng_t *r) {
  static const char *const kw[] = { "static int ", "const char *", "struct ", "return ", "if (",
                                    "for (int i = 0; i < ", "while (", "} else {", "#include <",
                                    "uint64_t ", "void ", "size_t " };
  size_t o = 0;
  while (o + 96 < n) {
    unsigned indent = rng_below(r, 3) * 2;
    memset(dst + o, ' ', indent); o += indent;
    const char *k = kw[rng_below(r, sizeof kw / sizeof kw[0])];
    size_t kl = strlen(k);
    memcpy(dst + o, k, kl); o += kl;
    for (unsigned t = 1 + rng_below(r, 3); t; t--) {
      const char *w = words[rng_below(r, NWORDS)];
      size_t wl = strlen(w);
      memcpy(dst + o, w, wl); o += wl;
      dst[o++] = t > 1 ? '_' : ' ';
    }
    if (rng_below(r, 2)) { dst[o++] = '='; dst[o++] = ' '; o += put_u64(dst + o, rng_below(r, 4096)); }
    dst[o++] = ';';
    dst[o++] = '\n';
  }
  memset(dst + o, '\n', n - o);
}

void fill_object(uint8_t *dst, size_t n, rng_t *r) {
  static const uint8_t ops[] = { 0x48, 0x89, 0x8b, 0xe8, 0xc3, 0x55, 0x5d, 0x83, 0xc4, 0x0f, 0x85, 0x74, 0x31, 0xc0 };
  memset(dst, 0, n);
  if (n < 256) { fill_random(dst, n, r); return; }
  memcpy(dst, "\x7f" "ELF\x02\x01\x01", 7);
  size_t code = n / 2, pad = n / 8, o = 64;
  for (; o < code; o++) dst[o] = rng_below(r, 5) ? ops[rng_below(r, sizeof ops)] : (uint8_t)rng_next(r);
  o = (o + pad + 7) & ~(size_t)7; /* zero padding between sections, then aligned tables */
  size_t strtab = o + (n - o) / 2;
  for (; o + 24 <= strtab; o += 24) { /* relocations: offset, type, symbol index */
    uint64_t *w = (uint64_t *)(dst + o);
    w[0] = rng_below(r, (uint32_t)code);
    w[1] = ((uint64_t)rng_below(r, 64) << 32) | (2 + rng_below(r, 3));
    w[2] = (uint64_t)(int64_t)-4;
  }
  fill_source(dst + strtab, n - strtab, r); /* symbol names read like identifiers */
}

void fill_class(enum content_class c, uint8_t *dst, size_t n, rng_t *r) {
  switch (c) {
    case C_TEXT: fill_text(dst, n, r); break;
    case C_DECIMAL: fill_decimal(dst, n, r); break;
    case C_POINTERS: fill_pointers(dst, n, r); break;
    case C_INTS: fill_ints(dst, n, r); break;
    case C_SPARSE: fill_sparse(dst, n, r); break;
    default: fill_random(dst, n, r); break;
  }
}
