/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: the lexical routines of the JSON reader
 * (authz_json_lex.c), which the reader of the revocation document
 * shares: strings (escapes, \u with surrogate pairs, UTF-8 checked),
 * numbers (RFC 8259 grammar, the value as strtod() gives it) and
 * whitespace; and what the reader's files share.  Every routine reads
 * only between its pointer and end.
 */


#ifndef _AUTHZ_JSON_INT_H_INCLUDED_
#define _AUTHZ_JSON_INT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "authz_json.h"


/* authz_json_string_decode(): the string does not fit in max bytes */
#define AUTHZ_JSON_STRING_TOO_LONG  -2

/* jansson refuses a value nested deeper than this (JSON_PARSER_MAX_DEPTH) */
#define AUTHZ_JSON_JANSSON_DEPTH    2048

#define AUTHZ_JSON_ONES             0x0101010101010101ULL
#define AUTHZ_JSON_HIGHS            0x8080808080808080ULL

#if (defined __GNUC__ && defined __BYTE_ORDER__                              \
     && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
#define AUTHZ_JSON_CTZ              1
#endif

/* the bytes a string holds as they are: printable ASCII but '"' and '\' */
#define authz_json_plain(c)                                                  \
    ((c) >= 0x20 && (c) < 0x80 && (c) != '"' && (c) != '\\')

#define authz_json_digit(c)         ((unsigned) ((c) - '0') <= 9)


typedef struct {
    const unsigned char  *end;       /* the byte after the number */
    uint64_t              mant;      /* up to 19 significant digits */
    int64_t               exp;       /* the value: mant * 10^exp */
    size_t                digits;    /* of the integer part */
    unsigned              negative:1;
    unsigned              real:1;    /* with '.', 'e' or 'E' */
    unsigned              slow:1;    /* needs strtod() */
} authz_json_number_t;


/*
 * the string after its opening quote at *pp, decoded into out (at most
 * max bytes, no NUL added): 0 and *pp after the closing quote; -1 with
 * a static *err, or AUTHZ_JSON_STRING_TOO_LONG, and *pp at the error
 */
int authz_json_string_decode(const unsigned char **pp,
    const unsigned char *end, unsigned char *out, size_t max, size_t *len,
    const char **err);

/*
 * the number at p: NULL and num filled in, or "expected a number" (no
 * digit and no '-') or "invalid number"; a number may end at a byte
 * that cannot follow it ("01" is "0", then "1")
 */
const char *authz_json_number_scan(const unsigned char *p,
    const unsigned char *end, authz_json_number_t *num);

/*
 * the value of a number scanned at start as strtod() reads it (correctly
 * rounded); scratch has room for the number and a NUL; *overflow (if
 * not NULL) is set when the value is infinite
 */
double authz_json_number_double(const authz_json_number_t *num,
    const unsigned char *start, unsigned char *scratch, int *overflow);


/* the four whitespace bytes skipped; whatever else may come is above ' ' */

static inline const unsigned char *
authz_json_ws(const unsigned char *p, const unsigned char *end)
{
    while (p < end && *p <= ' '
           && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
    {
        p++;
    }

    return p;
}


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


#endif /* _AUTHZ_JSON_INT_H_INCLUDED_ */
