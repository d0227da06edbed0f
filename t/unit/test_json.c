/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * unit tests of authz_json.c, the JSON reader of the JOSE header and the
 * payload: what it accepts and refuses (every rule, both sides, each
 * case also checked against jansson with authz_json_depth_ok() as the
 * oracle), the values (types, numbers to the bit, decoded strings,
 * order, span, flat, the accessors), the dump against json_dumps(),
 * objects of 2,000 members, and a differential loop over generated and
 * mutated inputs.
 *
 * every input handed to the code under test is copied into a heap
 * buffer of its exact size, without a terminating NUL, so that
 * AddressSanitizer catches a read past the end.  The oracle is
 * fuzz_json_check() of t/fuzz/fuzz_json.c, included here.
 */


#define AUTHZ_LIBFUZZER  1

#include "../fuzz/fuzz_json.c"

#include <math.h>

#include "tap.h"
#include "mem.h"


#define MAX_DEPTH    16
#define DIFF_INPUTS  4000


typedef struct {
    const char  *json;
    size_t       len;       /* 0: strlen() */
    int          max;       /* 0: MAX_DEPTH */
    int          want;      /* 1: accepted */
} case_t;


static authz_json_t *parse(const char *json, size_t len, int max,
    const char **err);
static void check_case(const case_t *c, const char *name);
static const char *show(const char *s, size_t len);
static char *nest(int depth, const char *inner);
static char *members(size_t n, const char *extra);
static uint64_t rnd(void);
static void gen_value(char *buf, size_t *n, size_t cap, int depth);
static void gen_number(char *buf, size_t *n, size_t cap);
static void gen_string(char *buf, size_t *n, size_t cap);
static void gen_ws(char *buf, size_t *n, size_t cap);
static void put(char *buf, size_t *n, size_t cap, const char *s, size_t len);

static void test_numbers(void);
static void test_strings(void);
static void test_structure(void);
static void test_duplicates(void);
static void test_depth(void);
static void test_values(void);
static void test_accessors(void);
static void test_dump(void);
static void test_large(void);
static void test_differential(void);


int
main(void)
{
    test_numbers();
    test_strings();
    test_structure();
    test_duplicates();
    test_depth();
    test_values();
    test_accessors();
    test_dump();
    test_large();
    test_differential();

    gc_free();

    return done_testing();
}


static void
test_numbers(void)
{
    size_t  i;

    static const case_t  v[] = {
        { "[01]", 0, 0, 0 },
        { "[-01]", 0, 0, 0 },
        { "[00]", 0, 0, 0 },
        { "[-]", 0, 0, 0 },
        { "[- 1]", 0, 0, 0 },
        { "[1.]", 0, 0, 0 },
        { "[1.e5]", 0, 0, 0 },
        { "[.5]", 0, 0, 0 },
        { "[1e]", 0, 0, 0 },
        { "[1e+]", 0, 0, 0 },
        { "[1E-]", 0, 0, 0 },
        { "[+1]", 0, 0, 0 },
        { "[0x10]", 0, 0, 0 },
        { "[NaN]", 0, 0, 0 },
        { "[Infinity]", 0, 0, 0 },
        { "[-Infinity]", 0, 0, 0 },
        { "[1e400]", 0, 0, 0 },
        { "[-1e400]", 0, 0, 0 },
        { "[1.8e308]", 0, 0, 0 },
        { "[9223372036854775808]", 0, 0, 0 },
        { "[-9223372036854775809]", 0, 0, 0 },
        { "[100000000000000000000]", 0, 0, 0 },
        { "[1", 0, 0, 0 },
        { "[1.5", 0, 0, 0 },
        { "[0]", 0, 0, 1 },
        { "[-0]", 0, 0, 1 },
        { "[0.0]", 0, 0, 1 },
        { "[-0.0]", 0, 0, 1 },
        { "[1e-400]", 0, 0, 1 },
        { "[-1e-400]", 0, 0, 1 },
        { "[4.9e-324]", 0, 0, 1 },
        { "[2.2250738585072011e-308]", 0, 0, 1 },
        { "[1.7976931348623157e308]", 0, 0, 1 },
        { "[9223372036854775807]", 0, 0, 1 },
        { "[-9223372036854775808]", 0, 0, 1 },
        { "[9223372036854775808.0]", 0, 0, 1 },
        { "[100000000000000000000e0]", 0, 0, 1 },
        { "[1E5]", 0, 0, 1 },
        { "[1e05]", 0, 0, 1 },
        { "[1e+5]", 0, 0, 1 },
        { "[-0.0e-0]", 0, 0, 1 },
        { "[0e99999999999]", 0, 0, 1 },
        { "[1e-99999999999]", 0, 0, 1 },
        { "[123456789012345678901234567890.123456789e-10]", 0, 0, 1 },
        { "[0.000000000000000000000000000001]", 0, 0, 1 },
        { "[9007199254740993]", 0, 0, 1 },
        { "[9007199254740993.0]", 0, 0, 1 },
        { NULL, 0, 0, 0 }
    };

    for (i = 0; v[i].json != NULL; i++) {
        check_case(&v[i], "number");
    }
}


