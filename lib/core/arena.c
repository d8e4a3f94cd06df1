/* arena.c -- bump allocator backing each request (see arena.h). */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "core/arena.h"

struct rst_arena_block {
    rst_arena_block *next;
    size_t           size;    /* usable bytes in data[] */
    size_t           used;
    _Alignas(16) unsigned char data[];
};

static rst_arena_block *block_new(size_t size)
{
    rst_arena_block *b = malloc(sizeof(*b) + size);
    if (b == NULL)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

void rst_arena_init(rst_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 16384;
}

void *rst_arena_alloc(rst_arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n)
        return NULL;                         /* overflow */
    rst_arena_block *b = a->head;
    if (b == NULL || b->size - b->used < need) {
        /* Oversized requests get a block of their own so one big body does
         * not make every later block big. */
        size_t size = need > a->block_size ? need : a->block_size;
        rst_arena_block *nb = block_new(size);
        if (nb == NULL)
            return NULL;
        nb->next = a->head;
        a->head = nb;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    return p;
}

void *rst_arena_calloc(rst_arena *a, size_t n)
{
    void *p = rst_arena_alloc(a, n);
    if (p != NULL)
        memset(p, 0, n);
    return p;
}

char *rst_arena_strndup(rst_arena *a, const char *s, size_t n)
{
    char *p = rst_arena_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *rst_arena_strdup(rst_arena *a, const char *s)
{
    return rst_arena_strndup(a, s, strlen(s));
}

void rst_arena_reset(rst_arena *a)
{
    rst_arena_block *b = a->head;
    if (b == NULL)
        return;
    /* Keep the oldest block (the last in the list): it is the regular size. */
    while (b->next != NULL) {
        rst_arena_block *next = b->next;
        free(b);
        b = next;
    }
    b->used = 0;
    a->head = b;
}

void rst_arena_free(rst_arena *a)
{
    rst_arena_block *b = a->head;
    while (b != NULL) {
        rst_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}
