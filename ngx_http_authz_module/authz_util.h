/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: the helpers that tokens and keys share, one copy
 * each: strict base64url, the "kid" rule and the algorithm names.
 * Includes only libc.
 */


#ifndef _AUTHZ_UTIL_H_INCLUDED_
#define _AUTHZ_UTIL_H_INCLUDED_


#include <stddef.h>


/*
 * strict base64url without padding (RFC 7515 2): only A-Z a-z 0-9 - _,
 * no length of 4k + 1, the unused low bits of the last character zero;
 * dst has room for len / 4 * 3 + 2 bytes; returns the decoded length
 * or -1
 */
ptrdiff_t authz_base64url_decode(unsigned char *dst, const unsigned char *src,
    size_t len);

/*
 * the rule for a "kid", the token's and the key's alike, so that both
 * can match: 1 to AUTHZ_MAX_KID_LEN printable ASCII characters;
 * returns NULL, or why not ("is empty", "is too long", "has a bad
 * character")
 */
const char *authz_kid_check(const char *s, size_t len);

/*
 * "RS256" -> AUTHZ_ALG_RS256 ... "Ed25519", "EdDSA" (exact case);
 * 0 if unknown or refused (none, HS*)
 */
unsigned authz_alg_parse(const unsigned char *name, size_t len);

/* the name of one AUTHZ_ALG_* bit; NULL if not exactly one known bit */
const char *authz_alg_name(unsigned alg);


#endif /* _AUTHZ_UTIL_H_INCLUDED_ */
