/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: public key loading (PEM, X.509, JWKS).
 * Includes only libc, jansson and OpenSSL.
 */


#ifndef _AUTHZ_KEY_H_INCLUDED_
#define _AUTHZ_KEY_H_INCLUDED_


#include <stddef.h>
#include <openssl/evp.h>


#define AUTHZ_MAX_KEYS        64
#define AUTHZ_MAX_KID_LEN     256
#define AUTHZ_MIN_RSA_BITS    2048


typedef struct {
    EVP_PKEY       *pkey;
    size_t          kid_len;          /* 0: no kid */
    char            kid[AUTHZ_MAX_KID_LEN + 1];
    unsigned char   fingerprint[32];  /* SHA-256 of the DER SPKI */
} authz_key_t;


/*
 * parses the content of one key file into keys[*n ..], at most
 * max - *n keys; the kind is detected from content: a JWKS JSON object
 * ({"keys": [...]}) or a single JWK, or one or more PEM blocks
 * ("PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE");
 * every key must be RSA with at least AUTHZ_MIN_RSA_BITS bits;
 * pem_kid, if not NULL, is the kid given to PEM keys (JWKS keys
 * carry their own "kid");
 * returns 0, or -1 with a human readable reason in err (never key bytes);
 * on error no key is added and nothing leaks
 */
int authz_key_load(const unsigned char *buf, size_t len, const char *pem_kid,
    authz_key_t *keys, size_t *n, size_t max, char *err, size_t errlen);

/* frees the EVP_PKEY of one key */
void authz_key_free(authz_key_t *key);


#endif /* _AUTHZ_KEY_H_INCLUDED_ */
