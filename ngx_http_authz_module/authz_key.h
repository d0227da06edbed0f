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

/*
 * the cost of a verification grows with the square of the modulus and
 * with the bits of the exponent: RSA-8192 costs about 12 RSA-2048
 * verifications, RSA-16384 about 46, and an exponent of 2^32 - 1 more
 * than twice as much as 65537 at any size (docs/security.md)
 */
#define AUTHZ_MAX_RSA_BITS    8192
#define AUTHZ_RSA_EXPONENT    65537


typedef struct {
    EVP_PKEY       *pkey;
    size_t          kid_len;          /* 0: no kid */
    char            kid[AUTHZ_MAX_KID_LEN + 1];
    unsigned char   fingerprint[32];  /* SHA-256 of the DER SPKI */
} authz_key_t;


/* called for each key of a JWKS that is skipped, with the reason */
typedef void (*authz_key_skip_pt)(void *data, const char *reason);


/*
 * parses the content of one key file into keys[*n ..], at most
 * max - *n keys; the kind is detected from content: a JWKS JSON object
 * ({"keys": [...]}) or a single JWK, or one or more PEM blocks
 * ("PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE");
 * every key must be RSA of AUTHZ_MIN_RSA_BITS to AUTHZ_MAX_RSA_BITS
 * bits with the public exponent AUTHZ_RSA_EXPONENT: a PEM key or a
 * single JWK that is not fails the load; in the "keys" of a JWKS such a
 * key is skipped, as is a key not meant for signatures ("use" other
 * than "sig", "key_ops" without "verify"), and skip(data, reason) is
 * called if skip is not NULL; a JWKS without any usable key fails;
 * pem_kid, if not NULL, is the kid given to PEM keys (JWKS keys
 * carry their own "kid");
 * returns 0, or -1 with a human readable reason in err (never key bytes);
 * on error no key is added and nothing leaks
 */
int authz_key_load(const unsigned char *buf, size_t len, const char *pem_kid,
    authz_key_t *keys, size_t *n, size_t max, char *err, size_t errlen,
    authz_key_skip_pt skip, void *data);

/* frees the EVP_PKEY of one key */
void authz_key_free(authz_key_t *key);


#endif /* _AUTHZ_KEY_H_INCLUDED_ */
