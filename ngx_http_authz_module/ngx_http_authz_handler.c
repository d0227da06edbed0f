/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * The request path: token source, authentication through the core,
 * authorization (tenant, service, rules, requirements, conditions),
 * the one mapping of reasons to status and log level, identity headers,
 * and the JSON body of a denial.
 */


#include "ngx_http_authz_module.h"


static void ngx_http_authz_cleanup(void *data);
static ngx_int_t ngx_http_authz_token(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_str_t *token);
static ngx_int_t ngx_http_authz_identity(ngx_http_request_t *r,
    ngx_http_authz_ctx_t *ctx);
static ngx_int_t ngx_http_authz_join(ngx_http_request_t *r, ngx_str_t *out,
    authz_str_t *a, size_t n);
static void *ngx_http_authz_alloc(void *data, size_t size);
static ngx_int_t ngx_http_authz_anonymous(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx);
static ngx_int_t ngx_http_authz_authorize(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx);
static ngx_int_t ngx_http_authz_conditions(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf);
static unsigned ngx_http_authz_method(ngx_http_request_t *r);


ngx_http_authz_ctx_t *
ngx_http_authz_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t    *cln;
    ngx_http_authz_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_authz_module);

    if (ctx != NULL || !(r->main->internal || r->main->filter_finalize)) {
        return ctx;
    }

    /*
     * an internal redirect zeroes r->ctx: the context survives
     * as the data of its pool cleanup (the realip way)
     */

    for (cln = r->main->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_authz_cleanup) {
            ctx = cln->data;
            ngx_http_set_ctx(r->main, ctx, ngx_http_authz_module);
            return ctx;
        }
    }

    return NULL;
}


