/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * Identity headers: every client copy of X-User-Id, X-Tenant-Id,
 * X-User-Permissions and X-User-Services is removed from the request,
 * and the verified values are set for the upstream.
 */


#include "ngx_http_authz_module.h"


typedef struct {
    ngx_str_t                  name;
    ngx_str_t                  lowcase;
    ngx_uint_t                 hash;      /* of lowcase, set at start */
} ngx_http_authz_header_t;


static ngx_uint_t ngx_http_authz_name_eq(ngx_str_t *key, ngx_str_t *name);
static ngx_int_t ngx_http_authz_header_add(ngx_http_request_t *r,
    ngx_uint_t i, ngx_str_t *value);


/* set, and stripped from clients; the order of ngx_http_authz_headers() */

static ngx_http_authz_header_t  ngx_http_authz_identity_headers[] = {
    { ngx_string("X-User-Id"), ngx_string("x-user-id"), 0 },
    { ngx_string("X-Tenant-Id"), ngx_string("x-tenant-id"), 0 },
    { ngx_string("X-User-Permissions"), ngx_string("x-user-permissions"), 0 },
    { ngx_string("X-User-Services"), ngx_string("x-user-services"), 0 },
    { ngx_null_string, ngx_null_string, 0 }
};


/* postconfiguration: the request path only reads the table */

void
ngx_http_authz_headers_init(void)
{
    ngx_http_authz_header_t  *ih;

    for (ih = ngx_http_authz_identity_headers; ih->name.len; ih++) {
        ih->hash = ngx_hash_key(ih->lowcase.data, ih->lowcase.len);
    }
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

        if (ctx->headers_loc == r->loc_conf) {
            return NGX_DECLINED;
        }
    }

    if (ngx_http_authz_headers(r, alcf, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


/*
 * removes every copy of the identity headers (and, with
 * "authz_forward_token off", of Authorization) from the request, then
 * sets them from the verified token; idempotent, so that internal
 * redirects may run it again
 */

ngx_int_t
ngx_http_authz_headers(ngx_http_request_t *r, ngx_http_authz_loc_conf_t *alcf,
    ngx_http_authz_ctx_t *ctx)
{
    ngx_uint_t                i, j, found, add, drop_auth;
    ngx_str_t                 authorization = ngx_string("Authorization");
    ngx_list_t                headers;
    ngx_list_part_t          *part;
    ngx_table_elt_t          *h, *nh;
    ngx_http_authz_header_t  *ih;

    if (r != r->main) {
        return NGX_OK;
    }

    add = (ctx != NULL && ctx->allowed && alcf->forward);
    drop_auth = (alcf->mode != NGX_HTTP_AUTHZ_OFF && !alcf->forward_token);

    if (ctx != NULL) {
        ctx->headers_loc = r->loc_conf;
    }

    if (!alcf->strip_headers && !add && !drop_auth) {
        return NGX_OK;
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

        if (drop_auth && ngx_http_authz_name_eq(&h[i].key, &authorization)) {
            h[i].hash = (ngx_uint_t) -1;
            found++;
            continue;
        }

        for (ih = ngx_http_authz_identity_headers; ih->name.len; ih++) {
            if (ngx_http_authz_name_eq(&h[i].key, &ih->name)) {
                /* marks the copy for removal below */
                h[i].hash = (ngx_uint_t) -1;
                found++;
                break;
            }
        }
    }

    if (found) {
        if (ngx_list_init(&headers, r->pool, 20, sizeof(ngx_table_elt_t))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

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

            if (h[i].hash == (ngx_uint_t) -1) {
                continue;
            }

            nh = ngx_list_push(&headers);
            if (nh == NULL) {
                return NGX_ERROR;
            }

            *nh = h[i];
        }

        /* the list head moves: "last" must not point into this frame */

        r->headers_in.headers = headers;

        if (headers.last == &headers.part) {
            r->headers_in.headers.last = &r->headers_in.headers.part;
        }

        if (drop_auth) {
            r->headers_in.authorization = NULL;

            /* an internal redirect still finds the token in the context */

            if (ctx != NULL) {
                ctx->auth_removed = 1;
            }
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "authz removed %ui request headers", found);
    }

    if (!add) {
        return NGX_OK;
    }

    for (j = 0; j < 4; j++) {
        if (ngx_http_authz_header_add(r, j,
                j == 0 ? (ngx_str_t *) &ctx->id.sub
                : j == 1 ? (ngx_str_t *) &ctx->id.tenant
                : j == 2 ? &ctx->permissions : &ctx->services)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * header names compared as CGI, FastCGI and WSGI see them: any case,
 * and "_" for "-" (a client may send "X_User_Id" where
 * underscores_in_headers is on)
 */

static ngx_uint_t
ngx_http_authz_name_eq(ngx_str_t *key, ngx_str_t *name)
{
    u_char      c1, c2;
    ngx_uint_t  i;

    if (key->len != name->len) {
        return 0;
    }

    for (i = 0; i < key->len; i++) {
        c1 = ngx_tolower(key->data[i]);
        c2 = ngx_tolower(name->data[i]);

        if (c1 == '_') {
            c1 = '-';
        }

        if (c1 != c2) {
            return 0;
        }
    }

    return 1;
}


static ngx_int_t
ngx_http_authz_header_add(ngx_http_request_t *r, ngx_uint_t i,
    ngx_str_t *value)
{
    ngx_table_elt_t          *h;
    ngx_http_authz_header_t  *ih;

    ih = &ngx_http_authz_identity_headers[i];

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->key = ih->name;
    h->lowcase_key = ih->lowcase.data;
    h->hash = ih->hash;
    h->value.data = value->data ? value->data : (u_char *) "";
    h->value.len = value->len;

    return NGX_OK;
}
