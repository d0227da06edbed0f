/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: the Authorization header and header names.
 */


#include <string.h>
#include <strings.h>

#include "authz_http.h"


#define AUTHZ_BEARER      "Bearer "
#define AUTHZ_BEARER_LEN  (sizeof(AUTHZ_BEARER) - 1)


int
authz_bearer_scheme(const unsigned char *value, size_t len)
{
    return len >= AUTHZ_BEARER_LEN - 1
           && strncasecmp((const char *) value, AUTHZ_BEARER,
                          AUTHZ_BEARER_LEN - 1) == 0
           && (len == AUTHZ_BEARER_LEN - 1
               || value[AUTHZ_BEARER_LEN - 1] == ' ');
}


int
authz_bearer_parse(const unsigned char *value, size_t len,
    const unsigned char **token, size_t *token_len)
{
    if (len <= AUTHZ_BEARER_LEN || !authz_bearer_scheme(value, len)) {
        return -1;
    }

    /*
     * a second space, or any other byte outside base64url and ".",
     * fails the strict decoding of the token later: no need to look twice
     */

    if (value[AUTHZ_BEARER_LEN] == ' ') {
        return -1;
    }

    *token = value + AUTHZ_BEARER_LEN;
    *token_len = len - AUTHZ_BEARER_LEN;

    return 0;
}


int
authz_header_name_eq(const unsigned char *key, size_t key_len,
    const unsigned char *name, size_t name_len)
{
    size_t         i;
    unsigned char  c1, c2;

    /*
     * PHP reads "X-User-Id[]" and "X-User-Id[x]" as an array named
     * HTTP_X_USER_ID: whatever follows a "[" does not count
     */

    if (key_len > name_len && key[name_len] == '[') {
        key_len = name_len;
    }

    if (key_len != name_len) {
        return 0;
    }

    for (i = 0; i < key_len; i++) {
        c1 = key[i];
        c2 = name[i];

        if (c1 >= 'A' && c1 <= 'Z') {
            c1 |= 0x20;

        } else if (!((c1 >= 'a' && c1 <= 'z') || (c1 >= '0' && c1 <= '9'))) {
            c1 = '-';
        }

        if (c2 >= 'A' && c2 <= 'Z') {
            c2 |= 0x20;
        }

        if (c1 != c2) {
            return 0;
        }
    }

    return 1;
}
