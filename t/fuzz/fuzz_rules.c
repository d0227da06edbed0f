/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * libFuzzer target: route patterns, requirements and permission grants
 * (authz_rules.c).  The input is split on its first three NUL or
 * newline bytes:
 *
 *     pattern \n uri \n requirements \n grants
 *
 * requirements are separated by spaces (as in "authz_require a|b c"),
 * grants by spaces, newlines or NULs.  Every string is an exact-size
 * heap copy without a terminator, so that ASan sees any over-read.
 * Besides memory safety, the relations the header promises are checked
 * (bindings only narrow a match, scope levels only widen a grant, ...),
 * every match is compared with a dynamic program that follows SPEC §4
 * word for word, and the steps of a match stay within the bound of
 * docs/rules.md.
 */


#define _POSIX_C_SOURCE  200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz_rules.h"
#include "authz_claims.h"
#include "../unit/pattern_ref.h"


#define FUZZ_MAX_REQS       16
#define FUZZ_MAX_GRANTS     64
#define FUZZ_MAX_PAIRS      64      /* alternatives tried one by one */

#define FUZZ_NELTS(a)       (sizeof(a) / sizeof(a[0]))

/* uri segments the reference takes; longer inputs skip the comparison */


typedef struct {
    authz_req_t          reqs[FUZZ_MAX_REQS];
    authz_str_t         *alts[FUZZ_MAX_REQS];
    unsigned char       *text[FUZZ_MAX_REQS];
    size_t               nreqs;
    authz_str_t          grants[FUZZ_MAX_GRANTS];
    size_t               ngrants;
} fuzz_input_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_pattern(const unsigned char *src, size_t len,
    const unsigned char *uri, size_t ulen);
static int fuzz_match(const authz_pattern_t *pat, const unsigned char *uri,
    size_t len);
static void fuzz_steps(const authz_rule_t *rule, const unsigned char *uri,
    size_t len, ptrdiff_t found);
static int fuzz_ref(const authz_pattern_t *pat, const unsigned char *uri,
    size_t len, const authz_bind_t *bind, unsigned enforce);
static void fuzz_reqs(fuzz_input_t *in, const unsigned char *p, size_t len);
static void fuzz_grants(fuzz_input_t *in);
static void fuzz_method(const unsigned char *p, size_t len);
static void fuzz_perm(const unsigned char *p, size_t len);
static unsigned char *fuzz_dup(const unsigned char *p, size_t len);
static void fuzz_fail(const char *what);


static const char  *fuzz_level_names[] = { "self", "team", "org", "global" };

static authz_str_t    fuzz_levels[FUZZ_NELTS(fuzz_level_names)];
static authz_scope_t  fuzz_scope = { fuzz_levels, 0, 0 };
static authz_bind_t   fuzz_bind;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                i, n, start;
    fuzz_input_t          in;
    unsigned char        *pattern, *uri;
    const unsigned char  *field[4];
    size_t                flen[4];

    /* the scope levels and bindings, as a configuration would hold them */

    if (fuzz_scope.nlevels == 0) {
        for (i = 0; i < FUZZ_NELTS(fuzz_level_names); i++) {
            fuzz_levels[i].len = strlen(fuzz_level_names[i]);
            fuzz_levels[i].data = fuzz_dup((const unsigned char *)
                                           fuzz_level_names[i],
                                           fuzz_levels[i].len);
        }

        fuzz_scope.nlevels = FUZZ_NELTS(fuzz_level_names);

        fuzz_bind.tenant.len = 4;
        fuzz_bind.tenant.data = fuzz_dup((const unsigned char *) "acme", 4);
        fuzz_bind.sub.len = 5;
        fuzz_bind.sub.data = fuzz_dup((const unsigned char *) "alice", 5);
    }

    n = 0;
    start = 0;

    for (i = 0; i < size && n < 3; i++) {
        if (data[i] == '\0' || data[i] == '\n') {
            field[n] = data + start;
            flen[n] = i - start;
            n++;
            start = i + 1;
        }
    }

    field[n] = data + start;
    flen[n] = size - start;

    for (n++; n < 4; n++) {
        field[n] = data + size;
        flen[n] = 0;
    }

    pattern = fuzz_dup(field[0], flen[0]);
    uri = fuzz_dup(field[1], flen[1]);

    fuzz_pattern(pattern, flen[0], uri, flen[1]);

    /* the pattern itself as a uri: "{tenant}" and "**" as literals */

    fuzz_pattern(pattern, flen[0], pattern, flen[0]);

    memset(&in, 0, sizeof(fuzz_input_t));

    fuzz_reqs(&in, field[2], flen[2]);

    /* the grant list, as a token's permissions */

    for (i = 0, start = 0; i <= flen[3]; i++) {
        if (i < flen[3]
            && field[3][i] != ' ' && field[3][i] != '\n'
            && field[3][i] != '\0')
        {
            continue;
        }

        if (i > start && in.ngrants < FUZZ_MAX_GRANTS) {
            in.grants[in.ngrants].len = i - start;
            in.grants[in.ngrants].data = fuzz_dup(field[3] + start,
                                                  i - start);
            in.ngrants++;
        }

        start = i + 1;
    }

    fuzz_grants(&in);

    fuzz_method(pattern, flen[0]);
    fuzz_perm(uri, flen[1]);

    for (i = 0; i < in.ngrants; i++) {
        free((void *) in.grants[i].data);
    }

    for (i = 0; i < in.nreqs; i++) {
        free(in.alts[i]);
        free(in.text[i]);
    }

    free(uri);
    free(pattern);

    return 0;
}


