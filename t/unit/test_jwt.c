/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * unit tests of authz_jwt.c: JWS compact shape, strict base64url, JOSE
 * header, payload, RSA signatures (RS*, PS*), key selection by kid (at
 * most two candidate keys, counted), the trusted-fingerprint shortcut,
 * the registered claims, and payloads parsed after the signature.
 *
 * cc -std=c99 -Wall -Wextra -Werror -g -O1 -fsanitize=address,undefined \
 *     -fno-sanitize-recover=all -I ngx_http_authz_module \
 *     t/unit/test_jwt.c ngx_http_authz_module/authz_*.c \
 *     -ljansson -lcrypto -o /tmp/test_jwt && /tmp/test_jwt
 *
 * Two RSA-2048 keys are generated at start; tokens are built here from
 * exact JSON text and signed here.  Every token handed to the code under
 * test is copied into a heap buffer of its exact size, without a
 * terminating NUL, and the scratch buffer is exactly as long as the token,
 * so that AddressSanitizer catches a read or a write past either.
 */


#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "authz_jwt.h"
#include "tap.h"
#include "mem.h"


#define NOW       ((time_t) 1795320000)

#define H_K1      "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}"
#define H_K2      "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k2\"}"
#define H_NOKID   "{\"alg\":\"RS256\",\"typ\":\"JWT\"}"
#define PAY       "{\"sub\":\"alice\",\"exp\":1795320900}"
#define PAY_NUL   "{\"sub\":\"a\0b\",\"exp\":1795320900}"

#define ALL_ALGS  (AUTHZ_ALG_RS256 | AUTHZ_ALG_RS384 | AUTHZ_ALG_RS512     \
                   | AUTHZ_ALG_PS256 | AUTHZ_ALG_PS384 | AUTHZ_ALG_PS512)


enum {
    S_RS256, S_RS384, S_RS512, S_PS256, S_PS384, S_PS512, S_HS256
};


static authz_key_t         keys[2];
static EVP_PKEY           *priv[2];
static unsigned char      *pub_pem;       /* key 1's PEM: the HS256 secret */
static size_t              pub_pem_len;

/* what the last run() left in the token */
static const authz_key_t  *last_key;
static unsigned            last_nverify;
static int                 last_deferred;
static int                 last_has_exp;
static double              last_exp;
static int                 missing_detail;
static int                 pss_saltlen = RSA_PSS_SALTLEN_DIGEST;

/* every string the tests build, freed at the end */


static char *cat(const char *first, ...);
static char *fmt(const char *f, ...);
static char *rep(const char *unit, size_t n);
static char *pad(const char *json, size_t mod3);
static char *b64(const void *src, size_t len);
static char *b64s(const char *s);
static size_t sign(int mode, int k, const char *input, unsigned char *sig);
static char *token(const char *hdr, const char *pay, int mode, int k);
static char *rs(const char *hdr, const char *pay, int k);
static char *rs_n(const char *hdr, size_t hlen, const char *pay, size_t plen);
static char *token_sig(const char *hdr, const char *pay,
    const unsigned char *sig, size_t n);
static char *bump_last(const char *part);
static char *drop_last(const char *part);
static authz_verify_conf_t conf_new(void);
static void test_typ(void);

/* the one key set of the configurations made by conf_new() */
static authz_key_set_t  test_set;

static authz_err_e run_full(const char *t, size_t len,
    const authz_verify_conf_t *conf, time_t now,
    const unsigned char *trusted);
static authz_err_e run(const char *t, const authz_verify_conf_t *conf);
static authz_err_e run_glue(const char *t, const authz_verify_conf_t *conf,
    time_t now, const unsigned char *trusted);
static char *sized(const char *head, size_t len, const char *tail);
static authz_err_e claims(const char *pay, const authz_verify_conf_t *conf,
    time_t now);
static const char *ename(authz_err_e e);
static const char *show(const char *s);
static void keys_init(void);
static void keys_free(void);

static void test_keys(void);
static void test_candidates(void);
static void test_candidates_kid(void);
static void test_deferred(void);
static void test_deferred_order(void);
static void test_size(void);
static void test_shape(void);
static void test_base64url_parts(void);
static void test_base64url_decode(void);
static void test_header(void);
static void test_depth(void);
static void test_payload(void);
static void test_signature(void);
static void test_exp(void);
static void test_nbf_iat(void);
static void test_iss_aud(void);
static void test_alg_parse(void);
static void test_json_depth_ok(void);
static void test_strerror(void);


#define is_err(got, want, ...)                                             \
    do {                                                                   \
        authz_err_e  got_ = (got);                                         \
        if (!ok(got_ == (want), __VA_ARGS__)) {                            \
            diag("got %s, want %s", ename(got_), ename(want));             \
        }                                                                  \
    } while (0)


int
main(void)
{
    keys_init();

    test_keys();
    test_candidates();
    test_candidates_kid();
    test_size();
    test_shape();
    test_base64url_parts();
    test_base64url_decode();
    test_header();
    test_depth();
    test_payload();
    test_signature();
    test_exp();
    test_nbf_iat();
    test_iss_aud();
    test_deferred();
    test_deferred_order();
    test_alg_parse();
    test_json_depth_ok();
    test_strerror();
    test_typ();

    ok(missing_detail == 0, "every error sets tok->detail (%d did not)",
       missing_detail);

    keys_free();
    gc_free();

    return done_testing();
}


static void
test_keys(void)
{
    authz_token_t        tok;
    unsigned char        junk[256];
    authz_key_t          nokid[2], longkid[1];
    authz_verify_conf_t  c;
    char                *t, *kid;

    c = conf_new();

    is_err(run(rs(H_K1, PAY, 0), &c), AUTHZ_OK, "RS256, kid k1, key 1");
    ok(last_key == &keys[0], "tok.key is key 1");
    is_err(run(rs(H_K2, PAY, 1), &c), AUTHZ_OK, "RS256, kid k2, key 2");
    ok(last_key == &keys[1], "tok.key is key 2");
    is_err(run(rs(H_NOKID, PAY, 0), &c), AUTHZ_OK, "no kid, signed by key 1");
    ok(last_key == &keys[0], "no kid: tok.key is key 1");
    is_err(run(rs(H_NOKID, PAY, 1), &c), AUTHZ_OK,
           "no kid, signed by key 2: keys tried in order");
    ok(last_key == &keys[1], "no kid: tok.key is key 2");
    is_err(run(rs(H_K2, PAY, 0), &c), AUTHZ_ERR_SIGNATURE,
           "kid k2 but signed by key 1");
    ok(last_key == NULL, "no tok.key after a failure");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k3\"}", PAY, 0), &c),
           AUTHZ_ERR_KID, "unknown kid, although key 1 would verify");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"K1\"}", PAY, 0), &c),
           AUTHZ_ERR_KID, "kid compared case-sensitively");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1 \"}", PAY, 0), &c),
           AUTHZ_ERR_KID, "kid with a trailing space is another kid");

    /* configured keys without kid */

    nokid[0] = keys[0];
    nokid[1] = keys[1];
    nokid[0].kid_len = 0;
    nokid[0].kid[0] = '\0';
    nokid[1].kid_len = 0;
    nokid[1].kid[0] = '\0';
    test_set.keys = nokid;

    is_err(run(rs(H_K1, PAY, 0), &c), AUTHZ_OK,
           "token kid, no key has a kid: tried against the keys");
    ok(last_key == &nokid[0] && last_nverify == 1,
       "kid fallback: key 1 verified, one RSA operation");
    is_err(run(rs(H_K1, PAY, 1), &c), AUTHZ_OK,
           "token kid, no key has a kid: second key verifies");
    ok(last_key == &nokid[1] && last_nverify == 2,
       "kid fallback: key 2 verified, two RSA operations");
    is_err(run(rs(H_NOKID, PAY, 1), &c), AUTHZ_OK,
           "no kid on either side: second key verifies");
    ok(last_key == &nokid[1], "tok.key points into conf->keys");

    test_set.nkeys = 0;
    is_err(run(rs(H_NOKID, PAY, 0), &c), AUTHZ_ERR_SIGNATURE,
           "no keys at all");

    /* the longest kid */

    kid = rep("a", AUTHZ_MAX_KID_LEN);
    longkid[0] = keys[0];
    memcpy(longkid[0].kid, kid, AUTHZ_MAX_KID_LEN + 1);
    longkid[0].kid_len = AUTHZ_MAX_KID_LEN;
    test_set.keys = longkid;
    test_set.nkeys = 1;

    is_err(run(rs(fmt("{\"alg\":\"RS256\",\"kid\":\"%s\"}", kid), PAY, 0), &c),
           AUTHZ_OK, "256-byte kid of a configured key");

    /* the trusted fingerprint skips the RSA operation */

    c = conf_new();
    memset(junk, 0x5a, sizeof(junk));

    t = token_sig(H_K1, PAY, junk, sizeof(junk));
    is_err(run_full(t, strlen(t), &c, NOW, NULL), AUTHZ_ERR_SIGNATURE,
           "garbage signature, nothing trusted");
    is_err(run_full(t, strlen(t), &c, NOW, keys[0].fingerprint), AUTHZ_OK,
           "garbage signature, kid's key trusted: no RSA");
    ok(last_key == &keys[0], "trusted: tok.key is the kid's key");
    is_err(run_full(t, strlen(t), &c, NOW, keys[1].fingerprint),
           AUTHZ_ERR_SIGNATURE, "garbage signature, another key trusted");

    t = token_sig(H_NOKID, PAY, junk, sizeof(junk));
    is_err(run_full(t, strlen(t), &c, NOW, keys[1].fingerprint), AUTHZ_OK,
           "no kid, key 2 trusted: key 1 fails, key 2 accepted");
    ok(last_key == &keys[1], "trusted without kid: tok.key is key 2");

    t = rs(H_K1, "{\"sub\":\"alice\",\"exp\":1}", 0);
    is_err(run_full(t, strlen(t), &c, NOW, keys[0].fingerprint),
           AUTHZ_ERR_EXPIRED, "trusted still checks the claims");

    /* freeing is always safe */

    memset(&tok, 0, sizeof(authz_token_t));
    authz_token_free(&tok);
    authz_token_free(&tok);
    ok(tok.payload == NULL, "authz_token_free on a zeroed token, twice");
}


