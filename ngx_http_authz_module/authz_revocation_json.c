/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: the reader of the revocation document, a strict
 * JSON parser (RFC 8259 syntax, UTF-8 checked) of its one fixed shape,
 * in one pass, without recursion, every read bounded by the end of the
 * input.  It hands each entry to a callback and keeps nothing itself.
 */


#include <stdlib.h>
#include <string.h>

#include "authz_revocation.h"


typedef struct {
    const unsigned char         *start;
    const unsigned char         *p;
    const unsigned char         *end;
    authz_revocation_reader_t   *rd;
    authz_revocation_error_t    *err;
    unsigned                     stopped:1;  /* by the callback */
} authz_rv_parser_t;


static int authz_rv_document(authz_rv_parser_t *ps);
static int authz_rv_member(authz_rv_parser_t *ps);
static int authz_rv_list(authz_rv_parser_t *ps, authz_revoked_e kind);
static int authz_rv_entry(authz_rv_parser_t *ps, authz_revoked_e kind);
static int authz_rv_string(authz_rv_parser_t *ps, unsigned char *out,
    size_t *len);
static int authz_rv_escape(authz_rv_parser_t *ps, unsigned char *out,
    size_t *len);
static int authz_rv_unicode(authz_rv_parser_t *ps, const unsigned char *at,
    unsigned char *buf, size_t *k);
static int authz_rv_hex4(authz_rv_parser_t *ps, unsigned *cp);
static size_t authz_rv_utf8_len(const unsigned char *p,
    const unsigned char *end);
static int authz_rv_number(authz_rv_parser_t *ps, double *v);
static int authz_rv_number_end(authz_rv_parser_t *ps,
    const unsigned char **endp, size_t *digits);
static void authz_rv_ws(authz_rv_parser_t *ps);
static int authz_rv_expect(authz_rv_parser_t *ps, unsigned char c,
    const char *text);
static int authz_rv_fail(authz_rv_parser_t *ps, const char *text);
static void authz_rv_position(const unsigned char *start,
    authz_revocation_error_t *err);


int
authz_revocation_read(const unsigned char *data, size_t len,
    authz_revocation_reader_t *rd, authz_revocation_error_t *err)
{
    authz_rv_parser_t  ps;

    memset(err, 0, sizeof(authz_revocation_error_t));

    rd->generated_at = 0;
    rd->iat_before = 0;
    rd->nentries = 0;
    rd->members = 0;

    if (len > AUTHZ_REVOCATION_MAX_SIZE) {
        err->text = "larger than 64 MB";
        err->line = 1;
        err->column = 1;
        return -1;
    }

    ps.start = data;
    ps.p = data;
    ps.end = data + len;
    ps.rd = rd;
    ps.err = err;
    ps.stopped = 0;

    if (authz_rv_document(&ps) != 0) {
        if (ps.stopped) {
            memset(err, 0, sizeof(authz_revocation_error_t));

        } else {
            authz_rv_position(data, err);
        }

        return -1;
    }

    return 0;
}


static int
authz_rv_document(authz_rv_parser_t *ps)
{
    authz_rv_ws(ps);

    if (authz_rv_expect(ps, '{', "expected \"{\"") != 0) {
        return -1;
    }

    authz_rv_ws(ps);

    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;

    } else {
        for ( ;; ) {
            if (authz_rv_member(ps) != 0) {
                return -1;
            }

            authz_rv_ws(ps);

            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                authz_rv_ws(ps);
                continue;
            }

            if (authz_rv_expect(ps, '}', "expected \",\" or \"}\"") != 0) {
                return -1;
            }

            break;
        }
    }

    authz_rv_ws(ps);

    if (ps->p != ps->end) {
        return authz_rv_fail(ps, "unexpected data after the document");
    }

    return 0;
}


