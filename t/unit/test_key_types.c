/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * Unit tests for the key types and algorithms of SPEC 14: the RFC 7515
 * A.3 (ES256) and RFC 8037 A.4 (Ed25519) vectors, JWS ECDSA signatures
 * as R || S only (wrong lengths, DER, zero, r or s = n), the cross-type
 * matrix in the core, a JWK "alg" binding its key, keys of a JWKS
 * skipped with their reasons, the issuer binding, key records (round
 * trip, tampered records refused), and the process's prepared
 * verification contexts and digests: a digest that cannot be fetched
 * refuses, no context serves another key, the ring of contexts
 * evicts and re-prepares, a forged signature after a good one fails,
 * R || S with leading zero bytes and high bits verifies, and a failure
 * leaves no OpenSSL error queued.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "tap.h"
#include "authz_jwt.h"
#include "authz_key.h"
#include "authz_util.h"


#define T_NOW  1300819000


/* RFC 7515 A.3: the ES256 example, its key and its token */

static const char  *rfc7515_jwk =
    "{\"kty\":\"EC\",\"crv\":\"P-256\","
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";

static const char  *rfc7515_jws =
    "eyJhbGciOiJFUzI1NiJ9"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA"
    "pmWQxfKTUJqPP3-Kg6NU1Q";

/* RFC 8037 A.4: Ed25519, the payload "Example of Ed25519 signing" */

static const char  *rfc8037_jwk =
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";

static const char  *rfc8037_jws =
    "eyJhbGciOiJFZERTQSJ9"
    "."
    "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    "."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5B"
    "hVsPt9g7sVvpAr_MuM0KAg";

static const unsigned char  p256_n[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
    0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51
};


static char *dup(const char *s);
static void fatal(const char *what);
static int load(const char *text, authz_key_t *keys, size_t *n);
static authz_err_e run(const char *jws, authz_key_t *keys, size_t n,
    unsigned algs, size_t claims_first, authz_token_t *out);
static char *b64(const unsigned char *p, size_t len);
static char *jws_sig(const char *input, const unsigned char *sig,
    size_t len);
static char *sign(EVP_PKEY *pkey, const char *alg, const char *kid,
    const char *payload);
static void test_vectors(void);
static void test_rs(void);
static void test_matrix(void);
static void test_jwk_alg(void);
static void test_skips(void);
static void test_issuer(void);
static void test_records(void);
static void skip_cb(void *data, const char *reason);
static void test_fetch_fails(void);
static void test_forged_after_good(void);
static void test_cross_key(void);
static void test_ring(void);
static void test_der_scalars(void);
static void test_err_queue(void);
static void key_of(authz_key_t *key, EVP_PKEY *pkey, const char *kid);
static char *forge(const char *jws);


static char    load_err[256];
static char    skipped[16][256];
static size_t  nskipped;

static EVP_PKEY  *k_rsa, *k_ec256, *k_ec384, *k_ed;


int
main(void)
{
    k_rsa = EVP_RSA_gen(2048);
    k_ec256 = EVP_EC_gen("P-256");
    k_ec384 = EVP_EC_gen("P-384");
    k_ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

    if (k_rsa == NULL || k_ec256 == NULL || k_ec384 == NULL || k_ed == NULL)
    {
        fatal("key generation");
    }

    /* first: no digest has been fetched by the core yet */

    test_fetch_fails();

    /* second: the ring holds one context, of test_fetch_fails() */

    test_ring();

    test_vectors();
    test_rs();
    test_matrix();
    test_jwk_alg();
    test_skips();
    test_issuer();
    test_records();
    test_forged_after_good();
    test_cross_key();
    test_der_scalars();
    test_err_queue();

    ok(ERR_peek_error() == 0, "no openssl errors left queued");

    EVP_PKEY_free(k_rsa);
    EVP_PKEY_free(k_ec256);
    EVP_PKEY_free(k_ec384);
    EVP_PKEY_free(k_ed);

    return done_testing();
}


static void
test_vectors(void)
{
    size_t         n;
    char          *t;
    authz_key_t    keys[2];
    authz_token_t  tok;

    /* RFC 7515 A.3 */

    ok(load(rfc7515_jwk, keys, &n) == 0 && n == 1, "rfc 7515 a.3 jwk loads");
    ok(keys[0].kty == AUTHZ_KTY_EC && keys[0].algs == AUTHZ_ALG_ES256,
       "rfc 7515 a.3 key: EC, ES256 only");

    ok(run(rfc7515_jws, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_OK
       && tok.nverify == 1, "rfc 7515 a.3 ES256 verifies");

    ok(run(rfc7515_jws, keys, 1, AUTHZ_ALG_RS256, 0, &tok) == AUTHZ_ERR_ALG,
       "rfc 7515 a.3 where ES256 is not enabled: alg refused");

    t = dup(rfc7515_jws);
    t[strlen(t) - 2] = (t[strlen(t) - 2] == 'A') ? 'B' : 'A';
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_ERR_SIGNATURE,
       "rfc 7515 a.3 with a changed signature fails");
    free(t);

    t = dup(rfc7515_jws);
    t[25] = (t[25] == 'A') ? 'B' : 'A';
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) != AUTHZ_OK,
       "rfc 7515 a.3 with a changed payload fails");
    free(t);

    authz_key_free(&keys[0]);

    /*
     * RFC 8037 A.4: the payload is text, not a JSON object; with the
     * payload deferred (claims_first 1) the signature is checked first,
     * and a good signature then fails on the payload, a bad one on the
     * signature
     */

    ok(load(rfc8037_jwk, keys, &n) == 0 && n == 1, "rfc 8037 a.4 jwk loads");
    ok(keys[0].kty == AUTHZ_KTY_OKP && keys[0].algs == AUTHZ_ALG_OKP,
       "rfc 8037 a.4 key: OKP, Ed25519 and EdDSA");

    ok(run(rfc8037_jws, keys, 1, AUTHZ_ALG_EDDSA, 1, &tok)
       == AUTHZ_ERR_MALFORMED && tok.nverify == 1,
       "rfc 8037 a.4 EdDSA signature verifies (then the text payload "
       "is refused)");

    t = dup(rfc8037_jws);
    t[strlen(t) - 3] = (t[strlen(t) - 3] == 'A') ? 'B' : 'A';
    ok(run(t, keys, 1, AUTHZ_ALG_EDDSA, 1, &tok) == AUTHZ_ERR_SIGNATURE,
       "rfc 8037 a.4 with a changed signature fails");
    free(t);

    ok(run(rfc8037_jws, keys, 1, AUTHZ_ALG_ES256, 1, &tok) == AUTHZ_ERR_ALG,
       "rfc 8037 a.4 where EdDSA is not enabled: alg refused");

    authz_key_free(&keys[0]);
}