static void
fuzz_pattern(const unsigned char *src, size_t len, const unsigned char *uri,
    size_t ulen)
{
    size_t            i, n;
    ptrdiff_t         k;
    const char       *err;
    authz_seg_t      *segs;
    authz_rule_t      rule;
    authz_pattern_t   pat;

    n = authz_pattern_count_segs(src, len);

    if (n == 0) {
        fuzz_fail("authz_pattern_count_segs() returned 0");
    }

    segs = malloc(n * sizeof(authz_seg_t));
    if (segs == NULL) {
        fuzz_fail("malloc()");
    }

    err = NULL;

    if (authz_pattern_compile(&pat, src, len, segs, &err) != 0) {
        if (err == NULL) {
            fuzz_fail("pattern error without reason");
        }

        free(segs);
        return;
    }

    if (pat.segs != segs || pat.nsegs > n
        || pat.nsegs > AUTHZ_MAX_PATTERN_SEGMENTS
        || (pat.binds & ~(AUTHZ_BIND_TENANT|AUTHZ_BIND_SUB)) != 0)
    {
        fuzz_fail("compiled pattern");
    }

    for (i = 0; i < pat.nsegs; i++) {
        if (segs[i].type == AUTHZ_SEG_LITERAL
            && segs[i].literal.len != 0
            && (segs[i].literal.data < src
                || segs[i].literal.data + segs[i].literal.len > src + len))
        {
            fuzz_fail("literal outside the pattern");
        }
    }

    k = fuzz_match(&pat, uri, ulen);

    /* a rule of this pattern: found exactly when the pattern matches */

    memset(&rule, 0, sizeof(authz_rule_t));

    rule.methods = AUTHZ_METHOD_GET;
    rule.pattern = pat;
    rule.public = 1;

    /* a GET rule covers HEAD too */

    if (authz_rules_find(&rule, 1, AUTHZ_METHOD_GET, uri, ulen) != (k ? 0 : -1)
        || authz_rules_find(&rule, 1, AUTHZ_METHOD_HEAD, uri, ulen)
           != (k ? 0 : -1)
        || authz_rules_find(&rule, 1, AUTHZ_METHOD_POST, uri, ulen) != -1)
    {
        fuzz_fail("authz_rules_find()");
    }

    fuzz_steps(&rule, uri, ulen, k ? 0 : -1);

    rule.methods = AUTHZ_METHOD_ANY;

    if (authz_rules_find(&rule, 1, AUTHZ_METHOD_UNKNOWN, uri, ulen)
        != (k ? 0 : -1))
    {
        fuzz_fail("authz_rules_find() with \"*\"");
    }

    free(segs);
}


/* returns the match with bindings as "*"; checks the narrower ones */

