/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: the lexical routines of the JSON reader, which the
 * reader of the revocation document shares (authz_json_int.h): strings
 * (escapes, \u with surrogate pairs, UTF-8 checked) and numbers (the
 * RFC 8259 grammar, the value as strtod() gives it).
 */


#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "authz_json_int.h"


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


static const double  authz_json_pow10[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};


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
