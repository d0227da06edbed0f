/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: the lexical routines of the JSON reader that the
 * reader of the revocation document shares (authz_revocation_json.c):
 * strings (escapes, \u with surrogate pairs, UTF-8 checked), numbers
 * (RFC 8259 grammar, the value as strtod() gives it) and whitespace.
 * Every routine reads only between its pointer and end.
 */


#ifndef _AUTHZ_JSON_INT_H_INCLUDED_
#define _AUTHZ_JSON_INT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "authz_json.h"


/* authz_json_string_decode(): the string does not fit in max bytes */
#define AUTHZ_JSON_STRING_TOO_LONG  -2


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


#endif /* _AUTHZ_JSON_INT_H_INCLUDED_ */
