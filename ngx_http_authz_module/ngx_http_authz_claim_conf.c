/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * Directives about what a token says: the permissions claims, the
 * JOSE "typ" a location accepts, and the claims forwarded as headers
 * of their own (with the value such a header gets); and their merge
 * into the core's claim settings.
 */


#include "ngx_http_authz_module.h"


static ngx_uint_t ngx_http_authz_roles_used(ngx_conf_t *cf);
static ngx_uint_t ngx_http_authz_header_name_valid(ngx_str_t *name);
static ngx_int_t ngx_http_authz_claim_strip_merge(ngx_conf_t *cf,
    ngx_http_authz_loc_conf_t *prev, ngx_http_authz_loc_conf_t *conf);
static ngx_uint_t ngx_http_authz_header_value_valid(u_char *p, size_t len,
    ngx_uint_t comma);


/*
 * ngx_conf_set_enum_slot(), with an error that names the directive
 * and the values it takes
 */

char *
ngx_http_authz_enum_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    u_char           *last, *q;
    u_char            buf[256];
    ngx_str_t        *value;
    ngx_uint_t       *np, i;
    ngx_conf_enum_t  *e;

    np = (ngx_uint_t *) (p + cmd->offset);

    if (*np != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    e = cmd->post;

    for (i = 0; e[i].name.len != 0; i++) {
        if (e[i].name.len == value[1].len
            && ngx_strcasecmp(e[i].name.data, value[1].data) == 0)
        {
            *np = e[i].value;
            return NGX_CONF_OK;
        }
    }

    q = buf;
    last = buf + sizeof(buf);

    for (i = 0; e[i].name.len != 0; i++) {
        q = ngx_slprintf(q, last, "%s\"%V\"", i ? ", " : "", &e[i].name);
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\": invalid value \"%V\", it must be one of %*s",
                       &cmd->name, &value[1], q - buf, buf);

    return NGX_CONF_ERROR;
}


/* "authz_permissions_claim NAME ...": their union, in this order */