static ngx_http_authz_ctx_t *
ngx_http_authz_create_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t    *cln;
    ngx_http_authz_ctx_t  *ctx;

    ctx = ngx_http_authz_get_ctx(r);
    if (ctx != NULL) {
        return ctx;
    }

    cln = ngx_pool_cleanup_add(r->main->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    ctx = ngx_pcalloc(r->main->pool, sizeof(ngx_http_authz_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_authz_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r->main, ctx, ngx_http_authz_module);

    return ctx;
}


static void
ngx_http_authz_cleanup(void *data)
{
    ngx_http_authz_ctx_t  *ctx = data;

    if (ctx->payload != NULL) {
        json_decref(ctx->payload);
        ctx->payload = NULL;
    }
}


/*
 * verifies the token of the main request with the configuration of
 * the current location, once: a second call with the same configuration
 * returns the first result; a call from another location (an internal
 * redirect) re-checks the claims but trusts the key that verified the
 * same bytes before
 */

ngx_http_authz_ctx_t *
ngx_http_authz_authenticate(ngx_http_request_t *r)
{
    u_char                      *scratch;
    u_char                       hash[32], cached[32];
    ngx_int_t                    rc;
    ngx_uint_t                   cache;
    ngx_str_t                    token;
    authz_err_e                  err;
    authz_token_t                tok;
    const unsigned char         *trusted;
    ngx_http_authz_ctx_t        *ctx;
    ngx_http_authz_loc_conf_t   *alcf;
    ngx_http_authz_main_conf_t  *amcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_authz_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_authz_module);

    ctx = ngx_http_authz_create_ctx(r);
    if (ctx == NULL) {
        return NULL;
    }

    if (alcf->mode == NGX_HTTP_AUTHZ_OFF
        || (ctx->conf == alcf && ctx->state != NGX_HTTP_AUTHZ_TOKEN_NONE))
    {
        return ctx;
    }

    rc = ngx_http_authz_token(r, alcf, ctx, &token);

    if (rc == NGX_ERROR) {
        return NULL;
    }

    trusted = NULL;
    cache = NGX_HTTP_AUTHZ_CACHE_OFF;

    if (ctx->verified && token.len == ctx->token.len
        && ngx_memcmp(token.data, ctx->token.data, token.len) == 0)
    {
        /* the same bytes again: what the cache said still holds */

        trusted = ctx->fingerprint;
        cache = ctx->cache;
    }

    /* a fresh evaluation for this configuration */

    ngx_http_authz_cleanup(ctx);
    ngx_memzero(&ctx->id, sizeof(authz_identity_t));
    ngx_str_null(&ctx->permissions);
    ngx_str_null(&ctx->services);
    ngx_str_null(&ctx->roles);
    ngx_str_null(&ctx->kid);
    ngx_str_null(&ctx->alg);
    ctx->has_exp = 0;

    ctx->conf = alcf;
    ctx->token = token;
    ctx->cache = cache;
    ctx->err = AUTHZ_OK;
    ctx->detail = NULL;

    if (rc == NGX_DECLINED) {
        ctx->state = NGX_HTTP_AUTHZ_TOKEN_MISSING;
        return ctx;
    }

    if (rc == NGX_ABORT) {
        ctx->state = NGX_HTTP_AUTHZ_TOKEN_INVALID;
        ctx->err = AUTHZ_ERR_MALFORMED;
        ctx->detail = "malformed authorization header";
        return ctx;
    }

    scratch = ngx_pnalloc(r->pool, token.len + 1);
    if (scratch == NULL) {
        return NULL;
    }

    /* the cheap checks (size, shape, alg, kid, exp) come before the RSA */

    err = authz_token_decode(&tok, token.data, token.len, scratch,
                             &alcf->verify);

    if (err == AUTHZ_OK) {
        err = authz_token_check_claims(&tok, &alcf->verify, ngx_time());
    }

    if (err == AUTHZ_OK && trusted == NULL && amcf->cache != NULL) {
        ctx->cache = NGX_HTTP_AUTHZ_CACHE_MISS;

        if (ngx_http_authz_cache_lookup(r, &token, hash, cached) == NGX_OK) {
            trusted = cached;
        }
    }

    if (err == AUTHZ_OK) {
        err = authz_token_verify(&tok, &alcf->verify, trusted);
    }

    if (err == AUTHZ_OK && ctx->cache == NGX_HTTP_AUTHZ_CACHE_MISS
        && trusted != ctx->fingerprint)
    {
        if (trusted == cached
            && ngx_memcmp(cached, tok.key->fingerprint, 32) == 0)
        {
            ctx->cache = NGX_HTTP_AUTHZ_CACHE_HIT;

        } else {
            /* exp may be any JSON number: 1e300 must not overflow */

            ngx_http_authz_cache_store(r, hash, tok.key->fingerprint,
                    (!tok.has_exp || tok.exp >= (double) NGX_MAX_TIME_T_VALUE)
                    ? NGX_MAX_TIME_T_VALUE : (time_t) tok.exp);
        }
    }

    /* the payload is owned by the context from now on */

    ctx->payload = tok.payload;
    tok.payload = NULL;

    if (tok.has_kid) {
        ctx->kid.data = ngx_pnalloc(r->pool, tok.kid_len);
        if (ctx->kid.data == NULL) {
            return NULL;
        }

        ngx_memcpy(ctx->kid.data, tok.kid, tok.kid_len);
        ctx->kid.len = tok.kid_len;
    }

    if (tok.alg_name != NULL) {
        ctx->alg.data = (u_char *) tok.alg_name;
        ctx->alg.len = ngx_strlen(tok.alg_name);
    }

    ctx->has_exp = tok.has_exp;
    ctx->exp = tok.exp;

    if (err == AUTHZ_OK) {
        ngx_memcpy(ctx->fingerprint, tok.key->fingerprint, 32);
        ctx->verified = 1;

        err = authz_identity_get(&ctx->id, ctx->payload, &alcf->claims,
                                 ngx_http_authz_alloc, r->pool, &tok.detail);
    }

    ctx->err = err;
    ctx->detail = tok.detail;

    if (err == AUTHZ_ERR_INTERNAL) {
        ctx->state = NGX_HTTP_AUTHZ_TOKEN_ERROR;
        return ctx;
    }

    if (err != AUTHZ_OK) {
        ctx->state = NGX_HTTP_AUTHZ_TOKEN_INVALID;
        return ctx;
    }

    if (ngx_http_authz_identity(r, ctx) != NGX_OK) {
        return NULL;
    }

    ctx->state = NGX_HTTP_AUTHZ_TOKEN_VALID;

    return ctx;
}


