/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * unit tests of authz_rules.c: permission syntax, grant matching (wildcards,
 * scope levels), requirements, methods, route patterns and bindings.
 *
 * cc -std=c99 -Wall -Wextra -Werror -g -fsanitize=address,undefined \
 *     -fno-sanitize-recover=all -I ngx_http_authz_module \
 *     t/unit/test_rules.c ngx_http_authz_module/authz_rules.c \
 *     -o /tmp/test_rules && /tmp/test_rules
 *
 * every string handed to the code under test is copied into a heap buffer
 * of its exact size, without a terminating NUL, so that AddressSanitizer
 * catches a read past the end.
 */


#include <stdlib.h>
#include <string.h>

#include "authz_rules.h"
#include "tap.h"
#include "mem.h"
#include "pattern_ref.h"


#define BIG  (64 * 1024)


typedef struct {
    authz_pattern_t       pat;
    unsigned char        *src;
    authz_seg_t          *segs;
} pattern_t;


/* a rule table of one pattern shape: "%d" in it is 1, 2, ... n */

typedef struct {
    authz_rule_t         *rules;
    pattern_t            *pats;
    size_t                n;
} table_t;


static authz_str_t str_dup(const char *s);
static void str_free(authz_str_t *s);
static int perm_valid(const char *s);
static int perm_required_valid(const char *s);
static int sat(const char *g, const char *r, const authz_scope_t *scope);
static int req_parse(const char *text, authz_req_t *req, const char **err);
static void req_free(authz_req_t *req);
static const char *req_err(const char *text);
static unsigned method(const char *m);
static int pattern_compile(pattern_t *p, const char *src, const char **err);
static void pattern_free(pattern_t *p);
static const char *compile_err(const char *src);
static int match_uri(const pattern_t *p, const char *uri, size_t len,
    const authz_bind_t *bind, unsigned enforce);
static int pm(const char *pattern, const char *uri);
static int pmb(const char *pattern, const char *uri, const authz_bind_t *bind,
    unsigned enforce);
static char *repeat(const char *unit, size_t n, const char *prefix,
    const char *suffix);

static void test_perm_syntax(void);
static void test_grants(void);
static void test_scope(void);
static void test_requirements(void);
static void test_methods(void);
static void test_compile(void);
static void test_match(void);
static void test_match_long(void);
static void test_match_globs(void);
static void test_match_reference(void);
static void test_bindings(void);
static void test_rules_find(void);
static void test_rules_bound(void);

static int table_make(table_t *t, const char *fmt, size_t n);
static void table_free(table_t *t);
static size_t table_steps(const table_t *t, unsigned method, const char *uri,
    ptrdiff_t *found);
static size_t table_bound(const table_t *t, const char *uri);
static size_t uri_segs(const char *uri, size_t len);
static int ref_match(const authz_pattern_t *pat, const char *uri, size_t len,
    const authz_bind_t *bind, unsigned enforce);
static ptrdiff_t ref_find(const table_t *t, const char *uri);
static unsigned rnd(unsigned n);


int
main(void)
{
    test_perm_syntax();
    test_grants();
    test_scope();
    test_requirements();
    test_methods();
    test_compile();
    test_match();
    test_match_long();
    test_match_globs();
    test_match_reference();
    test_bindings();
    test_rules_find();
    test_rules_bound();

    return done_testing();
}


static void
test_perm_syntax(void)
{
    int            c, n;
    char          *big;
    unsigned char  b;

    ok(perm_valid("blog:posts.read"), "valid: blog:posts.read");
    ok(perm_valid("*"), "valid: *");
    ok(perm_valid("blog:*"), "valid: blog:*");
    ok(perm_valid("A-z_0.9:*"), "valid: every class");
    ok(perm_valid("::"), "valid: separators only (syntax only)");
    ok(!perm_valid(""), "invalid: empty");
    ok(!perm_valid("a b"), "invalid: space");
    ok(!perm_valid("a,b"), "invalid: comma");
    ok(perm_valid("a|b"), "valid: pipe (a scope token)");
    ok(perm_valid("a/b"), "valid: slash (Cognito scope)");
    ok(perm_valid("https://api.example.com/read"), "valid: URL scope");
    ok(!perm_valid("a\"b"), "invalid: quote");
    ok(!perm_valid("a\\b"), "invalid: backslash");
    ok(!perm_valid("a\x7f"), "invalid: DEL");
    ok(!perm_valid("caf\xc3\xa9"), "invalid: utf-8");
    ok(!perm_valid("a\r\nX-Evil: 1"), "invalid: crlf");
    ok(!authz_perm_valid((const unsigned char *) "a\0b", 3),
       "invalid: embedded nul");
    ok(!authz_perm_valid(NULL, 0), "invalid: NULL, 0");

    n = 0;

    for (c = 0; c < 256; c++) {
        b = (unsigned char) c;
        n += authz_perm_valid(&b, 1);
    }

    ok(n == 94 - 3, "91 single bytes are valid (got %d)", n);

    big = repeat("a", 256, "", "");
    ok(perm_valid(big), "valid: 256 bytes");
    big[255] = ',';
    ok(!perm_valid(big), "invalid: 256 bytes, bad last byte");
    free(big);

    big = repeat("a", 257, "", "");
    ok(!perm_valid(big), "invalid: 257 bytes");
    free(big);

    ok(perm_required_valid("blog:posts.read"), "required: blog:posts.read");
    ok(perm_required_valid("orders:read:own"), "required: orders:read:own");
    ok(perm_required_valid("a"), "required: one byte");
    ok(perm_required_valid("a-b_c"), "required: - and _ are not separators");
    ok(!perm_required_valid(""), "required: empty");
    ok(!perm_required_valid("*"), "required: *");
    ok(!perm_required_valid("blog:*"), "required: blog:*");
    ok(!perm_required_valid("blog:po*sts"), "required: * inside");
    ok(!perm_required_valid(":a"), "required: leading :");
    ok(!perm_required_valid(".a"), "required: leading .");
    ok(!perm_required_valid("a:"), "required: trailing :");
    ok(!perm_required_valid("a."), "required: trailing .");
    ok(!perm_required_valid("a::b"), "required: ::");
    ok(!perm_required_valid("a..b"), "required: ..");
    ok(!perm_required_valid("a:.b"), "required: :.");
    ok(!perm_required_valid("a.:b"), "required: .:");
    ok(!perm_required_valid(":"), "required: : alone");
    ok(!perm_required_valid("a b"), "required: space");

    ok(perm_required_valid("https://api.example.com/read"),
       "required: a URL scope");
    ok(perm_required_valid("orders-api/read"), "required: a Cognito scope");

    big = repeat("a.", 127, "", "z");
    ok(perm_required_valid(big), "required: 255 bytes of segments");
    free(big);

    big = repeat("a.", 128, "", "z");
    ok(!perm_required_valid(big), "required: 257 bytes");
    free(big);
}


static void
test_grants(void)
{
    char         *big, *big2;
    authz_str_t   e, g;

    ok(sat("blog:posts.read", "blog:posts.read", NULL), "equal");
    ok(sat("*", "blog:posts.read", NULL), "* grants everything");
    ok(sat("*", "a", NULL), "* grants a one-byte permission");
    ok(sat("blog:*", "blog:posts.read", NULL), "blog:* > blog:posts.read");
    ok(sat("blog:*", "blog:a:b.c:d", NULL), "blog:* > deep permission");
    ok(sat("blog:posts.*", "blog:posts.update", NULL),
       "blog:posts.* > blog:posts.update");
    ok(sat("blog.*", "blog.x", NULL), ". is a separator too");
    ok(!sat("blog:posts.*", "blog:comments.read", NULL),
       "blog:posts.* does not grant blog:comments.read");
    ok(!sat("blog:posts.*", "blog:posts", NULL),
       "blog:posts.* does not grant blog:posts");
    ok(!sat("blog:posts.*", "blog:posts.", NULL),
       "blog:posts.* does not grant its bare prefix");
    ok(!sat("blog:*", "blogx:a", NULL), "blog:* does not grant blogx:a");
    ok(!sat("blog:*", "blog:", NULL), "blog:* does not grant blog:");
    ok(!sat("blog:*", "blog", NULL), "blog:* does not grant blog");
    ok(!sat("blog:*", "chatbot:slots.read", NULL), "other service");
    ok(!sat("Blog:*", "blog:x", NULL), "case-sensitive wildcard");
    ok(!sat("blog:posts.read", "Blog:posts.read", NULL), "case-sensitive");
    ok(!sat("blog:posts.read", "blog:posts.reader", NULL), "grant is prefix");
    ok(!sat("blog:posts.reader", "blog:posts.read", NULL), "req is prefix");
    ok(!sat("blog:posts.read", "blog:posts.update", NULL), "different");

    /* "*" only counts as the whole last segment */

    ok(!sat("bl*g", "blog", NULL), "bl*g is literal");
    ok(sat("bl*g", "bl*g", NULL), "bl*g grants itself");
    ok(!sat("blog*", "blogx", NULL), "blog* is literal");
    ok(!sat("blog*", "blog:x", NULL), "blog* does not grant blog:x");
    ok(!sat("*:x", "a:x", NULL), "*:x is literal");
    ok(!sat("blog:*:read", "blog:posts:read", NULL),
       "blog:*:read is literal");
    ok(sat("blog:*:read", "blog:*:read", NULL), "blog:*:read grants itself");
    ok(!sat("**", "a", NULL), "** is literal");
    ok(!sat("blog:**", "blog:x", NULL), "blog:** is literal");
    ok(sat("blog:*", "blog:*", NULL), "blog:* grants itself");

    /* empty strings */

    ok(!sat("", "a", NULL), "empty grant");
    ok(!sat("a", "", NULL), "empty requirement: not granted");
    ok(!sat("*", "", NULL), "empty requirement: not even by *");
    ok(!sat("", "", NULL), "empty grant, empty requirement");

    e.len = 0;
    e.data = NULL;
    g.len = 1;
    g.data = (const unsigned char *) "*";
    ok(!authz_grant_satisfies(&g, &e, NULL), "NULL empty requirement");
    ok(!authz_grant_satisfies(&e, &g, NULL), "NULL empty grant");

    /* 64 KiB */

    big = repeat("x", BIG, "blog:", "");
    big2 = repeat("x", BIG, "blog:", "");
    ok(sat(big, big2, NULL), "64 KiB equal");
    ok(sat("blog:*", big2, NULL), "blog:* grants a 64 KiB permission");
    big2[BIG + 4] = 'y';
    ok(!sat(big, big2, NULL), "64 KiB, last byte differs");
    big[BIG + 4] = '*';
    big[BIG + 3] = '.';
    big2[BIG + 3] = '.';
    ok(sat(big, big2, NULL), "64 KiB wildcard prefix");
    big2[6] = 'z';
    ok(!sat(big, big2, NULL), "64 KiB wildcard prefix, early difference");
    free(big);
    free(big2);
}


