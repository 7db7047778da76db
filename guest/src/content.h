/* Realistic page content: what a heap, a page cache or a build tree holds. */
#ifndef MECOMWL_CONTENT_H
#define MECOMWL_CONTENT_H
#include "util.h"

enum content_class { C_TEXT, C_DECIMAL, C_POINTERS, C_INTS, C_SPARSE, C_RANDOM, C_COUNT };
extern const char *const content_names[C_COUNT];

/* Share of each class in a mixed working set, in percent (sums to 100). */
extern const unsigned content_mix[C_COUNT];
/* The class of chunk `idx` in a mixed working set: fixed per chunk, like heap regions. */
enum content_class content_class_of(uint64_t idx);

void fill_class(enum content_class c, uint8_t *dst, size_t n, rng_t *r);
void fill_text(uint8_t *dst, size_t n, rng_t *r);
void fill_decimal(uint8_t *dst, size_t n, rng_t *r);
void fill_pointers(uint8_t *dst, size_t n, rng_t *r);
void fill_ints(uint8_t *dst, size_t n, rng_t *r);
void fill_sparse(uint8_t *dst, size_t n, rng_t *r);
void fill_random(uint8_t *dst, size_t n, rng_t *r);
/* C-like source text (for the compile workload). */
void fill_source(uint8_t *dst, size_t n, rng_t *r);
/* Object-file-like bytes: header, code-like bytes, zero padding, symbols, relocations. */
void fill_object(uint8_t *dst, size_t n, rng_t *r);

#endif
