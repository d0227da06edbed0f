/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core, private to authz_key.c, authz_key_pem.c and
 * authz_jwk.c: the state of one authz_key_load() and the steps the
 * three files share.
 */


#ifndef _AUTHZ_KEY_INT_H_INCLUDED_
#define _AUTHZ_KEY_INT_H_INCLUDED_


#include <stddef.h>
#include <openssl/evp.h>

#include "authz_key.h"


/* results of the steps of a load */
#define AUTHZ_KEY_OK            0
#define AUTHZ_KEY_ERROR         -1      /* the whole load fails */
#define AUTHZ_KEY_UNUSABLE      -2      /* this key: skipped in a JWKS,
                                           an error elsewhere */

#define AUTHZ_PEM_BEGIN         "-----BEGIN "


typedef struct {
    authz_key_t        *keys;       /* the caller's array */
    size_t              base;       /* *n on entry: new keys go from here */
    size_t              added;
    size_t              max;
    size_t              skipped;
    authz_key_skip_pt   skip;
    void               *data;
    char                msg[256];   /* the last error or skip reason */
} authz_key_load_t;


/* authz_key_pem.c: one or more PEM blocks */
int authz_key_pem(authz_key_load_t *ld, const unsigned char *p, size_t len,
    const char *kid, size_t kid_len);

/* authz_jwk.c: a JWKS or a single JWK */
int authz_key_jwks(authz_key_load_t *ld, const unsigned char *p, size_t len);

/*
 * authz_key.c: the key policy, then the next slot; takes pkey (stored
 * or freed); algs: 0 for every algorithm of the key's type, or the
 * one a JWK "alg" names (AUTHZ_KEY_UNUSABLE when it does not fit the
 * type); returns AUTHZ_KEY_OK, AUTHZ_KEY_ERROR or AUTHZ_KEY_UNUSABLE
 */
int authz_key_add(authz_key_load_t *ld, EVP_PKEY *pkey, const char *kid,
    size_t kid_len, unsigned algs, unsigned in_set, const char *id);

size_t authz_key_count(const unsigned char *p, size_t len, const char *s);
void authz_key_printable(char *dst, size_t size, const char *src,
    size_t len);
const char *authz_key_ssl_reason(void);
void authz_key_error(authz_key_load_t *ld, const char *fmt, ...);


#endif /* _AUTHZ_KEY_INT_H_INCLUDED_ */