static int
authz_rv_member(authz_rv_parser_t *ps)
{
    size_t                len;
    double               *v;
    unsigned              bit;
    authz_revoked_e       kind;
    const unsigned char  *at;
    unsigned char         name[AUTHZ_REVOCATION_MAX_STRING];

    at = ps->p;

    if (authz_rv_string(ps, name, &len) != 0) {
        return -1;
    }

    v = NULL;
    kind = AUTHZ_REVOKED_NONE;

#define authz_rv_is(s)  (len == sizeof(s) - 1 && memcmp(name, s, len) == 0)

    if (authz_rv_is("generated_at")) {
        bit = AUTHZ_REVOCATION_HAS_GENERATED_AT;
        v = &ps->rd->generated_at;

    } else if (authz_rv_is("iat_before")) {
        bit = AUTHZ_REVOCATION_HAS_IAT_BEFORE;
        v = &ps->rd->iat_before;

    } else if (authz_rv_is("jti")) {
        bit = AUTHZ_REVOCATION_HAS_JTI;
        kind = AUTHZ_REVOKED_JTI;

    } else if (authz_rv_is("sub")) {
        bit = AUTHZ_REVOCATION_HAS_SUB;
        kind = AUTHZ_REVOKED_SUB;

    } else if (authz_rv_is("tenant")) {
        bit = AUTHZ_REVOCATION_HAS_TENANT;
        kind = AUTHZ_REVOKED_TENANT;

    } else {
        /* a misspelt "subs" must not pass for an empty list */
        ps->p = at;
        return authz_rv_fail(ps, "unknown member");
    }

#undef authz_rv_is

    if (ps->rd->members & bit) {
        ps->p = at;
        return authz_rv_fail(ps, "duplicate member");
    }

    ps->rd->members |= bit;

    authz_rv_ws(ps);

    if (authz_rv_expect(ps, ':', "expected \":\"") != 0) {
        return -1;
    }

    authz_rv_ws(ps);

    if (v != NULL) {
        return authz_rv_number(ps, v);
    }

    return authz_rv_list(ps, kind);
}


/* {"key": number, ...} */

static int
authz_rv_list(authz_rv_parser_t *ps, authz_revoked_e kind)
{
    if (authz_rv_expect(ps, '{', "expected an object") != 0) {
        return -1;
    }

    authz_rv_ws(ps);

    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return 0;
    }

    for ( ;; ) {
        if (authz_rv_entry(ps, kind) != 0) {
            return -1;
        }

        authz_rv_ws(ps);

        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            authz_rv_ws(ps);
            continue;
        }

        return authz_rv_expect(ps, '}', "expected \",\" or \"}\"");
    }
}


static int
authz_rv_entry(authz_rv_parser_t *ps, authz_revoked_e kind)
{
    size_t         len;
    double         t;
    unsigned char  key[AUTHZ_REVOCATION_MAX_STRING];

    if (ps->rd->nentries == AUTHZ_REVOCATION_MAX_ENTRIES) {
        return authz_rv_fail(ps, "more than 1000000 entries");
    }

    if (authz_rv_string(ps, key, &len) != 0) {
        return -1;
    }

    authz_rv_ws(ps);

    if (authz_rv_expect(ps, ':', "expected \":\"") != 0) {
        return -1;
    }

    authz_rv_ws(ps);

    if (authz_rv_number(ps, &t) != 0) {
        return -1;
    }

    ps->rd->nentries++;

    if (ps->rd->entry(ps->rd->data, kind, key, len, t) != 0) {
        ps->stopped = 1;
        return -1;
    }

    return 0;
}


/*
 * a string, decoded into out (room for AUTHZ_REVOCATION_MAX_STRING
 * bytes): escapes resolved, UTF-8 checked, U+0000 refused (it cannot
 * be in a claim a token is matched by, and jansson refuses it in keys)
 */

