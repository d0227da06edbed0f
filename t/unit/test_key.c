/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * unit tests of authz_key.c: PEM, X.509 and JWKS public keys; every key
 * is generated at test time.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "authz_key.h"
#include "tap.h"


#define TEST_MAX_KEYS  (AUTHZ_MAX_KEYS + 8)


static authz_key_t  keys[TEST_MAX_KEYS];
static size_t       nkeys;
static char         err[256];

/* what the skip callback was told */
static size_t       nskipped;
static char         skipped[256];
static int          skip_data;


static void test_fatal(const char *what);
static char *test_bio_string(BIO *bio);
static char *test_pem_spki(EVP_PKEY *pkey);
static char *test_pem_pkcs1(EVP_PKEY *pkey);
static char *test_pem_raw(const char *name, const char *hdr,
    const unsigned char *der, long len);
static char *test_pem_cert(EVP_PKEY *pkey, long from, long to);
static char *test_pem_private(EVP_PKEY *pkey, int encrypted);
static char *test_b64url(const unsigned char *p, size_t len);
static char *test_bn_b64url(EVP_PKEY *pkey, const char *param, int lead0);
static char *test_jwk(EVP_PKEY *pkey, const char *kid, const char *extra);
static char *test_cat(const char *a, const char *b);
static char *test_jwks(char **jwk, size_t n);
static char *test_jwks_fmt(const char *n, const char *e, const char *extra);
static int test_load(const char *text, const char *pem_kid);
static int test_load_max(const char *text, const char *pem_kid, size_t max);
static int test_fails(const char *text, const char *pem_kid,
    const char *reason);
static int test_skips(const char *text, const char *reason);
static void test_skip(void *data, const char *reason);
static EVP_PKEY *test_rsa_made(int bits, unsigned long e);
static void test_caps(EVP_PKEY *a);
static void test_reset(void);
static EVP_PKEY *test_rsa_pss_gen(void);
static int test_fp_eq(const unsigned char *a, const unsigned char *b);
static char test_b64_low_bit(char c);


