/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: route patterns and the rule table (authz_rules.h).
 * Every function works on memory the caller provides: nothing here
 * allocates, logs or keeps state between calls.
 */


#include <string.h>

#include "authz_rules.h"


#define AUTHZ_BIT(i)  ((uint64_t) 1 << (i))


static int authz_bytes_eq(const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen);
static int authz_seg_compile(authz_seg_t *seg, const unsigned char *p,
    size_t len, unsigned *binds, const char **err);
static int authz_seg_match(const authz_seg_t *seg, const unsigned char *p,
    size_t len, const authz_bind_t *bind, unsigned enforce);
static void authz_pattern_closure(uint64_t *set, int *accept, uint64_t glob,
    size_t nsegs);


size_t
authz_pattern_count_segs(const unsigned char *src, size_t len)
{
    size_t  i, n;

    /* a pattern has one segment per "/"; never ask for a 0-sized array */

    n = 0;

    for (i = 0; i < len; i++) {
        if (src[i] == '/') {
            n++;
        }
    }

    return n ? n : 1;
}


int
authz_pattern_compile(authz_pattern_t *pat, const unsigned char *src,
    size_t len, authz_seg_t *segs, const char **err)
{
    size_t    n, end, start, prefix;
    unsigned  binds;

    if (len == 0 || src[0] != '/') {
        *err = "pattern must start with \"/\"";
        return -1;
    }

    n = 0;
    binds = 0;
    start = 1;
    prefix = 0;

    for ( ;; ) {

        for (end = start; end < len && src[end] != '/'; end++) {
            /* void */
        }

        if (n == AUTHZ_MAX_PATTERN_SEGMENTS) {
            *err = "too many segments in pattern";
            return -1;
        }

        if (authz_seg_compile(&segs[n], src + start, end - start, &binds, err)
            != 0)
        {
            return -1;
        }

        /* while only literals were seen, they are a prefix of any match */

        if (segs[n].type == AUTHZ_SEG_LITERAL && prefix == start - 1) {
            prefix = end;
        }

        n++;

        if (end == len) {
            break;
        }

        start = end + 1;
    }

    pat->segs = segs;
    pat->nsegs = n;
    pat->binds = binds;
    pat->prefix.data = src;
    pat->prefix.len = prefix;

    return 0;
}


/*
 * an NFA simulation: bit i of "cur" is set when the first i pattern
 * segments can have consumed the uri segments read so far, "accept"
 * stands for i == nsegs (which does not fit into 64 bits); "**" is a
 * self-loop plus an epsilon move to the next position, so each uri
 * segment costs at most nsegs steps and nothing backtracks
 */

int
authz_pattern_match(const authz_pattern_t *pat, const unsigned char *uri,
    size_t len, const authz_bind_t *bind, unsigned enforce)
{
    int        accept, next_accept;
    size_t     i, end, start, nsegs;
    uint64_t   cur, next, glob;

    nsegs = pat->nsegs;

    if (len == 0 || uri[0] != '/' || nsegs > AUTHZ_MAX_PATTERN_SEGMENTS) {
        return 0;
    }

    /* most rules of a table differ in their first literal segments */

    if (pat->prefix.len
        && (pat->prefix.len > len
            || memcmp(uri, pat->prefix.data, pat->prefix.len) != 0))
    {
        return 0;
    }

    if (bind == NULL) {
        enforce = 0;
    }

    glob = 0;

    for (i = 0; i < nsegs; i++) {
        if (pat->segs[i].type == AUTHZ_SEG_GLOBSTAR) {
            glob |= AUTHZ_BIT(i);
        }
    }

    cur = nsegs ? 1 : 0;
    accept = (nsegs == 0);

    authz_pattern_closure(&cur, &accept, glob, nsegs);

    start = 1;

    for ( ;; ) {

        for (end = start; end < len && uri[end] != '/'; end++) {
            /* void */
        }

        next = 0;
        next_accept = 0;

        for (i = 0; i < nsegs; i++) {

            if ((cur & AUTHZ_BIT(i)) == 0) {
                continue;
            }

            if (glob & AUTHZ_BIT(i)) {
                next |= AUTHZ_BIT(i);
                continue;
            }

            if (!authz_seg_match(&pat->segs[i], uri + start, end - start,
                                 bind, enforce))
            {
                continue;
            }

            if (i + 1 == nsegs) {
                next_accept = 1;

            } else {
                next |= AUTHZ_BIT(i + 1);
            }
        }

        authz_pattern_closure(&next, &next_accept, glob, nsegs);

        cur = next;
        accept = next_accept;

        if (end == len || (cur == 0 && !accept)) {
            break;
        }

        start = end + 1;
    }

    return accept;
}


