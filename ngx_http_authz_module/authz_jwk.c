/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: public keys from a JWKS or a single JWK (RFC 7517;
 * RFC 7518 6.2 EC, 6.3 RSA; RFC 8037 OKP); the key policy is
 * authz_key_add()'s.  In the "keys" of a JWKS a key that cannot be
 * used is skipped with its reason; a single JWK is the key the
 * operator meant, and its refusal fails the load.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "authz_key_int.h"
#include "authz_util.h"


/*
 * base64url of a JWK "n" or "e": 3072 bytes, a modulus three times
 * AUTHZ_MAX_RSA_BITS; a longer value is a key over the limit too
 */
#define AUTHZ_MAX_B64_LEN       4096

/* the longest EC coordinate (P-384) */
#define AUTHZ_MAX_EC_LEN        48

#define AUTHZ_ED25519_LEN       32


static int authz_key_jwk(authz_key_load_t *ld, json_t *jwk, size_t index);
static int authz_key_jwk_parse(authz_key_load_t *ld, json_t *jwk,
    size_t index, char *id, size_t idlen);
static int authz_key_jwk_usable(authz_key_load_t *ld, json_t *jwk,
    const char *id);
static int authz_key_jwk_alg(authz_key_load_t *ld, json_t *jwk,
    const char *id, unsigned *alg);
static int authz_key_jwk_rsa(authz_key_load_t *ld, json_t *jwk,
    const char *id, EVP_PKEY **pkey);
static int authz_key_jwk_bn(authz_key_load_t *ld, json_t *jwk,
    const char *name, const char *id, BIGNUM **bn);
static int authz_key_jwk_ec(authz_key_load_t *ld, json_t *jwk,
    const char *id, EVP_PKEY **pkey);
static int authz_key_jwk_okp(authz_key_load_t *ld, json_t *jwk,
    const char *id, EVP_PKEY **pkey);
static int authz_key_jwk_bytes(authz_key_load_t *ld, json_t *jwk,
    const char *name, const char *id, unsigned char *buf, size_t len);
static int authz_key_jwk_is(json_t *v, const char *s);


int
authz_key_jwks(authz_key_load_t *ld, const unsigned char *p, size_t len)
{
    int            rc;
    char          *near;
    json_t        *root, *keys, *jwk;
    size_t         i;
    json_error_t   jerr;
    char           last[256];

    root = json_loadb((const char *) p, len, JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL) {

        /* jansson quotes the offending input after "near": leave it out */

        near = strstr(jerr.text, " near '");
        if (near != NULL) {
            *near = '\0';
        }

        authz_key_error(ld, "invalid JSON: %s at line %d, column %d",
                        jerr.text, jerr.line, jerr.column);
        return -1;
    }

    rc = -1;

    if (!json_is_object(root)) {
        authz_key_error(ld, "JSON key file is not an object");
        goto failed;
    }

    keys = json_object_get(root, "keys");

    if (keys == NULL) {

        /* a single JWK is a set of one key */

        if (json_object_get(root, "kty") == NULL) {
            authz_key_error(ld, "no \"keys\" array (JWKS) or \"kty\" (JWK)");
            goto failed;
        }

        if (authz_key_jwk(ld, root, 0) != 0) {
            goto failed;
        }

    } else {

        if (!json_is_array(keys)) {
            authz_key_error(ld, "\"keys\" is not an array");
            goto failed;
        }

        if (json_array_size(keys) == 0) {
            authz_key_error(ld, "\"keys\" is empty");
            goto failed;
        }

        json_array_foreach(keys, i, jwk) {
            if (authz_key_jwk(ld, jwk, i + 1) != 0) {
                goto failed;
            }
        }
    }

    if (ld->added == 0) {

        /* the reason of the last key skipped, the one an operator needs */

        if (ld->skipped > 0) {
            memcpy(last, ld->msg, sizeof(last));
            authz_key_error(ld, "no usable signing key (%zu skipped, the "
                            "last: %s)", ld->skipped, last);

        } else {
            authz_key_error(ld, "no usable signing key");
        }

        goto failed;
    }

    rc = 0;

failed:

    json_decref(root);

    return rc;
}


