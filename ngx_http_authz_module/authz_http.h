/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: the two HTTP inputs the glue reads from a client,
 * the Authorization header and request header names, so that unit
 * tests and a fuzzer reach them without nginx.  Includes only libc.
 */


#ifndef _AUTHZ_HTTP_H_INCLUDED_
#define _AUTHZ_HTTP_H_INCLUDED_


#include <stddef.h>


/*
 * 1 if an Authorization header value is a credential of the Bearer
 * scheme: "Bearer" (any case), then the end or a space
 */
int authz_bearer_scheme(const unsigned char *value, size_t len);

/*
 * the token of an Authorization header value: exactly "Bearer" (any
 * case), one space, then a token that does not begin with a space;
 * returns 0 and sets *token, *token_len (pointing into value), or -1
 */
int authz_bearer_parse(const unsigned char *value, size_t len,
    const unsigned char **token, size_t *token_len);

/*
 * 1 if a request header name reaches an application under name: equal
 * in any case, where every byte of key that is not a letter or a digit
 * counts as "-" (CGI, FastCGI, uwsgi and WSGI servers map "_", "." and
 * other bytes onto "_", as they do "-"), and where key continues after
 * the name with "[" (PHP takes "X-User-Id[]" for HTTP_X_USER_ID); name
 * is ASCII letters, digits and "-"
 */
int authz_header_name_eq(const unsigned char *key, size_t key_len,
    const unsigned char *name, size_t name_len);


#endif /* _AUTHZ_HTTP_H_INCLUDED_ */