ptrdiff_t
authz_rules_find(const authz_rule_t *rules, size_t n, unsigned method,
    const unsigned char *uri, size_t len)
{
    size_t  i;

    for (i = 0; i < n; i++) {

        if (rules[i].methods != AUTHZ_METHOD_ANY
            && (rules[i].methods & method) == 0)
        {
            continue;
        }

        if (authz_pattern_match(&rules[i].pattern, uri, len, NULL, 0)) {
            return (ptrdiff_t) i;
        }
    }

    return -1;
}


static int
authz_seg_compile(authz_seg_t *seg, const unsigned char *p, size_t len,
    unsigned *binds, const char **err)
{
    seg->literal.data = p;
    seg->literal.len = len;

    if (len == 2 && p[0] == '*' && p[1] == '*') {
        seg->type = AUTHZ_SEG_GLOBSTAR;
        return 0;
    }

    if (len == 1 && p[0] == '*') {
        seg->type = AUTHZ_SEG_STAR;
        return 0;
    }

    if (len >= 2 && p[0] == '{' && p[len - 1] == '}') {

        if (len == 8 && memcmp(p, "{tenant}", 8) == 0) {
            seg->type = AUTHZ_SEG_TENANT;
            *binds |= AUTHZ_BIND_TENANT;
            return 0;
        }

        if (len == 5 && memcmp(p, "{sub}", 5) == 0) {
            seg->type = AUTHZ_SEG_SUB;
            *binds |= AUTHZ_BIND_SUB;
            return 0;
        }

        *err = "unknown binding, only \"{tenant}\" and \"{sub}\" exist";
        return -1;
    }

    /* "a*b", "*.json", "x{tenant}": no partial-segment matching */

    if (len != 0
        && (memchr(p, '*', len) != NULL
            || memchr(p, '{', len) != NULL
            || memchr(p, '}', len) != NULL))
    {
        *err = "\"*\", \"**\" and \"{...}\" must be whole segments";
        return -1;
    }

    /* a normalized $uri never holds them: such a rule could never match */

    if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
    {
        *err = "\".\" or \"..\" segment in pattern";
        return -1;
    }

    seg->type = AUTHZ_SEG_LITERAL;

    return 0;
}


static int
authz_seg_match(const authz_seg_t *seg, const unsigned char *p, size_t len,
    const authz_bind_t *bind, unsigned enforce)
{
    switch (seg->type) {

    case AUTHZ_SEG_LITERAL:
        return authz_bytes_eq(seg->literal.data, seg->literal.len, p, len);

    case AUTHZ_SEG_STAR:
        return len != 0;

    case AUTHZ_SEG_TENANT:
        if (len == 0) {
            return 0;
        }

        if ((enforce & AUTHZ_BIND_TENANT) == 0 || bind->tenant_any) {
            return 1;
        }

        /* an empty tenant never matches: the segment is non-empty */

        return authz_bytes_eq(bind->tenant.data, bind->tenant.len, p, len);

    case AUTHZ_SEG_SUB:
        if (len == 0) {
            return 0;
        }

        if ((enforce & AUTHZ_BIND_SUB) == 0) {
            return 1;
        }

        return authz_bytes_eq(bind->sub.data, bind->sub.len, p, len);

    default:
        /* AUTHZ_SEG_GLOBSTAR is the caller's business */
        return 0;
    }
}


/* epsilon moves only go forward, so one ascending pass is enough */

static void
authz_pattern_closure(uint64_t *set, int *accept, uint64_t glob, size_t nsegs)
{
    size_t  i;

    for (i = 0; i < nsegs; i++) {

        if ((*set & glob & AUTHZ_BIT(i)) == 0) {
            continue;
        }

        if (i + 1 == nsegs) {
            *accept = 1;

        } else {
            *set |= AUTHZ_BIT(i + 1);
        }
    }
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