int
main(void)
{
    int             i, rc;
    char           *a_spki, *a_pkcs1, *a_cert, *a_old_cert, *a_jwk, *b_spki,
                   *b_jwk, *b_cert, *w_spki, *w_pkcs1, *w_cert, *w_jwk,
                   *ec_spki, *ec_cert, *pss_spki, *s, *t, *a_n, *a_e,
                   *jwk[AUTHZ_MAX_KEYS + 1];
    size_t          len, nlen;
    EVP_PKEY       *a, *b, *weak, *ec, *pss;
    unsigned char  *der, *p, fp_a[32], fp_b[32];
    char            kid[AUTHZ_MAX_KID_LEN + 2], extra[512];

    a = EVP_RSA_gen(2048);
    b = EVP_RSA_gen(2048);
    weak = EVP_RSA_gen(1024);
    ec = EVP_EC_gen("P-256");
    pss = test_rsa_pss_gen();

    if (a == NULL || b == NULL || weak == NULL || ec == NULL || pss == NULL)
    {
        test_fatal("key generation");
    }

    a_spki = test_pem_spki(a);
    a_pkcs1 = test_pem_pkcs1(a);
    a_cert = test_pem_cert(a, 0, 86400);
    a_old_cert = test_pem_cert(a, -2 * 86400, -86400);
    a_jwk = test_jwk(a, "a", "");
    b_spki = test_pem_spki(b);
    b_cert = test_pem_cert(b, 0, 86400);
    b_jwk = test_jwk(b, "b", "");
    w_spki = test_pem_spki(weak);
    w_pkcs1 = test_pem_pkcs1(weak);
    w_cert = test_pem_cert(weak, 0, 86400);
    w_jwk = test_jwk(weak, "w", "");
    ec_spki = test_pem_spki(ec);
    ec_cert = test_pem_cert(ec, 0, 86400);
    pss_spki = test_pem_spki(pss);
    a_n = test_bn_b64url(a, OSSL_PKEY_PARAM_RSA_N, 0);
    a_e = test_bn_b64url(a, OSSL_PKEY_PARAM_RSA_E, 0);

    /* PEM: SubjectPublicKeyInfo */

    rc = test_load(a_spki, "k1");
    ok(rc == 0 && nkeys == 1 && keys[0].pkey != NULL, "spki loads");
    ok(keys[0].kid_len == 2 && strcmp(keys[0].kid, "k1") == 0,
       "spki gets pem_kid");
    memcpy(fp_a, keys[0].fingerprint, 32);

    rc = test_load(a_spki, NULL);
    ok(rc == 0 && nkeys == 1 && keys[0].kid_len == 0
       && keys[0].kid[0] == '\0', "spki without pem_kid has no kid");

    /* the fingerprint is SHA-256 of the DER SubjectPublicKeyInfo */

    len = i2d_PUBKEY(a, NULL);
    der = malloc(len);
    p = der;
    i2d_PUBKEY(a, &p);
    EVP_Digest(der, len, fp_b, NULL, EVP_sha256(), NULL);
    free(der);
    ok(test_fp_eq(fp_a, fp_b), "fingerprint is sha-256 of spki der");

    /* PEM: PKCS#1 RSAPublicKey */

    rc = test_load(a_pkcs1, "k1");
    ok(rc == 0 && nkeys == 1 && keys[0].pkey != NULL, "pkcs#1 loads");
    ok(test_fp_eq(keys[0].fingerprint, fp_a), "pkcs#1 fingerprint as spki");
    ok(EVP_PKEY_eq(keys[0].pkey, a) == 1, "pkcs#1 key equals the original");

    /* PEM: certificate, dates not checked */

    rc = test_load(a_cert, "c");
    ok(rc == 0 && nkeys == 1, "certificate loads");
    ok(test_fp_eq(keys[0].fingerprint, fp_a), "certificate fingerprint");

    rc = test_load(a_old_cert, NULL);
    ok(rc == 0 && nkeys == 1, "expired certificate loads (dates ignored)");

    /* whitespace and a byte order mark before the content */

    s = test_cat("\xef\xbb\xbf \r\n\t", a_spki);
    rc = test_load(s, NULL);
    ok(rc == 0 && nkeys == 1, "bom and whitespace before pem");
    free(s);

    /* text around the blocks, as openssl x509 -text writes it */

    s = test_cat("Certificate:\n    Data: ...\n", a_cert);
    t = test_cat(s, "trailing text\n");
    rc = test_load(t, NULL);
    ok(rc == 0 && nkeys == 1, "text around pem blocks is ignored");
    free(s);
    free(t);

    /* two PEM blocks */

    s = test_cat(a_spki, b_cert);
    rc = test_load(s, "rot");
    ok(rc == 0 && nkeys == 2, "two pem blocks give two keys");
    ok(strcmp(keys[0].kid, "rot") == 0 && strcmp(keys[1].kid, "rot") == 0,
       "pem keys share pem_kid");
    ok(test_fp_eq(keys[0].fingerprint, fp_a)
       && !test_fp_eq(keys[1].fingerprint, fp_a), "pem keys in file order");
    memcpy(fp_b, keys[1].fingerprint, 32);
    free(s);

    /* a second load appends */

    s = test_cat(b_spki, "");
    test_reset();
    rc = authz_key_load((unsigned char *) a_spki, strlen(a_spki), "x",
                        keys, &nkeys, AUTHZ_MAX_KEYS, err, sizeof(err),
                        NULL, NULL);
    rc |= authz_key_load((unsigned char *) s, strlen(s), "y",
                         keys, &nkeys, AUTHZ_MAX_KEYS, err, sizeof(err),
                         NULL, NULL);
    ok(rc == 0 && nkeys == 2 && strcmp(keys[1].kid, "y") == 0
       && test_fp_eq(keys[1].fingerprint, fp_b), "second load appends");
    free(s);

    /* JWKS */

    jwk[0] = a_jwk;
    jwk[1] = b_jwk;
    s = test_jwks(jwk, 2);
    rc = test_load(s, "ignored");
    ok(rc == 0 && nkeys == 2, "jwks with two keys loads");
    ok(strcmp(keys[0].kid, "a") == 0 && keys[0].kid_len == 1
       && strcmp(keys[1].kid, "b") == 0, "jwks kids");
    ok(test_fp_eq(keys[0].fingerprint, fp_a)
       && test_fp_eq(keys[1].fingerprint, fp_b),
       "jwk fingerprint equals pem fingerprint of the same key");
    ok(EVP_PKEY_eq(keys[0].pkey, a) == 1, "jwk key equals the original");
    free(s);

    rc = test_load(a_jwk, NULL);
    ok(rc == 0 && nkeys == 1 && strcmp(keys[0].kid, "a") == 0
       && test_fp_eq(keys[0].fingerprint, fp_a), "single jwk loads");

    s = test_jwk(a, NULL, ",\"use\":\"sig\",\"alg\":\"RS256\","
                 "\"key_ops\":[\"verify\"],\"x5c\":[\"not a cert\"]");
    rc = test_load(s, NULL);
    ok(rc == 0 && nkeys == 1 && keys[0].kid_len == 0,
       "jwk without kid, with use, alg, key_ops and x5c");
    free(s);

    /* a leading zero byte in n is accepted */

    s = test_bn_b64url(a, OSSL_PKEY_PARAM_RSA_N, 1);
    t = test_jwks_fmt(s, a_e, "");
    rc = test_load(t, NULL);
    ok(rc == 0 && test_fp_eq(keys[0].fingerprint, fp_a),
       "leading zero byte in n");
    free(s);
    free(t);

    /* weak RSA, in every form */

    ok(test_fails(w_spki, NULL, "RSA key of 1024 bits, at least 2048 "
                  "required"), "rsa-1024 spki refused");
    ok(test_fails(w_pkcs1, NULL, "RSA key of 1024 bits"),
       "rsa-1024 pkcs#1 refused");
    ok(test_fails(w_cert, NULL, "RSA key of 1024 bits"),
       "rsa-1024 certificate refused");
    ok(test_fails(w_jwk, NULL, "key \"w\": RSA key of 1024 bits"),
       "rsa-1024 jwk refused");

    /* EC keys load with the algorithm of their curve; RSA-PSS does not */

    rc = test_load(ec_spki, NULL);
    ok(rc == 0 && nkeys == 1 && keys[0].kty == AUTHZ_KTY_EC
       && keys[0].algs == AUTHZ_ALG_ES256, "ec p-256 spki: ES256 only");
    rc = test_load(ec_cert, NULL);
    ok(rc == 0 && nkeys == 1 && keys[0].algs == AUTHZ_ALG_ES256,
       "ec p-256 certificate: ES256 only");
    ok(test_fails("{\"keys\":[{\"kty\":\"EC\",\"kid\":\"e1\",\"crv\":"
                  "\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}]}", NULL,
                  "key \"e1\": \"x\" is not 32 bytes"),
       "ec jwk with short x refused, the reason told");
    ok(test_fails(pss_spki, NULL, "unsupported key type (RSA-PSS)"),
       "rsa-pss spki refused");

    /* private keys */

    s = test_pem_private(a, 0);
    ok(test_fails(s, NULL, "private key found: configure the public key "
                  "only"), "pkcs#8 private key refused");
    t = test_cat(a_spki, s);
    ok(test_fails(t, "k", "private key found"),
       "private key after a public key refused");
    free(s);
    free(t);

    s = test_pem_private(a, 1);
    ok(test_fails(s, NULL, "private key found"),
       "encrypted private key refused");
    free(s);

    s = test_pem_raw("RSA PRIVATE KEY", "", (unsigned char *) "\x30\x00", 2);
    ok(test_fails(s, NULL, "private key found"), "rsa private key refused");
    free(s);

    /* garbage, empty, truncated, unsupported */

    ok(test_fails("hello world\n", NULL, "no PEM or JWKS content"),
       "garbage refused");
    ok(test_fails("[{\"kty\":\"RSA\"}]", NULL, "no PEM or JWKS content"),
       "json array refused");
    ok(test_fails("", NULL, "empty key file"), "empty input refused");
    ok(test_fails(" \n\t\r\n", NULL, "empty key file"),
       "whitespace-only input refused");

    test_reset();
    rc = authz_key_load(NULL, 0, NULL, keys, &nkeys, AUTHZ_MAX_KEYS, err,
                        sizeof(err), NULL, NULL);
    ok(rc == -1 && nkeys == 0, "null buffer refused");

    s = test_cat(a_spki, "");
    s[strlen(s) / 2] = '\0';
    ok(test_fails(s, NULL, "PEM"), "truncated pem refused");
    free(s);

    s = test_cat(a_spki, "");
    len = strlen(s);
    s[len - 2] = '\0';
    ok(test_fails(s, NULL, "PEM"), "pem without final dashes refused");
    free(s);

    s = test_cat(a_spki, b_spki);
    t = strstr(s + 1, "-----BEGIN PUBLIC KEY-----");
    memcpy(t, "-----BEGIN PUBLIC KEY----\n", 26);
    ok(test_fails(s, NULL, "malformed PEM block: 2 \"-----BEGIN\" lines, "
                  "1 readable"),
       "malformed second block refused, not skipped");
    free(s);

    s = test_cat(a_spki, "");
    t = strstr(s, "\n") + 10;
    *t = '*';
    ok(test_fails(s, NULL, "PEM"), "bad base64 in pem refused");
    free(s);

    s = test_pem_raw("X509 CRL", "", (unsigned char *) "\x30\x00", 2);
    ok(test_fails(s, NULL, "unsupported PEM block \"X509 CRL\""),
       "unsupported pem block refused");
    free(s);

    s = test_pem_raw("PUBLIC KEY", "", (unsigned char *) "\x30\x00", 2);
    ok(test_fails(s, NULL, "bad \"PUBLIC KEY\" block"),
       "bad spki der refused");
    free(s);

    len = i2d_PUBKEY(a, NULL);
    der = malloc(len + 2);
    p = der;
    i2d_PUBKEY(a, &p);
    p[0] = 0;
    p[1] = 0;
    s = test_pem_raw("PUBLIC KEY", "", der, len + 2);
    ok(test_fails(s, NULL, "trailing data in \"PUBLIC KEY\" block"),
       "trailing bytes after spki der refused");
    free(s);
    s = test_pem_raw("PUBLIC KEY", "Proc-Type: 4,ENCRYPTED\n"
                     "DEK-Info: AES-128-CBC,00000000000000000000000000000000"
                     "\n", der, len);
    ok(test_fails(s, NULL, "PEM headers are not supported"),
       "pem headers refused");
    free(s);
    free(der);

    /* JSON */

    ok(test_fails("{\"keys\":[{\"kty\":\"RSA\",\"kty\":\"RSA\"}]}", NULL,
                  "invalid JSON: duplicate object key at line 1"),
       "duplicate json keys refused");
    ok(test_fails("{\"keys\":[{\"kty\":\"RSA\"}\n  \"n\" x}", NULL,
                  "at line 2, column"), "bad json names the line");
    ok(strstr(err, "near") == NULL && strstr(err, "\"n\"") == NULL,
       "bad json error does not quote the input");
    ok(test_fails("{\"keys\":{}}", NULL, "\"keys\" is not an array"),
       "keys not an array refused");
    ok(test_fails("{\"keys\":[]}", NULL, "\"keys\" is empty"),
       "empty keys refused");
    ok(test_fails("{\"n\":\"AQAB\"}", NULL, "no \"keys\" array"),
       "object without keys or kty refused");
    ok(test_fails("{\"keys\":[\"x\"]}", NULL, "key #1: not an object"),
       "non-object key refused");
    ok(test_fails("{\"keys\":[{\"kid\":\"k\"}]}", NULL,
                  "key \"k\": \"kty\" is missing"), "missing kty refused");

    jwk[0] = a_jwk;
    jwk[1] = test_jwk(b, "a", "");
    s = test_jwks(jwk, 2);
    ok(test_fails(s, NULL, "duplicate kid \"a\""), "duplicate kids refused");
    free(jwk[1]);
    free(s);

    s = test_jwks_fmt(a_n, a_e, ",\"kid\":\"k\"");
    ok(test_load(s, NULL) == 0, "jwks template loads");
    free(s);

    /* strict base64url */

    s = test_cat(a_n, "==");
    t = test_jwks_fmt(s, a_e, "");
    ok(test_fails(t, NULL, "\"n\" is not strict base64url"),
       "padding in n refused");
    free(s);
    free(t);

    s = test_cat(a_n, "");
    s[5] = '+';
    t = test_jwks_fmt(s, a_e, "");
    ok(test_fails(t, NULL, "\"n\" is not strict base64url"), "+ in n refused");
    s[5] = '/';
    free(t);
    t = test_jwks_fmt(s, a_e, "");
    ok(test_fails(t, NULL, "\"n\" is not strict base64url"), "/ in n refused");
    free(s);
    free(t);

    /* 256 bytes: the last character carries 2 bits, its low 4 bits unused */

    s = test_cat(a_n, "");
    nlen = strlen(s);
    ok(nlen % 4 == 2, "n of 2048 bits ends in a partial group");
    s[nlen - 1] = test_b64_low_bit(s[nlen - 1]);
    t = test_jwks_fmt(s, a_e, "");
    ok(test_fails(t, NULL, "\"n\" is not strict base64url"),
       "non-canonical trailing bits in n refused");
    free(s);
    free(t);

    s = test_cat(a_n, "AAA");
    t = test_jwks_fmt(s, a_e, "");
    ok(test_fails(t, NULL, "not strict base64url"),
       "n of length 4k + 1 refused");
    free(s);
    free(t);

    t = test_jwks_fmt(a_n, "AQAB=", "");
    ok(test_fails(t, NULL, "\"e\" is not strict base64url"),
       "padding in e refused");
    free(t);

    t = test_jwks_fmt(a_n, "", "");
    ok(test_fails(t, NULL, "\"e\" is empty"), "empty e refused");
    free(t);

    ok(test_fails("{\"kty\":\"RSA\",\"e\":\"AQAB\"}", NULL,
                  "\"n\" is missing"), "missing n refused");

    s = test_cat("{\"kty\":\"RSA\",\"n\":\"", a_n);
    t = test_cat(s, "\",\"e\":65537}");
    ok(test_fails(t, NULL, "\"e\" is missing or not a string"),
       "numeric e refused");
    free(s);
    free(t);

    /* public exponent and modulus sanity */

    t = test_jwks_fmt(a_n, "AQ", "");
    ok(test_skips(t, "RSA public exponent is not 65537"),
       "e = 1 skipped");
    free(t);

    t = test_jwks_fmt(a_n, "AAI", "");
    ok(test_skips(t, "RSA public exponent is not 65537"), "even e skipped");
    free(t);

    t = test_jwks_fmt(a_n, "AQAAAAAAAAAAAQ", "");
    ok(test_skips(t, "RSA public exponent is not 65537"),
       "huge e skipped");
    free(t);

    t = test_jwks_fmt(a_n, "Aw", "");
    ok(test_skips(t, "RSA public exponent is not 65537"),
       "e = 3 skipped");
    free(t);

    s = test_cat(a_n, "");
    s[nlen - 2] = 'A';
    s[nlen - 1] = 'A';
    t = test_jwks_fmt(s, a_e, "");
    ok(test_skips(t, "RSA modulus is even"), "even modulus skipped");
    free(s);
    free(t);

    der = malloc(2100);
    memset(der, 0xff, 2100);
    s = test_b64url(der, 2100);
    t = test_jwks_fmt(s, a_e, "");
    ok(test_skips(t, "RSA key of 16800 bits, at most 8192 allowed"),
       "too large modulus skipped");
    free(der);
    free(s);
    free(t);

    /* "use" and "key_ops" */

    jwk[0] = test_jwk(a, "enc", ",\"use\":\"enc\"");
    jwk[1] = b_jwk;
    s = test_jwks(jwk, 2);
    rc = test_load(s, NULL);
    ok(rc == 0 && nkeys == 1 && strcmp(keys[0].kid, "b") == 0,
       "use enc skipped");
    ok(nskipped == 1 && strstr(skipped, "key \"enc\": \"use\" is not \"sig\"")
       != NULL && err[0] == '\0', "use enc: skip reported, no error");
    free(s);

    s = test_jwks(jwk, 1);
    ok(test_fails(s, NULL, "no usable signing key"), "all keys skipped");
    free(s);
    free(jwk[0]);

    jwk[0] = test_jwk(a, "wrap", ",\"key_ops\":[\"wrapKey\",\"encrypt\"]");
    s = test_jwks(jwk, 2);
    rc = test_load(s, NULL);
    ok(rc == 0 && nkeys == 1 && strcmp(keys[0].kid, "b") == 0,
       "key_ops without verify skipped");
    ok(nskipped == 1
       && strstr(skipped, "key \"wrap\": \"key_ops\" lacks \"verify\"")
          != NULL, "key_ops: skip reported");
    free(s);
    free(jwk[0]);

    jwk[0] = "{\"kty\":\"EC\",\"use\":\"enc\",\"crv\":\"P-256\",\"x\":\"A\"}";
    s = test_jwks(jwk, 2);
    rc = test_load(s, NULL);
    ok(rc == 0 && nkeys == 1, "ec encryption key skipped");
    free(s);

    jwk[0] = test_jwk(a, "u", ",\"use\":1");
    s = test_jwks(jwk, 1);
    ok(test_fails(s, NULL, "key \"u\": \"use\" is not a string"),
       "non-string use refused");
    free(s);
    free(jwk[0]);

    /* kid */

    memset(kid, 'k', AUTHZ_MAX_KID_LEN);
    kid[AUTHZ_MAX_KID_LEN] = '\0';
    s = test_jwk(a, kid, "");
    rc = test_load(s, NULL);
    ok(rc == 0 && keys[0].kid_len == AUTHZ_MAX_KID_LEN
       && strcmp(keys[0].kid, kid) == 0, "kid of 256 characters accepted");
    free(s);

    rc = test_load(a_spki, kid);
    ok(rc == 0 && keys[0].kid_len == AUTHZ_MAX_KID_LEN,
       "pem_kid of 256 characters accepted");

    kid[AUTHZ_MAX_KID_LEN] = 'k';
    kid[AUTHZ_MAX_KID_LEN + 1] = '\0';
    s = test_jwk(a, kid, "");
    ok(test_fails(s, NULL, "\"kid\" is too long"),
       "kid of 257 characters refused");
    free(s);

    ok(test_fails(a_spki, kid, "\"kid\" is too long"),
       "pem_kid of 257 characters refused");
    ok(test_fails(a_spki, "a\tb", "\"kid\" has a bad character"),
       "pem_kid with a tab refused");

    s = test_jwk(a, "a\\u0001b", "");
    ok(test_fails(s, NULL, "\"kid\" has a bad character"),
       "kid with a control character refused");
    free(s);

    s = test_jwk(a, "caf\xc3\xa9", "");
    ok(test_fails(s, NULL, "\"kid\" has a bad character"),
       "non-ascii kid refused");
    free(s);

    s = test_jwk(a, "", "");
    ok(test_fails(s, NULL, "\"kid\" is empty"), "empty kid refused");
    free(s);

    s = test_jwk(a, NULL, ",\"kid\":7");
    ok(test_fails(s, NULL, "\"kid\" is not a string"),
       "numeric kid refused");
    free(s);

    /* at most max keys */

    for (i = 0; i <= AUTHZ_MAX_KEYS; i++) {
        snprintf(extra, sizeof(extra), "k%d", i);
        jwk[i] = test_jwk(a, extra, "");
    }

    s = test_jwks(jwk, AUTHZ_MAX_KEYS);
    rc = test_load(s, NULL);
    ok(rc == 0 && nkeys == AUTHZ_MAX_KEYS, "64 jwks keys accepted");
    free(s);

    s = test_jwks(jwk, AUTHZ_MAX_KEYS + 1);
    ok(test_fails(s, NULL, "too many keys (at most 64)"),
       "65 jwks keys refused");
    free(s);

    for (i = 0; i <= AUTHZ_MAX_KEYS; i++) {
        free(jwk[i]);
    }

    s = test_cat(a_spki, "");

    for (i = 1; i <= AUTHZ_MAX_KEYS; i++) {
        t = test_cat(s, a_spki);
        free(s);
        s = t;
    }

    ok(test_fails(s, "k", "too many keys (at most 64)"),
       "65 pem keys refused");
    free(s);

    /* on error nothing is added, earlier keys stay */

    test_reset();

    for (i = 0; i < AUTHZ_MAX_KEYS - 1; i++) {
        rc = authz_key_load((unsigned char *) a_spki, strlen(a_spki), "p",
                            keys, &nkeys, AUTHZ_MAX_KEYS, err, sizeof(err),
                            NULL, NULL);
        if (rc != 0) {
            break;
        }
    }

    ok(nkeys == AUTHZ_MAX_KEYS - 1, "63 keys loaded one by one");

    jwk[0] = a_jwk;
    jwk[1] = b_jwk;
    s = test_jwks(jwk, 2);
    rc = authz_key_load((unsigned char *) s, strlen(s), NULL, keys, &nkeys,
                        AUTHZ_MAX_KEYS, err, sizeof(err), NULL, NULL);
    ok(rc == -1 && nkeys == AUTHZ_MAX_KEYS - 1
       && keys[AUTHZ_MAX_KEYS - 1].pkey == NULL
       && keys[AUTHZ_MAX_KEYS - 2].pkey != NULL
       && strstr(err, "too many keys") != NULL,
       "63 + 2 keys refused, n unchanged");
    free(s);

    jwk[1] = a_jwk;
    s = test_jwks(jwk, 2);
    test_reset();
    nkeys = 3;
    rc = authz_key_load((unsigned char *) s, strlen(s), NULL, keys, &nkeys,
                        AUTHZ_MAX_KEYS, err, sizeof(err), NULL, NULL);
    ok(rc == -1 && nkeys == 3 && keys[3].pkey == NULL,
       "good key then duplicate kid: n unchanged, good key freed");
    free(s);
    nkeys = 0;

    rc = authz_key_load((unsigned char *) w_spki, strlen(w_spki), NULL, keys,
                        &nkeys, AUTHZ_MAX_KEYS, NULL, 0, NULL, NULL);
    ok(rc == -1 && nkeys == 0, "no error buffer is fine");

    rc = authz_key_load((unsigned char *) w_spki, strlen(w_spki), NULL, keys,
                        &nkeys, AUTHZ_MAX_KEYS, err, 8, NULL, NULL);
    ok(rc == -1 && strlen(err) == 7, "error truncated to errlen");

    ok(ERR_peek_error() == 0, "no openssl errors left queued");

    /* authz_key_free */

    rc = test_load(a_spki, NULL);
    authz_key_free(&keys[0]);
    ok(rc == 0 && keys[0].pkey == NULL, "authz_key_free clears pkey");
    authz_key_free(&keys[0]);
    ok(keys[0].pkey == NULL, "authz_key_free twice is harmless");
    nkeys = 0;

    /* a weak key in a JWKS is skipped, as a single JWK it is refused */

    jwk[0] = a_jwk;
    jwk[1] = w_jwk;
    s = test_jwks(jwk, 2);
    rc = test_load(s, NULL);
    ok(rc == 0 && nkeys == 1 && strcmp(keys[0].kid, "a") == 0
       && nskipped == 1
       && strstr(skipped, "key \"w\": RSA key of 1024 bits, at least 2048")
          != NULL, "rsa-1024 in a jwks skipped");
    free(s);

    test_caps(a);

    test_reset();

    free(a_spki);
    free(a_pkcs1);
    free(a_cert);
    free(a_old_cert);
    free(a_jwk);
    free(b_spki);
    free(b_cert);
    free(b_jwk);
    free(w_spki);
    free(w_pkcs1);
    free(w_cert);
    free(w_jwk);
    free(ec_spki);
    free(ec_cert);
    free(pss_spki);
    free(a_n);
    free(a_e);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    EVP_PKEY_free(weak);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(pss);

    return done_testing();
}


