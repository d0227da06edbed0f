/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * Memory helpers of the unit tests: allocations that abort on failure,
 * exact-size copies without a terminator (so that ASan catches a read
 * past the end), and a list of blocks freed at the end of a test.
 */


#ifndef _AUTHZ_TEST_MEM_H_INCLUDED_
#define _AUTHZ_TEST_MEM_H_INCLUDED_


#include <stdlib.h>
#include <string.h>


typedef struct {
    void    **blocks;
    size_t    n;
    size_t    cap;
} unit_garbage_t;


static inline unit_garbage_t *
unit_garbage(void)
{
    static unit_garbage_t  g;

    return &g;
}


static inline void *
xmalloc(size_t n)
{
    void  *p;

    p = malloc(n ? n : 1);
    if (p == NULL) {
        abort();
    }

    return p;
}


/* remembers p, to be freed by gc_free() */

static inline void *
gc(void *p)
{
    unit_garbage_t  *g;

    g = unit_garbage();

    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 256;
        g->blocks = realloc(g->blocks, g->cap * sizeof(void *));
        if (g->blocks == NULL) {
            abort();
        }
    }

    g->blocks[g->n++] = p;

    return p;
}


static inline void
gc_free(void)
{
    size_t           i;
    unit_garbage_t  *g;

    g = unit_garbage();

    for (i = 0; i < g->n; i++) {
        free(g->blocks[i]);
    }

    free(g->blocks);

    g->blocks = NULL;
    g->n = 0;
    g->cap = 0;
}


static inline unsigned char *
dup_exact(const void *p, size_t len)
{
    unsigned char  *d;

    d = xmalloc(len);

    if (len) {
        memcpy(d, p, len);
    }

    return d;
}


#endif /* _AUTHZ_TEST_MEM_H_INCLUDED_ */