static void
test_strings(void)
{
    int     c;
    size_t  i;
    char    doc[8];
    case_t  k;

    static const case_t  v[] = {
        { "[\"\\u0000\"]", 0, 0, 0 },
        { "{\"\\u0000\":1}", 0, 0, 0 },
        { "{\"a\\u0000b\":1}", 0, 0, 0 },
        { "[\"\\ud800\"]", 0, 0, 0 },
        { "[\"\\udbff\"]", 0, 0, 0 },
        { "[\"\\udc00\"]", 0, 0, 0 },
        { "[\"\\udfff\"]", 0, 0, 0 },
        { "[\"\\udc00\\ud800\"]", 0, 0, 0 },
        { "[\"\\ud800\\ud800\"]", 0, 0, 0 },
        { "[\"\\ud800\\u0041\"]", 0, 0, 0 },
        { "[\"\\ud800x\"]", 0, 0, 0 },
        { "[\"\\ud800\\\"]", 0, 0, 0 },
        { "[\"\\ud800\\\\u0041\"]", 0, 0, 0 },
        { "[\"\\u00g0\"]", 0, 0, 0 },
        { "[\"\\u00\"]", 0, 0, 0 },
        { "[\"\\u00", 0, 0, 0 },
        { "[\"\\U0041\"]", 0, 0, 0 },
        { "[\"\\x41\"]", 0, 0, 0 },
        { "[\"\\'\"]", 0, 0, 0 },
        { "[\"\\a\"]", 0, 0, 0 },
        { "[\"\\", 0, 0, 0 },
        { "[\"abc", 0, 0, 0 },
        { "[\"\xc0\x80\"]", 0, 0, 0 },
        { "[\"\xc1\xbf\"]", 0, 0, 0 },
        { "[\"\xe0\x80\xaf\"]", 0, 0, 0 },
        { "[\"\xe0\x9f\xbf\"]", 0, 0, 0 },
        { "[\"\xf0\x8f\xbf\xbf\"]", 0, 0, 0 },
        { "[\"\xed\xa0\x80\"]", 0, 0, 0 },
        { "[\"\xed\xbf\xbf\"]", 0, 0, 0 },
        { "[\"\xf4\x90\x80\x80\"]", 0, 0, 0 },
        { "[\"\xf5\x80\x80\x80\"]", 0, 0, 0 },
        { "[\"\xf8\x88\x80\x80\x80\"]", 0, 0, 0 },
        { "[\"\xe2\x82\"]", 0, 0, 0 },
        { "[\"\xe2\x82", 0, 0, 0 },
        { "[\"\xe2\x28\xa1\"]", 0, 0, 0 },
        { "[\"\x80\"]", 0, 0, 0 },
        { "[\"\xbf\"]", 0, 0, 0 },
        { "[\"\xfe\"]", 0, 0, 0 },
        { "[\"\xff\"]", 0, 0, 0 },
        { "[\"a\tb\"]", 0, 0, 0 },
        { "[\"a\nb\"]", 0, 0, 0 },
        { "{\"a\x01\":1}", 0, 0, 0 },
        { "[\"\\ud83d\\ude00\"]", 0, 0, 1 },
        { "[\"\\uD83D\\uDE00\"]", 0, 0, 1 },
        { "[\"\\udbff\\udfff\"]", 0, 0, 1 },
        { "[\"\\u0001\\u001f\\u007f\\u0080\\uffff\\ufeff\"]", 0, 0, 1 },
        { "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", 0, 0, 1 },
        { "[\"\xc2\x80\xdf\xbf\"]", 0, 0, 1 },
        { "[\"\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\"]", 0, 0,
          1 },
        { "[\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"]", 0, 0, 1 },
        { "[\"\x7f\"]", 0, 0, 1 },
        { "[\"\"]", 0, 0, 1 },
        { "{\"\":\"\"}", 0, 0, 1 },
        { "[\"12345678\\\"12345678\xc3\xa9" "12345678\"]", 0, 0, 1 },
        { NULL, 0, 0, 0 }
    };

    for (i = 0; v[i].json != NULL; i++) {
        check_case(&v[i], "string");
    }

    /* every control byte, raw, in a string: refused; DEL: accepted */

    for (c = 0; c <= 0x7f; c++) {
        if (c >= 0x20 && c < 0x7f) {
            continue;
        }

        doc[0] = '[';
        doc[1] = '"';
        doc[2] = (char) c;
        doc[3] = '"';
        doc[4] = ']';

        k.json = doc;
        k.len = 5;
        k.max = 0;
        k.want = (c == 0x7f);

        check_case(&k, "raw byte in a string");
    }
}


