/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: the identity a verified token carries (sub, tenant,
 * effective permissions, services, roles) and the claim lookups.
 * Includes only libc and jansson.
 */


#ifndef _AUTHZ_CLAIMS_H_INCLUDED_
#define _AUTHZ_CLAIMS_H_INCLUDED_


#include "authz_json.h"
#include "authz_rules.h"
#include "authz_jwt.h"


typedef void *(*authz_alloc_pt)(void *data, size_t size);


typedef struct {
    authz_str_t          name;
    authz_str_t         *perms;
    size_t               nperms;
} authz_role_t;


/* at most this many names in "authz_permissions_claim" */
#define AUTHZ_MAX_PERMISSION_CLAIMS  16

/* authz_identity_t.missing: configured claims that resolved to nothing */
#define AUTHZ_CLAIM_SUB          0x01
#define AUTHZ_CLAIM_TENANT       0x02
#define AUTHZ_CLAIM_SERVICES     0x04
#define AUTHZ_CLAIM_ROLES        0x08
#define AUTHZ_CLAIM_PERMISSIONS  0x10   /* bit of permissions claim 0 */


/*
 * Claim names: a top-level claim first, then a dotted path through
 * nested objects; a name that starts with "/" is a JSON Pointer
 * (RFC 6901).
 */

typedef struct {
    authz_str_t          sub_claim;           /* "sub" */
    authz_str_t          tenant_claim;        /* "tid" */
    authz_str_t          permissions_claim;   /* when npermissions == 0 */
    const authz_str_t   *permissions_claims;  /* several: their union */
    size_t               npermissions_claims;
    authz_str_t          services_claim;      /* "services" */
    authz_str_t          roles_claim;         /* "roles" */
    const authz_role_t  *roles;               /* authz_role table */
    size_t               nroles;
    int                  roles_used;          /* $authz_roles is used */
} authz_claims_conf_t;


typedef struct {
    authz_str_t          sub;                 /* empty if absent */
    authz_str_t          tenant;              /* empty if absent */
    authz_str_t         *perms;               /* effective, deduplicated */
    size_t               nperms;
    authz_str_t         *services;            /* enabled ones */
    size_t               nservices;
    authz_str_t         *roles;
    size_t               nroles;

    unsigned             has_services:1;      /* the claim is present */

    /* items of a permissions or roles claim that were ignored (SPEC 1) */
    const authz_str_t   *dropped_claim;       /* the first such claim */
    size_t               ndropped;            /* in all claims */

    /* AUTHZ_CLAIM_* bits; permissions claim i is AUTHZ_CLAIM_PERMISSIONS<<i */
    unsigned             missing;

    /* on AUTHZ_ERR_CLAIM: the claim of the wrong shape */
    const authz_str_t   *bad_claim;
} authz_identity_t;


/*
 * fills id from a verified payload; strings point into the payload,
 * which must outlive id; arrays come from alloc(data, size);
 * returns AUTHZ_OK, AUTHZ_ERR_CLAIM (with *detail) or AUTHZ_ERR_INTERNAL
 */
authz_err_e authz_identity_get(authz_identity_t *id, authz_json_t *payload,
    const authz_claims_conf_t *conf, authz_alloc_pt alloc, void *data,
    const char **detail);

/*
 * a claim by name; a dotted name is also tried as a path of objects,
 * a name that starts with "/" is a JSON Pointer
 */
authz_json_t *authz_claim_lookup(authz_json_t *payload,
    const unsigned char *name, size_t len);

/*
 * a claim name for the configuration: printable ASCII without ","
 * and, for a JSON Pointer, "~" only in "~0" and "~1"; 1 if valid
 */
int authz_claim_name_valid(const unsigned char *p, size_t len);

/*
 * RFC 8705 3.1: payload's cnf."x5t#S256" against the base64url SHA-256
 * thumbprint of the client certificate (NULL: none); AUTHZ_OK, or
 * AUTHZ_ERR_BINDING with *detail
 */
authz_err_e authz_cnf_check(authz_json_t *payload, const unsigned char *x5t,
    size_t len, const char **detail);

/*
 * a value safe for a forwarded header: non-empty printable ASCII
 * (0x21-0x7e) without ","
 */
int authz_value_valid(const unsigned char *p, size_t len);

/* 1 if name equals one of list[0..n) */
int authz_str_in(const authz_str_t *list, size_t n, const unsigned char *name,
    size_t len);


#endif /* _AUTHZ_CLAIMS_H_INCLUDED_ */
