/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * unit tests of authz_claims.c: the identity of a verified payload (sub,
 * tenant, effective permissions, services, roles), claim names and
 * dotted paths, role expansion, limits, and the value checks that keep
 * forwarded headers clean.
 *
 * cc -std=c99 -Wall -Wextra -Werror -g -O1 -fsanitize=address,undefined \
 *     -fno-sanitize-recover=all -I ngx_http_authz_module \
 *     t/unit/test_claims.c ngx_http_authz_module/authz_*.c \
 *     -ljansson -lcrypto -o /tmp/test_claims && /tmp/test_claims
 *
 * authz_identity_get() gets a tracking allocator: every block is a
 * separate malloc of the exact size asked for (AddressSanitizer sees an
 * overflow), and all are freed after each call.  Claim names and other
 * strings handed to the code under test are copied into heap buffers of
 * their exact size, without a terminating NUL.
 */


#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "authz_claims.h"
#include "tap.h"
#include "mem.h"


#define SPEC_PAYLOAD                                                       \
    "{\"iss\":\"https://manager.example.com\",\"aud\":\"api.example.com\","  \
    "\"sub\":\"user_8f3a\",\"tid\":\"acme\","                              \
    "\"iat\":1795320000,\"nbf\":1795320000,\"exp\":1795320900,"            \
    "\"jti\":\"9b1c\","                                                    \
    "\"permissions\":[\"blog:posts.read\",\"blog:posts.update\","          \
    "\"chatbot:slots.read\"],"                                             \
    "\"services\":{\"blog\":{\"enabled\":true},"                           \
    "\"chatbot\":{\"enabled\":false}},"                                    \
    "\"roles\":[\"role_editor\"]}"


typedef struct {
    void               **ptrs;
    size_t               n;
    size_t               cap;
    size_t               calls;
    long                 fail_at;     /* this call returns NULL; -1: none */
} tracker_t;


/* what the last get() found, copied out of the payload */
static authz_err_e   g_rc;
static char         *g_sub, *g_tenant, *g_perms, *g_services, *g_roles;
static size_t        g_nperms, g_nservices, g_nroles, g_allocs, g_dropped;
static unsigned      g_missing;
static char         *g_dropped_claim, *g_bad_claim;
static int           missing_detail, bad_values;



static void gc_all(void);
static authz_str_t str(const char *s);
static char *fmt(const char *f, ...);
static char *list(const char *prefix, size_t n, const char *suffix,
    const char *sep);
static void *talloc(void *data, size_t size);
static void tfree(tracker_t *t);
static char *join(const authz_str_t *a, size_t n);
static authz_claims_conf_t conf_new(void);
static authz_err_e get_conf(const char *json, const authz_claims_conf_t *conf,
    long fail_at);
static authz_err_e get(const char *json);
static const char *ename(authz_err_e e);
static authz_json_t *tparse(const char *json);

static void test_defaults(void);
static void test_permissions(void);
static void test_permission_limits(void);
static void test_services(void);
static void test_sub_tenant(void);
static void test_claim_names(void);
static void test_roles(void);
static void test_lookup(void);
static void test_value_valid(void);
static void test_str_in(void);
static void test_alloc_failure(void);
static void test_union(void);
static void test_pointer(void);
static void test_missing(void);
static void test_cnf(void);


#define is_err(got, want, ...)                                             \
    do {                                                                   \
        authz_err_e  got_ = (got);                                         \
        if (!ok(got_ == (want), __VA_ARGS__)) {                            \
            diag("got %s, want %s", ename(got_), ename(want));             \
        }                                                                  \
    } while (0)

#define is_str(got, want, ...)                                             \
    do {                                                                   \
        const char  *got_ = (got);                                         \
        if (!ok(got_ != NULL && strcmp(got_, (want)) == 0, __VA_ARGS__)) { \
            diag("got \"%s\", want \"%s\"", got_ ? got_ : "(null)",        \
                 (want));                                                  \
        }                                                                  \
    } while (0)


#define P300                                                               \
    "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp" \
    "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp" \
    "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp" \
    "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp" \
    "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"


#define is_items(json, want, ndropped, ...)                                \
    do {                                                                   \
        is_err(get(json), AUTHZ_OK, __VA_ARGS__);                          \
        is_str(g_perms, (want), __VA_ARGS__);                              \
        if (!ok(g_dropped == (size_t) (ndropped), __VA_ARGS__)) {          \
            diag("dropped %zu, want %d", g_dropped, (int) (ndropped));     \
        }                                                                  \
    } while (0)


int
main(void)
{
    test_defaults();
    test_permissions();
    test_permission_limits();
    test_services();
    test_sub_tenant();
    test_claim_names();
    test_roles();
    test_lookup();
    test_value_valid();
    test_str_in();
    test_alloc_failure();
    test_union();
    test_pointer();
    test_missing();
    test_cnf();

    ok(missing_detail == 0, "every AUTHZ_ERR_CLAIM sets *detail (%d did not)",
       missing_detail);
    ok(bad_values == 0, "every value returned is header-safe (%d were not)",
       bad_values);

    gc_all();

    return done_testing();
}


/* a payload as the token reader parses it */

static authz_json_t *
tparse(const char *json)
{
    const char  *err;

    return authz_json_parse((const unsigned char *) json, strlen(json),
                            AUTHZ_JSON_MAX_DEPTH, &err);
}