static void
test_fatal(const char *what)
{
    printf("Bail out! %s failed\n", what);
    ERR_print_errors_fp(stdout);
    exit(1);
}


static char *
test_bio_string(BIO *bio)
{
    long   len;
    char  *data, *s;

    len = BIO_get_mem_data(bio, &data);

    s = malloc(len + 1);
    if (s == NULL) {
        test_fatal("malloc()");
    }

    memcpy(s, data, len);
    s[len] = '\0';

    BIO_free(bio);

    return s;
}


static char *
test_pem_spki(EVP_PKEY *pkey)
{
    BIO  *bio;

    bio = BIO_new(BIO_s_mem());

    if (bio == NULL || PEM_write_bio_PUBKEY(bio, pkey) != 1) {
        test_fatal("PEM_write_bio_PUBKEY()");
    }

    return test_bio_string(bio);
}


static char *
test_pem_pkcs1(EVP_PKEY *pkey)
{
    int             len;
    char           *s;
    unsigned char  *der;

    der = NULL;

    len = i2d_PublicKey(pkey, &der);
    if (len <= 0) {
        test_fatal("i2d_PublicKey()");
    }

    s = test_pem_raw("RSA PUBLIC KEY", "", der, len);

    OPENSSL_free(der);

    return s;
}


static char *
test_pem_raw(const char *name, const char *hdr, const unsigned char *der,
    long len)
{
    BIO  *bio;

    bio = BIO_new(BIO_s_mem());

    if (bio == NULL || PEM_write_bio(bio, name, hdr, der, len) <= 0) {
        test_fatal("PEM_write_bio()");
    }

    return test_bio_string(bio);
}


