/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * libFuzzer target: the HTTP inputs the glue takes from a client
 * (authz_http.c).  The input is an Authorization header value and a
 * header name, split on the first newline:
 *
 *     authorization value \n header name
 *
 * Every string is an exact-size heap copy without a terminator, so that
 * ASan sees any over-read.  Besides memory safety, each function is
 * checked against a slow model written from its header's contract.
 */


#define _POSIX_C_SOURCE  200809L

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz_http.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_bearer(const unsigned char *p, size_t len);
static void fuzz_name(const unsigned char *p, size_t len);
static unsigned char *fuzz_dup(const unsigned char *p, size_t len);
static void fuzz_fail(const char *what);


static const char  *fuzz_names[] = {
    "X-User-Id", "X-Tenant-Id", "X-User-Permissions", "X-User-Services"
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t  *nl;

    nl = memchr(data, '\n', size);

    if (nl == NULL) {
        fuzz_bearer(data, size);
        fuzz_name(data, size);
        return 0;
    }

    fuzz_bearer(data, nl - data);
    fuzz_name(nl + 1, size - (nl - data) - 1);

    return 0;
}


static void
fuzz_bearer(const unsigned char *p, size_t len)
{
    int                   rc, want;
    size_t                tlen, i;
    unsigned char        *v;
    const unsigned char  *tok;

    v = fuzz_dup(p, len);

    tok = NULL;
    tlen = 0;
    rc = authz_bearer_parse(v, len, &tok, &tlen);

    /* the model: "bearer" in any case, one space, a non-space byte */

    want = (len > 7 && v[6] == ' ' && v[7] != ' ');

    for (i = 0; want && i < 6; i++) {
        if (tolower(v[i]) != "bearer"[i]) {
            want = 0;
        }
    }

    if (rc != (want ? 0 : -1)) {
        fuzz_fail("bearer: accepted or refused against the model");
    }

    if (rc == 0 && (tok != v + 7 || tlen != len - 7)) {
        fuzz_fail("bearer: token is not the rest of the value");
    }

    /* the scheme alone: "bearer" in any case, then the end or a space */

    want = (len >= 6 && (len == 6 || v[6] == ' '));

    for (i = 0; want && i < 6; i++) {
        if (tolower(v[i]) != "bearer"[i]) {
            want = 0;
        }
    }

    if (authz_bearer_scheme(v, len) != want) {
        fuzz_fail("bearer scheme: against the model");
    }

    free(v);
}


static void
fuzz_name(const unsigned char *p, size_t len)
{
    int             rc, want;
    size_t          i, k, nlen;
    unsigned char  *key, *name, c;

    key = fuzz_dup(p, len);

    for (k = 0; k < sizeof(fuzz_names) / sizeof(fuzz_names[0]); k++) {
        nlen = strlen(fuzz_names[k]);
        name = fuzz_dup((const unsigned char *) fuzz_names[k], nlen);

        rc = authz_header_name_eq(key, len, name, nlen);

        want = (len == nlen || (len > nlen && key[nlen] == '['));

        for (i = 0; want && i < nlen; i++) {
            c = key[i];

            if (c >= 0x80 || !isalnum(c)) {
                c = '-';
            }

            if (tolower(c) != tolower(name[i])) {
                want = 0;
            }
        }

        if (rc != want) {
            fuzz_fail("header name: match against the model");
        }

        free(name);
    }

    free(key);
}


static unsigned char *
fuzz_dup(const unsigned char *p, size_t len)
{
    unsigned char  *d;

    d = malloc(len ? len : 1);
    if (d == NULL) {
        abort();
    }

    if (len != 0) {
        memcpy(d, p, len);
    }

    return d;
}


static void
fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_http: %s\n", what);
    abort();
}


#ifndef AUTHZ_LIBFUZZER
#include "fuzz_replay.h"
#endif /* AUTHZ_LIBFUZZER */