static void
test_defaults(void)
{
    is_err(get(SPEC_PAYLOAD), AUTHZ_OK, "the SPEC example payload");
    is_str(g_sub, "user_8f3a", "default sub claim");
    is_str(g_tenant, "acme", "default tenant claim tid");
    is_str(g_perms, "blog:posts.read,blog:posts.update,chatbot:slots.read",
           "default permissions claim, token order");
    is_str(g_services, "blog", "default services claim, enabled only");
    is_str(g_roles, "role_editor", "default roles claim");

    is_err(get("{}"), AUTHZ_OK, "empty payload");
    ok(strcmp(g_sub, "") == 0 && strcmp(g_tenant, "") == 0
       && g_nperms == 0 && g_nservices == 0 && g_nroles == 0,
       "empty payload: empty identity");

    is_err(get("{\"sub\":\"alice\",\"tenant\":\"acme\",\"scope\":\"a\"}"),
           AUTHZ_OK, "other names are not the defaults");
    ok(strcmp(g_tenant, "") == 0 && g_nperms == 0,
       "tenant and scope are not tid and permissions");
}


static void
test_permissions(void)
{
    is_err(get("{\"permissions\":\"blog:posts.read  blog:posts.update   "
               "chatbot:slots.read\"}"),
           AUTHZ_OK, "space-separated string");
    is_str(g_perms, "blog:posts.read,blog:posts.update,chatbot:slots.read",
           "space-separated: split on runs of spaces");
    is_err(get("{\"permissions\":\"  a:b   c \"}"), AUTHZ_OK,
           "leading and trailing spaces");
    is_str(g_perms, "a:b,c", "leading and trailing spaces ignored");
    is_err(get("{\"permissions\":\"\"}"), AUTHZ_OK, "empty string");
    ok(g_nperms == 0, "empty string: 0 permissions");
    is_err(get("{\"permissions\":\"   \"}"), AUTHZ_OK, "spaces only");
    ok(g_nperms == 0, "spaces only: 0 permissions");
    is_err(get("{\"permissions\":[]}"), AUTHZ_OK, "empty array");
    ok(g_nperms == 0, "empty array: 0 permissions");
    is_err(get("{\"sub\":\"a\"}"), AUTHZ_OK, "permissions absent");
    ok(g_nperms == 0, "absent: 0 permissions");

    is_err(get("{\"permissions\":{\"blog:posts.read\":true}}"),
           AUTHZ_ERR_CLAIM, "permissions an object");
    is_err(get("{\"permissions\":42}"), AUTHZ_ERR_CLAIM,
           "permissions a number");
    is_err(get("{\"permissions\":true}"), AUTHZ_ERR_CLAIM,
           "permissions true");
    is_err(get("{\"permissions\":null}"), AUTHZ_ERR_CLAIM,
           "permissions null");

    /* SPEC 1: an item that is not a scope token is ignored, not fatal */

    is_items("{\"permissions\":[\"a:b\",\"blog:x,admin:*\"]}", "a:b", 1,
             "a permission with a comma");
    is_items("{\"permissions\":[\"a:b c\",\"d\"]}", "d", 1,
             "an array permission with a space");
    is_items("{\"permissions\":[\"a:b\\u0001\"]}", "", 1,
             "a permission with a control character");
    is_items("{\"permissions\":[\"a:b\\r\\nX-Evil: 1\",\"e\"]}", "e", 1,
             "a permission with CR LF");
    is_items("{\"permissions\":\"a:b\\tc:d x\"}", "x", 1,
             "space-separated form: a tab is not a separator");
    is_items("{\"permissions\":\"a:b c,d\"}", "a:b", 1,
             "space-separated form: a comma");
    is_items("{\"permissions\":[\"a:b\",5,true,{},[\"c\"],null]}", "a:b", 5,
             "non-string permissions");
    is_items("{\"permissions\":[\"\"]}", "", 1, "an empty permission");
    is_items("{\"permissions\":[\"caf\\u00e9:read\"]}", "", 1,
             "a non-ASCII permission");
    is_items("{\"permissions\":[\"a\\\"b\",\"a\\\\b\",\"a\\u007fb\"]}", "",
             3, "quote, backslash and DEL");
    is_items("{\"permissions\":[\"a/b\",\"https://api.example.com/read\","
             "\"orders-api/read\",\"x|y\",\"~!#$%&'()*+-./:;<=>?@[]^_`{}\"]}",
             "a/b,https://api.example.com/read,orders-api/read,x|y,"
             "~!#$%&'()*+-./:;<=>?@[]^_`{}", 0,
             "URL and Cognito scopes, every allowed punctuation");
    is_items(fmt("{\"permissions\":[\"%.256s\",\"%.257s\"]}", P300, P300),
             fmt("%.256s", P300), 1, "256 bytes kept, 257 dropped");
    is_str(g_dropped_claim, "permissions", "the claim of the dropped items");

    is_err(get("{\"permissions\":[\"b\",\"a\",\"b\",\"c\",\"a\"]}"), AUTHZ_OK,
           "duplicates in the array");
    is_str(g_perms, "b,a,c", "duplicates removed, first-seen order");
    is_err(get("{\"permissions\":\"b a b  c a\"}"), AUTHZ_OK,
           "duplicates in the string");
    is_str(g_perms, "b,a,c", "string: duplicates removed, first-seen order");
    is_err(get("{\"permissions\":[\"a\",\"A\",\"a:*\",\"a.*\"]}"), AUTHZ_OK,
           "near duplicates");
    is_str(g_perms, "a,A,a:*,a.*", "near duplicates are kept");
}