static int
authz_rv_string(authz_rv_parser_t *ps, unsigned char *out, size_t *len)
{
    size_t         n, k;
    unsigned char  c;

    if (authz_rv_expect(ps, '"', "expected a string") != 0) {
        return -1;
    }

    n = 0;

    for ( ;; ) {

        /* the common bytes, printable ASCII, without a call per byte */

        while (ps->p < ps->end && n < AUTHZ_REVOCATION_MAX_STRING) {
            c = *ps->p;

            if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
                break;
            }

            out[n++] = c;
            ps->p++;
        }

        if (ps->p == ps->end) {
            return authz_rv_fail(ps, "unexpected end of input");
        }

        c = *ps->p;

        if (c == '"') {
            ps->p++;
            *len = n;
            return 0;
        }

        if (c < 0x20) {
            return authz_rv_fail(ps, "control character in a string");
        }

        if (c == '\\') {
            if (authz_rv_escape(ps, out, &n) != 0) {
                return -1;
            }

            continue;
        }

        k = 1;

        if (c >= 0x80) {
            k = authz_rv_utf8_len(ps->p, ps->end);

            if (k == 0) {
                return authz_rv_fail(ps, "invalid UTF-8");
            }
        }

        if (n + k > AUTHZ_REVOCATION_MAX_STRING) {
            return authz_rv_fail(ps, "string longer than 256 bytes");
        }

        memcpy(out + n, ps->p, k);
        n += k;
        ps->p += k;
    }
}


static int
authz_rv_escape(authz_rv_parser_t *ps, unsigned char *out, size_t *len)
{
    size_t                k;
    unsigned char         c;
    const unsigned char  *at;
    unsigned char         buf[4];

    at = ps->p;
    ps->p++;

    if (ps->p == ps->end) {
        return authz_rv_fail(ps, "unexpected end of input");
    }

    c = *ps->p++;
    k = 1;

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
        if (authz_rv_unicode(ps, at, buf, &k) != 0) {
            return -1;
        }

        break;

    default:
        ps->p = at;
        return authz_rv_fail(ps, "invalid escape");
    }

    if (*len + k > AUTHZ_REVOCATION_MAX_STRING) {
        ps->p = at;
        return authz_rv_fail(ps, "string longer than 256 bytes");
    }

    memcpy(out + *len, buf, k);
    *len += k;

    return 0;
}


/* "\uXXXX" or a surrogate pair after the "\u", as UTF-8 into buf */

static int
authz_rv_unicode(authz_rv_parser_t *ps, const unsigned char *at,
    unsigned char *buf, size_t *k)
{
    unsigned  cp, lo;

    if (authz_rv_hex4(ps, &cp) != 0) {
        return -1;
    }

    if (cp >= 0xdc00 && cp <= 0xdfff) {
        goto surrogate;
    }

    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') {
            goto surrogate;
        }

        ps->p += 2;

        if (authz_rv_hex4(ps, &lo) != 0) {
            return -1;
        }

        if (lo < 0xdc00 || lo > 0xdfff) {
            goto surrogate;
        }

        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }

    if (cp == 0) {
        ps->p = at;
        return authz_rv_fail(ps, "\\u0000 in a string");
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

    return 0;

surrogate:

    ps->p = at;

    return authz_rv_fail(ps, "invalid surrogate in \\u escape");
}


static int
authz_rv_hex4(authz_rv_parser_t *ps, unsigned *cp)
{
    int            i;
    unsigned char  c;

    *cp = 0;

    for (i = 0; i < 4; i++) {
        if (ps->p == ps->end) {
            return authz_rv_fail(ps, "unexpected end of input");
        }

        c = *ps->p;

        if (c >= '0' && c <= '9') {
            c -= '0';

        } else if (c >= 'a' && c <= 'f') {
            c -= 'a' - 10;

        } else if (c >= 'A' && c <= 'F') {
            c -= 'A' - 10;

        } else {
            return authz_rv_fail(ps, "invalid \\u escape");
        }

        *cp = (*cp << 4) | c;
        ps->p++;
    }

    return 0;
}


