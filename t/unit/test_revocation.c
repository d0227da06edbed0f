/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * unit tests of authz_revocation.c: the document syntax and its errors
 * (with their positions), the limits at their boundaries, the rules of
 * SPEC 12 (every combination of time rules), duplicates, pruning, and
 * the SipHash test vectors.
 *
 * every document handed to the code under test is copied into a heap
 * buffer of its exact size, without a terminating NUL, so that
 * AddressSanitizer catches a read past the end.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz_revocation.h"
#include "tap.h"
#include "mem.h"


#define NOW     1795320000.0
#define ABSENT  -1.0


static const unsigned char  seed[16] = {
    0x5e, 0xed, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
    0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e
};


static authz_revocation_t *parse_len(const char *doc, size_t len,
    double prune_before, authz_revocation_error_t *err);
static authz_revocation_t *parse(const char *doc);
static int refused(const char *doc, const char *text, size_t line,
    size_t column);
static authz_revoked_e check(const authz_revocation_t *rv, const char *jti,
    const char *sub, const char *tenant, double iat);
static char *big_list(const char *kind, size_t n, const char *extra);

static void test_siphash(void);
static void test_syntax(void);
static void test_errors(void);
static void test_strings(void);
static void test_numbers(void);
static void test_limits(void);
static void test_rules(void);
static void test_combinations(void);
static void test_duplicates(void);
static void test_pruning(void);
static void test_info(void);
static void test_many(void);


int
main(void)
{
    test_siphash();
    test_syntax();
    test_errors();
    test_strings();
    test_numbers();
    test_limits();
    test_rules();
    test_combinations();
    test_duplicates();
    test_pruning();
    test_info();
    test_many();

    gc_free();

    return done_testing();
}


static void
test_siphash(void)
{
    unsigned char  key[16], msg[15];
    size_t         i;

    for (i = 0; i < 16; i++) {
        key[i] = (unsigned char) i;
    }

    for (i = 0; i < 15; i++) {
        msg[i] = (unsigned char) i;
    }

    /* the vectors of the SipHash paper, appendix A, and of its reference */

    ok(authz_siphash(key, msg, 0) == 0x726fdb47dd0e0e31ULL,
       "siphash: empty message");
    ok(authz_siphash(key, msg, 15) == 0xa129ca6149be45e5ULL,
       "siphash: 15 bytes");
}


static void
test_syntax(void)
{
    authz_revocation_t       *rv;
    authz_revocation_info_t   info;

    rv = parse("{}");
    ok(rv != NULL, "empty object");

    if (rv != NULL) {
        authz_revocation_info(rv, &info);
        ok(info.entries[AUTHZ_REVOKED_JTI] == 0
           && info.entries[AUTHZ_REVOKED_SUB] == 0
           && info.entries[AUTHZ_REVOKED_TENANT] == 0
           && !info.has_generated_at && info.iat_before == 0,
           "empty object: nothing listed");
        ok(check(rv, "j", "alice", "acme", ABSENT) == AUTHZ_REVOKED_NONE,
           "empty object: a token without iat passes");
        authz_revocation_free(rv);
    }

    rv = parse(" \t\r\n{ \"generated_at\" : 1795320000 ,\n"
               "  \"jti\" : { \"9b1c2f\" : 1795320900 } ,\n"
               "  \"sub\" : { \"user_8f3a\" : 1795320500 } ,\n"
               "  \"tenant\" : { \"acme\" : 1795320000 } ,\n"
               "  \"iat_before\" : 0 }\n\r\t ");
    ok(rv != NULL, "the example of SPEC 12, whitespace everywhere");

    if (rv != NULL) {
        ok(check(rv, "9b1c2f", NULL, NULL, 1795320800) == AUTHZ_REVOKED_JTI,
           "example: jti");
        ok(check(rv, NULL, "user_8f3a", NULL, 1795320499)
           == AUTHZ_REVOKED_SUB, "example: sub");
        ok(check(rv, NULL, NULL, "acme", 1795319999) == AUTHZ_REVOKED_TENANT,
           "example: tenant");
        ok(check(rv, "other", "user_x", "globex", 1) == AUTHZ_REVOKED_NONE,
           "example: others pass");
        authz_revocation_free(rv);
    }

    rv = parse("{\"sub\":{},\"jti\":{},\"tenant\":{}}");
    ok(rv != NULL, "empty lists");
    authz_revocation_free(rv);

    /* member names are compared decoded, as any JSON reader does */

    rv = parse("{\"\\u0073ub\": {\"\\u0061lice\": 10}}");
    ok(rv != NULL && check(rv, NULL, "alice", NULL, 9) == AUTHZ_REVOKED_SUB,
       "escaped member name and key");
    authz_revocation_free(rv);

    rv = parse("{\"sub\": {\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\": 10}}");
    ok(rv != NULL
       && check(rv, NULL, "a\"b\\c/d\b\f\n\r\t", NULL, 9)
          == AUTHZ_REVOKED_SUB,
       "every short escape");
    authz_revocation_free(rv);

    rv = parse("{\"sub\": {\"\\ud83d\\ude00 \xc3\xa9\\u00e9\\u20ac\": 10}}");
    ok(rv != NULL
       && check(rv, NULL, "\xf0\x9f\x98\x80 \xc3\xa9\xc3\xa9\xe2\x82\xac",
                NULL, 9)
          == AUTHZ_REVOKED_SUB,
       "surrogate pair, raw and escaped UTF-8");
    authz_revocation_free(rv);
}