static void
test_structure(void)
{
    size_t  i;

    static const case_t  v[] = {
        { "", 0, 0, 0 },
        { " \t\r\n", 0, 0, 0 },
        { "1", 0, 0, 0 },
        { "-1", 0, 0, 0 },
        { "\"s\"", 0, 0, 0 },
        { "true", 0, 0, 0 },
        { "null", 0, 0, 0 },
        { "\xef\xbb\xbf{}", 0, 0, 0 },
        { "\xef\xbb\xbf[]", 0, 0, 0 },
        { "\f[]", 0, 0, 0 },
        { "\v[]", 0, 0, 0 },
        { "[\xc2\xa0]", 0, 0, 0 },
        { "[", 0, 0, 0 },
        { "{", 0, 0, 0 },
        { "]", 0, 0, 0 },
        { "[}", 0, 0, 0 },
        { "{]", 0, 0, 0 },
        { "[1,]", 0, 0, 0 },
        { "[,1]", 0, 0, 0 },
        { "[,]", 0, 0, 0 },
        { "[1,,2]", 0, 0, 0 },
        { "{\"a\":1,}", 0, 0, 0 },
        { "{,}", 0, 0, 0 },
        { "{\"a\"}", 0, 0, 0 },
        { "{\"a\":}", 0, 0, 0 },
        { "{\"a\" 1}", 0, 0, 0 },
        { "{\"a\"::1}", 0, 0, 0 },
        { "{1:2}", 0, 0, 0 },
        { "{a:2}", 0, 0, 0 },
        { "{'a':2}", 0, 0, 0 },
        { "[1 2]", 0, 0, 0 },
        { "[\"a\" \"b\"]", 0, 0, 0 },
        { "[true false]", 0, 0, 0 },
        { "[tru]", 0, 0, 0 },
        { "[truex]", 0, 0, 0 },
        { "[true1]", 0, 0, 0 },
        { "[nulll]", 0, 0, 0 },
        { "[True]", 0, 0, 0 },
        { "[fals]", 0, 0, 0 },
        { "[1]x", 0, 0, 0 },
        { "[1] 1", 0, 0, 0 },
        { "{} {}", 0, 0, 0 },
        { "[][]", 0, 0, 0 },
        { "[]\f", 0, 0, 0 },
        { "[1]\x00", 4, 0, 0 },
        { "\x00[]", 3, 0, 0 },
        { "[\x00 1]", 5, 0, 0 },
        { "[1\x00\x00]", 5, 0, 0 },
        { "[1 \x00]", 5, 0, 0 },
        { "[\"a\"\x00]", 6, 0, 0 },
        { "[[]\x00]", 5, 0, 0 },
        { "[1.\x00" "5]", 6, 0, 0 },
        { "[-\x00" "1]", 6, 0, 0 },
        { "[1e\x00" "5]", 6, 0, 0 },
        { "[tru\x00" "e]", 8, 0, 0 },
        { "[1/*c*/]", 0, 0, 0 },
        { "[]", 0, 0, 1 },
        { "{}", 0, 0, 1 },
        { " \t\r\n[ \t\r\n1 \t\r\n, \t\r\n2 \t\r\n] \t\r\n", 0, 0, 1 },
        { "\n{\r\"a\"\t:\n1\r,\t\"b\"\n:[ ] }\n", 0, 0, 1 },
        { "[true,false,null]", 0, 0, 1 },

        /* jansson loses a NUL that follows a number or a literal */

        { "[1\x00]", 4, 0, 1 },
        { "[1\x00,2]", 6, 0, 1 },
        { "[1\x00 ]", 5, 0, 1 },
        { "[1.5\x00]", 6, 0, 1 },
        { "[1e5\x00]", 6, 0, 1 },
        { "[-0\x00]", 5, 0, 1 },
        { "[true\x00]", 7, 0, 1 },
        { "{\"a\":null\x00}", 11, 0, 1 },
        { "{\"a\":false\x00,\"b\":0\x00}", 19, 0, 1 },
        { NULL, 0, 0, 0 }
    };

    for (i = 0; v[i].json != NULL; i++) {
        check_case(&v[i], "structure");
    }
}


static void
test_duplicates(void)
{
    size_t  i;

    static const case_t  v[] = {
        { "{\"a\":1,\"a\":2}", 0, 0, 0 },
        { "{\"a\":1,\"a\":1}", 0, 0, 0 },
        { "{\"a\":1,\"\\u0061\":2}", 0, 0, 0 },
        { "{\"\\u0061\":1,\"a\":2}", 0, 0, 0 },
        { "{\"ab\":1,\"a\\u0062\":1}", 0, 0, 0 },
        { "{\"\\/\":1,\"/\":1}", 0, 0, 0 },
        { "{\"\xc3\xa9\":1,\"\\u00e9\":1}", 0, 0, 0 },
        { "{\"\":1,\"\":2}", 0, 0, 0 },
        { "{\"a\":{\"b\":1,\"b\":1}}", 0, 0, 0 },
        { "[{\"a\":1,\"b\":2,\"a\":3}]", 0, 0, 0 },
        { "{\"a\":[],\"b\":{},\"a\":{}}", 0, 0, 0 },
        { "{\"a\":1,\"A\":2}", 0, 0, 1 },
        { "{\"a\":1,\"a \":2,\" a\":3,\"aa\":4}", 0, 0, 1 },
        { "{\"a\":1,\"b\":{\"a\":2}}", 0, 0, 1 },
        { "[{\"a\":1},{\"a\":1}]", 0, 0, 1 },
        { "{\"iss\":1,\"iat\":2,\"isa\":3,\"sub\":4,\"aud\":5}", 0, 0, 1 },
        { NULL, 0, 0, 0 }
    };

    for (i = 0; v[i].json != NULL; i++) {
        check_case(&v[i], "duplicates");
    }
}


static void
test_depth(void)
{
    size_t  i;
    case_t  k;

    static const case_t  v[] = {
        { "[]", 0, 1, 1 },
        { "{}", 0, 1, 1 },
        { "[1,\"a\",true]", 0, 1, 1 },
        { "[[]]", 0, 1, 0 },
        { "{\"a\":{}}", 0, 1, 0 },
        { "[[]]", 0, 2, 1 },
        { "[\"[[[[\"]", 0, 1, 1 },
        { "{\"[\":\"{{\"}", 0, 1, 1 },
        { NULL, 0, 0, 0 }
    };

    for (i = 0; v[i].json != NULL; i++) {
        check_case(&v[i], "depth");
    }

    k.len = 0;

    k.json = nest(16, "1");
    k.max = 16;
    k.want = 1;
    check_case(&k, "depth 16 of 16");

    k.json = nest(17, "1");
    k.want = 0;
    check_case(&k, "depth 17 of 16");

    k.json = nest(17, "");
    check_case(&k, "depth 17 of 16, empty");

    /* nothing is accepted without a level */

    ok(parse("[]", 2, 0, NULL) == NULL && parse("{}", 2, -1, NULL) == NULL
       && fuzz_json_check((const uint8_t *) "[]", 2, 0) == NULL,
       "depth 1 of 0 and of -1 refused, as jansson");

    /* jansson's own limit: a value at depth 2049 */

    k.max = 4096;

    k.json = nest(2048, "");
    k.want = 1;
    check_case(&k, "depth 2048 of 4096, empty");

    k.json = nest(2047, "1");
    check_case(&k, "depth 2047 of 4096, a value");

    k.json = nest(2048, "1");
    k.want = 0;
    check_case(&k, "depth 2048 of 4096, a value");

    k.json = nest(2049, "");
    check_case(&k, "depth 2049 of 4096, empty");

    k.json = nest(3000, "1");
    k.len = 2999 * 2 + 1;
    check_case(&k, "3000 open brackets, unclosed");

    k.json = nest(20000, "");
    k.len = 20000;
    k.max = 16;
    check_case(&k, "20000 open brackets of 16");
}