static void
test_scope(void)
{
    authz_str_t    levels[4];
    authz_scope_t  scope, empty, dup;

    levels[0] = str_dup("own");
    levels[1] = str_dup("team");
    levels[2] = str_dup("org");
    levels[3] = str_dup("all");

    memset(&scope, 0, sizeof(authz_scope_t));
    memset(&empty, 0, sizeof(authz_scope_t));
    memset(&dup, 0, sizeof(authz_scope_t));

    scope.levels = levels;
    scope.nlevels = 4;

    empty.levels = levels;
    empty.nlevels = 0;

    ok(sat("orders:read:org", "orders:read:team", &scope), "org > team");
    ok(sat("orders:read:all", "orders:read:own", &scope), "all > own");
    ok(sat("orders:read:team", "orders:read:team", &scope), "team = team");
    ok(sat("orders:read:own", "orders:read:own", &scope), "own = own");
    ok(!sat("orders:read:own", "orders:read:team", &scope), "own < team");
    ok(!sat("orders:read:org", "orders:read:all", &scope), "org < all");
    ok(!sat("orders:write:all", "orders:read:own", &scope),
       "other action");
    ok(!sat("order:read:all", "orders:read:own", &scope), "other service");
    ok(!sat("orders:read:all", "orders:read:planet", &scope),
       "required level not in list");
    ok(!sat("orders:read:planet", "orders:read:own", &scope),
       "granted level not in list");
    ok(!sat("orders:read:ALL", "orders:read:own", &scope),
       "levels are case-sensitive");
    ok(!sat("orders:read:", "orders:read:own", &scope),
       "empty granted level");
    ok(!sat("all", "own", &scope), "no : at all");
    ok(!sat("all", "x:own", &scope), "no : in the grant");
    ok(!sat("x:all", "own", &scope), "no : in the requirement");
    ok(!sat("a:b:all", "a:own", &scope), "prefixes of different length");
    ok(!sat("orders:read.all", "orders:read.own", &scope),
       "levels follow the last :, not .");
    ok(sat("a:own:all", "a:own:team", &scope), "only the last : counts");
    ok(!sat("a:all:own", "a:own:own", &scope), "earlier levels are prefix");
    ok(sat(":all", ":own", &scope), "empty prefix");
    ok(sat("orders:read:*", "orders:read:own", &scope),
       "wildcard still works with levels");
    ok(sat("orders:*", "orders:read:all", &scope),
       "service wildcard with levels");
    ok(!sat("orders:read:org", "orders:read:team", NULL), "scope NULL");
    ok(!sat("orders:read:org", "orders:read:team", &empty), "no levels");

    /* "authz_wildcards off": "*" in a grant is a plain character */

    empty.nowild = 1;
    ok(!sat("*", "blog:posts.read", &empty), "wildcards off: * is plain");
    ok(!sat("blog:*", "blog:posts.read", &empty),
       "wildcards off: blog:* is plain");
    ok(sat("blog:*", "blog:*", NULL) && sat("blog:posts.read",
                                             "blog:posts.read", &empty),
       "wildcards off: equal strings still match");
    scope.nowild = 1;
    ok(sat("orders:read:org", "orders:read:team", &scope),
       "wildcards off: levels still work");
    ok(!sat("orders:read:*", "orders:read:own", &scope),
       "wildcards off: no wildcard with levels");
    scope.nowild = 0;
    empty.nowild = 0;

    /* a level repeated in the list: the first index counts */

    str_free(&levels[2]);
    levels[2] = str_dup("own");
    dup.levels = levels;
    dup.nlevels = 4;
    ok(!sat("orders:read:own", "orders:read:team", &dup),
       "repeated level: first index");
    ok(sat("orders:read:all", "orders:read:own", &dup),
       "repeated level: all > own");
    str_free(&levels[2]);

    str_free(&levels[0]);
    str_free(&levels[1]);
    str_free(&levels[3]);
}


static void
test_requirements(void)
{
    int           rc;
    char         *big;
    size_t        i;
    ptrdiff_t     r;
    authz_str_t   grants[AUTHZ_MAX_PERMISSIONS], levels[2];
    authz_req_t   req, reqs[3];
    const char   *err;
    authz_scope_t scope;

    ok(authz_req_count_alts((const unsigned char *) "a|b|c", 5) == 3,
       "count a|b|c");
    ok(authz_req_count_alts((const unsigned char *) "a", 1) == 1, "count a");
    ok(authz_req_count_alts((const unsigned char *) "||", 2) == 3,
       "count ||");
    ok(authz_req_count_alts(NULL, 0) >= 1, "count empty: room for one");

    rc = req_parse("blog:posts.update|blog:posts.admin", &req, &err);
    ok(rc == 0 && req.nalts == 2, "parse a|b");
    ok(req.alts[0].len == 17
       && memcmp(req.alts[0].data, "blog:posts.update", 17) == 0,
       "parse a|b: first");
    ok(req.alts[1].len == 16
       && memcmp(req.alts[1].data, "blog:posts.admin", 16) == 0,
       "parse a|b: second");
    ok(req.text.len == 34 && req.alts[0].data == req.text.data,
       "parse a|b: text is the whole input");

    grants[0] = str_dup("blog:posts.read");
    grants[1] = str_dup("blog:posts.admin");
    ok(authz_req_satisfied(&req, grants, 2, NULL), "a|b: second granted");
    ok(!authz_req_satisfied(&req, grants, 1, NULL), "a|b: neither granted");
    ok(!authz_req_satisfied(&req, grants, 0, NULL), "a|b: no grants");
    str_free(&grants[0]);
    str_free(&grants[1]);

    /* 4096 grants, the only match last */

    for (i = 0; i < AUTHZ_MAX_PERMISSIONS; i++) {
        grants[i] = str_dup("blog:posts.read");
    }

    ok(!authz_req_satisfied(&req, grants, AUTHZ_MAX_PERMISSIONS, NULL),
       "4096 grants, none matches");
    str_free(&grants[AUTHZ_MAX_PERMISSIONS - 1]);
    grants[AUTHZ_MAX_PERMISSIONS - 1] = str_dup("blog:*");

    ok(authz_req_satisfied(&req, grants, AUTHZ_MAX_PERMISSIONS, NULL),
       "4096 grants, the last matches");
    req_free(&req);

    /* several requirements: index of the first unmet one */

    req_parse("blog:posts.read", &reqs[0], &err);
    req_parse("chatbot:slots.read|chatbot:slots.write", &reqs[1], &err);
    req_parse("orders:read:team", &reqs[2], &err);

    levels[0] = str_dup("own");
    levels[1] = str_dup("team");
    memset(&scope, 0, sizeof(authz_scope_t));
    scope.levels = levels;
    scope.nlevels = 2;

    ok(authz_reqs_check(reqs, 3, grants, AUTHZ_MAX_PERMISSIONS, &scope) == 1,
       "reqs: second unmet");
    str_free(&grants[0]);
    grants[0] = str_dup("chatbot:slots.write");
    ok(authz_reqs_check(reqs, 3, grants, AUTHZ_MAX_PERMISSIONS, &scope) == 2,
       "reqs: third unmet");
    str_free(&grants[1]);
    grants[1] = str_dup("orders:read:own");
    ok(authz_reqs_check(reqs, 3, grants, AUTHZ_MAX_PERMISSIONS, &scope) == 2,
       "reqs: own does not satisfy team");
    str_free(&grants[1]);
    grants[1] = str_dup("orders:read:team");
    ok(authz_reqs_check(reqs, 3, grants, AUTHZ_MAX_PERMISSIONS, &scope) == -1,
       "reqs: all met");
    ok(authz_reqs_check(reqs, 3, grants, AUTHZ_MAX_PERMISSIONS, NULL) == -1,
       "reqs: all met (exact, no scope)");
    ok(authz_reqs_check(reqs, 3, grants, 0, &scope) == 0,
       "reqs: no grants, first unmet");
    ok(authz_reqs_check(reqs, 0, grants, 0, &scope) == -1,
       "reqs: no requirements");

    r = authz_reqs_check(&reqs[2], 1, grants, 1, &scope);
    ok(r == 0, "reqs: grant past n ignored");

    for (i = 0; i < 3; i++) {
        req_free(&reqs[i]);
    }

    for (i = 0; i < AUTHZ_MAX_PERMISSIONS; i++) {
        str_free(&grants[i]);
    }

    str_free(&levels[0]);
    str_free(&levels[1]);

    /* parse errors */

    err = req_err("");
    ok(err != NULL && strcmp(err, "empty requirement") == 0, "empty");
    err = req_err("a||b");
    ok(err != NULL && strcmp(err, "empty requirement") == 0, "a||b");
    err = req_err("|a");
    ok(err != NULL && strcmp(err, "empty requirement") == 0, "|a");
    err = req_err("a|");
    ok(err != NULL && strcmp(err, "empty requirement") == 0, "a|");
    err = req_err("|");
    ok(err != NULL && strcmp(err, "empty requirement") == 0, "|");
    err = req_err("blog:*");
    ok(err != NULL && strcmp(err, "\"*\" in a required permission") == 0,
       "blog:*");
    err = req_err("a|*");
    ok(err != NULL && strcmp(err, "\"*\" in a required permission") == 0,
       "a|*");
    err = req_err("a b");
    ok(err != NULL && strcmp(err, "invalid character in permission") == 0,
       "space");
    err = req_err("a|b,c");
    ok(err != NULL && strcmp(err, "invalid character in permission") == 0,
       "comma in second alternative");
    err = req_err("a::b");
    ok(err != NULL && strcmp(err, "empty segment in permission") == 0,
       "a::b");
    err = req_err("blog:");
    ok(err != NULL && strcmp(err, "empty segment in permission") == 0,
       "blog:");
    ok(req_err("a|b|c") == NULL, "a|b|c parses");

    big = repeat("a.b|", BIG / 4, "", "c");
    rc = req_parse(big, &req, &err);
    ok(rc == 0 && req.nalts == BIG / 4 + 1, "64 KiB, 16385 alternatives");
    req_free(&req);
    free(big);
}