static void
test_errors(void)
{
    ok(refused("", "unexpected end of input", 1, 1), "empty document");
    ok(refused("   ", "unexpected end of input", 1, 4), "only whitespace");
    ok(refused("[]", "expected \"{\"", 1, 1), "an array");
    ok(refused("null", "expected \"{\"", 1, 1), "null");
    ok(refused("\xef\xbb\xbf{}", "expected \"{\"", 1, 1), "a BOM");
    ok(refused("{\"sub\": {\"a\": 1}", "unexpected end of input", 1, 17),
       "partial document");
    ok(refused("{\"sub\": {\"a\": 1", "unexpected end of input", 1, 16),
       "cut in a list");
    ok(refused("{\"sub\": {\"a", "unexpected end of input", 1, 12),
       "cut in a string");
    ok(refused("{} {}", "unexpected data after the document", 1, 4),
       "two documents");
    ok(refused("{}x", "unexpected data after the document", 1, 3),
       "trailing garbage");
    ok(refused("{,}", "expected a string", 1, 2), "leading comma");
    ok(refused("{\"sub\": {},}", "expected a string", 1, 12),
       "trailing comma");
    ok(refused("{\"sub\": {\"a\": 1,}}", "expected a string", 1, 17),
       "trailing comma in a list");
    ok(refused("{\"sub\" {}}", "expected \":\"", 1, 8), "missing colon");
    ok(refused("{\"sub\": {\"a\" 1}}", "expected \":\"", 1, 14),
       "missing colon in a list");
    ok(refused("{\"sub\": {} \"jti\": {}}", "expected \",\" or \"}\"", 1, 12),
       "missing comma");
    ok(refused("{\"sub\": {\"a\": 1 \"b\": 2}}",
               "expected \",\" or \"}\"", 1, 17),
       "missing comma in a list");
    ok(refused("{\"subs\": {}}", "unknown member", 1, 2), "unknown member");
    ok(refused("{\"Sub\": {}}", "unknown member", 1, 2),
       "member names are case-sensitive");
    ok(refused("{\"sub\": {}, \"sub\": {}}", "duplicate member", 1, 13),
       "duplicate list");
    ok(refused("{\"iat_before\": 1, \"iat_before\": 2}", "duplicate member",
               1, 19),
       "duplicate iat_before");
    ok(refused("{\"sub\": []}", "expected an object", 1, 9),
       "a list that is an array");
    ok(refused("{\"sub\": 5}", "expected an object", 1, 9),
       "a list that is a number");
    ok(refused("{\"generated_at\": {}}", "expected a number", 1, 18),
       "generated_at an object");
    ok(refused("{\"generated_at\": \"1\"}", "expected a number", 1, 18),
       "generated_at a string");
    ok(refused("{\"sub\": {\"a\": null}}", "expected a number", 1, 15),
       "a null time");
    ok(refused("{\"sub\": {\"a\": true}}", "expected a number", 1, 15),
       "a boolean time");
    ok(refused("{\"sub\": {\"a\": {}}}", "expected a number", 1, 15),
       "an object time");
    ok(refused("{\"sub\": {\"a\": 1, 2: 3}}", "expected a string", 1, 18),
       "a number as key");
    ok(refused("{\n  \"sub\": {\n    \"a\": x\n  }\n}", "expected a number",
               3, 10),
       "line and column");
    ok(refused("{\r\n\"jti\": {\r\n\"a\" 1}}", "expected \":\"", 3, 5),
       "line and column after CRLF");
}