/* the values of a typical payload, one by one */

static void
test_values(void)
{
    size_t               i;
    double               d;
    const char          *err;
    authz_json_t        *o, *e;
    static const char    doc[] =
        "{\"iss\":\"https://idp.example.com\",\"sub\":\"user-4711\","
        "\"aud\":[\"api\",\"web\"],\"exp\":1795323600,\"nbf\":-17,"
        "\"big\":-9223372036854775808,\"ratio\":0.1,\"tiny\":1e-400,"
        "\"neg0\":-0.0,\"int0\":-0,\"e\":\"caf\\u00e9 \\ud83d\\ude00\\n\","
        "\"ok\":true,\"no\":false,\"nil\":null,"
        "\"nested\":{\"a\":[1,[2,{\"b\":[]}]],\"c\":{}},"
        "\"last\":1.5e300}";

    o = parse(doc, sizeof(doc) - 1, MAX_DEPTH, &err);

    if (!ok(o != NULL, "the payload parses")) {
        diag("%s", err);
        return;
    }

    ok(o->type == AUTHZ_JSON_OBJECT && o->len == 16 && o->key == NULL
       && o->span == 26 && !o->flat, "root: an object of 16 members");

    e = authz_json_get(o, "iss");
    ok(authz_json_is_string(e) && e->len == 23
       && strcmp(e->v.s, "https://idp.example.com") == 0, "iss");
    ok(e == o + 1 && e->key_len == 3 && strcmp(e->key, "iss") == 0,
       "iss: the first node after the root, its name NUL-terminated");

    e = authz_json_get(o, "aud");
    ok(authz_json_is_array(e) && e->len == 2 && e->span == 3 && e->flat
       && strcmp(authz_json_array_get(e, 1)->v.s, "web") == 0,
       "aud: a flat array of 2");

    e = authz_json_get(o, "exp");
    ok(authz_json_is_integer(e) && e->v.i == 1795323600LL
       && authz_json_number_value(e) == 1795323600.0, "exp: an integer");

    e = authz_json_get(o, "nbf");
    ok(authz_json_is_integer(e) && e->v.i == -17, "nbf: -17");

    e = authz_json_get(o, "big");
    ok(authz_json_is_integer(e) && e->v.i == -9223372036854775807LL - 1,
       "big: the least long long");

    e = authz_json_get(o, "ratio");
    d = 0.1;
    ok(authz_json_is_real(e) && memcmp(&e->v.d, &d, sizeof(d)) == 0,
       "ratio: 0.1 to the bit");

    e = authz_json_get(o, "tiny");
    ok(authz_json_is_real(e) && e->v.d == 0.0 && !signbit(e->v.d),
       "tiny: an underflow is 0.0");

    e = authz_json_get(o, "neg0");
    ok(authz_json_is_real(e) && e->v.d == 0.0 && signbit(e->v.d),
       "neg0: -0.0");

    e = authz_json_get(o, "int0");
    ok(authz_json_is_integer(e) && e->v.i == 0, "int0: -0 is integer 0");

    e = authz_json_get(o, "e");
    ok(authz_json_is_string(e) && authz_json_string_length(e) == 11
       && memcmp(e->v.s, "caf\xc3\xa9 \xf0\x9f\x98\x80\n", 12) == 0,
       "e: escapes decoded to UTF-8, NUL-terminated");

    ok(authz_json_is_true(authz_json_get(o, "ok"))
       && authz_json_is_false(authz_json_get(o, "no"))
       && authz_json_is_null(authz_json_get(o, "nil"))
       && authz_json_is_boolean(authz_json_get(o, "no"))
       && !authz_json_is_boolean(authz_json_get(o, "nil")),
       "the literals");

    e = authz_json_get(o, "nested");
    ok(authz_json_is_object(e) && e->len == 2 && e->span == 8,
       "nested: an object of 2 members, 8 nodes");
    e = authz_json_get(e, "a");
    ok(authz_json_is_array(e) && e->len == 2 && e->span == 6 && !e->flat,
       "nested.a: not flat");
    e = authz_json_array_get(e, 1);
    ok(authz_json_is_array(e) && e->len == 2 && e->span == 4 && !e->flat
       && e->key == NULL, "nested.a[1]");
    e = authz_json_array_get(e, 1);
    ok(authz_json_is_object(e) && e->len == 1
       && authz_json_is_array(authz_json_get(e, "b"))
       && authz_json_get(e, "b")->flat
       && authz_json_get(e, "b")->len == 0, "nested.a[1][1].b: []");

    e = authz_json_get(o, "last");
    d = 1.5e300;
    ok(authz_json_is_real(e) && memcmp(&e->v.d, &d, sizeof(d)) == 0
       && e == o + o->span - 1, "last: the last node");

    /* document order, names NUL-terminated, spans add up */

    {
        static const char  *names[] = {
            "iss", "sub", "aud", "exp", "nbf", "big", "ratio", "tiny",
            "neg0", "int0", "e", "ok", "no", "nil", "nested", "last"
        };

        size_t  span;
        int     good;

        span = 1;
        good = 1;

        authz_json_foreach(o, i, e) {
            good = good && strcmp(e->key, names[i]) == 0
                   && e->key_len == strlen(names[i]);
            span += e->span;
        }

        ok(good && i == 16 && span == o->span,
           "foreach: the members in document order");
    }

    authz_json_free(o);
}