static void
test_permission_limits(void)
{
    char  *json;

    json = fmt("{\"permissions\":[%s]}", list("\"p:", 4096, "\"", ","));
    is_err(get(json), AUTHZ_OK, "4096 permissions (array)");
    ok(g_nperms == 4096, "4096 permissions kept (%zu)", g_nperms);

    json = fmt("{\"permissions\":[%s]}", list("\"p:", 4097, "\"", ","));
    is_err(get(json), AUTHZ_ERR_CLAIM, "4097 permissions (array)");

    json = fmt("{\"permissions\":\"%s\"}", list("p:", 4096, "", " "));
    is_err(get(json), AUTHZ_OK, "4096 permissions (string)");
    ok(g_nperms == 4096, "4096 permissions kept (%zu)", g_nperms);

    json = fmt("{\"permissions\":\"%s\"}", list("p:", 4097, "", " "));
    is_err(get(json), AUTHZ_ERR_CLAIM, "4097 permissions (string)");
}


static void
test_services(void)
{
    char  *json;

    is_err(get("{\"services\":{\"blog\":{\"enabled\":true},"
               "\"chatbot\":{\"enabled\":false},"
               "\"shop\":{\"enabled\":true,\"plan\":\"pro\"}}}"),
           AUTHZ_OK, "services object");
    is_str(g_services, "blog,shop", "enabled ones, in token order");
    is_err(get("{\"services\":{\"blog\":{\"enabled\":false}}}"), AUTHZ_OK,
           "every service disabled");
    ok(g_nservices == 0, "every service disabled: none");
    is_err(get("{\"services\":{}}"), AUTHZ_OK, "empty services object");
    ok(g_nservices == 0, "empty services object: none");

    is_err(get("{\"services\":{\"blog\":{\"enabled\":\"true\"}}}"),
           AUTHZ_ERR_CLAIM, "enabled a string");
    is_err(get("{\"services\":{\"blog\":{\"enabled\":1}}}"),
           AUTHZ_ERR_CLAIM, "enabled 1");
    is_err(get("{\"services\":{\"blog\":{\"enabled\":null}}}"),
           AUTHZ_ERR_CLAIM, "enabled null");
    is_err(get("{\"services\":{\"blog\":{}}}"), AUTHZ_ERR_CLAIM,
           "enabled missing");
    is_err(get("{\"services\":{\"blog\":true}}"), AUTHZ_ERR_CLAIM,
           "entry not an object (true)");
    is_err(get("{\"services\":{\"blog\":[\"enabled\"]}}"), AUTHZ_ERR_CLAIM,
           "entry not an object (array)");
    is_err(get("{\"services\":{\"blog,admin\":{\"enabled\":true}}}"),
           AUTHZ_ERR_CLAIM, "service name with a comma");
    is_err(get("{\"services\":{\"blog,admin\":{\"enabled\":false}}}"),
           AUTHZ_ERR_CLAIM, "disabled service name with a comma");
    is_err(get("{\"services\":{\"my blog\":{\"enabled\":true}}}"),
           AUTHZ_ERR_CLAIM, "service name with a space");
    is_err(get("{\"services\":{\"\":{\"enabled\":true}}}"),
           AUTHZ_ERR_CLAIM, "empty service name");
    is_err(get("{\"services\":{\"blog\\n\":{\"enabled\":true}}}"),
           AUTHZ_ERR_CLAIM, "service name with a newline");

    is_err(get("{\"services\":[\"blog\",\"shop\"]}"), AUTHZ_OK,
           "services array");
    is_str(g_services, "blog,shop", "services array, in order");
    is_err(get("{\"services\":[]}"), AUTHZ_OK, "empty services array");
    ok(g_nservices == 0, "empty services array: none");
    is_err(get("{\"services\":[\"blog\",1]}"), AUTHZ_ERR_CLAIM,
           "services array with a number");
    is_err(get("{\"services\":[\"blog,shop\"]}"), AUTHZ_ERR_CLAIM,
           "services array, name with a comma");
    is_err(get("{\"services\":[\"\"]}"), AUTHZ_ERR_CLAIM,
           "services array, empty name");
    is_err(get("{\"services\":\"blog\"}"), AUTHZ_ERR_CLAIM,
           "services a string");
    is_err(get("{\"services\":7}"), AUTHZ_ERR_CLAIM, "services a number");
    is_err(get("{\"services\":null}"), AUTHZ_ERR_CLAIM, "services null");

    json = fmt("{\"services\":{%s}}",
               list("\"s", 256, "\":{\"enabled\":true}", ","));
    is_err(get(json), AUTHZ_OK, "256 services (object)");
    ok(g_nservices == 256, "256 services kept (%zu)", g_nservices);
    json = fmt("{\"services\":{%s}}",
               list("\"s", 257, "\":{\"enabled\":false}", ","));
    is_err(get(json), AUTHZ_ERR_CLAIM, "257 services (object)");

    json = fmt("{\"services\":[%s]}", list("\"s", 256, "\"", ","));
    is_err(get(json), AUTHZ_OK, "256 services (array)");
    ok(g_nservices == 256, "256 services kept (%zu)", g_nservices);
    json = fmt("{\"services\":[%s]}", list("\"s", 257, "\"", ","));
    is_err(get(json), AUTHZ_ERR_CLAIM, "257 services (array)");
}


static void
test_sub_tenant(void)
{
    size_t       i, k;
    const char  *claim;

    static const struct {
        const char  *value;
        const char  *name;
    } bad[] = {
        { "123", "a number" },
        { "null", "null" },
        { "[\"alice\"]", "an array" },
        { "{\"id\":\"alice\"}", "an object" },
        { "\"\"", "empty" },
        { "\"alice,bob\"", "with a comma" },
        { "\"alice\\u0007\"", "with a control character" },
        { "\"alice\\r\\nX-User-Id: root\"", "with CR LF" },
        { "\"alice bob\"", "with a space" },
        { "\"alice\\u007f\"", "with DEL" },
        { "\"al\\u00efce\"", "with a non-ASCII character" },
        { NULL, NULL }
    };

    for (k = 0; k < 2; k++) {
        claim = k ? "tid" : "sub";

        for (i = 0; bad[i].value != NULL; i++) {
            is_err(get(fmt("{\"%s\":%s}", claim, bad[i].value)),
                   AUTHZ_ERR_CLAIM, "%s %s", k ? "tenant" : "sub",
                   bad[i].name);
        }
    }

    is_err(get("{\"sub\":\"user_8f3a@idp.example|x~\",\"tid\":\"a-b.c:d\"}"),
           AUTHZ_OK, "printable punctuation is fine");
    is_str(g_sub, "user_8f3a@idp.example|x~", "sub kept as is");
    is_str(g_tenant, "a-b.c:d", "tenant kept as is");
}