static void
test_strings(void)
{
    char                 doc[1024], key[300];
    authz_revocation_t  *rv;

    ok(refused("{\"sub\": {\"a\tb\": 1}}", "control character in a string",
               1, 12),
       "raw tab in a string");
    ok(refused("{\"sub\": {\"a\nb\": 1}}", "control character in a string",
               1, 12),
       "raw newline in a string");
    ok(refused("{\"sub\": {\"\\x41\": 1}}", "invalid escape", 1, 11),
       "unknown escape");
    ok(refused("{\"sub\": {\"\\u00g0\": 1}}", "invalid \\u escape", 1, 15),
       "bad hex digit");
    ok(refused("{\"sub\": {\"\\u00", "unexpected end of input", 1, 15),
       "cut \\u escape");
    ok(refused("{\"sub\": {\"\\u0000\": 1}}", "\\u0000 in a string", 1, 11),
       "\\u0000");
    ok(refused("{\"sub\": {\"\\ud800\": 1}}",
               "invalid surrogate in \\u escape", 1, 11),
       "lone high surrogate");
    ok(refused("{\"sub\": {\"\\udc00\": 1}}",
               "invalid surrogate in \\u escape", 1, 11),
       "lone low surrogate");
    ok(refused("{\"sub\": {\"\\ud800\\u0041\": 1}}",
               "invalid surrogate in \\u escape", 1, 11),
       "high surrogate before a letter");
    ok(refused("{\"sub\": {\"\\ud800\\ud800\": 1}}",
               "invalid surrogate in \\u escape", 1, 11),
       "two high surrogates");
    ok(refused("{\"sub\": {\"\xc0\x80\": 1}}", "invalid UTF-8", 1, 11),
       "overlong NUL");
    ok(refused("{\"sub\": {\"\xe0\x80\xaf\": 1}}", "invalid UTF-8", 1, 11),
       "overlong slash");
    ok(refused("{\"sub\": {\"\xed\xa0\x80\": 1}}", "invalid UTF-8", 1, 11),
       "encoded surrogate");
    ok(refused("{\"sub\": {\"\xf4\x90\x80\x80\": 1}}", "invalid UTF-8", 1,
               11),
       "above U+10FFFF");
    ok(refused("{\"sub\": {\"\xe2\x82\": 1}}", "invalid UTF-8", 1, 11),
       "cut sequence");
    ok(refused("{\"sub\": {\"\x80\": 1}}", "invalid UTF-8", 1, 11),
       "lone continuation byte");
    ok(refused("{\"sub\": {\"\xff\": 1}}", "invalid UTF-8", 1, 11),
       "byte 0xff");

    /* 256 bytes, however written; 257 refused */

    memset(key, 'k', 256);
    key[256] = '\0';
    snprintf(doc, sizeof(doc), "{\"sub\": {\"%s\": 10}}", key);
    rv = parse(doc);
    ok(rv != NULL && check(rv, NULL, key, NULL, 9) == AUTHZ_REVOKED_SUB,
       "a 256-byte key");
    authz_revocation_free(rv);

    snprintf(doc, sizeof(doc), "{\"sub\": {\"%sk\": 10}}", key);
    ok(refused(doc, "string longer than 256 bytes", 1, 267),
       "a 257-byte key");

    memset(key, 'k', 254);
    memcpy(key + 254, "\\u00e9", 7);
    snprintf(doc, sizeof(doc), "{\"sub\": {\"%s\": 10}}", key);
    rv = parse(doc);
    ok(rv != NULL, "254 bytes and an escape of 2 bytes");
    authz_revocation_free(rv);

    memset(key, 'k', 255);
    memcpy(key + 255, "\\u00e9", 7);
    snprintf(doc, sizeof(doc), "{\"sub\": {\"%s\": 10}}", key);
    ok(refused(doc, "string longer than 256 bytes", 1, 266),
       "255 bytes and an escape of 2 bytes");

    memset(key, 'k', 255);
    memcpy(key + 255, "\xc3\xa9", 3);
    snprintf(doc, sizeof(doc), "{\"sub\": {\"%s\": 10}}", key);
    ok(refused(doc, "string longer than 256 bytes", 1, 266),
       "255 bytes and a raw 2-byte sequence");

    memset(key, 'k', 256);
    key[256] = '\0';
    snprintf(doc, sizeof(doc), "{\"%sx\": {}}", key);
    ok(refused(doc, "string longer than 256 bytes", 1, 259),
       "a long member name");

    /* a claim longer than any key is simply not listed */

    rv = parse("{\"sub\": {\"a\": 10}}");
    memset(key, 'a', 299);
    key[299] = '\0';
    ok(rv != NULL && check(rv, NULL, key, NULL, 1) == AUTHZ_REVOKED_NONE,
       "a 299-byte sub is looked up safely");
    authz_revocation_free(rv);
}


