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
#include "authz_json.h"
#include "authz_rules.h"
#include "authz_key.h"
#include "authz_util.h"


#define AUTHZ_JSON_MAX_DEPTH    16

/* the ceiling of authz_max_token_size */
#define AUTHZ_MAX_TOKEN_SIZE    65536

/* keys a token is tried against, whatever the key set (SPEC 10) */
#define AUTHZ_MAX_CANDIDATES    2

/* the encoded JOSE header, parsed before the signature: always small */
#define AUTHZ_MAX_HEADER_LEN    2048

/*
 * encoded payloads up to this length are parsed, and their claims
 * checked, before the signature (an expired token costs no RSA); a
 * longer payload is parsed only after its signature verified, so that
 * a forged token costs one hash and at most two RSA operations, never
 * a JSON parse of its size
 */
#define AUTHZ_CLAIMS_FIRST_LEN  4096


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
    AUTHZ_ERR_REVOKED,           /* listed by authz_revocation_file */
    AUTHZ_ERR_KEY_ISSUER,        /* the key is bound to another issuer */
    AUTHZ_ERR_TYP,               /* "typ" missing or not accepted */
    AUTHZ_ERR_BINDING            /* sender-constrained token refused */
} authz_err_e;


/* a header value kept for the log line of a refused token (SPEC 5) */
#define AUTHZ_MAX_LOG_VALUE     64


typedef struct {
    const authz_key_set_t *sets;        /* tried in order */
    size_t               nsets;
    unsigned             algs;          /* AUTHZ_ALG_* allowed */
    size_t               max_size;
    const authz_str_t   *issuers;
    size_t               nissuers;
    const authz_str_t   *audiences;
    size_t               naudiences;
    time_t               leeway;
    int                  require_exp;
    size_t               claims_first;  /* 0: AUTHZ_CLAIMS_FIRST_LEN */
    const authz_str_t   *types;         /* authz_token_type; 0: any */
    size_t               ntypes;
} authz_verify_conf_t;


typedef struct {
    authz_json_t        *payload;       /* object, owned */

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

    const unsigned char *payload_b64;    /* encoded, in the input */
    size_t               payload_b64_len;
    unsigned char       *payload_buf;    /* decoded there, in scratch */
    time_t               now;            /* of a deferred claims check */
    unsigned             nverify;        /* signature operations */
    unsigned             deferred:1;     /* parsed after the signature */
    unsigned             claims_pending:1;

    const char          *detail;        /* static text on error */

    /* "typ" and a refused "alg", cut at AUTHZ_MAX_LOG_VALUE bytes */
    size_t               typ_len;
    size_t               bad_alg_len;
    unsigned             has_typ:1;
    char                 typ[AUTHZ_MAX_LOG_VALUE + 1];
    char                 bad_alg[AUTHZ_MAX_LOG_VALUE + 1];
} authz_token_t;


/*
 * The calling sequence (the glue's, unchanged by the deferred payload):
 *
 *     rc = authz_token_decode(&tok, data, len, scratch, conf);
 *     if (rc == AUTHZ_OK) rc = authz_token_check_claims(&tok, conf, now);
 *     ... a cache lookup may give the fingerprint of a trusted key ...
 *     if (rc == AUTHZ_OK) rc = authz_token_verify(&tok, conf, trusted);
 *     ... on AUTHZ_OK: tok.key, tok.payload, tok.has_exp, tok.exp ...
 *     authz_token_free(&tok);
 *
 * Only AUTHZ_OK from authz_token_verify() means that the signature and
 * the claims were both checked.  A token whose encoded payload is
 * longer than conf->claims_first (tok.deferred) leaves decode with
 * tok.payload NULL; authz_token_check_claims() then only records now
 * and returns AUTHZ_OK, and authz_token_verify() parses the payload
 * after the signature verified and checks the claims against that now.
 * Between the two calls such a token has no payload and no exp.
 * decode, verify, check_claims (the claims last) works as well.
 */

/*
 * size cap, split, strict base64url, JOSE header (at most
 * AUTHZ_MAX_HEADER_LEN encoded bytes; alg allowlist, crit, kid: a kid
 * that selects no key is AUTHZ_ERR_KID), signature, and the payload
 * object unless it is deferred; scratch must have room for len bytes
 * and live as long as tok; on any return tok must be released with
 * authz_token_free()
 */
authz_err_e authz_token_decode(authz_token_t *tok, const unsigned char *data,
    size_t len, unsigned char *scratch, const authz_verify_conf_t *conf);

/*
 * exp, nbf, iat (with leeway, against now), iss, aud; for a deferred
 * payload only records now for authz_token_verify()
 */
authz_err_e authz_token_check_claims(authz_token_t *tok,
    const authz_verify_conf_t *conf, time_t now);

/*
 * the signature, tried with at most AUTHZ_MAX_CANDIDATES keys: a token
 * with a kid with the key of that kid or, when no key has it, with the
 * keys without kid; a token without kid with the first keys in order.
 * A candidate whose fingerprint equals trusted (the key that verified
 * these very bytes before) is accepted without the signature
 * operation; only keys whose algs hold the token's alg are candidates,
 * and the key's type decides the verifier.  Then a deferred payload is
 * parsed and its claims checked, and a key bound to an issuer
 * (key->issuer) accepts only a token whose "iss" equals it
 * (AUTHZ_ERR_KEY_ISSUER, a kind of AUTHZ_ERR_ISSUER with its own
 * reason text).  Sets tok->key on AUTHZ_OK; tok->nverify counts
 * the signature operations.
 */
authz_err_e authz_token_verify(authz_token_t *tok,
    const authz_verify_conf_t *conf, const unsigned char *trusted);

void authz_token_free(authz_token_t *tok);

/* the registered times of a token, for a check without its payload */
typedef struct {
    double               exp;
    double               nbf;
    double               iat;
    unsigned             has_exp:1;
    unsigned             has_nbf:1;
    unsigned             has_iat:1;
} authz_times_t;


/*
 * 1 if the times pass what authz_token_check_claims() checks of them
 * (exp, the requirement of exp, nbf, iat, with the leeway) at now
 */
int authz_times_ok(const authz_times_t *t, const authz_verify_conf_t *conf,
    time_t now);

/*
 * the candidate key of conf (as authz_token_verify() chooses them for
 * tok->alg and tok's kid) whose fingerprint is trusted, or NULL
 */
const authz_key_t *authz_token_trusted_key(const authz_token_t *tok,
    const authz_verify_conf_t *conf, const unsigned char *trusted);

/*
 * the payload object of a token whose signature was verified before
 * (a cache hit), parsed as authz_token_decode() parses it; scratch has
 * room for len bytes; NULL if it does not parse; the caller owns it
 */
authz_json_t *authz_token_payload_parse(const unsigned char *data, size_t len,
    unsigned char *scratch);

/* fixed description text for an error, never token bytes */
const char *authz_strerror(authz_err_e err);

/*
 * RFC 7515 4.1.9: a "typ" against an accepted one, case-insensitively,
 * an "application/" prefix on either ignored; 1 if equal
 */
int authz_typ_eq(const unsigned char *typ, size_t len,
    const unsigned char *want, size_t wlen);

/* 1 if the JSON text nests at most max levels of objects and arrays */
int authz_json_depth_ok(const unsigned char *p, size_t len, int max);


#endif /* _AUTHZ_JWT_H_INCLUDED_ */
