/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: identity claims of a verified token.  Every value
 * that may reach a forwarded header is checked here, so that a token
 * cannot smuggle a comma, a space or a control character upstream.
 */


#include <string.h>

#include "authz_claims.h"


/* an open addressing set of strings, for "duplicates removed" */

typedef struct {
    authz_str_t         *slots;      /* copies; data == NULL: free */
    size_t               mask;
} authz_strset_t;


static authz_err_e authz_items_get(authz_json_t *v, int object,
    authz_str_t **out, size_t *n, size_t *dropped, authz_alloc_pt alloc,
    void *data);
static authz_err_e authz_claim_items(authz_json_t *payload,
    const authz_str_t *name, int object, authz_str_t **out, size_t *n,
    authz_identity_t *id, unsigned bit, authz_alloc_pt alloc, void *data,
    const char **detail);
static authz_err_e authz_services_get(authz_json_t *v, authz_identity_t *id,
    authz_alloc_pt alloc, void *data, const char **detail);
static authz_err_e authz_single_get(authz_json_t *payload,
    const authz_str_t *name, authz_str_t *out, authz_identity_t *id,
    unsigned bit, const char **detail, const char *what);
static authz_err_e authz_effective(authz_identity_t *id,
    const authz_claims_conf_t *conf, authz_str_t **claims, size_t *counts,
    size_t nclaims, authz_alloc_pt alloc, void *data, const char **detail);
static authz_json_t *authz_pointer_lookup(authz_json_t *v,
    const unsigned char *p, size_t len);
static int authz_strset_init(authz_strset_t *set, size_t n,
    authz_alloc_pt alloc, void *data);
static int authz_strset_add(authz_strset_t *set, const authz_str_t *s);


int
authz_value_valid(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len == 0) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ',') {
            return 0;
        }
    }

    return 1;
}


int
authz_str_in(const authz_str_t *list, size_t n, const unsigned char *name,
    size_t len)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (list[i].len == len && memcmp(list[i].data, name, len) == 0) {
            return 1;
        }
    }

    return 0;
}


int
authz_claim_name_valid(const unsigned char *p, size_t len)
{
    size_t  i;

    if (!authz_value_valid(p, len)) {
        return 0;
    }

    if (p[0] != '/') {
        return 1;
    }

    /* RFC 6901 3: "~" only as "~0" or "~1" */

    for (i = 0; i < len; i++) {
        if (p[i] == '~' && (i + 1 == len || (p[i + 1] != '0'
                                             && p[i + 1] != '1')))
        {
            return 0;
        }
    }

    return 1;
}


authz_json_t *
authz_claim_lookup(authz_json_t *payload, const unsigned char *name, size_t len)
{
    size_t                i, start;
    authz_json_t         *v;

    if (len && name[0] == '/') {
        return authz_pointer_lookup(payload, name, len);
    }

    v = authz_json_getn(payload, (const char *) name, len);

    if (v != NULL || memchr(name, '.', len) == NULL) {
        return v;
    }

    /* "realm_access.roles": a path through nested objects */

    v = payload;
    start = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && name[i] != '.') {
            continue;
        }

        if (!authz_json_is_object(v) || i == start) {
            return NULL;
        }

        v = authz_json_getn(v, (const char *) name + start, i - start);
        if (v == NULL) {
            return NULL;
        }

        start = i + 1;
    }

    return v;
}


/*
 * RFC 6901: "/resource_access/com.example.orders/roles"; "~1" is "/",
 * "~0" is "~"; an array is indexed by a decimal without leading zeros
 */

#define AUTHZ_POINTER_TOKEN  256

