/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: JWS compact serialization (RFC 7515), JOSE
 * header, RSA, ECDSA and Ed25519 signatures (RFC 7518, RFC 8037) and
 * registered claims (RFC 7519).  It never logs and never calls
 * time(); its one state is the process's: the digests it fetched, and
 * a small cache of prepared verification contexts (authz_sig_ctx()).
 */


#include <ctype.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/err.h>

#include "authz_jwt.h"


/* how a signature is checked: the key type decides (SPEC 14) */
#define AUTHZ_SIG_RSA           0       /* RSASSA-PKCS1-v1_5 */
#define AUTHZ_SIG_PSS           1       /* RSASSA-PSS */
#define AUTHZ_SIG_ECDSA         2       /* R || S, converted to DER */
#define AUTHZ_SIG_EDDSA         3       /* Ed25519, no prehash */

/*
 * prepared verification contexts, per process: created on first use
 * (in an nginx worker: after fork, never shared between processes),
 * reused by every later verification with the same key and algorithm,
 * replaced in turn when full
 */
#define AUTHZ_SIG_CTX_MAX       32

/* the digests fetched once per process: SHA-256, SHA-384, SHA-512 */
#define AUTHZ_SIG_MD_MAX        3

/* the longest DER ECDSA-Sig-Value of P-384: 2 + 2 * (2 + 49) */
#define AUTHZ_MAX_ECDSA_DER     128


typedef struct {
    const char    *name;
    unsigned       alg;
    int            sig;           /* AUTHZ_SIG_* */
    unsigned       kty;           /* AUTHZ_KTY_* of the keys */
    size_t         len;           /* ECDSA: R || S; EdDSA: signature */
    const EVP_MD  *(*md)(void);   /* NULL for EdDSA */
} authz_alg_t;


/* a prepared context of authz_sig_ctx(): one of pctx and mctx is set */
typedef struct {
    EVP_PKEY_CTX      *pctx;          /* RSA, RSA-PSS, ECDSA */
    EVP_MD_CTX        *mctx;          /* EdDSA: copied, never used */
    const EVP_PKEY    *pkey;          /* NULL: a free slot */
    unsigned           alg;
    unsigned char      fingerprint[32];
} authz_sig_ctx_t;


static const authz_alg_t  authz_algs[] = {
    { "RS256", AUTHZ_ALG_RS256, AUTHZ_SIG_RSA, AUTHZ_KTY_RSA, 0,
      EVP_sha256 },
    { "RS384", AUTHZ_ALG_RS384, AUTHZ_SIG_RSA, AUTHZ_KTY_RSA, 0,
      EVP_sha384 },
    { "RS512", AUTHZ_ALG_RS512, AUTHZ_SIG_RSA, AUTHZ_KTY_RSA, 0,
      EVP_sha512 },
    { "PS256", AUTHZ_ALG_PS256, AUTHZ_SIG_PSS, AUTHZ_KTY_RSA, 0,
      EVP_sha256 },
    { "PS384", AUTHZ_ALG_PS384, AUTHZ_SIG_PSS, AUTHZ_KTY_RSA, 0,
      EVP_sha384 },
    { "PS512", AUTHZ_ALG_PS512, AUTHZ_SIG_PSS, AUTHZ_KTY_RSA, 0,
      EVP_sha512 },
    { "ES256", AUTHZ_ALG_ES256, AUTHZ_SIG_ECDSA, AUTHZ_KTY_EC, 64,
      EVP_sha256 },
    { "ES384", AUTHZ_ALG_ES384, AUTHZ_SIG_ECDSA, AUTHZ_KTY_EC, 96,
      EVP_sha384 },
    { "Ed25519", AUTHZ_ALG_ED25519, AUTHZ_SIG_EDDSA, AUTHZ_KTY_OKP, 64,
      NULL },
    { "EdDSA", AUTHZ_ALG_EDDSA, AUTHZ_SIG_EDDSA, AUTHZ_KTY_OKP, 64, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};


/* the group orders: a scalar of R || S must be in [1, n - 1] */

static const unsigned char  authz_p256_n[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
    0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51
};

static const unsigned char  authz_p384_n[48] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a,
    0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73
};




static const authz_alg_t *authz_alg_find(unsigned alg);
static authz_err_e authz_token_header(authz_token_t *tok,
    const unsigned char *p, size_t len, const authz_verify_conf_t *conf);
static int authz_typ_app(const unsigned char *p, size_t len);
static int authz_typ_printable(authz_json_t *typ);
static authz_err_e authz_token_typ_check(authz_token_t *tok, authz_json_t *typ,
    const authz_verify_conf_t *conf);
static authz_err_e authz_token_payload(authz_token_t *tok);
static authz_err_e authz_token_claims(authz_token_t *tok,
    const authz_verify_conf_t *conf, time_t now);
static int authz_token_number(authz_json_t *obj, const char *name,
    double *value, int *present);
static int authz_token_str_eq(authz_json_t *s, const authz_str_t *v);
static size_t authz_token_candidates(const authz_token_t *tok,
    const authz_verify_conf_t *conf, const authz_key_t **cand);
static authz_err_e authz_token_signature(authz_token_t *tok,
    const authz_key_t **cand, size_t n, const authz_key_t **key);