/* R || S: 64 bytes of two scalars in [1, n - 1], nothing else */

static void
test_rs(void)
{
    int             len;
    size_t          n;
    char           *good, *t, *input, *dot;
    ECDSA_SIG      *es;
    authz_key_t     keys[2];
    authz_token_t   tok;
    unsigned char   rs[64], bad[96], der[80], *p;
    const BIGNUM   *r, *s;

    if (load(rfc7515_jwk, keys, &n) != 0) {
        fatal("rfc 7515 key");
    }

    good = dup(rfc7515_jws);
    dot = strrchr(good, '.');
    *dot = '\0';
    input = good;

    if (authz_base64url_decode(rs, (unsigned char *) dot + 1,
                               strlen(dot + 1))
        != 64)
    {
        fatal("rfc 7515 signature");
    }

    /* lengths */

    t = jws_sig(input, rs, 63);
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_ERR_SIGNATURE
       && tok.nverify == 0, "R || S of 63 bytes: refused, no operation");
    free(t);

    memcpy(bad, rs, 64);
    bad[64] = 0;
    t = jws_sig(input, bad, 65);
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_ERR_SIGNATURE
       && tok.nverify == 0, "R || S of 65 bytes: refused, no operation");
    free(t);

    memset(bad, 0, sizeof(bad));
    memcpy(bad + 16, rs, 32);
    memcpy(bad + 64, rs + 32, 32);
    t = jws_sig(input, bad, 96);
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_ERR_SIGNATURE
       && tok.nverify == 0, "ES256 with 96 bytes (ES384 length): refused");
    free(t);

    /* the same signature as DER (what OpenSSL itself produces) */

    es = ECDSA_SIG_new();
    if (es == NULL
        || ECDSA_SIG_set0(es, BN_bin2bn(rs, 32, NULL),
                          BN_bin2bn(rs + 32, 32, NULL)) != 1)
    {
        fatal("ECDSA_SIG");
    }

    p = der;
    len = i2d_ECDSA_SIG(es, &p);
    ECDSA_SIG_get0(es, &r, &s);
    ok(len >= 8 && len <= 72 && BN_num_bytes(r) > 0 && BN_num_bytes(s) > 0,
       "the vector as DER: %d bytes", len);

    t = jws_sig(input, der, len);
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_ERR_SIGNATURE
       && tok.nverify == 0, "DER-encoded ECDSA signature refused");
    free(t);

    /* DER padded to 64 bytes is not R || S of the same values */

    memset(bad, 0, 64);
    memcpy(bad, der, len);
    t = jws_sig(input, bad, 64);
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_ERR_SIGNATURE,
       "DER padded to 64 bytes refused");
    free(t);
    ECDSA_SIG_free(es);

    /* zero scalars */

    memset(bad, 0, 64);
    t = jws_sig(input, bad, 64);
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_ERR_SIGNATURE
       && tok.nverify == 0, "R || S all zero: refused, no operation");
    free(t);

    memcpy(bad, rs, 64);
    memset(bad, 0, 32);
    t = jws_sig(input, bad, 64);
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_ERR_SIGNATURE
       && tok.nverify == 0, "r = 0: refused, no operation");
    free(t);

    memcpy(bad, rs, 64);
    memset(bad + 32, 0, 32);
    t = jws_sig(input, bad, 64);
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_ERR_SIGNATURE
       && tok.nverify == 0, "s = 0: refused, no operation");
    free(t);

    /* r or s equal to n, above n, all ones */

    memcpy(bad, p256_n, 32);
    memcpy(bad + 32, rs + 32, 32);
    t = jws_sig(input, bad, 64);
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_ERR_SIGNATURE
       && tok.nverify == 0, "r = n: refused, no operation");
    free(t);

    memcpy(bad, rs, 32);
    memcpy(bad + 32, p256_n, 32);
    t = jws_sig(input, bad, 64);
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_ERR_SIGNATURE
       && tok.nverify == 0, "s = n: refused, no operation");
    free(t);

    memcpy(bad + 32, p256_n, 32);
    bad[63]++;
    t = jws_sig(input, bad, 64);
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_ERR_SIGNATURE
       && tok.nverify == 0, "s = n + 1: refused, no operation");
    free(t);

    memset(bad, 0xff, 64);
    t = jws_sig(input, bad, 64);
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_ERR_SIGNATURE
       && tok.nverify == 0, "R || S all ones: refused, no operation");
    free(t);

    /* n - 1 is a scalar: the curve decides, and says no */

    memcpy(bad, rs, 32);
    memcpy(bad + 32, p256_n, 32);
    bad[63]--;
    t = jws_sig(input, bad, 64);
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_ERR_SIGNATURE
       && tok.nverify == 1, "s = n - 1: checked, fails");
    free(t);

    t = jws_sig(input, rs, 64);
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_OK,
       "the vector re-assembled verifies");
    free(t);

    free(good);
    authz_key_free(&keys[0]);
}


/* every key type against every algorithm: only the diagonal verifies */

