/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: strict base64url, the "kid" rule and the algorithm
 * names, shared by the token parser and the key loaders.
 */


#include <stdint.h>
#include <string.h>

#include "authz_util.h"
#include "authz_key.h"


typedef struct {
    const char    *name;
    unsigned       alg;
} authz_alg_name_t;


static const authz_alg_name_t  authz_alg_names[] = {
    { "RS256", AUTHZ_ALG_RS256 },
    { "RS384", AUTHZ_ALG_RS384 },
    { "RS512", AUTHZ_ALG_RS512 },
    { "PS256", AUTHZ_ALG_PS256 },
    { "PS384", AUTHZ_ALG_PS384 },
    { "PS512", AUTHZ_ALG_PS512 },
    { "ES256", AUTHZ_ALG_ES256 },
    { "ES384", AUTHZ_ALG_ES384 },
    { "Ed25519", AUTHZ_ALG_ED25519 },
    { "EdDSA", AUTHZ_ALG_EDDSA },
    { NULL, 0 }
};


/* 0xff: not in the base64url alphabet */
static const unsigned char  authz_b64url[256] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff,   62, 0xff, 0xff,      /* - */
      52,   53,   54,   55,   56,   57,   58,   59,      /* 0-7 */
      60,   61, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,      /* 8-9 */
    0xff,    0,    1,    2,    3,    4,    5,    6,      /* A-G */
       7,    8,    9,   10,   11,   12,   13,   14,
      15,   16,   17,   18,   19,   20,   21,   22,
      23,   24,   25, 0xff, 0xff, 0xff, 0xff,   63,      /* _ */
    0xff,   26,   27,   28,   29,   30,   31,   32,      /* a-g */
      33,   34,   35,   36,   37,   38,   39,   40,
      41,   42,   43,   44,   45,   46,   47,   48,
      49,   50,   51, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};


ptrdiff_t
authz_base64url_decode(unsigned char *dst, const unsigned char *src,
    size_t len)
{
    size_t          i, full;
    uint32_t        a, b, c, d;
    unsigned char  *p;

    /* a remainder of one character cannot encode a byte */

    if (len % 4 == 1) {
        return -1;
    }

    p = dst;
    full = len - len % 4;

    /* 0xff marks a foreign character: any high bit fails a quad */

    for (i = 0; i < full; i += 4) {
        a = authz_b64url[src[i]];
        b = authz_b64url[src[i + 1]];
        c = authz_b64url[src[i + 2]];
        d = authz_b64url[src[i + 3]];

        if ((a | b | c | d) & 0x80) {
            return -1;
        }

        a = (a << 18) | (b << 12) | (c << 6) | d;

        *p++ = (unsigned char) (a >> 16);
        *p++ = (unsigned char) (a >> 8);
        *p++ = (unsigned char) a;
    }

    if (i == len) {
        return p - dst;
    }

    a = authz_b64url[src[i]];
    b = authz_b64url[src[i + 1]];
    c = (len - i == 3) ? authz_b64url[src[i + 2]] : 0;

    if ((a | b | c) & 0x80) {
        return -1;
    }

    /* canonical encoding: the unused low bits must be zero */

    if (len - i == 2) {
        if (b & 0x0f) {
            return -1;
        }

        *p++ = (unsigned char) ((a << 2) | (b >> 4));

    } else {
        if (c & 0x03) {
            return -1;
        }

        *p++ = (unsigned char) ((a << 2) | (b >> 4));
        *p++ = (unsigned char) ((b << 4) | (c >> 2));
    }

    return p - dst;
}


const char *
authz_kid_check(const char *s, size_t len)
{
    size_t  i;

    if (len == 0) {
        return "is empty";
    }

    if (len > AUTHZ_MAX_KID_LEN) {
        return "is too long";
    }

    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e) {
            return "has a bad character";
        }
    }

    return NULL;
}


unsigned
authz_alg_parse(const unsigned char *name, size_t len)
{
    const authz_alg_name_t  *a;

    for (a = authz_alg_names; a->name != NULL; a++) {
        if (len == strlen(a->name) && memcmp(name, a->name, len) == 0) {
            return a->alg;
        }
    }

    return 0;
}


const char *
authz_alg_name(unsigned alg)
{
    const authz_alg_name_t  *a;

    for (a = authz_alg_names; a->name != NULL; a++) {
        if (a->alg == alg) {
            return a->name;
        }
    }

    return NULL;
}