static void
test_accessors(void)
{
    size_t         i, n;
    const char    *err;
    authz_json_t  *o, *a, *e, *none;

    static const char  doc[] =
        "{\"k\":1,\"key\":2,\"ke\":3,\"\":4,\"\\u00e9\":5,"
        "\"arr\":[[1],2,{\"x\":3},\"s\"],\"flat\":[10,\"b\",null,2.5]}";

    none = NULL;
    o = parse(doc, sizeof(doc) - 1, MAX_DEPTH, &err);

    if (!ok(o != NULL, "accessors: parses")) {
        return;
    }

    ok(authz_json_getn(o, "key", 3)->v.i == 2
       && authz_json_getn(o, "keyword", 3)->v.i == 2
       && authz_json_getn(o, "key", 2)->v.i == 3
       && authz_json_getn(o, "key", 1)->v.i == 1
       && authz_json_getn(o, "key", 0)->v.i == 4,
       "getn: by length, not by NUL");
    ok(authz_json_getn(o, "key\0x", 5) == NULL
       && authz_json_getn(o, "k\0", 2) == NULL,
       "getn: a name with a NUL is no member");
    ok(authz_json_get(o, "\xc3\xa9")->v.i == 5, "get: a decoded name");
    ok(authz_json_get(o, "K") == NULL && authz_json_get(o, "keys") == NULL,
       "get: absent names");
    ok(authz_json_get(NULL, "k") == NULL
       && authz_json_get(authz_json_get(o, "k"), "k") == NULL
       && authz_json_get(authz_json_get(o, "arr"), "k") == NULL,
       "get: NULL and non-objects");

    a = authz_json_get(o, "arr");
    ok(a->flat == 0 && a->len == 4, "arr: not flat");
    ok(authz_json_array_get(a, 0)->type == AUTHZ_JSON_ARRAY
       && authz_json_array_get(a, 1)->v.i == 2
       && authz_json_get(authz_json_array_get(a, 2), "x")->v.i == 3
       && strcmp(authz_json_array_get(a, 3)->v.s, "s") == 0
       && authz_json_array_get(a, 4) == NULL
       && authz_json_array_get(a, (size_t) -1) == NULL,
       "array_get on a nested array");

    a = authz_json_get(o, "flat");
    ok(a->flat && a->len == 4 && a->span == 5, "flat: flat");
    ok(authz_json_array_get(a, 0) == a + 1
       && authz_json_array_get(a, 3) == a + 4
       && authz_json_array_get(a, 3)->v.d == 2.5
       && authz_json_array_get(a, 4) == NULL, "array_get on a flat array");
    ok(authz_json_array_get(NULL, 0) == NULL
       && authz_json_array_get(o, 0) == NULL
       && authz_json_array_get(authz_json_get(o, "k"), 0) == NULL,
       "array_get: NULL and non-arrays");

    ok(authz_json_array_size(a) == 4 && authz_json_object_size(a) == 0
       && authz_json_object_size(o) == 7 && authz_json_array_size(o) == 0
       && authz_json_string(a)[0] == '\0'
       && authz_json_string_length(a) == 0
       && authz_json_number_value(a) == 0.0
       && authz_json_array_size(none) == 0 && !authz_json_is_number(none),
       "the size macros on other types");

    n = 0;
    authz_json_foreach(authz_json_get(o, "k"), i, e) {
        n++;
    }
    authz_json_foreach(none, i, e) {
        n++;
    }
    authz_json_foreach(authz_json_get(authz_json_get(o, "arr"), "x"), i, e) {
        n++;
    }
    ok(n == 0, "foreach: nothing in a scalar, NULL");

    n = 0;
    authz_json_foreach(authz_json_get(o, "arr"), i, e) {
        n += e->span;
    }
    ok(n == 6 && i == 4, "foreach: the elements of a nested array");

    authz_json_free(o);
    authz_json_free(NULL);
}


