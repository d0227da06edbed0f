/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * The phase handlers: the access handler authenticates (through an
 * evaluation) and authorizes (tenant, service, rules, requirements,
 * conditions) under the configuration of the current location, and
 * records one decision; the identity headers follow that decision.
 */


#include "ngx_http_authz_module.h"


static ngx_int_t ngx_http_authz_anonymous(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval);
static ngx_int_t ngx_http_authz_authorize(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval);
static ngx_int_t ngx_http_authz_check_tenant(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval, authz_bind_t *bind);
static ngx_int_t ngx_http_authz_check_rule(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval, authz_bind_t *bind);
static ngx_int_t ngx_http_authz_find_rule(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval, authz_rule_t **found);
static ngx_int_t ngx_http_authz_conditions(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf);
static ngx_uint_t ngx_http_authz_preflight(ngx_http_request_t *r);
static unsigned ngx_http_authz_method(ngx_http_request_t *r);


ngx_int_t
ngx_http_authz_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_http_authz_ctx_t       *ctx;
    ngx_http_authz_eval_t      *eval;
    ngx_http_authz_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_authz_module);

    if (alcf->mode == NGX_HTTP_AUTHZ_OFF) {
        ctx = ngx_http_authz_get_ctx(r);

        if (ctx != NULL) {
            /* a denial of another location is not this one's answer */
            ctx->deny_status = 0;
        }

        if (ngx_http_authz_headers(r, alcf, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_DECLINED;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "authz access handler");

    /*
     * "authz_bypass_preflight": a CORS preflight carries no credentials
     * (Fetch standard); it passes as an anonymous request, and client
     * identity headers still go
     */

    if (alcf->bypass_preflight && ngx_http_authz_preflight(r)) {
        ctx = ngx_http_authz_create_ctx(r);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_authz_decide(ctx, NULL, NGX_HTTP_AUTHZ_RESULT_ANONYMOUS,
                              NULL, NULL, NULL);

        if (ngx_http_authz_headers(r, alcf, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_DECLINED;
    }

    eval = ngx_http_authz_evaluate(r, alcf, 1);
    ctx = ngx_http_authz_get_ctx(r);

    if (eval == NULL) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        goto failed;
    }

    /* authz_key_request: a fetch to wait for, a refresh, no usable key */

    if (alcf->key_requests != NULL) {
        rc = ngx_http_authz_key_request_access(r, alcf, ctx, eval);

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc != NGX_DECLINED) {
            goto decided;
        }
    }

    switch (eval->state) {

    case NGX_HTTP_AUTHZ_TOKEN_VALID:
        rc = ngx_http_authz_authorize(r, alcf, ctx, eval);
        break;

    case NGX_HTTP_AUTHZ_TOKEN_MISSING:
        if (alcf->mode == NGX_HTTP_AUTHZ_OPTIONAL) {
            rc = ngx_http_authz_anonymous(r, alcf, ctx, eval);
            break;
        }

        rc = ngx_http_authz_deny(r, alcf, ctx, eval, NGX_HTTP_UNAUTHORIZED,
                                 "missing_token", "no token was provided",
                                 NULL);
        break;

    case NGX_HTTP_AUTHZ_TOKEN_INVALID:
        rc = ngx_http_authz_deny(r, alcf, ctx, eval, NGX_HTTP_UNAUTHORIZED,
                                 "invalid_token", authz_strerror(eval->err),
                                 NULL);
        break;

    default: /* NGX_HTTP_AUTHZ_TOKEN_ERROR */
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "authz: token verification failed internally: %s",
                      eval->detail ? eval->detail : "unknown");
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        break;
    }

decided:

    if (rc != NGX_HTTP_INTERNAL_SERVER_ERROR) {

        /* client copies go, and the identity of an allowed request is set */

        if (ngx_http_authz_headers(r, alcf, ctx) == NGX_OK) {
            return rc;
        }

        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

failed:

    /*
     * an internal failure is a denial: an earlier allow must not lend
     * its identity to an error_page location
     */

    if (ctx != NULL) {
        ngx_http_authz_decide(ctx, eval, NGX_HTTP_AUTHZ_RESULT_DENY, NULL,
                              NULL, NULL);
        (void) ngx_http_authz_headers(r, alcf, ctx);
    }

    return rc;
}


/*
 * Runs after every other access handler.  With "satisfy any" a denial
 * of ours is 403 in the access phase, so that another module (allow,
 * auth_basic) may still admit the request; when none did, the final
 * answer is "authz_deny_status 404".
 */

ngx_int_t
ngx_http_authz_access_last_handler(ngx_http_request_t *r)
{
    ngx_http_authz_ctx_t  *ctx;

    if (r->access_code != NGX_HTTP_FORBIDDEN) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_authz_get_ctx(r);

    if (ctx == NULL || ctx->deny_status != NGX_HTTP_NOT_FOUND) {
        return NGX_DECLINED;
    }

    r->access_code = 0;

    return NGX_HTTP_NOT_FOUND;
}


ngx_int_t
ngx_http_authz_precontent_handler(ngx_http_request_t *r)
{
    ngx_http_authz_ctx_t       *ctx;
    ngx_http_authz_loc_conf_t  *alcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_authz_module);
    ctx = ngx_http_authz_get_ctx(r);

    if (ctx != NULL) {
        /*
         * past the access phase: a denial of ours was overruled by
         * "satisfy any", the response is not ours to rewrite
         */

        ctx->json_status = 0;
        ctx->deny_status = 0;

        if (ctx->headers_loc == r->loc_conf) {
            return NGX_DECLINED;
        }
    }

    if (ngx_http_authz_headers(r, alcf, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


/* "authz optional" without a token */

static ngx_int_t
ngx_http_authz_anonymous(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval)
{
    ngx_int_t      rc;
    authz_rule_t  *rule;

    rc = ngx_http_authz_conditions(r, alcf);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_authz_deny(r, alcf, ctx, eval, NGX_HTTP_FORBIDDEN,
                                   "forbidden", "condition not met", NULL);
    }

    rc = ngx_http_authz_find_rule(r, alcf, ctx, eval, &rule);
    if (rc != NGX_OK) {
        return rc;
    }

    if (rule != NULL && !rule->public) {
        goto missing;
    }

    if (alcf->require != NULL || alcf->service.len || alcf->tenant != NULL) {
        goto missing;
    }

    ngx_http_authz_decide(ctx, eval, NGX_HTTP_AUTHZ_RESULT_ANONYMOUS,
                          NULL, NULL, NULL);

    /* an anonymous request is not vouched for: "satisfy any" goes on */

    return NGX_DECLINED;

missing:

    return ngx_http_authz_deny(r, alcf, ctx, eval, NGX_HTTP_UNAUTHORIZED,
                               "missing_token", "no token was provided",
                               NULL);
}


static ngx_int_t
ngx_http_authz_authorize(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval)
{
    ngx_int_t          rc, k;
    authz_bind_t       bind;
    authz_identity_t  *id;

    id = &eval->id;

    ngx_memzero(&bind, sizeof(authz_bind_t));

    bind.tenant = id->tenant;
    bind.sub = id->sub;

    /* the bypass permission is matched exactly: no wildcard grants it */

    if (alcf->tenant_bypass.len) {
        bind.tenant_any = authz_str_in(id->perms, id->nperms,
                                       alcf->tenant_bypass.data,
                                       alcf->tenant_bypass.len);
    }

    rc = ngx_http_authz_check_tenant(r, alcf, ctx, eval, &bind);
    if (rc != NGX_OK) {
        return rc;
    }

    if (alcf->service.len
        && !authz_str_in(id->services, id->nservices, alcf->service.data,
                         alcf->service.len))
    {
        return ngx_http_authz_deny(r, alcf, ctx, eval, NGX_HTTP_FORBIDDEN,
                                   "service_disabled",
                                   id->has_services
                                   ? "service not enabled for the tenant"
                                   : "token has no services claim",
                                   NULL);
    }

    rc = ngx_http_authz_check_rule(r, alcf, ctx, eval, &bind);
    if (rc != NGX_OK) {
        return rc;
    }

    if (alcf->require != NULL) {
        k = authz_reqs_check(alcf->require->elts, alcf->require->nelts,
                             id->perms, id->nperms, &alcf->scope);
        if (k >= 0) {
            return ngx_http_authz_deny(r, alcf, ctx, eval,
                                       NGX_HTTP_FORBIDDEN,
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
        return ngx_http_authz_deny(r, alcf, ctx, eval, NGX_HTTP_FORBIDDEN,
                                   "forbidden", "condition not met", NULL);
    }

    /* authz_revocation_file max_age: fail closed */

    if (ngx_http_authz_revocation_stale(r)) {
        return ngx_http_authz_deny(r, alcf, ctx, eval,
                                   NGX_HTTP_SERVICE_UNAVAILABLE,
                                   "revocation_stale",
                                   "revocation list too old", NULL);
    }

    ngx_http_authz_decide(ctx, eval, NGX_HTTP_AUTHZ_RESULT_ALLOW,
                          NULL, NULL, NULL);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "authz allowed sub:\"%V\" tenant:\"%V\"",
                   &id->sub, &id->tenant);

    return NGX_OK;
}


/*
 * "authz_tenant": the value is computed as the client sent the request
 * (SPEC 10), also after an internal redirect that followed the
 * replacement of the client's identity headers
 */

static ngx_int_t
ngx_http_authz_check_tenant(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval, authz_bind_t *bind)
{
    ngx_str_t  tenant;

    if (alcf->tenant == NULL) {
        return NGX_OK;
    }

    if (ngx_http_authz_client_value(r, ctx, alcf->tenant, &tenant)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (tenant.len == 0) {
        return ngx_http_authz_deny(r, alcf, ctx, eval, NGX_HTTP_FORBIDDEN,
                                   "tenant_mismatch",
                                   "request names no tenant", NULL);
    }

    if (!bind->tenant_any && eval->id.tenant.len == 0) {
        return ngx_http_authz_deny(r, alcf, ctx, eval, NGX_HTTP_FORBIDDEN,
                                   "tenant_mismatch",
                                   "token has no tenant", NULL);
    }

    if (!bind->tenant_any
        && (tenant.len != eval->id.tenant.len
            || ngx_memcmp(tenant.data, eval->id.tenant.data, tenant.len)
               != 0))
    {
        return ngx_http_authz_deny(r, alcf, ctx, eval, NGX_HTTP_FORBIDDEN,
                                   "tenant_mismatch",
                                   "token is for another tenant", NULL);
    }

    return NGX_OK;
}


/*
 * the first rule that matches the method and the path; a "public" rule
 * needs nothing, its bindings included: a token holder is treated at
 * least as well as an anonymous caller
 */

static ngx_int_t
ngx_http_authz_check_rule(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval, authz_bind_t *bind)
{
    ngx_int_t      rc;
    ptrdiff_t      k;
    authz_rule_t  *rule;

    rc = ngx_http_authz_find_rule(r, alcf, ctx, eval, &rule);
    if (rc != NGX_OK) {
        return rc;
    }

    if (rule == NULL || rule->public) {
        return NGX_OK;
    }

    if ((rule->pattern.binds & AUTHZ_BIND_TENANT)
        && !authz_pattern_match(&rule->pattern, r->uri.data, r->uri.len,
                                bind, AUTHZ_BIND_TENANT))
    {
        return ngx_http_authz_deny(r, alcf, ctx, eval, NGX_HTTP_FORBIDDEN,
                                   "tenant_mismatch",
                                   "path names another tenant", NULL);
    }

    if ((rule->pattern.binds & AUTHZ_BIND_SUB)
        && !authz_pattern_match(&rule->pattern, r->uri.data, r->uri.len,
                                bind, AUTHZ_BIND_TENANT|AUTHZ_BIND_SUB))
    {
        return ngx_http_authz_deny(r, alcf, ctx, eval, NGX_HTTP_FORBIDDEN,
                                   "forbidden", "path names another user",
                                   NULL);
    }

    k = authz_reqs_check(rule->reqs, rule->nreqs, eval->id.perms,
                         eval->id.nperms, &alcf->scope);
    if (k >= 0) {
        return ngx_http_authz_deny(r, alcf, ctx, eval, NGX_HTTP_FORBIDDEN,
                                   "insufficient_scope",
                                   "permission missing", &rule->reqs[k]);
    }

    return NGX_OK;
}


/*
 * the rule of the request, for a token holder and an anonymous caller
 * alike: NGX_OK with *found (NULL where the location has no rules or
 * "authz_rules_default allow" lets an unmatched request on), or the
 * status of a denial (a path too long for the table, no rule matched)
 */

static ngx_int_t
ngx_http_authz_find_rule(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval, authz_rule_t **found)
{
    ptrdiff_t      i;
    authz_rule_t  *rule;

    *found = NULL;

    if (alcf->rules == NULL) {
        return NGX_OK;
    }

    /* bounds the work of the table (docs/rules.md) */

    if (authz_path_segments(r->uri.data, r->uri.len)
        > AUTHZ_MAX_PATH_SEGMENTS)
    {
        return ngx_http_authz_deny(r, alcf, ctx, eval, NGX_HTTP_FORBIDDEN,
                                   "forbidden", "path has too many segments",
                                   NULL);
    }

    rule = alcf->rules->elts;
    i = authz_rules_find(rule, alcf->rules->nelts, ngx_http_authz_method(r),
                         r->uri.data, r->uri.len);

    if (i >= 0) {
        *found = &rule[i];
        return NGX_OK;
    }

    if (alcf->rules_default == NGX_HTTP_AUTHZ_DENY) {
        return ngx_http_authz_deny(r, alcf, ctx, eval, NGX_HTTP_FORBIDDEN,
                                   "forbidden", "no rule matched", NULL);
    }

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


/*
 * "OPTIONS" with "Origin" and "Access-Control-Request-Method": a CORS
 * preflight
 */

static ngx_uint_t
ngx_http_authz_preflight(ngx_http_request_t *r)
{
    ngx_uint_t        i, found;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    if (r->method != NGX_HTTP_OPTIONS) {
        return 0;
    }

    found = 0;
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

        if (h[i].hash == 0 || h[i].value.len == 0) {
            continue;
        }

        if (h[i].key.len == sizeof("Origin") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Origin",
                               sizeof("Origin") - 1) == 0)
        {
            found |= 1;

        } else if (h[i].key.len == sizeof("Access-Control-Request-Method") - 1
                   && ngx_strncasecmp(h[i].key.data,
                          (u_char *) "Access-Control-Request-Method",
                          sizeof("Access-Control-Request-Method") - 1) == 0)
        {
            found |= 2;
        }
    }

    return found == 3;
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


