/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: the strict JSON reader of the JOSE header and the JWT
 * payload (authz_json.h), the lexical routines it shares with the
 * reader of the revocation document (authz_json_int.h), and the
 * compact dump.
 *
 * One block holds everything: about len / 2 nodes, as many as an input
 * of len bytes can start (each value but the first needs a byte and a
 * separator), then len bytes of strings (a decoded string and its NUL
 * never outgrow the quoted text).  An open container keeps the index of
 * its parent in its span until it closes: that is the stack.
 */


#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz_json_int.h"


/* jansson refuses a value nested deeper than this (JSON_PARSER_MAX_DEPTH) */
#define AUTHZ_JSON_JANSSON_DEPTH  2048

/* a larger input is refused: lengths and spans are 32 bits */
#define AUTHZ_JSON_MAX_SIZE       0x7fffffffu

/* objects of at most this many members look for duplicates pairwise */
#define AUTHZ_JSON_PAIRWISE       32

/* the span of an open container without a parent */
#define AUTHZ_JSON_NO_PARENT      UINT32_MAX

#define AUTHZ_JSON_ONES           0x0101010101010101ULL
#define AUTHZ_JSON_HIGHS          0x8080808080808080ULL

#if (defined __GNUC__ && defined __BYTE_ORDER__                              \
     && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
#define AUTHZ_JSON_CTZ            1
#endif

/* the bytes a string holds as they are: printable ASCII but '"' and '\' */
#define authz_json_plain(c)                                                  \
    ((c) >= 0x20 && (c) < 0x80 && (c) != '"' && (c) != '\\')

#define authz_json_digit(c)       ((unsigned) ((c) - '0') <= 9)


typedef struct {
    authz_json_t         *root;
    authz_json_t         *next;      /* the next free node */
    unsigned char        *str;       /* the next free string byte */
    uint32_t             *sorted;    /* member indices, for large objects */
    size_t                nmax;
} authz_json_parser_t;


static inline const unsigned char *authz_json_str(
    authz_json_parser_t *ps,
    const unsigned char *p, const unsigned char *end, size_t *len,
    const char **err);
static inline const unsigned char *authz_json_scalar(
    authz_json_parser_t *ps,
    const unsigned char *p, const unsigned char *end, authz_json_t *n,
    const char **err);
static inline const unsigned char *authz_json_number(
    authz_json_parser_t *ps,
    const unsigned char *p, const unsigned char *end, authz_json_t *n,
    const char **err);
static inline const unsigned char *authz_json_plain_run(
    const unsigned char *p, const unsigned char *end, unsigned char *o);
static int authz_json_duplicates(authz_json_parser_t *ps,
    const authz_json_t *o);
static int authz_json_key_cmp(const authz_json_t *a, const authz_json_t *b);
static void authz_json_sift(const authz_json_t *nodes, uint32_t *a,
    size_t i, size_t m);
static int authz_json_escape(const unsigned char **pp,
    const unsigned char *end, unsigned char *buf, size_t *k,
    const char **err);
static int authz_json_unicode(const unsigned char **pp,
    const unsigned char *end, unsigned char *buf, size_t *k,
    const char **err);
static int authz_json_hex4(const unsigned char **pp,
    const unsigned char *end, unsigned *cp, const char **err);
static size_t authz_json_utf8_len(const unsigned char *p,
    const unsigned char *end);
static size_t authz_json_dump_scalar(const authz_json_t *v, int ascii,
    unsigned char *buf);
static size_t authz_json_dump_string(const unsigned char *s, size_t len,
    int ascii, unsigned char *buf);
static size_t authz_json_dump_real(double d, unsigned char *buf);


static const double  authz_json_pow10[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};