static void
test_methods(void)
{
    unsigned  all;

    ok(method("GET") == AUTHZ_METHOD_GET, "GET");
    ok(method("HEAD") == AUTHZ_METHOD_HEAD, "HEAD");
    ok(method("POST") == AUTHZ_METHOD_POST, "POST");
    ok(method("PUT") == AUTHZ_METHOD_PUT, "PUT");
    ok(method("PATCH") == AUTHZ_METHOD_PATCH, "PATCH");
    ok(method("DELETE") == AUTHZ_METHOD_DELETE, "DELETE");
    ok(method("OPTIONS") == AUTHZ_METHOD_OPTIONS, "OPTIONS");
    ok(method("TRACE") == AUTHZ_METHOD_TRACE, "TRACE");
    ok(method("CONNECT") == AUTHZ_METHOD_CONNECT, "CONNECT");
    ok(method("*") == AUTHZ_METHOD_ANY, "*");
    ok(method("get") == 0, "lower case is unknown");
    ok(method("Get") == 0, "mixed case is unknown");
    ok(method("") == 0, "empty");
    ok(method("GE") == 0, "prefix of GET");
    ok(method("GETS") == 0, "GET plus one");
    ok(method("PROPFIND") == 0, "PROPFIND is unknown");
    ok(method("**") == 0, "**");

    all = method("GET") | method("HEAD") | method("POST") | method("PUT")
          | method("PATCH") | method("DELETE") | method("OPTIONS")
          | method("TRACE") | method("CONNECT");
    ok(all == 0x1ff, "nine distinct bits");
}


static void
test_compile(void)
{
    int          i;
    char        *src;
    pattern_t    p;
    const char  *err;

    ok(authz_pattern_count_segs((const unsigned char *) "/", 1) == 1,
       "count /");
    ok(authz_pattern_count_segs((const unsigned char *) "/a/b", 4) == 2,
       "count /a/b");
    ok(authz_pattern_count_segs((const unsigned char *) "/a/", 3) == 2,
       "count /a/");
    ok(authz_pattern_count_segs(NULL, 0) >= 1, "count empty");

    /* the literal prefix every matching uri starts with */

    {
        static const struct {
            const char  *pattern;
            const char  *prefix;
        } pf[] = {
            { "/api/svc/items/*", "/api/svc/items" },
            { "/api/blog/posts/**", "/api/blog/posts" },
            { "/api/blog/posts", "/api/blog/posts" },
            { "/a/{tenant}/b", "/a" },
            { "/**", "" },
            { "/*/x", "" },
            { "/", "/" },
            { "/a/", "/a/" },
        };

        for (i = 0; i < (int) (sizeof(pf) / sizeof(pf[0])); i++) {
            ok(pattern_compile(&p, pf[i].pattern, &err) == 0
               && p.pat.prefix.len == strlen(pf[i].prefix)
               && memcmp(p.pat.prefix.data, pf[i].prefix,
                         p.pat.prefix.len) == 0,
               "prefix of %s", pf[i].pattern);
            pattern_free(&p);
        }
    }

    ok(pattern_compile(&p, "/api/blog/posts/**", &err) == 0
       && p.pat.nsegs == 4
       && p.pat.segs[0].type == AUTHZ_SEG_LITERAL
       && p.pat.segs[0].literal.len == 3
       && memcmp(p.pat.segs[0].literal.data, "api", 3) == 0
       && p.pat.segs[3].type == AUTHZ_SEG_GLOBSTAR
       && p.pat.binds == 0,
       "compile /api/blog/posts/**");
    pattern_free(&p);

    ok(pattern_compile(&p, "/", &err) == 0
       && p.pat.nsegs == 1
       && p.pat.segs[0].type == AUTHZ_SEG_LITERAL
       && p.pat.segs[0].literal.len == 0,
       "compile /: one empty literal");
    pattern_free(&p);

    ok(pattern_compile(&p, "/a/", &err) == 0
       && p.pat.nsegs == 2
       && p.pat.segs[1].type == AUTHZ_SEG_LITERAL
       && p.pat.segs[1].literal.len == 0,
       "compile /a/: trailing empty literal");
    pattern_free(&p);

    ok(pattern_compile(&p, "/t/{tenant}/*/{sub}", &err) == 0
       && p.pat.nsegs == 4
       && p.pat.segs[1].type == AUTHZ_SEG_TENANT
       && p.pat.segs[2].type == AUTHZ_SEG_STAR
       && p.pat.segs[3].type == AUTHZ_SEG_SUB
       && p.pat.binds == (AUTHZ_BIND_TENANT | AUTHZ_BIND_SUB),
       "compile bindings");
    pattern_free(&p);

    ok(pattern_compile(&p, "/u/{sub}", &err) == 0
       && p.pat.binds == AUTHZ_BIND_SUB, "binds: sub only");
    pattern_free(&p);

    ok(pattern_compile(&p, "/**/**", &err) == 0 && p.pat.nsegs == 2,
       "compile /**/**");
    pattern_free(&p);

    ok(pattern_compile(&p, "/a//b", &err) == 0 && p.pat.nsegs == 3,
       "compile /a//b");
    pattern_free(&p);

    ok(pattern_compile(&p, "/a.json/.well-known/...", &err) == 0,
       "dots inside literals are fine");
    pattern_free(&p);

    ok(compile_err("") != NULL, "error: empty");
    ok(compile_err("api/blog") != NULL, "error: no leading /");
    ok(compile_err("*") != NULL, "error: *");
    ok(compile_err("/x/{foo}") != NULL, "error: {foo}");
    ok(compile_err("/{}") != NULL, "error: {}");
    ok(compile_err("/{Tenant}") != NULL, "error: {Tenant}");
    ok(compile_err("/{tenant") != NULL, "error: {tenant");
    ok(compile_err("/tenant}") != NULL, "error: tenant}");
    ok(compile_err("/x{tenant}") != NULL, "error: x{tenant}");
    ok(compile_err("/{tenant}x") != NULL, "error: {tenant}x");
    ok(compile_err("/a*b") != NULL, "error: a*b");
    ok(compile_err("/*.json") != NULL, "error: *.json");
    ok(compile_err("/***") != NULL, "error: ***");
    ok(compile_err("/a/..") != NULL, "error: ..");
    ok(compile_err("/a/./b") != NULL, "error: .");

    err = compile_err("/x/{foo}");
    ok(err != NULL && strstr(err, "unknown binding") == err,
       "error text: %s", err ? err : "(none)");
    err = compile_err("nope");
    ok(err != NULL && err[0] >= 'a' && err[0] <= 'z',
       "error text is lowercase: %s", err ? err : "(none)");

    src = repeat("/a", AUTHZ_MAX_PATTERN_SEGMENTS, "", "");
    ok(pattern_compile(&p, src, &err) == 0
       && p.pat.nsegs == AUTHZ_MAX_PATTERN_SEGMENTS, "64 segments");
    pattern_free(&p);
    free(src);

    src = repeat("/a", AUTHZ_MAX_PATTERN_SEGMENTS + 1, "", "");
    err = compile_err(src);
    ok(err != NULL, "65 segments: %s", err ? err : "(none)");
    free(src);

    src = repeat("/", AUTHZ_MAX_PATTERN_SEGMENTS + 1, "", "");
    ok(compile_err(src) != NULL, "65 empty segments");
    free(src);

    for (i = 0; i < 2; i++) {
        src = repeat(i ? "/{sub}" : "/**", AUTHZ_MAX_PATTERN_SEGMENTS, "", "");
        ok(pattern_compile(&p, src, &err) == 0, "64 special segments %d", i);
        pattern_free(&p);
        free(src);
    }
}


