/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: public keys from PEM (SubjectPublicKeyInfo, PKCS#1,
 * X.509 certificates) and JWKS (RFC 7517, RFC 7518 6.3) into ready
 * EVP_PKEYs, parsed once at configuration time.  It never logs and keeps
 * no state.
 */


#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "authz_key.h"


/*
 * base64url of a JWK "n" or "e": 3072 bytes, a modulus three times
 * AUTHZ_MAX_RSA_BITS; a longer value is a key over the limit too
 */
#define AUTHZ_MAX_B64_LEN       4096

#define AUTHZ_PEM_BEGIN         "-----BEGIN "

/* results of the steps of a load */
#define AUTHZ_KEY_OK            0
#define AUTHZ_KEY_ERROR         -1
#define AUTHZ_KEY_UNUSABLE      -2      /* a policy refusal: skipped in a
                                           JWKS, an error elsewhere */


typedef struct {
    authz_key_t        *keys;       /* the caller's array */
    size_t              base;       /* *n on entry: new keys go from here */
    size_t              added;
    size_t              max;
    authz_key_skip_pt   skip;
    void               *data;
    char                msg[256];   /* the last error or skip reason */
} authz_key_load_t;


static int authz_key_pem(authz_key_load_t *ld, const unsigned char *p,
    size_t len, const char *kid, size_t kid_len);
static EVP_PKEY *authz_key_pem_block(authz_key_load_t *ld, const char *name,
    const unsigned char *data, long len, const char *id);
static int authz_key_jwks(authz_key_load_t *ld, const unsigned char *p,
    size_t len);
static int authz_key_jwk(authz_key_load_t *ld, json_t *jwk, size_t index);
static int authz_key_jwk_usable(authz_key_load_t *ld, json_t *jwk,
    const char *id);
static int authz_key_jwk_rsa(authz_key_load_t *ld, json_t *jwk,
    const char *id, EVP_PKEY **pkey);
static int authz_key_jwk_bn(authz_key_load_t *ld, json_t *jwk,
    const char *name, const char *id, BIGNUM **bn);
static int authz_key_add(authz_key_load_t *ld, EVP_PKEY *pkey,
    const char *kid, size_t kid_len, const char *id);
static int authz_key_check(authz_key_load_t *ld, EVP_PKEY *pkey,
    const char *id);
static int authz_key_fingerprint(EVP_PKEY *pkey, unsigned char *md);
static const char *authz_key_kid_check(const char *s, size_t len);
static ptrdiff_t authz_key_b64url_decode(unsigned char *dst,
    const unsigned char *src, size_t len);
static size_t authz_key_count(const unsigned char *p, size_t len,
    const char *s);
static void authz_key_printable(char *dst, size_t size, const char *src,
    size_t len);