/*
 * SPEC 10: whatever the key set, a token costs at most two RSA
 * operations; tok.nverify counts them
 */

static void
test_candidates(void)
{
    size_t               i;
    char                *t, *forged;
    authz_key_t          many[AUTHZ_MAX_KEYS];
    unsigned char        junk[256];
    authz_verify_conf_t  c;

    c = conf_new();
    memset(junk, 0x5a, sizeof(junk));

    /* 64 keys with kids "a", "b", ...: key 2 only at the third place */

    for (i = 0; i < AUTHZ_MAX_KEYS; i++) {
        many[i] = keys[(i == 2 || i == AUTHZ_MAX_KEYS - 1) ? 1 : 0];
        many[i].kid_len = (size_t) sprintf(many[i].kid, "%c%zu",
                                           (char) ('a' + i % 26), i);
    }

    test_set.keys = many;
    test_set.nkeys = AUTHZ_MAX_KEYS;

    t = rs(H_NOKID, PAY, 1);
    is_err(run(t, &c), AUTHZ_ERR_SIGNATURE,
           "no kid, 64 keys, signer is the third: not tried");
    ok(last_nverify == 2, "no kid, 64 keys: two RSA operations (%u)",
       last_nverify);
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"c2\"}", PAY, 1), &c),
           AUTHZ_OK, "the same signer named by its kid: verifies");
    ok(last_key == &many[2] && last_nverify == 1,
       "kid: the key of that kid only, one RSA operation");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"l63\"}", PAY, 1), &c),
           AUTHZ_OK, "the 64th key by its kid");
    ok(last_key == &many[AUTHZ_MAX_KEYS - 1] && last_nverify == 1,
       "the 64th key: one RSA operation");
    is_err(run(rs(H_NOKID, PAY, 0), &c), AUTHZ_OK,
           "no kid, signer is the first key");
    ok(last_key == &many[0] && last_nverify == 1,
       "no kid, first key: one RSA operation");

    forged = token_sig(H_NOKID, PAY, junk, sizeof(junk));
    is_err(run(forged, &c), AUTHZ_ERR_SIGNATURE, "forged, no kid, 64 keys");
    ok(last_nverify == 2, "forged, no kid, 64 keys: two RSA operations");
    is_err(run_glue(forged, &c, NOW, NULL), AUTHZ_ERR_SIGNATURE,
           "forged, no kid, 64 keys, the glue's order");
    ok(last_nverify == 2, "the glue's order: two RSA operations");

    forged = token_sig("{\"alg\":\"RS256\",\"kid\":\"a0\"}", PAY, junk,
                       sizeof(junk));
    is_err(run(forged, &c), AUTHZ_ERR_SIGNATURE, "forged, kid of key 1");
    ok(last_nverify == 1, "forged with a kid: one RSA operation");

    /* the trusted shortcut is for candidates only */

    is_err(run_full(t, strlen(t), &c, NOW, many[2].fingerprint),
           AUTHZ_ERR_SIGNATURE,
           "no kid, the third key trusted: not a candidate");
    ok(last_nverify == 2, "untrusted candidates tried: two RSA operations");
    is_err(run_full(forged, strlen(forged), &c, NOW, many[0].fingerprint),
           AUTHZ_OK, "forged, kid of key 1, key 1 trusted");
    ok(last_nverify == 0, "trusted: no RSA operation");

    /* a signature of another length than the key's: no RSA operation */

    is_err(run(token_sig(H_NOKID, PAY, junk, 255), &c), AUTHZ_ERR_SIGNATURE,
           "255-byte signature, 2048-bit keys");
    ok(last_nverify == 0, "wrong signature length: no RSA operation");

    /* two keys with one kid (the glue refuses it; the core still caps) */

    for (i = 0; i < 4; i++) {
        many[i] = keys[i == 3 ? 1 : 0];
        memcpy(many[i].kid, "dup", 4);
        many[i].kid_len = 3;
    }

    test_set.nkeys = 4;
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"dup\"}", PAY, 1), &c),
           AUTHZ_ERR_SIGNATURE, "four keys share a kid: two tried");
    ok(last_nverify == 2, "shared kid: two RSA operations");
}


/* a kid that no key has falls back to the keys without kid, two at most */

static void
test_candidates_kid(void)
{
    size_t               i;
    char                *t;
    authz_key_t          set[5];
    unsigned char        junk[256];
    authz_verify_conf_t  c;

    c = conf_new();
    memset(junk, 0x5a, sizeof(junk));

    /* k1 (kid "k1"), then without kid: key 2, key 2, key 1, key 1 */

    set[0] = keys[0];

    for (i = 1; i < 5; i++) {
        set[i] = keys[i < 3 ? 1 : 0];
        set[i].kid_len = 0;
        set[i].kid[0] = '\0';
    }

    test_set.keys = set;
    test_set.nkeys = 5;

    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"idp-7\"}", PAY, 1), &c),
           AUTHZ_OK, "unknown kid, a key without kid verifies");
    ok(last_key == &set[1] && last_nverify == 1,
       "unknown kid: the first key without kid");
    t = rs("{\"alg\":\"RS256\",\"kid\":\"idp-7\"}", PAY, 0);
    is_err(run(t, &c), AUTHZ_ERR_SIGNATURE,
           "unknown kid, signer is the third key without kid");
    ok(last_nverify == 2, "unknown kid: two keys without kid tried");
    is_err(run(rs(H_K2, PAY, 1), &c), AUTHZ_OK,
           "kid k2, no key has it: key 2 without kid verifies");

    /* a kid a key has selects that key only */

    is_err(run(rs(H_K1, PAY, 1), &c), AUTHZ_ERR_SIGNATURE,
           "kid k1 signed by key 2: no fallback to keys without kid");
    ok(last_nverify == 1, "a known kid: one RSA operation");

    /* no kid: the first two keys in order, whatever their kid */

    is_err(run(rs(H_NOKID, PAY, 0), &c), AUTHZ_OK, "no kid, key 1 first");
    ok(last_key == &set[0], "no kid: the key with kid k1 is first");
    is_err(run(rs(H_NOKID, PAY, 1), &c), AUTHZ_OK, "no kid, key 2 second");
    ok(last_key == &set[1] && last_nverify == 2, "no kid: second key");

    /* every key has a kid: an unknown kid costs nothing */

    c = conf_new();
    is_err(run(token_sig("{\"alg\":\"RS256\",\"kid\":\"k9\"}", PAY, junk,
                         sizeof(junk)), &c),
           AUTHZ_ERR_KID, "unknown kid, every key has a kid");
    ok(last_nverify == 0, "unknown kid: no RSA operation");
}


static void
test_size(void)
{
    authz_verify_conf_t  c;
    char                *t;
    size_t               len;

    c = conf_new();
    t = rs(H_K1, PAY, 0);
    len = strlen(t);

    c.max_size = len - 1;
    is_err(run(t, &c), AUTHZ_ERR_SIZE, "len == max_size + 1");

    c.max_size = len;
    is_err(run(t, &c), AUTHZ_OK, "len == max_size");

    c.max_size = 16;
    is_err(run(rep("x", 17), &c), AUTHZ_ERR_SIZE,
           "size is checked before the shape");
    is_err(run(rep("x", 16), &c), AUTHZ_ERR_MALFORMED,
           "not oversize: shape error");
}


static void
test_shape(void)
{
    char                 *h, *p, *s, *input;
    size_t                n;
    unsigned char         sig[512];
    authz_verify_conf_t   c;

    c = conf_new();

    h = b64s(H_K1);
    p = b64s(PAY);
    input = cat(h, ".", p, NULL);
    n = sign(S_RS256, 0, input, sig);
    s = b64(sig, n);

    is_err(run(cat(h, ".", p, ".", s, NULL), &c), AUTHZ_OK, "the parts: ok");
    is_err(run("", &c), AUTHZ_ERR_MALFORMED, "empty token");
    is_err(run(h, &c), AUTHZ_ERR_MALFORMED, "no dot");
    is_err(run(cat(h, ".", p, NULL), &c), AUTHZ_ERR_MALFORMED, "one dot");
    is_err(run(cat(h, ".", p, ".", s, ".", s, NULL), &c),
           AUTHZ_ERR_MALFORMED, "three dots");
    is_err(run(cat(".", p, ".", s, NULL), &c), AUTHZ_ERR_MALFORMED,
           "empty header part");
    is_err(run(cat(h, "..", s, NULL), &c), AUTHZ_ERR_MALFORMED,
           "empty payload part");
    is_err(run(cat(h, ".", p, ".", NULL), &c), AUTHZ_ERR_MALFORMED,
           "empty signature part");
    is_err(run(cat(".", h, ".", p, ".", s, NULL), &c), AUTHZ_ERR_MALFORMED,
           "leading dot");
    is_err(run(cat(h, ".", p, ".", s, ".", NULL), &c), AUTHZ_ERR_MALFORMED,
           "trailing dot");
    is_err(run("..", &c), AUTHZ_ERR_MALFORMED, "two dots only");
    is_err(run(".", &c), AUTHZ_ERR_MALFORMED, "one dot only");
}