static void
test_claim_names(void)
{
    authz_claims_conf_t  c;

    c = conf_new();
    c.sub_claim = str("uid");
    c.tenant_claim = str("org");
    c.permissions_claim = str("scope");
    c.services_claim = str("svc");
    c.roles_claim = str("grp");

    is_err(get_conf("{\"sub\":\"x\",\"tid\":\"x\",\"permissions\":[\"x\"],"
                    "\"services\":[\"x\"],\"roles\":[\"x\"],"
                    "\"uid\":\"bob\",\"org\":\"globex\","
                    "\"scope\":\"openid blog:posts.read\","
                    "\"svc\":{\"blog\":{\"enabled\":true}},"
                    "\"grp\":[\"role_x\"]}", &c, -1),
           AUTHZ_OK, "custom claim names");
    ok(strcmp(g_sub, "bob") == 0 && strcmp(g_tenant, "globex") == 0
       && strcmp(g_perms, "openid,blog:posts.read") == 0
       && strcmp(g_services, "blog") == 0 && strcmp(g_roles, "role_x") == 0,
       "custom claim names: every value from the custom claim");

    c = conf_new();
    c.permissions_claim = str("realm_access.roles");

    is_err(get_conf("{\"realm_access\":{\"roles\":[\"a:b\",\"c:d\"]}}", &c,
                    -1),
           AUTHZ_OK, "dotted permissions claim");
    is_str(g_perms, "a:b,c:d", "realm_access.roles followed as a path");
    is_err(get_conf("{\"realm_access\":{\"roles\":[\"a:b\"]},"
                    "\"realm_access.roles\":[\"x:y\"]}", &c, -1),
           AUTHZ_OK, "dotted name, literal key too");
    is_str(g_perms, "x:y", "a literal top-level key with a dot wins");
    is_err(get_conf("{\"realm_access\":{\"groups\":[\"a:b\"]}}", &c, -1),
           AUTHZ_OK, "dotted path, last key missing");
    ok(g_nperms == 0, "dotted path missing: 0 permissions");
    is_err(get_conf("{\"realm_access\":[\"roles\"]}", &c, -1), AUTHZ_OK,
           "dotted path through an array");
    ok(g_nperms == 0, "dotted path through an array: absent");
    is_err(get_conf("{\"realm_access\":{\"roles\":\"a:b c:d\"}}", &c, -1),
           AUTHZ_OK, "dotted path to a space-separated string");
    is_str(g_perms, "a:b,c:d", "dotted path, string form split");
    is_err(get_conf("{\"realm_access\":{\"roles\":{\"a\":1}}}", &c, -1),
           AUTHZ_ERR_CLAIM, "dotted path to an object");

    c = conf_new();
    c.tenant_claim = str("org.id");
    c.services_claim = str("ext.services");

    is_err(get_conf("{\"org\":{\"id\":\"acme\"},"
                    "\"ext\":{\"services\":[\"blog\"]}}", &c, -1),
           AUTHZ_OK, "dotted tenant and services claims");
    ok(strcmp(g_tenant, "acme") == 0 && strcmp(g_services, "blog") == 0,
       "dotted tenant and services values");
    is_err(get_conf("{\"org\":{\"id\":\"a,b\"}}", &c, -1), AUTHZ_ERR_CLAIM,
           "dotted tenant with a comma");
}


