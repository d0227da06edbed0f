/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: JWS compact serialization (RFC 7515), strict
 * base64url, JOSE header, RSA signatures and registered claims
 * (RFC 7519).  It never logs, never calls time() and keeps no state.
 */


#include <string.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/err.h>

#include "authz_jwt.h"


typedef struct {
    const char    *name;
    unsigned       alg;
    int            pss;
    const EVP_MD  *(*md)(void);
} authz_alg_t;


static const authz_alg_t  authz_algs[] = {
    { "RS256", AUTHZ_ALG_RS256, 0, EVP_sha256 },
    { "RS384", AUTHZ_ALG_RS384, 0, EVP_sha384 },
    { "RS512", AUTHZ_ALG_RS512, 0, EVP_sha512 },
    { "PS256", AUTHZ_ALG_PS256, 1, EVP_sha256 },
    { "PS384", AUTHZ_ALG_PS384, 1, EVP_sha384 },
    { "PS512", AUTHZ_ALG_PS512, 1, EVP_sha512 },
    { NULL, 0, 0, NULL }
};


/* 0xff: not in the base64url alphabet */
static const unsigned char  authz_b64url[256] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff,   62, 0xff, 0xff,      /* - */
      52,   53,   54,   55,   56,   57,   58,   59,      /* 0-7 */
      60,   61, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,      /* 8-9 */
    0xff,    0,    1,    2,    3,    4,    5,    6,      /* A-G */
       7,    8,    9,   10,   11,   12,   13,   14,
      15,   16,   17,   18,   19,   20,   21,   22,
      23,   24,   25, 0xff, 0xff, 0xff, 0xff,   63,      /* _ */
    0xff,   26,   27,   28,   29,   30,   31,   32,      /* a-g */
      33,   34,   35,   36,   37,   38,   39,   40,
      41,   42,   43,   44,   45,   46,   47,   48,
      49,   50,   51, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};


static const authz_alg_t *authz_alg_find(unsigned alg);
static authz_err_e authz_token_header(authz_token_t *tok,
    const unsigned char *p, size_t len, const authz_verify_conf_t *conf);
static authz_err_e authz_token_payload(authz_token_t *tok);
static authz_err_e authz_token_claims(authz_token_t *tok,
    const authz_verify_conf_t *conf, time_t now);
static int authz_json_number(json_t *obj, const char *name, double *value,
    int *present);
static int authz_json_str_eq(json_t *s, const authz_str_t *v);
static size_t authz_token_candidates(const authz_token_t *tok,
    const authz_verify_conf_t *conf, const authz_key_t **cand);
static authz_err_e authz_token_signature(authz_token_t *tok,
    const authz_key_t **cand, size_t n, const authz_key_t **key);
static authz_err_e authz_rsa_verify(const authz_token_t *tok,
    const authz_alg_t *a, const authz_key_t *key, const unsigned char *md,
    size_t mdlen);


ptrdiff_t
authz_base64url_decode(unsigned char *dst, const unsigned char *src,
    size_t len)
{
    size_t          i, full;
    uint32_t        a, b, c, d;
    unsigned char  *p;

    /* a remainder of one character cannot encode a byte */

    if (len % 4 == 1) {
        return -1;
    }

    p = dst;
    full = len - len % 4;

    /* 0xff marks a foreign character: any high bit fails a quad */

    for (i = 0; i < full; i += 4) {
        a = authz_b64url[src[i]];
        b = authz_b64url[src[i + 1]];
        c = authz_b64url[src[i + 2]];
        d = authz_b64url[src[i + 3]];

        if ((a | b | c | d) & 0x80) {
            return -1;
        }

        a = (a << 18) | (b << 12) | (c << 6) | d;

        *p++ = (unsigned char) (a >> 16);
        *p++ = (unsigned char) (a >> 8);
        *p++ = (unsigned char) a;
    }

    if (i == len) {
        return p - dst;
    }

    a = authz_b64url[src[i]];
    b = authz_b64url[src[i + 1]];
    c = (len - i == 3) ? authz_b64url[src[i + 2]] : 0;

    if ((a | b | c) & 0x80) {
        return -1;
    }

    /* canonical encoding: the unused low bits must be zero */

    if (len - i == 2) {
        if (b & 0x0f) {
            return -1;
        }

        *p++ = (unsigned char) ((a << 2) | (b >> 4));

    } else {
        if (c & 0x03) {
            return -1;
        }

        *p++ = (unsigned char) ((a << 2) | (b >> 4));
        *p++ = (unsigned char) ((b << 4) | (c >> 2));
    }

    return p - dst;
}


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


