/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: route patterns and the rule table (authz_rules.h).
 * Patterns are compiled once; a uri is matched against a whole table
 * in time bounded in docs/rules.md.  Every function works on memory
 * the caller provides: nothing here allocates, logs or keeps state
 * between calls.
 */


#include <string.h>

#include "authz_rules.h"


#define AUTHZ_BIT(i)  ((uint64_t) 1 << (i))

/* the segments of a uri located from each end: what a pattern anchors */
#define AUTHZ_PATH_ENDS  AUTHZ_MAX_PATTERN_SEGMENTS


/*
 * a uri split once for a whole rule table: head[i] is the offset of the
 * "/" that starts segment i, tail[j] the offset of the "/" that starts
 * segment nsegs - j; head[nsegs] and tail[0] are the length.  Only the
 * first and last 64 segments are located: no pattern anchors more.
 */

typedef struct {
    const unsigned char  *uri;
    size_t                len;
    size_t                nsegs;    /* exact up to 64; 65 means more */
    size_t                steps;
    size_t                head[AUTHZ_PATH_ENDS + 1];
    size_t                tail[AUTHZ_PATH_ENDS + 1];
} authz_path_t;


/* one middle block: its bits, shifted down to bit 0 */

typedef struct {
    size_t                off;      /* its first middle bit */
    size_t                len;      /* its segments, 1 to 62 */
    uint64_t              wild;     /* "*" and bindings not enforced */
    uint64_t              tenant;   /* "{tenant}", enforced */
    uint64_t              sub;      /* "{sub}", enforced */
    uint64_t              lens;     /* bit min(len, 63) of its literals */
} authz_block_t;


static int authz_bytes_eq(const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen);
static int authz_seg_compile(authz_seg_t *seg, const unsigned char *p,
    size_t len, unsigned *binds, const char **err);
static int authz_seg_match(const authz_seg_t *seg, const unsigned char *p,
    size_t len, const authz_bind_t *bind, unsigned enforce);
static void authz_pattern_shape(authz_pattern_t *pat);
static void authz_pattern_slot(authz_pattern_t *pat, size_t i, uint64_t bit);
static int authz_pattern_usable(const authz_pattern_t *pat,
    const unsigned char *uri, size_t len);
static void authz_path_init(authz_path_t *path, const unsigned char *uri,
    size_t len);
static int authz_path_match(authz_path_t *path, const authz_pattern_t *pat,
    const authz_bind_t *bind, unsigned enforce);
static int authz_path_middle(authz_path_t *path, const authz_pattern_t *pat,
    const authz_bind_t *bind, unsigned enforce);
static int authz_path_block(authz_path_t *path, const authz_pattern_t *pat,
    const authz_block_t *blk, const authz_bind_t *bind,
    const unsigned char **pos, const unsigned char *end);
static uint64_t authz_block_bound(const authz_block_t *blk,
    const authz_bind_t *bind, const unsigned char *p, size_t len);
static uint64_t authz_literal_mask(const authz_pattern_t *pat,
    const unsigned char *p, size_t len);
static uint32_t authz_hash(const unsigned char *p, size_t len);


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
    pat->src.data = src;
    pat->src.len = len;

    authz_pattern_shape(pat);

    return 0;
}


/*
 * the whole cost: the uri's ends are located once (authz_path_init()),
 * then the head and tail segments are compared in place, and only a
 * pattern with two "**" or more goes through the uri between them,
 * once (authz_path_middle()); docs/rules.md has the bound
 */

int
authz_pattern_match(const authz_pattern_t *pat, const unsigned char *uri,
    size_t len, const authz_bind_t *bind, unsigned enforce)
{
    authz_path_t  path;

    if (!authz_pattern_usable(pat, uri, len)) {
        return 0;
    }

    if (bind == NULL) {
        enforce = 0;
    }

    authz_path_init(&path, uri, len);

    return authz_path_match(&path, pat, bind, enforce);
}


size_t
authz_path_segments(const unsigned char *uri, size_t len)
{
    size_t                n;
    const unsigned char  *p, *end;

    n = 0;
    end = uri + len;

    for (p = uri; p < end; p++) {
        p = memchr(p, '/', end - p);

        if (p == NULL) {
            break;
        }

        n++;
    }

    return n;
}


ptrdiff_t
authz_rules_find(const authz_rule_t *rules, size_t n, unsigned method,
    const unsigned char *uri, size_t len)
{
    return authz_rules_find_steps(rules, n, method, uri, len, NULL);
}