static int
fuzz_match(const authz_pattern_t *pat, const unsigned char *uri, size_t len)
{
    int           any, t, ts, tany;
    unsigned      e;
    authz_bind_t  empty;

    any = authz_pattern_match(pat, uri, len, NULL, 0);

    /* the reference, for every binding that can be enforced */

    for (e = 0; e < 8; e++) {
        fuzz_bind.tenant_any = (e & 4) != 0;

        if (authz_pattern_match(pat, uri, len, &fuzz_bind, e & 3)
            != fuzz_ref(pat, uri, len, &fuzz_bind, e & 3))
        {
            fuzz_fail("a match differs from the reference");
        }
    }

    fuzz_bind.tenant_any = 0;

    if (fuzz_ref(pat, uri, len, NULL, 0) != any) {
        fuzz_fail("a match without bindings differs from the reference");
    }

    if (authz_pattern_match(pat, uri, len, NULL,
                            AUTHZ_BIND_TENANT|AUTHZ_BIND_SUB) != any
        || authz_pattern_match(pat, uri, len, &fuzz_bind, 0) != any)
    {
        fuzz_fail("a match without bindings");
    }

    t = authz_pattern_match(pat, uri, len, &fuzz_bind, AUTHZ_BIND_TENANT);
    ts = authz_pattern_match(pat, uri, len, &fuzz_bind,
                             AUTHZ_BIND_TENANT|AUTHZ_BIND_SUB);

    if ((ts && !t) || (t && !any)) {
        fuzz_fail("a binding widened a match");
    }

    if ((pat->binds & AUTHZ_BIND_TENANT) == 0 && t != any) {
        fuzz_fail("an absent {tenant} changed a match");
    }

    if (pat->binds == 0 && ts != any) {
        fuzz_fail("absent bindings changed a match");
    }

    /* the bypass permission: {tenant} is "*" again */

    fuzz_bind.tenant_any = 1;

    tany = authz_pattern_match(pat, uri, len, &fuzz_bind,
                               AUTHZ_BIND_TENANT);

    fuzz_bind.tenant_any = 0;

    if (tany != any) {
        fuzz_fail("tenant_any is not \"*\"");
    }

    /*
     * a token without tenant or sub: every accepting path goes through
     * each bound segment, and an empty value matches none
     */

    memset(&empty, 0, sizeof(authz_bind_t));

    if ((pat->binds & AUTHZ_BIND_TENANT)
        && authz_pattern_match(pat, uri, len, &empty, AUTHZ_BIND_TENANT))
    {
        fuzz_fail("an empty tenant matched");
    }

    if ((pat->binds & AUTHZ_BIND_SUB)
        && authz_pattern_match(pat, uri, len, &empty,
                               AUTHZ_BIND_TENANT|AUTHZ_BIND_SUB))
    {
        fuzz_fail("an empty sub matched");
    }

    return any;
}


/*
 * docs/rules.md: at most 128 steps to locate the ends of the uri, one
 * per pattern segment, and with two "**" or more one per uri segment
 */

static void
fuzz_steps(const authz_rule_t *rule, const unsigned char *uri, size_t len,
    ptrdiff_t found)
{
    size_t  i, n, steps, bound;

    n = 1;

    for (i = 1; i < len; i++) {
        n += (uri[i] == '/');
    }

    bound = 128 + rule->pattern.nsegs;

    if (rule->pattern.globs >= 2) {
        bound += n;
    }

    steps = 0;

    if (authz_rules_find_steps(rule, 1, AUTHZ_METHOD_GET, uri, len, &steps)
        != found)
    {
        fuzz_fail("authz_rules_find_steps()");
    }

    if (steps > bound) {
        fuzz_fail("more steps than the bound");
    }
}


/* the reference matcher; a uri too long for its table: the matcher */

static int
fuzz_ref(const authz_pattern_t *pat, const unsigned char *uri, size_t len,
    const authz_bind_t *bind, unsigned enforce)
{
    int  r;

    r = pattern_ref_match(pat, uri, len, bind, enforce);

    return (r < 0) ? authz_pattern_match(pat, uri, len, bind, enforce) : r;
}


/* space separated requirements, each "a|b|c" */

static void
fuzz_reqs(fuzz_input_t *in, const unsigned char *p, size_t len)
{
    size_t                i, k, n, start;
    const char           *err;
    authz_str_t          *alts;
    authz_req_t          *req;
    unsigned char        *text;

    for (i = 0, start = 0; i <= len; i++) {
        if (i < len && p[i] != ' ') {
            continue;
        }

        if (in->nreqs == FUZZ_MAX_REQS) {
            break;
        }

        text = fuzz_dup(p + start, i - start);
        fuzz_method(text, i - start);

        n = authz_req_count_alts(text, i - start);

        if (n == 0) {
            fuzz_fail("authz_req_count_alts() returned 0");
        }

        alts = malloc(n * sizeof(authz_str_t));
        if (alts == NULL) {
            fuzz_fail("malloc()");
        }

        req = &in->reqs[in->nreqs];
        err = NULL;

        if (authz_req_parse(req, text, i - start, alts, &err) != 0) {
            if (err == NULL) {
                fuzz_fail("requirement error without reason");
            }

            free(alts);
            free(text);

            start = i + 1;
            continue;
        }

        if (req->alts != alts || req->nalts == 0 || req->nalts > n
            || req->text.data != text || req->text.len != i - start)
        {
            fuzz_fail("parsed requirement");
        }

        for (k = 0; k < req->nalts; k++) {
            if (alts[k].data < text
                || alts[k].data + alts[k].len > text + (i - start)
                || !authz_perm_required_valid(alts[k].data, alts[k].len)
                || !authz_perm_valid(alts[k].data, alts[k].len))
            {
                fuzz_fail("parsed alternative");
            }
        }

        in->alts[in->nreqs] = alts;
        in->text[in->nreqs] = text;
        in->nreqs++;

        start = i + 1;
    }
}