static void
test_match(void)
{
    pattern_t        p;
    const char      *err;
    authz_seg_t      seg;
    authz_pattern_t  zero;

    ok(pm("/api/blog/posts/**", "/api/blog/posts") == 1, "** zero segs");
    ok(pm("/api/blog/posts/**", "/api/blog/posts/") == 1, "** empty seg");
    ok(pm("/api/blog/posts/**", "/api/blog/posts/1") == 1, "** one seg");
    ok(pm("/api/blog/posts/**", "/api/blog/posts/1/2") == 1, "** two segs");
    ok(pm("/api/blog/posts/**", "/api/blog/posts//") == 1, "** two empty");
    ok(pm("/api/blog/posts/**", "/api/blog/post") == 0, "shorter literal");
    ok(pm("/api/blog/posts/**", "/api/blog/postsx") == 0, "longer literal");
    ok(pm("/api/blog/posts/**", "/api/blog") == 0, "missing segment");
    ok(pm("/api/blog/posts/**", "/api/Blog/posts") == 0, "case-sensitive");

    ok(pm("/api/blog/posts", "/api/blog/posts") == 1, "exact");
    ok(pm("/api/blog/posts", "/api/blog/posts/") == 0,
       "trailing slash is one more segment");
    ok(pm("/api/blog/posts/", "/api/blog/posts/") == 1,
       "trailing slash pattern");
    ok(pm("/api/blog/posts/", "/api/blog/posts") == 0,
       "trailing slash pattern, no slash");

    ok(pm("/api/blog/posts/*", "/api/blog/posts/1") == 1, "* one seg");
    ok(pm("/api/blog/posts/*", "/api/blog/posts/") == 0, "* not empty");
    ok(pm("/api/blog/posts/*", "/api/blog/posts") == 0, "* not zero");
    ok(pm("/api/blog/posts/*", "/api/blog/posts/1/2") == 0, "* not two");
    ok(pm("/a/*/c", "/a/b/c") == 1, "* in the middle");
    ok(pm("/a/*/c", "/a//c") == 0, "* in the middle, empty");
    ok(pm("/a//c", "/a//c") == 1, "empty literal segment");
    ok(pm("/a//c", "/a/c") == 0, "empty literal needs its segment");
    ok(pm("/*", "/") == 0, "/* against /");
    ok(pm("/*", "/x") == 1, "/* against /x");

    ok(pm("/", "/") == 1, "/ against /");
    ok(pm("/", "/a") == 0, "/ against /a");
    ok(pm("/", "//") == 0, "/ against //");
    ok(pm("/", "") == 0, "/ against empty");
    ok(pm("/**", "/") == 1, "/** against /");
    ok(pm("/**", "/any/thing/at/all") == 1, "/** against deep");
    ok(pm("/**", "") == 0, "/** against empty");
    ok(pm("/**", "relative") == 0, "/** against no leading /");
    ok(pm("/a", "a") == 0, "no leading / in uri");

    ok(pm("/**/**/x", "/x") == 1, "/**/**/x against /x");
    ok(pm("/**/**/x", "/a/b/x") == 1, "/**/**/x against /a/b/x");
    ok(pm("/**/**/x", "/x/x/x") == 1, "/**/**/x against /x/x/x");
    ok(pm("/**/**/x", "/a/b/x/y") == 0, "/**/**/x against /a/b/x/y");
    ok(pm("/**/**/x", "/") == 0, "/**/**/x against /");
    ok(pm("/a/**/b/**/c", "/a/b/c") == 1, "a**b**c: none between");
    ok(pm("/a/**/b/**/c", "/a/1/b/2/3/c") == 1, "a**b**c: some");
    ok(pm("/a/**/b/**/c", "/a/b/b/c/c") == 1, "a**b**c: repeats");
    ok(pm("/a/**/b/**/c", "/a/c") == 0, "a**b**c: no b");
    ok(pm("/a/**/b/**/c", "/a/c/b") == 0, "a**b**c: out of order");
    ok(pm("/a/**/b/**/c", "/a/b/c/") == 0, "a**b**c: trailing slash");
    ok(pm("/**/x/**", "/x") == 1, "**/x/** against /x");
    ok(pm("/**/x/**", "/y") == 0, "**/x/** against /y");
    ok(pm("/**/*", "/") == 0, "**/* needs a non-empty segment");
    ok(pm("/**/*", "//a") == 1, "**/* against //a");
    ok(pm("/{tenant}", "/acme") == 1, "{tenant} unbound acts as *");
    ok(pm("/{sub}", "/") == 0, "{sub} unbound is non-empty");

    ok(pm("/a\xc3\xa9", "/a\xc3\xa9") == 1, "bytes compare exactly");

    /* a literal with a NUL byte: only the same bytes match */

    ok(pattern_compile(&p, "/a", &err) == 0, "compile /a");
    ok(match_uri(&p, "/a\0", 3, NULL, 0) == 0, "a vs a NUL");
    seg.type = AUTHZ_SEG_LITERAL;
    seg.literal.data = (const unsigned char *) "a\0b";
    seg.literal.len = 3;
    p.pat.segs = &seg;
    p.pat.nsegs = 1;
    ok(match_uri(&p, "/a\0b", 4, NULL, 0) == 1, "literal with NUL");
    ok(match_uri(&p, "/a\0c", 4, NULL, 0) == 0, "literal with NUL, differs");
    p.pat.segs = p.segs;
    pattern_free(&p);

    memset(&zero, 0, sizeof(authz_pattern_t));
    ok(!authz_pattern_match(&zero, (const unsigned char *) "/", 1, NULL, 0),
       "an empty pattern matches nothing");
}


/* long uris: answers here, costs in test_rules_bound() */

static void
test_match_long(void)
{
    char       *uri, *pat;
    size_t      n;
    pattern_t   p;
    const char *err;

    /* 10,000 segments against globstars */

    uri = repeat("/x", 10000, "/a", "/b/y/y/c");
    ok(pm("/a/**/b/**/c", uri) == 1, "a**b**c, 10,000 segments");
    ok(pm("/a/**/b/**/d", uri) == 0, "a**b**d, 10,000 segments");
    ok(pm("/**/**/c", uri) == 1, "**/**/c, 10,000 segments");
    ok(pm("/**/x/**/x/**/c", uri) == 1, "**/x/**/x/**/c, 10,000 segments");
    ok(pm("/**/y/y/**/c", uri) == 1, "**/y/y/**/c, 10,000 segments");
    ok(pm("/**/y/y/y/**", uri) == 0, "**/y/y/y/**, 10,000 segments");
    free(uri);

    /* the classic backtracking killer: 64 segments of ** and a */

    pat = repeat("/**/a", 32, "", "");
    uri = repeat("/a", 20000, "", "/b");
    ok(pm(pat, uri) == 0, "(**/a){32} against a{20000}/b");
    free(uri);

    uri = repeat("/a", 20000, "", "");
    ok(pm(pat, uri) == 1, "(**/a){32} against a{20000}");
    free(uri);
    free(pat);

    /* accept state past bit 63 */

    pat = repeat("/**", AUTHZ_MAX_PATTERN_SEGMENTS, "", "");
    ok(pm(pat, "/") == 1, "64 ** against /");
    ok(pm(pat, "/a/b/c") == 1, "64 ** against /a/b/c");
    free(pat);

    pat = repeat("/**", AUTHZ_MAX_PATTERN_SEGMENTS - 1, "", "/z");
    ok(pm(pat, "/z") == 1, "63 ** then z against /z");
    ok(pm(pat, "/z/y") == 0, "63 ** then z against /z/y");
    free(pat);

    pat = repeat("/*", AUTHZ_MAX_PATTERN_SEGMENTS, "", "");
    uri = repeat("/s", AUTHZ_MAX_PATTERN_SEGMENTS, "", "");
    ok(pm(pat, uri) == 1, "64 * against 64 segments");
    free(uri);
    uri = repeat("/s", AUTHZ_MAX_PATTERN_SEGMENTS - 1, "", "");
    ok(pm(pat, uri) == 0, "64 * against 63 segments");
    free(uri);
    uri = repeat("/s", AUTHZ_MAX_PATTERN_SEGMENTS + 1, "", "");
    ok(pm(pat, uri) == 0, "64 * against 65 segments");
    free(uri);
    free(pat);

    /* 64 KiB literal segment */

    pat = repeat("q", BIG, "/", "");
    uri = repeat("q", BIG, "/", "");
    ok(pattern_compile(&p, pat, &err) == 0, "64 KiB literal compiles");
    n = strlen(uri);
    ok(match_uri(&p, uri, n, NULL, 0) == 1, "64 KiB literal matches");
    uri[n - 1] = 'r';
    ok(match_uri(&p, uri, n, NULL, 0) == 0, "64 KiB literal, last differs");
    ok(match_uri(&p, uri, n - 1, NULL, 0) == 0, "64 KiB literal, shorter");
    pattern_free(&p);
    free(uri);
    free(pat);

    /* a 64 KiB uri of slashes only */

    uri = repeat("/", BIG, "", "");
    ok(pm("/**", uri) == 1, "/** against 64 KiB of /");
    ok(pm("/**/*", uri) == 0, "/**/* against 64 KiB of /");
    free(uri);
}