static void
test_base64url_parts(void)
{
    int                   i, j;
    char                 *part[3], *bad, *t, *input, first[2];
    size_t                n;
    unsigned char         sig[512];
    authz_verify_conf_t   c;

    static const char    *names[3] = { "header", "payload", "signature" };

    c = conf_new();
    first[1] = '\0';

    /*
     * parts whose encoded length is 2 mod 4: 4 unused low bits in the
     * last character (a 256-byte signature already is)
     */

    part[0] = b64s(pad(H_K1, 1));
    part[1] = b64s(pad(PAY, 1));
    input = cat(part[0], ".", part[1], NULL);
    n = sign(S_RS256, 0, input, sig);
    part[2] = b64(sig, n);

    ok(strlen(part[0]) % 4 == 2 && strlen(part[1]) % 4 == 2
       && strlen(part[2]) % 4 == 2, "test parts are 2 mod 4 long");

    is_err(run(cat(input, ".", part[2], NULL), &c), AUTHZ_OK,
           "padded JSON, canonical parts: ok");

    for (i = 0; i < 3; i++) {
        for (j = 0; j < 7; j++) {
            bad = part[i];

            switch (j) {
            case 0:
                bad = cat(part[i], "==", NULL);
                break;
            case 1:
                bad = cat("+", part[i] + 1, NULL);
                break;
            case 2:
                bad = cat("/", part[i] + 1, NULL);
                break;
            case 3:
                first[0] = part[i][0];
                bad = cat(first, " ", part[i] + 1, NULL);
                break;
            case 4:
                bad = bump_last(part[i]);
                break;
            case 5:
                bad = drop_last(part[i]);
                break;
            case 6:
                bad = cat(part[i], "=", NULL);
                break;
            }

            t = cat(i == 0 ? bad : part[0], ".",
                    i == 1 ? bad : part[1], ".",
                    i == 2 ? bad : part[2], NULL);

            is_err(run(t, &c), AUTHZ_ERR_MALFORMED, "%s: %s", names[i],
                   j == 0 ? "'==' padding"
                   : j == 1 ? "'+'"
                   : j == 2 ? "'/'"
                   : j == 3 ? "a space"
                   : j == 4 ? "non-canonical trailing bits"
                   : j == 5 ? "length 1 mod 4"
                   : "'=' padding (length 3 mod 4)");
        }
    }

    /* 3 mod 4: 2 unused low bits */

    part[1] = b64s(pad(PAY, 2));
    ok(strlen(part[1]) % 4 == 3, "payload part is 3 mod 4 long");
    input = cat(part[0], ".", part[1], NULL);
    n = sign(S_RS256, 0, input, sig);
    part[2] = b64(sig, n);

    is_err(run(cat(input, ".", part[2], NULL), &c), AUTHZ_OK,
           "payload 3 mod 4, canonical: ok");
    is_err(run(cat(part[0], ".", bump_last(part[1]), ".", part[2], NULL), &c),
           AUTHZ_ERR_MALFORMED, "payload 3 mod 4, non-canonical last char");

    /* a NUL byte inside the token */

    t = cat(input, ".", part[2], NULL);
    n = strlen(t);
    t[n - 5] = '\0';
    is_err(run_full(t, n, &c, NOW, NULL), AUTHZ_ERR_MALFORMED,
           "NUL byte in the signature part");

    t = cat(input, ".", part[2], NULL);
    t[3] = (char) 0xc3;
    is_err(run(t, &c), AUTHZ_ERR_MALFORMED, "high byte in the header part");
}


static void
test_base64url_decode(void)
{
    size_t          i, len;
    ptrdiff_t       n;
    unsigned char  *src, *dst;

    static const struct {
        const char  *in;
        const char  *out;
        int          outlen;
    } vec[] = {
        /* RFC 4648 section 10, without padding */
        { "", "", 0 },
        { "Zg", "f", 1 },
        { "Zm8", "fo", 2 },
        { "Zm9v", "foo", 3 },
        { "Zm9vYg", "foob", 4 },
        { "Zm9vYmE", "fooba", 5 },
        { "Zm9vYmFy", "foobar", 6 },
        /* the two url-safe characters: 0xfb 0xff is "+/8=" in base64 */
        { "-_8", "\xfb\xff", 2 },
        { "____", "\xff\xff\xff", 3 },
        { "AAAA", "\0\0\0", 3 },
        { NULL, NULL, 0 }
    };

    static const char  *bad[] = {
        "Zg==", "Zm8=", "Zg=", "Z", "Zm9vY", "Zh", "Zm9", "+/8", "Zm+v",
        "Zm/v", "Zm 9", " Zm9v", "Zm9v\n", "Zm9v.", "Zm9v!", NULL
    };

    for (i = 0; vec[i].in != NULL; i++) {
        len = strlen(vec[i].in);
        src = dup_exact(vec[i].in, len);
        dst = xmalloc(len);
        n = authz_base64url_decode(dst, src, len);

        ok(n == vec[i].outlen && memcmp(dst, vec[i].out, vec[i].outlen) == 0,
           "decode \"%s\"", vec[i].in);

        free(src);
        free(dst);
    }

    for (i = 0; bad[i] != NULL; i++) {
        len = strlen(bad[i]);
        src = dup_exact(bad[i], len);
        dst = xmalloc(len);

        ok(authz_base64url_decode(dst, src, len) == -1, "reject \"%s\"",
           show(bad[i]));

        free(src);
        free(dst);
    }

    src = dup_exact("Zm\0v", 4);
    dst = xmalloc(4);
    ok(authz_base64url_decode(dst, src, 4) == -1, "reject a NUL byte");
    src[2] = (char) 0xff;
    ok(authz_base64url_decode(dst, src, 4) == -1, "reject a 0xff byte");
    src[2] = (char) 0xb9;
    ok(authz_base64url_decode(dst, src, 4) == -1, "reject a 0xb9 byte");
    free(src);
    free(dst);
}


static void
test_header(void)
{
    authz_verify_conf_t  c;

    c = conf_new();

    is_err(run(rs("not json", PAY, 0), &c), AUTHZ_ERR_MALFORMED,
           "header not JSON");
    is_err(run(rs("[\"RS256\"]", PAY, 0), &c), AUTHZ_ERR_MALFORMED,
           "header a JSON array");
    is_err(run(rs("\"RS256\"", PAY, 0), &c), AUTHZ_ERR_MALFORMED,
           "header a JSON string");
    is_err(run(rs("{\"alg\":\"RS256\"} x", PAY, 0), &c), AUTHZ_ERR_MALFORMED,
           "header with trailing garbage");
    is_err(run(rs("{\"typ\":\"JWT\",\"kid\":\"k1\"}", PAY, 0), &c),
           AUTHZ_ERR_ALG, "alg missing");
    is_err(run(rs("{\"alg\":\"none\",\"kid\":\"k1\"}", PAY, 0), &c),
           AUTHZ_ERR_ALG, "alg none");
    is_err(run(rs("{\"alg\":\"HS256\",\"kid\":\"k1\"}", PAY, 0), &c),
           AUTHZ_ERR_ALG, "alg HS256");
    is_err(run(rs("{\"alg\":\"RS256 \",\"kid\":\"k1\"}", PAY, 0), &c),
           AUTHZ_ERR_ALG, "alg \"RS256 \"");
    is_err(run(rs("{\"alg\":\"rs256\",\"kid\":\"k1\"}", PAY, 0), &c),
           AUTHZ_ERR_ALG, "alg rs256");
    is_err(run(rs("{\"alg\":\"\",\"kid\":\"k1\"}", PAY, 0), &c),
           AUTHZ_ERR_ALG, "alg empty");
    is_err(run(rs("{\"alg\":null,\"kid\":\"k1\"}", PAY, 0), &c),
           AUTHZ_ERR_ALG, "alg null");
    is_err(run(rs("{\"alg\":[\"RS256\"],\"kid\":\"k1\"}", PAY, 0), &c),
           AUTHZ_ERR_ALG, "alg an array");
    is_err(run(token("{\"alg\":\"RS384\",\"kid\":\"k1\"}", PAY, S_RS384, 0),
               &c),
           AUTHZ_ERR_ALG, "RS384 when only RS256 is allowed");

    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[\"exp\"]}",
                  PAY, 0), &c),
           AUTHZ_ERR_CRIT, "crit [\"exp\"]");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[]}", PAY, 0),
               &c),
           AUTHZ_ERR_CRIT, "crit []");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":null}", PAY, 0),
               &c),
           AUTHZ_ERR_CRIT, "crit null");

    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":1}", PAY, 0), &c),
           AUTHZ_ERR_MALFORMED, "kid a number");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":null}", PAY, 0), &c),
           AUTHZ_ERR_MALFORMED, "kid null");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"\"}", PAY, 0), &c),
           AUTHZ_ERR_MALFORMED, "kid empty");
    is_err(run(rs(fmt("{\"alg\":\"RS256\",\"kid\":\"%s\"}",
                      rep("a", AUTHZ_MAX_KID_LEN + 1)), PAY, 0), &c),
           AUTHZ_ERR_MALFORMED, "257-byte kid");
    is_err(run(rs(fmt("{\"alg\":\"RS256\",\"kid\":\"%s\"}",
                      rep("a", AUTHZ_MAX_KID_LEN)), PAY, 0), &c),
           AUTHZ_ERR_KID, "256-byte kid: length ok, unknown");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\\u0001\"}", PAY, 0), &c),
           AUTHZ_ERR_MALFORMED, "kid with a control character");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\\n\"}", PAY, 0), &c),
           AUTHZ_ERR_MALFORMED, "kid with a newline");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\\u007f\"}", PAY, 0), &c),
           AUTHZ_ERR_MALFORMED, "kid with DEL");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k\\u00e9\"}", PAY, 0), &c),
           AUTHZ_ERR_MALFORMED, "kid with a non-ASCII character");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\\u0000\"}", PAY, 0), &c),
           AUTHZ_ERR_MALFORMED, "kid with \\u0000");

    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\",\"alg\":\"RS256\"}",
                  PAY, 0), &c),
           AUTHZ_ERR_MALFORMED, "duplicate alg, same value");
    is_err(run(rs("{\"alg\":\"none\",\"kid\":\"k1\",\"alg\":\"RS256\"}",
                  PAY, 0), &c),
           AUTHZ_ERR_MALFORMED, "duplicate alg, none then RS256");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k2\",\"kid\":\"k1\"}",
                  PAY, 0), &c),
           AUTHZ_ERR_MALFORMED, "duplicate kid");

    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":1}", PAY, 0),
               &c),
           AUTHZ_ERR_MALFORMED, "typ a number");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":{}}", PAY, 0),
               &c),
           AUTHZ_ERR_MALFORMED, "typ an object");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"at+jwt\"}",
                  PAY, 0), &c),
           AUTHZ_OK, "typ at+jwt");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\","
                  "\"typ\":\"JWT\\r\\nX-Injected: 1\"}", PAY, 0), &c),
           AUTHZ_ERR_MALFORMED, "typ with CR LF");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\","
                  "\"typ\":\"at+jwt\\u007f\"}", PAY, 0), &c),
           AUTHZ_ERR_MALFORMED, "typ with DEL");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\","
                  "\"typ\":\"at+jwt; v=\\\"1\\\"\"}", PAY, 0), &c),
           AUTHZ_OK, "typ with a space and quotes");

    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\","
                  "\"jku\":\"https://evil.example/jwks\","
                  "\"x5u\":\"https://evil.example/cert\","
                  "\"jwk\":{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
                  "\"x5c\":[\"AAAA\"]}", PAY, 0), &c),
           AUTHZ_OK, "jku, x5u, jwk, x5c are ignored");
    ok(last_key == &keys[0], "jwk ignored: the configured key verified");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\",\"jwk\":{}}", PAY, 1),
               &c),
           AUTHZ_ERR_SIGNATURE, "jwk header does not bring a key");
}