char *
ngx_http_authz_permissions_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_authz_loc_conf_t *alcf = conf;

    ngx_str_t   *value, *s;
    ngx_uint_t   i, j;

    if (alcf->permissions_claims != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts - 1 > AUTHZ_MAX_PERMISSION_CLAIMS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" takes at most %d claim names",
                           &cmd->name, AUTHZ_MAX_PERMISSION_CLAIMS);
        return NGX_CONF_ERROR;
    }

    alcf->permissions_claims = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                                sizeof(ngx_str_t));
    if (alcf->permissions_claims == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        if (!authz_claim_name_valid(value[i].data, value[i].len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": invalid claim name \"%V\"",
                               &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }

        for (j = 1; j < i; j++) {
            if (value[j].len == value[i].len
                && ngx_strncmp(value[j].data, value[i].data, value[i].len)
                   == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\": claim \"%V\" is duplicate",
                                   &cmd->name, &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        s = ngx_array_push(alcf->permissions_claims);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


/* "authz_token_type TYP ...": RFC 7515 4.1.9 media types */

char *
ngx_http_authz_token_type(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_authz_loc_conf_t *alcf = conf;

    ngx_str_t   *value, *s;
    ngx_uint_t   i;

    if (alcf->types != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    alcf->types = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                   sizeof(ngx_str_t));
    if (alcf->types == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        if (!authz_value_valid(value[i].data, value[i].len)
            || value[i].len > AUTHZ_MAX_LOG_VALUE)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": invalid token type \"%V\"",
                               &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }

        s = ngx_array_push(alcf->types);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


/*
 * "authz_claim_header NAME CLAIM": the header is also forwarded, and
 * client copies of it are removed wherever the directive applies
 */

char *
ngx_http_authz_claim_header(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_authz_loc_conf_t *alcf = conf;

    u_char                         *p;
    ngx_str_t                      *value, var;
    ngx_uint_t                      i;
    ngx_http_authz_claim_header_t  *ch, *other;

    value = cf->args->elts;

    if (!ngx_http_authz_header_name_valid(&value[1])) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid header name \"%V\"",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    if (!authz_claim_name_valid(value[2].data, value[2].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid claim name \"%V\"",
                           &cmd->name, &value[2]);
        return NGX_CONF_ERROR;
    }

    if (alcf->claim_headers == NGX_CONF_UNSET_PTR) {
        alcf->claim_headers = ngx_array_create(cf->pool, 2,
                                       sizeof(ngx_http_authz_claim_header_t));
        if (alcf->claim_headers == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    other = alcf->claim_headers->elts;

    for (i = 0; i < alcf->claim_headers->nelts; i++) {
        if (authz_header_name_eq(other[i].name.data, other[i].name.len,
                                 value[1].data, value[1].len))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": header \"%V\" is duplicate",
                               &cmd->name, &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    ch = ngx_array_push(alcf->claim_headers);
    if (ch == NULL) {
        return NGX_CONF_ERROR;
    }

    ch->name = value[1];
    ch->claim.data = value[2].data;
    ch->claim.len = value[2].len;

    ch->lowcase.len = value[1].len;
    ch->lowcase.data = ngx_pnalloc(cf->pool, value[1].len);
    if (ch->lowcase.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_strlow(ch->lowcase.data, value[1].data, value[1].len);
    ch->hash = ngx_hash_key(ch->lowcase.data, ch->lowcase.len);

    /* $http_x_user_email: forgotten when the header list changes */

    var.len = sizeof("http_") - 1 + value[1].len;
    var.data = ngx_pnalloc(cf->pool, var.len);
    if (var.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(var.data, "http_", sizeof("http_") - 1);

    for (i = 0; i < ch->lowcase.len; i++) {
        *p++ = (ch->lowcase.data[i] == '-') ? '_' : ch->lowcase.data[i];
    }

    ch->var = ngx_http_get_variable_index(cf, &var);
    if (ch->var == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * a header name of letters, digits and "-", that is none of the
 * module's own headers nor one nginx or the token source relies on
 */

static ngx_uint_t
ngx_http_authz_header_name_valid(ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    static ngx_str_t  reserved[] = {
        ngx_string("X-User-Id"),
        ngx_string("X-Tenant-Id"),
        ngx_string("X-User-Permissions"),
        ngx_string("X-User-Services"),
        ngx_string("Authorization"),
        ngx_string("Host"),
        ngx_string("Content-Length"),
        ngx_string("Transfer-Encoding"),
        ngx_string("Connection"),
        ngx_null_string
    };

    if (name->len == 0 || name->len > 64) {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-'))
        {
            return 0;
        }
    }

    for (i = 0; reserved[i].len; i++) {
        if (authz_header_name_eq(reserved[i].data, reserved[i].len,
                                 name->data, name->len))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * the names whose client copies go: those of this level and of every
 * enclosing one, so that a location with its own "authz_claim_header"
 * list (which replaces the server's for forwarding, as nginx inherits
 * arrays) still removes what a client sends under the server's names;
 * called before claim_headers itself is merged
 */

static ngx_int_t
ngx_http_authz_claim_strip_merge(ngx_conf_t *cf,
    ngx_http_authz_loc_conf_t *prev, ngx_http_authz_loc_conf_t *conf)
{
    ngx_uint_t                      i, j;
    ngx_array_t                    *up, *own, *all;
    ngx_http_authz_claim_header_t  *ch, *uh, *nh;

    /* the http level is never merged: its list is its own names */

    up = (prev->claim_strip != NGX_CONF_UNSET_PTR) ? prev->claim_strip
                                                   : prev->claim_headers;
    if (up == NGX_CONF_UNSET_PTR) {
        up = NULL;
    }

    own = (conf->claim_headers != NGX_CONF_UNSET_PTR) ? conf->claim_headers
                                                      : NULL;

    if (own == NULL || up == NULL) {
        conf->claim_strip = (own != NULL) ? own : up;
        return NGX_OK;
    }

    all = ngx_array_create(cf->pool, own->nelts + up->nelts,
                           sizeof(ngx_http_authz_claim_header_t));
    if (all == NULL) {
        return NGX_ERROR;
    }

    ch = own->elts;

    for (i = 0; i < own->nelts; i++) {
        nh = ngx_array_push(all);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        *nh = ch[i];
    }

    uh = up->elts;

    for (j = 0; j < up->nelts; j++) {
        for (i = 0; i < own->nelts; i++) {
            if (authz_header_name_eq(ch[i].name.data, ch[i].name.len,
                                     uh[j].name.data, uh[j].name.len))
            {
                break;
            }
        }

        if (i < own->nelts) {
            continue;
        }

        nh = ngx_array_push(all);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        *nh = uh[j];
    }

    conf->claim_strip = all;

    return NGX_OK;
}


/*
 * the claim settings of a location into the core's view; called from
 * ngx_http_authz_merge_loc_conf() after the plain merges
 */

char *
ngx_http_authz_claims_merge(ngx_conf_t *cf, ngx_http_authz_loc_conf_t *prev,
    ngx_http_authz_loc_conf_t *conf)
{
    ngx_str_t                   *s;
    ngx_http_authz_main_conf_t  *amcf;

    static ngx_str_t  permissions = ngx_string("permissions");

    ngx_conf_merge_ptr_value(conf->permissions_claims,
                             prev->permissions_claims, NULL);
    ngx_conf_merge_ptr_value(conf->types, prev->types, NULL);
    if (ngx_http_authz_claim_strip_merge(cf, prev, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_ptr_value(conf->claim_headers, prev->claim_headers, NULL);

    if (conf->permissions_claims == NULL) {
        conf->claims.permissions_claim = *(authz_str_t *) &permissions;
        conf->claims.permissions_claims = &conf->claims.permissions_claim;
        conf->claims.npermissions_claims = 1;

    } else {
        conf->claims.permissions_claims = conf->permissions_claims->elts;
        conf->claims.npermissions_claims = conf->permissions_claims->nelts;
        conf->claims.permissions_claim = conf->claims.permissions_claims[0];
    }

    ngx_str_set(&conf->claims.sub_claim, "sub");
    conf->claims.tenant_claim = *(authz_str_t *) &conf->tenant_claim;
    conf->claims.services_claim = *(authz_str_t *) &conf->services_claim;
    conf->claims.roles_claim = *(authz_str_t *) &conf->roles_claim;

    /* names the operator chose: when absent from a token, worth a line */

    conf->claims_explicit = 0;

    if (conf->permissions_claims != NULL) {
        s = conf->permissions_claims->elts;

        if (conf->permissions_claims->nelts > 1
            || s[0].len != permissions.len
            || ngx_strncmp(s[0].data, permissions.data, permissions.len) != 0)
        {
            conf->claims_explicit |= ((AUTHZ_CLAIM_PERMISSIONS
                                       << conf->permissions_claims->nelts)
                                      - AUTHZ_CLAIM_PERMISSIONS);
        }
    }

    if (conf->tenant_claim.len != 3
        || ngx_strncmp(conf->tenant_claim.data, "tid", 3) != 0)
    {
        conf->claims_explicit |= AUTHZ_CLAIM_TENANT;
    }

    if (conf->services_claim.len != 8
        || ngx_strncmp(conf->services_claim.data, "services", 8) != 0)
    {
        conf->claims_explicit |= AUTHZ_CLAIM_SERVICES;
    }

    if (conf->roles_claim.len != 5
        || ngx_strncmp(conf->roles_claim.data, "roles", 5) != 0)
    {
        conf->claims_explicit |= AUTHZ_CLAIM_ROLES;
    }

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_authz_module);

    if (amcf->roles != NULL) {
        conf->claims.roles = amcf->roles->elts;
        conf->claims.nroles = amcf->roles->nelts;
    }

    if (amcf->roles_used == NGX_CONF_UNSET) {
        amcf->roles_used = ngx_http_authz_roles_used(cf);
    }

    conf->claims.roles_used = amcf->roles_used;

    if (conf->types != NULL) {
        conf->verify.types = conf->types->elts;
        conf->verify.ntypes = conf->types->nelts;
    }

    return NGX_CONF_OK;
}


/*
 * whether anything in the configuration reads $authz_roles: every
 * variable a directive compiles (proxy_set_header, map, log_format,
 * if) is indexed by the time locations are merged
 */

static ngx_uint_t
ngx_http_authz_roles_used(ngx_conf_t *cf)
{
    ngx_uint_t                  i;
    ngx_http_variable_t        *v;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    v = cmcf->variables.elts;

    for (i = 0; i < cmcf->variables.nelts; i++) {
        if (v[i].name.len == sizeof("authz_roles") - 1
            && ngx_strncmp(v[i].name.data, "authz_roles",
                           sizeof("authz_roles") - 1) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * "authz_claim_header": strings as they are, numbers and booleans as
 * JSON text, arrays joined with "," (items that would not be a clean
 * single value left out), objects as compact ASCII JSON; printable
 * ASCII only, and empty when the token has no such claim
 */

#define NGX_HTTP_AUTHZ_CLAIM_HEADER_MAX  4096

ngx_int_t
ngx_http_authz_claim_value(ngx_http_request_t *r, authz_json_t *payload,
    authz_str_t *claim, ngx_str_t *value)
{
    u_char       *p;
    size_t        i, len;
    authz_json_t *v, *e;

    ngx_str_set(value, "");

    v = (payload != NULL) ? authz_claim_lookup(payload, claim->data,
                                               claim->len)
                          : NULL;

    if (v == NULL || authz_json_is_null(v)) {
        return NGX_OK;
    }

    if (authz_json_is_string(v)) {
        p = (u_char *) authz_json_string(v);
        len = authz_json_string_length(v);

        if (!ngx_http_authz_header_value_valid(p, len, 0)) {
            return NGX_OK;
        }

        goto copy;
    }

    if (authz_json_is_array(v)) {
        len = 0;

        authz_json_foreach(v, i, e) {
            if (authz_json_is_string(e)) {
                len += authz_json_string_length(e) + 1;
            }
        }

        if (len == 0 || len > NGX_HTTP_AUTHZ_CLAIM_HEADER_MAX) {
            return NGX_OK;
        }

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        value->data = p;

        authz_json_foreach(v, i, e) {

            if (!authz_json_is_string(e)
                || !ngx_http_authz_header_value_valid(
                        (u_char *) authz_json_string(e),
                        authz_json_string_length(e), 0))
            {
                continue;
            }

            if (p != value->data) {
                *p++ = ',';
            }

            p = ngx_cpymem(p, authz_json_string(e),
                           authz_json_string_length(e));
        }

        value->len = p - value->data;

        return NGX_OK;
    }

    len = authz_json_dump(v, 1, NULL);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    (void) authz_json_dump(v, 1, p);

    if (ngx_http_authz_header_value_valid(p, len, 1)) {
        value->data = p;
        value->len = len;
    }

    return NGX_OK;

copy:

    /* a copy: nothing handed to nginx points into a authz_json_t */

    value->data = ngx_pnalloc(r->pool, len);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(value->data, p, len);
    value->len = len;

    return NGX_OK;
}


/* SPEC 6: printable ASCII, no "," in a single value */

static ngx_uint_t
ngx_http_authz_header_value_valid(u_char *p, size_t len, ngx_uint_t comma)
{
    size_t  i;

    if (len == 0 || len > NGX_HTTP_AUTHZ_CLAIM_HEADER_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] > 0x7e || (p[i] == ',' && !comma)) {
            return 0;
        }
    }

    return 1;
}