static void
test_dump(void)
{
    int            ascii;
    size_t         i, len;
    const char    *err, *want;
    authz_json_t  *o;
    char           buf[256];

    static const struct {
        const char  *json;
        const char  *want;          /* ascii 0 */
        const char  *want_ascii;    /* ascii 1 */
    } v[] = {
        { " [ ] ", "[]", "[]" },
        { " { } ", "{}", "{}" },
        { "{ \"a\" : [ 1 , { } , [ ] ] , \"b\" : { \"c\" : null } }",
          "{\"a\":[1,{},[]],\"b\":{\"c\":null}}",
          "{\"a\":[1,{},[]],\"b\":{\"c\":null}}" },
        { "[0.1,100.0,1E+2,-0.0,0.5,1e-7,1e22,1e23,-1.5e-300]",
          "[0.10000000000000001,100.0,100.0,-0.0,0.5,"
          "9.9999999999999995e-8,1e22,9.9999999999999992e22,"
          "-1.5000000000000001e-300]",
          NULL },
        { "[1e21,123456789012345678,1.7976931348623157e308,4.9e-324]",
          "[1e21,123456789012345678,1.7976931348623157e308,"
          "4.9406564584124654e-324]", NULL },
        { "[-9223372036854775808,9223372036854775807,-0,0]",
          "[-9223372036854775808,9223372036854775807,0,0]", NULL },
        { "[\"\\u00e9\\ud83d\\ude00\\u0800\\u07ff\"]",
          "[\"\xc3\xa9\xf0\x9f\x98\x80\xe0\xa0\x80\xdf\xbf\"]",
          "[\"\\u00E9\\uD83D\\uDE00\\u0800\\u07FF\"]" },
        { "[\"\\u0001\\u001f\\u001F\\b\\f\\n\\r\\t\\u000b\"]",
          "[\"\\u0001\\u001F\\u001F\\b\\f\\n\\r\\t\\u000B\"]", NULL },
        { "[\"\\/ / \\\" \\\\ \\u007f \\u0020\"]",
          "[\"/ / \\\" \\\\ \x7f  \"]", NULL },
        { "{\"\\u00e9\\n\":\"\\uDBFF\\uDFFF\"}",
          "{\"\xc3\xa9\\n\":\"\xf4\x8f\xbf\xbf\"}",
          "{\"\\u00E9\\n\":\"\\uDBFF\\uDFFF\"}" },
        { "[true,false,null,\"\"]", "[true,false,null,\"\"]", NULL },
        { NULL, NULL, NULL }
    };

    for (i = 0; v[i].json != NULL; i++) {
        o = parse(v[i].json, strlen(v[i].json), MAX_DEPTH, &err);

        if (!ok(o != NULL, "dump %zu parses", i)) {
            continue;
        }

        for (ascii = 0; ascii <= 1; ascii++) {
            want = (ascii && v[i].want_ascii) ? v[i].want_ascii : v[i].want;
            len = authz_json_dump(o, ascii, NULL);

            memset(buf, 'x', sizeof(buf));

            ok(len == strlen(want) && len < sizeof(buf)
               && authz_json_dump(o, ascii, (unsigned char *) buf) == len
               && memcmp(buf, want, len) == 0 && buf[len] == 'x',
               "dump %zu, ascii %d: %s", i, ascii, show(want, strlen(want)));
        }

        authz_json_free(o);

        ok(fuzz_json_check((const uint8_t *) v[i].json, strlen(v[i].json),
                           MAX_DEPTH) == NULL,
           "dump %zu: jansson dumps the same, each node too", i);
    }

    /* a scalar dumps alone (JSON_ENCODE_ANY) */

    o = parse("{\"a\":-1.25,\"b\":\"x\\\"y\"}", 22, MAX_DEPTH, &err);

    ok(o != NULL
       && authz_json_dump(authz_json_get(o, "a"), 0, (unsigned char *) buf)
          == 5 && memcmp(buf, "-1.25", 5) == 0
       && authz_json_dump(authz_json_get(o, "b"), 1, (unsigned char *) buf)
          == 6 && memcmp(buf, "\"x\\\"y\"", 6) == 0,
       "dump of a member alone");

    authz_json_free(o);
}


static void
test_large(void)
{
    size_t         i, j, m, dup, len;
    char          *doc;
    case_t         k;
    const char    *err;
    authz_json_t  *o;

    k.len = 0;
    k.max = 0;

    k.json = members(2000, NULL);
    k.want = 1;
    check_case(&k, "2000 members");

    o = parse(k.json, strlen(k.json), MAX_DEPTH, &err);
    ok(o != NULL && o->len == 2000 && o->span == 2001
       && authz_json_get(o, "k1999")->v.i == 1999
       && authz_json_get(o, "k0")->v.i == 0
       && authz_json_get(o, "k2000") == NULL, "2000 members: found");
    authz_json_free(o);

    k.want = 0;

    k.json = members(2000, "\"k1999\":0");
    check_case(&k, "2000 members, the last repeated at the end");

    k.json = members(2000, "\"k0\":0");
    check_case(&k, "2000 members, the first repeated at the end");

    k.json = members(2000, "\"k\\u0031000\":0");
    check_case(&k, "2000 members, one repeated with an escape");

    /* names of one long common prefix: a sort compares them in full */

    len = 2000 * 48 + 16;
    doc = gc(xmalloc(len));
    strcpy(doc, "{");

    for (i = 0; i < 2000; i++) {
        snprintf(doc + strlen(doc), len - strlen(doc),
                 "%s\"pppppppppppppppppppppppppppppp%06zu\":%zu",
                 i ? "," : "", (i * 7919) % 2000, i);
    }

    strcat(doc, "}");

    k.json = doc;
    k.want = 1;
    check_case(&k, "2000 members of a common prefix, shuffled");

    /*
     * objects of 31 to 34 members, around the pairwise limit (32), with
     * a duplicate at each place of the last
     */

    for (m = 31; m <= 34; m++) {
        for (dup = 0; dup <= m; dup++) {
            len = 100 * (m + 1) * 8 + 16;
            doc = gc(xmalloc(len));
            strcpy(doc, "[");

            for (i = 0; i < 100; i++) {
                strcat(doc, i ? ",{" : "{");

                for (j = 0; j < m; j++) {
                    snprintf(doc + strlen(doc), len - strlen(doc),
                             "%s\"%c%c\":1", j ? "," : "",
                             (int) ('a' + j % 26), (int) ('A' + j / 26));
                }

                if (i == 99 && dup < m) {
                    snprintf(doc + strlen(doc), len - strlen(doc),
                             ",\"%c%c\":2", (int) ('a' + dup % 26),
                             (int) ('A' + dup / 26));
                }

                strcat(doc, "}");
            }

            strcat(doc, "]");

            k.json = doc;
            k.want = (dup == m);
            check_case(&k, (dup == m) ? "100 objects around the pairwise limit"
                                      : "100 objects, a duplicate in the last");
        }
    }
}