/*
 * index: 1-based position in "keys", 0 for a single JWK;
 * returns 0 when the key is added or skipped, -1 on error
 */

static int
authz_key_jwk(authz_key_load_t *ld, json_t *jwk, size_t index)
{
    int   rc;
    char  id[AUTHZ_MAX_KID_LEN + 32];

    rc = authz_key_jwk_parse(ld, jwk, index, id, sizeof(id));

    if (rc == AUTHZ_KEY_OK) {
        return 0;
    }

    /* a single JWK is the key the operator meant: its refusal is fatal */

    if (rc == AUTHZ_KEY_ERROR || index == 0) {
        return -1;
    }

    ld->skipped++;

    if (ld->skip != NULL) {
        ld->skip(ld->data, ld->msg);
    }

    return 0;
}


/* AUTHZ_KEY_OK, AUTHZ_KEY_UNUSABLE (this key), AUTHZ_KEY_ERROR (all) */

static int
authz_key_jwk_parse(authz_key_load_t *ld, json_t *jwk, size_t index,
    char *id, size_t idlen)
{
    int           rc;
    size_t        i, kid_len;
    json_t       *v, *kty;
    unsigned      alg;
    EVP_PKEY     *pkey;
    const char   *kid, *reason;
    authz_key_t  *key;
    char          safe[AUTHZ_MAX_KID_LEN + 1];

    id[0] = '\0';

    if (index > 0) {
        snprintf(id, idlen, "key #%zu: ", index);
    }

    if (!json_is_object(jwk)) {
        authz_key_error(ld, "%snot an object", id);
        return AUTHZ_KEY_UNUSABLE;
    }

    kid = NULL;
    kid_len = 0;

    v = json_object_get(jwk, "kid");

    if (v != NULL) {
        if (!json_is_string(v)) {
            authz_key_error(ld, "%s\"kid\" is not a string", id);
            return AUTHZ_KEY_UNUSABLE;
        }

        kid = json_string_value(v);
        kid_len = json_string_length(v);

        reason = authz_kid_check(kid, kid_len);
        if (reason != NULL) {
            authz_key_error(ld, "%s\"kid\" %s", id, reason);
            return AUTHZ_KEY_UNUSABLE;
        }

        authz_key_printable(safe, 64, kid, kid_len);
        snprintf(id, idlen, "key \"%s\": ", safe);
    }

    kty = json_object_get(jwk, "kty");

    if (kty == NULL || !json_is_string(kty)) {
        authz_key_error(ld, "%s\"kty\" is missing or not a string", id);
        return AUTHZ_KEY_UNUSABLE;
    }

    rc = authz_key_jwk_usable(ld, jwk, id);
    if (rc != AUTHZ_KEY_OK) {
        return rc;
    }

    /* a private key does not belong on a gateway, nor in a JWKS */

    if (json_object_get(jwk, "d") != NULL) {
        authz_key_error(ld, "%sprivate key member \"d\" found: configure "
                        "the public key only", id);
        return AUTHZ_KEY_UNUSABLE;
    }

    /* RFC 8725 3.1: a key marked with an "alg" verifies that alg only */

    rc = authz_key_jwk_alg(ld, jwk, id, &alg);
    if (rc != AUTHZ_KEY_OK) {
        return rc;
    }

    /* "x5c" is never parsed: n/e, x/y or x are the key */

    if (authz_key_jwk_is(kty, "RSA")) {
        rc = authz_key_jwk_rsa(ld, jwk, id, &pkey);

    } else if (authz_key_jwk_is(kty, "EC")) {
        rc = authz_key_jwk_ec(ld, jwk, id, &pkey);

    } else if (authz_key_jwk_is(kty, "OKP")) {
        rc = authz_key_jwk_okp(ld, jwk, id, &pkey);

    } else {
        authz_key_printable(safe, 32, json_string_value(kty),
                            json_string_length(kty));
        authz_key_error(ld, "%skty \"%s\" is not supported", id, safe);
        return AUTHZ_KEY_UNUSABLE;
    }

    if (rc != AUTHZ_KEY_OK) {
        return rc;
    }

    /* a kid names one key of a set: two with one kid is a broken set */

    if (kid != NULL) {
        for (i = 0; i < ld->added; i++) {
            key = &ld->keys[ld->base + i];

            if (key->kid_len == kid_len
                && memcmp(key->kid, kid, kid_len) == 0)
            {
                EVP_PKEY_free(pkey);
                authz_key_printable(safe, 64, kid, kid_len);
                authz_key_error(ld, "duplicate kid \"%s\"", safe);
                return AUTHZ_KEY_ERROR;
            }
        }
    }

    return authz_key_add(ld, pkey, kid, kid_len, alg, index > 0, id);
}