/* "**" anywhere, several of them, with literals, "*" and bindings after */

static void
test_match_globs(void)
{
    int            i;
    char          *uri, *pat, *lit;
    pattern_t      p;
    const char    *err;
    authz_bind_t   b;

    /* the shape the matcher works from */

    static const struct {
        const char  *pattern;
        size_t       head, tail, globs;
    } shape[] = {
        { "/a/b", 2, 0, 0 },
        { "/a/**", 1, 0, 1 },
        { "/**/a", 0, 1, 1 },
        { "/a/**/b/*", 1, 2, 1 },
        { "/a/**/b/**/c", 1, 1, 2 },
        { "/**/**", 0, 0, 2 },
        { "/**/x/**/y/**", 0, 0, 3 },
    };

    for (i = 0; i < (int) (sizeof(shape) / sizeof(shape[0])); i++) {
        ok(pattern_compile(&p, shape[i].pattern, &err) == 0
           && p.pat.head == shape[i].head && p.pat.tail == shape[i].tail
           && p.pat.globs == shape[i].globs
           && p.pat.src.len == strlen(shape[i].pattern),
           "shape of %s", shape[i].pattern);
        pattern_free(&p);
    }

    /* ** at the start, in the middle, at the end; zero segments */

    ok(pm("/**/x", "/x") == 1, "**/x: zero before");
    ok(pm("/**/x", "/a/b/x") == 1, "**/x: two before");
    ok(pm("/**/x", "/x/a") == 0, "**/x: x must be last");
    ok(pm("/x/**", "/x") == 1, "x/**: zero after");
    ok(pm("/x/**", "/x/") == 1, "x/**: one empty after");
    ok(pm("/x/**", "/x/a/b") == 1, "x/**: two after");
    ok(pm("/x/**", "/y/x") == 0, "x/**: x must be first");
    ok(pm("/a/**/z", "/a/z") == 1, "a/**/z: zero between");
    ok(pm("/a/**/z", "/a/b/c/z") == 1, "a/**/z: two between");
    ok(pm("/a/**/z", "/a/z/y") == 0, "a/**/z: z must be last");
    ok(pm("/a/**/**/z", "/a/z") == 1, "a/**/**/z: zero between");
    ok(pm("/**/**/**", "/") == 1, "**/**/** against /");
    ok(pm("/**/**/**", "/a/b") == 1, "**/**/** against /a/b");

    /* several ** with blocks between them */

    ok(pm("/**/a/**/a/**", "/a") == 0, "two a blocks need two a");
    ok(pm("/**/a/**/a/**", "/a/a") == 1, "two a blocks, a/a");
    ok(pm("/**/a/**/a/**", "/x/a/y/a/z") == 1, "two a blocks, spread");
    ok(pm("/**/a/**/b/**", "/b/a") == 0, "blocks in order only");
    ok(pm("/**/a/**/b/**", "/b/a/b") == 1, "blocks in order, b again");
    ok(pm("/**/a/*/b/**", "/a/b") == 0, "a/*/b: * needs a segment");
    ok(pm("/**/a/*/b/**", "/a/x/b") == 1, "a/*/b");
    ok(pm("/**/a/*/b/**", "/a/a/x/b") == 1, "a/*/b after a false start");
    ok(pm("/**/a/*/b/**", "/a/a/b") == 1, "a/*/b: the * is an a");
    ok(pm("/**/a/*/b/**", "/a//b") == 0, "a/*/b: * not empty");
    ok(pm("/**/a/a/b/**", "/a/a/a/b") == 1, "a/a/b overlapping a/a/a");
    ok(pm("/**/a/b/a/b/c/**", "/a/b/a/b/a/b/c") == 1,
       "a/b/a/b/c overlapping itself");
    ok(pm("/**/a/b/a/b/c/**", "/a/b/a/b/a/b/d") == 0,
       "a/b/a/b/c: no c");
    ok(pm("/**/x/y/x/**", "/x/y/x/y/x") == 1, "a literal twice in a block");
    ok(pm("/**/x/y/x/**", "/x/y/y/x") == 0, "x/y/x: not x/y/y/x");
    ok(pm("/**/a//b/**", "/q/a//b/r") == 1, "an empty literal in a block");
    ok(pm("/**/a//b/**", "/q/a/b/r") == 0, "an empty literal needs one");
    ok(pm("/h/**/m/**/t", "/h/m/t") == 1, "head, block, tail");
    ok(pm("/h/**/m/**/t", "/h/t/m/t") == 1, "head, block, tail: t first");
    ok(pm("/h/**/m/**/t", "/h/m") == 0, "block cannot be the tail");
    ok(pm("/h/**/m/**/t", "/m/t") == 0, "head needed");
    ok(pm("/h/**/h/**/h", "/h/h") == 0, "head, block and tail: three h");
    ok(pm("/h/**/h/**/h", "/h/h/h") == 1, "head, block and tail: h/h/h");

    /* a literal of 63 and more bytes in a block */

    for (i = 62; i <= 64; i++) {
        lit = repeat("k", (size_t) i, "", "");
        pat = repeat(lit, 1, "/**/", "/**");
        uri = repeat(lit, 1, "/a/", "/b");
        ok(pm(pat, uri) == 1, "block of a %d-byte literal", i);
        free(uri);
        uri = repeat(lit, 1, "/a/", "k/b");
        ok(pm(pat, uri) == 0, "block of a %d-byte literal, one more", i);
        free(uri);
        free(pat);
        free(lit);
    }

    /* around 64 uri segments: head and tail are located from both ends */

    for (i = 62; i <= 67; i++) {
        uri = repeat("/x", (size_t) i - 2, "/h", "/t");
        ok(pm("/h/**/t", uri) == 1, "h/**/t, %d segments", i);
        ok(pm("/h/**/x/**/t", uri) == (i > 2), "h/**/x/**/t, %d segments",
           i);
        ok(pm("/h/*/**/*/t", uri) == 1, "h/*/**/*/t, %d segments", i);
        ok(pm("/h/**/u", uri) == 0, "h/**/u, %d segments", i);
        free(uri);
    }

    pat = repeat("/*", 63, "/**", "");
    uri = repeat("/s", 63, "", "");
    ok(pm(pat, uri) == 1, "**, 63 *: 63 segments");
    free(uri);
    uri = repeat("/s", 62, "", "");
    ok(pm(pat, uri) == 0, "**, 63 *: 62 segments");
    free(uri);
    uri = repeat("/s", 200, "", "");
    ok(pm(pat, uri) == 1, "**, 63 *: 200 segments");
    free(uri);
    free(pat);

    pat = repeat("/*", 63, "", "/**");
    uri = repeat("/s", 1000, "", "");
    ok(pm(pat, uri) == 1, "63 *, **: 1000 segments");
    free(uri);
    free(pat);

    uri = repeat("/x", 100, "", "/m");
    pat = repeat("/x", 100, uri, "");
    ok(pm("/**/m/**", pat) == 1, "m in the middle of 201 segments");
    ok(pm("/**/m/x/**", pat) == 1, "m/x in the middle of 201 segments");
    ok(pm("/**/x/m/**/m/**", pat) == 0, "m twice in 201 segments");
    free(pat);
    free(uri);

    /* bindings through "**" */

    b.tenant = str_dup("acme");
    b.sub = str_dup("u1");
    b.tenant_any = 0;

    ok(pmb("/**/x/{tenant}/y/**", "/q/x/acme/y", &b, AUTHZ_BIND_TENANT) == 1,
       "** then tenant: equal");
    ok(pmb("/**/x/{tenant}/y/**", "/q/x/other/y", &b, AUTHZ_BIND_TENANT)
       == 0, "** then tenant: differs");
    ok(pmb("/**/x/{tenant}/y/**", "/q/x/other/y", &b, 0) == 1,
       "** then tenant: not enforced");
    ok(pmb("/**/x/{tenant}/y/**", "/x/other/y/x/acme/y", &b,
           AUTHZ_BIND_TENANT) == 1, "** then tenant: second place");
    ok(pmb("/**/x/{tenant}/y/**", "/x/acme/x/y", &b, AUTHZ_BIND_TENANT)
       == 0, "** then tenant: none in place");
    ok(pmb("/**/x/{tenant}/y/**", "/x//y", &b, AUTHZ_BIND_TENANT) == 0,
       "** then tenant: empty");
    ok(pmb("/t/**/{sub}/**/e", "/t/a/u1/b/e", &b, AUTHZ_BIND_SUB) == 1,
       "sub between two **");
    ok(pmb("/t/**/{sub}/**/e", "/t/a/u2/b/e", &b, AUTHZ_BIND_SUB) == 0,
       "sub between two **: differs");
    ok(pmb("/t/**/{sub}/**/e", "/t/a/u2/b/e", &b, AUTHZ_BIND_TENANT) == 1,
       "sub between two **: not enforced");
    ok(pmb("/**/{tenant}/{sub}/**", "/x/u1/acme/acme/u1", &b,
           AUTHZ_BIND_TENANT | AUTHZ_BIND_SUB) == 1,
       "tenant then sub, found after a wrong pair");
    ok(pmb("/**/{tenant}/{sub}/**", "/x/u1/acme", &b,
           AUTHZ_BIND_TENANT | AUTHZ_BIND_SUB) == 0,
       "tenant then sub, swapped");

    b.tenant_any = 1;
    ok(pmb("/**/x/{tenant}/y/**", "/q/x/other/y", &b, AUTHZ_BIND_TENANT)
       == 1, "** then tenant: tenant_any");
    ok(pmb("/**/x/{tenant}/y/**", "/q/x//y", &b, AUTHZ_BIND_TENANT) == 0,
       "** then tenant: tenant_any, empty");

    str_free(&b.tenant);
    str_free(&b.sub);
}


