/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: permission matching, requirements and methods
 * (route patterns and the rule table are in authz_pattern.c).  Every
 * function works on memory the caller provides: nothing here allocates,
 * logs or keeps state between calls.
 */


#include <string.h>

#include "authz_rules.h"


typedef struct {
    const char           *name;
    size_t                len;
    unsigned              bit;
} authz_method_t;


static const authz_method_t  authz_methods[] = {
    { "GET",     3, AUTHZ_METHOD_GET },
    { "HEAD",    4, AUTHZ_METHOD_HEAD },
    { "POST",    4, AUTHZ_METHOD_POST },
    { "PUT",     3, AUTHZ_METHOD_PUT },
    { "PATCH",   5, AUTHZ_METHOD_PATCH },
    { "DELETE",  6, AUTHZ_METHOD_DELETE },
    { "OPTIONS", 7, AUTHZ_METHOD_OPTIONS },
    { "TRACE",   5, AUTHZ_METHOD_TRACE },
    { "CONNECT", 7, AUTHZ_METHOD_CONNECT },
    { "*",       1, AUTHZ_METHOD_ANY }
};


static int authz_perm_char(unsigned char c);
static int authz_bytes_eq(const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen);
static ptrdiff_t authz_last_colon(const authz_str_t *s);
static ptrdiff_t authz_scope_level(const authz_scope_t *scope,
    const unsigned char *p, size_t len);
static int authz_req_alt_check(const authz_str_t *alt, const char **err);


int
authz_perm_valid(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > AUTHZ_MAX_PERMISSION_LEN) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!authz_perm_char(p[i])) {
            return 0;
        }
    }

    return 1;
}


int
authz_perm_required_valid(const unsigned char *p, size_t len)
{
    int     sep;
    size_t  i;

    if (len == 0 || len > AUTHZ_MAX_PERMISSION_LEN) {
        return 0;
    }

    /*
     * "sep" is set at the start and after each separator, so a separator
     * seen while it is set opens an empty segment: ":a", "a::b", "a.:b"
     */

    sep = 1;

    for (i = 0; i < len; i++) {

        if (p[i] == '*' || !authz_perm_char(p[i])) {
            return 0;
        }

        if (p[i] == ':' || p[i] == '.') {
            if (sep) {
                return 0;
            }

            sep = 1;

        } else {
            sep = 0;
        }
    }

    /* a trailing separator leaves an empty last segment */

    return !sep;
}


int
authz_grant_satisfies(const authz_str_t *grant, const authz_str_t *req,
    const authz_scope_t *scope)
{
    size_t      n;
    ptrdiff_t   gc, rc, gl, rl;

    /* an empty requirement is malformed: nothing satisfies it */

    if (req->len == 0) {
        return 0;
    }

    if (authz_bytes_eq(grant->data, grant->len, req->data, req->len)) {
        return 1;
    }

    n = grant->len;

    if (scope != NULL && scope->nowild) {
        goto levels;
    }

    if (n == 1 && grant->data[0] == '*') {
        return 1;
    }

    /*
     * "blog:*" and "blog:posts.*": the "*" must be the whole last
     * segment; the requirement must extend the prefix (separator
     * included), so "blog:*" covers neither "blogx:a" nor "blog:"
     */

    if (n >= 2
        && grant->data[n - 1] == '*'
        && (grant->data[n - 2] == ':' || grant->data[n - 2] == '.'))
    {
        n--;

        if (req->len > n && memcmp(grant->data, req->data, n) == 0) {
            return 1;
        }
    }

levels:

    if (scope == NULL || scope->nlevels == 0) {
        return 0;
    }

    /* "orders:read:org" covers "orders:read:team": same prefix, level >= */

    gc = authz_last_colon(grant);
    rc = authz_last_colon(req);

    if (gc < 0 || gc != rc) {
        return 0;
    }

    n = (size_t) gc + 1;

    if (memcmp(grant->data, req->data, n) != 0) {
        return 0;
    }

    gl = authz_scope_level(scope, grant->data + n, grant->len - n);
    rl = authz_scope_level(scope, req->data + n, req->len - n);

    return gl >= 0 && rl >= 0 && gl >= rl;
}