static void
test_depth(void)
{
    authz_verify_conf_t  c;
    char                *h16, *h17, *p16, *p17, *o16, *o17;

    c = conf_new();

    /* the outer object is level 1 */

    h16 = cat("{\"alg\":\"RS256\",\"kid\":\"k1\",\"x\":", rep("[", 15),
              rep("]", 15), "}", NULL);
    h17 = cat("{\"alg\":\"RS256\",\"kid\":\"k1\",\"x\":", rep("[", 16),
              rep("]", 16), "}", NULL);
    p16 = cat("{\"exp\":1795320900,\"x\":", rep("[", 15), rep("]", 15), "}",
              NULL);
    p17 = cat("{\"exp\":1795320900,\"x\":", rep("[", 16), rep("]", 16), "}",
              NULL);
    o16 = cat("{\"exp\":1795320900,\"x\":", rep("{\"a\":", 15), "1",
              rep("}", 15), "}", NULL);
    o17 = cat("{\"exp\":1795320900,\"x\":", rep("{\"a\":", 16), "1",
              rep("}", 16), "}", NULL);

    is_err(run(rs(h16, PAY, 0), &c), AUTHZ_OK, "header nesting 16");
    is_err(run(rs(h17, PAY, 0), &c), AUTHZ_ERR_MALFORMED, "header nesting 17");
    is_err(run(rs(H_K1, p16, 0), &c), AUTHZ_OK, "payload nesting 16 (arrays)");
    is_err(run(rs(H_K1, p17, 0), &c), AUTHZ_ERR_MALFORMED,
           "payload nesting 17 (arrays)");
    is_err(run(rs(H_K1, o16, 0), &c), AUTHZ_OK,
           "payload nesting 16 (objects)");
    is_err(run(rs(H_K1, o17, 0), &c), AUTHZ_ERR_MALFORMED,
           "payload nesting 17 (objects)");
    is_err(run(rs(H_K1, cat("{\"exp\":1795320900,\"s\":\"", rep("[", 40),
                            "\\\"", rep("{", 40), "\"}", NULL), 0), &c),
           AUTHZ_OK, "brackets and an escaped quote inside a string");
}


static void
test_payload(void)
{
    authz_verify_conf_t  c;

    c = conf_new();

    is_err(run(rs(H_K1, "[1795320900]", 0), &c), AUTHZ_ERR_MALFORMED,
           "payload a JSON array");
    is_err(run(rs(H_K1, "\"alice\"", 0), &c), AUTHZ_ERR_MALFORMED,
           "payload a JSON string");
    is_err(run(rs(H_K1, "1795320900", 0), &c), AUTHZ_ERR_MALFORMED,
           "payload a JSON number");
    is_err(run(rs(H_K1, "null", 0), &c), AUTHZ_ERR_MALFORMED,
           "payload null");
    is_err(run(rs(H_K1, "not json", 0), &c), AUTHZ_ERR_MALFORMED,
           "payload not JSON");
    is_err(run(rs(H_K1, "{\"sub\":\"a\",\"exp\":1795320900,\"sub\":\"b\"}", 0),
               &c),
           AUTHZ_ERR_MALFORMED, "duplicate keys in the payload");
    is_err(run(rs(H_K1, "{\"sub\":\"a\\u0000b\",\"exp\":1795320900}", 0), &c),
           AUTHZ_ERR_MALFORMED, "\\u0000 inside a payload string");
    is_err(run(rs(H_K1, "{\"s\\u0000\":1,\"exp\":1795320900}", 0), &c),
           AUTHZ_ERR_MALFORMED, "\\u0000 inside a payload key");
    is_err(run(rs(H_K1, "{\"sub\":\"\xff\",\"exp\":1795320900}", 0), &c),
           AUTHZ_ERR_MALFORMED, "invalid UTF-8 in the payload");
    is_err(run(rs(H_K1, "{\"exp\":1795320900}{}", 0), &c),
           AUTHZ_ERR_MALFORMED, "trailing data after the payload");
    is_err(run(rs_n(H_K1, sizeof(H_K1) - 1, PAY "\0", sizeof(PAY)), &c),
           AUTHZ_ERR_MALFORMED, "a NUL byte after the payload object");
    is_err(run(rs_n(H_K1 "\0", sizeof(H_K1), PAY, sizeof(PAY) - 1), &c),
           AUTHZ_ERR_MALFORMED, "a NUL byte after the header object");
    is_err(run(rs_n(H_K1, sizeof(H_K1) - 1, PAY_NUL, sizeof(PAY_NUL) - 1),
               &c),
           AUTHZ_ERR_MALFORMED, "a raw NUL byte inside a payload string");
    is_err(run(rs(H_K1, "{\"exp\":1e400}", 0), &c), AUTHZ_ERR_MALFORMED,
           "exp 1e400 (overflows a double)");
    is_err(run(rs(H_K1, "{}", 0), &c), AUTHZ_ERR_NO_EXP,
           "empty object payload: only exp missing");
}


static void
test_signature(void)
{
    char                *t, *input;
    size_t               n, i;
    unsigned char        sig[512], hmac[EVP_MAX_MD_SIZE];
    unsigned int         hlen;
    authz_verify_conf_t  c;

    static const struct {
        int          mode;
        const char  *alg;
        unsigned     bit;
    } algs[] = {
        { S_RS256, "RS256", AUTHZ_ALG_RS256 },
        { S_RS384, "RS384", AUTHZ_ALG_RS384 },
        { S_RS512, "RS512", AUTHZ_ALG_RS512 },
        { S_PS256, "PS256", AUTHZ_ALG_PS256 },
        { S_PS384, "PS384", AUTHZ_ALG_PS384 },
        { S_PS512, "PS512", AUTHZ_ALG_PS512 },
    };

    c = conf_new();

    /* a flipped bit in the signature, one changed claim */

    input = cat(b64s(H_K1), ".", b64s(PAY), NULL);
    n = sign(S_RS256, 0, input, sig);
    sig[100] ^= 0x01;
    is_err(run(cat(input, ".", b64(sig, n), NULL), &c), AUTHZ_ERR_SIGNATURE,
           "one flipped bit in the signature");
    sig[100] ^= 0x01;
    is_err(run(cat(input, ".", b64(sig, n), NULL), &c), AUTHZ_OK,
           "bit restored: ok");
    is_err(run(cat(b64s(H_K1), ".",
                   b64s("{\"sub\":\"admin\",\"exp\":1795320900}"), ".",
                   b64(sig, n), NULL), &c),
           AUTHZ_ERR_SIGNATURE, "payload changed after signing");
    is_err(run(cat(b64s("{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}"),
                   ".", b64s(PAY), ".", b64(sig, n), NULL), &c),
           AUTHZ_ERR_SIGNATURE, "header re-serialized after signing");

    is_err(run(cat(input, ".", b64(sig, n - 1), NULL), &c),
           AUTHZ_ERR_SIGNATURE, "signature one byte short");
    sig[n] = 0;
    is_err(run(cat(input, ".", b64(sig, n + 1), NULL), &c),
           AUTHZ_ERR_SIGNATURE, "signature one byte long");
    is_err(run(cat(input, ".", b64(sig, 1), NULL), &c),
           AUTHZ_ERR_SIGNATURE, "one-byte signature");

    /* algorithm confusion: HMAC keyed with the public key PEM */

    t = cat(b64s(H_K1), ".", b64s(PAY), NULL);
    HMAC(EVP_sha256(), pub_pem, (int) pub_pem_len, (unsigned char *) t,
         strlen(t), hmac, &hlen);
    is_err(run(cat(t, ".", b64(hmac, hlen), NULL), &c), AUTHZ_ERR_SIGNATURE,
           "HMAC with the PEM as secret, alg RS256");

    c.algs = ALL_ALGS;
    is_err(run(token("{\"alg\":\"HS256\",\"kid\":\"k1\"}", PAY, S_HS256, 0),
               &c),
           AUTHZ_ERR_ALG, "HS256 with the PEM as secret, every RS/PS allowed");
    is_err(run(token("{\"alg\":\"HS256\"}", PAY, S_HS256, 0), &c),
           AUTHZ_ERR_ALG, "HS256 without kid");

    /* PS256 and the other digests */

    c.algs = AUTHZ_ALG_RS256 | AUTHZ_ALG_PS256;
    is_err(run(token("{\"alg\":\"PS256\",\"kid\":\"k2\"}", PAY, S_PS256, 1),
               &c),
           AUTHZ_OK, "PS256 when allowed");
    ok(last_key == &keys[1], "PS256: tok.key is key 2");
    is_err(run(token("{\"alg\":\"PS256\"}", PAY, S_PS256, 1), &c),
           AUTHZ_OK, "PS256 without kid, key 2");
    is_err(run(token("{\"alg\":\"PS256\",\"kid\":\"k1\"}", PAY, S_RS256, 0),
               &c),
           AUTHZ_ERR_SIGNATURE, "RS256 signature presented as PS256");
    is_err(run(token("{\"alg\":\"RS256\",\"kid\":\"k1\"}", PAY, S_PS256, 0),
               &c),
           AUTHZ_ERR_SIGNATURE, "PS256 signature presented as RS256");


    /* RFC 7518 3.5: the salt is as long as the hash */

    pss_saltlen = 0;
    is_err(run(token("{\"alg\":\"PS256\",\"kid\":\"k1\"}", PAY, S_PS256, 0),
               &c),
           AUTHZ_ERR_SIGNATURE, "PS256 with an empty salt");
    pss_saltlen = RSA_PSS_SALTLEN_DIGEST;

    c.algs = AUTHZ_ALG_RS256;
    is_err(run(token("{\"alg\":\"PS256\",\"kid\":\"k1\"}", PAY, S_PS256, 0),
               &c),
           AUTHZ_ERR_ALG, "PS256 when not allowed");

    c.algs = ALL_ALGS;

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        t = token(fmt("{\"alg\":\"%s\",\"kid\":\"k1\"}", algs[i].alg), PAY,
                  algs[i].mode, 0);

        c.algs = ALL_ALGS;
        is_err(run(t, &c), AUTHZ_OK, "%s, every algorithm allowed",
               algs[i].alg);

        c.algs = ALL_ALGS & ~algs[i].bit;
        is_err(run(t, &c), AUTHZ_ERR_ALG, "%s, all but %s allowed",
               algs[i].alg, algs[i].alg);
    }

    /* an RS384 signature under an RS256 header */

    c.algs = ALL_ALGS;
    is_err(run(token(H_K1, PAY, S_RS384, 0), &c), AUTHZ_ERR_SIGNATURE,
           "RS384 signature presented as RS256");
}