/*
 * random patterns and uris over a small alphabet, also uris made from
 * the pattern (so that many match), against a dynamic-programming
 * matcher that follows SPEC §4 word for word
 */

static void
test_match_reference(void)
{
    int            n, bad, matched, r, got, want;
    char           pat[512], uri[4096];
    size_t         pl, ul, k, cnt, len;
    unsigned       e, enforce;
    pattern_t      p;
    const char    *err, *q, *end;
    authz_bind_t   b;

    static const char  *pseg[] = { "a", "b", "", "*", "**", "{tenant}",
                                   "{sub}", "ab", "acme", "u1" };
    static const char  *useg[] = { "a", "b", "", "ab", "acme", "u1", "x" };

    b.tenant = str_dup("acme");
    b.sub = str_dup("u1");

    bad = 0;
    matched = 0;

    for (n = 0; n < 20000; n++) {
        pl = 0;
        cnt = 1 + rnd(n % 4 ? 8 : 64);

        for (k = 0; k < cnt; k++) {
            pl += sprintf(pat + pl, "/%s", pseg[rnd(10)]);
        }

        ul = 0;

        if (rnd(2)) {
            cnt = 1 + rnd(n % 4 ? 10 : 150);

            for (k = 0; k < cnt; k++) {
                ul += sprintf(uri + ul, "/%s", useg[rnd(7)]);
            }

        } else {

            /* the pattern with its wildcards filled in */

            for (q = pat; *q != '\0' && ul < 3000; q = end) {
                end = strchr(q + 1, '/');
                end = end ? end : q + strlen(q);
                len = (size_t) (end - q - 1);

                if (len == 2 && q[1] == '*' && q[2] == '*') {
                    for (k = rnd(4) ? rnd(3) : rnd(100); k > 0; k--) {
                        ul += sprintf(uri + ul, "/%s", useg[rnd(7)]);
                    }

                } else if (q[1] == '*' || q[1] == '{') {
                    ul += sprintf(uri + ul, "/%s", useg[3 + rnd(4)]);

                } else {
                    ul += sprintf(uri + ul, "/%.*s", (int) len, q + 1);
                }
            }

            if (ul == 0) {
                ul = sprintf(uri, "/");
            }

            if (rnd(3) == 0) {
                uri[rnd((unsigned) ul)] = "ab/"[rnd(3)];
            }
        }

        if (pattern_compile(&p, pat, &err) != 0) {
            pattern_free(&p);
            continue;
        }

        for (e = 0; e < 8; e++) {
            enforce = e & 3;
            b.tenant_any = (e & 4) != 0;

            got = match_uri(&p, uri, ul, e == 0 ? NULL : &b, enforce);
            want = ref_match(&p.pat, uri, ul, e == 0 ? NULL : &b, enforce);
            matched += got;

            if (got != want && bad++ == 0) {
                diag("%s against %s, enforce %u, tenant_any %d: %d, "
                     "expected %d", pat, uri, enforce, b.tenant_any, got,
                     want);
            }
        }

        pattern_free(&p);
    }

    r = (bad == 0 && matched > 10000);
    ok(r, "20,000 random patterns agree with the reference (%d matches)",
       matched);

    str_free(&b.tenant);
    str_free(&b.sub);
}


static void
test_bindings(void)
{
    authz_bind_t  b, none;

    b.tenant = str_dup("acme");
    b.sub = str_dup("u1");
    b.tenant_any = 0;

    none.tenant.len = 0;
    none.tenant.data = NULL;
    none.sub.len = 0;
    none.sub.data = NULL;
    none.tenant_any = 0;

    ok(pmb("/t/{tenant}/**", "/t/acme/x", &b, AUTHZ_BIND_TENANT) == 1,
       "tenant equal");
    ok(pmb("/t/{tenant}/**", "/t/other/x", &b, AUTHZ_BIND_TENANT) == 0,
       "tenant differs");
    ok(pmb("/t/{tenant}/**", "/t/acm/x", &b, AUTHZ_BIND_TENANT) == 0,
       "tenant prefix");
    ok(pmb("/t/{tenant}/**", "/t/acmee/x", &b, AUTHZ_BIND_TENANT) == 0,
       "tenant extended");
    ok(pmb("/t/{tenant}/**", "/t/ACME", &b, AUTHZ_BIND_TENANT) == 0,
       "tenant case-sensitive");
    ok(pmb("/t/{tenant}/**", "/t//x", &b, AUTHZ_BIND_TENANT) == 0,
       "tenant empty segment");
    ok(pmb("/t/{tenant}/**", "/t/other/x", &b, 0) == 1,
       "tenant not enforced");
    ok(pmb("/t/{tenant}/**", "/t/other/x", &b, AUTHZ_BIND_SUB) == 1,
       "only sub enforced");
    ok(pmb("/t/{tenant}/**", "/t/other/x", NULL, AUTHZ_BIND_TENANT) == 1,
       "bind NULL acts as *");

    b.tenant_any = 1;
    ok(pmb("/t/{tenant}/**", "/t/other/x", &b, AUTHZ_BIND_TENANT) == 1,
       "tenant_any");
    ok(pmb("/t/{tenant}/**", "/t//x", &b, AUTHZ_BIND_TENANT) == 0,
       "tenant_any, empty segment");
    ok(pmb("/u/{sub}", "/u/u2", &b, AUTHZ_BIND_SUB) == 0,
       "tenant_any does not bypass sub");
    b.tenant_any = 0;

    ok(pmb("/t/{tenant}", "/t/acme", &none, AUTHZ_BIND_TENANT) == 0,
       "empty tenant never matches");
    ok(pmb("/t/{tenant}", "/t/", &none, AUTHZ_BIND_TENANT) == 0,
       "empty tenant, empty segment");
    ok(pmb("/u/{sub}", "/u/u1", &none, AUTHZ_BIND_SUB) == 0,
       "empty sub never matches");
    none.tenant_any = 1;
    ok(pmb("/t/{tenant}", "/t/acme", &none, AUTHZ_BIND_TENANT) == 1,
       "empty tenant with tenant_any");

    ok(pmb("/users/{sub}/drafts", "/users/u1/drafts", &b, AUTHZ_BIND_SUB)
       == 1, "sub equal");
    ok(pmb("/users/{sub}/drafts", "/users/u2/drafts", &b, AUTHZ_BIND_SUB)
       == 0, "sub differs");
    ok(pmb("/users/{sub}/drafts", "/users/u2/drafts", &b, AUTHZ_BIND_TENANT)
       == 1, "sub not enforced");

    ok(pmb("/t/{tenant}/u/{sub}", "/t/acme/u/u1", &b,
           AUTHZ_BIND_TENANT | AUTHZ_BIND_SUB) == 1, "both equal");
    ok(pmb("/t/{tenant}/u/{sub}", "/t/acme/u/u2", &b,
           AUTHZ_BIND_TENANT | AUTHZ_BIND_SUB) == 0, "both, sub differs");
    ok(pmb("/t/{tenant}/u/{sub}", "/t/x/u/u1", &b,
           AUTHZ_BIND_TENANT | AUTHZ_BIND_SUB) == 0, "both, tenant differs");
    ok(pmb("/t/{tenant}/u/{sub}", "/t/u1/u/acme", &b,
           AUTHZ_BIND_TENANT | AUTHZ_BIND_SUB) == 0, "both, swapped");

    ok(pmb("/**/{tenant}", "/x/y/acme", &b, AUTHZ_BIND_TENANT) == 1,
       "globstar then tenant");
    ok(pmb("/**/{tenant}", "/x/acme/y", &b, AUTHZ_BIND_TENANT) == 0,
       "globstar then tenant, not last");
    ok(pmb("/**/{tenant}/**", "/x/acme/y", &b, AUTHZ_BIND_TENANT) == 1,
       "tenant anywhere");

    str_free(&b.tenant);
    str_free(&b.sub);
}