ptrdiff_t
authz_rules_find_steps(const authz_rule_t *rules, size_t n, unsigned method,
    const unsigned char *uri, size_t len, size_t *steps)
{
    size_t        i;
    ptrdiff_t     found;
    authz_path_t  path;

    /* a rule for GET also covers HEAD, as "limit_except GET" does */

    if (method & AUTHZ_METHOD_HEAD) {
        method |= AUTHZ_METHOD_GET;
    }

    found = -1;
    path.uri = NULL;
    path.steps = 0;

    for (i = 0; i < n; i++) {

        if (rules[i].methods != AUTHZ_METHOD_ANY
            && (rules[i].methods & method) == 0)
        {
            continue;
        }

        if (!authz_pattern_usable(&rules[i].pattern, uri, len)) {
            continue;
        }

        /* the first rule that gets this far splits the uri for all */

        if (path.uri == NULL) {
            authz_path_init(&path, uri, len);
        }

        if (authz_path_match(&path, &rules[i].pattern, NULL, 0)) {
            found = (ptrdiff_t) i;
            break;
        }
    }

    if (steps != NULL) {
        *steps += path.steps;
    }

    return found;
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


/*
 * head, tail and the middle masks of a compiled pattern; literals that
 * appear several times in the middle share the slot of their first copy
 */

static void
authz_pattern_shape(authz_pattern_t *pat)
{
    size_t        i, first, last;
    authz_seg_t  *seg;

    pat->globs = 0;
    pat->wild = 0;
    pat->tenant = 0;
    pat->sub = 0;
    memset(pat->slots, 0, sizeof(pat->slots));

    first = 0;
    last = 0;

    for (i = 0; i < pat->nsegs; i++) {
        pat->segs[i].hash = 0;
        pat->segs[i].same = 0;

        if (pat->segs[i].type == AUTHZ_SEG_GLOBSTAR) {
            if (pat->globs == 0) {
                first = i;
            }

            last = i;
            pat->globs++;
        }
    }

    if (pat->globs == 0) {
        pat->head = pat->nsegs;
        pat->tail = 0;
        return;
    }

    pat->head = first;
    pat->tail = pat->nsegs - 1 - last;

    /* at most 62 middle segments: 64 minus the first and last "**" */

    for (i = first + 1; i < last; i++) {
        seg = &pat->segs[i];

        switch (seg->type) {

        case AUTHZ_SEG_LITERAL:
            authz_pattern_slot(pat, i, AUTHZ_BIT(i - first - 1));
            break;

        case AUTHZ_SEG_TENANT:
            pat->tenant |= AUTHZ_BIT(i - first - 1);
            pat->wild |= AUTHZ_BIT(i - first - 1);
            break;

        case AUTHZ_SEG_SUB:
            pat->sub |= AUTHZ_BIT(i - first - 1);
            pat->wild |= AUTHZ_BIT(i - first - 1);
            break;

        case AUTHZ_SEG_STAR:
            pat->wild |= AUTHZ_BIT(i - first - 1);
            break;

        default: /* AUTHZ_SEG_GLOBSTAR: separates blocks, no bit */
            break;
        }
    }
}


/* open addressing: fewer than 64 literals, so a free slot always ends */

static void
authz_pattern_slot(authz_pattern_t *pat, size_t i, uint64_t bit)
{
    size_t        k, len;
    authz_seg_t  *seg, *copy;

    seg = &pat->segs[i];
    len = seg->literal.len;

    seg->hash = authz_hash(seg->literal.data, len);

    for (k = seg->hash % AUTHZ_PATTERN_SLOTS;
         pat->slots[k] != 0;
         k = (k + 1) % AUTHZ_PATTERN_SLOTS)
    {
        copy = &pat->segs[pat->slots[k] - 1];

        if (copy->hash == seg->hash
            && authz_bytes_eq(copy->literal.data, copy->literal.len,
                              seg->literal.data, len))
        {
            copy->same |= bit;
            return;
        }
    }

    seg->same = bit;
    pat->slots[k] = (unsigned char) (i + 1);
}


/*
 * checks made before a uri is split: a pattern that does not look like
 * one authz_pattern_compile() made matches nothing, and most rules of
 * a table differ in their first literal segments
 */

static int
authz_pattern_usable(const authz_pattern_t *pat, const unsigned char *uri,
    size_t len)
{
    if (len == 0 || uri[0] != '/') {
        return 0;
    }

    if (pat->nsegs == 0 || pat->nsegs > AUTHZ_MAX_PATTERN_SEGMENTS) {
        return 0;
    }

    if (pat->globs == 0
        ? pat->head != pat->nsegs || pat->tail != 0
        : pat->head + pat->tail + pat->globs > pat->nsegs)
    {
        return 0;
    }

    if (pat->prefix.len
        && (pat->prefix.len > len
            || memcmp(uri, pat->prefix.data, pat->prefix.len) != 0))
    {
        return 0;
    }

    return 1;
}


/*
 * locates the first 64 segments forwards and, if there are more, the
 * last 64 backwards: at most 128 steps, each byte read at most twice
 */

static void
authz_path_init(authz_path_t *path, const unsigned char *uri, size_t len)
{
    size_t                k;
    const unsigned char  *p, *q;

    path->uri = uri;
    path->len = len;
    path->head[0] = 0;

    p = uri;

    for (k = 0; k < AUTHZ_PATH_ENDS; k++) {
        q = memchr(p + 1, '/', len - (size_t) (p + 1 - uri));

        if (q == NULL) {
            break;
        }

        path->head[k + 1] = (size_t) (q - uri);
        p = q;
    }

    path->steps = k;

    if (k < AUTHZ_PATH_ENDS) {

        /* k "/" after the first one: k + 1 segments, all located */

        path->nsegs = k + 1;
        path->head[k + 1] = len;

        for (k = 0; k <= path->nsegs; k++) {
            path->tail[k] = path->head[path->nsegs - k];
        }

        return;
    }

    path->nsegs = AUTHZ_PATH_ENDS + 1;
    path->tail[0] = len;

    /* the uri starts with "/": the scan stops there at the latest */

    p = uri + len;

    for (k = 1; k <= AUTHZ_PATH_ENDS; k++) {
        do {
            p--;
        } while (*p != '/');

        path->tail[k] = (size_t) (p - uri);
    }

    path->steps += AUTHZ_PATH_ENDS;
}


/*
 * pattern H ** M1 ** ... ** Mk ** T matches exactly the uris made of
 * |H| segments H matches, any segments containing M1 ... Mk in this
 * order, and |T| segments T matches: H and T are compared in place
 */

static int
authz_path_match(authz_path_t *path, const authz_pattern_t *pat,
    const authz_bind_t *bind, unsigned enforce)
{
    size_t                i, s, e;
    const authz_seg_t    *seg;

    if (pat->globs == 0) {
        if (path->nsegs != pat->nsegs) {
            return 0;
        }

    } else if (path->nsegs < pat->nsegs - pat->globs) {
        return 0;
    }

    /* head <= 64 segments, all located; head and tail do not overlap */

    for (i = 0; i < pat->head; i++) {
        s = path->head[i] + 1;
        e = path->head[i + 1];
        path->steps++;

        if (!authz_seg_match(&pat->segs[i], path->uri + s, e - s, bind,
                             enforce))
        {
            return 0;
        }
    }

    for (i = 0; i < pat->tail; i++) {
        seg = &pat->segs[pat->nsegs - 1 - i];
        s = path->tail[i + 1] + 1;
        e = path->tail[i];
        path->steps++;

        if (!authz_seg_match(seg, path->uri + s, e - s, bind, enforce)) {
            return 0;
        }
    }

    if (pat->globs < 2) {
        return 1;
    }

    return authz_path_middle(path, pat, bind, enforce);
}


/*
 * Each middle block (the segments between two "**") is placed at the
 * leftmost place it fits after the previous one; as every segment is
 * tested on its own, an earlier place never leaves less room for the
 * blocks after it, so this finds a placement whenever one exists.
 */

static int
authz_path_middle(authz_path_t *path, const authz_pattern_t *pat,
    const authz_bind_t *bind, unsigned enforce)
{
    size_t                i, first, last;
    uint64_t              wild, tenant, sub, keep;
    authz_block_t         blk;
    const authz_seg_t    *seg;
    const unsigned char  *p, *end;

    wild = pat->wild;
    tenant = 0;
    sub = 0;

    /* an enforced binding is a literal whose value comes with bind */

    if ((enforce & AUTHZ_BIND_TENANT) && !bind->tenant_any) {
        wild &= ~pat->tenant;
        tenant = pat->tenant;
    }

    if (enforce & AUTHZ_BIND_SUB) {
        wild &= ~pat->sub;
        sub = pat->sub;
    }

    /* the uri between head and tail: from the "/" of its first segment */

    p = path->uri + path->head[pat->head];
    end = path->uri + path->tail[pat->tail];

    first = pat->head + 1;
    last = pat->nsegs - pat->tail - 1;

    for (i = first; ; i += blk.len) {

        while (i < last && pat->segs[i].type == AUTHZ_SEG_GLOBSTAR) {
            i++;
        }

        if (i == last) {
            return 1;
        }

        blk.off = i - first;
        blk.lens = 0;

        for (blk.len = 0; i + blk.len < last; blk.len++) {
            seg = &pat->segs[i + blk.len];

            if (seg->type == AUTHZ_SEG_GLOBSTAR) {
                break;
            }

            if (seg->type == AUTHZ_SEG_LITERAL) {
                blk.lens |= AUTHZ_BIT(seg->literal.len < 63
                                      ? seg->literal.len : 63);
            }
        }

        /* at most 62 middle bits, so the shift cannot overflow */

        keep = AUTHZ_BIT(blk.len) - 1;
        blk.wild = (wild >> blk.off) & keep;
        blk.tenant = (tenant >> blk.off) & keep;
        blk.sub = (sub >> blk.off) & keep;

        if (!authz_path_block(path, pat, &blk, bind, &p, end)) {
            return 0;
        }
    }
}


/*
 * shift-and: bit k of "d" is set when the first k + 1 segments of the
 * block match the uri segments that end here; each uri segment costs
 * one scan of its bytes, a mask and a shift, and none is read twice.
 * A literal is looked up only when its length is one of the block's.
 */

static int
authz_path_block(authz_path_t *path, const authz_pattern_t *pat,
    const authz_block_t *blk, const authz_bind_t *bind,
    const unsigned char **pos, const unsigned char *end)
{
    int                   found, bound;
    size_t                len, steps;
    uint64_t              d, m, want, wild, lens;
    const unsigned char  *p, *s;

    /* locals: the loop writes nothing the compiler must reload */

    want = AUTHZ_BIT(blk->len - 1);
    wild = blk->wild;
    lens = blk->lens;
    bound = (blk->tenant | blk->sub) != 0;
    found = 0;
    steps = 0;
    d = 0;

    for (p = *pos; p != end; /* void */) {

        s = ++p;

        while (p != end && *p != '/') {
            p++;
        }

        len = p - s;
        m = 0;

        if (len != 0) {
            m = wild;

            if (bound) {
                m |= authz_block_bound(blk, bind, s, len);
            }
        }

        if ((lens >> (len < 63 ? len : 63)) & 1) {
            m |= authz_literal_mask(pat, s, len) >> blk->off;
        }

        d = ((d << 1) | 1) & m;
        steps++;

        if (d & want) {
            found = 1;
            break;
        }
    }

    path->steps += steps;
    *pos = p;

    return found;
}


/* the bits of enforced bindings whose value the segment equals */

static uint64_t
authz_block_bound(const authz_block_t *blk, const authz_bind_t *bind,
    const unsigned char *p, size_t len)
{
    uint64_t  m;

    m = 0;

    if (blk->tenant
        && authz_bytes_eq(bind->tenant.data, bind->tenant.len, p, len))
    {
        m |= blk->tenant;
    }

    if (blk->sub && authz_bytes_eq(bind->sub.data, bind->sub.len, p, len)) {
        m |= blk->sub;
    }

    return m;
}


/* the middle bits of the literals equal to p, from the slot table */

static uint64_t
authz_literal_mask(const authz_pattern_t *pat, const unsigned char *p,
    size_t len)
{
    size_t              k;
    uint32_t            hash;
    const authz_seg_t  *seg;

    hash = authz_hash(p, len);

    for (k = hash % AUTHZ_PATTERN_SLOTS;
         pat->slots[k] != 0;
         k = (k + 1) % AUTHZ_PATTERN_SLOTS)
    {
        seg = &pat->segs[pat->slots[k] - 1];

        if (seg->hash == hash
            && authz_bytes_eq(seg->literal.data, seg->literal.len, p, len))
        {
            return seg->same;
        }
    }

    return 0;
}


/* FNV-1a: it only picks a slot; equality is always compared */

static uint32_t
authz_hash(const unsigned char *p, size_t len)
{
    size_t    i;
    uint32_t  hash;

    hash = 2166136261u;

    for (i = 0; i < len; i++) {
        hash ^= p[i];
        hash *= 16777619u;
    }

    return hash;
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