static void
test_matrix(void)
{
    size_t          i, j, k;
    char           *t;
    unsigned        diag;
    authz_key_t     keys[4];
    authz_token_t   tok;
    EVP_PKEY       *pk[4];
    authz_err_e     rc;
    unsigned char   der[1200], *p;
    const unsigned char  *q;
    int             len;

    static const char  *names[] = { "rsa", "ec256", "ec384", "ed" };
    static const char  *algs[] = { "RS256", "RS384", "RS512", "PS256",
                                   "PS384", "PS512", "ES256", "ES384",
                                   "Ed25519", "EdDSA" };
    static const unsigned  kdiag[] = { AUTHZ_ALG_RSA, AUTHZ_ALG_ES256,
                                       AUTHZ_ALG_ES384, AUTHZ_ALG_OKP };

    pk[0] = k_rsa;
    pk[1] = k_ec256;
    pk[2] = k_ec384;
    pk[3] = k_ed;

    /* the public keys through authz_key_load(), as PEM would give them */

    for (i = 0; i < 4; i++) {
        p = der;
        len = i2d_PUBKEY(pk[i], &p);
        q = der;

        memset(&keys[i], 0, sizeof(authz_key_t));
        keys[i].pkey = d2i_PUBKEY(NULL, &q, len);
        keys[i].algs = kdiag[i];
        keys[i].kty = (i == 0) ? AUTHZ_KTY_RSA
                      : (i == 3) ? AUTHZ_KTY_OKP : AUTHZ_KTY_EC;
        keys[i].kid_len = strlen(names[i]);
        memcpy(keys[i].kid, names[i], keys[i].kid_len + 1);
    }

    for (i = 0; i < 4; i++) {
        for (j = 0; j < 10; j++) {
            diag = kdiag[i] & authz_alg_parse((unsigned char *) algs[j],
                                              strlen(algs[j]));

            /* with the key's kid; then without kid */

            for (k = 0; k < 2; k++) {
                t = sign(pk[i], algs[j], k == 0 ? names[i] : NULL,
                         "{\"sub\":\"x\",\"exp\":1300819380}");
                rc = run(t, keys, 4, 0x3ff, 0, &tok);

                if (diag) {
                    ok(rc == AUTHZ_OK && tok.key == &keys[i],
                       "%s key, %s token%s: verifies", names[i], algs[j],
                       k ? ", no kid" : "");

                } else {
                    ok(rc == AUTHZ_ERR_KID || rc == AUTHZ_ERR_SIGNATURE,
                       "%s key, %s token%s: refused (%d)", names[i],
                       algs[j], k ? ", no kid" : "", (int) rc);
                }

                free(t);
            }
        }
    }

    for (i = 0; i < 4; i++) {
        authz_key_free(&keys[i]);
    }
}


static void
test_jwk_alg(void)
{
    size_t        n;
    char          buf[512];
    authz_key_t   keys[2];

    snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\","
             "\"alg\":\"ES256\",%s", strstr(rfc7515_jwk, "\"x\""));

    ok(load(buf, keys, &n) == 0 && keys[0].algs == AUTHZ_ALG_ES256,
       "ec jwk with alg ES256");
    authz_key_free(&keys[0]);

    snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\","
             "\"alg\":\"ES384\",%s", strstr(rfc7515_jwk, "\"x\""));
    ok(load(buf, keys, &n) == -1
       && strstr(load_err, "\"alg\" \"ES384\" does not fit the key type"),
       "P-256 jwk with alg ES384: unusable");

    snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\","
             "\"alg\":\"RS256\",%s", strstr(rfc7515_jwk, "\"x\""));
    ok(load(buf, keys, &n) == -1
       && strstr(load_err, "\"alg\" \"RS256\" does not fit the key type"),
       "ec jwk with alg RS256: unusable");

    snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\","
             "\"alg\":\"HS256\",%s", strstr(rfc7515_jwk, "\"x\""));
    ok(load(buf, keys, &n) == -1
       && strstr(load_err, "\"alg\" \"HS256\" is not supported"),
       "ec jwk with alg HS256: unusable");

    snprintf(buf, sizeof(buf), "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
             "\"alg\":\"EdDSA\",%s", strstr(rfc8037_jwk, "\"x\""));
    ok(load(buf, keys, &n) == 0 && keys[0].algs == AUTHZ_ALG_EDDSA,
       "okp jwk with alg EdDSA: EdDSA only");
    authz_key_free(&keys[0]);

    snprintf(buf, sizeof(buf), "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
             "\"alg\":\"Ed25519\",%s", strstr(rfc8037_jwk, "\"x\""));
    ok(load(buf, keys, &n) == 0 && keys[0].algs == AUTHZ_ALG_ED25519,
       "okp jwk with alg Ed25519: Ed25519 only");
    authz_key_free(&keys[0]);

    snprintf(buf, sizeof(buf), "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
             "\"alg\":\"ES256\",%s", strstr(rfc8037_jwk, "\"x\""));
    ok(load(buf, keys, &n) == -1
       && strstr(load_err, "\"alg\" \"ES256\" does not fit the key type"),
       "okp jwk with alg ES256: unusable");

    ok(load("{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"AAAA\"}", keys, &n)
       == -1 && strstr(load_err, "OKP curve \"Ed448\" is not supported"),
       "okp Ed448 jwk refused");
    ok(load("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":"
            "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR\"}", keys, &n)
       == -1 && strstr(load_err, "\"x\" is not 32 bytes"),
       "okp jwk x of 31 bytes refused");
    ok(load("{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"}",
            keys, &n) == -1
       && strstr(load_err, "EC curve \"P-521\" is not supported"),
       "ec P-521 jwk refused");
    ok(load("{\"kty\":\"EC\",\"crv\":\"P-256\",\"d\":\"AA\","
            "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
            "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}",
            keys, &n) == -1
       && strstr(load_err, "private key member \"d\""),
       "ec jwk with a private \"d\" refused");
}


