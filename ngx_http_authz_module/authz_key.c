/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: one key file's content into ready EVP_PKEYs, parsed
 * once at configuration time (authz_key_pem.c, authz_jwk.c), the key
 * policy (types, sizes, the algorithms of each type), the fingerprint,
 * and the record of a key for shared memory.  It never logs and keeps
 * no state.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "authz_key_int.h"
#include "authz_util.h"


static int authz_key_check(authz_key_load_t *ld, EVP_PKEY *pkey,
    const char *id, unsigned *algs, unsigned *kty);
static int authz_key_check_rsa(authz_key_load_t *ld, EVP_PKEY *pkey,
    const char *id);
static int authz_key_check_ec(authz_key_load_t *ld, EVP_PKEY *pkey,
    const char *id, unsigned *algs);
static int authz_key_fingerprint(EVP_PKEY *pkey, unsigned char *md);


int
authz_key_load(const unsigned char *buf, size_t len, const char *pem_kid,
    authz_key_t *keys, size_t *n, size_t max, char *err, size_t errlen,
    authz_key_skip_pt skip, void *data)
{
    int                   rc;
    size_t                i, kid_len;
    const char           *reason;
    authz_key_load_t      ld;
    const unsigned char  *p, *end;

    ld.keys = keys;
    ld.base = *n;
    ld.added = 0;
    ld.max = max;
    ld.skipped = 0;
    ld.skip = skip;
    ld.data = data;
    ld.msg[0] = '\0';

    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }

    kid_len = 0;

    if (pem_kid != NULL) {
        kid_len = strlen(pem_kid);

        reason = authz_kid_check(pem_kid, kid_len);
        if (reason != NULL) {
            if (err != NULL && errlen > 0) {
                snprintf(err, errlen, "\"kid\" %s", reason);
            }

            return -1;
        }
    }

    /* errors queued by this call are dropped on return, the caller's kept */

    ERR_set_mark();

    rc = -1;

    p = buf;
    end = (buf != NULL) ? buf + len : buf;

    /* a UTF-8 byte order mark, as some editors save it */

    if (end - p >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
        p += 3;
    }

    while (p < end
           && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    {
        p++;
    }

    if (p == end) {
        authz_key_error(&ld, "empty key file");
        goto done;
    }

    if (*p == '{') {
        rc = authz_key_jwks(&ld, p, end - p);

    } else if (authz_key_count(p, end - p, AUTHZ_PEM_BEGIN) > 0) {
        rc = authz_key_pem(&ld, p, end - p, pem_kid, kid_len);

    } else {
        authz_key_error(&ld, "no PEM or JWKS content");
    }

done:

    if (rc == 0) {
        *n += ld.added;

    } else {
        for (i = 0; i < ld.added; i++) {
            authz_key_free(&keys[ld.base + i]);
        }

        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "%s", ld.msg);
        }

        rc = -1;
    }

    ERR_pop_to_mark();

    return rc;
}


void
authz_key_free(authz_key_t *key)
{
    if (key->pkey != NULL) {
        EVP_PKEY_free(key->pkey);
        key->pkey = NULL;
    }
}


int
authz_key_add(authz_key_load_t *ld, EVP_PKEY *pkey, const char *kid,
    size_t kid_len, unsigned algs, unsigned in_set, const char *id)
{
    int           rc;
    unsigned      type_algs, kty;
    const char   *name;
    authz_key_t  *key;

    /* a key the policy refuses is skipped in a JWKS, even when it is full */

    rc = authz_key_check(ld, pkey, id, &type_algs, &kty);
    if (rc != AUTHZ_KEY_OK) {
        EVP_PKEY_free(pkey);
        return rc;
    }

    /* a JWK "alg" of another key type makes the key unusable */

    if (algs != 0 && (algs & type_algs) == 0) {
        EVP_PKEY_free(pkey);
        name = authz_alg_name(algs);
        authz_key_error(ld, "%s\"alg\" \"%s\" does not fit the key type", id,
                        (name != NULL) ? name : "?");
        return AUTHZ_KEY_UNUSABLE;
    }

    if (ld->base + ld->added >= ld->max) {
        EVP_PKEY_free(pkey);
        authz_key_error(ld, "too many keys (at most %zu)", ld->max);
        return AUTHZ_KEY_ERROR;
    }

    key = &ld->keys[ld->base + ld->added];

    memset(key, 0, sizeof(authz_key_t));

    if (authz_key_fingerprint(pkey, key->fingerprint) != 0) {
        EVP_PKEY_free(pkey);
        authz_key_error(ld, "%scannot encode the public key (%s)", id,
                        authz_key_ssl_reason());
        return AUTHZ_KEY_ERROR;
    }

    if (kid_len > 0) {
        memcpy(key->kid, kid, kid_len);
        key->kid_len = kid_len;
    }

    key->pkey = pkey;
    key->algs = (algs != 0) ? algs : type_algs;
    key->kty = kty;
    key->in_set = in_set ? 1 : 0;
    ld->added++;

    return AUTHZ_KEY_OK;
}