static authz_json_t *
authz_pointer_lookup(authz_json_t *v, const unsigned char *p, size_t len)
{
    size_t         i, k, n, idx;
    unsigned char  tok[AUTHZ_POINTER_TOKEN];

    i = 1;

    for ( ;; ) {
        n = 0;

        while (i < len && p[i] != '/') {
            if (n == AUTHZ_POINTER_TOKEN) {
                return NULL;
            }

            if (p[i] == '~') {
                if (i + 1 == len || (p[i + 1] != '0' && p[i + 1] != '1')) {
                    return NULL;
                }

                tok[n++] = (p[i + 1] == '0') ? '~' : '/';
                i += 2;
                continue;
            }

            tok[n++] = p[i++];
        }

        if (authz_json_is_object(v)) {
            v = authz_json_getn(v, (const char *) tok, n);

        } else if (authz_json_is_array(v)) {
            if (n == 0 || n > 9 || (n > 1 && tok[0] == '0')) {
                return NULL;
            }

            for (idx = 0, k = 0; k < n; k++) {
                if (tok[k] < '0' || tok[k] > '9') {
                    return NULL;
                }

                idx = idx * 10 + (tok[k] - '0');
            }

            v = authz_json_array_get(v, idx);

        } else {
            return NULL;
        }

        if (v == NULL || i == len) {
            return v;
        }

        i++;     /* the "/" */
    }
}


authz_err_e
authz_identity_get(authz_identity_t *id, authz_json_t *payload,
    const authz_claims_conf_t *conf, authz_alloc_pt alloc, void *data,
    const char **detail)
{
    size_t               i, nclaims;
    size_t               counts[AUTHZ_MAX_PERMISSION_CLAIMS];
    authz_err_e          rc;
    authz_str_t         *claims[AUTHZ_MAX_PERMISSION_CLAIMS];
    authz_json_t        *v;
    const authz_str_t   *names;

    memset(id, 0, sizeof(authz_identity_t));

    rc = authz_single_get(payload, &conf->sub_claim, &id->sub, id,
                          AUTHZ_CLAIM_SUB, detail,
                          "\"sub\" is not a valid string");
    if (rc != AUTHZ_OK) {
        return rc;
    }

    rc = authz_single_get(payload, &conf->tenant_claim, &id->tenant, id,
                          AUTHZ_CLAIM_TENANT, detail,
                          "tenant claim is not a valid string");
    if (rc != AUTHZ_OK) {
        return rc;
    }

    if (conf->npermissions_claims) {
        names = conf->permissions_claims;
        nclaims = conf->npermissions_claims;

    } else {
        names = &conf->permissions_claim;
        nclaims = 1;
    }

    if (nclaims > AUTHZ_MAX_PERMISSION_CLAIMS) {
        return AUTHZ_ERR_INTERNAL;
    }

    for (i = 0; i < nclaims; i++) {
        rc = authz_claim_items(payload, &names[i], 0, &claims[i], &counts[i],
                               id, AUTHZ_CLAIM_PERMISSIONS << i, alloc, data,
                               detail);
        if (rc != AUTHZ_OK) {
            return rc;
        }
    }

    /* a roles claim the configuration never uses is never read (SPEC 2) */

    if (conf->nroles || conf->roles_used) {
        rc = authz_claim_items(payload, &conf->roles_claim, 1, &id->roles,
                               &id->nroles, id, AUTHZ_CLAIM_ROLES, alloc,
                               data, detail);
        if (rc != AUTHZ_OK) {
            return rc;
        }
    }

    v = authz_claim_lookup(payload, conf->services_claim.data,
                           conf->services_claim.len);

    if (v == NULL) {
        id->missing |= AUTHZ_CLAIM_SERVICES;
    }

    rc = authz_services_get(v, id, alloc, data, detail);
    if (rc == AUTHZ_ERR_CLAIM) {
        id->bad_claim = &conf->services_claim;
    }

    if (rc != AUTHZ_OK) {
        return rc;
    }

    return authz_effective(id, conf, claims, counts, nclaims, alloc, data,
                           detail);
}


/* one permissions or roles claim: absent is empty; the shape is checked */