static void
test_skips(void)
{
    int           rc;
    size_t        n;
    char          buf[2048];
    authz_key_t   keys[8];

    snprintf(buf, sizeof(buf), "{\"keys\":["
        "{\"kty\":\"EC\",\"kid\":\"enc\",\"use\":\"enc\",\"crv\":\"P-256\","
        "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
        "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"},"
        "{\"kty\":\"EC\",\"kid\":\"short\",\"crv\":\"P-256\","
        "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVE\","
        "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"},"
        "{\"kty\":\"EC\",\"kid\":\"off\",\"crv\":\"P-256\","
        "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
        "\"y\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"},"
        "{\"kty\":\"OKP\",\"kid\":\"x\",\"crv\":\"X25519\",\"x\":\"AA\"},"
        "{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"AA\"},"
        "42,"
        "{\"kty\":\"EC\",\"kid\":\"wrap\",\"key_ops\":[\"wrapKey\"]},"
        "{\"kty\":\"EC\",\"kid\":\"p384\",\"crv\":\"P-384\","
        "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
        "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"},"
        "%s]}", rfc8037_jwk);

    nskipped = 0;
    n = 0;
    rc = authz_key_load((unsigned char *) buf, strlen(buf), NULL, keys, &n,
                        8, NULL, 0, skip_cb, NULL);

    ok(rc == 0 && n == 1 && keys[0].kty == AUTHZ_KTY_OKP,
       "jwks: the one usable key loads");
    ok(nskipped == 8, "jwks: eight keys skipped (%zu)", nskipped);
    ok(nskipped > 0 && strcmp(skipped[0], "key \"enc\": \"use\" is not "
                              "\"sig\"") == 0, "skip: %s", skipped[0]);
    ok(nskipped > 1 && strcmp(skipped[1], "key \"short\": \"x\" is not 32 "
                              "bytes") == 0, "skip: %s", skipped[1]);
    ok(nskipped > 2 && strstr(skipped[2], "key \"off\": bad EC key: the "
                              "point is not on the curve") == skipped[2],
       "skip: %s", skipped[2]);
    ok(nskipped > 3 && strstr(skipped[3], "key \"x\": OKP curve \"X25519\" "
                              "is not supported") == skipped[3],
       "skip: %s", skipped[3]);
    ok(nskipped > 4 && strcmp(skipped[4], "key \"h\": kty \"oct\" is not "
                              "supported") == 0, "skip: %s", skipped[4]);
    ok(nskipped > 5 && strcmp(skipped[5], "key #6: not an object") == 0,
       "skip: %s", skipped[5]);
    ok(nskipped > 6 && strcmp(skipped[6], "key \"wrap\": \"key_ops\" lacks "
                              "\"verify\"") == 0, "skip: %s", skipped[6]);
    ok(nskipped > 7 && strcmp(skipped[7], "key \"p384\": \"x\" is not 48 "
                              "bytes") == 0, "skip: %s", skipped[7]);

    authz_key_free(&keys[0]);
}


static void
test_issuer(void)
{
    size_t         n;
    char          *t;
    authz_key_t    keys[2];
    authz_token_t  tok;

    if (load(rfc7515_jwk, keys, &n) != 0) {
        fatal("rfc 7515 key");
    }

    keys[0].issuer = "joe";
    keys[0].issuer_len = 3;

    ok(run(rfc7515_jws, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_OK,
       "key bound to joe, token of joe: verifies");

    keys[0].issuer = "jo";
    keys[0].issuer_len = 2;

    ok(run(rfc7515_jws, keys, 1, AUTHZ_ALG_ES256, 0, &tok)
       == AUTHZ_ERR_KEY_ISSUER
       && strcmp(tok.detail, "key not valid for this issuer") == 0,
       "key bound to jo, token of joe: refused");
    ok(strcmp(authz_strerror(AUTHZ_ERR_KEY_ISSUER),
              "key not valid for this issuer") == 0,
       "AUTHZ_ERR_KEY_ISSUER text");

    keys[0].issuer = "joe2";
    keys[0].issuer_len = 3;
    keys[0].issuer = "jOe";

    ok(run(rfc7515_jws, keys, 1, AUTHZ_ALG_ES256, 0, &tok)
       == AUTHZ_ERR_KEY_ISSUER, "issuer compared exactly (case)");

    /* a token without iss, signed by a bound key */

    authz_key_free(&keys[0]);

    memset(keys, 0, sizeof(keys));
    keys[0].pkey = k_ec256;
    keys[0].algs = AUTHZ_ALG_ES256;
    keys[0].kty = AUTHZ_KTY_EC;
    keys[0].issuer = "https://a.test";
    keys[0].issuer_len = 14;

    t = sign(k_ec256, "ES256", NULL, "{\"sub\":\"x\",\"exp\":1300819380}");
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_ERR_KEY_ISSUER,
       "bound key, token without iss: refused");
    free(t);

    t = sign(k_ec256, "ES256", NULL, "{\"sub\":\"x\",\"exp\":1300819380,"
             "\"iss\":\"https://a.test\"}");
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 0, &tok) == AUTHZ_OK,
       "bound key, token of its issuer: verifies");
    free(t);

    /* a deferred payload: bound after its parse too */

    t = sign(k_ec256, "ES256", NULL, "{\"sub\":\"x\",\"exp\":1300819380,"
             "\"iss\":\"https://b.test\"}");
    ok(run(t, keys, 1, AUTHZ_ALG_ES256, 1, &tok) == AUTHZ_ERR_KEY_ISSUER,
       "bound key, deferred payload of another issuer: refused");
    free(t);
}


