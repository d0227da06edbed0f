/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * $authz_* variables.  They read the request context only; reading one
 * before the access phase verifies the token then, once.
 */


#include "ngx_http_authz_module.h"


#define NGX_HTTP_AUTHZ_VAR_SUB          0
#define NGX_HTTP_AUTHZ_VAR_TENANT       1
#define NGX_HTTP_AUTHZ_VAR_PERMISSIONS  2
#define NGX_HTTP_AUTHZ_VAR_SERVICES     3
#define NGX_HTTP_AUTHZ_VAR_ROLES        4


static ngx_int_t ngx_http_authz_identity_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_authz_kid_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_authz_key_source_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_authz_exp_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_authz_iat_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_authz_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_authz_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_authz_result_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_authz_error_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_authz_cache_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_authz_version_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_http_authz_eval_t *ngx_http_authz_variable_eval(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_authz_json_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, authz_json_t *value);
static void ngx_http_authz_set(ngx_http_variable_value_t *v, u_char *data,
    size_t len);


static ngx_str_t  ngx_http_authz_claim_prefix = ngx_string("authz_claim_");


static ngx_http_variable_t  ngx_http_authz_vars[] = {

    { ngx_string("authz_sub"), NULL, ngx_http_authz_identity_variable,
      NGX_HTTP_AUTHZ_VAR_SUB, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_tenant"), NULL, ngx_http_authz_identity_variable,
      NGX_HTTP_AUTHZ_VAR_TENANT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_permissions"), NULL,
      ngx_http_authz_identity_variable,
      NGX_HTTP_AUTHZ_VAR_PERMISSIONS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_services"), NULL, ngx_http_authz_identity_variable,
      NGX_HTTP_AUTHZ_VAR_SERVICES, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_roles"), NULL, ngx_http_authz_identity_variable,
      NGX_HTTP_AUTHZ_VAR_ROLES, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_kid"), NULL, ngx_http_authz_kid_variable,
      offsetof(ngx_http_authz_eval_t, kid), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_alg"), NULL, ngx_http_authz_kid_variable,
      offsetof(ngx_http_authz_eval_t, alg), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_typ"), NULL, ngx_http_authz_kid_variable,
      offsetof(ngx_http_authz_eval_t, typ), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_iat"), NULL, ngx_http_authz_iat_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_key_source"), NULL,
      ngx_http_authz_key_source_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_exp"), NULL, ngx_http_authz_exp_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_jti"), NULL, ngx_http_authz_claim_variable,
      (uintptr_t) "jti", NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_iss"), NULL, ngx_http_authz_claim_variable,
      (uintptr_t) "iss", NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_result"), NULL, ngx_http_authz_result_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_error"), NULL, ngx_http_authz_error_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_reason"), NULL, ngx_http_authz_error_variable,
      1, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_cache"), NULL, ngx_http_authz_cache_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("authz_version"), NULL, ngx_http_authz_version_variable,
      0, 0, 0 },

    { ngx_string("authz_claim_"), NULL, ngx_http_authz_prefix_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_authz_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_authz_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * the evaluation of the token under the configuration the request runs
 * with now: where the module is on, the token of this location's source
 * (made on first use, in any phase); where it is off, the one the last
 * decision was about
 */

static ngx_http_authz_eval_t *
ngx_http_authz_variable_eval(ngx_http_request_t *r)
{
    ngx_http_authz_ctx_t       *ctx;
    ngx_http_authz_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r->main, ngx_http_authz_module);

    if (alcf->mode != NGX_HTTP_AUTHZ_OFF) {

        /*
         * once the response is under way (limit_req refused the request,
         * the log phase), a token no phase looked at is not verified
         * for a variable: that would be public-key work for nothing
         */

        return ngx_http_authz_evaluate(r->main, alcf,
                                       r->main->headers_out.status == 0);
    }

    /*
     * where the module is off: the identity of the last allow; after a
     * denial none, so that "proxy_set_header X-User-Id $authz_sub" in an
     * error_page location forwards nothing, but once the response is
     * sent (the access log) the denied token's identity, for the audit
     */

    ctx = ngx_http_authz_get_ctx(r);

    if (ctx == NULL
        || (ctx->result != NGX_HTTP_AUTHZ_RESULT_ALLOW
            && !r->main->header_sent))
    {
        return NULL;
    }

    return ctx->decided;
}


