/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: JWS compact serialization, strict base64url,
 * JOSE header, payload, signature and registered claims.
 * Includes only libc, jansson and OpenSSL.
 */


#ifndef _AUTHZ_JWT_H_INCLUDED_
#define _AUTHZ_JWT_H_INCLUDED_


#include <time.h>
#include <jansson.h>
#include "authz_rules.h"
#include "authz_key.h"


#define AUTHZ_ALG_RS256         0x01
#define AUTHZ_ALG_RS384         0x02
#define AUTHZ_ALG_RS512         0x04
#define AUTHZ_ALG_PS256         0x08
#define AUTHZ_ALG_PS384         0x10
#define AUTHZ_ALG_PS512         0x20

#define AUTHZ_JSON_MAX_DEPTH    16


typedef enum {
    AUTHZ_OK = 0,
    AUTHZ_ERR_MALFORMED,         /* structure, base64url, JSON */
    AUTHZ_ERR_SIZE,              /* longer than the configured maximum */
    AUTHZ_ERR_ALG,               /* "alg" missing or not allowed */
    AUTHZ_ERR_CRIT,              /* "crit" header present */
    AUTHZ_ERR_KID,               /* no configured key has this "kid" */
    AUTHZ_ERR_SIGNATURE,         /* no candidate key verifies */
    AUTHZ_ERR_EXPIRED,
    AUTHZ_ERR_NOT_YET_VALID,
    AUTHZ_ERR_IAT,               /* issued in the future */
    AUTHZ_ERR_NO_EXP,            /* "exp" required but absent */
    AUTHZ_ERR_ISSUER,
    AUTHZ_ERR_AUDIENCE,
    AUTHZ_ERR_CLAIM,             /* a claim of the wrong type or shape */
    AUTHZ_ERR_INTERNAL,          /* OpenSSL or jansson failure */
    AUTHZ_ERR_REVOKED            /* listed by authz_revocation_file */
} authz_err_e;


typedef struct {
    const authz_key_t   *keys;
    size_t               nkeys;
    unsigned             algs;          /* AUTHZ_ALG_* allowed */
    size_t               max_size;
    const authz_str_t   *issuers;
    size_t               nissuers;
    const authz_str_t   *audiences;
    size_t               naudiences;
    time_t               leeway;
    int                  require_exp;
} authz_verify_conf_t;


typedef struct {
    json_t              *payload;       /* object, owned */

    unsigned             alg;
    const char          *alg_name;      /* static */
    size_t               kid_len;
    unsigned             has_kid:1;
    unsigned             has_exp:1;
    char                 kid[AUTHZ_MAX_KID_LEN + 1];

    const unsigned char *signing_input;  /* header.payload, in the input */
    size_t               signing_input_len;
    const unsigned char *sig;            /* decoded, in the scratch buffer */
    size_t               sig_len;

    double               exp;
    const authz_key_t   *key;           /* the key that verified */

    const char          *detail;        /* static text on error */
} authz_token_t;


/*
 * size cap, split, strict base64url, JOSE header (alg allowlist, crit,
 * kid: a kid no configured key has is AUTHZ_ERR_KID), payload object;
 * scratch must have room for len bytes and live as long as tok;
 * on any return tok must be released with authz_token_free()
 */
authz_err_e authz_token_decode(authz_token_t *tok, const unsigned char *data,
    size_t len, unsigned char *scratch, const authz_verify_conf_t *conf);

/* exp, nbf, iat (with leeway, against now), iss, aud */
authz_err_e authz_token_check_claims(authz_token_t *tok,
    const authz_verify_conf_t *conf, time_t now);

/*
 * the signature, with the key of the token's kid or, without kid, each
 * configured key in order; a candidate key whose fingerprint equals
 * trusted (the key that verified these very bytes before) is accepted
 * without the RSA operation; sets tok->key
 */
authz_err_e authz_token_verify(authz_token_t *tok,
    const authz_verify_conf_t *conf, const unsigned char *trusted);

void authz_token_free(authz_token_t *tok);

/* fixed description text for an error, never token bytes */
const char *authz_strerror(authz_err_e err);

/* "RS256" -> AUTHZ_ALG_RS256; 0 if unknown or refused (none, HS*) */
unsigned authz_alg_parse(const unsigned char *name, size_t len);

/* strict base64url without padding; returns decoded length or -1 */
ptrdiff_t authz_base64url_decode(unsigned char *dst, const unsigned char *src,
    size_t len);

/* 1 if the JSON text nests at most max levels of objects and arrays */
int authz_json_depth_ok(const unsigned char *p, size_t len, int max);


#endif /* _AUTHZ_JWT_H_INCLUDED_ */