/*
 * NGX_OK: token found, NGX_DECLINED: no token, NGX_ABORT: more than
 * one token or an Authorization header that is not "Bearer <token>"
 */

static ngx_int_t
ngx_http_authz_token(ngx_http_request_t *r, ngx_http_authz_loc_conf_t *alcf,
    ngx_http_authz_ctx_t *ctx, ngx_str_t *token)
{
    ngx_str_t        *value;
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    ngx_str_null(token);

    if (alcf->token != NULL) {
        if (ngx_http_complex_value(r, alcf->token, token) != NGX_OK) {
            return NGX_ERROR;
        }

        return (token->len == 0) ? NGX_DECLINED : NGX_OK;
    }

    n = 0;
    value = NULL;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Authorization") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Authorization",
                               sizeof("Authorization") - 1) == 0)
        {
            value = &h[i].value;
            n++;
        }
    }

    if (n == 0) {
        if (ctx->auth_removed && ctx->token.len) {
            *token = ctx->token;
            return NGX_OK;
        }

        return NGX_DECLINED;
    }

    /* exactly one header, "Bearer" (any case), one space, the token */

    if (n > 1
        || value->len <= sizeof("Bearer ") - 1
        || ngx_strncasecmp(value->data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) != 0)
    {
        return NGX_ABORT;
    }

    token->data = value->data + sizeof("Bearer ") - 1;
    token->len = value->len - (sizeof("Bearer ") - 1);

    /*
     * a space or any other byte outside base64url and "." fails the
     * strict decoding of the token: no need to look twice
     */

    if (token->data[0] == ' ') {
        return NGX_ABORT;
    }

    return NGX_OK;
}


static void *
ngx_http_authz_alloc(void *data, size_t size)
{
    return ngx_palloc(data, size);
}