static void
ngx_http_authz_set(ngx_http_variable_value_t *v, u_char *data, size_t len)
{
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = data;
}


static ngx_int_t
ngx_http_authz_identity_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t              *s;
    ngx_http_authz_eval_t  *eval;

    eval = ngx_http_authz_variable_eval(r);

    if (eval == NULL || eval->state != NGX_HTTP_AUTHZ_TOKEN_VALID) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case NGX_HTTP_AUTHZ_VAR_SUB:
        s = (ngx_str_t *) &eval->id.sub;
        break;

    case NGX_HTTP_AUTHZ_VAR_TENANT:
        s = (ngx_str_t *) &eval->id.tenant;
        break;

    case NGX_HTTP_AUTHZ_VAR_PERMISSIONS:
        s = &eval->permissions;
        break;

    case NGX_HTTP_AUTHZ_VAR_SERVICES:
        s = &eval->services;
        break;

    default: /* NGX_HTTP_AUTHZ_VAR_ROLES */
        s = &eval->roles;
        break;
    }

    ngx_http_authz_set(v, s->data ? s->data : (u_char *) "", s->len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_kid_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t              *s;
    ngx_http_authz_eval_t  *eval;

    eval = ngx_http_authz_variable_eval(r);

    if (eval == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    /* $authz_kid, $authz_alg, $authz_typ: header values, also of a denial */

    s = (ngx_str_t *) ((u_char *) eval + data);

    if (s->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_http_authz_set(v, s->data, s->len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_iat_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                 *p;
    double                  iat;
    ngx_http_authz_eval_t  *eval;

    eval = ngx_http_authz_variable_eval(r);

    /* from the payload or, on a cache hit, from the entry */

    if (eval == NULL || eval->state != NGX_HTTP_AUTHZ_TOKEN_VALID
        || !eval->has_iat)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    iat = eval->iat;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* a valid token's iat is not in the future: clamp the far past */

    ngx_http_authz_set(v, p, ngx_sprintf(p, "%L",
                              iat < -9e18 ? (int64_t) -9e18
                              : iat > 9e18 ? (int64_t) 9e18
                              : (int64_t) iat) - p);

    return NGX_OK;
}


/* "file", or the authz_key_request URI; empty when no key verified */

static ngx_int_t
ngx_http_authz_key_source_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_authz_eval_t  *eval;

    eval = ngx_http_authz_variable_eval(r);

    if (eval == NULL || eval->key_source.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_http_authz_set(v, eval->key_source.data, eval->key_source.len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_exp_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                 *p;
    ngx_http_authz_eval_t  *eval;

    eval = ngx_http_authz_variable_eval(r);

    if (eval == NULL || eval->state != NGX_HTTP_AUTHZ_TOKEN_VALID
        || !eval->has_exp)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* a valid token's exp is in the future: it fits in an int64 */

    ngx_http_authz_set(v, p, ngx_sprintf(p, "%L",
                              eval->exp > 9e18 ? (int64_t) 9e18
                                               : (int64_t) eval->exp) - p);

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                 *name;
    size_t                  len;
    authz_json_t           *value;
    ngx_http_authz_eval_t  *eval;

    eval = ngx_http_authz_variable_eval(r);

    if (eval == NULL || eval->state != NGX_HTTP_AUTHZ_TOKEN_VALID
        || ngx_http_authz_eval_payload(r, eval) == NULL)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    name = (u_char *) data;
    len = ngx_strlen(name);

    value = authz_json_getn(eval->payload, (const char *) name, len);

    return ngx_http_authz_json_value(r, v, value);
}


/* $authz_claim_NAME: data is the variable's full name */

static ngx_int_t
ngx_http_authz_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t *name = (ngx_str_t *) data;

    u_char                 *p;
    size_t                  i, len;
    authz_json_t           *value, *e;
    ngx_http_authz_eval_t  *eval;

    eval = ngx_http_authz_variable_eval(r);

    if (eval == NULL || eval->state != NGX_HTTP_AUTHZ_TOKEN_VALID
        || ngx_http_authz_eval_payload(r, eval) == NULL)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    p = name->data + ngx_http_authz_claim_prefix.len;
    len = name->len - ngx_http_authz_claim_prefix.len;

    value = authz_claim_lookup(eval->payload, p, len);

    if (value == NULL) {

        /*
         * nginx lowercases variable names: "givenName" is found when it
         * is the only claim of that name in any case
         */

        authz_json_foreach(eval->payload, i, e) {
            if (e->key_len == len
                && ngx_strncasecmp((u_char *) e->key, p, len) == 0)
            {
                if (value != NULL) {
                    v->not_found = 1;
                    return NGX_OK;
                }

                value = e;
            }
        }
    }

    return ngx_http_authz_json_value(r, v, value);
}


/*
 * strings as they are, numbers and booleans as JSON text, arrays of
 * scalars joined with ",", objects as compact JSON; a value with a
 * control character is not found: it could split a header line
 */

static ngx_int_t
ngx_http_authz_json_value(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    authz_json_t *value)
{
    u_char       *p;
    size_t        i, len;
    authz_json_t *e;

    if (value == NULL || authz_json_is_null(value)) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (authz_json_is_string(value)) {
        len = authz_json_string_length(value);

        /* a copy: nothing handed to nginx points into a authz_json_t */

        p = ngx_pnalloc(r->pool, len + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(p, authz_json_string(value), len);

    } else if (authz_json_is_array(value)) {
        len = 0;

        authz_json_foreach(value, i, e) {

            if (!authz_json_is_string(e)) {
                goto dump;
            }

            len += authz_json_string_length(e) + 1;
        }

        p = ngx_pnalloc(r->pool, len + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        len = 0;

        authz_json_foreach(value, i, e) {

            if (i) {
                p[len++] = ',';
            }

            ngx_memcpy(p + len, authz_json_string(e),
                       authz_json_string_length(e));
            len += authz_json_string_length(e);
        }

    } else {
        goto dump;
    }

    goto done;

dump:

    len = authz_json_dump(value, 0, NULL);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    (void) authz_json_dump(value, 0, p);

done:

    for (i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            v->not_found = 1;
            return NGX_OK;
        }
    }

    ngx_http_authz_set(v, p, len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_result_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_uint_t                  result;
    ngx_http_authz_ctx_t       *ctx;
    ngx_http_authz_loc_conf_t  *alcf;

    static ngx_str_t  results[] = {
        ngx_null_string,
        ngx_string("off"),
        ngx_string("allow"),
        ngx_string("deny"),
        ngx_string("anonymous")
    };

    ctx = ngx_http_authz_get_ctx(r);
    result = (ctx == NULL) ? NGX_HTTP_AUTHZ_RESULT_NONE : ctx->result;

    if (result == NGX_HTTP_AUTHZ_RESULT_NONE) {
        alcf = ngx_http_get_module_loc_conf(r->main, ngx_http_authz_module);

        if (alcf->mode != NGX_HTTP_AUTHZ_OFF) {
            v->not_found = 1;
            return NGX_OK;
        }

        result = NGX_HTTP_AUTHZ_RESULT_OFF;
    }

    ngx_http_authz_set(v, results[result].data, results[result].len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_error_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t             *s;
    ngx_http_authz_ctx_t  *ctx;

    ctx = ngx_http_authz_get_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = data ? &ctx->reason : &ctx->error;

    if (s->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_http_authz_set(v, s->data, s->len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_cache_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_uint_t             cache;
    ngx_http_authz_ctx_t  *ctx;

    static ngx_str_t  states[] = {
        ngx_string("off"),
        ngx_string("miss"),
        ngx_string("hit")
    };

    ctx = ngx_http_authz_get_ctx(r);

    cache = (ctx != NULL && ctx->decided != NULL) ? ctx->decided->cache
                                                  : NGX_HTTP_AUTHZ_CACHE_OFF;

    ngx_http_authz_set(v, states[cache].data, states[cache].len);

    return NGX_OK;
}


/* the module's version, from debian/changelog at build time */

static ngx_int_t
ngx_http_authz_version_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_authz_set(v, (u_char *) NGX_HTTP_AUTHZ_VERSION,
                       sizeof(NGX_HTTP_AUTHZ_VERSION) - 1);

    return NGX_OK;
}