static authz_err_e
authz_claim_items(authz_json_t *payload, const authz_str_t *name, int object,
    authz_str_t **out, size_t *n, authz_identity_t *id, unsigned bit,
    authz_alloc_pt alloc, void *data, const char **detail)
{
    size_t        dropped;
    authz_err_e   rc;
    authz_json_t *v;

    v = authz_claim_lookup(payload, name->data, name->len);

    if (v == NULL) {
        id->missing |= bit;
    }

    dropped = 0;

    rc = authz_items_get(v, object, out, n, &dropped, alloc, data);

    if (rc == AUTHZ_ERR_CLAIM) {
        id->bad_claim = name;
        *detail = object ? "roles claim has a bad shape"
                         : "permissions claim has a bad shape";
        return rc;
    }

    if (dropped) {
        if (id->dropped_claim == NULL) {
            id->dropped_claim = name;
        }

        id->ndropped += dropped;
    }

    return rc;
}


/*
 * the effective set: the permissions claims in order, then each role's
 * template; duplicates removed, the first seen kept
 */

static authz_err_e
authz_effective(authz_identity_t *id, const authz_claims_conf_t *conf,
    authz_str_t **claims, size_t *counts, size_t nclaims,
    authz_alloc_pt alloc, void *data, const char **detail)
{
    size_t               i, j, k, p, total;
    authz_str_t         *roles;
    authz_strset_t       set;
    const authz_role_t  *role;

    /* roles: duplicates removed, in token order */

    if (authz_strset_init(&set, id->nroles, alloc, data) != 0) {
        return AUTHZ_ERR_INTERNAL;
    }

    roles = id->roles;

    for (i = 0, k = 0; i < id->nroles; i++) {
        if (authz_strset_add(&set, &roles[i])) {
            roles[k++] = roles[i];
        }
    }

    id->nroles = k;

    total = 0;

    for (i = 0; i < nclaims; i++) {
        total += counts[i];
    }

    for (i = 0; i < id->nroles; i++) {
        for (j = 0; j < conf->nroles; j++) {
            role = &conf->roles[j];

            if (role->name.len == roles[i].len
                && memcmp(role->name.data, roles[i].data, roles[i].len) == 0)
            {
                total += role->nperms;
            }
        }
    }

    id->perms = alloc(data, (total ? total : 1) * sizeof(authz_str_t));
    if (id->perms == NULL) {
        return AUTHZ_ERR_INTERNAL;
    }

    if (authz_strset_init(&set, total, alloc, data) != 0) {
        return AUTHZ_ERR_INTERNAL;
    }

    k = 0;

    for (i = 0; i < nclaims; i++) {
        for (p = 0; p < counts[i]; p++) {
            if (authz_strset_add(&set, &claims[i][p])) {
                id->perms[k++] = claims[i][p];
            }
        }
    }

    for (i = 0; i < id->nroles; i++) {
        for (j = 0; j < conf->nroles; j++) {
            role = &conf->roles[j];

            if (role->name.len != roles[i].len
                || memcmp(role->name.data, roles[i].data, roles[i].len) != 0)
            {
                continue;
            }

            for (p = 0; p < role->nperms; p++) {
                if (authz_strset_add(&set, &role->perms[p])) {
                    id->perms[k++] = role->perms[p];
                }
            }
        }
    }

    id->nperms = k;

    if (k > AUTHZ_MAX_PERMISSIONS) {
        *detail = "too many permissions";
        return AUTHZ_ERR_CLAIM;
    }

    return AUTHZ_OK;
}


static authz_err_e
authz_single_get(authz_json_t *payload, const authz_str_t *name,
    authz_str_t *out, authz_identity_t *id, unsigned bit, const char **detail,
    const char *what)
{
    authz_json_t *v;

    v = authz_claim_lookup(payload, name->data, name->len);

    if (v == NULL) {
        id->missing |= bit;
        return AUTHZ_OK;
    }

    if (!authz_json_is_string(v)
        || !authz_value_valid((const unsigned char *) authz_json_string(v),
                              authz_json_string_length(v)))
    {
        id->bad_claim = name;
        *detail = what;
        return AUTHZ_ERR_CLAIM;
    }

    out->data = (const unsigned char *) authz_json_string(v);
    out->len = authz_json_string_length(v);

    return AUTHZ_OK;
}