static const EVP_MD *authz_sig_md(const authz_alg_t *a);
static EVP_MD_CTX *authz_md_ctx(EVP_MD_CTX **mctx);
static authz_err_e authz_sig_digest(const authz_token_t *tok,
    const authz_alg_t *a, unsigned char *md, unsigned int *mdlen);
static authz_sig_ctx_t *authz_sig_ctx(const authz_alg_t *a,
    const authz_key_t *key);
static authz_err_e authz_sig_prepare(authz_sig_ctx_t *c,
    const authz_alg_t *a, const authz_key_t *key);
static authz_err_e authz_rsa_verify(const authz_token_t *tok,
    const authz_alg_t *a, const authz_key_t *key, const unsigned char *md,
    size_t mdlen);
static authz_err_e authz_ecdsa_verify(const authz_token_t *tok,
    const authz_alg_t *a, const authz_key_t *key, const unsigned char *md,
    size_t mdlen);
static size_t authz_ecdsa_der_int(unsigned char *d, const unsigned char *p,
    size_t len);
static int authz_ecdsa_scalar_ok(const unsigned char *p, size_t len);
static authz_err_e authz_eddsa_verify(const authz_token_t *tok,
    const authz_alg_t *a, const authz_key_t *key);


int
authz_json_depth_ok(const unsigned char *p, size_t len, int max)
{
    int            depth, in_string;
    const unsigned char  *end;

    depth = 0;
    in_string = 0;

    for (end = p + len; p < end; p++) {

        if (in_string) {
            if (*p == '\\') {
                if (end - p < 2) {
                    break;
                }

                p++;

            } else if (*p == '"') {
                in_string = 0;
            }

            continue;
        }

        switch (*p) {

        case '"':
            in_string = 1;
            break;

        case '{':
        case '[':
            if (++depth > max) {
                return 0;
            }
            break;

        case '}':
        case ']':
            depth--;
            break;
        }
    }

    return 1;
}


int
authz_typ_eq(const unsigned char *typ, size_t len, const unsigned char *want,
    size_t wlen)
{
    size_t  i;

    if (authz_typ_app(typ, len)) {
        typ += sizeof("application/") - 1;
        len -= sizeof("application/") - 1;
    }

    if (authz_typ_app(want, wlen)) {
        want += sizeof("application/") - 1;
        wlen -= sizeof("application/") - 1;
    }

    if (len != wlen || len == 0) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (tolower(typ[i]) != tolower(want[i])) {
            return 0;
        }
    }

    return 1;
}


/* 1 if p starts with "application/" (any case) and goes on */

static int
authz_typ_app(const unsigned char *p, size_t len)
{
    size_t  i;

    static const char  app[] = "application/";

    if (len <= sizeof(app) - 1) {
        return 0;
    }

    for (i = 0; i < sizeof(app) - 1; i++) {
        if (tolower(p[i]) != app[i]) {
            return 0;
        }
    }

    return 1;
}


/* 1 if the "typ" string is printable ASCII (spaces included) */

static int
authz_typ_printable(authz_json_t *typ)
{
    size_t                i, len;
    const unsigned char  *p;

    p = (const unsigned char *) authz_json_string(typ);
    len = authz_json_string_length(typ);

    for (i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] > 0x7e) {
            return 0;
        }
    }

    return 1;
}


/* "authz_token_type": a token without "typ" fails (SPEC 3) */

static authz_err_e
authz_token_typ_check(authz_token_t *tok, authz_json_t *typ,
    const authz_verify_conf_t *conf)
{
    size_t  i;

    if (typ == NULL) {
        tok->detail = "\"typ\" missing";
        return AUTHZ_ERR_TYP;
    }

    for (i = 0; i < conf->ntypes; i++) {
        if (authz_typ_eq((const unsigned char *) authz_json_string(typ),
                         authz_json_string_length(typ), conf->types[i].data,
                         conf->types[i].len))
        {
            return AUTHZ_OK;
        }
    }

    tok->detail = "\"typ\" not accepted";

    return AUTHZ_ERR_TYP;
}


static const authz_alg_t *
authz_alg_find(unsigned alg)
{
    const authz_alg_t  *a;

    for (a = authz_algs; a->name != NULL; a++) {
        if (a->alg == alg) {
            return a;
        }
    }

    return NULL;
}