static const char *authz_key_ssl_reason(void);
static void authz_key_error(authz_key_load_t *ld, const char *fmt, ...);


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
    ld.skip = skip;
    ld.data = data;
    ld.msg[0] = '\0';

    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }

    kid_len = 0;

    if (pem_kid != NULL) {
        kid_len = strlen(pem_kid);

        reason = authz_key_kid_check(pem_kid, kid_len);
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


static int
authz_key_pem(authz_key_load_t *ld, const unsigned char *p, size_t len,
    const char *kid, size_t kid_len)
{
    int             rc;
    BIO            *bio;
    long            dlen;
    char           *name, *header;
    size_t          count, i;
    EVP_PKEY       *pkey;
    unsigned long   e;
    unsigned char  *data;
    char            id[32];

    if (len > INT_MAX) {
        authz_key_error(ld, "key file too large");
        return -1;
    }

    /*
     * PEM_read_bio() silently skips lines it cannot read as a block start;
     * every "-----BEGIN " in the file must be a block, or one key would
     * be lost without a word
     */

    count = authz_key_count(p, len, AUTHZ_PEM_BEGIN);

    bio = BIO_new_mem_buf(p, (int) len);
    if (bio == NULL) {
        authz_key_error(ld, "out of memory");
        return -1;
    }

    rc = -1;
    name = NULL;
    header = NULL;
    data = NULL;
    id[0] = '\0';

    for (i = 0; /* void */; i++) {

        if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1) {
            e = ERR_peek_last_error();

            if (ERR_GET_LIB(e) == ERR_LIB_PEM
                && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
            {
                break;
            }

            authz_key_error(ld, "malformed PEM block #%zu (%s)", i + 1,
                            authz_key_ssl_reason());
            goto failed;
        }

        if (count > 1) {
            snprintf(id, sizeof(id), "PEM block #%zu: ", i + 1);
        }

        /* a safety net: a private key does not belong on a gateway */

        if (strstr(name, "PRIVATE KEY") != NULL) {
            authz_key_error(ld, "%sprivate key found: "
                            "configure the public key only", id);
            goto failed;
        }

        if (header[0] != '\0') {
            authz_key_error(ld, "%sPEM headers are not supported", id);
            goto failed;
        }

        pkey = authz_key_pem_block(ld, name, data, dlen, id);
        if (pkey == NULL) {
            goto failed;
        }

        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        name = NULL;
        header = NULL;
        data = NULL;

        /* several PEM keys may share pem_kid: they are tried in order */

        if (authz_key_add(ld, pkey, kid, kid_len, id) != 0) {
            goto failed;
        }
    }

    if (i == 0) {
        authz_key_error(ld, "no complete PEM block found");
        goto failed;
    }

    if (i != count) {
        authz_key_error(ld, "malformed PEM block: %zu \"-----BEGIN\" lines, "
                        "%zu readable", count, i);
        goto failed;
    }

    rc = 0;

failed:

    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    BIO_free(bio);

    return rc;
}


static EVP_PKEY *
authz_key_pem_block(authz_key_load_t *ld, const char *name,
    const unsigned char *data, long len, const char *id)
{
    X509                 *x509;
    EVP_PKEY             *pkey;
    const unsigned char  *p;
    char                  safe[48];

    p = data;

    if (strcmp(name, "PUBLIC KEY") == 0) {
        pkey = d2i_PUBKEY(NULL, &p, len);

    } else if (strcmp(name, "RSA PUBLIC KEY") == 0) {
        /* PKCS#1 RSAPublicKey (PEM_read_bio_RSAPublicKey is deprecated) */
        pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);

    } else if (strcmp(name, "CERTIFICATE") == 0) {

        /*
         * the certificate only carries the public key: its validity dates,
         * issuer, extensions and chain are deliberately not checked, the
         * operator pins this very key (a rotated-out certificate keeps
         * verifying until it is removed from the configuration)
         */

        x509 = d2i_X509(NULL, &p, len);
        if (x509 == NULL) {
            authz_key_error(ld, "%sbad \"CERTIFICATE\" block (%s)", id,
                            authz_key_ssl_reason());
            return NULL;
        }

        pkey = X509_get_pubkey(x509);
        X509_free(x509);

        if (pkey == NULL) {
            authz_key_error(ld, "%sunsupported public key in certificate "
                            "(%s)", id, authz_key_ssl_reason());
            return NULL;
        }

    } else {
        authz_key_printable(safe, sizeof(safe), name, strlen(name));
        authz_key_error(ld, "%sunsupported PEM block \"%s\"", id, safe);
        return NULL;
    }

    if (pkey == NULL) {
        authz_key_error(ld, "%sbad \"%s\" block (%s)", id, name,
                        authz_key_ssl_reason());
        return NULL;
    }

    if (p != data + len) {
        EVP_PKEY_free(pkey);
        authz_key_error(ld, "%strailing data in \"%s\" block", id, name);
        return NULL;
    }

    return pkey;
}


static int
authz_key_jwks(authz_key_load_t *ld, const unsigned char *p, size_t len)
{
    int            rc;
    char          *near;
    json_t        *root, *keys, *jwk;
    size_t         i;
    json_error_t   jerr;

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
        authz_key_error(ld, "no usable signing key");
        goto failed;
    }

    rc = 0;

failed:

    json_decref(root);

    return rc;
}


/*
 * index: 1-based position in "keys", 0 for a single JWK;
 * returns 0 when the key is added or skipped (a key of a set that is
 * not for signatures or refused by the key policy), -1 on error
 */