int
authz_req_satisfied(const authz_req_t *req, const authz_str_t *grants,
    size_t n, const authz_scope_t *scope)
{
    size_t  a, i;

    for (a = 0; a < req->nalts; a++) {
        for (i = 0; i < n; i++) {
            if (authz_grant_satisfies(&grants[i], &req->alts[a], scope)) {
                return 1;
            }
        }
    }

    return 0;
}


ptrdiff_t
authz_reqs_check(const authz_req_t *reqs, size_t n,
    const authz_str_t *grants, size_t ngrants, const authz_scope_t *scope)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (!authz_req_satisfied(&reqs[i], grants, ngrants, scope)) {
            return (ptrdiff_t) i;
        }
    }

    return -1;
}


size_t
authz_req_count_alts(const unsigned char *p, size_t len)
{
    size_t  i, n;

    n = 1;

    for (i = 0; i < len; i++) {
        if (p[i] == '|') {
            n++;
        }
    }

    return n;
}


int
authz_req_parse(authz_req_t *req, const unsigned char *p, size_t len,
    authz_str_t *alts, const char **err)
{
    size_t  i, n, start;

    if (len == 0) {
        *err = "empty requirement";
        return -1;
    }

    n = 0;
    start = 0;

    for (i = 0; i <= len; i++) {

        if (i < len && p[i] != '|') {
            continue;
        }

        alts[n].data = p + start;
        alts[n].len = i - start;

        if (authz_req_alt_check(&alts[n], err) != 0) {
            return -1;
        }

        n++;
        start = i + 1;
    }

    req->alts = alts;
    req->nalts = n;
    req->text.data = p;
    req->text.len = len;

    return 0;
}


unsigned
authz_method_bit(const unsigned char *m, size_t len)
{
    size_t  i;

    for (i = 0; i < sizeof(authz_methods) / sizeof(authz_methods[0]); i++) {
        if (authz_bytes_eq((const unsigned char *) authz_methods[i].name,
                           authz_methods[i].len, m, len))
        {
            return authz_methods[i].bit;
        }
    }

    return AUTHZ_METHOD_UNKNOWN;
}


static int
authz_perm_char(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != '"' && c != '\\' && c != ',';
}


/* memcmp() must not see a NULL pointer, even with a zero length */

static int
authz_bytes_eq(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen)
{
    if (alen != blen) {
        return 0;
    }

    return alen == 0 || memcmp(a, b, alen) == 0;
}


static ptrdiff_t
authz_last_colon(const authz_str_t *s)
{
    size_t  i;

    for (i = s->len; i > 0; i--) {
        if (s->data[i - 1] == ':') {
            return (ptrdiff_t) (i - 1);
        }
    }

    return -1;
}


/* the first index wins should the configuration repeat a level */

static ptrdiff_t
authz_scope_level(const authz_scope_t *scope, const unsigned char *p,
    size_t len)
{
    size_t  i;

    if (len == 0) {
        return -1;
    }

    for (i = 0; i < scope->nlevels; i++) {
        if (authz_bytes_eq(scope->levels[i].data, scope->levels[i].len,
                           p, len))
        {
            return (ptrdiff_t) i;
        }
    }

    return -1;
}


static int
authz_req_alt_check(const authz_str_t *alt, const char **err)
{
    if (alt->len == 0) {
        *err = "empty requirement";
        return -1;
    }

    if (memchr(alt->data, '*', alt->len) != NULL) {
        *err = "\"*\" in a required permission";
        return -1;
    }

    if (!authz_perm_valid(alt->data, alt->len)) {
        *err = "invalid character in permission";
        return -1;
    }

    if (!authz_perm_required_valid(alt->data, alt->len)) {
        *err = "empty segment in permission";
        return -1;
    }

    return 0;
}