/* a self-signed certificate valid from now + from to now + to seconds */

static char *
test_pem_cert(EVP_PKEY *pkey, long from, long to)
{
    BIO        *bio;
    X509       *x;
    X509_NAME  *name;

    x = X509_new();
    if (x == NULL) {
        test_fatal("X509_new()");
    }

    name = X509_get_subject_name(x);

    if (X509_set_version(x, 2) != 1
        || ASN1_INTEGER_set(X509_get_serialNumber(x), 1) != 1
        || X509_gmtime_adj(X509_getm_notBefore(x), from) == NULL
        || X509_gmtime_adj(X509_getm_notAfter(x), to) == NULL
        || X509_set_pubkey(x, pkey) != 1
        || X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                      (unsigned char *) "authz test", -1,
                                      -1, 0) != 1
        || X509_set_issuer_name(x, name) != 1
        || X509_sign(x, pkey, EVP_sha256()) <= 0)
    {
        test_fatal("certificate");
    }

    bio = BIO_new(BIO_s_mem());

    if (bio == NULL || PEM_write_bio_X509(bio, x) != 1) {
        test_fatal("PEM_write_bio_X509()");
    }

    X509_free(x);

    return test_bio_string(bio);
}


static char *
test_pem_private(EVP_PKEY *pkey, int encrypted)
{
    int   rc;
    BIO  *bio;

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        test_fatal("BIO_new()");
    }

    if (encrypted) {
        rc = PEM_write_bio_PKCS8PrivateKey(bio, pkey, EVP_aes_256_cbc(),
                                           "secret", 6, NULL, NULL);

    } else {
        rc = PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
    }

    if (rc != 1) {
        test_fatal("PEM_write_bio_PrivateKey()");
    }

    return test_bio_string(bio);
}


