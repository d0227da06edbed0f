/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * libFuzzer target: the revocation document through
 * authz_revocation_parse(), checked against jansson as an oracle:
 *
 * - a document jansson accepts with JSON_REJECT_DUPLICATES and whose
 *   shape is valid (computed here from the json_t, written from
 *   SPEC 12) must be accepted, and every entry found with its time;
 * - a document the module accepts must be JSON that jansson accepts
 *   (without JSON_REJECT_DUPLICATES: the module merges a key repeated
 *   in a list), and each listed key must be found;
 * - every refusal has a static text and a position inside the input.
 *
 * Inputs the first comparison skips: a number of more than 64
 * characters (a refusal jansson cannot see), and any input with a NUL
 * byte (jansson 2.14 skips a NUL right after a number: {"a": 1\0} is
 * accepted).
 */


#define _POSIX_C_SOURCE  200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "authz_revocation.h"


#define FUZZ_PRUNE  1000.0


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_shape(json_t *doc, size_t *n);
static int fuzz_time(json_t *v);
static void fuzz_compare(const authz_revocation_t *rv, json_t *doc,
    int exact);
static void fuzz_list(const authz_revocation_t *rv, json_t *list,
    authz_revoked_e kind, double iat_before, int exact);
static authz_revoked_e fuzz_check(const authz_revocation_t *rv,
    authz_revoked_e kind, const char *key, size_t len, int has_iat,
    double iat);
static void fuzz_fail(const char *what);


static const unsigned char  fuzz_seed[16] = "fuzz-revocation";


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                        valid;
    size_t                     n;
    json_t                    *strict, *loose;
    json_error_t               jerr;
    authz_revocation_t        *rv;
    authz_revocation_error_t   err;

    rv = authz_revocation_parse(data, size, FUZZ_PRUNE, fuzz_seed, &err);

    strict = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES,
                        &jerr);
    valid = (strict != NULL && fuzz_shape(strict, &n)
             && memchr(data, '\0', size) == NULL);

    if (rv == NULL) {
        if (err.text == NULL || err.line == 0 || err.column == 0
            || err.offset > size)
        {
            fuzz_fail("refusal without text or position");
        }

        if (valid && strcmp(err.text, "number too long") != 0
            && strcmp(err.text, "not enough memory") != 0)
        {
            fprintf(stderr, "fuzz_revocation: refused: %s\n", err.text);
            fuzz_fail("a valid document refused");
        }

    } else {
        loose = json_loadb((const char *) data, size, 0, &jerr);

        if (loose == NULL) {
            fprintf(stderr, "fuzz_revocation: jansson: %s\n", jerr.text);
            fuzz_fail("accepted what is not JSON");
        }

        /* a repeated key keeps its latest time: compare keys only */

        fuzz_compare(rv, loose, 0);
        json_decref(loose);

        if (valid) {
            fuzz_compare(rv, strict, 1);
        }

        authz_revocation_free(rv);
    }

    if (strict != NULL) {
        json_decref(strict);
    }

    return 0;
}


/* the shape of SPEC 12, from the json_t */

static int
fuzz_shape(json_t *doc, size_t *n)
{
    json_t      *v, *t;
    size_t       klen;
    const char  *key, *name;

    if (!json_is_object(doc)) {
        return 0;
    }

    *n = 0;

    json_object_foreach(doc, name, v) {
        if (strcmp(name, "generated_at") == 0
            || strcmp(name, "iat_before") == 0)
        {
            if (!fuzz_time(v)) {
                return 0;
            }

            continue;
        }

        if (strcmp(name, "jti") != 0 && strcmp(name, "sub") != 0
            && strcmp(name, "tenant") != 0)
        {
            return 0;
        }

        if (!json_is_object(v)) {
            return 0;
        }

        json_object_keylen_foreach(v, key, klen, t) {
            if (klen > AUTHZ_REVOCATION_MAX_STRING || !fuzz_time(t)) {
                return 0;
            }

            (*n)++;
        }
    }

    return *n <= AUTHZ_REVOCATION_MAX_ENTRIES;
}


static int
fuzz_time(json_t *v)
{
    double  t;

    if (!json_is_number(v)) {
        return 0;
    }

    t = json_number_value(v);

    return t >= 0 && t <= AUTHZ_REVOCATION_MAX_TIME;
}


