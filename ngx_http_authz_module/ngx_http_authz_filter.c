/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * Denials: the one place where a reason becomes a status, a log line,
 * a WWW-Authenticate header and, where no error_page makes one, a JSON
 * body.
 */


#include "ngx_http_authz_module.h"


static ngx_int_t ngx_http_authz_www_authenticate(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, const char *error,
    const char *description, const authz_req_t *req);
static ngx_int_t ngx_http_authz_log_value(ngx_http_request_t *r,
    ngx_str_t *value, ngx_str_t *out);
static ngx_int_t ngx_http_authz_log_refused(ngx_http_request_t *r,
    ngx_http_authz_eval_t *eval, ngx_str_t *out);
static ngx_uint_t ngx_http_authz_error_page(ngx_http_request_t *r,
    ngx_uint_t status);
static ngx_int_t ngx_http_authz_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_authz_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


/* the one place where a denial becomes a status, a header and a log line */

ngx_int_t
ngx_http_authz_deny(ngx_http_request_t *r, ngx_http_authz_loc_conf_t *alcf,
    ngx_http_authz_ctx_t *ctx, ngx_http_authz_eval_t *eval, ngx_uint_t status,
    const char *error, const char *reason, const authz_req_t *req)
{
    u_char                    *p;
    size_t                     len;
    ngx_str_t                  none = ngx_string("-");
    ngx_str_t                  kid, alg, extra, esub, etenant;
    ngx_str_t                 *sub, *tenant;
    ngx_uint_t                 invalid;
    ngx_http_core_loc_conf_t  *clcf;

    ngx_http_authz_decide(ctx, eval, NGX_HTTP_AUTHZ_RESULT_DENY, error,
                          reason, req);

    /*
     * verified values, but a provider may let users choose them: a '"'
     * must not end the field (printable ASCII otherwise, SPEC 6)
     */

    if (ngx_http_authz_log_escaped(r, (ngx_str_t *) &eval->id.sub, &esub)
        != NGX_OK
        || ngx_http_authz_log_escaped(r, (ngx_str_t *) &eval->id.tenant,
                                      &etenant)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sub = esub.len ? &esub : &none;
    tenant = etenant.len ? &etenant : &none;
    invalid = (eval->state == NGX_HTTP_AUTHZ_TOKEN_INVALID);

    if (status == NGX_HTTP_UNAUTHORIZED) {

        if (invalid && eval->err == AUTHZ_ERR_REVOKED) {
            ngx_http_authz_revocation_log(r, eval);

        } else if (invalid) {
            if (ngx_http_authz_log_value(r, &eval->kid, &kid) != NGX_OK
                || ngx_http_authz_log_value(r, eval->bad_alg.len
                                               ? &eval->bad_alg : &eval->alg,
                                            &alg)
                   != NGX_OK
                || ngx_http_authz_log_refused(r, eval, &extra) != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_log_error(alcf->log_level, r->connection->log, 0,
                          "authz: invalid token: %s (%s), kid: \"%V\", "
                          "alg: \"%V\"%V",
                          reason, eval->detail ? eval->detail : "-",
                          kid.len ? &kid : &none, alg.len ? &alg : &none,
                          &extra);

        } else {
            ngx_log_error(alcf->log_level, r->connection->log, 0,
                          "authz: no token was provided");
        }

        /* RFC 6750 3.1: no error code when no token was presented */

        if (ngx_http_authz_www_authenticate(r, alcf, invalid ? error : NULL,
                                            invalid ? reason : NULL, NULL)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        ngx_log_error(alcf->log_level, r->connection->log, 0,
                      "authz: service unavailable: %s (%s), sub: \"%V\", "
                      "tenant: \"%V\"", error, reason, sub, tenant);

    } else {
        ngx_log_error(alcf->log_level, r->connection->log, 0,
                      "authz: access forbidden: %s (%s), sub: \"%V\", "
                      "tenant: \"%V\", requirement: \"%V\"",
                      error, reason, sub, tenant,
                      ctx->scope.len ? &ctx->scope : &none);

        if (alcf->deny_status == NGX_HTTP_NOT_FOUND) {

            /*
             * 404 answers exactly as a missing resource does; with
             * "satisfy any" it stays 403 in the access phase, so that
             * another module may still admit the request, and becomes
             * 404 when it is the final answer
             */

            clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

            if (clcf->satisfy != NGX_HTTP_SATISFY_ANY) {
                return NGX_HTTP_NOT_FOUND;
            }

            ctx->deny_status = NGX_HTTP_NOT_FOUND;

            return NGX_HTTP_FORBIDDEN;
        }

        if (req != NULL
            && ngx_http_authz_www_authenticate(r, alcf, error, NULL, req)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_authz_error_page(r, status)) {
        return status;
    }

    len = sizeof("{\"error\":\"\",\"error_description\":\"\"}") - 1
          + ngx_strlen(error) + ngx_strlen(reason);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->json.data = p;
    ctx->json.len = ngx_sprintf(p, "{\"error\":\"%s\",\"error_description\":"
                                "\"%s\"}", error, reason) - p;
    ctx->json_status = status;

    return status;
}


/*
 * a value chosen by the client ("kid") for the log line: at most 64
 * bytes, '"', '\\' and control bytes escaped, so that it cannot end
 * its field and forge others
 */

#define NGX_HTTP_AUTHZ_LOG_VALUE  64


/* a verified value ("sub", the tenant) for the log line: escaped, whole */

ngx_int_t
ngx_http_authz_log_escaped(ngx_http_request_t *r, ngx_str_t *value,
    ngx_str_t *out)
{
    uintptr_t  n;

    n = (value->len == 0) ? 0 : ngx_escape_json(NULL, value->data,
                                                value->len);

    if (n == 0) {
        *out = *value;
        return NGX_OK;
    }

    out->data = ngx_pnalloc(r->pool, value->len + n);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = (u_char *) ngx_escape_json(out->data, value->data, value->len)
               - out->data;

    return NGX_OK;
}

static ngx_int_t
ngx_http_authz_log_value(ngx_http_request_t *r, ngx_str_t *value,
    ngx_str_t *out)
{
    size_t  len;

    len = ngx_min(value->len, NGX_HTTP_AUTHZ_LOG_VALUE);

    out->data = ngx_pnalloc(r->pool,
                            len + ngx_escape_json(NULL, value->data, len));
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = (u_char *) ngx_escape_json(out->data, value->data, len)
               - out->data;

    return NGX_OK;
}


/*
 * for a token refused by its "typ", "iss" or "aud", or by the shape
 * of a claim: ", iss: \"...\" expected \"...\"" (SPEC 5); these values
 * are not secret, and they are what an operator needs to see
 */

static ngx_int_t
ngx_http_authz_log_refused(ngx_http_request_t *r,
    ngx_http_authz_eval_t *eval, ngx_str_t *out)
{
    u_char                     *p;
    ngx_str_t                   value, want, expected, raw;
    const char                 *name;
    authz_json_t               *v;
    ngx_http_authz_loc_conf_t  *alcf;

    ngx_str_set(out, "");
    ngx_str_null(&raw);
    ngx_str_null(&expected);

    alcf = eval->conf;

    switch (eval->err) {

    case AUTHZ_ERR_TYP:
        name = "typ";
        raw = eval->typ;

        if (alcf->types != NULL) {
            expected = *(ngx_str_t *) alcf->types->elts;
        }

        break;

    case AUTHZ_ERR_ISSUER:
    case AUTHZ_ERR_AUDIENCE:
        if (eval->err == AUTHZ_ERR_ISSUER) {
            name = "iss";

            if (alcf->issuers != NULL) {
                expected = *(ngx_str_t *) alcf->issuers->elts;
            }

        } else {
            name = "aud";

            if (alcf->audiences != NULL) {
                expected = *(ngx_str_t *) alcf->audiences->elts;
            }
        }

        v = (eval->payload != NULL) ? authz_json_get(eval->payload, name)
                                    : NULL;

        if (authz_json_is_string(v)) {
            raw.data = (u_char *) authz_json_string(v);
            raw.len = authz_json_string_length(v);

        } else if (v != NULL) {
            raw.len = authz_json_dump(v, 0, NULL);

            raw.data = ngx_pnalloc(r->pool, raw.len);
            if (raw.data == NULL) {
                return NGX_ERROR;
            }

            (void) authz_json_dump(v, 0, raw.data);
        }

        break;

    case AUTHZ_ERR_CLAIM:
        name = "claim";
        raw = eval->bad_claim;
        break;

    default:
        return NGX_OK;
    }

    if (ngx_http_authz_log_value(r, &raw, &value) != NGX_OK
        || ngx_http_authz_log_value(r, &expected, &want) != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, sizeof(", : \"\" expected \"\"") - 1
                             + ngx_strlen(name) + value.len + want.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    p = ngx_sprintf(p, ", %s: \"%V\"", name, &value);

    if (want.len) {
        p = ngx_sprintf(p, " expected \"%V\"", &want);
    }

    out->len = p - out->data;

    return NGX_OK;
}


/*
 * whether nginx will answer status with an error_page of the location:
 * the test of ngx_http_special_response_handler(), so that a chained
 * error_page without "recursive_error_pages" gets the JSON body
 */

static ngx_uint_t
ngx_http_authz_error_page(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_uint_t                 i;
    ngx_http_err_page_t       *err_page;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (r->error_page || clcf->error_pages == NULL || r->uri_changes == 0) {
        return 0;
    }

    err_page = clcf->error_pages->elts;

    for (i = 0; i < clcf->error_pages->nelts; i++) {
        if (err_page[i].status == (ngx_int_t) status) {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_authz_www_authenticate(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, const char *error,
    const char *description, const authz_req_t *req)
{
    u_char           *p;
    size_t            len;
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    len = sizeof("Bearer realm=\"\"") - 1 + alcf->realm.len;

    if (error != NULL) {
        len += sizeof(", error=\"\"") - 1 + ngx_strlen(error);
    }

    if (description != NULL) {
        len += sizeof(", error_description=\"\"") - 1
               + ngx_strlen(description);
    }

    if (req != NULL) {
        len += sizeof(", scope=\"\"") - 1 + req->text.len;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = r->headers_out.www_authenticate;

    if (h == NULL) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        r->headers_out.www_authenticate = h;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value.data = p;

    p = ngx_sprintf(p, "Bearer realm=\"%V\"", &alcf->realm);

    if (error != NULL) {
        p = ngx_sprintf(p, ", error=\"%s\"", error);
    }

    if (description != NULL) {
        p = ngx_sprintf(p, ", error_description=\"%s\"", description);
    }

    if (req != NULL) {
        /* RFC 6750 3: scope is a space-delimited list: every alternative */

        p = ngx_cpymem(p, ", scope=\"", sizeof(", scope=\"") - 1);

        for (i = 0; i < req->nalts; i++) {
            if (i) {
                *p++ = ' ';
            }

            p = ngx_cpymem(p, req->alts[i].data, req->alts[i].len);
        }

        *p++ = '"';
    }

    h->value.len = p - h->value.data;

    return NGX_OK;
}


/*
 * the JSON body: nginx's own error page is replaced on its way out,
 * so that "satisfy", "auth_delay" and keepalive handling stay nginx's
 */

ngx_int_t
ngx_http_authz_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_authz_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_authz_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_header_filter(ngx_http_request_t *r)
{
    ngx_http_authz_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_authz_module);

    if (ctx == NULL || ctx->json_status == 0
        || r->headers_out.status != ctx->json_status)
    {
        return ngx_http_next_header_filter(r);
    }

    ctx->json_status = 0;
    ctx->json_body = 1;

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    ngx_str_null(&r->headers_out.charset);

    r->headers_out.content_length_n = ctx->json.len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_authz_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t             *b;
    ngx_uint_t             last;
    ngx_chain_t           *cl, out;
    ngx_http_authz_ctx_t  *ctx;

    if (in == NULL || r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_authz_module);

    if (ctx == NULL || !ctx->json_body) {
        return ngx_http_next_body_filter(r, in);
    }

    /* nginx's HTML error page is consumed, not sent */

    last = 0;

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;

        if (cl->buf->last_buf || cl->buf->last_in_chain) {
            last = 1;
        }
    }

    if (!last) {
        return NGX_OK;
    }

    ctx->json_body = 0;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = ctx->json.data;
    b->last = ctx->json.data + ctx->json.len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}
