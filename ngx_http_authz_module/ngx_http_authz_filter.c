/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * The JSON body of a denial, where no error_page makes one.
 */


#include "ngx_http_authz_module.h"


static ngx_int_t ngx_http_authz_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_authz_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


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