static void
test_numbers(void)
{
    char                 doc[256], num[80];
    authz_revocation_t  *rv;

    rv = parse("{\"generated_at\": 0, \"sub\": {\"a\": 1.5, \"b\": 2e1,"
               " \"c\": 2E+1, \"d\": 3e-0, \"e\": -0, \"f\": 0.0}}");
    ok(rv != NULL, "fractions, exponents, minus zero");

    if (rv != NULL) {
        ok(check(rv, NULL, "a", NULL, 1.4) == AUTHZ_REVOKED_SUB
           && check(rv, NULL, "a", NULL, 1.5) == AUTHZ_REVOKED_NONE,
           "a fractional T compares as a number");
        ok(check(rv, NULL, "b", NULL, 19) == AUTHZ_REVOKED_SUB
           && check(rv, NULL, "b", NULL, 20) == AUTHZ_REVOKED_NONE
           && check(rv, NULL, "c", NULL, 19.9) == AUTHZ_REVOKED_SUB,
           "exponents");
        ok(check(rv, NULL, "e", NULL, 0) == AUTHZ_REVOKED_NONE
           && check(rv, NULL, "e", NULL, ABSENT) == AUTHZ_REVOKED_SUB,
           "T 0: only a token without iat");
        authz_revocation_free(rv);
    }

    ok(refused("{\"sub\": {\"a\": -1}}", "number out of range", 1, 15),
       "negative time");
    ok(refused("{\"sub\": {\"a\": 1e16}}", "number out of range", 1, 15),
       "time above 2^53");
    ok(refused("{\"sub\": {\"a\": 1e999}}", "number out of range", 1, 15),
       "infinite time");
    ok(refused("{\"generated_at\": -0.5}", "number out of range", 1, 18),
       "negative generated_at");

    rv = parse("{\"iat_before\": 9007199254740992}");
    ok(rv != NULL, "2^53 accepted");
    authz_revocation_free(rv);

    ok(refused("{\"sub\": {\"a\": 01}}", "expected \",\" or \"}\"", 1, 16),
       "leading zero");
    ok(refused("{\"sub\": {\"a\": 1.}}", "invalid number", 1, 15),
       "nothing after the point");
    ok(refused("{\"sub\": {\"a\": 1e}}", "invalid number", 1, 15),
       "nothing after e");
    ok(refused("{\"sub\": {\"a\": 1e+}}", "invalid number", 1, 15),
       "nothing after e+");
    ok(refused("{\"sub\": {\"a\": .5}}", "expected a number", 1, 15),
       "no digit before the point");
    ok(refused("{\"sub\": {\"a\": +1}}", "expected a number", 1, 15),
       "plus sign");
    ok(refused("{\"sub\": {\"a\": -}}", "invalid number", 1, 15),
       "minus alone");
    ok(refused("{\"sub\": {\"a\": 0x10}}", "expected \",\" or \"}\"", 1, 16),
       "hexadecimal");
    ok(refused("{\"sub\": {\"a\": NaN}}", "expected a number", 1, 15),
       "NaN");
    ok(refused("{\"sub\": {\"a\": Infinity}}", "expected a number", 1, 15),
       "Infinity");

    /* 64 characters accepted, 65 refused */

    memset(num, '0', 64);
    num[0] = '1';
    num[1] = '.';
    num[64] = '\0';
    snprintf(doc, sizeof(doc), "{\"sub\": {\"a\": %s}}", num);
    rv = parse(doc);
    ok(rv != NULL && check(rv, NULL, "a", NULL, 0.5) == AUTHZ_REVOKED_SUB,
       "a 64-character number");
    authz_revocation_free(rv);

    snprintf(doc, sizeof(doc), "{\"sub\": {\"a\": %s0}}", num);
    ok(refused(doc, "number too long", 1, 15), "a 65-character number");
}


static void
test_limits(void)
{
    char                     *doc;
    size_t                    len, n;
    authz_revocation_t       *rv;
    authz_revocation_info_t   info;
    authz_revocation_error_t  err;

    /* 64 MB exactly: a small list padded with whitespace */

    len = AUTHZ_REVOCATION_MAX_SIZE;
    doc = xmalloc(len + 1);
    memset(doc, ' ', len + 1);
    memcpy(doc, "{\"sub\": {\"a\": 10}}", 18);

    rv = parse_len(doc, len, 0, &err);
    ok(rv != NULL && check(rv, NULL, "a", NULL, 1) == AUTHZ_REVOKED_SUB,
       "a 64 MB document");
    authz_revocation_free(rv);

    rv = parse_len(doc, len + 1, 0, &err);
    ok(rv == NULL && err.text != NULL
       && strcmp(err.text, "larger than 64 MB") == 0,
       "64 MB and 1 byte refused");

    free(doc);

    /* 1,000,000 entries, counted over all kinds as written */

    doc = big_list("jti", 500000, ", \"sub\": {\"s\": 1}");
    n = strlen(doc);

    rv = parse_len(doc, n, 0, &err);
    ok(rv != NULL, "500001 entries");
    authz_revocation_free(rv);
    free(doc);

    doc = big_list("sub", AUTHZ_REVOCATION_MAX_ENTRIES, "");

    rv = parse_len(doc, strlen(doc), 0, &err);
    ok(rv != NULL, "1000000 entries");

    if (rv != NULL) {
        authz_revocation_info(rv, &info);
        ok(info.entries[AUTHZ_REVOKED_SUB] == AUTHZ_REVOCATION_MAX_ENTRIES,
           "1000000 entries counted");
        ok(check(rv, NULL, "k0000000", NULL, 0) == AUTHZ_REVOKED_SUB
           && check(rv, NULL, "k0999999", NULL, 0) == AUTHZ_REVOKED_SUB
           && check(rv, NULL, "k1000000", NULL, 0) == AUTHZ_REVOKED_NONE,
           "first and last of 1000000 found");
        diag("1000000 entries of 8 bytes: %zu bytes of table", info.memory);
        authz_revocation_free(rv);
    }

    free(doc);

    doc = big_list("sub", AUTHZ_REVOCATION_MAX_ENTRIES,
                   ", \"tenant\": {\"t\": 1}");

    rv = parse_len(doc, strlen(doc), 0, &err);
    ok(rv == NULL && err.text != NULL
       && strcmp(err.text, "more than 1000000 entries") == 0,
       "1000001 entries refused");
    free(doc);

    /* pruned entries count: the limit bounds the work of a parse */

    doc = big_list("jti", AUTHZ_REVOCATION_MAX_ENTRIES,
                   ", \"sub\": {\"s\": 1}");

    rv = parse_len(doc, strlen(doc), NOW, &err);
    ok(rv == NULL && err.text != NULL
       && strcmp(err.text, "more than 1000000 entries") == 0,
       "1000001 entries refused, pruned ones included");
    free(doc);
}