authz_err_e
authz_token_decode(authz_token_t *tok, const unsigned char *data, size_t len,
    unsigned char *scratch, const authz_verify_conf_t *conf)
{
    size_t               max;
    ptrdiff_t            n;
    authz_err_e          rc;
    const unsigned char *dot1, *dot2, *end;

    memset(tok, 0, sizeof(authz_token_t));

    /* the cheap checks first: size, then shape */

    if (len > conf->max_size) {
        tok->detail = "token too large";
        return AUTHZ_ERR_SIZE;
    }

    end = data + len;

    dot1 = memchr(data, '.', len);
    dot2 = (dot1 != NULL) ? memchr(dot1 + 1, '.', end - dot1 - 1) : NULL;

    if (dot1 == NULL || dot2 == NULL || dot1 == data || dot2 == dot1 + 1
        || dot2 + 1 == end || memchr(dot2 + 1, '.', end - dot2 - 1) != NULL)
    {
        tok->detail = "token is not a JWS compact serialization";
        return AUTHZ_ERR_MALFORMED;
    }

    /* no JOSE header is this long: malformed, as a 257-byte kid is */

    if ((size_t) (dot1 - data) > AUTHZ_MAX_HEADER_LEN) {
        tok->detail = "header too large";
        return AUTHZ_ERR_MALFORMED;
    }

    n = authz_base64url_decode(scratch, data, dot1 - data);
    if (n < 0) {
        tok->detail = "bad base64url in header";
        return AUTHZ_ERR_MALFORMED;
    }

    rc = authz_token_header(tok, scratch, n, conf);
    if (rc != AUTHZ_OK) {
        return rc;
    }

    /*
     * the header bytes are no longer needed: the signature goes to the
     * start of the scratch space, the payload after it
     */

    n = authz_base64url_decode(scratch, dot2 + 1, end - dot2 - 1);
    if (n < 0) {
        tok->detail = "bad base64url in signature";
        return AUTHZ_ERR_MALFORMED;
    }

    tok->sig = scratch;
    tok->sig_len = n;
    tok->signing_input = data;
    tok->signing_input_len = dot2 - data;

    tok->payload_b64 = dot1 + 1;
    tok->payload_b64_len = dot2 - dot1 - 1;
    tok->payload_buf = scratch + n;

    max = conf->claims_first ? conf->claims_first : AUTHZ_CLAIMS_FIRST_LEN;

    if (tok->payload_b64_len > max) {
        tok->deferred = 1;
        return AUTHZ_OK;
    }

    return authz_token_payload(tok);
}


/* the payload object; scratch has room: see authz_token_decode() */

static authz_err_e
authz_token_payload(authz_token_t *tok)
{
    ptrdiff_t    n;
    const char  *err;

    n = authz_base64url_decode(tok->payload_buf, tok->payload_b64,
                               tok->payload_b64_len);
    if (n < 0) {
        tok->detail = "bad base64url in payload";
        return AUTHZ_ERR_MALFORMED;
    }

    tok->payload = authz_json_parse(tok->payload_buf, n, AUTHZ_JSON_MAX_DEPTH,
                                    &err);

    /* tok->payload is an object or NULL: a second verify parses again */

    if (tok->payload == NULL || !authz_json_is_object(tok->payload)) {
        authz_json_free(tok->payload);
        tok->payload = NULL;
        tok->detail = "payload is not a JSON object";
        return AUTHZ_ERR_MALFORMED;
    }

    return AUTHZ_OK;
}


authz_json_t *
authz_token_payload_parse(const unsigned char *data, size_t len,
    unsigned char *scratch)
{
    authz_token_t         tok;
    const unsigned char  *dot1, *dot2;

    memset(&tok, 0, sizeof(authz_token_t));

    dot1 = memchr(data, '.', len);
    dot2 = (dot1 != NULL) ? memchr(dot1 + 1, '.', data + len - dot1 - 1)
                          : NULL;

    if (dot2 == NULL) {
        return NULL;
    }

    tok.payload_b64 = dot1 + 1;
    tok.payload_b64_len = dot2 - dot1 - 1;
    tok.payload_buf = scratch;

    if (authz_token_payload(&tok) != AUTHZ_OK) {
        return NULL;
    }

    return tok.payload;
}


