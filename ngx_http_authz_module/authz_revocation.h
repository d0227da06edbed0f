/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: the revocation list (SPEC 12).  A JSON document
 *
 *     {"generated_at": T, "jti": {"id": EXP, ...}, "sub": {"u": T, ...},
 *      "tenant": {"t": T, ...}, "iat_before": T}
 *
 * is parsed into one immutable table with O(1) lookups.  Includes only
 * libc (and authz_rules.h for authz_str_t).
 */


#ifndef _AUTHZ_REVOCATION_H_INCLUDED_
#define _AUTHZ_REVOCATION_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include "authz_rules.h"


/* limits (SPEC 12), each tested at its boundary */
#define AUTHZ_REVOCATION_MAX_SIZE     (64 * 1024 * 1024)
#define AUTHZ_REVOCATION_MAX_ENTRIES  1000000
#define AUTHZ_REVOCATION_MAX_STRING   256
#define AUTHZ_REVOCATION_MAX_NUMBER   64          /* characters */
#define AUTHZ_REVOCATION_MAX_TIME     9007199254740992.0   /* 2^53 */


/* why a token is revoked; also the index of the per-kind counters */
typedef enum {
    AUTHZ_REVOKED_NONE = 0,
    AUTHZ_REVOKED_JTI,
    AUTHZ_REVOKED_SUB,
    AUTHZ_REVOKED_TENANT,
    AUTHZ_REVOKED_IAT_BEFORE
} authz_revoked_e;

#define AUTHZ_REVOKED_KINDS  5


typedef struct authz_revocation_s  authz_revocation_t;


/* what a parse failure is and where: never a copy of the input */
typedef struct {
    const char           *text;         /* static */
    size_t                offset;       /* of the offending byte */
    size_t                line;         /* from 1 */
    size_t                column;       /* from 1, in bytes */
} authz_revocation_error_t;


/* the claims of a verified token that revocation looks at */
typedef struct {
    authz_str_t           jti;
    authz_str_t           sub;          /* len 0: absent */
    authz_str_t           tenant;       /* len 0: absent */
    double                iat;
    unsigned              has_jti:1;
    unsigned              has_iat:1;
} authz_revocation_token_t;


typedef struct {
    size_t                entries[AUTHZ_REVOKED_KINDS]; /* IAT_BEFORE: 0/1 */
    size_t                pruned;       /* jti entries past their exp */
    size_t                memory;       /* bytes held by the table */
    double                generated_at;
    double                iat_before;   /* 0: none */
    unsigned              has_generated_at:1;
} authz_revocation_info_t;


#define AUTHZ_REVOCATION_HAS_GENERATED_AT  0x01
#define AUTHZ_REVOCATION_HAS_IAT_BEFORE    0x02
#define AUTHZ_REVOCATION_HAS_JTI           0x04
#define AUTHZ_REVOCATION_HAS_SUB           0x08
#define AUTHZ_REVOCATION_HAS_TENANT        0x10


/* the document reader's callback and what it found */
typedef struct {
    int                 (*entry)(void *data, authz_revoked_e kind,
                                 const unsigned char *key, size_t len,
                                 double t);
    void                 *data;
    double                generated_at;
    double                iat_before;
    size_t                nentries;     /* as written */
    unsigned              members;      /* AUTHZ_REVOCATION_HAS_* */
} authz_revocation_reader_t;


/*
 * the document reader (authz_revocation_json.c): checks the syntax and
 * the shape in one pass and calls rd->entry() for each entry of the
 * jti, sub and tenant lists, in document order, a repeated key too;
 * entry() returns 0, or -1 to stop (no memory); returns 0, or -1 with
 * *err set (err->text NULL when entry() stopped it)
 */
int authz_revocation_read(const unsigned char *data, size_t len,
    authz_revocation_reader_t *rd, authz_revocation_error_t *err);

/*
 * parses a document of len bytes (at most AUTHZ_REVOCATION_MAX_SIZE)
 * into a new table; jti entries whose exp is before prune_before are
 * dropped; a key listed twice under one kind keeps its latest time;
 * seed keys the hash function (16 bytes); returns NULL with *err set
 * (err->text is "not enough memory" when malloc() fails)
 */
authz_revocation_t *authz_revocation_parse(const unsigned char *data,
    size_t len, double prune_before, const unsigned char *seed,
    authz_revocation_error_t *err);

void authz_revocation_free(authz_revocation_t *rv);

/*
 * AUTHZ_REVOKED_NONE, or why the token is revoked: its jti is listed;
 * or the latest time T of the rules that apply to it (its sub, its
 * tenant, iat_before) is after its iat, or it has no iat
 */
authz_revoked_e authz_revocation_check(const authz_revocation_t *rv,
    const authz_revocation_token_t *tok);

void authz_revocation_info(const authz_revocation_t *rv,
    authz_revocation_info_t *info);

/* "jti", "sub", "tenant", "iat_before" ("none") */
const char *authz_revoked_name(authz_revoked_e kind);

/* SipHash-2-4 with a 16-byte key (exposed for its test vectors) */
uint64_t authz_siphash(const unsigned char *key, const unsigned char *p,
    size_t len);


#endif /* _AUTHZ_REVOCATION_H_INCLUDED_ */