static void
test_records(void)
{
    size_t            i, n;
    char             *s;
    authz_key_t       keys[4], key;
    authz_key_rec_t   rec, bad;
    EVP_PKEY         *weak;
    unsigned char     der[1200], *p;
    unsigned int      mdlen;
    int               len;

    static const char  *texts[3];

    texts[0] = rfc7515_jwk;
    texts[1] = rfc8037_jwk;
    texts[2] = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k\","
               "\"alg\":\"ES256\","
               "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
               "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";

    for (i = 0; i < 3; i++) {
        if (load(texts[i], keys, &n) != 0) {
            fatal("record key");
        }

        ok(authz_key_record(&keys[0], &rec) == 0, "record %zu", i);
        ok(authz_key_import(&rec, &key) == 0
           && EVP_PKEY_eq(key.pkey, keys[0].pkey) == 1
           && key.algs == keys[0].algs && key.kty == keys[0].kty
           && key.kid_len == keys[0].kid_len
           && memcmp(key.kid, keys[0].kid, key.kid_len) == 0
           && memcmp(key.fingerprint, keys[0].fingerprint, 32) == 0
           && key.issuer == NULL && key.source == NULL,
           "record %zu round trip", i);
        authz_key_free(&key);

        bad = rec;
        bad.spki[bad.spki_len / 2] ^= 1;
        ok(authz_key_import(&bad, &key) == -1 && key.pkey == NULL,
           "record %zu: spki changed, refused", i);

        bad = rec;
        bad.fingerprint[0] ^= 1;
        ok(authz_key_import(&bad, &key) == -1,
           "record %zu: fingerprint changed, refused", i);

        bad = rec;
        bad.kty = (rec.kty == AUTHZ_KTY_EC) ? AUTHZ_KTY_RSA : AUTHZ_KTY_EC;
        ok(authz_key_import(&bad, &key) == -1,
           "record %zu: another kty, refused", i);

        bad = rec;
        bad.algs = AUTHZ_ALG_RS256;
        ok(authz_key_import(&bad, &key) == -1,
           "record %zu: algs of another type, refused", i);

        bad = rec;
        bad.algs = rec.algs | AUTHZ_ALG_RS256;
        ok(authz_key_import(&bad, &key) == -1,
           "record %zu: algs beyond the type, refused", i);

        bad = rec;
        bad.algs = 0;
        ok(authz_key_import(&bad, &key) == -1, "record %zu: no algs", i);

        bad = rec;
        bad.kid_len = AUTHZ_MAX_KID_LEN + 1;
        ok(authz_key_import(&bad, &key) == -1,
           "record %zu: kid too long, refused", i);

        bad = rec;
        bad.kid_len = 1;
        bad.kid[0] = '\n';
        ok(authz_key_import(&bad, &key) == -1,
           "record %zu: kid with a control character, refused", i);

        bad = rec;
        bad.spki_len = 0;
        ok(authz_key_import(&bad, &key) == -1, "record %zu: empty spki", i);

        bad = rec;
        bad.spki_len = AUTHZ_MAX_SPKI_LEN + 1;
        ok(authz_key_import(&bad, &key) == -1,
           "record %zu: spki too long", i);

        /* trailing bytes, the fingerprint made to match */

        bad = rec;
        bad.spki[bad.spki_len++] = 0;
        EVP_Digest(bad.spki, bad.spki_len, bad.fingerprint, &mdlen,
                   EVP_sha256(), NULL);
        ok(authz_key_import(&bad, &key) == -1,
           "record %zu: trailing byte, refused", i);

        authz_key_free(&keys[0]);
    }

    /* a key the policy refuses, its fingerprint made to match */

    weak = EVP_RSA_gen(1024);
    p = der;
    len = i2d_PUBKEY(weak, &p);

    memset(&bad, 0, sizeof(bad));
    memcpy(bad.spki, der, len);
    bad.spki_len = len;
    bad.algs = AUTHZ_ALG_RS256;
    bad.kty = AUTHZ_KTY_RSA;
    EVP_Digest(bad.spki, bad.spki_len, bad.fingerprint, &mdlen,
               EVP_sha256(), NULL);
    ok(authz_key_import(&bad, &key) == -1, "record of RSA-1024 refused");
    EVP_PKEY_free(weak);

    /* the largest record: RSA-8192 fits */

    s = NULL;
    memset(&key, 0, sizeof(key));
    key.pkey = EVP_RSA_gen(8192);
    key.algs = AUTHZ_ALG_RSA;
    key.kty = AUTHZ_KTY_RSA;
    ok(key.pkey != NULL && authz_key_record(&key, &rec) == 0
       && rec.spki_len <= AUTHZ_MAX_SPKI_LEN,
       "RSA-8192 record: %zu bytes", rec.spki_len);
    authz_key_free(&key);
    free(s);
}


/*
 * a digest that cannot be fetched (here: a default property that no
 * provider has) refuses the signature, and is fetched again later
 */

static void
test_fetch_fails(void)
{
    char           *t;
    authz_token_t   tok;
    authz_key_t     keys[1];

    key_of(&keys[0], k_rsa, NULL);
    t = sign(k_rsa, "RS256", NULL, "{\"sub\":\"x\",\"exp\":1300819380}");

    if (EVP_set_default_properties(NULL, "authz.test=none") != 1) {
        fatal("EVP_set_default_properties");
    }

    ok(run(t, keys, 1, AUTHZ_ALG_RS256, 0, &tok) == AUTHZ_ERR_INTERNAL
       && tok.nverify == 0
       && strcmp(tok.detail, "signature check failed") == 0,
       "digest not fetchable: refused, internal error, no operation");
    ok(ERR_peek_error() == 0, "digest not fetchable: no error queued");

    if (EVP_set_default_properties(NULL, "") != 1) {
        fatal("EVP_set_default_properties");
    }

    ok(run(t, keys, 1, AUTHZ_ALG_RS256, 0, &tok) == AUTHZ_OK
       && tok.nverify == 1, "digest fetchable again: verifies");

    free(t);
    authz_key_free(&keys[0]);
}


/* per algorithm: good, forged, other payload, good again, one key */

static void
test_forged_after_good(void)
{
    char           *good, *bad, *other, *mix, *dot;
    size_t          i;
    authz_token_t   tok;
    EVP_PKEY       *pk[6];
    authz_key_t     keys[1];

    static const char  *algs[] = { "RS256", "PS384", "ES256", "ES384",
                                   "EdDSA", "Ed25519" };

    pk[0] = k_rsa;
    pk[1] = k_rsa;
    pk[2] = k_ec256;
    pk[3] = k_ec384;
    pk[4] = k_ed;
    pk[5] = k_ed;

    for (i = 0; i < 6; i++) {
        key_of(&keys[0], pk[i], "k");

        good = sign(pk[i], algs[i], "k", "{\"sub\":\"a\",\"exp\":1300819380}");
        other = sign(pk[i], algs[i], "k",
                     "{\"sub\":\"b\",\"exp\":1300819380}");
        bad = forge(good);

        /* the payload of other under the signature of good */

        mix = dup(other);
        dot = strrchr(mix, '.');
        strcpy(dot, strrchr(good, '.'));

        ok(run(good, keys, 1, 0x3ff, 0, &tok) == AUTHZ_OK
           && tok.nverify == 1, "%s: good token verifies", algs[i]);
        ok(run(bad, keys, 1, 0x3ff, 0, &tok) == AUTHZ_ERR_SIGNATURE
           && tok.nverify == 1 && ERR_peek_error() == 0,
           "%s: then a forged signature fails, no error queued", algs[i]);
        ok(run(mix, keys, 1, 0x3ff, 0, &tok) == AUTHZ_ERR_SIGNATURE
           && tok.nverify == 1 && ERR_peek_error() == 0,
           "%s: then its signature on another payload fails", algs[i]);
        ok(run(other, keys, 1, 0x3ff, 0, &tok) == AUTHZ_OK,
           "%s: then the other token verifies", algs[i]);
        ok(run(bad, keys, 1, 0x3ff, 0, &tok) == AUTHZ_ERR_SIGNATURE,
           "%s: then the forged one still fails", algs[i]);
        ok(run(good, keys, 1, 0x3ff, 0, &tok) == AUTHZ_OK,
           "%s: then the good one still verifies", algs[i]);

        free(good);
        free(other);
        free(bad);
        free(mix);
        authz_key_free(&keys[0]);
    }
}