/* the length of one well-formed UTF-8 sequence (RFC 3629), or 0 */

static size_t
authz_rv_utf8_len(const unsigned char *p, const unsigned char *end)
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


/* a JSON number, a time: 0 <= v <= 2^53 */

static int
authz_rv_number(authz_rv_parser_t *ps, double *v)
{
    size_t                n, digits;
    const unsigned char  *p, *end;
    char                  buf[AUTHZ_REVOCATION_MAX_NUMBER + 1];

    end = NULL;

    if (authz_rv_number_end(ps, &end, &digits) != 0) {
        return -1;
    }

    n = end - ps->p;

    if (n > AUTHZ_REVOCATION_MAX_NUMBER) {
        return authz_rv_fail(ps, "number too long");
    }

    if (digits == n && n <= 15) {

        /* an integer of up to 15 digits is exact in a double */

        *v = 0;

        for (p = ps->p; p < end; p++) {
            *v = *v * 10 + (*p - '0');
        }

    } else {

        /* strtod() on a terminated copy: it would read "0x1" as hex */

        memcpy(buf, ps->p, n);
        buf[n] = '\0';

        *v = strtod(buf, NULL);
    }

    if (!(*v >= 0 && *v <= AUTHZ_REVOCATION_MAX_TIME)) {
        return authz_rv_fail(ps, "number out of range");
    }

    ps->p = end;

    return 0;
}


/*
 * the end of the number at ps->p (RFC 8259 grammar), and how many
 * bytes it has when it is a plain integer (no sign, fraction, exponent)
 */

static int
authz_rv_number_end(authz_rv_parser_t *ps, const unsigned char **endp,
    size_t *digits)
{
    const unsigned char  *p, *end;

    p = ps->p;
    end = ps->end;
    *digits = 0;

#define authz_rv_digit(c)  ((c) >= '0' && (c) <= '9')

    if (p < end && *p == '-') {
        p++;
    }

    if (p < end && *p == '0') {
        p++;

    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && authz_rv_digit(*p)) {
            p++;
        }

    } else {
        return authz_rv_fail(ps, (p == ps->p) ? "expected a number"
                                              : "invalid number");
    }

    if (*ps->p != '-') {
        *digits = p - ps->p;
    }

    if (p < end && *p == '.') {
        p++;

        if (p == end || !authz_rv_digit(*p)) {
            return authz_rv_fail(ps, "invalid number");
        }

        while (p < end && authz_rv_digit(*p)) {
            p++;
        }
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }

        if (p == end || !authz_rv_digit(*p)) {
            return authz_rv_fail(ps, "invalid number");
        }

        while (p < end && authz_rv_digit(*p)) {
            p++;
        }
    }

#undef authz_rv_digit

    *endp = p;

    return 0;
}


static void
authz_rv_ws(authz_rv_parser_t *ps)
{
    while (ps->p < ps->end
           && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n'
               || *ps->p == '\r'))
    {
        ps->p++;
    }
}


static int
authz_rv_expect(authz_rv_parser_t *ps, unsigned char c, const char *text)
{
    if (ps->p == ps->end) {
        return authz_rv_fail(ps, "unexpected end of input");
    }

    if (*ps->p != c) {
        return authz_rv_fail(ps, text);
    }

    ps->p++;

    return 0;
}


static int
authz_rv_fail(authz_rv_parser_t *ps, const char *text)
{
    ps->err->text = text;
    ps->err->offset = ps->p - ps->start;

    return -1;
}


static void
authz_rv_position(const unsigned char *start, authz_revocation_error_t *err)
{
    size_t  i, line_start;

    err->line = 1;
    line_start = 0;

    for (i = 0; i < err->offset; i++) {
        if (start[i] == '\n') {
            err->line++;
            line_start = i + 1;
        }
    }

    err->column = err->offset - line_start + 1;
}