authz_json_t *
authz_json_parse(const unsigned char *p, size_t len, int max_depth,
    const char **err)
{
    int                   depth;
    size_t                slen;
    uint32_t              parent, key_len;
    const char           *key, *text;
    authz_json_t         *n, *cur;
    const unsigned char  *end;
    authz_json_parser_t   ps;

    end = p + len;
    p = authz_json_ws(p, end);

    if (p == end || (*p != '{' && *p != '[')) {
        *err = "expected \"{\" or \"[\"";
        return NULL;
    }

    if (len > AUTHZ_JSON_MAX_SIZE || len > (SIZE_MAX - 64) / 17) {
        *err = "too large";
        return NULL;
    }

    if (max_depth < 1) {
        *err = "nesting too deep";
        return NULL;
    }

    if (max_depth > AUTHZ_JSON_JANSSON_DEPTH) {
        max_depth = AUTHZ_JSON_JANSSON_DEPTH;
    }

    /*
     * N nodes need 2N - 1 - K bytes at least, K of them open containers:
     * a first byte each, a comma before each but the first child, the
     * closing bracket of each closed container
     */

    ps.nmax = (len + 1 + (len < (size_t) max_depth ? len : (size_t) max_depth))
              / 2;
    ps.root = malloc(ps.nmax * sizeof(authz_json_t) + len);
    if (ps.root == NULL) {
        *err = "out of memory";
        return NULL;
    }

    ps.next = ps.root;
    ps.str = (unsigned char *) (ps.root + ps.nmax);
    ps.sorted = NULL;

    cur = NULL;
    depth = 0;
    key = NULL;
    key_len = 0;

open:

    /* at "{" or "[" */

    if (depth == max_depth) {
        text = "nesting too deep";
        goto failed;
    }

    depth++;

    n = ps.next++;
    n->key = key;
    n->key_len = key_len;
    n->v.i = 0;
    n->len = 0;

    if (cur != NULL) {
        cur->len++;
        cur->flat = 0;
        n->span = (uint32_t) (cur - ps.root);

    } else {
        n->span = AUTHZ_JSON_NO_PARENT;
    }

    n->type = (*p == '{') ? AUTHZ_JSON_OBJECT : AUTHZ_JSON_ARRAY;
    n->flat = (n->type == AUTHZ_JSON_ARRAY);
    cur = n;

    p = authz_json_ws(p + 1, end);

    if (p == end) {
        goto truncated;
    }

    if (*p == (n->type == AUTHZ_JSON_OBJECT ? '}' : ']')) {
        goto close;
    }

    if (depth == AUTHZ_JSON_JANSSON_DEPTH) {
        /* a value inside would be at jansson's depth 2049 */
        text = "nesting too deep";
        goto failed;
    }

    if (n->type == AUTHZ_JSON_ARRAY) {
        key = NULL;
        key_len = 0;
        goto value;
    }

member:

    if (*p != '"') {
        text = "expected a string";
        goto failed;
    }

    key = (const char *) ps.str;
    p = authz_json_str(&ps, p + 1, end, &slen, &text);

    if (p == NULL) {
        goto failed;
    }

    key_len = (uint32_t) slen;

    p = authz_json_ws(p, end);

    if (p == end) {
        goto truncated;
    }

    if (*p != ':') {
        text = "expected \":\"";
        goto failed;
    }

    p = authz_json_ws(p + 1, end);

    if (p == end) {
        goto truncated;
    }

value:

    /* p < end */

    if (*p == '{' || *p == '[') {
        goto open;
    }

    n = ps.next++;
    n->key = key;
    n->key_len = key_len;
    cur->len++;

    p = authz_json_scalar(&ps, p, end, n, &text);
    if (p == NULL) {
        goto failed;
    }

next:

    p = authz_json_ws(p, end);

    if (p == end) {
        goto truncated;
    }

    if (*p == ',') {
        p = authz_json_ws(p + 1, end);

        if (p == end) {
            goto truncated;
        }

        if (cur->type == AUTHZ_JSON_OBJECT) {
            goto member;
        }

        key = NULL;
        key_len = 0;
        goto value;
    }

    if (*p != (cur->type == AUTHZ_JSON_OBJECT ? '}' : ']')) {
        text = (cur->type == AUTHZ_JSON_OBJECT) ? "expected \",\" or \"}\""
                                                : "expected \",\" or \"]\"";
        goto failed;
    }

close:

    p++;
    depth--;

    parent = cur->span;
    cur->span = (uint32_t) (ps.next - cur);

    if (cur->type == AUTHZ_JSON_OBJECT && cur->len > 1) {
        switch (authz_json_duplicates(&ps, cur)) {

        case 0:
            break;

        case 1:
            text = "duplicate member";
            goto failed;

        default:
            text = "out of memory";
            goto failed;
        }
    }

    if (parent != AUTHZ_JSON_NO_PARENT) {
        cur = ps.root + parent;
        goto next;
    }

    if (authz_json_ws(p, end) != end) {
        text = "unexpected data after the document";
        goto failed;
    }

    free(ps.sorted);

    return ps.root;

truncated:

    text = "unexpected end of input";

failed:

    free(ps.sorted);
    free(ps.root);

    *err = text;

    return NULL;
}


/*
 * the string after its opening quote at p, decoded and NUL-terminated
 * into the string area; the common string (printable ASCII) at once
 */