/*
 * generated values (every kind of number, string and nesting, random
 * whitespace), some of them mutated: a byte changed, inserted, removed
 */

static void
test_differential(void)
{
    int             max;
    size_t          i, n, at, accepted, refused, failed;
    char           *buf;
    const char     *diff;
    unsigned char  *copy;

    static const char  bytes[] = "\"\\{}[],:0123456789.eE+-tfnu \t\n\r"
                                 "\x00\x01\x1f\x7f\x80\xbf\xc2\xc3\xe0\xed"
                                 "\xef\xf0\xf4\xff";

    buf = gc(xmalloc(65536));
    accepted = 0;
    refused = 0;
    failed = 0;

    for (i = 0; i < DIFF_INPUTS; i++) {
        n = 0;
        put(buf, &n, 65536, (rnd() % 2) ? "{" : "[", 1);

        if (buf[0] == '{') {
            put(buf, &n, 65536, "\"a\":", 4);
        }

        gen_value(buf, &n, 60000, 0);
        put(buf, &n, 65536, (buf[0] == '{') ? "}" : "]", 1);

        switch (rnd() % 4) {

        case 0:
            at = rnd() % n;
            buf[at] = bytes[rnd() % (sizeof(bytes) - 1)];
            break;

        case 1:
            at = rnd() % n;
            memmove(buf + at + 1, buf + at, n - at);
            buf[at] = bytes[rnd() % (sizeof(bytes) - 1)];
            n++;
            break;

        case 2:
            at = rnd() % n;
            memmove(buf + at, buf + at + 1, n - at - 1);
            n--;
            break;

        default:
            break;
        }

        max = (rnd() % 4 == 0) ? (int) (rnd() % 5) : MAX_DEPTH;

        copy = dup_exact(buf, n);
        diff = fuzz_json_check(copy, n, max);

        if (diff != NULL && failed++ < 5) {
            diag("differs at max %d (%s): %s", max, diff, show(buf, n));
        }

        if (authz_json_depth_ok(copy, n, max)) {
            json_error_t  jerr;
            json_t       *j;

            j = json_loadb((const char *) copy, n, JSON_REJECT_DUPLICATES,
                           &jerr);

            if (j != NULL) {
                accepted++;

            } else {
                refused++;
            }

            json_decref(j);
        }

        free(copy);
    }

    ok(failed == 0, "differential: %d inputs, %zu differ", DIFF_INPUTS,
       failed);
    ok(accepted > DIFF_INPUTS / 4 && refused > DIFF_INPUTS / 8,
       "differential: both sides exercised (%zu accepted, %zu refused)",
       accepted, refused);
}


static void
gen_value(char *buf, size_t *n, size_t cap, int depth)
{
    size_t  i, k;

    if (*n >= cap) {
        return;
    }

    switch (rnd() % (depth < 5 ? 9 : 6)) {

    case 0:
    case 1:
        gen_number(buf, n, cap);
        break;

    case 2:
    case 3:
        gen_string(buf, n, cap);
        break;

    case 4:
        put(buf, n, cap, (rnd() % 3 == 0) ? "true"
                         : (rnd() % 2) ? "false" : "null", 0);
        break;

    case 5:
        put(buf, n, cap, (rnd() % 2) ? "[]" : "{}", 2);
        break;

    case 6:
    case 7:
        k = (rnd() % 8 || depth > 1) ? rnd() % 6 : rnd() % 40;
        put(buf, n, cap, "[", 1);

        for (i = 0; i < k; i++) {
            if (i) {
                put(buf, n, cap, ",", 1);
            }

            gen_ws(buf, n, cap);
            gen_value(buf, n, cap, depth + 1);
            gen_ws(buf, n, cap);
        }

        put(buf, n, cap, "]", 1);
        break;

    default:
        k = (rnd() % 8 || depth > 1) ? rnd() % 6 : rnd() % 40;
        put(buf, n, cap, "{", 1);

        for (i = 0; i < k; i++) {
            if (i) {
                put(buf, n, cap, ",", 1);
            }

            gen_ws(buf, n, cap);
            gen_string(buf, n, cap);
            gen_ws(buf, n, cap);
            put(buf, n, cap, ":", 1);
            gen_value(buf, n, cap, depth + 1);
        }

        put(buf, n, cap, "}", 1);
    }
}


static void
gen_number(char *buf, size_t *n, size_t cap)
{
    size_t  i, k;
    char    tmp[128];

    static const char  *edges[] = {
        "0", "-0", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "-9223372036854775809", "1e308", "1e309",
        "2.2250738585072014e-308", "4.9e-324", "2.4703282292062327e-324",
        "2.4703282292062328e-324", "9007199254740993", "0.1", "1e22",
        "1e23", "8.98846567431158e307", "1.7976931348623158e308",
        "1.7976931348623159e308", "179769313486231580793728971405301e276",
        "0.0000000000000000000000000000000000001e37", "-1E-2", "1E+2"
    };

    if (rnd() % 4 == 0) {
        put(buf, n, cap, edges[rnd() % (sizeof(edges) / sizeof(char *))], 0);
        return;
    }

    k = 0;

    if (rnd() % 3 == 0) {
        tmp[k++] = '-';
    }

    /* digits, a fraction, an exponent: every path of the conversion */

    i = 1 + rnd() % ((rnd() % 4 == 0) ? 40 : 12);
    tmp[k++] = (char) ('1' + rnd() % 9);

    while (--i > 0) {
        tmp[k++] = (char) ('0' + rnd() % 10);
    }

    if (rnd() % 2) {
        tmp[k++] = '.';
        i = 1 + rnd() % ((rnd() % 4 == 0) ? 40 : 8);

        while (i-- > 0) {
            tmp[k++] = (char) ('0' + rnd() % 10);
        }
    }

    if (rnd() % 3 == 0) {
        k += snprintf(tmp + k, sizeof(tmp) - k, "%s%s%d",
                      (rnd() % 2) ? "e" : "E",
                      (rnd() % 3 == 0) ? "-" : (rnd() % 2) ? "+" : "",
                      (int) (rnd() % ((rnd() % 2) ? 30 : 400)));
    }

    put(buf, n, cap, tmp, k);
}


