/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: the strict JSON reader of the JOSE header and the JWT
 * payload (authz_json.h) and its accessors.  The lexical routines are
 * in authz_json_lex.c, the dump in authz_json_dump.c.
 *
 * One block holds everything: about len / 2 nodes, as many as an input
 * of len bytes can start (each value but the first needs a byte and a
 * separator), then len bytes of strings (a decoded string and its NUL
 * never outgrow the quoted text).  An open container keeps the index of
 * its parent in its span until it closes: that is the stack.
 */


#include <stdlib.h>
#include <string.h>

#include "authz_json_int.h"


/* a larger input is refused: lengths and spans are 32 bits */
#define AUTHZ_JSON_MAX_SIZE       0x7fffffffu

/* objects of at most this many members look for duplicates pairwise */
#define AUTHZ_JSON_PAIRWISE       32

/* the span of an open container without a parent */
#define AUTHZ_JSON_NO_PARENT      UINT32_MAX


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
static int authz_json_duplicates(authz_json_parser_t *ps,
    const authz_json_t *o);
static int authz_json_key_cmp(const authz_json_t *a, const authz_json_t *b);
static void authz_json_sift(const authz_json_t *nodes, uint32_t *a,
    size_t i, size_t m);


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

    if (ps.next == ps.root + ps.nmax) {
        goto bound;
    }

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

    if (ps.next == ps.root + ps.nmax) {
        goto bound;
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

bound:

    /* cannot happen: the bound above holds every document; fail closed */

    text = "too many values";
    goto failed;

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
