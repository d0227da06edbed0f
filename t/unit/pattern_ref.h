/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * The reference matcher of route patterns, for the unit tests and the
 * fuzzer: SPEC 4 as a dynamic program over (pattern segment, uri
 * segment), written from the text, not from authz_pattern.c.
 * match[i][j] says whether segments i.. of the pattern match segments
 * j.. of the uri; "**" takes none or one more.
 */


#ifndef _AUTHZ_PATTERN_REF_H_INCLUDED_
#define _AUTHZ_PATTERN_REF_H_INCLUDED_


#include <string.h>

#include "authz_rules.h"


#define PATTERN_REF_SEGS  8192


static int
pattern_ref_seg(const authz_seg_t *seg, const unsigned char *p, size_t len,
    const authz_bind_t *bind, unsigned enforce)
{
    const authz_str_t  *v;

    if (bind == NULL) {
        enforce = 0;
    }

    switch (seg->type) {

    case AUTHZ_SEG_LITERAL:
        return seg->literal.len == len
               && (len == 0 || memcmp(seg->literal.data, p, len) == 0);

    case AUTHZ_SEG_STAR:
        return len != 0;

    case AUTHZ_SEG_TENANT:
        if (len == 0 || !(enforce & AUTHZ_BIND_TENANT) || bind->tenant_any) {
            return len != 0;
        }

        v = &bind->tenant;
        break;

    case AUTHZ_SEG_SUB:
        if (len == 0 || !(enforce & AUTHZ_BIND_SUB)) {
            return len != 0;
        }

        v = &bind->sub;
        break;

    default:
        return 0;
    }

    return v->len == len && memcmp(v->data, p, len) == 0;
}


/* 1 or 0; -1 for a uri of more than PATTERN_REF_SEGS segments */

static int
pattern_ref_match(const authz_pattern_t *pat, const unsigned char *uri,
    size_t len, const authz_bind_t *bind, unsigned enforce)
{
    int                   r;
    size_t                i, j, n, m, start;
    static size_t         st[PATTERN_REF_SEGS], ln[PATTERN_REF_SEGS];
    static unsigned char  match[AUTHZ_MAX_PATTERN_SEGMENTS + 1]
                               [PATTERN_REF_SEGS + 1];

    if (len == 0 || uri[0] != '/' || pat->nsegs == 0) {
        return 0;
    }

    n = 0;
    start = 1;

    for (i = 1; i <= len; i++) {
        if (i == len || uri[i] == '/') {
            if (n == PATTERN_REF_SEGS) {
                return -1;
            }

            st[n] = start;
            ln[n] = i - start;
            n++;
            start = i + 1;
        }
    }

    m = pat->nsegs;

    for (i = m + 1; i-- > 0; /* void */) {
        for (j = n + 1; j-- > 0; /* void */) {
            if (i == m) {
                r = (j == n);

            } else if (pat->segs[i].type == AUTHZ_SEG_GLOBSTAR) {
                r = match[i + 1][j] || (j < n && match[i][j + 1]);

            } else {
                r = j < n
                    && pattern_ref_seg(&pat->segs[i], uri + st[j], ln[j],
                                       bind, enforce)
                    && match[i + 1][j + 1];
            }

            match[i][j] = (unsigned char) r;
        }
    }

    return match[0][0];
}


#endif /* _AUTHZ_PATTERN_REF_H_INCLUDED_ */