static void
test_exp(void)
{
    authz_verify_conf_t  c;

    c = conf_new();

    is_err(claims("{\"exp\":1795319000}", &c, NOW), AUTHZ_ERR_EXPIRED,
           "exp in the past");
    is_err(claims("{\"exp\":1795320000}", &c, NOW), AUTHZ_ERR_EXPIRED,
           "exp == now");
    is_err(claims("{\"exp\":1795320001}", &c, NOW), AUTHZ_OK, "exp now + 1");
    ok(last_has_exp && last_exp == 1795320001.0, "tok.has_exp, tok.exp");
    is_err(claims("{\"exp\":1795320000.5}", &c, NOW), AUTHZ_OK,
           "exp now + 0.5");
    is_err(claims("{\"exp\":1795319999.5}", &c, NOW), AUTHZ_ERR_EXPIRED,
           "exp now - 0.5");

    c.leeway = 30;
    is_err(claims("{\"exp\":1795319990}", &c, NOW), AUTHZ_OK,
           "leeway 30, exp now - 10");
    is_err(claims("{\"exp\":1795319971}", &c, NOW), AUTHZ_OK,
           "leeway 30, exp now - 29");
    is_err(claims("{\"exp\":1795319970}", &c, NOW), AUTHZ_ERR_EXPIRED,
           "leeway 30, exp now - 30");
    is_err(claims("{\"exp\":1795319969}", &c, NOW), AUTHZ_ERR_EXPIRED,
           "leeway 30, exp now - 31");
    c.leeway = 0;

    is_err(claims("{\"exp\":\"1795320900\"}", &c, NOW), AUTHZ_ERR_CLAIM,
           "exp a string");
    is_err(claims("{\"exp\":null}", &c, NOW), AUTHZ_ERR_CLAIM, "exp null");
    is_err(claims("{\"exp\":true}", &c, NOW), AUTHZ_ERR_CLAIM, "exp true");
    is_err(claims("{\"exp\":[1795320900]}", &c, NOW), AUTHZ_ERR_CLAIM,
           "exp an array");
    is_err(claims("{\"exp\":1e10}", &c, NOW), AUTHZ_OK, "exp 1e10 (a real)");
    is_err(claims("{\"exp\":-1}", &c, NOW), AUTHZ_ERR_EXPIRED, "exp -1");
    is_err(claims("{\"exp\":-1e300}", &c, NOW), AUTHZ_ERR_EXPIRED,
           "exp -1e300");
    is_err(claims("{\"exp\":0}", &c, NOW), AUTHZ_ERR_EXPIRED, "exp 0");
    is_err(claims("{\"exp\":1e300}", &c, NOW), AUTHZ_OK, "exp 1e300");
    is_err(claims("{\"exp\":9223372036854775807}", &c, NOW), AUTHZ_OK,
           "exp INT64_MAX");

    is_err(claims("{\"sub\":\"alice\"}", &c, NOW), AUTHZ_ERR_NO_EXP,
           "no exp, require_exp on");
    c.require_exp = 0;
    is_err(claims("{\"sub\":\"alice\"}", &c, NOW), AUTHZ_OK,
           "no exp, require_exp off");
    ok(!last_has_exp, "no exp: tok.has_exp is 0");
    is_err(claims("{\"exp\":1}", &c, NOW), AUTHZ_ERR_EXPIRED,
           "require_exp off still checks a present exp");
    is_err(claims("{\"exp\":\"x\"}", &c, NOW), AUTHZ_ERR_CLAIM,
           "require_exp off still checks the exp type");
}


static void
test_nbf_iat(void)
{
    authz_verify_conf_t  c;

    c = conf_new();

    is_err(claims("{\"exp\":1795320900,\"nbf\":1795320000}", &c, NOW),
           AUTHZ_OK, "nbf == now");
    is_err(claims("{\"exp\":1795320900,\"nbf\":1795320001}", &c, NOW),
           AUTHZ_ERR_NOT_YET_VALID, "nbf now + 1");
    is_err(claims("{\"exp\":1795320900,\"nbf\":1795320100}", &c, NOW),
           AUTHZ_ERR_NOT_YET_VALID, "nbf in the future");
    is_err(claims("{\"exp\":1795320900,\"nbf\":\"1795320000\"}", &c, NOW),
           AUTHZ_ERR_CLAIM, "nbf a string");
    is_err(claims("{\"exp\":1795320900,\"nbf\":1.5}", &c, NOW), AUTHZ_OK,
           "nbf 1.5");

    is_err(claims("{\"exp\":1795320900,\"iat\":1795320000}", &c, NOW),
           AUTHZ_OK, "iat == now");
    is_err(claims("{\"exp\":1795320900,\"iat\":1795320001}", &c, NOW),
           AUTHZ_ERR_IAT, "iat now + 1, no leeway");
    is_err(claims("{\"exp\":1795320900,\"iat\":1}", &c, NOW), AUTHZ_OK,
           "iat long ago");
    is_err(claims("{\"exp\":1795320900,\"iat\":\"1\"}", &c, NOW),
           AUTHZ_ERR_CLAIM, "iat a string");

    c.leeway = 30;
    is_err(claims("{\"exp\":1795320900,\"nbf\":1795320020}", &c, NOW),
           AUTHZ_OK, "leeway 30, nbf now + 20");
    is_err(claims("{\"exp\":1795320900,\"nbf\":1795320030}", &c, NOW),
           AUTHZ_OK, "leeway 30, nbf now + 30");
    is_err(claims("{\"exp\":1795320900,\"nbf\":1795320031}", &c, NOW),
           AUTHZ_ERR_NOT_YET_VALID, "leeway 30, nbf now + 31");
    is_err(claims("{\"exp\":1795320900,\"iat\":1795320030}", &c, NOW),
           AUTHZ_OK, "leeway 30, iat now + 30");
    is_err(claims("{\"exp\":1795320900,\"iat\":1795320031}", &c, NOW),
           AUTHZ_ERR_IAT, "leeway 30, iat now + 31");

    c.require_exp = 0;
    c.leeway = 0;
    is_err(claims("{\"nbf\":1795320001}", &c, NOW), AUTHZ_ERR_NOT_YET_VALID,
           "nbf checked without exp");
}


static void
test_iss_aud(void)
{
    authz_verify_conf_t  c;

    static const authz_str_t  iss[] = {
        { 27, (const unsigned char *) "https://manager.example.com" },
        { 21, (const unsigned char *) "https://other.example" },
    };

    static const authz_str_t  aud[] = {
        { 15, (const unsigned char *) "api.example.com" },
        { 9, (const unsigned char *) "api.local" },
    };

    c = conf_new();

    is_err(claims("{\"exp\":1795320900,\"iss\":42,\"aud\":42}", &c, NOW),
           AUTHZ_OK, "no issuers, no audiences: iss and aud ignored");

    c.issuers = iss;
    c.nissuers = 2;

#define ISS(v)  "{\"exp\":1795320900,\"iss\":" v "}"

    is_err(claims(ISS("\"https://manager.example.com\""), &c, NOW), AUTHZ_OK,
           "iss exact");
    is_err(claims(ISS("\"https://other.example\""), &c, NOW), AUTHZ_OK,
           "iss, second configured value");
    is_err(claims(ISS("\"https://manager.example\""), &c, NOW),
           AUTHZ_ERR_ISSUER, "iss a prefix");
    is_err(claims(ISS("\"https://manager.example.com/\""), &c, NOW),
           AUTHZ_ERR_ISSUER, "iss with a suffix");
    is_err(claims(ISS("\"https://Manager.example.com\""), &c, NOW),
           AUTHZ_ERR_ISSUER, "iss in another case");
    is_err(claims(ISS("\"\""), &c, NOW), AUTHZ_ERR_ISSUER, "iss empty");
    is_err(claims("{\"exp\":1795320900}", &c, NOW), AUTHZ_ERR_ISSUER,
           "iss missing");
    is_err(claims(ISS("1"), &c, NOW), AUTHZ_ERR_ISSUER, "iss a number");
    is_err(claims(ISS("[\"https://manager.example.com\"]"), &c, NOW),
           AUTHZ_ERR_ISSUER, "iss an array");

    c.nissuers = 0;
    c.audiences = aud;
    c.naudiences = 2;

#define AUD(v)  "{\"exp\":1795320900,\"aud\":" v "}"

    is_err(claims(AUD("\"api.example.com\""), &c, NOW), AUTHZ_OK,
           "aud a string");
    is_err(claims(AUD("\"api.local\""), &c, NOW), AUTHZ_OK,
           "aud, second configured value");
    is_err(claims(AUD("[\"x\",\"api.example.com\"]"), &c, NOW), AUTHZ_OK,
           "aud an array containing one");
    is_err(claims(AUD("[1,\"api.local\"]"), &c, NOW), AUTHZ_OK,
           "aud an array, a number and a match");
    is_err(claims(AUD("[\"x\",\"api.example.co\"]"), &c, NOW),
           AUTHZ_ERR_AUDIENCE, "aud an array without");
    is_err(claims(AUD("[]"), &c, NOW), AUTHZ_ERR_AUDIENCE,
           "aud an empty array");
    is_err(claims(AUD("\"api.example.com.evil\""), &c, NOW),
           AUTHZ_ERR_AUDIENCE, "aud with a suffix");
    is_err(claims(AUD("42"), &c, NOW), AUTHZ_ERR_AUDIENCE, "aud a number");
    is_err(claims(AUD("{\"api.example.com\":1}"), &c, NOW),
           AUTHZ_ERR_AUDIENCE, "aud an object");
    is_err(claims(AUD("[[\"api.example.com\"]]"), &c, NOW),
           AUTHZ_ERR_AUDIENCE, "aud a nested array");
    is_err(claims("{\"exp\":1795320900}", &c, NOW), AUTHZ_ERR_AUDIENCE,
           "aud missing");

    c.issuers = iss;
    c.nissuers = 2;
    is_err(claims("{\"exp\":1795320900,\"iss\":\"https://other.example\","
                  "\"aud\":[\"api.local\"]}", &c, NOW),
           AUTHZ_OK, "iss and aud both accepted");
    is_err(claims("{\"exp\":1,\"iss\":\"x\",\"aud\":\"x\"}", &c, NOW),
           AUTHZ_ERR_EXPIRED, "exp is checked before iss and aud");
}