static void
test_roles(void)
{
    char                 *json;
    size_t                i;
    authz_str_t           editor[2], viewer[1], admin[1], *big;
    authz_role_t          roles[4];
    authz_claims_conf_t   c;

    editor[0] = str("blog:posts.read");
    editor[1] = str("blog:posts.update");
    viewer[0] = str("blog:posts.read");
    admin[0] = str("*");

    roles[0].name = str("role_editor");
    roles[0].perms = editor;
    roles[0].nperms = 2;
    roles[1].name = str("role_viewer");
    roles[1].perms = viewer;
    roles[1].nperms = 1;
    roles[2].name = str("role_admin");
    roles[2].perms = admin;
    roles[2].nperms = 1;

    c = conf_new();
    c.roles = roles;
    c.nroles = 3;

    is_err(get_conf("{\"permissions\":[\"chatbot:slots.read\","
                    "\"blog:posts.read\"],"
                    "\"roles\":[\"role_editor\",\"role_unknown\","
                    "\"role_editor\",\"role_viewer\"]}", &c, -1),
           AUTHZ_OK, "roles expanded");
    is_str(g_perms, "chatbot:slots.read,blog:posts.read,blog:posts.update",
           "token permissions, then role templates, duplicates removed");
    is_str(g_roles, "role_editor,role_unknown,role_viewer",
           "roles: duplicates removed, token order");

    is_err(get_conf("{\"roles\":[\"role_unknown\"]}", &c, -1), AUTHZ_OK,
           "unknown role");
    ok(g_nperms == 0, "an unknown role adds nothing");
    is_err(get_conf("{\"roles\":[\"Role_editor\"]}", &c, -1), AUTHZ_OK,
           "role names are case-sensitive");
    ok(g_nperms == 0, "Role_editor is not role_editor");

    is_err(get_conf("{\"permissions\":[\"x:y\"],"
                    "\"roles\":[\"role_admin\",\"role_editor\"]}", &c, -1),
           AUTHZ_OK, "two roles");
    is_str(g_perms, "x:y,*,blog:posts.read,blog:posts.update",
           "roles' templates in the token's role order");

    is_err(get_conf("{\"roles\":[\"role_viewer\",\"role_editor\"]}", &c, -1),
           AUTHZ_OK, "overlapping roles");
    is_str(g_perms, "blog:posts.read,blog:posts.update",
           "overlap across roles removed");

    is_err(get_conf("{\"roles\":[\"role_editor\",\"role_editor\"]}", &c, -1),
           AUTHZ_OK, "the same role twice");
    ok(g_nroles == 1 && strcmp(g_perms, "blog:posts.read,blog:posts.update")
                        == 0,
       "a duplicate role counts once");

    is_err(get_conf("{\"roles\":\"role_viewer  role_admin\"}", &c, -1),
           AUTHZ_OK, "roles as a space-separated string");
    is_str(g_perms, "blog:posts.read,*", "string roles expanded");

    is_err(get_conf("{\"roles\":[\"role_editor,role_admin\"]}", &c, -1),
           AUTHZ_OK, "role name with a comma");
    ok(g_nroles == 0 && g_dropped == 1, "role name with a comma dropped");
    is_err(get_conf("{\"roles\":[1,\"Sales Team\",\"role_viewer\"]}", &c,
                    -1),
           AUTHZ_OK, "role name a number, role name with a space");
    ok(g_nroles == 1 && g_dropped == 2, "two dropped, one kept");
    is_str(g_dropped_claim, "roles", "dropped items of the roles claim");
    is_err(get_conf("{\"roles\":{\"role_editor\":{\"123\":\"org\"},"
                    "\"bad role\":{}}}", &c, -1),
           AUTHZ_OK, "roles an object (ZITADEL)");
    is_str(g_roles, "role_editor", "object member names are the roles");
    is_str(g_perms, "blog:posts.read,blog:posts.update",
           "object roles expanded");
    is_err(get_conf("{\"roles\":42}", &c, -1), AUTHZ_ERR_CLAIM,
           "roles a number");
    is_str(g_bad_claim, "roles", "the claim of the wrong shape");
    is_err(get_conf("{\"permissions\":{\"a\":1}}", &c, -1), AUTHZ_ERR_CLAIM,
           "permissions an object: not the roles' object form");

    /* roles not used: the claim is never read, whatever its shape */

    c.roles_used = 0;
    c.nroles = 0;
    is_err(get_conf("{\"roles\":42}", &c, -1), AUTHZ_OK,
           "unused roles claim of a wrong shape");
    ok(g_nroles == 0 && g_dropped == 0, "unused roles claim not read");
    c.nroles = 3;
    is_err(get_conf("{\"roles\":42}", &c, -1), AUTHZ_ERR_CLAIM,
           "roles read where authz_role is configured");
    c.roles_used = 1;

    c.nroles = 0;
    c.roles = NULL;
    is_err(get_conf("{\"permissions\":[\"a\"],\"roles\":[\"role_editor\"]}",
                    &c, -1),
           AUTHZ_OK, "no role table");
    ok(strcmp(g_perms, "a") == 0 && strcmp(g_roles, "role_editor") == 0,
       "no role table: roles listed, nothing expanded");

    /* the limit applies to the effective set */

    big = gc(xmalloc(4096 * sizeof(authz_str_t)));

    for (i = 0; i < 4096; i++) {
        big[i] = str(fmt("p:%zu", i));
    }

    roles[3].name = str("role_big");
    roles[3].perms = big;
    roles[3].nperms = 4096;
    c.roles = roles;
    c.nroles = 4;

    is_err(get_conf("{\"roles\":[\"role_big\"]}", &c, -1), AUTHZ_OK,
           "a role of 4096 permissions");
    ok(g_nperms == 4096, "4096 effective permissions (%zu)", g_nperms);
    is_err(get_conf("{\"permissions\":[\"p:0\",\"p:4095\"],"
                    "\"roles\":[\"role_big\"]}", &c, -1),
           AUTHZ_OK, "token permissions all in the role: 4096 in all");
    ok(g_nperms == 4096, "still 4096 effective permissions (%zu)", g_nperms);
    is_err(get_conf("{\"permissions\":[\"q:0\"],\"roles\":[\"role_big\"]}",
                    &c, -1),
           AUTHZ_ERR_CLAIM, "4097 effective permissions");

    json = fmt("{\"permissions\":[%s],\"roles\":[\"role_big\"]}",
               list("\"p:", 4096, "\"", ","));
    is_err(get_conf(json, &c, -1), AUTHZ_OK,
           "4096 token permissions equal to the role's");
    ok(g_nperms == 4096, "union of equal sets: 4096 (%zu)", g_nperms);
}