static authz_err_e
authz_token_header(authz_token_t *tok, const unsigned char *p, size_t len,
    const authz_verify_conf_t *conf)
{
    size_t               n;
    const char          *s, *err;
    authz_err_e          rc;
    authz_json_t        *hdr, *v;
    const authz_alg_t   *a;
    const authz_key_t   *cand[AUTHZ_MAX_CANDIDATES];

    hdr = authz_json_parse(p, len, AUTHZ_JSON_MAX_DEPTH, &err);

    if (hdr == NULL) {
        tok->detail = "header is not JSON";
        return AUTHZ_ERR_MALFORMED;
    }

    rc = AUTHZ_ERR_MALFORMED;

    if (!authz_json_is_object(hdr)) {
        tok->detail = "header is not a JSON object";
        goto done;
    }

    /* RFC 7515 4.1.11: we understand no extension, so any crit fails */

    if (authz_json_get(hdr, "crit") != NULL) {
        tok->detail = "\"crit\" header not supported";
        rc = AUTHZ_ERR_CRIT;
        goto done;
    }

    v = authz_json_get(hdr, "alg");

    if (!authz_json_is_string(v)) {
        tok->detail = "\"alg\" missing";
        rc = AUTHZ_ERR_ALG;
        goto done;
    }

    tok->alg = authz_alg_parse((const unsigned char *) authz_json_string(v),
                               authz_json_string_length(v));

    if ((tok->alg & conf->algs) == 0) {

        /* the operator sees what the provider signs with (SPEC 5) */

        n = authz_json_string_length(v);
        n = (n > AUTHZ_MAX_LOG_VALUE) ? AUTHZ_MAX_LOG_VALUE : n;
        memcpy(tok->bad_alg, authz_json_string(v), n);
        tok->bad_alg[n] = '\0';
        tok->bad_alg_len = n;

        tok->detail = "\"alg\" not allowed";
        rc = AUTHZ_ERR_ALG;
        goto done;
    }

    a = authz_alg_find(tok->alg);
    tok->alg_name = a->name;

    v = authz_json_get(hdr, "typ");

    if (v != NULL && !authz_json_is_string(v)) {
        tok->detail = "\"typ\" is not a string";
        goto done;
    }

    /*
     * a media type (RFC 7515 4.1.9) is printable ASCII; $authz_typ shows
     * the value of a refused token too, so a CR or LF must never reach it
     */

    if (v != NULL && !authz_typ_printable(v)) {
        tok->detail = "\"typ\" has a bad character";
        goto done;
    }

    if (v != NULL) {
        n = authz_json_string_length(v);
        n = (n > AUTHZ_MAX_LOG_VALUE) ? AUTHZ_MAX_LOG_VALUE : n;
        memcpy(tok->typ, authz_json_string(v), n);
        tok->typ[n] = '\0';
        tok->typ_len = n;
        tok->has_typ = 1;
    }

    if (conf->ntypes) {
        rc = authz_token_typ_check(tok, v, conf);
        if (rc != AUTHZ_OK) {
            goto done;
        }

        rc = AUTHZ_ERR_MALFORMED;
    }

    v = authz_json_get(hdr, "kid");

    if (v != NULL) {
        if (!authz_json_is_string(v)) {
            tok->detail = "\"kid\" is not a string";
            goto done;
        }

        n = authz_json_string_length(v);
        s = authz_json_string(v);

        if (authz_kid_check(s, n) != NULL) {
            tok->detail = (n == 0 || n > AUTHZ_MAX_KID_LEN)
                          ? "\"kid\" has a bad length"
                          : "\"kid\" has a bad character";
            goto done;
        }

        memcpy(tok->kid, s, n);
        tok->kid[n] = '\0';
        tok->kid_len = n;
        tok->has_kid = 1;

        /*
         * a kid that no key has, where every key has a kid, is refused
         * before any crypto
         */

        if (authz_token_candidates(tok, conf, cand) == 0) {
            tok->detail = "unknown \"kid\"";
            rc = AUTHZ_ERR_KID;
            goto done;
        }
    }

    /* jwk, jku, x5u and x5c are never used: keys come from the config */

    rc = AUTHZ_OK;

done:

    authz_json_free(hdr);

    return rc;
}


/* returns 0 on success, -1 if present and not a number */

static int
authz_token_number(authz_json_t *obj, const char *name, double *value,
    int *present)
{
    authz_json_t  *v;

    v = authz_json_get(obj, name);

    if (v == NULL) {
        *present = 0;
        return 0;
    }

    *present = 1;

    if (authz_json_is_integer(v)) {
        *value = (double) v->v.i;
        return 0;
    }

    if (authz_json_is_real(v)) {
        *value = v->v.d;
        return 0;
    }

    return -1;
}


static int
authz_token_str_eq(authz_json_t *s, const authz_str_t *v)
{
    return authz_json_is_string(s)
           && authz_json_string_length(s) == v->len
           && memcmp(authz_json_string(s), v->data, v->len) == 0;
}


int
authz_times_ok(const authz_times_t *t, const authz_verify_conf_t *conf,
    time_t now)
{
    double  leeway;

    leeway = (double) conf->leeway;

    if (t->has_exp) {
        if ((double) now - leeway >= t->exp) {
            return 0;
        }

    } else if (conf->require_exp) {
        return 0;
    }

    if (t->has_nbf && (double) now + leeway < t->nbf) {
        return 0;
    }

    if (t->has_iat && (double) now + leeway < t->iat) {
        return 0;
    }

    return 1;
}


authz_err_e
authz_token_check_claims(authz_token_t *tok, const authz_verify_conf_t *conf,
    time_t now)
{
    /* a deferred payload: authz_token_verify() checks after the signature */

    if (tok->payload == NULL && tok->deferred) {
        tok->now = now;
        tok->claims_pending = 1;
        return AUTHZ_OK;
    }

    return authz_token_claims(tok, conf, now);
}