/*
 * payloads longer than AUTHZ_CLAIMS_FIRST_LEN encoded bytes are parsed
 * only after the signature; up to it, before (an expired token costs no
 * RSA operation)
 */

static void
test_deferred(void)
{
    char                *big, *small, *t, *h, *input;
    size_t               n;
    unsigned char        sig[512], junk[256];
    authz_verify_conf_t  c;

    c = conf_new();
    memset(junk, 0x5a, sizeof(junk));

    /* 3072 JSON bytes encode to 4096 characters, 3073 to 4098 */

    small = sized("{\"exp\":1795320900,\"x\":\"", 3072, "\"}");
    big = sized("{\"exp\":1795320900,\"x\":\"", 3073, "\"}");

    is_err(run_glue(rs(H_K1, small, 0), &c, NOW, NULL), AUTHZ_OK,
           "payload of 4096 characters");
    ok(!last_deferred && last_nverify == 1, "4096: parsed first");
    is_err(run_glue(rs(H_K1, big, 0), &c, NOW, NULL), AUTHZ_OK,
           "payload of 4098 characters");
    ok(last_deferred && last_nverify == 1 && last_has_exp
       && last_exp == 1795320900.0, "4098: deferred, exp read after it");

    /* expired: no RSA operation for the small one, one for the big one */

    small = sized("{\"exp\":1,\"x\":\"", 3072, "\"}");
    big = sized("{\"exp\":1,\"x\":\"", 3073, "\"}");

    is_err(run_glue(rs(H_K1, small, 0), &c, NOW, NULL), AUTHZ_ERR_EXPIRED,
           "expired, 4096: refused");
    ok(last_nverify == 0, "expired, 4096: no RSA operation");
    is_err(run_glue(rs(H_K1, big, 0), &c, NOW, NULL), AUTHZ_ERR_EXPIRED,
           "expired, 4098: refused after the signature");
    ok(last_nverify == 1 && last_key == NULL,
       "expired, 4098: one RSA operation, no tok.key");
    is_err(run_glue(token_sig(H_K1, big, junk, sizeof(junk)), &c, NOW, NULL),
           AUTHZ_ERR_SIGNATURE, "expired and forged, 4098: bad signature");

    /* forged: the payload is never decoded nor parsed */

    t = token_sig(H_NOKID, sized("[", 5000, "]"), junk, sizeof(junk));
    is_err(run_glue(t, &c, NOW, NULL), AUTHZ_ERR_SIGNATURE,
           "forged, 6668 characters, not JSON: bad signature");
    ok(last_nverify == 2, "forged, no kid: two RSA operations");

    h = b64s(H_K1);
    t = cat(h, ".", rep("A", 4097), ".", b64(junk, sizeof(junk)), NULL);
    is_err(run_glue(t, &c, NOW, NULL), AUTHZ_ERR_SIGNATURE,
           "forged, payload of length 1 mod 4: not decoded");
    t = cat(h, ".", rep("!", 4100), ".", b64(junk, sizeof(junk)), NULL);
    is_err(run_glue(t, &c, NOW, NULL), AUTHZ_ERR_SIGNATURE,
           "forged, payload not base64url: not decoded");

    /* signed by the key, but not a valid payload: refused after it */

    input = cat(h, ".", rep("!", 4100), NULL);
    n = sign(S_RS256, 0, input, sig);
    is_err(run_glue(cat(input, ".", b64(sig, n), NULL), &c, NOW, NULL),
           AUTHZ_ERR_MALFORMED, "signed, payload not base64url");
    ok(last_nverify == 1, "signed bad payload: after one RSA operation");
    is_err(run_glue(rs(H_K1, sized("[", 4000, "]"), 0), &c, NOW, NULL),
           AUTHZ_ERR_MALFORMED, "signed, payload an array");
    is_err(run_glue(rs(H_K1, sized("{\"exp\":1795320900,\"x\":\"", 4000,
                                   "\",\"x\":1}"), 0), &c, NOW, NULL),
           AUTHZ_ERR_MALFORMED, "signed, duplicate keys");
    is_err(run_glue(rs(H_K1, sized(cat("{\"exp\":1795320900,\"x\":",
                                       rep("[", 16), "\"", NULL), 4000,
                                   cat("\"", rep("]", 16), "}", NULL)), 0),
                    &c, NOW, NULL),
           AUTHZ_ERR_MALFORMED, "signed, nesting 17");
    is_err(run_glue(rs(H_K1, sized("{\"x\":\"", 4000, "\"}"), 0), &c, NOW,
                    NULL),
           AUTHZ_ERR_NO_EXP, "signed, no exp");

    /* every claim is checked after the signature, against the glue's now */

    t = rs(H_K1, sized("{\"exp\":1795320100,\"x\":\"", 4000, "\"}"), 0);
    is_err(run_glue(t, &c, NOW, NULL), AUTHZ_OK, "exp now + 100 at NOW");
    is_err(run_glue(t, &c, NOW + 100, NULL), AUTHZ_ERR_EXPIRED,
           "exp now + 100 at NOW + 100: the now of check_claims");
    is_err(run_glue(rs(H_K1, sized("{\"exp\":1795320900,\"nbf\":1795320100,"
                                   "\"x\":\"", 4000, "\"}"), 0),
                    &c, NOW, NULL),
           AUTHZ_ERR_NOT_YET_VALID, "deferred nbf");

    c.issuers = (const authz_str_t []) {
        { 21, (const unsigned char *) "https://other.example" }
    };
    c.nissuers = 1;
    is_err(run_glue(t, &c, NOW, NULL), AUTHZ_ERR_ISSUER, "deferred iss");

    /* the trusted key skips the RSA operation, never the claims */

    c = conf_new();
    t = token_sig(H_K1, sized("{\"exp\":1795320100,\"x\":\"", 4000, "\"}"),
                  junk, sizeof(junk));
    is_err(run_glue(t, &c, NOW, keys[0].fingerprint), AUTHZ_OK,
           "deferred, key 1 trusted: no RSA operation");
    ok(last_nverify == 0 && last_key == &keys[0], "trusted: tok.key set");
    is_err(run_glue(t, &c, NOW + 100, keys[0].fingerprint),
           AUTHZ_ERR_EXPIRED, "deferred, trusted, expired");

    /* conf->claims_first moves the line */

    c.claims_first = 16;
    is_err(run_glue(rs(H_K1, "{\"exp\":1}", 0), &c, NOW, NULL),
           AUTHZ_ERR_EXPIRED, "claims_first 16: 12 characters parsed first");
    ok(last_nverify == 0 && !last_deferred, "claims_first 16: no RSA");
    is_err(run_glue(rs(H_K1, "{\"exp\":1,\"x\":0}", 0), &c, NOW, NULL),
           AUTHZ_ERR_EXPIRED, "claims_first 16: 20 characters deferred");
    ok(last_nverify == 1 && last_deferred, "claims_first 16: one RSA");

    /* the header is parsed first: 2048 encoded characters at most */

    c = conf_new();
    is_err(run(rs(sized("{\"alg\":\"RS256\",\"kid\":\"k1\",\"x\":\"", 1536,
                        "\"}"), PAY, 0), &c),
           AUTHZ_OK, "header of 2048 characters");
    is_err(run(rs(sized("{\"alg\":\"RS256\",\"kid\":\"k1\",\"x\":\"", 1537,
                        "\"}"), PAY, 0), &c),
           AUTHZ_ERR_MALFORMED, "header of 2050 characters");
    ok(last_nverify == 0, "header too large: no RSA operation");
}


/* the other order, decode, verify, check_claims, and verify twice */