static void
test_lookup(void)
{
    size_t         i, len;
    authz_json_t  *root, *v, *arr;
    unsigned char *name;

    static const struct {
        const char  *name;
        int          want;      /* integer found, 0: NULL, -1: object */
    } t[] = {
        { "a.b.c", 1 },
        { "a.b", 2 },
        { "a", -1 },
        { "x", 5 },
        { "a..b", 0 },
        { ".a", 0 },
        { "a.", 0 },
        { ".", 0 },
        { "..", 0 },
        { "", 0 },
        { "a.z.c", 0 },
        { "x.y", 0 },
        { "a.b.c.d", 0 },
        { "a.b.c.", 0 },
        { "e..f", 0 },
        { "zz", 0 },
        { "A.b.c", 0 },
        { NULL, 0 }
    };

    root = tparse("{\"a\":{\"b\":{\"c\":1}},\"x\":5,\"a.b\":2,"
                  "\"e\":{\"\":{\"f\":3}}}");

    for (i = 0; t[i].name != NULL; i++) {
        len = strlen(t[i].name);
        name = dup_exact(t[i].name, len);
        v = authz_claim_lookup(root, name, len);

        ok(t[i].want == 0 ? v == NULL
           : t[i].want < 0 ? authz_json_is_object(v)
           : authz_json_is_integer(v) && v->v.i == t[i].want,
           "authz_claim_lookup(\"%s\")", t[i].name);

        free(name);
    }

    /* the name is a length, not a C string */

    name = dup_exact("a.b.cXYZ", 8);
    v = authz_claim_lookup(root, name, 5);
    ok(authz_json_is_integer(v) && v->v.i == 1,
       "authz_claim_lookup uses len, not a NUL");
    v = authz_claim_lookup(root, name, 3);
    ok(authz_json_is_integer(v) && v->v.i == 2,
       "authz_claim_lookup(\"a.b\" of \"a.b.cXYZ\")");
    free(name);

    arr = tparse("[{\"a\":1}]");
    name = dup_exact("a", 1);
    ok(authz_claim_lookup(arr, name, 1) == NULL,
       "authz_claim_lookup on an array payload");
    free(name);

    authz_json_free(arr);
    authz_json_free(root);
}


static void
test_value_valid(void)
{
    int             c, n;
    size_t          i, len;
    unsigned char  *p, b;

    static const struct {
        const char  *s;
        int          want;
    } v[] = {
        { "abc", 1 },
        { "~!@#$%^&*()_+{}|:\"<>?`-=[]\\;'./", 1 },
        { "", 0 },
        { "a,b", 0 },
        { ",", 0 },
        { "a b", 0 },
        { " a", 0 },
        { "a\t", 0 },
        { "a\r\n", 0 },
        { "\x1f", 0 },
        { "\x7f", 0 },
        { "\x80", 0 },
        { "caf\xc3\xa9", 0 },
        { NULL, 0 }
    };

    for (i = 0; v[i].s != NULL; i++) {
        len = strlen(v[i].s);
        p = dup_exact(v[i].s, len);
        ok(authz_value_valid(p, len) == v[i].want, "authz_value_valid #%zu",
           i);
        free(p);
    }

    ok(!authz_value_valid((const unsigned char *) "a\0b", 3),
       "authz_value_valid: embedded NUL");

    n = 0;

    for (c = 0; c < 256; c++) {
        b = (unsigned char) c;
        n += authz_value_valid(&b, 1);
    }

    ok(n == 0x7e - 0x21 + 1 - 1, "93 single bytes are valid (got %d)", n);
}


static void
test_str_in(void)
{
    unsigned char  *p;
    authz_str_t     l[3];

    l[0] = str("a");
    l[1] = str("bc");
    l[2] = str("blog");

    p = dup_exact("bcd", 3);

    ok(authz_str_in(l, 3, p, 2), "authz_str_in: \"bc\"");
    ok(!authz_str_in(l, 3, p, 3), "authz_str_in: \"bcd\"");
    ok(!authz_str_in(l, 3, p, 1), "authz_str_in: \"b\"");
    ok(!authz_str_in(l, 3, p, 0), "authz_str_in: \"\"");
    ok(authz_str_in(l, 3, l[0].data, 1), "authz_str_in: first");
    ok(authz_str_in(l, 3, l[2].data, 4), "authz_str_in: last");
    ok(!authz_str_in(l, 2, l[2].data, 4), "authz_str_in: past n");
    ok(!authz_str_in(l, 0, p, 2), "authz_str_in: empty list");
    ok(!authz_str_in(l, 3, (const unsigned char *) "Blog", 4),
       "authz_str_in: case-sensitive");

    free(p);
}


static void
test_alloc_failure(void)
{
    long                  f;
    size_t                n;
    int                   good;
    authz_str_t           perms[1];
    authz_role_t          roles[1];
    authz_claims_conf_t   c;

    perms[0] = str("blog:posts.delete");
    roles[0].name = str("role_editor");
    roles[0].perms = perms;
    roles[0].nperms = 1;

    c = conf_new();
    c.roles = roles;
    c.nroles = 1;

    is_err(get_conf(SPEC_PAYLOAD, &c, -1), AUTHZ_OK, "allocation count run");
    n = g_allocs;
    ok(n > 0, "authz_identity_get allocates (%zu blocks)", n);
    is_str(g_perms, "blog:posts.read,blog:posts.update,chatbot:slots.read,"
           "blog:posts.delete", "SPEC payload with the role expanded");

    good = 1;

    for (f = 0; f < (long) n; f++) {
        if (get_conf(SPEC_PAYLOAD, &c, f) != AUTHZ_ERR_INTERNAL) {
            good = 0;
            diag("allocation %ld failing: %s", f, ename(g_rc));
        }
    }

    ok(good, "each failing allocation gives AUTHZ_ERR_INTERNAL");
}


/* helpers */


static void
gc_all(void)
{
    gc_free();

    free(g_sub);
    free(g_tenant);
    free(g_perms);
    free(g_services);
    free(g_roles);
}


/* an exact-size copy, without NUL, freed at the end */