static void
test_rules(void)
{
    authz_revocation_t  *rv;

    rv = parse("{\"jti\": {\"j1\": 1795320900},"
               " \"sub\": {\"alice\": 100},"
               " \"tenant\": {\"acme\": 200}}");

    if (rv == NULL) {
        ok(0, "rules: parse");
        return;
    }

    ok(check(rv, "j1", NULL, NULL, 5000) == AUTHZ_REVOKED_JTI,
       "jti: listed, whatever its iat");
    ok(check(rv, "j1", NULL, NULL, ABSENT) == AUTHZ_REVOKED_JTI,
       "jti: listed, no iat");
    ok(check(rv, "j2", NULL, NULL, ABSENT) == AUTHZ_REVOKED_NONE,
       "jti: another");
    ok(check(rv, "j", NULL, NULL, ABSENT) == AUTHZ_REVOKED_NONE
       && check(rv, "j1x", NULL, NULL, ABSENT) == AUTHZ_REVOKED_NONE,
       "jti: prefix and extension are others");
    ok(check(rv, "j1", "alice", "acme", 5000) == AUTHZ_REVOKED_JTI,
       "jti wins over passing time rules");

    ok(check(rv, NULL, "alice", NULL, 99) == AUTHZ_REVOKED_SUB,
       "sub: iat < T");
    ok(check(rv, NULL, "alice", NULL, 99.999) == AUTHZ_REVOKED_SUB,
       "sub: fractional iat < T");
    ok(check(rv, NULL, "alice", NULL, 100) == AUTHZ_REVOKED_NONE,
       "sub: iat == T passes");
    ok(check(rv, NULL, "alice", NULL, 101) == AUTHZ_REVOKED_NONE,
       "sub: iat > T passes");
    ok(check(rv, NULL, "alice", NULL, ABSENT) == AUTHZ_REVOKED_SUB,
       "sub: no iat");
    ok(check(rv, NULL, "Alice", NULL, 1) == AUTHZ_REVOKED_NONE,
       "sub: compared exactly");

    ok(check(rv, NULL, NULL, "acme", 199) == AUTHZ_REVOKED_TENANT,
       "tenant: iat < T");
    ok(check(rv, NULL, NULL, "acme", 200) == AUTHZ_REVOKED_NONE,
       "tenant: iat == T passes");
    ok(check(rv, NULL, NULL, "acme", ABSENT) == AUTHZ_REVOKED_TENANT,
       "tenant: no iat");

    /* kinds are apart: a sub named like a tenant or a jti */

    ok(check(rv, NULL, "acme", "alice", 1) == AUTHZ_REVOKED_NONE,
       "a sub named like a listed tenant, a tenant like a listed sub");
    ok(check(rv, "alice", NULL, NULL, 1) == AUTHZ_REVOKED_NONE,
       "a jti named like a listed sub");
    ok(check(rv, NULL, "j1", NULL, 1) == AUTHZ_REVOKED_NONE,
       "a sub named like a listed jti");

    ok(check(rv, NULL, NULL, NULL, ABSENT) == AUTHZ_REVOKED_NONE,
       "no claims at all, no iat_before");

    authz_revocation_free(rv);

    rv = parse("{\"iat_before\": 300}");

    if (rv == NULL) {
        ok(0, "iat_before: parse");
        return;
    }

    ok(check(rv, NULL, NULL, NULL, 299) == AUTHZ_REVOKED_IAT_BEFORE,
       "iat_before: iat < T");
    ok(check(rv, NULL, NULL, NULL, 300) == AUTHZ_REVOKED_NONE,
       "iat_before: iat == T passes");
    ok(check(rv, NULL, NULL, NULL, ABSENT) == AUTHZ_REVOKED_IAT_BEFORE,
       "iat_before: no iat");
    ok(check(rv, "j", "s", "t", 299) == AUTHZ_REVOKED_IAT_BEFORE,
       "iat_before: everybody");

    authz_revocation_free(rv);

    rv = parse("{\"iat_before\": 0, \"sub\": {\"\": 100}}");

    ok(rv != NULL && check(rv, NULL, NULL, NULL, ABSENT) == AUTHZ_REVOKED_NONE,
       "iat_before 0 is no rule; an empty sub never applies");

    authz_revocation_free(rv);
}


