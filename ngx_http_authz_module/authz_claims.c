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


static authz_err_e authz_strings_get(json_t *v, int (*valid)(
    const unsigned char *p, size_t len), authz_str_t **out, size_t *n,
    size_t max, authz_alloc_pt alloc, void *data, const char **detail,
    const char *what);
static authz_err_e authz_services_get(json_t *v, authz_identity_t *id,
    authz_alloc_pt alloc, void *data, const char **detail);
static authz_err_e authz_single_get(json_t *payload, const authz_str_t *name,
    authz_str_t *out, const char **detail, const char *what);
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


json_t *
authz_claim_lookup(json_t *payload, const unsigned char *name, size_t len)
{
    size_t                i, start;
    json_t               *v;

    v = json_object_getn(payload, (const char *) name, len);

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

        if (!json_is_object(v) || i == start) {
            return NULL;
        }

        v = json_object_getn(v, (const char *) name + start, i - start);
        if (v == NULL) {
            return NULL;
        }

        start = i + 1;
    }

    return v;
}


authz_err_e
authz_identity_get(authz_identity_t *id, json_t *payload,
    const authz_claims_conf_t *conf, authz_alloc_pt alloc, void *data,
    const char **detail)
{
    size_t               i, j, k, total;
    authz_err_e          rc;
    authz_str_t         *perms, *roles;
    authz_strset_t       set;
    const authz_role_t  *role;

    memset(id, 0, sizeof(authz_identity_t));

    rc = authz_single_get(payload, &conf->sub_claim, &id->sub, detail,
                          "\"sub\" is not a valid string");
    if (rc != AUTHZ_OK) {
        return rc;
    }

    rc = authz_single_get(payload, &conf->tenant_claim, &id->tenant, detail,
                          "tenant claim is not a valid string");
    if (rc != AUTHZ_OK) {
        return rc;
    }

    rc = authz_strings_get(authz_claim_lookup(payload,
                                              conf->permissions_claim.data,
                                              conf->permissions_claim.len),
                           authz_perm_valid, &perms, &id->nperms,
                           AUTHZ_MAX_PERMISSIONS, alloc, data, detail,
                           "permissions claim has a bad shape or value");
    if (rc != AUTHZ_OK) {
        return rc;
    }

    rc = authz_strings_get(authz_claim_lookup(payload,
                                              conf->roles_claim.data,
                                              conf->roles_claim.len),
                           authz_value_valid, &roles, &id->nroles,
                           AUTHZ_MAX_PERMISSIONS, alloc, data, detail,
                           "roles claim has a bad shape or value");
    if (rc != AUTHZ_OK) {
        return rc;
    }

    rc = authz_services_get(authz_claim_lookup(payload,
                                               conf->services_claim.data,
                                               conf->services_claim.len),
                            id, alloc, data, detail);
    if (rc != AUTHZ_OK) {
        return rc;
    }

    /* roles: duplicates removed, in token order */

    if (authz_strset_init(&set, id->nroles, alloc, data) != 0) {
        return AUTHZ_ERR_INTERNAL;
    }

    id->roles = roles;

    for (i = 0, k = 0; i < id->nroles; i++) {
        if (authz_strset_add(&set, &roles[i])) {
            roles[k++] = roles[i];
        }
    }

    id->nroles = k;

    /* the effective set: the claim, then each role's template */

    total = id->nperms;

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

    for (i = 0, k = 0; i < id->nperms; i++) {
        if (authz_strset_add(&set, &perms[i])) {
            id->perms[k++] = perms[i];
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

            for (total = 0; total < role->nperms; total++) {
                if (authz_strset_add(&set, &role->perms[total])) {
                    id->perms[k++] = role->perms[total];
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
authz_single_get(json_t *payload, const authz_str_t *name, authz_str_t *out,
    const char **detail, const char *what)
{
    json_t  *v;

    v = authz_claim_lookup(payload, name->data, name->len);

    if (v == NULL) {
        return AUTHZ_OK;
    }

    if (!json_is_string(v)
        || !authz_value_valid((const unsigned char *) json_string_value(v),
                              json_string_length(v)))
    {
        *detail = what;
        return AUTHZ_ERR_CLAIM;
    }

    out->data = (const unsigned char *) json_string_value(v);
    out->len = json_string_length(v);

    return AUTHZ_OK;
}


/*
 * an array of strings, or one space-separated string (OAuth2 "scope");
 * absent is empty
 */

static authz_err_e
authz_strings_get(json_t *v, int (*valid)(const unsigned char *p, size_t len),
    authz_str_t **out, size_t *n, size_t max, authz_alloc_pt alloc,
    void *data, const char **detail, const char *what)
{
    size_t               i, k, len, count;
    json_t              *e;
    authz_str_t         *a;
    const unsigned char *p, *start;

    *n = 0;

    if (v == NULL) {
        *out = alloc(data, sizeof(authz_str_t));
        return (*out == NULL) ? AUTHZ_ERR_INTERNAL : AUTHZ_OK;
    }

    if (json_is_array(v)) {
        count = json_array_size(v);

    } else if (json_is_string(v)) {
        p = (const unsigned char *) json_string_value(v);
        len = json_string_length(v);

        for (i = 0, count = 0; i < len; i++) {
            if (p[i] != ' ' && (i == 0 || p[i - 1] == ' ')) {
                count++;
            }
        }

    } else {
        *detail = what;
        return AUTHZ_ERR_CLAIM;
    }

    if (count > max) {
        *detail = what;
        return AUTHZ_ERR_CLAIM;
    }

    a = alloc(data, (count ? count : 1) * sizeof(authz_str_t));
    if (a == NULL) {
        return AUTHZ_ERR_INTERNAL;
    }

    k = 0;

    if (json_is_array(v)) {
        for (i = 0; i < count; i++) {
            e = json_array_get(v, i);

            if (!json_is_string(e)) {
                *detail = what;
                return AUTHZ_ERR_CLAIM;
            }

            a[k].data = (const unsigned char *) json_string_value(e);
            a[k].len = json_string_length(e);
            k++;
        }

    } else {
        p = (const unsigned char *) json_string_value(v);
        len = json_string_length(v);
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

    for (i = 0; i < k; i++) {
        if (!valid(a[i].data, a[i].len)) {
            *detail = what;
            return AUTHZ_ERR_CLAIM;
        }
    }

    *out = a;
    *n = k;

    return AUTHZ_OK;
}


/* {"blog": {"enabled": true}, ...} or ["blog", ...] */

static authz_err_e
authz_services_get(json_t *v, authz_identity_t *id, authz_alloc_pt alloc,
    void *data, const char **detail)
{
    size_t           i, k, len;
    json_t          *e, *enabled;
    const char      *name;
    authz_err_e      rc;
    authz_str_t     *a;
    authz_strset_t   set;

    static const char  *what = "services claim has a bad shape or value";

    if (v == NULL || json_is_array(v)) {
        rc = authz_strings_get(v, authz_value_valid, &a, &len,
                               AUTHZ_MAX_SERVICES, alloc, data, detail, what);
        if (rc != AUTHZ_OK) {
            return rc;
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

    if (!json_is_object(v) || json_object_size(v) > AUTHZ_MAX_SERVICES) {
        *detail = what;
        return AUTHZ_ERR_CLAIM;
    }

    a = alloc(data, (json_object_size(v) + 1) * sizeof(authz_str_t));
    if (a == NULL) {
        return AUTHZ_ERR_INTERNAL;
    }

    k = 0;

    /* jansson keeps insertion order: the token's order is kept */

    json_object_keylen_foreach(v, name, len, e) {
        enabled = json_object_get(e, "enabled");

        if (!json_is_object(e) || !json_is_boolean(enabled)
            || !authz_value_valid((const unsigned char *) name, len))
        {
            *detail = what;
            return AUTHZ_ERR_CLAIM;
        }

        if (json_is_true(enabled)) {
            a[k].data = (const unsigned char *) name;
            a[k].len = len;
            k++;
        }
    }

    id->services = a;
    id->nservices = k;

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