static authz_str_t
str(const char *s)
{
    authz_str_t  r;

    r.len = strlen(s);
    r.data = gc(dup_exact(s, r.len));

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


/* prefix 0 suffix sep prefix 1 suffix sep ... prefix n-1 suffix */

static char *
list(const char *prefix, size_t n, const char *suffix, const char *sep)
{
    size_t   i, len, cap;
    char    *r;

    cap = n * (strlen(prefix) + strlen(suffix) + strlen(sep) + 24) + 1;
    r = gc(xmalloc(cap));
    len = 0;
    r[0] = '\0';

    for (i = 0; i < n; i++) {
        len += snprintf(r + len, cap - len, "%s%s%zu%s", i ? sep : "",
                        prefix, i, suffix);
    }

    return r;
}


static void *
talloc(void *data, size_t size)
{
    void       *p;
    tracker_t  *t;

    t = data;

    if (t->fail_at >= 0 && (long) t->calls == t->fail_at) {
        t->calls++;
        return NULL;
    }

    t->calls++;

    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->ptrs = realloc(t->ptrs, t->cap * sizeof(void *));
        if (t->ptrs == NULL) {
            abort();
        }
    }

    p = xmalloc(size);
    t->ptrs[t->n++] = p;

    return p;
}


static void
tfree(tracker_t *t)
{
    size_t  i;

    for (i = 0; i < t->n; i++) {
        free(t->ptrs[i]);
    }

    free(t->ptrs);
    memset(t, 0, sizeof(tracker_t));
}


static char *
join(const authz_str_t *a, size_t n)
{
    size_t   i, len;
    char    *r, *d;

    for (i = 0, len = 0; i < n; i++) {
        len += a[i].len + 1;
    }

    r = xmalloc(len + 1);
    d = r;

    for (i = 0; i < n; i++) {
        if (i) {
            *d++ = ',';
        }

        memcpy(d, a[i].data, a[i].len);
        d += a[i].len;
    }

    *d = '\0';

    return r;
}


static void
test_union(void)
{
    authz_str_t          names[3];
    authz_claims_conf_t  c;

    names[0] = str("permissions");
    names[1] = str("scope");
    names[2] = str("realm_access.roles");

    c = conf_new();
    c.permissions_claims = names;
    c.npermissions_claims = 3;

    is_err(get_conf("{\"permissions\":[\"a\",\"b\"],\"scope\":\"b c a\","
                    "\"realm_access\":{\"roles\":[\"d\",\"x y\",\"c\"]}}",
                    &c, -1),
           AUTHZ_OK, "three permissions claims");
    is_str(g_perms, "a,b,c,d", "union: claim order, first seen kept");
    ok(g_dropped == 1, "union: the invalid item of the third dropped");
    is_str(g_dropped_claim, "realm_access.roles", "union: dropped claim");

    is_err(get_conf("{\"scope\":\"a\"}", &c, -1), AUTHZ_OK,
           "union: two claims absent");
    ok(g_missing == ((AUTHZ_CLAIM_PERMISSIONS << 0)
                     | (AUTHZ_CLAIM_PERMISSIONS << 2)
                     | AUTHZ_CLAIM_SUB | AUTHZ_CLAIM_TENANT
                     | AUTHZ_CLAIM_SERVICES | AUTHZ_CLAIM_ROLES),
       "union: the absent claims flagged (%x)", g_missing);

    is_err(get_conf("{\"permissions\":[\"a\"],\"scope\":{\"a\":1}}", &c, -1),
           AUTHZ_ERR_CLAIM, "union: one claim of the wrong shape");
    is_str(g_bad_claim, "scope", "union: the wrong claim named");
}


static void
test_pointer(void)
{
    size_t         i;
    authz_json_t  *root, *v;

    static const struct {
        const char  *name;
        int          want;      /* integer found, 0: NULL */
    } t[] = {
        { "/a/b.c/d", 1 },
        { "/a~1b", 2 },
        { "/m~0n", 3 },
        { "/arr/1", 5 },
        { "/arr/0/x", 6 },
        { "/arr/01", 0 },
        { "/arr/2", 0 },
        { "/arr/-", 0 },
        { "/arr/", 0 },
        { "/arr/1x", 0 },
        { "/arr/99999999999", 0 },
        { "/a/b.c", -1 },
        { "/a~2b", 0 },
        { "/a~", 0 },
        { "/a/b.c/d/e", 0 },
        { "/", 7 },
        { "//", 0 },
        { "/nope", 0 },
        { "a/b.c/d", 0 },
        { NULL, 0 }
    };

    root = tparse("{\"a\":{\"b.c\":{\"d\":1}},\"a/b\":2,\"m~n\":3,"
                  "\"arr\":[{\"x\":6},5],\"\":7}");

    for (i = 0; t[i].name != NULL; i++) {
        v = authz_claim_lookup(root, (const unsigned char *) t[i].name,
                               strlen(t[i].name));

        ok(t[i].want == 0 ? v == NULL
           : t[i].want < 0 ? authz_json_is_object(v)
           : v->v.i == t[i].want,
           "JSON Pointer \"%s\"", t[i].name);
    }

    authz_json_free(root);

    ok(authz_claim_name_valid((const unsigned char *) "/a~0~1b", 7),
       "pointer name with ~0 ~1 valid");
    ok(!authz_claim_name_valid((const unsigned char *) "/a~2", 4),
       "pointer name with ~2 invalid");
    ok(!authz_claim_name_valid((const unsigned char *) "/a~", 3),
       "pointer name with a trailing ~ invalid");
    ok(authz_claim_name_valid((const unsigned char *) "a~2", 3),
       "a plain name may hold ~");
    ok(!authz_claim_name_valid((const unsigned char *) "a,b", 3),
       "a name with a comma invalid");
}