/*
 * two keys of each type: once a key's context is prepared, a token of
 * the other key is not verified by it; a key freed and another loaded
 * (maybe at the same address) is not served the first one's context
 */

static void
test_cross_key(void)
{
    char           *ta, *tb;
    size_t          i, k;
    authz_token_t   tok;
    EVP_PKEY       *a[4], *b[4];
    authz_key_t     keys[2], ab[2];

    static const char  *algs[] = { "PS256", "ES256", "ES384", "EdDSA" };

    a[0] = k_rsa;
    a[1] = k_ec256;
    a[2] = k_ec384;
    a[3] = k_ed;
    b[0] = EVP_RSA_gen(2048);
    b[1] = EVP_EC_gen("P-256");
    b[2] = EVP_EC_gen("P-384");
    b[3] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

    for (i = 0; i < 4; i++) {
        if (b[i] == NULL) {
            fatal("key generation");
        }

        ta = sign(a[i], algs[i], NULL, "{\"sub\":\"a\",\"exp\":1300819380}");
        tb = sign(b[i], algs[i], NULL, "{\"sub\":\"b\",\"exp\":1300819380}");

        key_of(&keys[0], a[i], NULL);
        key_of(&keys[1], b[i], NULL);

        ok(run(ta, &keys[0], 1, 0x3ff, 0, &tok) == AUTHZ_OK,
           "%s: key a verifies its token", algs[i]);
        ok(run(tb, &keys[0], 1, 0x3ff, 0, &tok) == AUTHZ_ERR_SIGNATURE
           && tok.nverify == 1, "%s: key a refuses the token of b",
           algs[i]);
        ok(run(tb, &keys[1], 1, 0x3ff, 0, &tok) == AUTHZ_OK,
           "%s: key b verifies its token", algs[i]);
        ok(run(ta, &keys[1], 1, 0x3ff, 0, &tok) == AUTHZ_ERR_SIGNATURE
           && tok.nverify == 1, "%s: key b refuses the token of a",
           algs[i]);
        ok(run(tb, keys, 2, 0x3ff, 0, &tok) == AUTHZ_OK
           && tok.key == &keys[1] && tok.nverify == 2,
           "%s: keys a, b: the token of b verified by b", algs[i]);
        ok(run(ta, keys, 2, 0x3ff, 0, &tok) == AUTHZ_OK
           && tok.key == &keys[0] && tok.nverify == 1,
           "%s: keys a, b: the token of a verified by a", algs[i]);

        authz_key_free(&keys[0]);
        authz_key_free(&keys[1]);

        /* freed and loaded again, in turn */

        for (k = 0; k < 3; k++) {
            key_of(&ab[0], a[i], NULL);
            ok(run(ta, &ab[0], 1, 0x3ff, 0, &tok) == AUTHZ_OK,
               "%s: round %zu, key a loaded: its token verifies", algs[i],
               k);
            authz_key_free(&ab[0]);

            key_of(&ab[1], b[i], NULL);
            ok(run(ta, &ab[1], 1, 0x3ff, 0, &tok) == AUTHZ_ERR_SIGNATURE,
               "%s: round %zu, a freed, b loaded: the token of a fails",
               algs[i], k);
            authz_key_free(&ab[1]);
        }

        free(ta);
        free(tb);
        EVP_PKEY_free(b[i]);
    }
}


/*
 * more key and algorithm pairs than the ring holds (AUTHZ_SIG_CTX_MAX,
 * 32): every key still verifies its own token, in order and in
 * reverse (the first keys evicted by the last, found again or
 * prepared again), and refuses a forged one and another key's
 */

#define T_RING  40

static void
test_ring(void)
{
    char           *cross;
    size_t          i, j, pass, fails, checked;
    authz_token_t   tok;
    char           *good[T_RING], *bad[T_RING], kid[16];
    EVP_PKEY       *pk[T_RING];
    authz_key_t     keys[T_RING];
    const char     *alg[T_RING];

    for (i = 0; i < T_RING; i++) {

        if (i < 4) {
            pk[i] = EVP_PKEY_dup(k_rsa);
            alg[i] = (i % 2) ? "PS256" : "RS512";

        } else if (i < 20) {
            pk[i] = EVP_EC_gen("P-256");
            alg[i] = "ES256";

        } else if (i < 26) {
            pk[i] = EVP_EC_gen("P-384");
            alg[i] = "ES384";

        } else {
            pk[i] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
            alg[i] = (i % 2) ? "EdDSA" : "Ed25519";
        }

        if (pk[i] == NULL) {
            fatal("key generation");
        }

        snprintf(kid, sizeof(kid), "r%zu", i);
        key_of(&keys[i], pk[i], kid);
        good[i] = sign(pk[i], alg[i], kid,
                       "{\"sub\":\"x\",\"exp\":1300819380}");
        bad[i] = forge(good[i]);
    }

    for (pass = 0; pass < 2; pass++) {
        fails = 0;

        for (j = 0; j < T_RING; j++) {
            i = pass ? T_RING - 1 - j : j;

            if (run(good[i], keys, T_RING, 0x3ff, 0, &tok) != AUTHZ_OK
                || tok.key != &keys[i] || tok.nverify != 1)
            {
                diag("pass %zu: key %zu (%s) refused its token", pass, i,
                     alg[i]);
                fails++;
            }

            if (run(bad[i], keys, T_RING, 0x3ff, 0, &tok)
                != AUTHZ_ERR_SIGNATURE)
            {
                diag("pass %zu: key %zu (%s) took a forged token", pass, i,
                     alg[i]);
                fails++;
            }
        }

        ok(fails == 0, "ring pass %zu: %d keys, each verifies its token "
           "and refuses a forged one", pass, T_RING);
    }

    /* the signature of key i under the kid of key i + 1, same type */

    fails = 0;
    checked = 0;

    for (i = 0; i + 1 < T_RING; i++) {
        /* the RSA keys are one key; key i + 1 must take the alg */

        if (i < 4
            || (authz_alg_parse((const unsigned char *) alg[i],
                                strlen(alg[i]))
                & keys[i + 1].algs) == 0)
        {
            continue;
        }

        snprintf(kid, sizeof(kid), "r%zu", i + 1);
        checked++;

        cross = sign(pk[i], alg[i], kid, "{\"sub\":\"x\",\"exp\":1300819380}");

        if (run(cross, keys, T_RING, 0x3ff, 0, &tok) != AUTHZ_ERR_SIGNATURE
            || tok.nverify != 1)
        {
            diag("key %zu's signature accepted under kid r%zu", i, i + 1);
            fails++;
        }

        free(cross);
    }

    ok(fails == 0 && checked >= 30,
       "ring: a signature under another key's kid fails (%zu keys)",
       checked);
    ok(ERR_peek_error() == 0, "ring: no error queued");

    for (i = 0; i < T_RING; i++) {
        free(good[i]);
        free(bad[i]);
        authz_key_free(&keys[i]);
        EVP_PKEY_free(pk[i]);
    }
}