static void
test_deferred_order(void)
{
    char                *t;
    authz_err_e          rc;
    authz_token_t        tok;
    unsigned char       *data, *scratch;
    authz_verify_conf_t  c;

    c = conf_new();

    t = rs(H_K1, sized("{\"exp\":1795320100,\"x\":\"", 4000, "\"}"), 0);

    is_err(run_full(t, strlen(t), &c, NOW, NULL), AUTHZ_OK,
           "deferred, claims last: ok");
    is_err(run_full(t, strlen(t), &c, NOW + 100, NULL), AUTHZ_ERR_EXPIRED,
           "deferred, claims last: expired");

    /* between check_claims and verify a deferred token has no payload */

    data = dup_exact(t, strlen(t));
    scratch = xmalloc(strlen(t));

    rc = authz_token_decode(&tok, data, strlen(t), scratch, &c);
    is_err(rc, AUTHZ_OK, "decode of a deferred payload");
    ok(tok.deferred && tok.payload == NULL && !tok.has_exp,
       "after decode: deferred, no payload, no exp");

    rc = authz_token_check_claims(&tok, &c, NOW + 100);
    is_err(rc, AUTHZ_OK, "check_claims defers");
    ok(tok.claims_pending && tok.payload == NULL,
       "after check_claims: claims pending");

    rc = authz_token_verify(&tok, &c, NULL);
    is_err(rc, AUTHZ_ERR_EXPIRED, "verify: expired after the signature");
    ok(tok.payload != NULL && tok.has_exp && tok.key == NULL,
       "after verify: payload parsed, exp read, no key");

    rc = authz_token_verify(&tok, &c, keys[0].fingerprint);
    is_err(rc, AUTHZ_ERR_EXPIRED, "verify again, trusted: still expired");
    ok(tok.key == NULL, "still no key");

    authz_token_free(&tok);
    authz_token_free(&tok);
    ok(tok.payload == NULL, "freed");

    free(scratch);
    free(data);

    /* a signed payload that is not an object stays refused */

    t = rs(H_K1, sized("[\"", 4000, "\"]"), 0);
    data = dup_exact(t, strlen(t));
    scratch = xmalloc(strlen(t));

    rc = authz_token_decode(&tok, data, strlen(t), scratch, &c);

    if (rc == AUTHZ_OK) {
        rc = authz_token_check_claims(&tok, &c, NOW);
    }

    if (rc == AUTHZ_OK) {
        rc = authz_token_verify(&tok, &c, NULL);
    }

    is_err(rc, AUTHZ_ERR_MALFORMED, "deferred array payload: malformed");
    ok(tok.payload == NULL, "no payload kept");
    is_err(authz_token_verify(&tok, &c, keys[0].fingerprint),
           AUTHZ_ERR_MALFORMED, "verify again, trusted: still malformed");

    authz_token_free(&tok);
    free(scratch);
    free(data);
}


static void
test_alg_parse(void)
{
    size_t          i, len;
    unsigned char  *p;

    static const struct {
        const char  *name;
        unsigned     alg;
    } v[] = {
        { "RS256", AUTHZ_ALG_RS256 },
        { "RS384", AUTHZ_ALG_RS384 },
        { "RS512", AUTHZ_ALG_RS512 },
        { "PS256", AUTHZ_ALG_PS256 },
        { "PS384", AUTHZ_ALG_PS384 },
        { "PS512", AUTHZ_ALG_PS512 },
        { "none", 0 },
        { "HS256", 0 },
        { "HS384", 0 },
        { "HS512", 0 },
        { "ES256", AUTHZ_ALG_ES256 },
        { "ES384", AUTHZ_ALG_ES384 },
        { "Ed25519", AUTHZ_ALG_ED25519 },
        { "EdDSA", AUTHZ_ALG_EDDSA },
        { "ES512", 0 },
        { "ed25519", 0 },
        { "EDDSA", 0 },
        { "Ed448", 0 },
        { "", 0 },
        { "rs256", 0 },
        { "RS25", 0 },
        { "RS2560", 0 },
        { "RS256 ", 0 },
        { NULL, 0 }
    };

    for (i = 0; v[i].name != NULL; i++) {
        len = strlen(v[i].name);
        p = dup_exact(v[i].name, len);
        ok(authz_alg_parse(p, len) == v[i].alg, "authz_alg_parse(\"%s\")",
           v[i].name);
        free(p);
    }
}


static void
test_json_depth_ok(void)
{
    size_t          i, len;
    unsigned char  *p;

    static const struct {
        const char  *json;
        int          max;
        int          want;
    } v[] = {
        { "", 0, 1 },
        { "[]", 0, 0 },
        { "[]", 1, 1 },
        { "[[1]]", 1, 0 },
        { "[[1]]", 2, 1 },
        { "[[],[],{}]", 2, 1 },
        { "{\"a\":{\"b\":[]}}", 2, 0 },
        { "{\"a\":\"[[[[{{{{\"}", 1, 1 },
        { "{\"a\":\"\\\"[[[[\"}", 1, 1 },
        { "{\"a\":\"\\\\\",\"b\":[1]}", 1, 0 },
        { "{\"a\":\"\\\\\",\"b\":[1]}", 2, 1 },
        { "{\"a\\\"[\":1}", 1, 1 },
        { "\"\\", 0, 1 },
        { NULL, 0, 0 }
    };

    for (i = 0; v[i].json != NULL; i++) {
        len = strlen(v[i].json);
        p = dup_exact(v[i].json, len);
        ok(authz_json_depth_ok(p, len, v[i].max) == v[i].want,
           "authz_json_depth_ok(%s, %d) == %d", show(v[i].json), v[i].max,
           v[i].want);
        free(p);
    }
}


static void
test_strerror(void)
{
    int          e, good;
    const char  *s;

    good = 1;

    for (e = AUTHZ_OK; e <= AUTHZ_ERR_INTERNAL; e++) {
        s = authz_strerror((authz_err_e) e);

        if (s == NULL || s[0] == '\0') {
            good = 0;
            diag("authz_strerror(%d) is empty", e);
        }
    }

    ok(good, "authz_strerror: non-empty text for every code");
    ok(strcmp(authz_strerror(AUTHZ_ERR_SIGNATURE), authz_strerror(AUTHZ_OK))
       != 0, "authz_strerror: distinct texts");
}


/* helpers */


/* concatenation of NUL-terminated strings up to a NULL */

static char *
cat(const char *first, ...)
{
    size_t       len;
    char        *r, *d;
    va_list      ap;
    const char  *s;

    len = 0;
    va_start(ap, first);

    for (s = first; s != NULL; s = va_arg(ap, const char *)) {
        len += strlen(s);
    }

    va_end(ap);

    r = gc(xmalloc(len + 1));
    d = r;
    va_start(ap, first);

    for (s = first; s != NULL; s = va_arg(ap, const char *)) {
        len = strlen(s);
        memcpy(d, s, len);
        d += len;
    }

    va_end(ap);
    *d = '\0';

    return r;
}


static char *
fmt(const char *f, ...)
{
    int       n;
    char     *r;
    va_list   ap;

    va_start(ap, f);
    n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);

    r = gc(xmalloc(n + 1));

    va_start(ap, f);
    vsnprintf(r, n + 1, f, ap);
    va_end(ap);

    return r;
}


static char *
rep(const char *unit, size_t n)
{
    size_t   i, len;
    char    *r;

    len = strlen(unit);
    r = gc(xmalloc(len * n + 1));

    for (i = 0; i < n; i++) {
        memcpy(r + i * len, unit, len);
    }

    r[len * n] = '\0';

    return r;
}


/* JSON followed by spaces until its length is mod3 modulo 3 */

static char *
pad(const char *json, size_t mod3)
{
    size_t  len;

    len = strlen(json);

    return cat(json, rep(" ", (mod3 + 3 - len % 3) % 3), NULL);
}


static char *
b64(const void *src, size_t len)
{
    size_t                i;
    char                 *r, *d;
    const unsigned char  *s;

    static const char  a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    s = src;
    r = gc(xmalloc(len / 3 * 4 + 4));
    d = r;

    for (i = 0; i + 2 < len; i += 3) {
        *d++ = a[s[i] >> 2];
        *d++ = a[((s[i] & 0x03) << 4) | (s[i + 1] >> 4)];
        *d++ = a[((s[i + 1] & 0x0f) << 2) | (s[i + 2] >> 6)];
        *d++ = a[s[i + 2] & 0x3f];
    }

    if (len - i == 1) {
        *d++ = a[s[i] >> 2];
        *d++ = a[(s[i] & 0x03) << 4];

    } else if (len - i == 2) {
        *d++ = a[s[i] >> 2];
        *d++ = a[((s[i] & 0x03) << 4) | (s[i + 1] >> 4)];
        *d++ = a[(s[i + 1] & 0x0f) << 2];
    }

    *d = '\0';

    return r;
}


static char *
b64s(const char *s)
{
    return b64(s, strlen(s));
}


/* the next character of the alphabet in the last position */

static char *
bump_last(const char *part)
{
    char        *r, *c;
    const char  *p;

    static const char  a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    r = cat(part, NULL);
    c = &r[strlen(r) - 1];
    p = strchr(a, *c);
    *c = p[1] ? p[1] : 'A';

    return r;
}


static char *
drop_last(const char *part)
{
    char  *r;

    r = cat(part, NULL);
    r[strlen(r) - 1] = '\0';

    return r;
}


static size_t
sign(int mode, int k, const char *input, unsigned char *sig)
{
    int            pss;
    size_t         n;
    unsigned int   hlen;
    EVP_MD_CTX    *md;
    EVP_PKEY_CTX  *pctx;
    const EVP_MD  *h;

    if (mode == S_HS256) {
        HMAC(EVP_sha256(), pub_pem, (int) pub_pem_len,
             (const unsigned char *) input, strlen(input), sig, &hlen);
        return hlen;
    }

    h = (mode == S_RS256 || mode == S_PS256) ? EVP_sha256()
        : (mode == S_RS384 || mode == S_PS384) ? EVP_sha384()
        : EVP_sha512();
    pss = (mode == S_PS256 || mode == S_PS384 || mode == S_PS512);

    md = EVP_MD_CTX_new();
    n = 512;

    if (md == NULL
        || EVP_DigestSignInit(md, &pctx, h, NULL, priv[k]) != 1
        || (pss
            && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
                || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss_saltlen) != 1
                || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, h) != 1))
        || EVP_DigestSign(md, sig, &n, (const unsigned char *) input,
                          strlen(input)) != 1)
    {
        diag("signing failed");
        abort();
    }

    EVP_MD_CTX_free(md);

    return n;
}


static char *
token(const char *hdr, const char *pay, int mode, int k)
{
    char           *input;
    size_t          n;
    unsigned char   sig[512];

    input = cat(b64s(hdr), ".", b64s(pay), NULL);
    n = sign(mode, k, input, sig);

    return cat(input, ".", b64(sig, n), NULL);
}


static char *
rs(const char *hdr, const char *pay, int k)
{
    return token(hdr, pay, S_RS256, k);
}


/* RS256 by key 1 over JSON texts that may hold NUL bytes */

static char *
rs_n(const char *hdr, size_t hlen, const char *pay, size_t plen)
{
    char           *input;
    size_t          n;
    unsigned char   sig[512];

    input = cat(b64(hdr, hlen), ".", b64(pay, plen), NULL);
    n = sign(S_RS256, 0, input, sig);

    return cat(input, ".", b64(sig, n), NULL);
}