/*
 * the key policy: AUTHZ_KEY_OK with the algorithms of the key's type,
 * or AUTHZ_KEY_UNUSABLE with the reason
 */

static int
authz_key_check(authz_key_load_t *ld, EVP_PKEY *pkey, const char *id,
    unsigned *algs, unsigned *kty)
{
    int          rc;
    const char  *type;

    switch (EVP_PKEY_get_base_id(pkey)) {

    case EVP_PKEY_RSA:
        *algs = AUTHZ_ALG_RSA;
        *kty = AUTHZ_KTY_RSA;
        return authz_key_check_rsa(ld, pkey, id);

    case EVP_PKEY_EC:
        *kty = AUTHZ_KTY_EC;
        rc = authz_key_check_ec(ld, pkey, id, algs);
        return rc;

    case EVP_PKEY_ED25519:
        *algs = AUTHZ_ALG_OKP;
        *kty = AUTHZ_KTY_OKP;
        return AUTHZ_KEY_OK;
    }

    /*
     * RSA-PSS keys (EVP_PKEY_RSA_PSS) are refused as well: their parameter
     * restrictions make some RS / PS signatures fail as internal errors,
     * and JWKS cannot describe them; Ed448, DSA, X25519 ... are not JWS
     * signature keys this module verifies
     */

    type = EVP_PKEY_get0_type_name(pkey);
    authz_key_error(ld, "%sunsupported key type (%s): RSA, EC P-256, EC "
                    "P-384 and Ed25519 keys are", id,
                    (type != NULL) ? type : "unknown type");

    return AUTHZ_KEY_UNUSABLE;
}


/* RSA: the size and the exponent */

static int
authz_key_check_rsa(authz_key_load_t *ld, EVP_PKEY *pkey, const char *id)
{
    int          bits, rc;
    BIGNUM      *bn_n, *bn_e;

    bits = EVP_PKEY_get_bits(pkey);

    if (bits < AUTHZ_MIN_RSA_BITS) {
        authz_key_error(ld, "%sRSA key of %d bits, at least %d required", id,
                        bits, AUTHZ_MIN_RSA_BITS);
        return AUTHZ_KEY_UNUSABLE;
    }

    /* the cost of every verification, forged tokens included */

    if (bits > AUTHZ_MAX_RSA_BITS) {
        authz_key_error(ld, "%sRSA key of %d bits, at most %d allowed", id,
                        bits, AUTHZ_MAX_RSA_BITS);
        return AUTHZ_KEY_UNUSABLE;
    }

    bn_n = NULL;
    bn_e = NULL;
    rc = AUTHZ_KEY_UNUSABLE;

    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &bn_n) != 1
        || EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &bn_e) != 1)
    {
        authz_key_error(ld, "%scannot read the RSA key (%s)", id,
                        authz_key_ssl_reason());
        rc = AUTHZ_KEY_ERROR;
        goto failed;
    }

    /* a product of two odd primes */

    if (!BN_is_odd(bn_n)) {
        authz_key_error(ld, "%sRSA modulus is even", id);
        goto failed;
    }

    /*
     * the exponent every issuer and key generator uses: a verification
     * then costs what the modulus says, and e = 3 (forged PKCS #1 v1.5
     * signatures against lax verifiers) never reaches OpenSSL
     */

    if (!BN_is_word(bn_e, AUTHZ_RSA_EXPONENT)) {
        authz_key_error(ld, "%sRSA public exponent is not %d", id,
                        AUTHZ_RSA_EXPONENT);
        goto failed;
    }

    rc = AUTHZ_KEY_OK;

failed:

    BN_free(bn_e);
    BN_free(bn_n);

    return rc;
}


/* EC: a named curve of JWS, and a valid point of it */

static int
authz_key_check_ec(authz_key_load_t *ld, EVP_PKEY *pkey, const char *id,
    unsigned *algs)
{
    int            rv;
    char           group[64];
    EVP_PKEY_CTX  *ctx;

    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                       group, sizeof(group), NULL)
        != 1)
    {
        authz_key_error(ld, "%sEC key without a named curve", id);
        return AUTHZ_KEY_UNUSABLE;
    }

    if (strcmp(group, "prime256v1") == 0) {
        *algs = AUTHZ_ALG_ES256;

    } else if (strcmp(group, "secp384r1") == 0) {
        *algs = AUTHZ_ALG_ES384;

    } else {
        authz_key_error(ld, "%sEC curve %s is not supported (P-256 and "
                        "P-384 are)", id, group);
        return AUTHZ_KEY_UNUSABLE;
    }

    /* on the curve, not the point at infinity, of the group's order */

    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL) {
        authz_key_error(ld, "out of memory");
        return AUTHZ_KEY_ERROR;
    }

    rv = EVP_PKEY_public_check(ctx);

    EVP_PKEY_CTX_free(ctx);

    if (rv != 1) {
        authz_key_error(ld, "%sbad EC public key (%s)", id,
                        authz_key_ssl_reason());
        return AUTHZ_KEY_UNUSABLE;
    }

    return AUTHZ_KEY_OK;
}