static char *
test_b64url(const unsigned char *p, size_t len)
{
    char        *s, *d;
    size_t       i;
    uint32_t     acc;
    static const char  alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    s = malloc(len / 3 * 4 + 5);
    if (s == NULL) {
        test_fatal("malloc()");
    }

    d = s;

    for (i = 0; i + 2 < len; i += 3) {
        acc = (uint32_t) p[i] << 16 | (uint32_t) p[i + 1] << 8 | p[i + 2];
        *d++ = alphabet[acc >> 18];
        *d++ = alphabet[(acc >> 12) & 0x3f];
        *d++ = alphabet[(acc >> 6) & 0x3f];
        *d++ = alphabet[acc & 0x3f];
    }

    if (len - i == 1) {
        acc = (uint32_t) p[i] << 16;
        *d++ = alphabet[acc >> 18];
        *d++ = alphabet[(acc >> 12) & 0x3f];

    } else if (len - i == 2) {
        acc = (uint32_t) p[i] << 16 | (uint32_t) p[i + 1] << 8;
        *d++ = alphabet[acc >> 18];
        *d++ = alphabet[(acc >> 12) & 0x3f];
        *d++ = alphabet[(acc >> 6) & 0x3f];
    }

    *d = '\0';

    return s;
}


static char *
test_bn_b64url(EVP_PKEY *pkey, const char *param, int lead0)
{
    int             len;
    char           *s;
    BIGNUM         *bn;
    unsigned char  *buf;

    bn = NULL;

    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) {
        test_fatal("EVP_PKEY_get_bn_param()");
    }

    len = BN_num_bytes(bn);

    buf = malloc(len + 1);
    if (buf == NULL) {
        test_fatal("malloc()");
    }

    buf[0] = 0;
    BN_bn2bin(bn, buf + 1);

    s = lead0 ? test_b64url(buf, len + 1) : test_b64url(buf + 1, len);

    free(buf);
    BN_free(bn);

    return s;
}