/* AUTHZ_KEY_OK: a signature key; AUTHZ_KEY_UNUSABLE: another use */

static int
authz_key_jwk_usable(authz_key_load_t *ld, json_t *jwk, const char *id)
{
    int          verify;
    json_t      *v, *op;
    size_t       i;

    v = json_object_get(jwk, "use");

    if (v != NULL) {
        if (!json_is_string(v)) {
            authz_key_error(ld, "%s\"use\" is not a string", id);
            return AUTHZ_KEY_UNUSABLE;
        }

        if (!authz_key_jwk_is(v, "sig")) {
            authz_key_error(ld, "%s\"use\" is not \"sig\"", id);
            return AUTHZ_KEY_UNUSABLE;
        }
    }

    /* RFC 7517 4.3: "key_ops", if present, must allow "verify" */

    v = json_object_get(jwk, "key_ops");

    if (v == NULL) {
        return AUTHZ_KEY_OK;
    }

    if (!json_is_array(v)) {
        authz_key_error(ld, "%s\"key_ops\" is not an array", id);
        return AUTHZ_KEY_UNUSABLE;
    }

    verify = 0;

    json_array_foreach(v, i, op) {
        if (!json_is_string(op)) {
            authz_key_error(ld, "%s\"key_ops\" has a non-string item", id);
            return AUTHZ_KEY_UNUSABLE;
        }

        if (authz_key_jwk_is(op, "verify")) {
            verify = 1;
        }
    }

    if (!verify) {
        authz_key_error(ld, "%s\"key_ops\" lacks \"verify\"", id);
        return AUTHZ_KEY_UNUSABLE;
    }

    return AUTHZ_KEY_OK;
}


/* the alg bit of a JWK "alg" member, 0 without one */

static int
authz_key_jwk_alg(authz_key_load_t *ld, json_t *jwk, const char *id,
    unsigned *alg)
{
    json_t  *v;
    char     safe[32];

    *alg = 0;

    v = json_object_get(jwk, "alg");

    if (v == NULL) {
        return AUTHZ_KEY_OK;
    }

    if (!json_is_string(v)) {
        authz_key_error(ld, "%s\"alg\" is not a string", id);
        return AUTHZ_KEY_UNUSABLE;
    }

    *alg = authz_alg_parse((const unsigned char *) json_string_value(v),
                           json_string_length(v));

    if (*alg == 0) {
        authz_key_printable(safe, sizeof(safe), json_string_value(v),
                            json_string_length(v));
        authz_key_error(ld, "%s\"alg\" \"%s\" is not supported", id, safe);
        return AUTHZ_KEY_UNUSABLE;
    }

    return AUTHZ_KEY_OK;
}


static int
authz_key_jwk_rsa(authz_key_load_t *ld, json_t *jwk, const char *id,
    EVP_PKEY **pkey)
{
    int              rc;
    BIGNUM          *bn_n, *bn_e;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *ctx;
    OSSL_PARAM_BLD  *bld;

    *pkey = NULL;
    params = NULL;
    ctx = NULL;
    bld = NULL;
    bn_n = NULL;
    bn_e = NULL;

    rc = authz_key_jwk_bn(ld, jwk, "n", id, &bn_n);
    if (rc != AUTHZ_KEY_OK) {
        return rc;
    }

    rc = authz_key_jwk_bn(ld, jwk, "e", id, &bn_e);
    if (rc != AUTHZ_KEY_OK) {
        goto failed;
    }

    rc = AUTHZ_KEY_ERROR;

    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL) {
        authz_key_error(ld, "out of memory");
        goto failed;
    }

    if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1
        || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1)
    {
        authz_key_error(ld, "out of memory");
        goto failed;
    }

    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL) {
        authz_key_error(ld, "out of memory");
        goto failed;
    }

    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (ctx == NULL) {
        authz_key_error(ld, "EVP_PKEY_CTX_new_from_name() failed (%s)",
                        authz_key_ssl_reason());
        goto failed;
    }

    if (EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        authz_key_error(ld, "%sbad RSA key (%s)", id,
                        authz_key_ssl_reason());
        *pkey = NULL;
        rc = AUTHZ_KEY_UNUSABLE;
        goto failed;
    }

    rc = AUTHZ_KEY_OK;

