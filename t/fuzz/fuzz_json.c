/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * libFuzzer target: the JSON reader (authz_json.c) against jansson as
 * the oracle, at three nesting limits (16 as the token code uses it, 3,
 * and 4096, above jansson's own 2048):
 *
 * - authz_json_parse() accepts exactly what json_loadb() with
 *   JSON_REJECT_DUPLICATES accepts and authz_json_depth_ok() lets
 *   through;
 * - on both sides the same tree: types, integers, the bits of each
 *   double, string bytes, member names and their order, and the
 *   reader's own invariants (span, flat, len, NUL-terminated strings,
 *   authz_json_getn() and authz_json_array_get() finding each child);
 * - authz_json_dump() is json_dumps() (JSON_COMPACT | JSON_ENCODE_ANY,
 *   with and without JSON_ENSURE_ASCII), byte for byte, of the root and
 *   of every node of a small tree.
 *
 * Any difference aborts.  t/unit/test_json.c includes this file for
 * fuzz_json_check(), its differential loop.
 */


#define _POSIX_C_SOURCE  200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "authz_json.h"
#include "authz_jwt.h"


/* a tree of at most this many nodes has each node dumped as well */
#define FUZZ_JSON_DUMP_EACH  64


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fuzz_json_check(const uint8_t *data, size_t size,
    int max_depth);
static const char *fuzz_json_same(const authz_json_t *a, json_t *j,
    int dump_each);
static const char *fuzz_json_children(const authz_json_t *a, json_t *j,
    int dump_each);
static const char *fuzz_json_dump(const authz_json_t *a, json_t *j);


static const int  fuzz_json_depths[] = { 16, 3, 4096 };


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t       i;
    const char  *diff;

    for (i = 0; i < sizeof(fuzz_json_depths) / sizeof(int); i++) {
        diff = fuzz_json_check(data, size, fuzz_json_depths[i]);

        if (diff != NULL) {
            fprintf(stderr, "fuzz_json: max depth %d: %s\n",
                    fuzz_json_depths[i], diff);
            abort();
        }
    }

    return 0;
}


/* NULL when the reader and jansson agree on the input, else how not */

static const char *
fuzz_json_check(const uint8_t *data, size_t size, int max_depth)
{
    int            want;
    json_t        *j;
    const char    *err, *diff;
    authz_json_t  *a;
    json_error_t   jerr;

    j = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES, &jerr);
    want = (j != NULL && authz_json_depth_ok(data, size, max_depth));

    err = NULL;
    a = authz_json_parse(data, size, max_depth, &err);

    if (a == NULL && (err == NULL || err[0] == '\0')) {
        diff = "refused without an error text";

    } else if (a == NULL && strcmp(err, "out of memory") == 0) {
        diff = NULL;

    } else if (want && a == NULL) {
        fprintf(stderr, "fuzz_json: refused: %s\n", err);
        diff = "jansson accepts, the reader refuses";

    } else if (!want && a != NULL) {
        fprintf(stderr, "fuzz_json: jansson: %s\n",
                j == NULL ? jerr.text : "too deep");
        diff = "jansson refuses, the reader accepts";

    } else if (a == NULL) {
        diff = NULL;

    } else if (a->key != NULL || a->key_len != 0
               || (a->type != AUTHZ_JSON_OBJECT
                   && a->type != AUTHZ_JSON_ARRAY))
    {
        diff = "the root";

    } else {
        diff = fuzz_json_same(a, j, a->span <= FUZZ_JSON_DUMP_EACH);

        if (diff == NULL) {
            diff = fuzz_json_dump(a, j);
        }
    }

    authz_json_free(a);
    json_decref(j);

    return diff;
}