static char *
token_sig(const char *hdr, const char *pay, const unsigned char *sig,
    size_t n)
{
    return cat(b64s(hdr), ".", b64s(pay), ".", b64(sig, n), NULL);
}


static authz_verify_conf_t
conf_new(void)
{
    authz_verify_conf_t  c;

    memset(&c, 0, sizeof(authz_verify_conf_t));

    test_set.keys = keys;
    test_set.nkeys = 2;
    c.sets = &test_set;
    c.nsets = 1;
    c.algs = AUTHZ_ALG_RS256;
    c.max_size = 8192;
    c.leeway = 0;
    c.require_exp = 1;

    return c;
}


/* decode, verify, check the claims: the order the module uses */

static authz_err_e
run_full(const char *t, size_t len, const authz_verify_conf_t *conf,
    time_t now, const unsigned char *trusted)
{
    authz_err_e     rc;
    authz_token_t   tok;
    unsigned char  *data, *scratch;

    data = dup_exact(t, len);
    scratch = xmalloc(len);

    rc = authz_token_decode(&tok, data, len, scratch, conf);

    if (rc == AUTHZ_OK) {
        rc = authz_token_verify(&tok, conf, trusted);
    }

    if (rc == AUTHZ_OK) {
        rc = authz_token_check_claims(&tok, conf, now);
    }

    if (rc != AUTHZ_OK && tok.detail == NULL) {
        missing_detail++;
        diag("no detail for %s", ename(rc));
    }

    last_key = tok.key;
    last_nverify = tok.nverify;
    last_deferred = tok.deferred;
    last_has_exp = tok.has_exp;
    last_exp = tok.exp;

    authz_token_free(&tok);
    authz_token_free(&tok);

    free(scratch);
    free(data);

    return rc;
}


static authz_err_e
run(const char *t, const authz_verify_conf_t *conf)
{
    return run_full(t, strlen(t), conf, NOW, NULL);
}


/* decode, check the claims, verify: the order of the glue */

static authz_err_e
run_glue(const char *t, const authz_verify_conf_t *conf, time_t now,
    const unsigned char *trusted)
{
    size_t          len;
    authz_err_e     rc;
    authz_token_t   tok;
    unsigned char  *data, *scratch;

    len = strlen(t);
    data = dup_exact(t, len);
    scratch = xmalloc(len);

    rc = authz_token_decode(&tok, data, len, scratch, conf);

    if (rc == AUTHZ_OK) {
        rc = authz_token_check_claims(&tok, conf, now);
    }

    if (rc == AUTHZ_OK) {
        rc = authz_token_verify(&tok, conf, trusted);
    }

    if (rc != AUTHZ_OK && tok.detail == NULL) {
        missing_detail++;
        diag("no detail for %s", ename(rc));
    }

    if (rc == AUTHZ_OK && !authz_json_is_object(tok.payload)) {
        missing_detail++;
        diag("accepted without a payload object");
    }

    last_key = tok.key;
    last_nverify = tok.nverify;
    last_deferred = tok.deferred;
    last_has_exp = tok.has_exp;
    last_exp = tok.exp;

    authz_token_free(&tok);

    free(scratch);
    free(data);

    return rc;
}


/* head, then "x" up to len bytes in all, then tail (counted in len) */

static char *
sized(const char *head, size_t len, const char *tail)
{
    size_t  fixed;

    fixed = strlen(head) + strlen(tail);

    if (len < fixed) {
        abort();
    }

    return cat(head, rep("x", len - fixed), tail, NULL);
}


static authz_err_e
claims(const char *pay, const authz_verify_conf_t *conf, time_t now)
{
    char  *t;

    t = rs(H_K1, pay, 0);

    return run_full(t, strlen(t), conf, now, NULL);
}


static const char *
ename(authz_err_e e)
{
    static const char  *names[] = {
        "OK", "MALFORMED", "SIZE", "ALG", "CRIT", "KID", "SIGNATURE",
        "EXPIRED", "NOT_YET_VALID", "IAT", "NO_EXP", "ISSUER", "AUDIENCE",
        "CLAIM", "INTERNAL", "REVOKED", "TYP", "BINDING"
    };

    return ((unsigned) e < sizeof(names) / sizeof(names[0]))
           ? names[e] : "?";
}


/* printable text for a test name */

static const char *
show(const char *s)
{
    char         *d, *r;
    static int    k;
    static char   buf[4][256];

    r = buf[k++ & 3];

    for (d = r; *s != '\0' && d < r + 250; s++) {
        if (*s >= 0x20 && *s < 0x7f) {
            *d++ = *s;

        } else {
            d += sprintf(d, "\\x%02x", (unsigned char) *s);
        }
    }

    *d = '\0';

    return r;
}


static void
keys_init(void)
{
    int                   k, n;
    char                 *pem;
    long                  len;
    BIO                  *bio;
    unsigned int          flen;
    unsigned char        *der;
    const unsigned char  *p;

    for (k = 0; k < 2; k++) {
        priv[k] = EVP_RSA_gen(2048);
        if (priv[k] == NULL) {
            diag("EVP_RSA_gen failed");
            abort();
        }

        /* the verifier gets a public-only key, as from a key file */

        der = NULL;
        n = i2d_PUBKEY(priv[k], &der);
        p = der;

        keys[k].pkey = (n > 0) ? d2i_PUBKEY(NULL, &p, n) : NULL;
        keys[k].algs = AUTHZ_ALG_RSA;
        keys[k].kty = AUTHZ_KTY_RSA;

        if (keys[k].pkey == NULL
            || EVP_Digest(der, n, keys[k].fingerprint, &flen, EVP_sha256(),
                          NULL) != 1
            || flen != 32)
        {
            diag("public key setup failed");
            abort();
        }

        OPENSSL_free(der);

        keys[k].kid_len = 2;
        keys[k].kid[0] = 'k';
        keys[k].kid[1] = (char) ('1' + k);
        keys[k].kid[2] = '\0';
    }

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_PUBKEY(bio, keys[0].pkey) != 1) {
        abort();
    }

    len = BIO_get_mem_data(bio, &pem);
    pub_pem = dup_exact(pem, len);
    pub_pem_len = len;
    BIO_free(bio);
}


static void
keys_free(void)
{
    int  k;

    for (k = 0; k < 2; k++) {
        EVP_PKEY_free(keys[k].pkey);
        EVP_PKEY_free(priv[k]);
    }

    free(pub_pem);
}


/* authz_token_type: RFC 7515 4.1.9 comparison, "typ" missing fails */

static void
test_typ(void)
{
    char                *tk;
    size_t               i;
    authz_str_t          types[2];
    authz_token_t        tok;
    unsigned char        scratch[4096];
    authz_verify_conf_t  c;

    static const struct {
        const char  *typ;
        const char  *want;
        int          eq;
    } t[] = {
        { "at+jwt", "at+jwt", 1 },
        { "AT+JWT", "at+jwt", 1 },
        { "application/at+jwt", "at+jwt", 1 },
        { "Application/At+Jwt", "at+jwt", 1 },
        { "at+jwt", "application/at+jwt", 1 },
        { "application/at+jwt", "APPLICATION/AT+JWT", 1 },
        { "application/", "application/", 1 },
        { "application/", "", 0 },
        { "", "", 0 },
        { "at+jwt ", "at+jwt", 0 },
        { "applicationx/at+jwt", "at+jwt", 0 },
        { "jwt", "at+jwt", 0 },
        { "application/jwt", "at+jwt", 0 },
        { NULL, NULL, 0 }
    };

    for (i = 0; t[i].typ != NULL; i++) {
        ok(authz_typ_eq((const unsigned char *) t[i].typ, strlen(t[i].typ),
                        (const unsigned char *) t[i].want,
                        strlen(t[i].want))
           == t[i].eq,
           "typ \"%s\" vs \"%s\": %s", t[i].typ, t[i].want,
           t[i].eq ? "equal" : "different");
    }

    c = conf_new();
    types[0].data = (const unsigned char *) "at+jwt";
    types[0].len = 6;
    types[1].data = (const unsigned char *) "JWT";
    types[1].len = 3;
    c.types = types;
    c.ntypes = 1;

    is_err(run(rs("{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"k1\"}",
                  PAY, 0), &c), AUTHZ_OK, "typ at+jwt accepted");
    is_err(run(rs(H_K1, PAY, 0), &c), AUTHZ_ERR_TYP, "typ JWT refused");
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\"}", PAY, 0), &c),
           AUTHZ_ERR_TYP, "no typ refused");
    is_err(run(rs("{\"alg\":\"RS256\",\"typ\":5,\"kid\":\"k1\"}", PAY, 0),
               &c),
           AUTHZ_ERR_MALFORMED, "typ a number: malformed");

    c.ntypes = 2;
    is_err(run(rs(H_K1, PAY, 0), &c), AUTHZ_OK, "second type accepted");

    c.ntypes = 0;
    is_err(run(rs("{\"alg\":\"RS256\",\"kid\":\"k1\"}", PAY, 0), &c),
           AUTHZ_OK, "no authz_token_type: no typ fine");

    /* the refused alg and the typ are kept for the log line */

    memset(&tok, 0, sizeof(authz_token_t));
    c = conf_new();
    tk = rs("{\"alg\":\"RS512\",\"typ\":\"at+jwt\"}", PAY, 0);

    ok(authz_token_decode(&tok, (const unsigned char *) tk, strlen(tk),
                          scratch, &c)
       == AUTHZ_ERR_ALG
       && tok.bad_alg_len == 5 && memcmp(tok.bad_alg, "RS512", 5) == 0,
       "the refused alg kept");
    authz_token_free(&tok);

    memset(&tok, 0, sizeof(authz_token_t));
    tk = rs("{\"alg\":\"RS256\",\"typ\":\"at+jwt\"}", PAY, 0);

    ok(authz_token_decode(&tok, (const unsigned char *) tk, strlen(tk),
                          scratch, &c)
       == AUTHZ_OK
       && tok.has_typ && tok.typ_len == 6
       && memcmp(tok.typ, "at+jwt", 6) == 0,
       "the typ kept");
    authz_token_free(&tok);
}