/*
 * every combination of the three time rules (absent, or T in 10, 20,
 * 30, sub also 0) against tokens without iat and with iat around each
 * T: the latest applicable T wins, so a rule never shields a token
 * from another (the merge two Keycloak CVEs got wrong)
 */

static void
test_combinations(void)
{
    char                 doc[256], *p;
    int                  s, t, b, i, fails, cases;
    double               ts[] = { ABSENT, 0, 10, 20, 30 };
    double               iats[] = { ABSENT, 0, 5, 9.5, 10, 15, 20, 25, 30,
                                    35 };
    double               latest, iat;
    authz_revoked_e      want, got;
    authz_revocation_t  *rv;

    fails = 0;
    cases = 0;

    for (s = 0; s < 5; s++) {
        for (t = 0; t < 5; t++) {
            for (b = 0; b < 5; b++) {
                p = doc;
                p += sprintf(p, "{\"jti\": {\"other\": 1}");

                if (ts[s] != ABSENT) {
                    p += sprintf(p, ", \"sub\": {\"alice\": %g}", ts[s]);
                }

                if (ts[t] != ABSENT) {
                    p += sprintf(p, ", \"tenant\": {\"acme\": %g}", ts[t]);
                }

                if (ts[b] != ABSENT) {
                    p += sprintf(p, ", \"iat_before\": %g", ts[b]);
                }

                sprintf(p, "}");

                rv = parse(doc);

                if (rv == NULL) {
                    ok(0, "combination %s", doc);
                    fails++;
                    continue;
                }

                for (i = 0; i < (int) (sizeof(iats) / sizeof(iats[0]));
                     i++)
                {
                    iat = iats[i];

                    /* the model, written from SPEC 12 */

                    want = AUTHZ_REVOKED_NONE;
                    latest = 0;

                    if (ts[s] != ABSENT) {
                        want = AUTHZ_REVOKED_SUB;
                        latest = ts[s];
                    }

                    if (ts[t] != ABSENT
                        && (want == AUTHZ_REVOKED_NONE || ts[t] > latest))
                    {
                        want = AUTHZ_REVOKED_TENANT;
                        latest = ts[t];
                    }

                    if (ts[b] != ABSENT && ts[b] > 0
                        && (want == AUTHZ_REVOKED_NONE || ts[b] > latest))
                    {
                        want = AUTHZ_REVOKED_IAT_BEFORE;
                        latest = ts[b];
                    }

                    if (want != AUTHZ_REVOKED_NONE && iat != ABSENT
                        && !(iat < latest))
                    {
                        want = AUTHZ_REVOKED_NONE;
                    }

                    got = check(rv, "mine", "alice", "acme", iat);
                    cases++;

                    if (got != want) {
                        fails++;
                        diag("%s, iat %g: got %s, want %s", doc, iat,
                             authz_revoked_name(got),
                             authz_revoked_name(want));
                    }

                    /* another user of another tenant: only iat_before */

                    got = check(rv, "mine", "bob", "globex", iat);
                    want = (ts[b] > 0 && (iat == ABSENT || iat < ts[b]))
                           ? AUTHZ_REVOKED_IAT_BEFORE : AUTHZ_REVOKED_NONE;
                    cases++;

                    if (got != want) {
                        fails++;
                        diag("%s, bob, iat %g: got %s", doc, iat,
                             authz_revoked_name(got));
                    }
                }

                authz_revocation_free(rv);
            }
        }
    }

    ok(fails == 0, "%d combinations of sub, tenant, iat_before and iat",
       cases);

    /* the cases a wrong merge gets wrong, named */

    rv = parse("{\"sub\": {\"alice\": 100}, \"tenant\": {\"acme\": 50}}");
    ok(rv != NULL && check(rv, NULL, "alice", "acme", 70)
                     == AUTHZ_REVOKED_SUB,
       "an earlier tenant T does not shield from a later sub T");
    authz_revocation_free(rv);

    rv = parse("{\"sub\": {\"alice\": 50}, \"tenant\": {\"acme\": 100}}");
    ok(rv != NULL && check(rv, NULL, "alice", "acme", 70)
                     == AUTHZ_REVOKED_TENANT,
       "an earlier sub T does not shield from a later tenant T");
    authz_revocation_free(rv);

    rv = parse("{\"sub\": {\"alice\": 50}, \"iat_before\": 100}");
    ok(rv != NULL && check(rv, NULL, "alice", NULL, 70)
                     == AUTHZ_REVOKED_IAT_BEFORE,
       "an earlier sub T does not shield from a later iat_before");
    authz_revocation_free(rv);

    rv = parse("{\"tenant\": {\"acme\": 100}, \"iat_before\": 50}");
    ok(rv != NULL && check(rv, NULL, NULL, "acme", 70)
                     == AUTHZ_REVOKED_TENANT,
       "an earlier iat_before does not shield from a later tenant T");
    authz_revocation_free(rv);
}