static inline const unsigned char *
authz_json_str(authz_json_parser_t *ps, const unsigned char *p,
    const unsigned char *end, size_t *len, const char **err)
{
    const unsigned char  *q;

    /* the area has room for what is left of the input */

    q = authz_json_plain_run(p, end, ps->str);

    if (q < end && *q == '"') {
        *len = q - p;
        q++;

    } else {
        q = p;

        if (authz_json_string_decode(&q, end, ps->str, end - p, len, err)
            != 0)
        {
            return NULL;
        }
    }

    ps->str[*len] = '\0';
    ps->str += *len + 1;

    return q;
}


/* a string, number or literal at p (p < end) into n */

static inline const unsigned char *
authz_json_scalar(authz_json_parser_t *ps, const unsigned char *p,
    const unsigned char *end, authz_json_t *n, const char **err)
{
    size_t   slen;

    n->span = 1;
    n->flat = 0;
    n->len = 0;
    n->v.i = 0;

    switch (*p) {

    case '"':
        n->type = AUTHZ_JSON_STRING;
        n->v.s = (const char *) ps->str;

        p = authz_json_str(ps, p + 1, end, &slen, err);
        if (p == NULL) {
            return NULL;
        }

        n->len = (uint32_t) slen;

        return p;

    case 't':
        if (end - p < 4 || memcmp(p, "true", 4) != 0) {
            goto invalid;
        }

        n->type = AUTHZ_JSON_TRUE;
        p += 4;
        break;

    case 'f':
        if (end - p < 5 || memcmp(p, "false", 5) != 0) {
            goto invalid;
        }

        n->type = AUTHZ_JSON_FALSE;
        p += 5;
        break;

    case 'n':
        if (end - p < 4 || memcmp(p, "null", 4) != 0) {
            goto invalid;
        }

        n->type = AUTHZ_JSON_NULL;
        p += 4;
        break;

    default:
        p = authz_json_number(ps, p, end, n, err);
        if (p == NULL) {
            return NULL;
        }
    }

    /*
     * jansson reads one byte past a number or a literal and puts it back;
     * a NUL put back that way is lost, so "[1\0]" is [1]: the same here
     */

    if (p < end && *p == '\0') {
        p++;
    }

    return p;

invalid:

    *err = "invalid literal";

    return NULL;
}


static inline const unsigned char *
authz_json_number(authz_json_parser_t *ps, const unsigned char *p,
    const unsigned char *end, authz_json_t *n, const char **err)
{
    int                   overflow;
    uint64_t              max, u;
    const unsigned char  *q, *lim;
    authz_json_number_t   num;

    /* the common number, a positive integer of up to 18 digits, at once */

    if (*p >= '1' && *p <= '9') {
        u = 0;
        q = p;
        lim = (end - p > 18) ? p + 18 : end;

        do {
            u = u * 10 + (*q++ - '0');
        } while (q < lim && authz_json_digit(*q));

        if (q < end && !authz_json_digit(*q) && *q != '.' && *q != 'e'
            && *q != 'E')
        {
            n->type = AUTHZ_JSON_INTEGER;
            n->v.i = (long long) u;

            return q;
        }
    }

    *err = authz_json_number_scan(p, end, &num);
    if (*err != NULL) {
        if (*p != '-' && !authz_json_digit(*p)) {
            *err = "expected a value";
        }

        return NULL;
    }

    if (num.real) {

        /* the string area has room: the number is not stored text yet */

        n->type = AUTHZ_JSON_REAL;
        n->v.d = authz_json_number_double(&num, p, ps->str, &overflow);

        if (overflow) {
            *err = "real number overflow";
            return NULL;
        }

        return num.end;
    }

    /* strtoll(): the range of long long, "-0" is 0 */

    max = num.negative ? (uint64_t) 1 << 63 : ((uint64_t) 1 << 63) - 1;

    if (num.digits > 19 || num.mant > max) {
        *err = "integer out of range";
        return NULL;
    }

    n->type = AUTHZ_JSON_INTEGER;

    if (!num.negative) {
        n->v.i = (long long) num.mant;

    } else if (num.mant == (uint64_t) 1 << 63) {
        n->v.i = -9223372036854775807LL - 1;

    } else {
        n->v.i = -(long long) num.mant;
    }

    return num.end;
}


/* 1: two members of o have the same name; -1: out of memory */

