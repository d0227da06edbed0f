/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: the compact dump of a value of the JSON reader,
 * byte for byte what jansson's json_dumps() writes with JSON_COMPACT |
 * JSON_ENCODE_ANY (and JSON_ENSURE_ASCII).
 */


#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "authz_json_int.h"


static size_t authz_json_dump_scalar(const authz_json_t *v, int ascii,
    unsigned char *buf);
static size_t authz_json_dump_string(const unsigned char *s, size_t len,
    int ascii, unsigned char *buf);
static size_t authz_json_dump_real(double d, unsigned char *buf);


#define authz_json_put(buf, n, s, len)                                       \
    do {                                                                     \
        if (buf != NULL) {                                                   \
            memcpy(buf + n, s, len);                                         \
        }                                                                    \
        n += len;                                                            \
    } while (0)

#define AUTHZ_JSON_IN_OBJECT  0x80000000u


/* no recursion: a stack of the ends of the open containers */

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