static void
test_rules_find(void)
{
    size_t          i;
    pattern_t       p[8];
    const char     *err;
    authz_rule_t    rules[8];

    static const struct {
        unsigned     methods;
        const char  *pattern;
    } spec[] = {
        { AUTHZ_METHOD_GET | AUTHZ_METHOD_HEAD, "/api/blog/posts/**" },
        { AUTHZ_METHOD_POST, "/api/blog/posts" },
        { AUTHZ_METHOD_PUT | AUTHZ_METHOD_PATCH, "/api/blog/posts/*" },
        { AUTHZ_METHOD_DELETE, "/api/blog/posts/*" },
        { AUTHZ_METHOD_ANY, "/api/blog/t/{tenant}/**" },
        { AUTHZ_METHOD_GET, "/api/blog/users/{sub}/drafts" },
        { 0, "/**" },
        { AUTHZ_METHOD_ANY, "/**" }
    };

#define FIND(n, m, u)                                                         \
    authz_rules_find(rules, n, m, (const unsigned char *) u, strlen(u))

    memset(rules, 0, sizeof(rules));

    for (i = 0; i < 8; i++) {
        if (pattern_compile(&p[i], spec[i].pattern, &err) != 0) {
            ok(0, "compile %s: %s", spec[i].pattern, err);
            return;
        }

        rules[i].methods = spec[i].methods;
        rules[i].pattern = p[i].pat;
    }

    ok(FIND(8, AUTHZ_METHOD_GET, "/api/blog/posts/1") == 0, "GET post");
    ok(FIND(8, AUTHZ_METHOD_HEAD, "/api/blog/posts") == 0, "HEAD posts");
    ok(FIND(8, AUTHZ_METHOD_HEAD, "/api/blog/users/u9/drafts") == 5,
       "HEAD on a GET rule");
    ok(FIND(8, AUTHZ_METHOD_POST, "/api/blog/users/u9/drafts") == 7,
       "POST on a GET rule: catch-all");
    ok(FIND(8, AUTHZ_METHOD_POST, "/api/blog/posts") == 1, "POST posts");
    ok(FIND(8, AUTHZ_METHOD_POST, "/api/blog/posts/1") == 7,
       "POST post: catch-all");
    ok(FIND(8, AUTHZ_METHOD_PUT, "/api/blog/posts/1") == 2, "PUT post");
    ok(FIND(8, AUTHZ_METHOD_PATCH, "/api/blog/posts/1") == 2, "PATCH post");
    ok(FIND(8, AUTHZ_METHOD_DELETE, "/api/blog/posts/1") == 3, "DELETE post");
    ok(FIND(8, AUTHZ_METHOD_DELETE, "/api/blog/posts/") == 7,
       "DELETE posts/: * needs a segment");
    ok(FIND(8, AUTHZ_METHOD_OPTIONS, "/api/blog/t/any/x") == 4,
       "* rule, bindings unchecked");
    ok(FIND(8, AUTHZ_METHOD_UNKNOWN, "/api/blog/t/any/x") == 4,
       "* rule takes an unknown method");
    ok(FIND(8, AUTHZ_METHOD_UNKNOWN, "/api/blog/posts/1") == 7,
       "unknown method: catch-all only");
    ok(FIND(8, AUTHZ_METHOD_GET, "/api/blog/users/u9/drafts") == 5,
       "GET drafts");
    ok(FIND(8, AUTHZ_METHOD_GET, "/api/blog/t/x") == 4,
       "GET t/x: rule 4 comes first");
    ok(FIND(6, AUTHZ_METHOD_POST, "/api/blog/posts/1") == -1,
       "no rule matches");
    ok(FIND(7, AUTHZ_METHOD_POST, "/other") == -1,
       "a rule without methods matches nothing");
    ok(FIND(8, AUTHZ_METHOD_GET, "relative") == -1, "no leading /");
    ok(FIND(0, AUTHZ_METHOD_GET, "/api/blog/posts/1") == -1, "no rules");

    /* first match wins */

    rules[0] = rules[2];
    rules[1] = rules[2];
    rules[1].methods = AUTHZ_METHOD_ANY;
    ok(FIND(2, AUTHZ_METHOD_PUT, "/api/blog/posts/1") == 0,
       "first of two matching rules");
    ok(FIND(2, AUTHZ_METHOD_GET, "/api/blog/posts/1") == 1,
       "second when the first's methods differ");

    /* GET covers HEAD, not the other way round */

    rules[0].methods = AUTHZ_METHOD_POST;
    rules[1].methods = AUTHZ_METHOD_HEAD;
    ok(FIND(2, AUTHZ_METHOD_GET, "/api/blog/posts/1") == -1,
       "GET does not take a HEAD rule");
    ok(FIND(2, AUTHZ_METHOD_HEAD, "/api/blog/posts/1") == 1,
       "HEAD takes a HEAD rule");
    ok(FIND(1, AUTHZ_METHOD_HEAD, "/api/blog/posts/1") == -1,
       "HEAD does not take a POST rule");
    rules[0].methods = AUTHZ_METHOD_GET;
    ok(FIND(2, AUTHZ_METHOD_HEAD, "/api/blog/posts/1") == 0,
       "HEAD takes a GET rule first");

#undef FIND

    for (i = 0; i < 8; i++) {
        pattern_free(&p[i]);
    }
}


/*
 * the cost of a rule table, counted in steps by authz_rules_find_steps()
 * (each uri segment located, each pattern segment compared, each uri
 * segment a middle search goes through); the bound of docs/rules.md is
 *
 *     steps <= 128 + sum over the rules tried of
 *              (segments of the pattern
 *               + segments of the uri if the pattern has two "**")
 *
 * and each step reads the bytes of one segment a bounded number of times
 */

static void
test_rules_bound(void)
{
    char          *big, *uri;
    size_t         i, s1, s2, n;
    table_t        t;
    ptrdiff_t      found;

    static const struct {
        const char  *fmt;
        const char  *uri;     /* the start of the 8 KiB uri */
        const char  *unit;    /* repeated */
        int          mid;     /* a pattern with two "**" or more */
    } shapes[] = {
        /* the table of issue 9 */
        { "/api/{tenant}/**/item%d", "/api/acme", "/a", 0 },
        { "/api/{tenant}/**/item%d", "/api/acme", "/item1x", 0 },
        { "/**/item%d", "/api/acme", "/a", 0 },
        { "/api/**/*/{sub}/item%d", "/api/acme", "/a", 0 },
        { "/api/*/*/*/item%d/*/*/**", "/api/acme", "/a", 0 },
        { "/api/item%d/*/*", "/api/acme", "/a", 0 },
        { "/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/item%d", "/api/acme", "/a", 0 },
        /* two "**" and more: each rule goes through the uri once */
        { "/api/**/a/**/item%d/**", "/api/acme", "/a", 1 },
        { "/**/a/*/{tenant}/item%d/**", "/api", "/a", 1 },
        { "/**/*/*/*/*/*/*/*/*/item%d/**", "/api", "/a", 1 },
        { "/**/a/**/a/**/a/**/a/**/item%d/**", "/api", "/a", 1 },
        { "/**/item%d/**/x", "/api", "/item1/item2/item3/x", 1 },
        { "/api/**/x/**/item%d/**", "/api", "/x/y", 1 },
    };

    for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {

        if (table_make(&t, shapes[i].fmt, 200) != 0) {
            ok(0, "table of %s", shapes[i].fmt);
            continue;
        }

        n = (8000 - strlen(shapes[i].uri)) / strlen(shapes[i].unit);
        big = repeat(shapes[i].unit, n, shapes[i].uri, "");

        s2 = table_steps(&t, AUTHZ_METHOD_GET, big, &found);

        ok(s2 <= table_bound(&t, big),
           "200 x %s, 8 KiB uri: %zu steps, bound %zu", shapes[i].fmt, s2,
           table_bound(&t, big));

        if (!shapes[i].mid) {

            /* no search through the uri: its length does not count */

            ok(s2 <= 128 + 200 * t.rules[0].pattern.nsegs,
               "200 x %s: %zu steps, whatever the uri's length",
               shapes[i].fmt, s2);

        } else {

            /* linear: one pass over the uri per rule, at most */

            ok(s2 <= 128 + 200 * (64 + uri_segs(big, strlen(big))),
               "200 x %s: %zu steps for %zu uri segments", shapes[i].fmt,
               s2, uri_segs(big, strlen(big)));
        }

        /* the answer is the reference's */

        ok(found == ref_find(&t, big), "200 x %s: rule %zd", shapes[i].fmt,
           found);

        free(big);
        table_free(&t);
    }

    /* issue 9: an 8 KiB uri costs at most 128 steps more than /api/acme/a */

    if (table_make(&t, "/api/{tenant}/**/item%d", 200) == 0) {
        uri = repeat("/a", 1, "/api/acme", "");
        big = repeat("/a", 3990, "/api/acme", "");
        s1 = table_steps(&t, AUTHZ_METHOD_GET, uri, NULL);
        s2 = table_steps(&t, AUTHZ_METHOD_GET, big, NULL);
        ok(s2 <= s1 + 128,
           "issue 9 table: 8 KiB uri %zu steps, short uri %zu", s2, s1);
        free(uri);
        free(big);
        table_free(&t);
    }

    /* the rules a method or a prefix rejects cost no step */

    if (table_make(&t, "/api/**/a/**/item%d/**", 200) == 0) {
        big = repeat("/a", 3990, "/api/acme", "");
        ok(table_steps(&t, AUTHZ_METHOD_POST, big, NULL) == 0,
           "rules of another method: no step");
        big[1] = 'b';
        ok(table_steps(&t, AUTHZ_METHOD_GET, big, NULL) == 0,
           "rules of another prefix: no step");
        free(big);
        table_free(&t);
    }

    /* the backtracking killer and 64 KiB of slashes: linear */

    if (table_make(&t, "/**/a/**/a/**/a/**/a/**/a/**/a/**/a/**/a/**/b/**", 1)
        == 0)
    {
        big = repeat("/a", 20000, "", "");
        s1 = table_steps(&t, AUTHZ_METHOD_GET, big, &found);
        ok(found == -1 && s1 >= 20000 && s1 <= 128 + 64 + 20000,
           "(**/a){8}/**/b/** against a{20000}: %zu steps", s1);
        free(big);
        table_free(&t);
    }

    if (table_make(&t, "/**/*/**", 1) == 0) {
        big = repeat("/", BIG, "", "");
        s1 = table_steps(&t, AUTHZ_METHOD_GET, big, &found);
        ok(found == -1 && s1 >= BIG && s1 <= 128 + 3 + BIG,
           "**/*/** against 64 KiB of /: %zu steps", s1);
        free(big);
        table_free(&t);
    }
}


