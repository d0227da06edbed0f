/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * libFuzzer target: a key file (PEM, X.509, JWKS, JWK) through
 * authz_key_load(); every key it returns is freed, so LeakSanitizer
 * sees any EVP_PKEY, BIO or jansson object left behind on an error path.
 * A second load into an almost full array takes the "too many keys"
 * paths, which must undo the keys added before.  Every loaded key is
 * RSA of 2048 to 8192 bits with e = 65537, EC P-256 or P-384, or
 * Ed25519, with algs of its type only; its record imports back to the
 * same key; every skipped key of a JWKS is reported with a printable
 * reason.
 */


#define _POSIX_C_SOURCE  200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "authz_key.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_load(const uint8_t *data, size_t size, const char *kid,
    size_t base, size_t max);
static void fuzz_skip(void *data, const char *reason);
static void fuzz_printable(const char *s, size_t len);
static void fuzz_check_key(const authz_key_t *key);
static void fuzz_fail(const char *what);


static authz_key_t  fuzz_keys[AUTHZ_MAX_KEYS];
static size_t       fuzz_skipped;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_load(data, size, "k", 0, AUTHZ_MAX_KEYS);
    fuzz_load(data, size, NULL, AUTHZ_MAX_KEYS - 1, AUTHZ_MAX_KEYS);

    /* the caller's OpenSSL errors survive a load */

    if (ERR_peek_error() != 0) {
        fuzz_fail("OpenSSL error queue not restored");
    }

    return 0;
}


static void
fuzz_load(const uint8_t *data, size_t size, const char *kid, size_t base,
    size_t max)
{
    int            rc;
    size_t         i, n, len;
    authz_key_t   *key;
    char           err[256];

    /* the slots below base stand for keys of earlier files */

    memset(fuzz_keys, 0, sizeof(fuzz_keys));

    n = base;
    memset(err, 'x', sizeof(err));

    rc = authz_key_load(data, size, kid, fuzz_keys, &n, max, err,
                        sizeof(err), fuzz_skip, &fuzz_skipped);

    len = strnlen(err, sizeof(err));

    if (len == sizeof(err)) {
        fuzz_fail("error text not terminated");
    }

    if (rc != 0) {
        if (rc != -1 || n != base || len == 0) {
            fuzz_fail("failed load");
        }

        fuzz_printable(err, len);

        for (i = 0; i < AUTHZ_MAX_KEYS; i++) {
            if (fuzz_keys[i].pkey != NULL) {
                fuzz_fail("a key left behind by a failed load");
            }
        }

        return;
    }

    if (n <= base || n > max) {
        fuzz_fail("key count");
    }

    for (i = base; i < n; i++) {
        key = &fuzz_keys[i];

        fuzz_check_key(key);

        authz_key_free(key);

        if (key->pkey != NULL) {
            fuzz_fail("authz_key_free()");
        }
    }
}


/* the key policy held, and the record of the key imports back to it */

static void
fuzz_check_key(const authz_key_t *key)
{
    BIGNUM           *e;
    unsigned          type;
    authz_key_t       back;
    authz_key_rec_t   rec;
    char              group[32];

    if (key->pkey == NULL
        || key->kid_len > AUTHZ_MAX_KID_LEN
        || memchr(key->kid, '\0', key->kid_len) != NULL
        || key->algs == 0)
    {
        fuzz_fail("loaded key");
    }

    switch (EVP_PKEY_get_base_id(key->pkey)) {

    case EVP_PKEY_RSA:
        e = NULL;

        if (key->kty != AUTHZ_KTY_RSA
            || EVP_PKEY_get_bits(key->pkey) < AUTHZ_MIN_RSA_BITS
            || EVP_PKEY_get_bits(key->pkey) > AUTHZ_MAX_RSA_BITS
            || EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_E, &e)
               != 1
            || !BN_is_word(e, AUTHZ_RSA_EXPONENT))
        {
            fuzz_fail("loaded key: RSA");
        }

        BN_free(e);
        type = AUTHZ_ALG_RSA;
        break;

    case EVP_PKEY_EC:
        if (key->kty != AUTHZ_KTY_EC
            || EVP_PKEY_get_utf8_string_param(key->pkey,
                                              OSSL_PKEY_PARAM_GROUP_NAME,
                                              group, sizeof(group), NULL)
               != 1)
        {
            fuzz_fail("loaded key: EC");
        }

        type = (strcmp(group, "prime256v1") == 0) ? AUTHZ_ALG_ES256
               : (strcmp(group, "secp384r1") == 0) ? AUTHZ_ALG_ES384 : 0;
        break;

    case EVP_PKEY_ED25519:
        if (key->kty != AUTHZ_KTY_OKP) {
            fuzz_fail("loaded key: OKP");
        }

        type = AUTHZ_ALG_OKP;
        break;

    default:
        fuzz_fail("loaded key: type");
        return;
    }

    if ((key->algs & ~type) != 0) {
        fuzz_fail("loaded key: algs of another type");
    }

    if (authz_key_record(key, &rec) != 0
        || authz_key_import(&rec, &back) != 0)
    {
        fuzz_fail("record round trip");
    }

    if (EVP_PKEY_eq(back.pkey, key->pkey) != 1
        || back.algs != key->algs || back.kty != key->kty
        || back.kid_len != key->kid_len
        || memcmp(back.kid, key->kid, key->kid_len) != 0
        || memcmp(back.fingerprint, key->fingerprint, 32) != 0)
    {
        fuzz_fail("record round trip: another key");
    }

    authz_key_free(&back);
}


static void
fuzz_skip(void *data, const char *reason)
{
    size_t  len;

    if (data != &fuzz_skipped) {
        fuzz_fail("skip callback data");
    }

    len = strlen(reason);

    if (len == 0) {
        fuzz_fail("empty skip reason");
    }

    fuzz_printable(reason, len);

    fuzz_skipped++;
}


static void
fuzz_printable(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e) {
            fprintf(stderr, "text: \"%s\"\n", s);
            fuzz_fail("unprintable error text");
        }
    }
}


static void
fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_key: %s\n", what);
    abort();
}


#ifndef AUTHZ_LIBFUZZER
#include "fuzz_replay.h"
#endif /* AUTHZ_LIBFUZZER */