static void
test_duplicates(void)
{
    authz_revocation_t       *rv;
    authz_revocation_info_t   info;

    rv = parse("{\"sub\": {\"alice\": 10, \"bob\": 5, \"alice\": 30,"
               " \"alice\": 20}}");

    if (rv == NULL) {
        ok(0, "duplicates: parse");
        return;
    }

    authz_revocation_info(rv, &info);

    ok(info.entries[AUTHZ_REVOKED_SUB] == 2, "a key listed 3 times is 1");
    ok(check(rv, NULL, "alice", NULL, 29) == AUTHZ_REVOKED_SUB
       && check(rv, NULL, "alice", NULL, 30) == AUTHZ_REVOKED_NONE,
       "a key listed 3 times keeps its latest T");
    ok(check(rv, NULL, "bob", NULL, 4) == AUTHZ_REVOKED_SUB,
       "the other key stays");

    authz_revocation_free(rv);

    rv = parse("{\"sub\": {\"x\": 10}, \"tenant\": {\"x\": 20},"
               " \"jti\": {\"x\": 30}}");
    ok(rv != NULL && check(rv, NULL, "x", NULL, 5) == AUTHZ_REVOKED_SUB
       && check(rv, NULL, NULL, "x", 15) == AUTHZ_REVOKED_TENANT
       && check(rv, "x", NULL, NULL, 50) == AUTHZ_REVOKED_JTI,
       "one key under three kinds is three entries");
    authz_revocation_free(rv);

    rv = parse("{\"sub\": {\"\\u0061\": 10, \"a\": 5}}");
    ok(rv != NULL && check(rv, NULL, "a", NULL, 9) == AUTHZ_REVOKED_SUB,
       "duplicates compared decoded");
    authz_revocation_free(rv);
}


static void
test_pruning(void)
{
    authz_revocation_t       *rv;
    authz_revocation_info_t   info;
    authz_revocation_error_t  err;
    const char               *doc;

    doc = "{\"jti\": {\"past\": 999, \"edge\": 1000, \"future\": 1001,"
          " \"dup\": 500, \"dup\": 2000, \"gone\": 1, \"gone\": 2},"
          " \"sub\": {\"old\": 1}}";

    rv = parse_len(gc(dup_exact(doc, strlen(doc))), strlen(doc), 1000, &err);

    if (rv == NULL) {
        ok(0, "pruning: parse");
        return;
    }

    authz_revocation_info(rv, &info);

    ok(info.pruned == 2 && info.entries[AUTHZ_REVOKED_JTI] == 3,
       "jti entries before prune_before dropped, duplicates merged first");
    ok(check(rv, "past", NULL, NULL, 1) == AUTHZ_REVOKED_NONE,
       "a pruned jti passes");
    ok(check(rv, "gone", NULL, NULL, 1) == AUTHZ_REVOKED_NONE,
       "a pruned duplicate passes");
    ok(check(rv, "edge", NULL, NULL, 1) == AUTHZ_REVOKED_JTI
       && check(rv, "future", NULL, NULL, 1) == AUTHZ_REVOKED_JTI,
       "exp at and after prune_before kept");
    ok(check(rv, "dup", NULL, NULL, 1) == AUTHZ_REVOKED_JTI,
       "a duplicate with one exp after prune_before kept");
    ok(check(rv, NULL, "old", NULL, 0) == AUTHZ_REVOKED_SUB
       && info.entries[AUTHZ_REVOKED_SUB] == 1,
       "sub times are never pruned");

    authz_revocation_free(rv);
}