static int
authz_key_jwk(authz_key_load_t *ld, json_t *jwk, size_t index)
{
    int           rc;
    size_t        i, kid_len;
    json_t       *v;
    EVP_PKEY     *pkey;
    const char   *kid, *reason;
    authz_key_t  *key;
    char          safe[AUTHZ_MAX_KID_LEN + 1], id[AUTHZ_MAX_KID_LEN + 32];

    id[0] = '\0';

    if (index > 0) {
        snprintf(id, sizeof(id), "key #%zu: ", index);
    }

    if (!json_is_object(jwk)) {
        authz_key_error(ld, "%snot an object", id);
        return -1;
    }

    kid = NULL;
    kid_len = 0;

    v = json_object_get(jwk, "kid");

    if (v != NULL) {
        if (!json_is_string(v)) {
            authz_key_error(ld, "%s\"kid\" is not a string", id);
            return -1;
        }

        kid = json_string_value(v);
        kid_len = json_string_length(v);

        reason = authz_key_kid_check(kid, kid_len);
        if (reason != NULL) {
            authz_key_error(ld, "%s\"kid\" %s", id, reason);
            return -1;
        }

        authz_key_printable(safe, 64, kid, kid_len);
        snprintf(id, sizeof(id), "key \"%s\": ", safe);
    }

    v = json_object_get(jwk, "kty");

    if (v == NULL || !json_is_string(v)) {
        authz_key_error(ld, "%s\"kty\" is missing or not a string", id);
        return -1;
    }

    rc = authz_key_jwk_usable(ld, jwk, id);

    if (rc == AUTHZ_KEY_ERROR) {
        return -1;
    }

    if (rc == AUTHZ_KEY_UNUSABLE) {
        goto skip;
    }

    /* fail closed: another key type here is a configuration mistake */

    if (json_string_length(v) != 3
        || memcmp(json_string_value(v), "RSA", 3) != 0)
    {
        authz_key_printable(safe, 32, json_string_value(v),
                            json_string_length(v));
        authz_key_error(ld, "%skty \"%s\" is not RSA", id, safe);
        return -1;
    }

    /* "alg" is not used: authz_algorithms governs; "x5c" is ignored */

    v = json_object_get(jwk, "alg");

    if (v != NULL && !json_is_string(v)) {
        authz_key_error(ld, "%s\"alg\" is not a string", id);
        return -1;
    }

    if (kid != NULL) {
        for (i = 0; i < ld->added; i++) {
            key = &ld->keys[ld->base + i];

            if (key->kid_len == kid_len
                && memcmp(key->kid, kid, kid_len) == 0)
            {
                authz_key_error(ld, "duplicate kid \"%s\"", safe);
                return -1;
            }
        }
    }

    rc = authz_key_jwk_rsa(ld, jwk, id, &pkey);

    if (rc == AUTHZ_KEY_OK) {
        rc = authz_key_add(ld, pkey, kid, kid_len, id);
    }

    if (rc == AUTHZ_KEY_OK) {
        return 0;
    }

    if (rc == AUTHZ_KEY_ERROR) {
        return -1;
    }

skip:

    /* a single JWK is the key the operator meant: its refusal is fatal */

    if (index == 0) {
        return -1;
    }

    if (ld->skip != NULL) {
        ld->skip(ld->data, ld->msg);
    }

    return 0;
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
            return AUTHZ_KEY_ERROR;
        }

        if (json_string_length(v) != 3
            || memcmp(json_string_value(v), "sig", 3) != 0)
        {
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
        return AUTHZ_KEY_ERROR;
    }

    verify = 0;

    json_array_foreach(v, i, op) {
        if (!json_is_string(op)) {
            authz_key_error(ld, "%s\"key_ops\" has a non-string item", id);
            return AUTHZ_KEY_ERROR;
        }

        if (json_string_length(op) == 6
            && memcmp(json_string_value(op), "verify", 6) == 0)
        {
            verify = 1;
        }
    }

    if (!verify) {
        authz_key_error(ld, "%s\"key_ops\" lacks \"verify\"", id);
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
        return AUTHZ_KEY_ERROR;
    }

    len = json_string_length(v);

    if (len == 0) {
        authz_key_error(ld, "%s\"%s\" is empty", id, name);
        return AUTHZ_KEY_ERROR;
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

    n = authz_key_b64url_decode(buf, (const unsigned char *)
                                json_string_value(v), len);

    if (n < 0) {
        free(buf);
        authz_key_error(ld, "%s\"%s\" is not strict base64url", id, name);
        return AUTHZ_KEY_ERROR;
    }

    *bn = BN_bin2bn(buf, (int) n, NULL);

    free(buf);

    if (*bn == NULL) {
        authz_key_error(ld, "out of memory");
        return AUTHZ_KEY_ERROR;
    }

    return AUTHZ_KEY_OK;
}


/*
 * takes pkey: it is stored in the next slot or freed;
 * returns AUTHZ_KEY_OK, AUTHZ_KEY_ERROR or AUTHZ_KEY_UNUSABLE
 */

