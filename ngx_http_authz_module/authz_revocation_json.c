/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: the reader of the revocation document, a strict
 * JSON parser (RFC 8259 syntax, UTF-8 checked) of its one fixed shape,
 * in one pass, without recursion, every read bounded by the end of the
 * input.  It hands each entry to a callback and keeps nothing itself.
 * Strings, numbers and whitespace are the JSON reader's
 * (authz_json_int.h).
 */


#include <string.h>

#include "authz_json_int.h"
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
static int authz_rv_number(authz_rv_parser_t *ps, double *v);
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
    int          rc;
    const char  *text;

    if (authz_rv_expect(ps, '"', "expected a string") != 0) {
        return -1;
    }

    rc = authz_json_string_decode(&ps->p, ps->end, out,
                                  AUTHZ_REVOCATION_MAX_STRING, len, &text);

    if (rc == AUTHZ_JSON_STRING_TOO_LONG) {
        return authz_rv_fail(ps, "string longer than 256 bytes");
    }

    if (rc != 0) {
        return authz_rv_fail(ps, text);
    }

    return 0;
}


/* a JSON number, a time: 0 <= v <= 2^53 */

static int
authz_rv_number(authz_rv_parser_t *ps, double *v)
{
    const char           *text;
    authz_json_number_t   num;
    unsigned char         buf[AUTHZ_REVOCATION_MAX_NUMBER + 1];

    text = authz_json_number_scan(ps->p, ps->end, &num);

    if (text != NULL) {
        return authz_rv_fail(ps, text);
    }

    if (num.end - ps->p > AUTHZ_REVOCATION_MAX_NUMBER) {
        return authz_rv_fail(ps, "number too long");
    }

    *v = authz_json_number_double(&num, ps->p, buf, NULL);

    if (!(*v >= 0 && *v <= AUTHZ_REVOCATION_MAX_TIME)) {
        return authz_rv_fail(ps, "number out of range");
    }

    ps->p = num.end;

    return 0;
}


static void
authz_rv_ws(authz_rv_parser_t *ps)
{
    ps->p = authz_json_ws(ps->p, ps->end);
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