static void
test_info(void)
{
    authz_revocation_t       *rv;
    authz_revocation_info_t   info;

    rv = parse("{\"generated_at\": 1795320000.5, \"iat_before\": 42,"
               " \"jti\": {\"a\": 1, \"b\": 2}, \"sub\": {\"c\": 3},"
               " \"tenant\": {\"d\": 4, \"e\": 5, \"f\": 6}}");

    if (rv == NULL) {
        ok(0, "info: parse");
        return;
    }

    authz_revocation_info(rv, &info);

    ok(info.entries[AUTHZ_REVOKED_JTI] == 2
       && info.entries[AUTHZ_REVOKED_SUB] == 1
       && info.entries[AUTHZ_REVOKED_TENANT] == 3
       && info.entries[AUTHZ_REVOKED_IAT_BEFORE] == 1,
       "entries per kind");
    ok(info.has_generated_at && info.generated_at == 1795320000.5
       && info.iat_before == 42,
       "generated_at and iat_before");
    ok(info.memory > 0, "memory counted");

    ok(strcmp(authz_revoked_name(AUTHZ_REVOKED_JTI), "jti") == 0
       && strcmp(authz_revoked_name(AUTHZ_REVOKED_SUB), "sub") == 0
       && strcmp(authz_revoked_name(AUTHZ_REVOKED_TENANT), "tenant") == 0
       && strcmp(authz_revoked_name(AUTHZ_REVOKED_IAT_BEFORE), "iat_before")
          == 0
       && strcmp(authz_revoked_name(AUTHZ_REVOKED_NONE), "none") == 0,
       "kind names");

    authz_revocation_free(rv);
}


/* a list of 100000 subs: each found, none of 100000 others */

static void
test_many(void)
{
    char                *doc;
    char                 key[32];
    size_t               i, found, strays;
    authz_revocation_t  *rv;
    authz_revocation_error_t  err;

    doc = big_list("sub", 100000, "");
    rv = parse_len(doc, strlen(doc), 0, &err);
    free(doc);

    if (rv == NULL) {
        ok(0, "many: parse");
        return;
    }

    found = 0;
    strays = 0;

    for (i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "k%07zu", i);
        found += (check(rv, NULL, key, NULL, 0) == AUTHZ_REVOKED_SUB);

        snprintf(key, sizeof(key), "x%07zu", i);
        strays += (check(rv, NULL, key, NULL, 0) != AUTHZ_REVOKED_NONE);
    }

    ok(found == 100000, "100000 listed subs found");
    ok(strays == 0, "100000 others not found");

    authz_revocation_free(rv);
}


/* helpers */


static authz_revocation_t *
parse_len(const char *doc, size_t len, double prune_before,
    authz_revocation_error_t *err)
{
    return authz_revocation_parse((const unsigned char *) doc, len,
                                  prune_before, seed, err);
}


static authz_revocation_t *
parse(const char *doc)
{
    authz_revocation_t        *rv;
    authz_revocation_error_t   err;

    rv = parse_len((char *) gc(dup_exact(doc, strlen(doc))), strlen(doc), 0,
                   &err);

    if (rv == NULL) {
        diag("refused: %s at %zu:%zu", err.text, err.line, err.column);
    }

    return rv;
}


static int
refused(const char *doc, const char *text, size_t line, size_t column)
{
    authz_revocation_t        *rv;
    authz_revocation_error_t   err;

    rv = parse_len((char *) gc(dup_exact(doc, strlen(doc))), strlen(doc), 0,
                   &err);

    if (rv != NULL) {
        authz_revocation_free(rv);
        diag("accepted");
        return 0;
    }

    if (err.text == NULL || strcmp(err.text, text) != 0
        || err.line != line || err.column != column)
    {
        diag("got \"%s\" at %zu:%zu", err.text ? err.text : "(null)",
             err.line, err.column);
        return 0;
    }

    return 1;
}


/* iat ABSENT: none; a NULL claim: absent */

static authz_revoked_e
check(const authz_revocation_t *rv, const char *jti, const char *sub,
    const char *tenant, double iat)
{
    authz_revocation_token_t  tok;

    memset(&tok, 0, sizeof(tok));

    if (jti != NULL) {
        tok.has_jti = 1;
        tok.jti.len = strlen(jti);
        tok.jti.data = gc(dup_exact(jti, tok.jti.len));
    }

    if (sub != NULL) {
        tok.sub.len = strlen(sub);
        tok.sub.data = gc(dup_exact(sub, tok.sub.len));
    }

    if (tenant != NULL) {
        tok.tenant.len = strlen(tenant);
        tok.tenant.data = gc(dup_exact(tenant, tok.tenant.len));
    }

    if (iat != ABSENT) {
        tok.has_iat = 1;
        tok.iat = iat;
    }

    return authz_revocation_check(rv, &tok);
}


/* {"KIND": {"k0000000": 1, ...}EXTRA}, malloc()ed */

static char *
big_list(const char *kind, size_t n, const char *extra)
{
    char    *doc, *p;
    size_t   i;

    doc = xmalloc(n * 16 + strlen(extra) + 64);
    p = doc + sprintf(doc, "{\"%s\": {", kind);

    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s\"k%07zu\": 1", i ? ", " : "", i);
    }

    sprintf(p, "}%s}", extra);

    return doc;
}