static int
authz_json_duplicates(authz_json_parser_t *ps, const authz_json_t *o)
{
    size_t                i, j, m;
    uint32_t             *a, t, h;
    uint64_t              seen, bit;
    const authz_json_t   *e;
    const unsigned char  *k;
    const authz_json_t   *mem[AUTHZ_JSON_PAIRWISE];

    m = o->len;
    e = o + 1;

    if (m <= AUTHZ_JSON_PAIRWISE) {

        /*
         * a bit of 64 for the length and three bytes of each name: a
         * name is compared with the names before it only when its bit
         * is set already
         */

        seen = 0;

        for (i = 0; i < m; i++, e += e->span) {
            k = (const unsigned char *) e->key;
            h = ((uint32_t) e->key_len | (uint32_t) k[0] << 8
                 | (uint32_t) k[e->key_len / 2] << 16
                 | (uint32_t) k[e->key_len - (e->key_len > 0)] << 24)
                * 0x9e3779b1u;
            bit = (uint64_t) 1 << (h >> 26);
            mem[i] = e;

            if (seen & bit) {
                for (j = 0; j < i; j++) {
                    if (mem[j]->key_len == e->key_len
                        && memcmp(mem[j]->key, e->key, e->key_len) == 0)
                    {
                        return 1;
                    }
                }
            }

            seen |= bit;
        }

        return 0;
    }

    /* heapsort of the member indices: O(m log m) compares, no recursion */

    if (ps->sorted == NULL) {
        ps->sorted = malloc(ps->nmax * sizeof(uint32_t));
        if (ps->sorted == NULL) {
            return -1;
        }
    }

    a = ps->sorted;

    for (i = 0; i < m; i++, e += e->span) {
        a[i] = (uint32_t) (e - ps->root);
    }

    for (i = m / 2; i > 0; i--) {
        authz_json_sift(ps->root, a, i - 1, m);
    }

    for (i = m - 1; i > 0; i--) {
        t = a[0];
        a[0] = a[i];
        a[i] = t;
        authz_json_sift(ps->root, a, 0, i);
    }

    for (i = 1; i < m; i++) {
        if (authz_json_key_cmp(ps->root + a[i - 1], ps->root + a[i]) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
authz_json_key_cmp(const authz_json_t *a, const authz_json_t *b)
{
    if (a->key_len != b->key_len) {
        return (a->key_len < b->key_len) ? -1 : 1;
    }

    return memcmp(a->key, b->key, a->key_len);
}


static void
authz_json_sift(const authz_json_t *nodes, uint32_t *a, size_t i, size_t m)
{
    size_t    c;
    uint32_t  x;

    x = a[i];

    for ( ;; ) {
        c = 2 * i + 1;

        if (c >= m) {
            break;
        }

        if (c + 1 < m
            && authz_json_key_cmp(nodes + a[c], nodes + a[c + 1]) < 0)
        {
            c++;
        }

        if (authz_json_key_cmp(nodes + x, nodes + a[c]) >= 0) {
            break;
        }

        a[i] = a[c];
        i = c;
    }

    a[i] = x;
}


void
authz_json_free(authz_json_t *root)
{
    free(root);
}


authz_json_t *
authz_json_getn(const authz_json_t *o, const char *name, size_t len)
{
    uint32_t             i;
    const authz_json_t  *e;

    if (o == NULL || o->type != AUTHZ_JSON_OBJECT) {
        return NULL;
    }

    for (i = 0, e = o + 1; i < o->len; i++, e += e->span) {
        if (e->key_len == len && memcmp(e->key, name, len) == 0) {
            return (authz_json_t *) e;
        }
    }

    return NULL;
}


authz_json_t *
authz_json_get(const authz_json_t *o, const char *name)
{
    return authz_json_getn(o, name, strlen(name));
}


authz_json_t *
authz_json_array_get(const authz_json_t *a, size_t i)
{
    size_t               k;
    const authz_json_t  *e;

    if (a == NULL || a->type != AUTHZ_JSON_ARRAY || i >= a->len) {
        return NULL;
    }

    if (a->flat) {
        return (authz_json_t *) (a + 1 + i);
    }

    for (k = 0, e = a + 1; k < i; k++) {
        e += e->span;
    }

    return (authz_json_t *) e;
}


/* the lexical routines (authz_json_int.h) */

#if (AUTHZ_JSON_CTZ)

/*
 * the high bit of a byte of w is set where the string cannot copy it as
 * it is ('"', '\', a control or a non-ASCII byte); the lowest one set is
 * the first such byte (the borrows only go up)
 */

static inline uint64_t
authz_json_special8(uint64_t w)
{
    uint64_t  q, b;

    q = w ^ (AUTHZ_JSON_ONES * '"');
    b = w ^ (AUTHZ_JSON_ONES * '\\');

    return (((q - AUTHZ_JSON_ONES) & ~q) | ((b - AUTHZ_JSON_ONES) & ~b)
            | (w - AUTHZ_JSON_ONES * 0x20) | w)
           & AUTHZ_JSON_HIGHS;
}

#endif


/*
 * the bytes a string holds as they are, copied from p to o up to the
 * first other byte: where that is, or end; o has room for end - p bytes
 */

static inline const unsigned char *
authz_json_plain_run(const unsigned char *p, const unsigned char *end,
    unsigned char *o)
{
#if (AUTHZ_JSON_CTZ)
    uint64_t  w, m;

    /* eight bytes at a time: copied, then counted up to a special one */

    while (end - p >= 8) {
        memcpy(&w, p, 8);
        memcpy(o, &w, 8);

        m = authz_json_special8(w);

        if (m != 0) {
            return p + ((size_t) __builtin_ctzll(m) >> 3);
        }

        p += 8;
        o += 8;
    }
#endif

    while (p < end && authz_json_plain(*p)) {
        *o++ = *p++;
    }

    return p;
}


int
authz_json_string_decode(const unsigned char **pp, const unsigned char *end,
    unsigned char *out, size_t max, size_t *len, const char **err)
{
    size_t                k;
    unsigned char        *o, *lim;
    const unsigned char  *p, *at;
    unsigned char         buf[4];

    p = *pp;
    o = out;
    lim = out + max;

    for ( ;; ) {

        if ((size_t) (lim - o) >= (size_t) (end - p)) {
            at = authz_json_plain_run(p, end, o);
            o += at - p;
            p = at;

        } else {
            while (p < end && o < lim && authz_json_plain(*p)) {
                *o++ = *p++;
            }
        }

        if (p == end) {
            *pp = p;
            *err = "unexpected end of input";
            return -1;
        }

        if (*p == '"') {
            *pp = p + 1;
            *len = o - out;
            return 0;
        }

        if (*p < 0x20) {
            *pp = p;
            *err = "control character in a string";
            return -1;
        }

        if (*p == '\\') {
            at = p;

            if (authz_json_escape(&p, end, buf, &k, err) != 0) {
                *pp = p;
                return -1;
            }

            if ((size_t) (lim - o) < k) {
                *pp = at;
                return AUTHZ_JSON_STRING_TOO_LONG;
            }

            memcpy(o, buf, k);
            o += k;
            continue;
        }

        k = 1;

        if (*p >= 0x80) {
            k = authz_json_utf8_len(p, end);

            if (k == 0) {
                *pp = p;
                *err = "invalid UTF-8";
                return -1;
            }
        }

        if ((size_t) (lim - o) < k) {
            *pp = p;
            return AUTHZ_JSON_STRING_TOO_LONG;
        }

        memcpy(o, p, k);
        o += k;
        p += k;
    }
}


/* the escape at the backslash at *pp; on an error *pp is where it is */

static int
authz_json_escape(const unsigned char **pp, const unsigned char *end,
    unsigned char *buf, size_t *k, const char **err)
{
    unsigned char         c;
    const unsigned char  *p;

    p = *pp + 1;

    if (p == end) {
        *pp = p;
        *err = "unexpected end of input";
        return -1;
    }

    c = *p++;

    switch (c) {

    case '"':
    case '\\':
    case '/':
        buf[0] = c;
        break;

    case 'b':
        buf[0] = '\b';
        break;

    case 'f':
        buf[0] = '\f';
        break;

    case 'n':
        buf[0] = '\n';
        break;

    case 'r':
        buf[0] = '\r';
        break;

    case 't':
        buf[0] = '\t';
        break;

    case 'u':
        return authz_json_unicode(pp, end, buf, k, err);

    default:
        *err = "invalid escape";
        return -1;
    }

    *pp = p;
    *k = 1;

    return 0;
}


/* "\uXXXX", or a surrogate pair of two, at *pp, as UTF-8 into buf */

static int
authz_json_unicode(const unsigned char **pp, const unsigned char *end,
    unsigned char *buf, size_t *k, const char **err)
{
    unsigned              cp, lo;
    const unsigned char  *p;

    p = *pp + 2;

    if (authz_json_hex4(&p, end, &cp, err) != 0) {
        *pp = p;
        return -1;
    }

    if (cp >= 0xdc00 && cp <= 0xdfff) {
        goto surrogate;
    }

    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (end - p < 2 || p[0] != '\\' || p[1] != 'u') {
            goto surrogate;
        }

        p += 2;

        if (authz_json_hex4(&p, end, &lo, err) != 0) {
            *pp = p;
            return -1;
        }

        if (lo < 0xdc00 || lo > 0xdfff) {
            goto surrogate;
        }

        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }

    if (cp == 0) {
        *err = "\\u0000 in a string";
        return -1;
    }

    if (cp < 0x80) {
        buf[0] = (unsigned char) cp;
        *k = 1;

    } else if (cp < 0x800) {
        buf[0] = (unsigned char) (0xc0 | (cp >> 6));
        buf[1] = (unsigned char) (0x80 | (cp & 0x3f));
        *k = 2;

    } else if (cp < 0x10000) {
        buf[0] = (unsigned char) (0xe0 | (cp >> 12));
        buf[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
        buf[2] = (unsigned char) (0x80 | (cp & 0x3f));
        *k = 3;

    } else {
        buf[0] = (unsigned char) (0xf0 | (cp >> 18));
        buf[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3f));
        buf[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
        buf[3] = (unsigned char) (0x80 | (cp & 0x3f));
        *k = 4;
    }

    *pp = p;

    return 0;

surrogate:

    *err = "invalid surrogate in \\u escape";

    return -1;
}


static int
authz_json_hex4(const unsigned char **pp, const unsigned char *end,
    unsigned *cp, const char **err)
{
    int                   i;
    unsigned char         c;
    const unsigned char  *p;

    p = *pp;
    *cp = 0;

    for (i = 0; i < 4; i++, p++) {
        if (p == end) {
            *pp = p;
            *err = "unexpected end of input";
            return -1;
        }

        c = *p;

        if (c >= '0' && c <= '9') {
            c -= '0';

        } else if (c >= 'a' && c <= 'f') {
            c -= 'a' - 10;

        } else if (c >= 'A' && c <= 'F') {
            c -= 'A' - 10;

        } else {
            *pp = p;
            *err = "invalid \\u escape";
            return -1;
        }

        *cp = (*cp << 4) | c;
    }

    *pp = p;

    return 0;
}


/* the length of one well-formed UTF-8 sequence (RFC 3629), or 0 */

static size_t
authz_json_utf8_len(const unsigned char *p, const unsigned char *end)
{
    size_t         n, i;
    unsigned char  c, lo, hi;

    c = p[0];
    lo = 0x80;
    hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;

        if (c == 0xe0) {
            lo = 0xa0;              /* overlong */

        } else if (c == 0xed) {
            hi = 0x9f;              /* surrogates */
        }

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;

        if (c == 0xf0) {
            lo = 0x90;              /* overlong */

        } else if (c == 0xf4) {
            hi = 0x8f;              /* above U+10FFFF */
        }

    } else {
        return 0;
    }

    if ((size_t) (end - p) < n || p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }

    return n;
}


const char *
authz_json_number_scan(const unsigned char *p, const unsigned char *end,
    authz_json_number_t *num)
{
    int64_t               e;
    unsigned              d, nd, neg;
    const unsigned char  *start;

    num->negative = 0;
    num->real = 0;
    num->slow = 0;
    num->mant = 0;
    num->exp = 0;

    if (p < end && *p == '-') {
        num->negative = 1;
        p++;
    }

    if (p == end || !authz_json_digit(*p)) {
        return num->negative ? "invalid number" : "expected a number";
    }

    /* mant takes 19 significant digits; more only move the exponent */

    start = p;
    nd = 0;

    if (*p == '0') {
        p++;

    } else {
        do {
            d = *p++ - '0';

            if (nd < 19) {
                num->mant = num->mant * 10 + d;
                nd++;

            } else {
                num->exp++;
                num->slow |= (d != 0);
            }

        } while (p < end && authz_json_digit(*p));
    }

    num->digits = p - start;

    if (p < end && *p == '.') {
        num->real = 1;
        p++;

        if (p == end || !authz_json_digit(*p)) {
            return "invalid number";
        }

        do {
            d = *p++ - '0';

            if (nd < 19) {
                num->mant = num->mant * 10 + d;
                num->exp--;
                nd += (num->mant != 0);

            } else {
                num->slow |= (d != 0);
            }

        } while (p < end && authz_json_digit(*p));
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        num->real = 1;
        p++;

        neg = (p < end && *p == '-');

        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }

        if (p == end || !authz_json_digit(*p)) {
            return "invalid number";
        }

        e = 0;

        do {
            if (e < 1000000) {
                e = e * 10 + (*p - '0');

            } else {
                num->slow = 1;
            }

            p++;

        } while (p < end && authz_json_digit(*p));

        num->exp += neg ? -e : e;
    }

    num->end = p;

    return NULL;
}


double
authz_json_number_double(const authz_json_number_t *num,
    const unsigned char *start, unsigned char *scratch, int *overflow)
{
    size_t       n;
    double       d;
    const char  *point;
    char        *dot;

    if (overflow != NULL) {
        *overflow = 0;
    }

#if (FLT_EVAL_METHOD == 0)

    /*
     * both exact doubles: one rounding, as strtod() rounds (Clinger's
     * fast path)
     */

    if (!num->slow && num->mant <= (uint64_t) 1 << 53
        && num->exp >= -22 && num->exp <= 22)
    {
        d = (double) num->mant;
        d = (num->exp < 0) ? d / authz_json_pow10[-num->exp]
                           : d * authz_json_pow10[num->exp];

        return num->negative ? -d : d;
    }

#endif

    if (!num->slow && num->mant == 0) {
        return num->negative ? -0.0 : 0.0;
    }

    n = num->end - start;
    memcpy(scratch, start, n);
    scratch[n] = '\0';

    /* jansson too hands strtod() the decimal point of the locale */

    point = localeconv()->decimal_point;

    if (*point != '.') {
        dot = memchr(scratch, '.', n);

        if (dot != NULL) {
            *dot = *point;
        }
    }

    errno = 0;
    d = strtod((char *) scratch, NULL);

    if (overflow != NULL && errno == ERANGE
        && (d == HUGE_VAL || d == -HUGE_VAL))
    {
        *overflow = 1;
    }

    return d;
}


/* the dump: no recursion, a stack of the ends of the open containers */

#define authz_json_put(buf, n, s, len)                                       \
    do {                                                                     \
        if (buf != NULL) {                                                   \
            memcpy(buf + n, s, len);                                         \
        }                                                                    \
        n += len;                                                            \
    } while (0)

#define AUTHZ_JSON_IN_OBJECT  0x80000000u


size_t
authz_json_dump(const authz_json_t *v, int ascii, unsigned char *buf)
{
    size_t               n, top;
    uint32_t             end;
    const authz_json_t  *e;
    uint32_t             stack[AUTHZ_JSON_JANSSON_DEPTH + 1];

    n = 0;
    top = 0;
    e = v;

    for ( ;; ) {
        if (top > 0 && (stack[top - 1] & AUTHZ_JSON_IN_OBJECT)) {
            n += authz_json_dump_string((const unsigned char *) e->key,
                                        e->key_len, ascii,
                                        buf ? buf + n : NULL);
            authz_json_put(buf, n, ":", 1);
        }

        if (e->type == AUTHZ_JSON_OBJECT || e->type == AUTHZ_JSON_ARRAY) {
            authz_json_put(buf, n, e->type == AUTHZ_JSON_OBJECT ? "{" : "[",
                           1);

            if (e->len > 0 && top <= AUTHZ_JSON_JANSSON_DEPTH) {
                stack[top++] = (uint32_t) (e - v + e->span)
                               | (e->type == AUTHZ_JSON_OBJECT
                                  ? AUTHZ_JSON_IN_OBJECT : 0);
                e++;
                continue;
            }

            authz_json_put(buf, n, e->type == AUTHZ_JSON_OBJECT ? "}" : "]",
                           1);

        } else {
            n += authz_json_dump_scalar(e, ascii, buf ? buf + n : NULL);
        }

        e++;

        /* the containers that end here */

        while (top > 0) {
            end = stack[top - 1];

            if ((uint32_t) (e - v) != (end & ~AUTHZ_JSON_IN_OBJECT)) {
                break;
            }

            authz_json_put(buf, n, (end & AUTHZ_JSON_IN_OBJECT) ? "}" : "]",
                           1);
            top--;
        }

        if (top == 0) {
            return n;
        }

        authz_json_put(buf, n, ",", 1);
    }
}


static size_t
authz_json_dump_scalar(const authz_json_t *v, int ascii, unsigned char *buf)
{
    size_t              n;
    unsigned long long  u;
    unsigned char       tmp[24], *q;

    switch (v->type) {

    case AUTHZ_JSON_STRING:
        return authz_json_dump_string((const unsigned char *) v->v.s, v->len,
                                      ascii, buf);

    case AUTHZ_JSON_INTEGER:

        /* "%lld" */

        u = (v->v.i < 0) ? 0 - (unsigned long long) v->v.i
                         : (unsigned long long) v->v.i;
        q = tmp + sizeof(tmp);

        do {
            *--q = (unsigned char) ('0' + u % 10);
            u /= 10;
        } while (u != 0);

        if (v->v.i < 0) {
            *--q = '-';
        }

        n = 0;
        authz_json_put(buf, n, q, (size_t) (tmp + sizeof(tmp) - q));

        return n;

    case AUTHZ_JSON_REAL:
        return authz_json_dump_real(v->v.d, buf);

    case AUTHZ_JSON_TRUE:
        n = 0;
        authz_json_put(buf, n, "true", 4);
        return n;

    case AUTHZ_JSON_FALSE:
        n = 0;
        authz_json_put(buf, n, "false", 5);
        return n;

    default:
        n = 0;
        authz_json_put(buf, n, "null", 4);
        return n;
    }
}


/*
 * jansson's escaping: '"', '\' and the controls, the five short ones by
 * name; with ascii, every code point above U+007F as \uXXXX (a
 * surrogate pair above U+FFFF); '/' and DEL as they are
 */

static size_t
authz_json_dump_string(const unsigned char *s, size_t len, int ascii,
    unsigned char *buf)
{
    size_t                n, i, k;
    unsigned              cp, hi;
    unsigned char         c, esc[12];
    const unsigned char  *end, *run;

    static const char     hex[] = "0123456789ABCDEF";

    n = 0;
    end = s + len;

    authz_json_put(buf, n, "\"", 1);

    while (s < end) {
        run = s;

        while (s < end
               && (authz_json_plain(*s) || (*s >= 0x80 && !ascii)))
        {
            s++;
        }

        authz_json_put(buf, n, run, (size_t) (s - run));

        if (s == end) {
            break;
        }

        c = *s;
        k = 2;
        esc[0] = '\\';

        switch (c) {

        case '"':
        case '\\':
            esc[1] = c;
            s++;
            break;

        case '\b':
            esc[1] = 'b';
            s++;
            break;

        case '\f':
            esc[1] = 'f';
            s++;
            break;

        case '\n':
            esc[1] = 'n';
            s++;
            break;

        case '\r':
            esc[1] = 'r';
            s++;
            break;

        case '\t':
            esc[1] = 't';
            s++;
            break;

        default:

            /* a control, or non-ASCII (UTF-8 checked by the parser) */

            if (c < 0x80) {
                cp = c;
                s++;

            } else {
                i = (c >= 0xf0) ? 4 : (c >= 0xe0) ? 3 : 2;
                cp = c & (0x7f >> i);

                for (k = 1; k < i && s + k < end; k++) {
                    cp = (cp << 6) | (s[k] & 0x3f);
                }

                s += k;
            }

            k = 0;

            if (cp >= 0x10000) {
                cp -= 0x10000;
                hi = 0xd800 | (cp >> 10);
                cp = 0xdc00 | (cp & 0x3ff);

                esc[k++] = '\\';
                esc[k++] = 'u';
                esc[k++] = hex[hi >> 12];
                esc[k++] = hex[(hi >> 8) & 0xf];
                esc[k++] = hex[(hi >> 4) & 0xf];
                esc[k++] = hex[hi & 0xf];
            }

            esc[k++] = '\\';
            esc[k++] = 'u';
            esc[k++] = hex[cp >> 12];
            esc[k++] = hex[(cp >> 8) & 0xf];
            esc[k++] = hex[(cp >> 4) & 0xf];
            esc[k++] = hex[cp & 0xf];
        }

        authz_json_put(buf, n, esc, k);
    }

    authz_json_put(buf, n, "\"", 1);

    return n;
}


/*
 * jansson's real: "%.17g" with the decimal point of the C locale, ".0"
 * added when it reads as an integer, the exponent without '+' and
 * without leading zeros
 */

static size_t
authz_json_dump_real(double d, unsigned char *buf)
{
    int          len;
    char        *q, *digits, *from;
    size_t       n, k;
    const char  *point;
    char         tmp[64];

    len = snprintf(tmp, sizeof(tmp) - 2, "%.17g", d);

    if (len < 0 || (size_t) len >= sizeof(tmp) - 2) {
        return 0;
    }

    n = (size_t) len;

    point = localeconv()->decimal_point;

    if (*point != '.') {
        q = memchr(tmp, *point, n);

        if (q != NULL) {
            *q = '.';
        }
    }

    q = memchr(tmp, 'e', n);

    if (q == NULL) {
        if (memchr(tmp, '.', n) == NULL) {
            tmp[n++] = '.';
            tmp[n++] = '0';
        }

    } else {

        /* "e+05" is "e5", "e-05" is "e-5" */

        digits = q + 1;

        if (*digits == '-') {
            digits++;
        }

        from = q + 1;

        while (from < tmp + n && (*from == '+' || *from == '-')) {
            from++;
        }

        while (from < tmp + n && *from == '0') {
            from++;
        }

        k = tmp + n - from;
        memmove(digits, from, k);
        n = digits + k - tmp;
    }

    k = 0;
    authz_json_put(buf, k, tmp, n);

    return k;
}
