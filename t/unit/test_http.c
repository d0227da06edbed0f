/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * unit tests of authz_http.c: the Authorization header and the header
 * names that reach an application as an identity header.
 *
 * every string handed to the code under test is copied into a heap
 * buffer of its exact size, without a terminating NUL, so that
 * AddressSanitizer catches a read past the end.
 */


#include <stdlib.h>
#include <string.h>

#include "authz_http.h"
#include "tap.h"
#include "mem.h"


static const unsigned char *
dup_str(const char *s)
{
    return gc(dup_exact(s, strlen(s)));
}


static int
bearer(const char *value, const char *want)
{
    int                   rc;
    size_t                len;
    const unsigned char  *v, *tok;

    v = dup_str(value);
    tok = NULL;
    len = 0;

    rc = authz_bearer_parse(v, strlen(value), &tok, &len);

    if (want == NULL) {
        return rc == -1;
    }

    return rc == 0 && len == strlen(want) && memcmp(tok, want, len) == 0
           && tok == v + (strlen(value) - len);
}


static int
scheme(const char *value)
{
    return authz_bearer_scheme(dup_str(value), strlen(value));
}


static int
name_eq(const char *key, const char *name)
{
    return authz_header_name_eq(dup_str(key), strlen(key),
                                dup_str(name), strlen(name));
}


int
main(void)
{
    /* the Authorization header: refused shapes first */

    ok(bearer("", NULL), "empty value");
    ok(bearer("Bearer", NULL), "scheme only");
    ok(bearer("Bearer ", NULL), "scheme and space, no token");
    ok(bearer("Bearer  a.b.c", NULL), "two spaces");
    ok(bearer("Bearer\ta.b.c", NULL), "tab instead of space");
    ok(bearer("Basic YWxhZGRpbjpvcGVuc2VzYW1l", NULL), "basic scheme");
    ok(bearer("Bearerx a.b.c", NULL), "longer scheme name");
    ok(bearer(" Bearer a.b.c", NULL), "leading space");
    ok(bearer("DPoP a.b.c", NULL), "DPoP scheme");

    ok(bearer("Bearer a.b.c", "a.b.c"), "bearer");
    ok(bearer("bearer a.b.c", "a.b.c"), "lower case scheme");
    ok(bearer("BEARER a.b.c", "a.b.c"), "upper case scheme");
    ok(bearer("Bearer x", "x"), "one byte token");

    /* a trailing space is the token's: strict base64url refuses it */

    ok(bearer("Bearer a.b.c ", "a.b.c "), "trailing space kept");

    /* the scheme alone, for removing a Bearer credential */

    ok(scheme("Bearer"), "scheme: the name alone");
    ok(scheme("bearer  a.b.c"), "scheme: two spaces are still Bearer");
    ok(scheme("BEARER x"), "scheme: upper case");
    ok(!scheme("Bearerx"), "scheme: longer name");
    ok(!scheme("Basic c3RhZmY6c2VjcmV0"), "scheme: basic");
    ok(!scheme("Beare"), "scheme: shorter");
    ok(!scheme(""), "scheme: empty");

    /* header names */

    ok(name_eq("X-User-Id", "X-User-Id"), "same name");
    ok(name_eq("x-user-id", "X-User-Id"), "lower case");
    ok(name_eq("X-USER-ID", "X-User-Id"), "upper case");
    ok(name_eq("X_User_Id", "X-User-Id"), "underscores");
    ok(name_eq("X.User.Id", "X-User-Id"), "dots");
    ok(name_eq("X~User Id", "X-User-Id"), "other bytes");
    ok(name_eq("X\x80User\xffId", "X-User-Id"), "non-ascii bytes");

    ok(name_eq("X-User-Id[]", "X-User-Id"), "php array");
    ok(name_eq("x_user_id[0]", "X-User-Id"), "php array with index");
    ok(name_eq("X.User.Id[x]y", "X-User-Id"), "php array, more after");
    ok(!name_eq("X-User-Id]", "X-User-Id"), "closing bracket only");
    ok(!name_eq("X-User-I[]", "X-User-Id"), "bracket inside the name");

    ok(!name_eq("X-User-Ids", "X-User-Id"), "longer");
    ok(!name_eq("X-User-I", "X-User-Id"), "shorter");
    ok(!name_eq("X-User-1d", "X-User-Id"), "digit for letter");
    ok(!name_eq("XxUser-Id", "X-User-Id"), "letter for dash");
    ok(!name_eq("", "X-User-Id"), "empty");
    ok(!name_eq("X-Tenant-Id", "X-User-Id"), "another name");

    gc_free();

    return done_testing();
}