failed:

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_e);
    BN_free(bn_n);

    return rc;
}


static int
authz_key_jwk_bn(authz_key_load_t *ld, json_t *jwk, const char *name,
    const char *id, BIGNUM **bn)
{
    size_t          len;
    json_t         *v;
    ptrdiff_t       n;
    unsigned char  *buf;

    v = json_object_get(jwk, name);

    if (v == NULL || !json_is_string(v)) {
        authz_key_error(ld, "%s\"%s\" is missing or not a string", id, name);
        return AUTHZ_KEY_UNUSABLE;
    }

    len = json_string_length(v);

    if (len == 0) {
        authz_key_error(ld, "%s\"%s\" is empty", id, name);
        return AUTHZ_KEY_UNUSABLE;
    }

    /* a modulus or an exponent this long is over the limits anyway */

    if (len > AUTHZ_MAX_B64_LEN) {
        authz_key_error(ld, "%s\"%s\" is too long (more than %d bytes)", id,
                        name, AUTHZ_MAX_B64_LEN / 4 * 3);
        return AUTHZ_KEY_UNUSABLE;
    }

    buf = malloc(len / 4 * 3 + 3);
    if (buf == NULL) {
        authz_key_error(ld, "out of memory");
        return AUTHZ_KEY_ERROR;
    }

    n = authz_base64url_decode(buf, (const unsigned char *)
                                json_string_value(v), len);

    if (n < 0) {
        free(buf);
        authz_key_error(ld, "%s\"%s\" is not strict base64url", id, name);
        return AUTHZ_KEY_UNUSABLE;
    }

    *bn = BN_bin2bn(buf, (int) n, NULL);

    free(buf);

    if (*bn == NULL) {
        authz_key_error(ld, "out of memory");
        return AUTHZ_KEY_ERROR;
    }

    return AUTHZ_KEY_OK;
}


/* RFC 7518 6.2.1: P-256 or P-384, x and y of exactly the field size */

static int
authz_key_jwk_ec(authz_key_load_t *ld, json_t *jwk, const char *id,
    EVP_PKEY **pkey)
{
    int              rc;
    size_t           len;
    json_t          *crv;
    OSSL_PARAM      *params;
    const char      *group;
    EVP_PKEY_CTX    *ctx;
    OSSL_PARAM_BLD  *bld;
    char             safe[32];
    unsigned char    pub[1 + 2 * AUTHZ_MAX_EC_LEN];

    *pkey = NULL;

    crv = json_object_get(jwk, "crv");

    if (crv == NULL || !json_is_string(crv)) {
        authz_key_error(ld, "%s\"crv\" is missing or not a string", id);
        return AUTHZ_KEY_UNUSABLE;
    }

    if (authz_key_jwk_is(crv, "P-256")) {
        group = "prime256v1";
        len = 32;

    } else if (authz_key_jwk_is(crv, "P-384")) {
        group = "secp384r1";
        len = 48;

    } else {
        authz_key_printable(safe, sizeof(safe), json_string_value(crv),
                            json_string_length(crv));
        authz_key_error(ld, "%sEC curve \"%s\" is not supported (P-256 "
                        "and P-384 are)", id, safe);
        return AUTHZ_KEY_UNUSABLE;
    }

    /* the uncompressed point: 04 || x || y */

    pub[0] = 0x04;

    rc = authz_key_jwk_bytes(ld, jwk, "x", id, &pub[1], len);
    if (rc != AUTHZ_KEY_OK) {
        return rc;
    }

    rc = authz_key_jwk_bytes(ld, jwk, "y", id, &pub[1 + len], len);
    if (rc != AUTHZ_KEY_OK) {
        return rc;
    }

    rc = AUTHZ_KEY_ERROR;
    params = NULL;
    ctx = NULL;

    bld = OSSL_PARAM_BLD_new();

    if (bld == NULL
        || OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, 0)
           != 1
        || OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                            pub, 1 + 2 * len)
           != 1)
    {
        authz_key_error(ld, "out of memory");
        goto failed;
    }

    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL) {
        authz_key_error(ld, "out of memory");
        goto failed;
    }

    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx == NULL) {
        authz_key_error(ld, "EVP_PKEY_CTX_new_from_name() failed (%s)",
                        authz_key_ssl_reason());
        goto failed;
    }

    /* the point is decoded here: one off the curve is refused */

    if (EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        authz_key_error(ld, "%sbad EC key: the point is not on the curve "
                        "(%s)", id, authz_key_ssl_reason());
        *pkey = NULL;
        rc = AUTHZ_KEY_UNUSABLE;
        goto failed;
    }

    rc = AUTHZ_KEY_OK;