static authz_err_e
authz_token_claims(authz_token_t *tok, const authz_verify_conf_t *conf,
    time_t now)
{
    int           present;
    size_t        i, j;
    double        t, leeway;
    authz_json_t *v, *a;

    leeway = (double) conf->leeway;

    if (authz_token_number(tok->payload, "exp", &t, &present) != 0) {
        tok->detail = "\"exp\" is not a number";
        return AUTHZ_ERR_CLAIM;
    }

    if (present) {
        tok->has_exp = 1;
        tok->exp = t;

        /* RFC 7519 4.1.4: the current time must be before exp */

        if ((double) now - leeway >= t) {
            tok->detail = "token expired";
            return AUTHZ_ERR_EXPIRED;
        }

    } else if (conf->require_exp) {
        tok->detail = "\"exp\" missing";
        return AUTHZ_ERR_NO_EXP;
    }

    if (authz_token_number(tok->payload, "nbf", &t, &present) != 0) {
        tok->detail = "\"nbf\" is not a number";
        return AUTHZ_ERR_CLAIM;
    }

    if (present && (double) now + leeway < t) {
        tok->detail = "token not yet valid";
        return AUTHZ_ERR_NOT_YET_VALID;
    }

    if (authz_token_number(tok->payload, "iat", &t, &present) != 0) {
        tok->detail = "\"iat\" is not a number";
        return AUTHZ_ERR_CLAIM;
    }

    if (present && (double) now + leeway < t) {
        tok->detail = "token issued in the future";
        return AUTHZ_ERR_IAT;
    }

    if (conf->nissuers) {
        v = authz_json_get(tok->payload, "iss");

        for (i = 0; i < conf->nissuers; i++) {
            if (authz_token_str_eq(v, &conf->issuers[i])) {
                break;
            }
        }

        if (i == conf->nissuers) {
            tok->detail = "issuer not accepted";
            return AUTHZ_ERR_ISSUER;
        }
    }

    if (conf->naudiences) {
        v = authz_json_get(tok->payload, "aud");

        for (i = 0; i < conf->naudiences; i++) {

            /*
             * walked, not indexed: authz_json_array_get() is O(j) in an
             * array that is not flat, which made this loop quadratic
             */

            if (authz_json_is_array(v)) {
                authz_json_foreach(v, j, a) {
                    if (authz_token_str_eq(a, &conf->audiences[i])) {
                        goto aud_found;
                    }
                }

            } else if (authz_token_str_eq(v, &conf->audiences[i])) {
                goto aud_found;
            }
        }

        tok->detail = "audience not accepted";
        return AUTHZ_ERR_AUDIENCE;
    }

aud_found:

    return AUTHZ_OK;
}


/*
 * the keys a token is tried against, in the order of the sets and of
 * the keys in each, among the keys that may verify its alg where it is
 * enabled (key->algs & tok->alg & conf->algs: a key's algorithms meet
 * the location's, a test of bits per key, no more): the key
 * of its kid or, when no key has that kid, the keys without kid;
 * without kid, the first keys; at most AUTHZ_MAX_CANDIDATES
 */

static size_t
authz_token_candidates(const authz_token_t *tok,
    const authz_verify_conf_t *conf, const authz_key_t **cand)
{
    size_t                  i, j, n;
    const authz_key_t      *key;
    const authz_key_set_t  *set;

    n = 0;

    for (j = 0; j < conf->nsets; j++) {
        set = &conf->sets[j];

        for (i = 0; i < set->nkeys && n < AUTHZ_MAX_CANDIDATES; i++) {
            key = &set->keys[i];

            if ((key->algs & tok->alg & conf->algs) == 0) {
                continue;
            }

            if (!tok->has_kid
                || (key->kid_len == tok->kid_len
                    && memcmp(key->kid, tok->kid, tok->kid_len) == 0))
            {
                cand[n++] = key;
            }
        }
    }

    if (n > 0 || !tok->has_kid) {
        return n;
    }

    for (j = 0; j < conf->nsets; j++) {
        set = &conf->sets[j];

        for (i = 0; i < set->nkeys && n < AUTHZ_MAX_CANDIDATES; i++) {
            key = &set->keys[i];

            if (key->kid_len == 0
                && (key->algs & tok->alg & conf->algs) != 0)
            {
                cand[n++] = key;
            }
        }
    }

    return n;
}


const authz_key_t *
authz_token_trusted_key(const authz_token_t *tok,
    const authz_verify_conf_t *conf, const unsigned char *trusted)
{
    size_t              i, n;
    const authz_key_t  *cand[AUTHZ_MAX_CANDIDATES];

    if (trusted == NULL) {
        return NULL;
    }

    n = authz_token_candidates(tok, conf, cand);

    for (i = 0; i < n; i++) {
        if (memcmp(trusted, cand[i]->fingerprint,
                   sizeof(cand[i]->fingerprint))
            == 0)
        {
            return cand[i];
        }
    }

    return NULL;
}


authz_err_e
authz_token_verify(authz_token_t *tok, const authz_verify_conf_t *conf,
    const unsigned char *trusted)
{
    size_t              i, n;
    authz_err_e         rc;
    authz_json_t       *iss;
    const authz_key_t  *key, *cand[AUTHZ_MAX_CANDIDATES];

    n = authz_token_candidates(tok, conf, cand);
    key = NULL;

    /* a key that verified these bytes before needs no signature check */

    for (i = 0; trusted != NULL && i < n; i++) {
        if (memcmp(trusted, cand[i]->fingerprint,
                   sizeof(cand[i]->fingerprint))
            == 0)
        {
            key = cand[i];
            break;
        }
    }

    if (key == NULL) {
        rc = authz_token_signature(tok, cand, n, &key);
        if (rc != AUTHZ_OK) {
            return rc;
        }
    }

    /* a deferred payload: parsed only now that its signature verified */

    if (tok->payload == NULL) {
        rc = authz_token_payload(tok);
        if (rc != AUTHZ_OK) {
            return rc;
        }
    }

    if (tok->claims_pending) {
        rc = authz_token_claims(tok, conf, tok->now);
        if (rc != AUTHZ_OK) {
            return rc;
        }
    }

    /*
     * issuer binding (SPEC 10): a provider's key signs for its own
     * issuer only, whatever else authz_issuer accepts
     */

    if (key->issuer != NULL) {
        iss = authz_json_get(tok->payload, "iss");

        if (!authz_json_is_string(iss)
            || authz_json_string_length(iss) != key->issuer_len
            || memcmp(authz_json_string(iss), key->issuer, key->issuer_len)
               != 0)
        {
            tok->detail = "key not valid for this issuer";
            return AUTHZ_ERR_KEY_ISSUER;
        }
    }

    tok->key = key;

    return AUTHZ_OK;
}