/*
 * R || S to DER: scalars with leading zero bytes (shorter INTEGERs)
 * and with the high bit set (a zero byte added) verify; signatures
 * are made until each case has been seen on each curve
 */

static void
test_der_scalars(void)
{
    char           *t, *dot;
    size_t          i, c, half, len, fails;
    EVP_PKEY       *pk;
    authz_token_t   tok;
    size_t          seen[4];
    authz_key_t     keys[1];
    unsigned char   rs[96];

    static const char  *algs[] = { "ES256", "ES384" };

    for (c = 0; c < 2; c++) {
        pk = (c == 0) ? k_ec256 : k_ec384;
        half = (c == 0) ? 32 : 48;
        key_of(&keys[0], pk, NULL);

        memset(seen, 0, sizeof(seen));
        fails = 0;

        for (i = 0;
             i < 4000 && (seen[0] == 0 || seen[1] == 0 || seen[2] == 0
                          || seen[3] == 0);
             i++)
        {
            t = sign(pk, algs[c], NULL, "{\"sub\":\"x\",\"exp\":1300819380}");
            dot = strrchr(t, '.');
            len = authz_base64url_decode(rs, (unsigned char *) dot + 1,
                                         strlen(dot + 1));

            if (len != 2 * half) {
                fatal("R || S");
            }

            /* r or s with a leading zero byte; r or s with the high bit */

            if (rs[0] == 0 || rs[half] == 0
                || ((rs[0] & 0x80) && seen[2] == 0)
                || ((rs[half] & 0x80) && seen[3] == 0))
            {
                seen[0] += (rs[0] == 0);
                seen[1] += (rs[half] == 0);
                seen[2] += ((rs[0] & 0x80) != 0);
                seen[3] += ((rs[half] & 0x80) != 0);

                if (run(t, keys, 1, AUTHZ_ALG_EC, 0, &tok) != AUTHZ_OK) {
                    diag("%s: r[0] %02x s[0] %02x refused", algs[c], rs[0],
                         rs[half]);
                    fails++;
                }
            }

            free(t);
        }

        ok(seen[0] && seen[1] && seen[2] && seen[3] && fails == 0,
           "%s: r, s with a leading zero byte (%zu, %zu) and with the high "
           "bit verify (%zu signatures)", algs[c], seen[0], seen[1], i);

        authz_key_free(&keys[0]);
    }
}


/*
 * a failure leaves no OpenSSL error queued, and an error queued by
 * someone else changes no verdict
 */

static void
test_err_queue(void)
{
    char           *good, *bad;
    size_t          i;
    authz_token_t   tok;
    EVP_PKEY       *pk[4];
    authz_key_t     keys[1];

    static const char  *algs[] = { "RS256", "ES256", "ES384", "EdDSA" };

    pk[0] = k_rsa;
    pk[1] = k_ec256;
    pk[2] = k_ec384;
    pk[3] = k_ed;

    for (i = 0; i < 4; i++) {
        key_of(&keys[0], pk[i], NULL);
        good = sign(pk[i], algs[i], NULL,
                    "{\"sub\":\"x\",\"exp\":1300819380}");
        bad = forge(good);

        ok(run(bad, keys, 1, 0x3ff, 0, &tok) == AUTHZ_ERR_SIGNATURE
           && ERR_peek_error() == 0,
           "%s: forged, refused, no error queued", algs[i]);
        ok(run(good, keys, 1, 0x3ff, 0, &tok) == AUTHZ_OK
           && ERR_peek_error() == 0, "%s: then good, verifies", algs[i]);

        ERR_raise(ERR_LIB_EVP, EVP_R_BAD_DECRYPT);

        ok(run(good, keys, 1, 0x3ff, 0, &tok) == AUTHZ_OK,
           "%s: good with a foreign error queued: verifies", algs[i]);

        ERR_raise(ERR_LIB_EVP, EVP_R_BAD_DECRYPT);

        ok(run(bad, keys, 1, 0x3ff, 0, &tok) == AUTHZ_ERR_SIGNATURE,
           "%s: forged with a foreign error queued: refused", algs[i]);

        ERR_clear_error();

        free(good);
        free(bad);
        authz_key_free(&keys[0]);
    }
}


/* helpers */

static char *
dup(const char *s)
{
    char  *d;

    d = malloc(strlen(s) + 1);
    if (d == NULL) {
        fatal("malloc");
    }

    return memcpy(d, s, strlen(s) + 1);
}


static void
fatal(const char *what)
{
    printf("Bail out! %s\n", what);
    exit(1);
}


/* a key as the core loads it: its own EVP_PKEY, its fingerprint */

static void
key_of(authz_key_t *key, EVP_PKEY *pkey, const char *kid)
{
    int                   len, id;
    unsigned int          mdlen;
    unsigned char         der[AUTHZ_MAX_SPKI_LEN], *p;
    const unsigned char  *q;

    memset(key, 0, sizeof(authz_key_t));

    p = der;
    len = i2d_PUBKEY(pkey, &p);
    q = der;

    if (len <= 0 || len > (int) sizeof(der)
        || (key->pkey = d2i_PUBKEY(NULL, &q, len)) == NULL
        || EVP_Digest(der, len, key->fingerprint, &mdlen, EVP_sha256(),
                      NULL) != 1)
    {
        fatal("key_of");
    }

    id = EVP_PKEY_get_base_id(pkey);

    if (id == EVP_PKEY_RSA) {
        key->kty = AUTHZ_KTY_RSA;
        key->algs = AUTHZ_ALG_RSA;

    } else if (id == EVP_PKEY_EC) {
        key->kty = AUTHZ_KTY_EC;
        key->algs = (EVP_PKEY_get_bits(pkey) == 384) ? AUTHZ_ALG_ES384
                                                     : AUTHZ_ALG_ES256;

    } else {
        key->kty = AUTHZ_KTY_OKP;
        key->algs = AUTHZ_ALG_OKP;
    }

    if (kid != NULL) {
        key->kid_len = strlen(kid);
        memcpy(key->kid, kid, key->kid_len + 1);
    }
}


