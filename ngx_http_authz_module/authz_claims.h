/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: the identity a verified token carries (sub, tenant,
 * effective permissions, services, roles) and the claim lookups.
 * Includes only libc and jansson.
 */


#ifndef _AUTHZ_CLAIMS_H_INCLUDED_
#define _AUTHZ_CLAIMS_H_INCLUDED_


#include <jansson.h>
#include "authz_rules.h"
#include "authz_jwt.h"


typedef void *(*authz_alloc_pt)(void *data, size_t size);


typedef struct {
    authz_str_t          name;
    authz_str_t         *perms;
    size_t               nperms;
} authz_role_t;


typedef struct {
    authz_str_t          sub_claim;           /* "sub" */
    authz_str_t          tenant_claim;        /* "tid" */
    authz_str_t          permissions_claim;   /* "permissions", dotted */
    authz_str_t          services_claim;      /* "services" */
    authz_str_t          roles_claim;         /* "roles" */
    const authz_role_t  *roles;               /* authz_role table */
    size_t               nroles;
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
} authz_identity_t;


/*
 * fills id from a verified payload; strings point into the payload,
 * which must outlive id; arrays come from alloc(data, size);
 * returns AUTHZ_OK, AUTHZ_ERR_CLAIM (with *detail) or AUTHZ_ERR_INTERNAL
 */
authz_err_e authz_identity_get(authz_identity_t *id, json_t *payload,
    const authz_claims_conf_t *conf, authz_alloc_pt alloc, void *data,
    const char **detail);

/* a claim by name; a dotted name is also tried as a path of objects */
json_t *authz_claim_lookup(json_t *payload, const unsigned char *name,
    size_t len);

/*
 * a value safe for a forwarded header: non-empty printable ASCII
 * (0x21-0x7e) without ","
 */
int authz_value_valid(const unsigned char *p, size_t len);

/* 1 if name equals one of list[0..n) */
int authz_str_in(const authz_str_t *list, size_t n, const unsigned char *name,
    size_t len);


#endif /* _AUTHZ_CLAIMS_H_INCLUDED_ */