/*
 * the signing input is hashed once, whatever the number of candidates;
 * the candidates hold the token's alg (authz_token_candidates()), and
 * the key type is checked again: the verifier is the key's
 */

static authz_err_e
authz_token_signature(authz_token_t *tok, const authz_key_t **cand,
    size_t n, const authz_key_t **key)
{
    size_t              i;
    authz_err_e         rc;
    unsigned int        mdlen;
    const authz_alg_t  *a;
    unsigned char       md[EVP_MAX_MD_SIZE];

    a = authz_alg_find(tok->alg);
    mdlen = 0;

    for (i = 0; a != NULL && i < n; i++) {

        if (cand[i]->kty != a->kty) {
            continue;
        }

        if (a->sig == AUTHZ_SIG_RSA || a->sig == AUTHZ_SIG_PSS) {

            /* an RSA signature is exactly as long as the modulus */

            if (tok->sig_len != (size_t) EVP_PKEY_get_size(cand[i]->pkey)) {
                continue;
            }

        } else if (tok->sig_len != a->len) {

            /* R || S of the curve (DER refused), or 64 bytes of Ed25519 */

            continue;
        }

        if (a->md != NULL
            && mdlen == 0
            && authz_sig_digest(tok, a, md, &mdlen) != AUTHZ_OK)
        {
            tok->detail = "signature check failed";
            return AUTHZ_ERR_INTERNAL;
        }

        switch (a->sig) {

        case AUTHZ_SIG_ECDSA:
            rc = authz_ecdsa_verify(tok, a, cand[i], md, mdlen);
            break;

        case AUTHZ_SIG_EDDSA:
            rc = authz_eddsa_verify(tok, a, cand[i]);
            break;

        default:
            rc = authz_rsa_verify(tok, a, cand[i], md, mdlen);
        }

        if (rc != AUTHZ_ERR_MALFORMED) {
            tok->nverify++;
        }

        if (rc == AUTHZ_OK) {
            *key = cand[i];
            return AUTHZ_OK;
        }

        if (rc == AUTHZ_ERR_INTERNAL) {
            tok->detail = "signature check failed";
            return rc;
        }
    }

    tok->detail = "signature verification failed";

    return AUTHZ_ERR_SIGNATURE;
}


/*
 * the digest of an algorithm, fetched once per process (an implicit
 * fetch by EVP_Digest() costs a lookup in the provider's store on each
 * call); NULL if it cannot be fetched: the signature is then refused
 */

static const EVP_MD *
authz_sig_md(const authz_alg_t *a)
{
    size_t         i;
    const EVP_MD  *legacy;

    static struct {
        const EVP_MD  *legacy;
        EVP_MD        *md;
    } mds[AUTHZ_SIG_MD_MAX];

    legacy = a->md();

    for (i = 0; i < AUTHZ_SIG_MD_MAX && mds[i].md != NULL; i++) {
        if (mds[i].legacy == legacy) {
            return mds[i].md;
        }
    }

    if (i == AUTHZ_SIG_MD_MAX) {
        return NULL;
    }

    mds[i].md = EVP_MD_fetch(NULL, EVP_MD_get0_name(legacy), NULL);
    if (mds[i].md == NULL) {
        ERR_clear_error();
        return NULL;
    }

    mds[i].legacy = legacy;

    return mds[i].md;
}


/* the digest of the signing input, in one context reused by the process */

/* a context kept by the process in *mctx, made on first use */

static EVP_MD_CTX *
authz_md_ctx(EVP_MD_CTX **mctx)
{
    if (*mctx == NULL) {
        *mctx = EVP_MD_CTX_new();
        if (*mctx == NULL) {
            ERR_clear_error();
        }
    }

    return *mctx;
}


static authz_err_e
authz_sig_digest(const authz_token_t *tok, const authz_alg_t *a,
    unsigned char *md, unsigned int *mdlen)
{
    const EVP_MD  *type;

    static EVP_MD_CTX  *mctx;

    type = authz_sig_md(a);
    if (type == NULL) {
        return AUTHZ_ERR_INTERNAL;
    }

    if (authz_md_ctx(&mctx) == NULL) {
        return AUTHZ_ERR_INTERNAL;
    }

    if (EVP_DigestInit_ex2(mctx, type, NULL) != 1
        || EVP_DigestUpdate(mctx, tok->signing_input, tok->signing_input_len)
           != 1
        || EVP_DigestFinal_ex(mctx, md, mdlen) != 1)
    {
        ERR_clear_error();
        *mdlen = 0;
        return AUTHZ_ERR_INTERNAL;
    }

    return AUTHZ_OK;
}