unsigned
authz_alg_parse(const unsigned char *name, size_t len)
{
    const authz_alg_t  *a;

    for (a = authz_algs; a->name != NULL; a++) {
        if (len == strlen(a->name) && memcmp(name, a->name, len) == 0) {
            return a->alg;
        }
    }

    return 0;
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
    ptrdiff_t     n;
    json_error_t  jerr;

    n = authz_base64url_decode(tok->payload_buf, tok->payload_b64,
                               tok->payload_b64_len);
    if (n < 0) {
        tok->detail = "bad base64url in payload";
        return AUTHZ_ERR_MALFORMED;
    }

    if (!authz_json_depth_ok(tok->payload_buf, n, AUTHZ_JSON_MAX_DEPTH)) {
        tok->detail = "payload nests too deep";
        return AUTHZ_ERR_MALFORMED;
    }

    tok->payload = json_loadb((const char *) tok->payload_buf, n,
                              JSON_REJECT_DUPLICATES, &jerr);

    /* tok->payload is an object or NULL: a second verify parses again */

    if (tok->payload == NULL || !json_is_object(tok->payload)) {
        json_decref(tok->payload);
        tok->payload = NULL;
        tok->detail = "payload is not a JSON object";
        return AUTHZ_ERR_MALFORMED;
    }

    return AUTHZ_OK;
}