static const char *
fuzz_json_same(const authz_json_t *a, json_t *j, int dump_each)
{
    double       d, jd;
    const char  *diff;

    if (dump_each) {
        diff = fuzz_json_dump(a, j);
        if (diff != NULL) {
            return diff;
        }
    }

    switch (json_typeof(j)) {

    case JSON_OBJECT:
    case JSON_ARRAY:
        return fuzz_json_children(a, j, dump_each);

    case JSON_STRING:
        if (a->type != AUTHZ_JSON_STRING || a->span != 1
            || a->len != json_string_length(j)
            || memcmp(a->v.s, json_string_value(j), a->len) != 0
            || a->v.s[a->len] != '\0'
            || authz_json_string(a) != a->v.s
            || authz_json_string_length(a) != a->len)
        {
            return "a string differs";
        }

        return NULL;

    case JSON_INTEGER:
        if (a->type != AUTHZ_JSON_INTEGER || a->span != 1
            || a->v.i != json_integer_value(j)
            || authz_json_number_value(a) != json_number_value(j))
        {
            return "an integer differs";
        }

        return NULL;

    case JSON_REAL:
        d = a->v.d;
        jd = json_real_value(j);

        if (a->type != AUTHZ_JSON_REAL || a->span != 1
            || memcmp(&d, &jd, sizeof(double)) != 0)
        {
            return "a real differs";
        }

        return NULL;

    case JSON_TRUE:
        return (a->type == AUTHZ_JSON_TRUE && a->span == 1)
               ? NULL : "true differs";

    case JSON_FALSE:
        return (a->type == AUTHZ_JSON_FALSE && a->span == 1)
               ? NULL : "false differs";

    default:
        return (a->type == AUTHZ_JSON_NULL && a->span == 1)
               ? NULL : "null differs";
    }
}


/* an object's members or an array's elements, in order, and the spans */

static const char *
fuzz_json_children(const authz_json_t *a, json_t *j, int dump_each)
{
    int                  flat;
    json_t              *v;
    size_t               i, n, klen, span;
    void                *it;
    const char          *key, *diff;
    const authz_json_t  *e;

    if (json_is_object(j)) {
        n = json_object_size(j);

        if (a->type != AUTHZ_JSON_OBJECT || a->flat
            || authz_json_object_size(a) != n)
        {
            return "an object differs";
        }

        it = json_object_iter(j);

    } else {
        n = json_array_size(j);

        if (a->type != AUTHZ_JSON_ARRAY || authz_json_array_size(a) != n) {
            return "an array differs";
        }

        it = NULL;
    }

    span = 1;
    flat = 1;

    authz_json_foreach(a, i, e) {
        if (i >= n) {
            return "more children";
        }

        if (json_is_object(j)) {
            key = json_object_iter_key(it);
            klen = json_object_iter_key_len(it);
            v = json_object_iter_value(it);
            it = json_object_iter_next(j, it);

            if (e->key == NULL || e->key_len != klen
                || memcmp(e->key, key, klen) != 0 || e->key[klen] != '\0')
            {
                return "a member name differs";
            }

            if (authz_json_getn(a, key, klen) != e) {
                return "authz_json_getn() misses a member";
            }

        } else {
            v = json_array_get(j, i);

            if (e->key != NULL || e->key_len != 0) {
                return "an element has a name";
            }

            if (authz_json_array_get(a, i) != e) {
                return "authz_json_array_get() misses an element";
            }
        }

        if (json_is_object(v) || json_is_array(v)) {
            flat = 0;
        }

        diff = fuzz_json_same(e, v, dump_each);
        if (diff != NULL) {
            return diff;
        }

        span += e->span;
    }

    if (i != n || span != a->span) {
        return "a span differs";
    }

    if (a->type == AUTHZ_JSON_ARRAY
        && (a->flat != flat || authz_json_array_get(a, n) != NULL))
    {
        return "flat differs";
    }

    return NULL;
}


static const char *
fuzz_json_dump(const authz_json_t *a, json_t *j)
{
    int             ascii;
    char           *want;
    size_t          len, flags;
    const char     *diff;
    unsigned char  *got;

    diff = NULL;

    for (ascii = 0; ascii <= 1 && diff == NULL; ascii++) {
        flags = JSON_COMPACT | JSON_ENCODE_ANY;

        if (ascii) {
            flags |= JSON_ENSURE_ASCII;
        }

        want = json_dumps(j, flags);
        if (want == NULL) {
            return "json_dumps() failed";
        }

        /* an exact-size buffer: ASan sees a write past the length */

        len = authz_json_dump(a, ascii, NULL);

        got = malloc(len ? len : 1);
        if (got == NULL) {
            abort();
        }

        if (authz_json_dump(a, ascii, got) != len || len != strlen(want)
            || memcmp(got, want, len) != 0)
        {
            fprintf(stderr, "fuzz_json: json_dumps(): %s\n"
                    "fuzz_json: authz_json_dump(): %.*s\n",
                    want, (int) len, got);
            diff = ascii ? "the ASCII dump differs" : "the dump differs";
        }

        free(got);
        free(want);
    }

    return diff;
}


#ifndef AUTHZ_LIBFUZZER
#include "fuzz_replay.h"
#endif /* AUTHZ_LIBFUZZER */