/*
 * the items of a permissions or roles claim: an array of strings, one
 * space-separated string (OAuth 2 "scope") or, where object is set, an
 * object whose member names are the items (ZITADEL roles); absent is
 * empty.  An item that is not a permission (SPEC 1) is dropped and
 * counted; only a claim of another shape, or with more than
 * AUTHZ_MAX_PERMISSIONS items, is AUTHZ_ERR_CLAIM.
 */

static authz_err_e
authz_items_get(authz_json_t *v, int object, authz_str_t **out, size_t *n,
    size_t *dropped, authz_alloc_pt alloc, void *data)
{
    size_t                i, k, len, count;
    authz_str_t          *a;
    authz_json_t         *e;
    const unsigned char  *p, *start;

    *n = 0;

    if (v == NULL) {
        *out = alloc(data, sizeof(authz_str_t));
        return (*out == NULL) ? AUTHZ_ERR_INTERNAL : AUTHZ_OK;
    }

    if (authz_json_is_array(v)) {
        count = authz_json_array_size(v);

    } else if (object && authz_json_is_object(v)) {
        count = authz_json_object_size(v);

    } else if (authz_json_is_string(v)) {
        p = (const unsigned char *) authz_json_string(v);
        len = authz_json_string_length(v);

        for (i = 0, count = 0; i < len; i++) {
            if (p[i] != ' ' && (i == 0 || p[i - 1] == ' ')) {
                count++;
            }
        }

    } else {
        return AUTHZ_ERR_CLAIM;
    }

    if (count > AUTHZ_MAX_PERMISSIONS) {
        return AUTHZ_ERR_CLAIM;
    }

    a = alloc(data, (count ? count : 1) * sizeof(authz_str_t));
    if (a == NULL) {
        return AUTHZ_ERR_INTERNAL;
    }

    k = 0;

    if (authz_json_is_array(v)) {
        authz_json_foreach(v, i, e) {

            if (!authz_json_is_string(e)) {
                (*dropped)++;
                continue;
            }

            a[k].data = (const unsigned char *) authz_json_string(e);
            a[k].len = authz_json_string_length(e);
            k++;
        }

    } else if (authz_json_is_object(v)) {

        /* members in the token's order */

        authz_json_foreach(v, i, e) {
            a[k].data = (const unsigned char *) e->key;
            a[k].len = e->key_len;
            k++;
        }

    } else {
        p = (const unsigned char *) authz_json_string(v);
        len = authz_json_string_length(v);
        start = NULL;

        for (i = 0; i <= len; i++) {
            if (i < len && p[i] != ' ') {
                if (start == NULL) {
                    start = &p[i];
                }

                continue;
            }

            if (start != NULL) {
                a[k].data = start;
                a[k].len = &p[i] - start;
                k++;
                start = NULL;
            }
        }
    }

    /* the invalid ones go: they grant nothing and are never forwarded */

    for (i = 0, count = 0; i < k; i++) {
        if (authz_perm_valid(a[i].data, a[i].len)) {
            a[count++] = a[i];

        } else {
            (*dropped)++;
        }
    }

    *out = a;
    *n = count;

    return AUTHZ_OK;
}


/* {"blog": {"enabled": true}, ...} or ["blog", ...] */

