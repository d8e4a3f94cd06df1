/* arena.h -- per-request memory: allocate freely, free everything at once.
 *
 * A worker serves one request at a time; everything a request allocates
 * (parsed headers, bodies, result rows) comes from its arena and is released
 * by rst_arena_reset() after the response, so a request cannot leak. The
 * first block is kept between requests to avoid malloc churn. */
#ifndef ROOST_ARENA_H
#define ROOST_ARENA_H

#include <stddef.h>

typedef struct rst_arena_block rst_arena_block;

typedef struct {
    rst_arena_block *head;     /* current block (newest first) */
    size_t           block_size;
} rst_arena;

void  rst_arena_init(rst_arena *a, size_t block_size);
/* Returns NULL only when malloc fails. Memory is 16-byte aligned. */
void *rst_arena_alloc(rst_arena *a, size_t n);
void *rst_arena_calloc(rst_arena *a, size_t n);
char *rst_arena_strndup(rst_arena *a, const char *s, size_t n);
char *rst_arena_strdup(rst_arena *a, const char *s);
/* Frees every block but the first and rewinds it. */
void  rst_arena_reset(rst_arena *a);
void  rst_arena_free(rst_arena *a);

#endif
