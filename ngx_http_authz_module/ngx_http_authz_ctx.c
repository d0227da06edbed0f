/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * The request state: one context per request, kept across internal
 * redirects, holding the evaluations of the request (newest first),
 * the last decision and the client's own headers.  Everything else
 * reads and writes the context through these functions.
 */


#include "ngx_http_authz_module.h"


static void ngx_http_authz_ctx_cleanup(void *data);


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
        if (cln->handler == ngx_http_authz_ctx_cleanup) {
            ctx = cln->data;
            ngx_http_set_ctx(r->main, ctx, ngx_http_authz_module);
            return ctx;
        }
    }

    return NULL;
}


ngx_http_authz_ctx_t *
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

    cln->handler = ngx_http_authz_ctx_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r->main, ctx, ngx_http_authz_module);

    return ctx;
}


/* a marker only: each evaluation releases its own payload */

static void
ngx_http_authz_ctx_cleanup(void *data)
{
}


/* the evaluation of exactly these token bytes under this configuration */

ngx_http_authz_eval_t *
ngx_http_authz_find_eval(ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_loc_conf_t *alcf, ngx_uint_t state, ngx_str_t *token)
{
    ngx_http_authz_eval_t  *e;

    for (e = ctx->evals; e; e = e->next) {
        if (e->conf != alcf || e->token.len != token->len) {
            continue;
        }

        /* the header that is missing or malformed: no bytes to compare */

        if (token->len == 0) {
            if (e->state == state) {
                return e;
            }

            continue;
        }

        if (ngx_memcmp(e->token.data, token->data, token->len) == 0) {
            return e;
        }
    }

    return NULL;
}


/*
 * The one trust decision: the fingerprint of a key whose signature
 * check passed on exactly these bytes in an earlier evaluation of this
 * request.  authz_token_verify() accepts it only from a candidate key
 * of the current location that has that very fingerprint: a key this
 * location trusts, for these bytes.
 */

const u_char *
ngx_http_authz_verified_before(ngx_http_authz_ctx_t *ctx, ngx_str_t *token,
    ngx_uint_t *cache)
{
    ngx_http_authz_eval_t  *e;

    for (e = ctx->evals; e; e = e->next) {
        if (e->verified
            && e->token.len == token->len
            && ngx_memcmp(e->token.data, token->data, token->len) == 0)
        {
            *cache = e->cache;
            return e->fingerprint;
        }
    }

    return NULL;
}


/* the decision of the access phase, replaced whole */

void
ngx_http_authz_decide(ngx_http_authz_ctx_t *ctx, ngx_http_authz_eval_t *eval,
    ngx_uint_t result, const char *error, const char *reason,
    const authz_req_t *req)
{
    ctx->decided = eval;
    ctx->result = result;

    ngx_str_null(&ctx->error);
    ngx_str_null(&ctx->reason);
    ngx_str_null(&ctx->scope);
    ngx_str_null(&ctx->json);
    ctx->json_status = 0;
    ctx->deny_status = 0;

    if (error != NULL) {
        ctx->error.data = (u_char *) error;
        ctx->error.len = ngx_strlen(error);
    }

    if (reason != NULL) {
        ctx->reason.data = (u_char *) reason;
        ctx->reason.len = ngx_strlen(reason);
    }

    if (req != NULL) {
        ctx->scope.data = (u_char *) req->text.data;
        ctx->scope.len = req->text.len;
    }
}
