/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * libFuzzer target: the key-set normalizer, the path a fetched JWKS
 * body takes (authz_key_request): JSON -> authz_key_load() -> each key
 * -> authz_key_record() -> authz_key_import(), as a worker imports the
 * records of shared memory.  Every record must import back to its key;
 * a record with one byte changed (chosen by the input) must be refused
 * or import to a key that keeps the policy; and the input itself, read
 * as a record, is untrusted bytes that import must survive.
 */


#define _POSIX_C_SOURCE  200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "authz_key.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_imported(const authz_key_t *key, const authz_key_rec_t *rec);
static unsigned fuzz_type_algs(EVP_PKEY *pkey);
static void fuzz_skip(void *data, const char *reason);
static void fuzz_fail(const char *what);


static authz_key_t      fuzz_keys[AUTHZ_MAX_KEYS];
static authz_key_rec_t  fuzz_rec, fuzz_bad;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t        i, n, off;
    authz_key_t   back;

    memset(fuzz_keys, 0, sizeof(fuzz_keys));
    n = 0;

    if (authz_key_load(data, size, NULL, fuzz_keys, &n, AUTHZ_MAX_KEYS,
                       NULL, 0, fuzz_skip, NULL)
        == 0)
    {
        for (i = 0; i < n; i++) {

            if (authz_key_record(&fuzz_keys[i], &fuzz_rec) != 0) {
                fuzz_fail("record");
            }

            if (authz_key_import(&fuzz_rec, &back) != 0) {
                fuzz_fail("import of a record");
            }

            if (EVP_PKEY_eq(back.pkey, fuzz_keys[i].pkey) != 1
                || back.algs != fuzz_keys[i].algs
                || back.kty != fuzz_keys[i].kty
                || back.kid_len != fuzz_keys[i].kid_len
                || memcmp(back.kid, fuzz_keys[i].kid, back.kid_len) != 0
                || memcmp(back.fingerprint, fuzz_keys[i].fingerprint, 32)
                   != 0)
            {
                fuzz_fail("import gave another key");
            }

            authz_key_free(&back);

            /* one byte of the record changed, where the input says */

            if (size >= 2) {
                fuzz_bad = fuzz_rec;
                off = ((size_t) data[size - 1] << 8 | data[size - 2])
                      % sizeof(authz_key_rec_t);
                ((unsigned char *) &fuzz_bad)[off] ^= (data[0] | 1);

                if (authz_key_import(&fuzz_bad, &back) == 0) {
                    fuzz_imported(&back, &fuzz_bad);
                    authz_key_free(&back);
                }
            }

            authz_key_free(&fuzz_keys[i]);
        }

    } else if (n != 0) {
        fuzz_fail("failed load counted keys");
    }

    /* the input as a record: untrusted bytes */

    memset(&fuzz_bad, 0, sizeof(authz_key_rec_t));
    memcpy(&fuzz_bad, data,
           size < sizeof(authz_key_rec_t) ? size : sizeof(authz_key_rec_t));

    if (authz_key_import(&fuzz_bad, &back) == 0) {
        fuzz_imported(&back, &fuzz_bad);
        authz_key_free(&back);
    }

    if (ERR_peek_error() != 0) {
        fuzz_fail("OpenSSL errors left queued");
    }

    return 0;
}


/* what import lets through keeps the policy and matches its record */

static void
fuzz_imported(const authz_key_t *key, const authz_key_rec_t *rec)
{
    unsigned  type;

    type = fuzz_type_algs(key->pkey);

    if (key->pkey == NULL || key->algs == 0 || (key->algs & ~type) != 0
        || key->kid_len > AUTHZ_MAX_KID_LEN
        || memcmp(key->fingerprint, rec->fingerprint, 32) != 0
        || key->issuer != NULL || key->source != NULL)
    {
        fuzz_fail("imported key");
    }
}


static unsigned
fuzz_type_algs(EVP_PKEY *pkey)
{
    int   bits;

    bits = EVP_PKEY_get_bits(pkey);

    switch (EVP_PKEY_get_base_id(pkey)) {

    case EVP_PKEY_RSA:
        return (bits >= AUTHZ_MIN_RSA_BITS && bits <= AUTHZ_MAX_RSA_BITS)
               ? AUTHZ_ALG_RSA : 0;

    case EVP_PKEY_EC:
        return (bits == 256) ? AUTHZ_ALG_ES256
               : (bits == 384) ? AUTHZ_ALG_ES384 : 0;

    case EVP_PKEY_ED25519:
        return AUTHZ_ALG_OKP;
    }

    return 0;
}


static void
fuzz_skip(void *data, const char *reason)
{
    size_t  i;

    (void) data;

    if (reason[0] == '\0') {
        fuzz_fail("empty skip reason");
    }

    for (i = 0; reason[i] != '\0'; i++) {
        if ((unsigned char) reason[i] < 0x20
            || (unsigned char) reason[i] > 0x7e)
        {
            fuzz_fail("unprintable skip reason");
        }
    }
}


static void
fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_jwks: %s\n", what);
    abort();
}


#ifndef AUTHZ_LIBFUZZER
#include "fuzz_replay.h"
#endif /* AUTHZ_LIBFUZZER */