static void
gen_string(char *buf, size_t *n, size_t cap)
{
    size_t  i, k;

    static const char  *pieces[] = {
        "a", "b", "sub", "iss", "aud", "exp", " ", "/", "\\/", "\\\"",
        "\\\\", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0061", "\\u00e9",
        "\\u00E9", "\\u0001", "\\u001f", "\\u007f", "\\u0800", "\\uffff",
        "\\ud83d\\ude00", "\\uDBFF\\uDFFF", "\xc3\xa9", "\xe2\x82\xac",
        "\xf0\x9f\x98\x80", "\x7f", "0123456789abcdef", "\xed\x9f\xbf",
        "\\ud800", "\\udc00", "\\u0000", "\xc0\x80", "\xed\xa0\x80"
    };

    k = rnd() % 5;
    put(buf, n, cap, "\"", 1);

    for (i = 0; i < k; i++) {
        /* the last five are refused: rarely */
        put(buf, n, cap,
            pieces[rnd() % (sizeof(pieces) / sizeof(char *)
                            - ((rnd() % 16) ? 5 : 0))], 0);
    }

    put(buf, n, cap, "\"", 1);
}


static void
gen_ws(char *buf, size_t *n, size_t cap)
{
    static const char  *ws[] = { " ", "\t", "\n", "\r", " \r\n\t " };

    if (rnd() % 4 == 0) {
        put(buf, n, cap, ws[rnd() % 5], 0);
    }
}


static void
put(char *buf, size_t *n, size_t cap, const char *s, size_t len)
{
    if (len == 0) {
        len = strlen(s);
    }

    if (*n + len <= cap) {
        memcpy(buf + *n, s, len);
        *n += len;
    }
}


static uint64_t
rnd(void)
{
    static uint64_t  x = 0x9e3779b97f4a7c15ULL;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;

    return x;
}


/* the case as expected, and as jansson with authz_json_depth_ok() says */

static void
check_case(const case_t *c, const char *name)
{
    int            max;
    size_t         len;
    const char    *err, *diff;
    authz_json_t  *j;

    len = c->len ? c->len : strlen(c->json);
    max = c->max ? c->max : MAX_DEPTH;

    err = NULL;
    j = parse(c->json, len, max, &err);

    ok((j != NULL) == c->want && (j != NULL || err != NULL),
       "%s: %s %s%s%s", name, show(c->json, len),
       c->want ? "accepted" : "refused", j ? "" : ": ", j ? "" : err);

    authz_json_free(j);

    {
        unsigned char  *copy;

        copy = dup_exact(c->json, len);
        diff = fuzz_json_check(copy, len, max);
        free(copy);
    }

    ok(diff == NULL, "%s: %s as jansson%s%s", name, show(c->json, len),
       diff ? ": " : "", diff ? diff : "");
}


/* parsed from an exact-size copy */

static authz_json_t *
parse(const char *json, size_t len, int max, const char **err)
{
    const char     *e;
    authz_json_t   *j;
    unsigned char  *copy;

    copy = dup_exact(json, len);
    j = authz_json_parse(copy, len, max, err ? err : &e);
    free(copy);

    return j;
}


/* printable, shortened */

static const char *
show(const char *s, size_t len)
{
    size_t  i, n;
    char   *out;

    out = gc(xmalloc(4 * 48 + 8));
    n = 0;

    for (i = 0; i < len && i < 48; i++) {
        if ((unsigned char) s[i] >= 0x20 && (unsigned char) s[i] < 0x7f) {
            out[n++] = s[i];

        } else {
            n += sprintf(out + n, "\\x%02x", (unsigned char) s[i]);
        }
    }

    if (len > 48) {
        n += sprintf(out + n, "...");
    }

    out[n] = '\0';

    return out;
}


/* depth arrays around inner */

static char *
nest(int depth, const char *inner)
{
    int     i;
    char   *s;
    size_t  k;

    s = gc(xmalloc(2 * (size_t) depth + strlen(inner) + 1));
    k = 0;

    for (i = 0; i < depth; i++) {
        s[k++] = '[';
    }

    memcpy(s + k, inner, strlen(inner));
    k += strlen(inner);

    for (i = 0; i < depth; i++) {
        s[k++] = ']';
    }

    s[k] = '\0';

    return s;
}


/* {"k0":0,...,"k<n-1>":n-1[,extra]} */

static char *
members(size_t n, const char *extra)
{
    char    *s;
    size_t   i, k, cap;

    cap = n * 24 + (extra ? strlen(extra) : 0) + 8;
    s = gc(xmalloc(cap));
    k = 0;
    s[k++] = '{';

    for (i = 0; i < n; i++) {
        k += snprintf(s + k, cap - k, "%s\"k%zu\":%zu", i ? "," : "", i, i);
    }

    if (extra != NULL) {
        k += snprintf(s + k, cap - k, ",%s", extra);
    }

    s[k++] = '}';
    s[k] = '\0';

    return s;
}