static void
fuzz_compare(const authz_revocation_t *rv, json_t *doc, int exact)
{
    double                    ib;
    json_t                   *v;
    authz_revocation_info_t   info;

    authz_revocation_info(rv, &info);

    v = json_object_get(doc, "iat_before");
    ib = v ? json_number_value(v) : 0;

    if (info.iat_before != ib) {
        fuzz_fail("iat_before differs");
    }

    v = json_object_get(doc, "generated_at");

    if (info.has_generated_at != (v != NULL)
        || (v != NULL && info.generated_at != json_number_value(v)))
    {
        fuzz_fail("generated_at differs");
    }

    fuzz_list(rv, json_object_get(doc, "jti"), AUTHZ_REVOKED_JTI, ib, exact);
    fuzz_list(rv, json_object_get(doc, "sub"), AUTHZ_REVOKED_SUB, ib, exact);
    fuzz_list(rv, json_object_get(doc, "tenant"), AUTHZ_REVOKED_TENANT, ib,
              exact);

    if (exact) {
        v = json_object_get(doc, "sub");

        if (info.entries[AUTHZ_REVOKED_SUB] != (v ? json_object_size(v) : 0))
        {
            fuzz_fail("sub entries counted wrong");
        }

        v = json_object_get(doc, "tenant");

        if (info.entries[AUTHZ_REVOKED_TENANT]
            != (v ? json_object_size(v) : 0))
        {
            fuzz_fail("tenant entries counted wrong");
        }

        v = json_object_get(doc, "jti");

        if (info.entries[AUTHZ_REVOKED_JTI] + info.pruned
            != (v ? json_object_size(v) : 0))
        {
            fuzz_fail("jti entries counted wrong");
        }
    }
}


/*
 * each key of a list is found; exact: with its time (a jti before
 * FUZZ_PRUNE is gone, a sub or tenant T revokes an iat just below it,
 * not an iat of T, unless iat_before is later)
 */

static void
fuzz_list(const authz_revocation_t *rv, json_t *list, authz_revoked_e kind,
    double iat_before, int exact)
{
    double           t;
    json_t          *v;
    size_t           len;
    const char      *key;
    authz_revoked_e  got, want;

    if (list == NULL) {
        return;
    }

    json_object_keylen_foreach(list, key, len, v) {
        t = json_number_value(v);

        if (kind == AUTHZ_REVOKED_JTI) {
            got = fuzz_check(rv, kind, key, len, 1,
                             AUTHZ_REVOCATION_MAX_TIME);

            if (!exact) {
                continue;
            }

            want = (t >= FUZZ_PRUNE) ? AUTHZ_REVOKED_JTI : AUTHZ_REVOKED_NONE;

            if (got != want) {
                fuzz_fail("jti not found as listed");
            }

            continue;
        }

        /* an empty sub or tenant is absent: it never applies */

        if (len == 0) {
            continue;
        }

        /* without iat, a listed sub or tenant is always revoked */

        got = fuzz_check(rv, kind, key, len, 0, 0);

        if (got == AUTHZ_REVOKED_NONE || got == AUTHZ_REVOKED_JTI) {
            fuzz_fail("listed key not found");
        }

        if (!exact) {
            continue;
        }

        got = fuzz_check(rv, kind, key, len, 1, t);
        want = (iat_before > t) ? AUTHZ_REVOKED_IAT_BEFORE
                                : AUTHZ_REVOKED_NONE;

        if (got != want) {
            fuzz_fail("iat == T revoked");
        }

        if (t >= 1) {
            got = fuzz_check(rv, kind, key, len, 1, t - 1);
            want = (iat_before > t) ? AUTHZ_REVOKED_IAT_BEFORE : kind;

            if (got != want) {
                fuzz_fail("iat < T not revoked");
            }
        }
    }
}


static authz_revoked_e
fuzz_check(const authz_revocation_t *rv, authz_revoked_e kind,
    const char *key, size_t len, int has_iat, double iat)
{
    unsigned char             *copy;
    authz_revoked_e            rc;
    authz_revocation_token_t   tok;

    memset(&tok, 0, sizeof(tok));

    /* an exact-size copy: ASan sees a read past the end */

    copy = malloc(len ? len : 1);
    if (copy == NULL) {
        abort();
    }

    memcpy(copy, key, len);

    switch (kind) {

    case AUTHZ_REVOKED_JTI:
        tok.has_jti = 1;
        tok.jti.data = copy;
        tok.jti.len = len;
        break;

    case AUTHZ_REVOKED_SUB:
        tok.sub.data = copy;
        tok.sub.len = len;
        break;

    default:
        tok.tenant.data = copy;
        tok.tenant.len = len;
        break;
    }

    tok.has_iat = has_iat;
    tok.iat = iat;

    rc = authz_revocation_check(rv, &tok);

    free(copy);

    return rc;
}


static void
fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_revocation: %s\n", what);
    abort();
}


#ifndef AUTHZ_LIBFUZZER
#include "fuzz_replay.h"
#endif /* AUTHZ_LIBFUZZER */