/* kid NULL: no "kid"; extra: more members, starting with a comma */

static char *
test_jwk(EVP_PKEY *pkey, const char *kid, const char *extra)
{
    char    *n, *e, *s;
    size_t   len;

    n = test_bn_b64url(pkey, OSSL_PKEY_PARAM_RSA_N, 0);
    e = test_bn_b64url(pkey, OSSL_PKEY_PARAM_RSA_E, 0);

    len = strlen(n) + strlen(e) + strlen(extra)
          + (kid != NULL ? strlen(kid) : 0) + 64;

    s = malloc(len);
    if (s == NULL) {
        test_fatal("malloc()");
    }

    if (kid != NULL) {
        snprintf(s, len, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\","
                 "\"e\":\"%s\"%s}", kid, n, e, extra);

    } else {
        snprintf(s, len, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s}",
                 n, e, extra);
    }

    free(n);
    free(e);

    return s;
}


static char *
test_cat(const char *a, const char *b)
{
    char    *s;
    size_t   la, lb;

    la = strlen(a);
    lb = strlen(b);

    s = malloc(la + lb + 1);
    if (s == NULL) {
        test_fatal("malloc()");
    }

    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);

    return s;
}


static char *
test_jwks(char **jwk, size_t n)
{
    char    *s, *t;
    size_t   i;

    s = test_cat("{\"keys\":[", "");

    for (i = 0; i < n; i++) {
        t = test_cat(s, (i > 0) ? "," : "");
        free(s);
        s = test_cat(t, jwk[i]);
        free(t);
    }

    t = test_cat(s, "]}");
    free(s);

    return t;
}