/*
 * the prepared context of a key and an algorithm: found by the key
 * object and its fingerprint (a key object freed and another made at
 * the same address is found only if it holds the same public key), or
 * made and kept, replacing the oldest when the ring is full; a context
 * holds a reference to its key object, which therefore lives as long
 * as the context does
 */

static authz_sig_ctx_t *
authz_sig_ctx(const authz_alg_t *a, const authz_key_t *key)
{
    size_t             i;
    authz_sig_ctx_t    c;

    static size_t           next;
    static authz_sig_ctx_t  ring[AUTHZ_SIG_CTX_MAX];

    for (i = 0; i < AUTHZ_SIG_CTX_MAX && ring[i].pkey != NULL; i++) {
        if (ring[i].pkey == key->pkey && ring[i].alg == a->alg
            && memcmp(ring[i].fingerprint, key->fingerprint, 32) == 0)
        {
            return &ring[i];
        }
    }

    if (authz_sig_prepare(&c, a, key) != AUTHZ_OK) {
        ERR_clear_error();
        return NULL;
    }

    i = next;
    next = (next + 1) % AUTHZ_SIG_CTX_MAX;

    EVP_PKEY_CTX_free(ring[i].pctx);
    EVP_MD_CTX_free(ring[i].mctx);

    ring[i] = c;

    return &ring[i];
}


/*
 * a new prepared context: RSA, RSA-PSS and ECDSA an EVP_PKEY_CTX ready
 * for EVP_PKEY_verify() of a digest; EdDSA an EVP_MD_CTX ready for
 * EVP_DigestVerify() of the message, never used itself (a one-shot
 * context cannot be used twice): authz_eddsa_verify() works on a copy
 */

static authz_err_e
authz_sig_prepare(authz_sig_ctx_t *c, const authz_alg_t *a,
    const authz_key_t *key)
{
    const EVP_MD  *md;

    memset(c, 0, sizeof(authz_sig_ctx_t));

    if (a->sig == AUTHZ_SIG_EDDSA) {
        c->mctx = EVP_MD_CTX_new();

        if (c->mctx == NULL
            || EVP_DigestVerifyInit(c->mctx, NULL, NULL, NULL, key->pkey)
               != 1)
        {
            goto failed;
        }

        goto done;
    }

    md = authz_sig_md(a);
    if (md == NULL) {
        return AUTHZ_ERR_INTERNAL;
    }

    c->pctx = EVP_PKEY_CTX_new(key->pkey, NULL);

    if (c->pctx == NULL
        || EVP_PKEY_verify_init(c->pctx) != 1
        || EVP_PKEY_CTX_set_signature_md(c->pctx, md) != 1)
    {
        goto failed;
    }

    /*
     * RSA: the digest is checked inside the padding, the DigestInfo of
     * PKCS #1 v1.5, or PSS with MGF1 on the same hash and a salt as
     * long as the hash (RFC 7518 3.5)
     */

    if (a->sig == AUTHZ_SIG_RSA
        && EVP_PKEY_CTX_set_rsa_padding(c->pctx, RSA_PKCS1_PADDING) != 1)
    {
        goto failed;
    }

    if (a->sig == AUTHZ_SIG_PSS
        && (EVP_PKEY_CTX_set_rsa_padding(c->pctx, RSA_PKCS1_PSS_PADDING) != 1
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(c->pctx,
                                                RSA_PSS_SALTLEN_DIGEST)
               != 1
            || EVP_PKEY_CTX_set_rsa_mgf1_md(c->pctx, md) != 1))
    {
        goto failed;
    }

done:

    c->pkey = key->pkey;
    c->alg = a->alg;
    memcpy(c->fingerprint, key->fingerprint, 32);

    return AUTHZ_OK;

failed:

    EVP_PKEY_CTX_free(c->pctx);
    EVP_MD_CTX_free(c->mctx);
    c->pctx = NULL;
    c->mctx = NULL;

    return AUTHZ_ERR_INTERNAL;
}


static authz_err_e
authz_rsa_verify(const authz_token_t *tok, const authz_alg_t *a,
    const authz_key_t *key, const unsigned char *md, size_t mdlen)
{
    authz_sig_ctx_t  *c;

    c = authz_sig_ctx(a, key);
    if (c == NULL) {
        return AUTHZ_ERR_INTERNAL;
    }

    if (EVP_PKEY_verify(c->pctx, tok->sig, tok->sig_len, md, mdlen) == 1) {
        return AUTHZ_OK;
    }

    /* a bad signature leaves errors that the next TLS user would see */

    ERR_clear_error();

    return AUTHZ_ERR_SIGNATURE;
}


/*
 * JWS ECDSA (RFC 7518 3.4): the signature is R || S, each scalar as
 * long as the order, converted here to the DER that OpenSSL checks;
 * a scalar that is zero or not below the order is refused before any
 * curve operation (AUTHZ_ERR_MALFORMED: no operation was spent)
 */