/* the JWS with one bit of its signature changed, in the middle */

static char *
forge(const char *jws)
{
    char           *t, *dot;
    size_t          len;
    unsigned char   sig[1024];

    t = dup(jws);
    dot = strrchr(t, '.');
    len = authz_base64url_decode(sig, (unsigned char *) dot + 1,
                                 strlen(dot + 1));

    if (len == 0 || len > sizeof(sig)) {
        fatal("forge");
    }

    /* ECDSA: the last byte of r, which stays a scalar */

    sig[len / 2 - 1] ^= 0x01;
    *dot = '\0';

    dot = jws_sig(t, sig, len);
    free(t);

    return dot;
}


static void
skip_cb(void *data, const char *reason)
{
    (void) data;

    if (nskipped < 16) {
        snprintf(skipped[nskipped], sizeof(skipped[0]), "%s", reason);
    }

    nskipped++;
}


static int
load(const char *text, authz_key_t *keys, size_t *n)
{
    *n = 0;
    memset(keys, 0, sizeof(authz_key_t));

    return authz_key_load((const unsigned char *) text, strlen(text), NULL,
                          keys, n, 2, load_err, sizeof(load_err), NULL,
                          NULL);
}


static authz_err_e
run(const char *jws, authz_key_t *keys, size_t n, unsigned algs,
    size_t claims_first, authz_token_t *out)
{
    size_t                len;
    authz_err_e           rc;
    unsigned char        *scratch;
    authz_key_set_t       set;
    authz_verify_conf_t   conf;

    memset(&conf, 0, sizeof(conf));
    set.keys = keys;
    set.nkeys = n;
    conf.sets = &set;
    conf.nsets = 1;
    conf.algs = algs;
    conf.max_size = 8192;
    conf.require_exp = 1;
    conf.claims_first = claims_first;

    len = strlen(jws);
    scratch = malloc(len + 1);
    if (scratch == NULL) {
        fatal("malloc");
    }

    rc = authz_token_decode(out, (const unsigned char *) jws, len, scratch,
                            &conf);

    if (rc == AUTHZ_OK) {
        rc = authz_token_check_claims(out, &conf, T_NOW);
    }

    if (rc == AUTHZ_OK) {
        rc = authz_token_verify(out, &conf, NULL);
    }

    authz_token_free(out);
    free(scratch);

    return rc;
}


static char *
b64(const unsigned char *p, size_t len)
{
    int     n;
    char   *s, *d;

    s = malloc(len / 3 * 4 + 8);
    if (s == NULL) {
        fatal("malloc");
    }

    n = EVP_EncodeBlock((unsigned char *) s, p, (int) len);

    for (d = s; d < s + n; d++) {
        if (*d == '+') {
            *d = '-';

        } else if (*d == '/') {
            *d = '_';
        }
    }

    while (n > 0 && s[n - 1] == '=') {
        n--;
    }

    s[n] = '\0';

    return s;
}


static char *
jws_sig(const char *input, const unsigned char *sig, size_t len)
{
    char  *e, *t;

    e = b64(sig, len);
    t = malloc(strlen(input) + strlen(e) + 2);
    if (t == NULL) {
        fatal("malloc");
    }

    sprintf(t, "%s.%s", input, e);
    free(e);

    return t;
}


/*
 * a JWS of alg signed by pkey: with the alg's scheme where the key has
 * it, with the key's own scheme otherwise (what an attacker holding
 * that key can do); ECDSA as R || S
 */

static char *
sign(EVP_PKEY *pkey, const char *alg, const char *kid, const char *payload)
{
    int             id;
    char           *h, *p, *input, *t;
    size_t          siglen, half;
    ECDSA_SIG      *es;
    EVP_MD_CTX     *mctx;
    EVP_PKEY_CTX   *pctx;
    const EVP_MD   *md;
    const BIGNUM   *r, *s;
    char            hdr[256];
    unsigned char   sig[1024], rs[96];
    const unsigned char  *q;

    if (kid != NULL) {
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":\"%s\"}", alg,
                 kid);
    } else {
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\"}", alg);
    }

    h = b64((unsigned char *) hdr, strlen(hdr));
    p = b64((const unsigned char *) payload, strlen(payload));
    input = malloc(strlen(h) + strlen(p) + 2);
    if (input == NULL) {
        fatal("malloc");
    }

    sprintf(input, "%s.%s", h, p);
    free(h);
    free(p);

    id = EVP_PKEY_get_base_id(pkey);

    md = strstr(alg, "384") ? EVP_sha384()
         : strstr(alg, "512") ? EVP_sha512() : EVP_sha256();

    if (id == EVP_PKEY_EC) {
        md = (EVP_PKEY_get_bits(pkey) == 384) ? EVP_sha384() : EVP_sha256();
    }

    mctx = EVP_MD_CTX_new();
    siglen = sizeof(sig);

    if (mctx == NULL
        || EVP_DigestSignInit(mctx, &pctx, id == EVP_PKEY_ED25519 ? NULL : md,
                              NULL, pkey) != 1)
    {
        fatal("sign init");
    }

    if (id == EVP_PKEY_RSA && alg[0] == 'P') {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }

    if (EVP_DigestSign(mctx, sig, &siglen, (unsigned char *) input,
                       strlen(input)) != 1)
    {
        fatal("sign");
    }

    EVP_MD_CTX_free(mctx);

    if (id == EVP_PKEY_EC) {
        q = sig;
        es = d2i_ECDSA_SIG(NULL, &q, (long) siglen);
        if (es == NULL) {
            fatal("d2i_ECDSA_SIG");
        }

        ECDSA_SIG_get0(es, &r, &s);
        half = (EVP_PKEY_get_bits(pkey) + 7) / 8;
        BN_bn2binpad(r, rs, (int) half);
        BN_bn2binpad(s, rs + half, (int) half);
        ECDSA_SIG_free(es);

        t = jws_sig(input, rs, 2 * half);

    } else {
        t = jws_sig(input, sig, siglen);
    }

    free(input);

    return t;
}