/* a JWKS of one RSA key with the given n and e */

static char *
test_jwks_fmt(const char *n, const char *e, const char *extra)
{
    char    *s;
    size_t   len;

    len = strlen(n) + strlen(e) + strlen(extra) + 64;

    s = malloc(len);
    if (s == NULL) {
        test_fatal("malloc()");
    }

    snprintf(s, len, "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\""
             "%s}]}", n, e, extra);

    return s;
}


static void
test_reset(void)
{
    size_t  i;

    for (i = 0; i < TEST_MAX_KEYS; i++) {
        authz_key_free(&keys[i]);
    }

    memset(keys, 0, sizeof(keys));
    nkeys = 0;
    nskipped = 0;
    skipped[0] = '\0';
}


static int
test_load(const char *text, const char *pem_kid)
{
    return test_load_max(text, pem_kid, AUTHZ_MAX_KEYS);
}


static int
test_load_max(const char *text, const char *pem_kid, size_t max)
{
    test_reset();

    return authz_key_load((const unsigned char *) text, strlen(text),
                          pem_kid, keys, &nkeys, max, err, sizeof(err),
                          test_skip, &skip_data);
}


/* a JWKS whose one key is skipped: the load fails, the reason is told */

static int
test_skips(const char *text, const char *reason)
{
    int  rc;

    rc = test_load(text, NULL);

    if (rc != -1 || nkeys != 0 || nskipped != 1
        || strstr(err, "no usable signing key") == NULL)
    {
        diag("rc %d, nkeys %zu, skipped %zu, error \"%s\"", rc, nkeys,
             nskipped, err);
        return 0;
    }

    if (strstr(skipped, reason) == NULL) {
        diag("skipped \"%s\", expected \"%s\"", skipped, reason);
        return 0;
    }

    return 1;
}


static void
test_skip(void *data, const char *reason)
{
    if (data != &skip_data) {
        test_fatal("skip callback data");
    }

    nskipped++;
    snprintf(skipped, sizeof(skipped), "%s", reason);
}


/* the load fails, adds nothing, and err contains reason */

static int
test_fails(const char *text, const char *pem_kid, const char *reason)
{
    int  rc;

    rc = test_load(text, pem_kid);

    if (rc != -1 || nkeys != 0 || keys[0].pkey != NULL) {
        diag("rc %d, nkeys %zu", rc, nkeys);
        return 0;
    }

    if (strstr(err, reason) == NULL) {
        diag("error \"%s\", expected \"%s\"", err, reason);
        return 0;
    }

    return 1;
}


/*
 * RSA-8192 is the largest key, 65537 the only exponent (authz_key.h);
 * the keys over the limits are made from hand-made n and e, which
 * need not be valid for signing to be refused
 */