json_t *
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
    size_t               i, n;
    json_t              *hdr, *v;
    authz_err_e          rc;
    json_error_t         jerr;
    const char          *s;
    const authz_alg_t   *a;
    const authz_key_t   *cand[AUTHZ_MAX_CANDIDATES];

    if (!authz_json_depth_ok(p, len, AUTHZ_JSON_MAX_DEPTH)) {
        tok->detail = "header nests too deep";
        return AUTHZ_ERR_MALFORMED;
    }

    hdr = json_loadb((const char *) p, len, JSON_REJECT_DUPLICATES, &jerr);

    if (hdr == NULL) {
        tok->detail = "header is not JSON";
        return AUTHZ_ERR_MALFORMED;
    }

    rc = AUTHZ_ERR_MALFORMED;

    if (!json_is_object(hdr)) {
        tok->detail = "header is not a JSON object";
        goto done;
    }

    /* RFC 7515 4.1.11: we understand no extension, so any crit fails */

    if (json_object_get(hdr, "crit") != NULL) {
        tok->detail = "\"crit\" header not supported";
        rc = AUTHZ_ERR_CRIT;
        goto done;
    }

    v = json_object_get(hdr, "alg");

    if (!json_is_string(v)) {
        tok->detail = "\"alg\" missing";
        rc = AUTHZ_ERR_ALG;
        goto done;
    }

    tok->alg = authz_alg_parse((const unsigned char *) json_string_value(v),
                               json_string_length(v));

    if ((tok->alg & conf->algs) == 0) {
        tok->detail = "\"alg\" not allowed";
        rc = AUTHZ_ERR_ALG;
        goto done;
    }

    a = authz_alg_find(tok->alg);
    tok->alg_name = a->name;

    v = json_object_get(hdr, "typ");

    if (v != NULL && !json_is_string(v)) {
        tok->detail = "\"typ\" is not a string";
        goto done;
    }

    v = json_object_get(hdr, "kid");

    if (v != NULL) {
        if (!json_is_string(v)) {
            tok->detail = "\"kid\" is not a string";
            goto done;
        }

        n = json_string_length(v);
        s = json_string_value(v);

        if (n == 0 || n > AUTHZ_MAX_KID_LEN) {
            tok->detail = "\"kid\" has a bad length";
            goto done;
        }

        for (i = 0; i < n; i++) {
            if (s[i] < 0x20 || s[i] > 0x7e) {
                tok->detail = "\"kid\" has a bad character";
                goto done;
            }
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

    json_decref(hdr);

    return rc;
}


/* returns 0 on success, -1 if present and not a number */

static int
authz_json_number(json_t *obj, const char *name, double *value, int *present)
{
    json_t  *v;

    v = json_object_get(obj, name);

    if (v == NULL) {
        *present = 0;
        return 0;
    }

    *present = 1;

    if (json_is_integer(v)) {
        *value = (double) json_integer_value(v);
        return 0;
    }

    if (json_is_real(v)) {
        *value = json_real_value(v);
        return 0;
    }

    return -1;
}


static int
authz_json_str_eq(json_t *s, const authz_str_t *v)
{
    return json_is_string(s)
           && json_string_length(s) == v->len
           && memcmp(json_string_value(s), v->data, v->len) == 0;
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
    int      present;
    size_t   i, j;
    double   t, leeway;
    json_t  *v, *a;

    leeway = (double) conf->leeway;

    if (authz_json_number(tok->payload, "exp", &t, &present) != 0) {
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

    if (authz_json_number(tok->payload, "nbf", &t, &present) != 0) {
        tok->detail = "\"nbf\" is not a number";
        return AUTHZ_ERR_CLAIM;
    }

    if (present && (double) now + leeway < t) {
        tok->detail = "token not yet valid";
        return AUTHZ_ERR_NOT_YET_VALID;
    }

    if (authz_json_number(tok->payload, "iat", &t, &present) != 0) {
        tok->detail = "\"iat\" is not a number";
        return AUTHZ_ERR_CLAIM;
    }

    if (present && (double) now + leeway < t) {
        tok->detail = "token issued in the future";
        return AUTHZ_ERR_IAT;
    }

    if (conf->nissuers) {
        v = json_object_get(tok->payload, "iss");

        for (i = 0; i < conf->nissuers; i++) {
            if (authz_json_str_eq(v, &conf->issuers[i])) {
                break;
            }
        }

        if (i == conf->nissuers) {
            tok->detail = "issuer not accepted";
            return AUTHZ_ERR_ISSUER;
        }
    }

    if (conf->naudiences) {
        v = json_object_get(tok->payload, "aud");

        for (i = 0; i < conf->naudiences; i++) {

            if (json_is_array(v)) {
                for (j = 0; j < json_array_size(v); j++) {
                    a = json_array_get(v, j);

                    if (authz_json_str_eq(a, &conf->audiences[i])) {
                        goto aud_found;
                    }
                }

            } else if (authz_json_str_eq(v, &conf->audiences[i])) {
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
 * the keys in each, among the keys that may verify its alg: the key
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

            if ((key->algs & tok->alg) == 0) {
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

            if (key->kid_len == 0 && (key->algs & tok->alg) != 0) {
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
    const authz_key_t  *key, *cand[AUTHZ_MAX_CANDIDATES];

    n = authz_token_candidates(tok, conf, cand);
    key = NULL;

    /* a key that verified these bytes before needs no RSA operation */

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

    tok->key = key;

    return AUTHZ_OK;
}


/* the signing input is hashed once, whatever the number of candidates */

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

        /* an RSA signature is exactly as long as the modulus */

        if (tok->sig_len != (size_t) EVP_PKEY_get_size(cand[i]->pkey)) {
            continue;
        }

        if (mdlen == 0
            && EVP_Digest(tok->signing_input, tok->signing_input_len, md,
                          &mdlen, a->md(), NULL)
               != 1)
        {
            ERR_clear_error();
            tok->detail = "signature check failed";
            return AUTHZ_ERR_INTERNAL;
        }

        tok->nverify++;

        rc = authz_rsa_verify(tok, a, cand[i], md, mdlen);

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


static authz_err_e
authz_rsa_verify(const authz_token_t *tok, const authz_alg_t *a,
    const authz_key_t *key, const unsigned char *md, size_t mdlen)
{
    int            rv;
    authz_err_e    rc;
    EVP_PKEY_CTX  *pctx;

    pctx = EVP_PKEY_CTX_new(key->pkey, NULL);
    if (pctx == NULL) {
        ERR_clear_error();
        return AUTHZ_ERR_INTERNAL;
    }

    rc = AUTHZ_ERR_INTERNAL;

    /*
     * the digest is checked inside the padding: the DigestInfo of
     * PKCS #1 v1.5, or PSS with MGF1 on the same hash and a salt as
     * long as the hash (RFC 7518 3.5)
     */

    if (EVP_PKEY_verify_init(pctx) != 1
        || EVP_PKEY_CTX_set_rsa_padding(pctx, a->pss ? RSA_PKCS1_PSS_PADDING
                                                     : RSA_PKCS1_PADDING)
           != 1
        || EVP_PKEY_CTX_set_signature_md(pctx, a->md()) != 1)
    {
        goto failed;
    }

    if (a->pss
        && (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST)
            != 1
            || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, a->md()) != 1))
    {
        goto failed;
    }

    rv = EVP_PKEY_verify(pctx, tok->sig, tok->sig_len, md, mdlen);

    rc = (rv == 1) ? AUTHZ_OK : AUTHZ_ERR_SIGNATURE;

failed:

    EVP_PKEY_CTX_free(pctx);

    /* a bad signature leaves errors that the next TLS user would see */

    ERR_clear_error();

    return rc;
}


void
authz_token_free(authz_token_t *tok)
{
    if (tok->payload != NULL) {
        json_decref(tok->payload);
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
    }

    return "invalid token";
}