static void
test_missing(void)
{
    authz_claims_conf_t  c;

    c = conf_new();

    is_err(get("{\"sub\":\"a\",\"tid\":\"t\",\"permissions\":[],"
               "\"services\":[],\"roles\":[]}"),
           AUTHZ_OK, "every claim present");
    ok(g_missing == 0, "nothing missing");

    c.tenant_claim = str("org.id");
    is_err(get_conf("{\"org\":{\"name\":\"x\"},\"services\":{}}", &c, -1),
           AUTHZ_OK, "dotted tenant absent");
    ok((g_missing & AUTHZ_CLAIM_TENANT) && !(g_missing & AUTHZ_CLAIM_SERVICES),
       "tenant missing, services present (%x)", g_missing);

    c.roles_used = 0;
    is_err(get_conf("{}", &c, -1), AUTHZ_OK, "unused roles");
    ok(!(g_missing & AUTHZ_CLAIM_ROLES), "an unused roles claim is not looked "
       "up (%x)", g_missing);
}


static void
test_cnf(void)
{
    const char    *detail;
    authz_json_t  *p;

    p = tparse("{\"cnf\":{\"x5t#S256\":\"abc\"}}");

    detail = NULL;
    ok(authz_cnf_check(p, (const unsigned char *) "abc", 3, &detail)
       == AUTHZ_OK, "cnf x5t#S256 equal");
    ok(authz_cnf_check(p, (const unsigned char *) "abd", 3, &detail)
       == AUTHZ_ERR_BINDING && detail != NULL, "cnf x5t#S256 different");
    ok(authz_cnf_check(p, (const unsigned char *) "ab", 2, &detail)
       == AUTHZ_ERR_BINDING, "cnf x5t#S256 shorter");
    ok(authz_cnf_check(p, NULL, 0, &detail) == AUTHZ_ERR_BINDING,
       "no client certificate");
    authz_json_free(p);

    p = tparse("{\"cnf\":{\"jkt\":\"abc\"}}");
    ok(authz_cnf_check(p, (const unsigned char *) "abc", 3, &detail)
       == AUTHZ_ERR_BINDING, "a DPoP binding is not an mTLS one");
    authz_json_free(p);

    p = tparse("{\"cnf\":\"abc\"}");
    ok(authz_cnf_check(p, (const unsigned char *) "abc", 3, &detail)
       == AUTHZ_ERR_BINDING, "cnf not an object");
    authz_json_free(p);
}


static authz_claims_conf_t
conf_new(void)
{
    authz_claims_conf_t  c;

    memset(&c, 0, sizeof(authz_claims_conf_t));

    c.sub_claim = str("sub");
    c.tenant_claim = str("tid");
    c.permissions_claim = str("permissions");
    c.services_claim = str("services");
    c.roles_claim = str("roles");
    c.roles_used = 1;

    return c;
}


static authz_err_e
get_conf(const char *json, const authz_claims_conf_t *conf, long fail_at)
{
    size_t             i;
    tracker_t          t;
    const char        *detail;
    authz_json_t      *root;
    authz_identity_t   id;

    free(g_sub);
    free(g_tenant);
    free(g_perms);
    free(g_services);
    free(g_roles);
    free(g_dropped_claim);
    free(g_bad_claim);
    g_sub = g_tenant = g_perms = g_services = g_roles = NULL;
    g_dropped_claim = g_bad_claim = NULL;
    g_nperms = g_nservices = g_nroles = g_dropped = 0;
    g_missing = 0;

    root = tparse(json);
    if (root == NULL) {
        diag("test JSON does not parse: %.60s", json);
        return g_rc = AUTHZ_ERR_MALFORMED;
    }

    memset(&t, 0, sizeof(tracker_t));
    t.fail_at = fail_at;
    detail = NULL;

    g_rc = authz_identity_get(&id, root, conf, talloc, &t, &detail);
    g_allocs = t.calls;

    if (g_rc == AUTHZ_ERR_CLAIM && detail == NULL) {
        missing_detail++;
    }

    if (g_rc == AUTHZ_ERR_CLAIM && id.bad_claim != NULL) {
        g_bad_claim = join(id.bad_claim, 1);
    }

    if (g_rc == AUTHZ_OK) {
        g_dropped = id.ndropped;
        g_missing = id.missing;

        if (id.dropped_claim != NULL) {
            g_dropped_claim = join(id.dropped_claim, 1);
        }
    }

    if (g_rc == AUTHZ_OK) {
        g_sub = join(&id.sub, id.sub.len ? 1 : 0);
        g_tenant = join(&id.tenant, id.tenant.len ? 1 : 0);
        g_perms = join(id.perms, id.nperms);
        g_services = join(id.services, id.nservices);
        g_roles = join(id.roles, id.nroles);
        g_nperms = id.nperms;
        g_nservices = id.nservices;
        g_nroles = id.nroles;

        if ((id.sub.len && !authz_value_valid(id.sub.data, id.sub.len))
            || (id.tenant.len
                && !authz_value_valid(id.tenant.data, id.tenant.len)))
        {
            bad_values++;
        }

        for (i = 0; i < id.nperms; i++) {
            bad_values += !authz_perm_valid(id.perms[i].data, id.perms[i].len);
        }

        for (i = 0; i < id.nservices; i++) {
            bad_values += !authz_value_valid(id.services[i].data,
                                             id.services[i].len);
        }

        for (i = 0; i < id.nroles; i++) {
            bad_values += !authz_value_valid(id.roles[i].data,
                                             id.roles[i].len);
        }
    }

    tfree(&t);
    authz_json_free(root);

    return g_rc;
}


static authz_err_e
get(const char *json)
{
    authz_claims_conf_t  c;

    c = conf_new();

    return get_conf(json, &c, -1);
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