static void
test_caps(EVP_PKEY *a)
{
    int        i, rc;
    char      *s, *t, *n, *big, kid[16], *jwk[AUTHZ_MAX_KEYS + 2];
    EVP_PKEY  *k8192, *k8193, *k16384, *e3, *e65539, *e32;

    k8192 = test_rsa_made(8192, 65537);
    k8193 = test_rsa_made(8193, 65537);
    k16384 = test_rsa_made(16384, 65537);
    e3 = test_rsa_made(2048, 3);
    e65539 = test_rsa_made(2048, 65539);
    e32 = test_rsa_made(2048, 4294967295UL);

    /* PEM: the key of the file is refused */

    s = test_pem_spki(k8192);
    rc = test_load(s, "big");
    ok(rc == 0 && nkeys == 1 && EVP_PKEY_get_bits(keys[0].pkey) == 8192,
       "8192-bit spki accepted");
    free(s);

    s = test_pem_spki(k8193);
    ok(test_fails(s, NULL, "RSA key of 8193 bits, at most 8192 allowed"),
       "8193-bit spki refused");
    free(s);

    s = test_pem_pkcs1(k8193);
    ok(test_fails(s, "k", "RSA key of 8193 bits, at most 8192 allowed"),
       "8193-bit pkcs#1 refused");
    free(s);

    s = test_pem_spki(k16384);
    ok(test_fails(s, NULL, "RSA key of 16384 bits, at most 8192 allowed"),
       "16384-bit spki refused");
    free(s);

    s = test_pem_spki(e3);
    ok(test_fails(s, NULL, "RSA public exponent is not 65537"),
       "e = 3 spki refused");
    free(s);

    s = test_pem_spki(e65539);
    ok(test_fails(s, NULL, "RSA public exponent is not 65537"),
       "e = 65539 spki refused");
    free(s);

    s = test_pem_spki(e32);
    ok(test_fails(s, NULL, "RSA public exponent is not 65537"),
       "e = 2^32 - 1 spki refused");
    free(s);

    s = test_pem_spki(a);
    n = test_pem_spki(k8193);
    t = test_cat(s, n);
    ok(test_fails(t, NULL, "PEM block #2: RSA key of 8193 bits"),
       "pem file with a good key and an 8193-bit key refused");
    free(s);
    free(n);
    free(t);

    /* a single JWK: refused */

    s = test_jwk(k8192, "big", "");
    rc = test_load(s, NULL);
    ok(rc == 0 && nkeys == 1, "8192-bit jwk accepted");
    free(s);

    s = test_jwk(k8193, "big", "");
    ok(test_fails(s, NULL, "key \"big\": RSA key of 8193 bits, at most "
                  "8192 allowed"), "8193-bit jwk refused");
    ok(nskipped == 0, "a single jwk is not skipped");
    free(s);

    s = test_jwk(e3, "e3", "");
    ok(test_fails(s, NULL, "key \"e3\": RSA public exponent is not 65537"),
       "e = 3 jwk refused");
    free(s);

    /* a JWKS: skipped, each with its reason, the others loaded */

    jwk[0] = test_jwk(k8193, "big", "");
    jwk[1] = test_jwk(a, "a", "");
    jwk[2] = test_jwk(k16384, "huge", "");
    s = test_jwks(jwk, 3);
    rc = test_load(s, NULL);
    ok(rc == 0 && nkeys == 1 && strcmp(keys[0].kid, "a") == 0
       && nskipped == 2 && err[0] == '\0',
       "jwks: 8193 and 16384 bits skipped, the 2048-bit key loaded");
    ok(strstr(skipped, "key \"huge\": RSA key of 16384 bits, at most 8192 "
              "allowed") != NULL, "jwks: the reason of the last skip");
    free(s);

    s = test_jwks(jwk, 1);
    ok(test_skips(s, "key \"big\": RSA key of 8193 bits"),
       "jwks of an 8193-bit key only: no usable key");
    free(s);

    for (i = 0; i < 3; i++) {
        free(jwk[i]);
    }

    jwk[0] = test_jwk(e65539, "e", "");
    jwk[1] = test_jwk(k8192, "k", "");
    s = test_jwks(jwk, 2);
    rc = test_load(s, NULL);
    ok(rc == 0 && nkeys == 1 && strcmp(keys[0].kid, "k") == 0
       && nskipped == 1
       && strstr(skipped, "key \"e\": RSA public exponent is not 65537")
          != NULL, "jwks: e = 65539 skipped, 8192 bits loaded");
    free(s);
    free(jwk[0]);
    free(jwk[1]);

    /* 65537 with a leading zero byte is 65537 (as n may have one) */

    n = test_bn_b64url(a, OSSL_PKEY_PARAM_RSA_N, 0);
    s = test_jwks_fmt(n, "AAEAAQ", "");
    rc = test_load(s, NULL);
    ok(rc == 0 && nkeys == 1, "e = 65537 with a leading zero accepted");
    free(s);

    /* "n" of more than 4096 characters: over the limit, skipped */

    big = malloc(4098);
    if (big == NULL) {
        test_fatal("malloc()");
    }

    memset(big, 'w', 4097);
    big[4097] = '\0';
    s = test_jwks_fmt(big, "AQAB", "");
    ok(test_skips(s, "\"n\" is too long"), "n of 4097 characters skipped");
    free(s);

    s = test_jwks_fmt(n, big, "");
    ok(test_skips(s, "\"e\" is too long"), "e of 4097 characters skipped");
    free(s);
    free(big);
    free(n);

    /* skipped keys do not count against the 64 */

    for (i = 0; i < AUTHZ_MAX_KEYS; i++) {
        snprintf(kid, sizeof(kid), "k%d", i);
        jwk[i + 1] = test_jwk(a, kid, "");
    }

    jwk[0] = test_jwk(k8193, "big", "");
    s = test_jwks(jwk, AUTHZ_MAX_KEYS + 1);
    rc = test_load(s, NULL);
    ok(rc == 0 && nkeys == AUTHZ_MAX_KEYS && nskipped == 1,
       "64 keys and a skipped 8193-bit key");
    free(s);

    for (i = 0; i <= AUTHZ_MAX_KEYS; i++) {
        free(jwk[i]);
    }

    /* no callback: skipped all the same */

    jwk[0] = test_jwk(k8193, "big", "");
    jwk[1] = test_jwk(a, "a", "");
    s = test_jwks(jwk, 2);
    test_reset();
    rc = authz_key_load((unsigned char *) s, strlen(s), NULL, keys, &nkeys,
                        AUTHZ_MAX_KEYS, err, sizeof(err), NULL, NULL);
    ok(rc == 0 && nkeys == 1, "skipped without a callback");
    free(s);
    free(jwk[0]);
    free(jwk[1]);

    test_reset();

    EVP_PKEY_free(k8192);
    EVP_PKEY_free(k8193);
    EVP_PKEY_free(k16384);
    EVP_PKEY_free(e3);
    EVP_PKEY_free(e65539);
    EVP_PKEY_free(e32);
}


/* a public RSA key of exactly bits bits (odd, not a product of primes) */

static EVP_PKEY *
test_rsa_made(int bits, unsigned long e)
{
    int              len;
    BIGNUM          *bn_n, *bn_e;
    EVP_PKEY        *pkey;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *ctx;
    unsigned char   *buf;
    OSSL_PARAM_BLD  *bld;

    len = (bits + 7) / 8;

    buf = malloc(len);
    if (buf == NULL) {
        test_fatal("malloc()");
    }

    memset(buf, 0x5a, len);
    buf[0] = (unsigned char) (1 << ((bits - 1) % 8));
    buf[len - 1] |= 0x01;

    bn_n = BN_bin2bn(buf, len, NULL);
    bn_e = BN_new();
    bld = OSSL_PARAM_BLD_new();
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    pkey = NULL;
    params = NULL;

    if (bn_n == NULL || bn_e == NULL || bld == NULL || ctx == NULL
        || BN_num_bits(bn_n) != bits
        || BN_set_word(bn_e, e) != 1
        || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1
        || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1
        || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL
        || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        test_fatal("hand-made RSA key");
    }

    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_e);
    BN_free(bn_n);
    free(buf);

    return pkey;
}


static EVP_PKEY *
test_rsa_pss_gen(void)
{
    EVP_PKEY      *pkey;
    EVP_PKEY_CTX  *ctx;

    pkey = NULL;

    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);

    if (ctx == NULL
        || EVP_PKEY_keygen_init(ctx) != 1
        || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) != 1
        || EVP_PKEY_keygen(ctx, &pkey) != 1)
    {
        pkey = NULL;
    }

    EVP_PKEY_CTX_free(ctx);

    return pkey;
}


static int
test_fp_eq(const unsigned char *a, const unsigned char *b)
{
    return memcmp(a, b, 32) == 0;
}


/* the base64url character of value + 1 (sets the lowest bit) */

static char
test_b64_low_bit(char c)
{
    const char         *p;
    static const char   alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    p = strchr(alphabet, c);

    return p[1];
}