failed:

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);

    return rc;
}


/* RFC 8037 2: crv Ed25519, x of 32 bytes */

static int
authz_key_jwk_okp(authz_key_load_t *ld, json_t *jwk, const char *id,
    EVP_PKEY **pkey)
{
    int             rc;
    json_t         *crv;
    char            safe[32];
    unsigned char   x[AUTHZ_ED25519_LEN];

    *pkey = NULL;

    crv = json_object_get(jwk, "crv");

    if (crv == NULL || !json_is_string(crv)) {
        authz_key_error(ld, "%s\"crv\" is missing or not a string", id);
        return AUTHZ_KEY_UNUSABLE;
    }

    if (!authz_key_jwk_is(crv, "Ed25519")) {
        authz_key_printable(safe, sizeof(safe), json_string_value(crv),
                            json_string_length(crv));
        authz_key_error(ld, "%sOKP curve \"%s\" is not supported (Ed25519 "
                        "is)", id, safe);
        return AUTHZ_KEY_UNUSABLE;
    }

    rc = authz_key_jwk_bytes(ld, jwk, "x", id, x, sizeof(x));
    if (rc != AUTHZ_KEY_OK) {
        return rc;
    }

    *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x,
                                        sizeof(x));
    if (*pkey == NULL) {
        authz_key_error(ld, "%sbad Ed25519 key (%s)", id,
                        authz_key_ssl_reason());
        return AUTHZ_KEY_UNUSABLE;
    }

    return AUTHZ_KEY_OK;
}


/* a base64url member that must decode to exactly len bytes */

static int
authz_key_jwk_bytes(authz_key_load_t *ld, json_t *jwk, const char *name,
    const char *id, unsigned char *buf, size_t len)
{
    size_t          slen;
    json_t         *v;
    ptrdiff_t       n;
    unsigned char   tmp[AUTHZ_MAX_EC_LEN + 3];

    v = json_object_get(jwk, name);

    if (v == NULL || !json_is_string(v)) {
        authz_key_error(ld, "%s\"%s\" is missing or not a string", id, name);
        return AUTHZ_KEY_UNUSABLE;
    }

    slen = json_string_length(v);

    /* the encoded length of len bytes, and not one more */

    if (slen != (len * 4 + 2) / 3) {
        authz_key_error(ld, "%s\"%s\" is not %zu bytes", id, name, len);
        return AUTHZ_KEY_UNUSABLE;
    }

    n = authz_base64url_decode(tmp, (const unsigned char *)
                               json_string_value(v), slen);

    if (n < 0) {
        authz_key_error(ld, "%s\"%s\" is not strict base64url", id, name);
        return AUTHZ_KEY_UNUSABLE;
    }

    if ((size_t) n != len) {
        authz_key_error(ld, "%s\"%s\" is not %zu bytes", id, name, len);
        return AUTHZ_KEY_UNUSABLE;
    }

    memcpy(buf, tmp, len);

    return AUTHZ_KEY_OK;
}


static int
authz_key_jwk_is(json_t *v, const char *s)
{
    size_t  len;

    len = strlen(s);

    return json_string_length(v) == len
           && memcmp(json_string_value(v), s, len) == 0;
}