static int
authz_key_add(authz_key_load_t *ld, EVP_PKEY *pkey, const char *kid,
    size_t kid_len, const char *id)
{
    int           rc;
    authz_key_t  *key;

    /* a key the policy refuses is skipped in a JWKS, even when it is full */

    rc = authz_key_check(ld, pkey, id);
    if (rc != AUTHZ_KEY_OK) {
        EVP_PKEY_free(pkey);
        return rc;
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
    key->algs = AUTHZ_ALG_RSA;
    key->kty = AUTHZ_KTY_RSA;
    ld->added++;

    return AUTHZ_KEY_OK;
}


/* the key policy: AUTHZ_KEY_OK, or AUTHZ_KEY_UNUSABLE with the reason */

static int
authz_key_check(authz_key_load_t *ld, EVP_PKEY *pkey, const char *id)
{
    int          bits, rc;
    BIGNUM      *bn_n, *bn_e;
    const char  *type;

    /*
     * RSA-PSS keys (EVP_PKEY_RSA_PSS) are refused as well: their parameter
     * restrictions make some RS / PS signatures fail as internal errors,
     * and JWKS cannot describe them
     */

    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        type = EVP_PKEY_get0_type_name(pkey);
        authz_key_error(ld, "%snot an RSA key (%s)", id,
                        (type != NULL) ? type : "unknown type");
        return AUTHZ_KEY_ERROR;
    }

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


int
authz_key_import(const authz_key_rec_t *rec, authz_key_t *key)
{
    EVP_PKEY             *pkey;
    unsigned char         md[32];
    const unsigned char  *p;

    memset(key, 0, sizeof(authz_key_t));

    if (rec->spki_len == 0 || rec->spki_len > AUTHZ_MAX_SPKI_LEN
        || rec->kid_len > AUTHZ_MAX_KID_LEN)
    {
        return -1;
    }

    if (EVP_Digest(rec->spki, rec->spki_len, md, NULL, EVP_sha256(), NULL)
        != 1
        || memcmp(md, rec->fingerprint, sizeof(md)) != 0)
    {
        ERR_clear_error();
        return -1;
    }

    p = rec->spki;

    pkey = d2i_PUBKEY(NULL, &p, (long) rec->spki_len);
    if (pkey == NULL || p != rec->spki + rec->spki_len) {
        EVP_PKEY_free(pkey);
        ERR_clear_error();
        return -1;
    }

    key->pkey = pkey;
    key->algs = rec->algs;
    key->kty = rec->kty;
    key->kid_len = rec->kid_len;
    memcpy(key->kid, rec->kid, rec->kid_len);
    memcpy(key->fingerprint, rec->fingerprint, sizeof(md));

    return 0;
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


/* the rule authz_jwt.c applies to a token's "kid", so both can match */

static const char *
authz_key_kid_check(const char *s, size_t len)
{
    size_t  i;

    if (len == 0) {
        return "is empty";
    }

    if (len > AUTHZ_MAX_KID_LEN) {
        return "is too long";
    }

    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e) {
            return "has a bad character";
        }
    }

    return NULL;
}


/*
 * strict: no padding, only A-Z a-z 0-9 - _, no length of 4k + 1,
 * the unused low bits of the last character zero
 */

static ptrdiff_t
authz_key_b64url_decode(unsigned char *dst, const unsigned char *src,
    size_t len)
{
    size_t          i;
    uint32_t        acc, c;
    unsigned char  *d;

    if (len % 4 == 1) {
        return -1;
    }

    d = dst;
    acc = 0;

    for (i = 0; i < len; i++) {

        if (src[i] >= 'A' && src[i] <= 'Z') {
            c = src[i] - 'A';

        } else if (src[i] >= 'a' && src[i] <= 'z') {
            c = src[i] - 'a' + 26;

        } else if (src[i] >= '0' && src[i] <= '9') {
            c = src[i] - '0' + 52;

        } else if (src[i] == '-') {
            c = 62;

        } else if (src[i] == '_') {
            c = 63;

        } else {
            return -1;
        }

        acc = (acc << 6) | c;

        if (i % 4 == 3) {
            *d++ = (unsigned char) (acc >> 16);
            *d++ = (unsigned char) (acc >> 8);
            *d++ = (unsigned char) acc;
            acc = 0;
        }
    }

    switch (len % 4) {

    case 2:
        if (acc & 0x0f) {
            return -1;
        }

        *d++ = (unsigned char) (acc >> 4);
        break;

    case 3:
        if (acc & 0x03) {
            return -1;
        }

        *d++ = (unsigned char) (acc >> 10);
        *d++ = (unsigned char) (acc >> 2);
        break;
    }

    return d - dst;
}


/* occurrences of s in p (a binary-safe strstr count) */

static size_t
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

static void
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


static const char *
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


static void
authz_key_error(authz_key_load_t *ld, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(ld->msg, sizeof(ld->msg), fmt, args);
    va_end(args);
}