static authz_err_e
authz_ecdsa_verify(const authz_token_t *tok, const authz_alg_t *a,
    const authz_key_t *key, const unsigned char *md, size_t mdlen)
{
    size_t            half, len;
    authz_sig_ctx_t  *c;
    unsigned char     der[AUTHZ_MAX_ECDSA_DER];

    half = a->len / 2;

    if (!authz_ecdsa_scalar_ok(tok->sig, half)
        || !authz_ecdsa_scalar_ok(tok->sig + half, half))
    {
        return AUTHZ_ERR_MALFORMED;
    }

    /* ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } */

    len = 2;
    len += authz_ecdsa_der_int(der + len, tok->sig, half);
    len += authz_ecdsa_der_int(der + len, tok->sig + half, half);

    der[0] = 0x30;
    der[1] = (unsigned char) (len - 2);

    c = authz_sig_ctx(a, key);
    if (c == NULL) {
        return AUTHZ_ERR_INTERNAL;
    }

    if (EVP_PKEY_verify(c->pctx, der, len, md, mdlen) == 1) {
        return AUTHZ_OK;
    }

    ERR_clear_error();

    return AUTHZ_ERR_SIGNATURE;
}


/*
 * the DER INTEGER of a big-endian scalar that is not zero: its leading
 * zero bytes dropped, a zero byte added where the first has its high
 * bit; at most 2 + 49 bytes for P-384, so every length is one byte
 */

static size_t
authz_ecdsa_der_int(unsigned char *d, const unsigned char *p, size_t len)
{
    size_t  pad;

    while (len > 1 && *p == 0) {
        p++;
        len--;
    }

    pad = (*p & 0x80) ? 1 : 0;

    d[0] = 0x02;
    d[1] = (unsigned char) (len + pad);
    d[2] = 0;

    memcpy(d + 2 + pad, p, len);

    return 2 + pad + len;
}


/* 1 if the big-endian scalar p is in [1, n - 1] of its curve */

static int
authz_ecdsa_scalar_ok(const unsigned char *p, size_t len)
{
    size_t                i;
    unsigned char         any;
    const unsigned char  *n;

    any = 0;

    for (i = 0; i < len; i++) {
        any |= p[i];
    }

    if (any == 0) {
        return 0;
    }

    n = (len == sizeof(authz_p256_n)) ? authz_p256_n : authz_p384_n;

    return memcmp(p, n, len) < 0;
}


/*
 * Ed25519 (RFC 8032): the message itself, no digest; the key's
 * prepared context copied into one context reused by the process
 */

static authz_err_e
authz_eddsa_verify(const authz_token_t *tok, const authz_alg_t *a,
    const authz_key_t *key)
{
    int               rv;
    authz_sig_ctx_t  *c;

    static EVP_MD_CTX  *mctx;

    c = authz_sig_ctx(a, key);
    if (c == NULL) {
        return AUTHZ_ERR_INTERNAL;
    }

    if (authz_md_ctx(&mctx) == NULL) {
        return AUTHZ_ERR_INTERNAL;
    }

    if (EVP_MD_CTX_copy_ex(mctx, c->mctx) != 1) {
        EVP_MD_CTX_reset(mctx);
        ERR_clear_error();
        return AUTHZ_ERR_INTERNAL;
    }

    rv = EVP_DigestVerify(mctx, tok->sig, tok->sig_len, tok->signing_input,
                          tok->signing_input_len);

    /* the copy's reference to the key is not kept beyond this call */

    EVP_MD_CTX_reset(mctx);

    if (rv == 1) {
        return AUTHZ_OK;
    }

    ERR_clear_error();

    return AUTHZ_ERR_SIGNATURE;
}


void
authz_token_free(authz_token_t *tok)
{
    if (tok->payload != NULL) {
        authz_json_free(tok->payload);
        tok->payload = NULL;
    }
}


const char *
authz_strerror(authz_err_e err)
{
    switch (err) {

    case AUTHZ_OK:
        return "ok";

    case AUTHZ_ERR_MALFORMED:
        return "malformed token";

    case AUTHZ_ERR_SIZE:
        return "token too large";

    case AUTHZ_ERR_ALG:
        return "algorithm not allowed";

    case AUTHZ_ERR_CRIT:
        return "unsupported critical header";

    case AUTHZ_ERR_KID:
        return "unknown key id";

    case AUTHZ_ERR_SIGNATURE:
        return "signature verification failed";

    case AUTHZ_ERR_EXPIRED:
        return "token expired";

    case AUTHZ_ERR_NOT_YET_VALID:
        return "token not yet valid";

    case AUTHZ_ERR_IAT:
        return "token issued in the future";

    case AUTHZ_ERR_NO_EXP:
        return "token has no expiry";

    case AUTHZ_ERR_ISSUER:
        return "issuer not accepted";

    case AUTHZ_ERR_AUDIENCE:
        return "audience not accepted";

    case AUTHZ_ERR_CLAIM:
        return "invalid claim";

    case AUTHZ_ERR_INTERNAL:
        return "internal error";

    case AUTHZ_ERR_REVOKED:
        return "token revoked";

    case AUTHZ_ERR_KEY_ISSUER:
        return "key not valid for this issuer";

    case AUTHZ_ERR_TYP:
        return "token type not accepted";

    case AUTHZ_ERR_BINDING:
        return "sender-constrained token refused";
    }

    return "invalid token";
}