/* helpers */


static authz_str_t
str_dup(const char *s)
{
    authz_str_t  r;

    r.len = strlen(s);
    r.data = dup_exact(s, r.len);

    return r;
}


static void
str_free(authz_str_t *s)
{
    free((void *) s->data);
    s->data = NULL;
    s->len = 0;
}


static int
perm_valid(const char *s)
{
    int          rc;
    authz_str_t  p;

    p = str_dup(s);
    rc = authz_perm_valid(p.data, p.len);
    str_free(&p);

    return rc;
}


static int
perm_required_valid(const char *s)
{
    int          rc;
    authz_str_t  p;

    p = str_dup(s);
    rc = authz_perm_required_valid(p.data, p.len);
    str_free(&p);

    return rc;
}


static int
sat(const char *g, const char *r, const authz_scope_t *scope)
{
    int          rc;
    authz_str_t  gs, rs;

    gs = str_dup(g);
    rs = str_dup(r);
    rc = authz_grant_satisfies(&gs, &rs, scope);
    str_free(&gs);
    str_free(&rs);

    return rc;
}


/* the alternatives array has exactly authz_req_count_alts() entries */

static int
req_parse(const char *text, authz_req_t *req, const char **err)
{
    int           rc;
    size_t        n;
    authz_str_t   t, *alts;

    t = str_dup(text);
    n = authz_req_count_alts(t.data, t.len);
    alts = malloc(n * sizeof(authz_str_t));
    if (alts == NULL) {
        abort();
    }

    *err = NULL;
    req->alts = alts;
    req->text = t;

    rc = authz_req_parse(req, t.data, t.len, alts, err);

    req->alts = alts;
    req->text = t;

    return rc;
}


static void
req_free(authz_req_t *req)
{
    free(req->alts);
    free((void *) req->text.data);
}


static const char *
req_err(const char *text)
{
    int           rc;
    const char   *err;
    authz_req_t   req;

    rc = req_parse(text, &req, &err);
    req_free(&req);

    return rc == 0 ? NULL : err;
}


static unsigned
method(const char *m)
{
    unsigned     bit;
    authz_str_t  s;

    s = str_dup(m);
    bit = authz_method_bit(s.data, s.len);
    str_free(&s);

    return bit;
}


/* the segments array has exactly authz_pattern_count_segs() entries */

static int
pattern_compile(pattern_t *p, const char *src, const char **err)
{
    size_t  len, n;

    len = strlen(src);
    p->src = dup_exact(src, len);
    n = authz_pattern_count_segs(p->src, len);
    p->segs = malloc(n * sizeof(authz_seg_t));
    if (p->segs == NULL) {
        abort();
    }

    *err = NULL;
    memset(&p->pat, 0, sizeof(authz_pattern_t));

    return authz_pattern_compile(&p->pat, p->src, len, p->segs, err);
}


static void
pattern_free(pattern_t *p)
{
    free(p->src);
    free(p->segs);
}


static const char *
compile_err(const char *src)
{
    int          rc;
    pattern_t    p;
    const char  *err;

    rc = pattern_compile(&p, src, &err);
    pattern_free(&p);

    return rc == 0 ? NULL : err;
}


static int
match_uri(const pattern_t *p, const char *uri, size_t len,
    const authz_bind_t *bind, unsigned enforce)
{
    int             rc;
    unsigned char  *u;

    u = dup_exact(uri, len);
    rc = authz_pattern_match(&p->pat, u, len, bind, enforce);
    free(u);

    return rc;
}


static int
pm(const char *pattern, const char *uri)
{
    return pmb(pattern, uri, NULL, 0);
}


/* -1 if the pattern does not compile */

static int
pmb(const char *pattern, const char *uri, const authz_bind_t *bind,
    unsigned enforce)
{
    int          rc;
    pattern_t    p;
    const char  *err;

    if (pattern_compile(&p, pattern, &err) != 0) {
        diag("%s: %s", pattern, err);
        pattern_free(&p);
        return -1;
    }

    rc = match_uri(&p, uri, strlen(uri), bind, enforce);
    pattern_free(&p);

    return rc;
}


/* prefix, then unit n times, then suffix; NUL-terminated */

static char *
repeat(const char *unit, size_t n, const char *prefix, const char *suffix)
{
    char    *s, *q;
    size_t   i, ul, pl, sl;

    ul = strlen(unit);
    pl = strlen(prefix);
    sl = strlen(suffix);

    s = malloc(pl + ul * n + sl + 1);
    if (s == NULL) {
        abort();
    }

    q = s;
    memcpy(q, prefix, pl);
    q += pl;

    for (i = 0; i < n; i++) {
        memcpy(q, unit, ul);
        q += ul;
    }

    memcpy(q, suffix, sl + 1);

    return s;
}


/* 200 rules of one shape, GET only, public */

static int
table_make(table_t *t, const char *fmt, size_t n)
{
    int          len;
    char         src[256];
    size_t       i;
    const char  *err;

    t->n = n;
    t->rules = calloc(n, sizeof(authz_rule_t));
    t->pats = calloc(n, sizeof(pattern_t));

    if (t->rules == NULL || t->pats == NULL) {
        abort();
    }

    for (i = 0; i < n; i++) {
        len = snprintf(src, sizeof(src), fmt, (int) i + 1);

        if (len < 0 || (size_t) len >= sizeof(src)
            || pattern_compile(&t->pats[i], src, &err) != 0)
        {
            diag("%s: %s", src, err ? err : "too long");
            t->n = i + 1;
            table_free(t);
            return -1;
        }

        t->rules[i].methods = AUTHZ_METHOD_GET;
        t->rules[i].pattern = t->pats[i].pat;
        t->rules[i].public = 1;
    }

    return 0;
}


static void
table_free(table_t *t)
{
    size_t  i;

    for (i = 0; i < t->n; i++) {
        pattern_free(&t->pats[i]);
    }

    free(t->pats);
    free(t->rules);
}


static size_t
table_steps(const table_t *t, unsigned method, const char *uri,
    ptrdiff_t *found)
{
    size_t          len, steps;
    ptrdiff_t       r;
    unsigned char  *u;

    len = strlen(uri);
    u = dup_exact(uri, len);
    steps = 0;

    r = authz_rules_find_steps(t->rules, t->n, method, u, len, &steps);

    if (found != NULL) {
        *found = r;
    }

    free(u);

    return steps;
}


/* docs/rules.md: the bound of one table pass, every rule tried */

static size_t
table_bound(const table_t *t, const char *uri)
{
    size_t  i, bound, n;

    n = uri_segs(uri, strlen(uri));
    bound = 2 * 64;

    for (i = 0; i < t->n; i++) {
        bound += t->rules[i].pattern.nsegs;

        if (t->rules[i].pattern.globs >= 2) {
            bound += n;
        }
    }

    return bound;
}


static ptrdiff_t
ref_find(const table_t *t, const char *uri)
{
    size_t  i;

    for (i = 0; i < t->n; i++) {
        if (ref_match(&t->rules[i].pattern, uri, strlen(uri), NULL, 0)) {
            return (ptrdiff_t) i;
        }
    }

    return -1;
}


static size_t
uri_segs(const char *uri, size_t len)
{
    size_t  i, n;

    n = 1;

    for (i = 1; i < len; i++) {
        n += (uri[i] == '/');
    }

    return n;
}


/* the reference matcher (pattern_ref.h) on a C string */

static int
ref_match(const authz_pattern_t *pat, const char *uri, size_t len,
    const authz_bind_t *bind, unsigned enforce)
{
    int  r;

    r = pattern_ref_match(pat, (const unsigned char *) uri, len, bind,
                          enforce);
    if (r < 0) {
        abort();
    }

    return r;
}


/* xorshift: the same cases on every run */

static unsigned
rnd(unsigned n)
{
    static uint64_t  x = 88172645463325252ULL;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;

    return (unsigned) (x % n);
}