static ngx_int_t
ngx_http_authz_identity(ngx_http_request_t *r, ngx_http_authz_ctx_t *ctx)
{
    if (ngx_http_authz_join(r, &ctx->permissions, ctx->id.perms,
                            ctx->id.nperms)
        != NGX_OK
        || ngx_http_authz_join(r, &ctx->services, ctx->id.services,
                               ctx->id.nservices)
           != NGX_OK
        || ngx_http_authz_join(r, &ctx->roles, ctx->id.roles,
                               ctx->id.nroles)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_join(ngx_http_request_t *r, ngx_str_t *out, authz_str_t *a,
    size_t n)
{
    u_char  *p;
    size_t   i, len;

    ngx_str_null(out);

    if (n == 0) {
        return NGX_OK;
    }

    len = 0;

    for (i = 0; i < n; i++) {
        len += a[i].len + 1;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, a[i].data, a[i].len);
    }

    out->len = p - out->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_authz_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_http_authz_ctx_t       *ctx;
    ngx_http_authz_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_authz_module);

    if (alcf->mode == NGX_HTTP_AUTHZ_OFF) {
        ctx = ngx_http_authz_get_ctx(r);

        if (ngx_http_authz_headers(r, alcf, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ctx != NULL && ctx->result == NGX_HTTP_AUTHZ_RESULT_NONE) {
            ctx->result = NGX_HTTP_AUTHZ_RESULT_OFF;
        }

        return NGX_DECLINED;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "authz access handler");

    ctx = ngx_http_authz_authenticate(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (ctx->state) {

    case NGX_HTTP_AUTHZ_TOKEN_VALID:
        rc = ngx_http_authz_authorize(r, alcf, ctx);
        break;

    case NGX_HTTP_AUTHZ_TOKEN_MISSING:
        if (alcf->mode == NGX_HTTP_AUTHZ_OPTIONAL) {
            rc = ngx_http_authz_anonymous(r, alcf, ctx);
            break;
        }

        rc = ngx_http_authz_deny(r, alcf, ctx, NGX_HTTP_UNAUTHORIZED,
                                 "missing_token", "no token was provided",
                                 NULL);
        break;

    case NGX_HTTP_AUTHZ_TOKEN_INVALID:
        rc = ngx_http_authz_deny(r, alcf, ctx, NGX_HTTP_UNAUTHORIZED,
                                 "invalid_token", authz_strerror(ctx->err),
                                 NULL);
        break;

    default: /* NGX_HTTP_AUTHZ_TOKEN_ERROR */
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "authz: token verification failed internally: %s",
                      ctx->detail ? ctx->detail : "unknown");
        ctx->result = NGX_HTTP_AUTHZ_RESULT_DENY;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_OK || rc == NGX_DECLINED) {
        if (ngx_http_authz_headers(r, alcf, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return rc;
}


/* "authz optional" without a token */

static ngx_int_t
ngx_http_authz_anonymous(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx)
{
    ptrdiff_t      i;
    ngx_int_t      rc;
    authz_rule_t  *rule;

    rc = ngx_http_authz_conditions(r, alcf);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_authz_deny(r, alcf, ctx, NGX_HTTP_FORBIDDEN,
                                   "forbidden", "condition not met", NULL);
    }

    if (alcf->rules != NULL) {
        rule = alcf->rules->elts;
        i = authz_rules_find(rule, alcf->rules->nelts,
                             ngx_http_authz_method(r), r->uri.data,
                             r->uri.len);

        if (i < 0 && alcf->rules_default == NGX_HTTP_AUTHZ_DENY) {
            return ngx_http_authz_deny(r, alcf, ctx, NGX_HTTP_FORBIDDEN,
                                       "forbidden", "no rule matched", NULL);
        }

        if (i >= 0 && !rule[i].public) {
            goto missing;
        }
    }

    if (alcf->require != NULL || alcf->service.len || alcf->tenant != NULL) {
        goto missing;
    }

    ctx->result = NGX_HTTP_AUTHZ_RESULT_ANONYMOUS;

    /* an anonymous request is not vouched for: "satisfy any" goes on */

    return NGX_DECLINED;

missing:

    return ngx_http_authz_deny(r, alcf, ctx, NGX_HTTP_UNAUTHORIZED,
                               "missing_token", "no token was provided",
                               NULL);
}


static ngx_int_t
ngx_http_authz_authorize(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx)
{
    ptrdiff_t        i, k;
    ngx_int_t        rc;
    ngx_str_t        tenant;
    authz_bind_t     bind;
    authz_rule_t    *rule;
    authz_identity_t *id;

    id = &ctx->id;

    ngx_memzero(&bind, sizeof(authz_bind_t));

    bind.tenant = id->tenant;
    bind.sub = id->sub;

    /* the bypass permission is matched exactly: no wildcard grants it */

    if (alcf->tenant_bypass.len) {
        bind.tenant_any = authz_str_in(id->perms, id->nperms,
                                       alcf->tenant_bypass.data,
                                       alcf->tenant_bypass.len);
    }

    if (alcf->tenant != NULL) {
        if (ngx_http_complex_value(r, alcf->tenant, &tenant) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (tenant.len == 0) {
            return ngx_http_authz_deny(r, alcf, ctx, NGX_HTTP_FORBIDDEN,
                                       "tenant_mismatch",
                                       "request names no tenant", NULL);
        }

        if (!bind.tenant_any
            && (tenant.len != id->tenant.len
                || ngx_memcmp(tenant.data, id->tenant.data, tenant.len)
                   != 0))
        {
            return ngx_http_authz_deny(r, alcf, ctx, NGX_HTTP_FORBIDDEN,
                                       "tenant_mismatch",
                                       "token is for another tenant", NULL);
        }
    }

    if (alcf->service.len
        && !authz_str_in(id->services, id->nservices, alcf->service.data,
                         alcf->service.len))
    {
        return ngx_http_authz_deny(r, alcf, ctx, NGX_HTTP_FORBIDDEN,
                                   "service_disabled",
                                   "service not enabled for the tenant",
                                   NULL);
    }

    if (alcf->rules != NULL) {
        rule = alcf->rules->elts;
        i = authz_rules_find(rule, alcf->rules->nelts,
                             ngx_http_authz_method(r), r->uri.data,
                             r->uri.len);

        if (i < 0) {
            if (alcf->rules_default == NGX_HTTP_AUTHZ_DENY) {
                return ngx_http_authz_deny(r, alcf, ctx, NGX_HTTP_FORBIDDEN,
                                           "forbidden", "no rule matched",
                                           NULL);
            }

        } else {
            rule = &rule[i];

            if ((rule->pattern.binds & AUTHZ_BIND_TENANT)
                && !authz_pattern_match(&rule->pattern, r->uri.data,
                                        r->uri.len, &bind, AUTHZ_BIND_TENANT))
            {
                return ngx_http_authz_deny(r, alcf, ctx, NGX_HTTP_FORBIDDEN,
                                           "tenant_mismatch",
                                           "path names another tenant",
                                           NULL);
            }

            if ((rule->pattern.binds & AUTHZ_BIND_SUB)
                && !authz_pattern_match(&rule->pattern, r->uri.data,
                                        r->uri.len, &bind,
                                        AUTHZ_BIND_TENANT|AUTHZ_BIND_SUB))
            {
                return ngx_http_authz_deny(r, alcf, ctx, NGX_HTTP_FORBIDDEN,
                                           "forbidden",
                                           "path names another user", NULL);
            }

            if (!rule->public) {
                k = authz_reqs_check(rule->reqs, rule->nreqs, id->perms,
                                     id->nperms, &alcf->scope);
                if (k >= 0) {
                    return ngx_http_authz_deny(r, alcf, ctx,
                                               NGX_HTTP_FORBIDDEN,
                                               "insufficient_scope",
                                               "permission missing",
                                               &rule->reqs[k]);
                }
            }
        }
    }

    if (alcf->require != NULL) {
        k = authz_reqs_check(alcf->require->elts, alcf->require->nelts,
                             id->perms, id->nperms, &alcf->scope);
        if (k >= 0) {
            return ngx_http_authz_deny(r, alcf, ctx, NGX_HTTP_FORBIDDEN,
                                       "insufficient_scope",
                                       "permission missing",
                                       (authz_req_t *) alcf->require->elts
                                       + k);
        }
    }

    rc = ngx_http_authz_conditions(r, alcf);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_authz_deny(r, alcf, ctx, NGX_HTTP_FORBIDDEN,
                                   "forbidden", "condition not met", NULL);
    }

    ctx->result = NGX_HTTP_AUTHZ_RESULT_ALLOW;
    ctx->allowed = 1;
    ngx_str_null(&ctx->error);
    ngx_str_null(&ctx->reason);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "authz allowed sub:\"%V\" tenant:\"%V\"",
                   &id->sub, &id->tenant);

    return NGX_OK;
}


/* NGX_OK: every condition holds, NGX_DECLINED: one does not */

static ngx_int_t
ngx_http_authz_conditions(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf)
{
    ngx_str_t                  value;
    ngx_uint_t                 i;
    ngx_http_complex_value_t  *cv;

    if (alcf->conditions == NULL) {
        return NGX_OK;
    }

    cv = alcf->conditions->elts;

    for (i = 0; i < alcf->conditions->nelts; i++) {
        if (ngx_http_complex_value(r, &cv[i], &value) != NGX_OK) {
            return NGX_ERROR;
        }

        if (value.len == 0 || (value.len == 1 && value.data[0] == '0')) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static unsigned
ngx_http_authz_method(ngx_http_request_t *r)
{
    switch (r->method) {

    case NGX_HTTP_GET:
        return AUTHZ_METHOD_GET;

    case NGX_HTTP_HEAD:
        return AUTHZ_METHOD_HEAD;

    case NGX_HTTP_POST:
        return AUTHZ_METHOD_POST;

    case NGX_HTTP_PUT:
        return AUTHZ_METHOD_PUT;

    case NGX_HTTP_PATCH:
        return AUTHZ_METHOD_PATCH;

    case NGX_HTTP_DELETE:
        return AUTHZ_METHOD_DELETE;

    case NGX_HTTP_OPTIONS:
        return AUTHZ_METHOD_OPTIONS;

    case NGX_HTTP_TRACE:
        return AUTHZ_METHOD_TRACE;

    case NGX_HTTP_CONNECT:
        return AUTHZ_METHOD_CONNECT;
    }

    return AUTHZ_METHOD_UNKNOWN;
}