static void
fuzz_grants(fuzz_input_t *in)
{
    int                  s, w;
    size_t               g, r, a;
    ptrdiff_t            k;
    authz_scope_t        none;
    const authz_str_t   *grant, *alt;

    memset(&none, 0, sizeof(authz_scope_t));

    for (g = 0; g < in->ngrants; g++) {
        grant = &in->grants[g];

        fuzz_perm(grant->data, grant->len);
        fuzz_method(grant->data, grant->len);

        (void) authz_value_valid(grant->data, grant->len);

        for (r = 0; r < in->nreqs; r++) {
            for (a = 0; a < in->reqs[r].nalts && a < FUZZ_MAX_PAIRS; a++) {
                alt = &in->reqs[r].alts[a];

                s = authz_grant_satisfies(grant, alt, NULL);
                w = authz_grant_satisfies(grant, alt, &fuzz_scope);

                if (authz_grant_satisfies(grant, alt, &none) != s) {
                    fuzz_fail("an empty scope is not no scope");
                }

                if (s && !w) {
                    fuzz_fail("scope levels narrowed a grant");
                }

                if (grant->len == alt->len
                    && memcmp(grant->data, alt->data, alt->len) == 0
                    && !s)
                {
                    fuzz_fail("a grant does not satisfy itself");
                }
            }

            /* the other way round: any bytes as the requirement */

            (void) authz_grant_satisfies(&in->reqs[r].text, grant,
                                         &fuzz_scope);
            (void) authz_grant_satisfies(grant, &in->reqs[r].text,
                                         &fuzz_scope);
        }

        (void) authz_str_in(in->grants, g, grant->data, grant->len);
    }

    for (r = 0; r < in->nreqs; r++) {
        (void) authz_req_satisfied(&in->reqs[r], in->grants, in->ngrants,
                                   NULL);
    }

    k = authz_reqs_check(in->reqs, in->nreqs, in->grants, in->ngrants,
                         &fuzz_scope);

    if (k < -1 || k >= (ptrdiff_t) in->nreqs) {
        fuzz_fail("authz_reqs_check() index");
    }

    for (r = 0; r < in->nreqs; r++) {
        s = authz_req_satisfied(&in->reqs[r], in->grants, in->ngrants,
                                &fuzz_scope);

        if ((ptrdiff_t) r < k && !s) {
            fuzz_fail("authz_reqs_check() skipped an unmet requirement");
        }

        if ((ptrdiff_t) r == k && s) {
            fuzz_fail("authz_reqs_check() named a met requirement");
        }

        if (k == -1 && !s) {
            fuzz_fail("authz_reqs_check() missed an unmet requirement");
        }
    }
}


static void
fuzz_method(const unsigned char *p, size_t len)
{
    unsigned  bit;

    bit = authz_method_bit(p, len);

    if (bit != AUTHZ_METHOD_ANY && (bit & (bit - 1)) != 0) {
        fuzz_fail("authz_method_bit()");
    }
}


static void
fuzz_perm(const unsigned char *p, size_t len)
{
    if (authz_perm_required_valid(p, len) && !authz_perm_valid(p, len)) {
        fuzz_fail("a valid requirement is not a valid permission");
    }
}


/* an exact-size copy, without a terminator; malloc(0) for "" */

static unsigned char *
fuzz_dup(const unsigned char *p, size_t len)
{
    unsigned char  *d;

    d = malloc(len);

    if (d == NULL && len != 0) {
        fuzz_fail("malloc()");
    }

    if (len != 0) {
        memcpy(d, p, len);
    }

    return d;
}


static void
fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_rules: %s\n", what);
    abort();
}


#ifndef AUTHZ_LIBFUZZER
#include "fuzz_replay.h"
#endif /* AUTHZ_LIBFUZZER */