static authz_err_e
authz_services_get(authz_json_t *v, authz_identity_t *id, authz_alloc_pt alloc,
    void *data, const char **detail)
{
    size_t           i, k, len;
    authz_str_t     *a;
    authz_json_t    *e, *enabled;
    authz_strset_t   set;

    static const char  *what = "services claim has a bad shape or value";

    if (v == NULL || authz_json_is_array(v)) {
        len = authz_json_array_size(v);

        if (len > AUTHZ_MAX_SERVICES) {
            *detail = what;
            return AUTHZ_ERR_CLAIM;
        }

        id->has_services = (v != NULL);

        a = alloc(data, (len ? len : 1) * sizeof(authz_str_t));
        if (a == NULL) {
            return AUTHZ_ERR_INTERNAL;
        }

        authz_json_foreach(v, i, e) {

            if (!authz_json_is_string(e)
                || !authz_value_valid(
                        (const unsigned char *) authz_json_string(e),
                        authz_json_string_length(e)))
            {
                *detail = what;
                return AUTHZ_ERR_CLAIM;
            }

            a[i].data = (const unsigned char *) authz_json_string(e);
            a[i].len = authz_json_string_length(e);
        }

        /* duplicates removed, as for permissions */

        if (authz_strset_init(&set, len, alloc, data) != 0) {
            return AUTHZ_ERR_INTERNAL;
        }

        for (i = 0, k = 0; i < len; i++) {
            if (authz_strset_add(&set, &a[i])) {
                a[k++] = a[i];
            }
        }

        id->services = a;
        id->nservices = k;

        return AUTHZ_OK;
    }

    if (!authz_json_is_object(v)
        || authz_json_object_size(v) > AUTHZ_MAX_SERVICES)
    {
        *detail = what;
        return AUTHZ_ERR_CLAIM;
    }

    id->has_services = 1;

    a = alloc(data, (authz_json_object_size(v) + 1) * sizeof(authz_str_t));
    if (a == NULL) {
        return AUTHZ_ERR_INTERNAL;
    }

    k = 0;

    /* members in the token's order */

    authz_json_foreach(v, i, e) {
        enabled = authz_json_get(e, "enabled");

        if (!authz_json_is_object(e) || !authz_json_is_boolean(enabled)
            || !authz_value_valid((const unsigned char *) e->key, e->key_len))
        {
            *detail = what;
            return AUTHZ_ERR_CLAIM;
        }

        if (authz_json_is_true(enabled)) {
            a[k].data = (const unsigned char *) e->key;
            a[k].len = e->key_len;
            k++;
        }
    }

    id->services = a;
    id->nservices = k;

    return AUTHZ_OK;
}


authz_err_e
authz_cnf_check(authz_json_t *payload, const unsigned char *x5t, size_t len,
    const char **detail)
{
    authz_json_t *cnf, *v;

    cnf = authz_json_get(payload, "cnf");
    v = authz_json_get(cnf, "x5t#S256");

    if (!authz_json_is_string(v)) {
        *detail = "no \"x5t#S256\" confirmation";
        return AUTHZ_ERR_BINDING;
    }

    if (x5t == NULL) {
        *detail = "no client certificate";
        return AUTHZ_ERR_BINDING;
    }

    if (authz_json_string_length(v) != len
        || memcmp(authz_json_string(v), x5t, len) != 0)
    {
        *detail = "client certificate does not match \"x5t#S256\"";
        return AUTHZ_ERR_BINDING;
    }

    return AUTHZ_OK;
}


static int
authz_strset_init(authz_strset_t *set, size_t n, authz_alloc_pt alloc,
    void *data)
{
    size_t  size;

    for (size = 16; size < 2 * n; size <<= 1) { /* void */ }

    set->slots = alloc(data, size * sizeof(authz_str_t));
    if (set->slots == NULL) {
        return -1;
    }

    memset(set->slots, 0, size * sizeof(authz_str_t));
    set->mask = size - 1;

    return 0;
}


/* 1 if s was added, 0 if it was there already */

static int
authz_strset_add(authz_strset_t *set, const authz_str_t *s)
{
    size_t        i;
    uint32_t      h;
    authz_str_t  *e;

    h = 2166136261u;

    for (i = 0; i < s->len; i++) {
        h = (h ^ s->data[i]) * 16777619u;
    }

    for (i = h & set->mask; /* void */; i = (i + 1) & set->mask) {
        e = &set->slots[i];

        if (e->data == NULL) {
            *e = *s;
            return 1;
        }

        if (e->len == s->len && memcmp(e->data, s->data, s->len) == 0) {
            return 0;
        }
    }
}