int
authz_key_record(const authz_key_t *key, authz_key_rec_t *rec)
{
    int             len;
    unsigned char  *p;

    memset(rec, 0, sizeof(authz_key_rec_t));

    len = i2d_PUBKEY(key->pkey, NULL);
    if (len <= 0 || len > AUTHZ_MAX_SPKI_LEN) {
        ERR_clear_error();
        return -1;
    }

    p = rec->spki;

    if (i2d_PUBKEY(key->pkey, &p) != len) {
        ERR_clear_error();
        return -1;
    }

    rec->spki_len = len;
    rec->algs = key->algs;
    rec->kty = key->kty;
    rec->kid_len = key->kid_len;
    memcpy(rec->kid, key->kid, key->kid_len);
    memcpy(rec->fingerprint, key->fingerprint, sizeof(key->fingerprint));

    return 0;
}


/*
 * the record is not trusted: its SPKI must hash to its fingerprint,
 * parse whole, pass the key policy again, be of the recorded type,
 * and its algs are narrowed to those of that type
 */

int
authz_key_import(const authz_key_rec_t *rec, authz_key_t *key)
{
    int                   rc;
    unsigned              algs, kty;
    EVP_PKEY             *pkey;
    authz_key_load_t      ld;
    unsigned char         md[32];
    const unsigned char  *p;

    memset(key, 0, sizeof(authz_key_t));

    if (rec->spki_len == 0 || rec->spki_len > AUTHZ_MAX_SPKI_LEN
        || rec->kid_len > AUTHZ_MAX_KID_LEN
        || (rec->kid_len > 0
            && authz_kid_check(rec->kid, rec->kid_len) != NULL))
    {
        return -1;
    }

    ERR_set_mark();

    rc = -1;
    pkey = NULL;

    if (EVP_Digest(rec->spki, rec->spki_len, md, NULL, EVP_sha256(), NULL)
        != 1
        || memcmp(md, rec->fingerprint, sizeof(md)) != 0)
    {
        goto done;
    }

    p = rec->spki;

    pkey = d2i_PUBKEY(NULL, &p, (long) rec->spki_len);
    if (pkey == NULL || p != rec->spki + rec->spki_len) {
        goto done;
    }

    memset(&ld, 0, sizeof(authz_key_load_t));

    if (authz_key_check(&ld, pkey, "", &algs, &kty) != AUTHZ_KEY_OK
        || kty != rec->kty
        || (rec->algs & algs) == 0
        || (rec->algs & ~algs) != 0)
    {
        goto done;
    }

    key->pkey = pkey;
    key->algs = rec->algs;
    key->kty = kty;
    key->in_set = 1;
    key->kid_len = rec->kid_len;
    memcpy(key->kid, rec->kid, rec->kid_len);
    memcpy(key->fingerprint, rec->fingerprint, sizeof(md));

    pkey = NULL;
    rc = 0;

done:

    EVP_PKEY_free(pkey);
    ERR_pop_to_mark();

    return rc;
}


/* SHA-256 of the DER SubjectPublicKeyInfo */

static int
authz_key_fingerprint(EVP_PKEY *pkey, unsigned char *md)
{
    int             len, rc;
    unsigned char  *der, *p;

    len = i2d_PUBKEY(pkey, NULL);
    if (len <= 0) {
        return -1;
    }

    der = malloc(len);
    if (der == NULL) {
        return -1;
    }

    p = der;
    rc = -1;

    if (i2d_PUBKEY(pkey, &p) == len
        && EVP_Digest(der, len, md, NULL, EVP_sha256(), NULL) == 1)
    {
        rc = 0;
    }

    free(der);

    return rc;
}


/* occurrences of s in p (a binary-safe strstr count) */

size_t
authz_key_count(const unsigned char *p, size_t len, const char *s)
{
    size_t                slen, count;
    const unsigned char  *end;

    slen = strlen(s);
    count = 0;

    if (len < slen) {
        return 0;
    }

    for (end = p + len - slen + 1; p < end; p++) {
        if (*p == (unsigned char) s[0] && memcmp(p, s, slen) == 0) {
            count++;
            p += slen - 1;
        }
    }

    return count;
}


/* a value from the file, safe to quote in a message, cut to size - 4 */

void
authz_key_printable(char *dst, size_t size, const char *src, size_t len)
{
    size_t  i, max;

    max = size - 4;

    for (i = 0; i < len && i < max; i++) {
        dst[i] = (src[i] >= 0x20 && src[i] <= 0x7e && src[i] != '"'
                  && src[i] != '\\') ? src[i] : '?';
    }

    if (len > max) {
        memcpy(&dst[i], "...", 3);
        i += 3;
    }

    dst[i] = '\0';
}


const char *
authz_key_ssl_reason(void)
{
    const char     *reason;
    unsigned long   e;

    e = ERR_peek_last_error();

    if (e == 0) {
        return "unknown error";
    }

    reason = ERR_reason_error_string(e);

    return (reason != NULL) ? reason : "unknown error";
}


void
authz_key_error(authz_key_load_t *ld, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(ld->msg, sizeof(ld->msg), fmt, args);
    va_end(args);
}
