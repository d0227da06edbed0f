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


/* the algorithms (a bit each); RSA keys verify RS* and PS* */
#define AUTHZ_ALG_RS256         0x001
#define AUTHZ_ALG_RS384         0x002
#define AUTHZ_ALG_RS512         0x004
#define AUTHZ_ALG_PS256         0x008
#define AUTHZ_ALG_PS384         0x010
#define AUTHZ_ALG_PS512         0x020
#define AUTHZ_ALG_ES256         0x040     /* EC P-256 keys */
#define AUTHZ_ALG_ES384         0x080     /* EC P-384 keys */
#define AUTHZ_ALG_ED25519       0x100     /* OKP Ed25519 keys */
#define AUTHZ_ALG_EDDSA         0x200     /* "EdDSA": Ed25519 only (RFC 9864) */

#define AUTHZ_ALG_RSA           0x03f
#define AUTHZ_ALG_EC            0x0c0
#define AUTHZ_ALG_OKP           0x300

/* key types */
#define AUTHZ_KTY_RSA           1
#define AUTHZ_KTY_EC            2
#define AUTHZ_KTY_OKP           3

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

/* the DER SubjectPublicKeyInfo of an RSA-8192 key is 1,062 bytes */
#define AUTHZ_MAX_SPKI_LEN    1200


typedef struct {
    EVP_PKEY       *pkey;
    unsigned        algs;             /* AUTHZ_ALG_* this key may verify */
    unsigned        kty;              /* AUTHZ_KTY_* */
    unsigned        in_set;           /* 1: of a JWKS "keys" (or fetched):
                                         unusable in a location, it is
                                         left out, not an error */
    size_t          kid_len;          /* 0: no kid */
    char            kid[AUTHZ_MAX_KID_LEN + 1];
    unsigned char   fingerprint[32];  /* SHA-256 of the DER SPKI */

    /* set by the caller after loading */
    const char     *issuer;           /* issuer= binding; NULL: none */
    size_t          issuer_len;
    const void     *source;           /* opaque: where the key came from */
} authz_key_t;


/* the keys of one source: a key file, or one fetched key set */
typedef struct {
    const authz_key_t  *keys;
    size_t              nkeys;
} authz_key_set_t;


/*
 * a key as plain bytes, without pointers, for shared memory: what a
 * fetched key set keeps of each key, and what each worker imports
 * into its own authz_key_t once per key-set generation
 */
typedef struct {
    unsigned        algs;
    unsigned        kty;
    size_t          kid_len;
    char            kid[AUTHZ_MAX_KID_LEN + 1];
    unsigned char   fingerprint[32];
    size_t          spki_len;
    unsigned char   spki[AUTHZ_MAX_SPKI_LEN];  /* DER SubjectPublicKeyInfo */
} authz_key_rec_t;


/* called for each key of a JWKS that is skipped, with the reason */
typedef void (*authz_key_skip_pt)(void *data, const char *reason);


/*
 * parses the content of one key file into keys[*n ..], at most
 * max - *n keys; the kind is detected from content: a JWKS JSON object
 * ({"keys": [...]}) or a single JWK (kty RSA, EC with crv P-256 or
 * P-384, OKP with crv Ed25519), or one or more PEM blocks ("PUBLIC
 * KEY", "RSA PUBLIC KEY", "CERTIFICATE") of such keys;
 * an RSA key must have AUTHZ_MIN_RSA_BITS to AUTHZ_MAX_RSA_BITS bits
 * and the public exponent AUTHZ_RSA_EXPONENT, an EC point must be on
 * its curve; key->algs are the algorithms of the key's type (RSA:
 * AUTHZ_ALG_RSA, P-256: ES256, P-384: ES384, Ed25519: AUTHZ_ALG_OKP),
 * or the one a JWK "alg" names (RFC 8725 3.1; an "alg" of another
 * type makes the key unusable);
 * a PEM key or a single JWK that is not usable fails the load; in the
 * "keys" of a JWKS such a key is skipped (malformed, too weak, of a
 * type or curve not supported, not meant for signatures: "use" other
 * than "sig", "key_ops" without "verify"), and skip(data, reason) is
 * called if skip is not NULL, the reason naming the key by kid or by
 * position; a JWKS without any usable key fails, as does one with two
 * keys of one kid;
 * pem_kid, if not NULL, is the kid given to PEM keys (JWKS keys
 * carry their own "kid");
 * whether an algorithm is enabled is the caller's business: it is
 * known only where the key is used (authz_algorithms of a location);
 * returns 0, or -1 with a human readable reason in err (never key bytes);
 * on error no key is added and nothing leaks
 */
int authz_key_load(const unsigned char *buf, size_t len, const char *pem_kid,
    authz_key_t *keys, size_t *n, size_t max, char *err, size_t errlen,
    authz_key_skip_pt skip, void *data);

/*
 * the record of a loaded key; returns 0, or -1 when the key does not
 * encode (or its SPKI exceeds AUTHZ_MAX_SPKI_LEN)
 */
int authz_key_record(const authz_key_t *key, authz_key_rec_t *rec);

/*
 * a key from its record (untrusted bytes are fine: the SPKI is parsed
 * and its SHA-256 must equal the recorded fingerprint); issuer and
 * source are left NULL; returns 0, or -1 with nothing to free
 */
int authz_key_import(const authz_key_rec_t *rec, authz_key_t *key);

/* frees the EVP_PKEY of one key */
void authz_key_free(authz_key_t *key);


#endif /* _AUTHZ_KEY_H_INCLUDED_ */
