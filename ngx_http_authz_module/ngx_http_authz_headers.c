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


static ngx_int_t ngx_http_authz_strip(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_uint_t drop_auth);
static ngx_uint_t ngx_http_authz_claim_header_in(ngx_array_t *a,
    ngx_table_elt_t *h);
static void ngx_http_authz_take_client(ngx_http_authz_ctx_t *ctx,
    ngx_table_elt_t *h, ngx_uint_t i);
static void ngx_http_authz_invalidate(ngx_http_request_t *r,
    ngx_array_t *claim_headers);
static ngx_int_t ngx_http_authz_identity_add(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx);
static ngx_int_t ngx_http_authz_permissions_value(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_eval_t *eval,
    ngx_str_t *value);
static ngx_int_t ngx_http_authz_header_push(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *lowcase, ngx_uint_t hash, ngx_str_t *value);


/* set, and stripped from clients; in the order of NGX_HTTP_AUTHZ_HEADER_* */

static ngx_http_authz_header_t  ngx_http_authz_identity_headers[] = {
    { ngx_string("X-User-Id"), ngx_string("x-user-id"), 0 },
    { ngx_string("X-Tenant-Id"), ngx_string("x-tenant-id"), 0 },
    { ngx_string("X-User-Permissions"), ngx_string("x-user-permissions"), 0 },
    { ngx_string("X-User-Services"), ngx_string("x-user-services"), 0 },
    { ngx_null_string, ngx_null_string, 0 }
};


static ngx_str_t  ngx_http_authz_header_var_names[] = {
    ngx_string("http_x_user_id"),
    ngx_string("http_x_tenant_id"),
    ngx_string("http_x_user_permissions"),
    ngx_string("http_x_user_services"),
    ngx_string("http_authorization")
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


/*
 * postconfiguration: $http_x_user_id and the others are indexed, so
 * that a value nginx cached before the module changed the header list
 * (limit_req_zone reads in preaccess) can be forgotten
 */

ngx_int_t
ngx_http_authz_header_vars(ngx_conf_t *cf, ngx_http_authz_main_conf_t *amcf)
{
    ngx_uint_t  i;

    for (i = 0; i <= NGX_HTTP_AUTHZ_HEADERS; i++) {
        amcf->header_vars[i] = ngx_http_get_variable_index(cf,
                                         &ngx_http_authz_header_var_names[i]);

        if (amcf->header_vars[i] == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * removes every client copy of the identity headers (and, with
 * "authz_forward_token off", of Authorization) from the request, then
 * sets them from the evaluation the last decision allowed; idempotent,
 * so that internal redirects run it again
 */

ngx_int_t
ngx_http_authz_headers(ngx_http_request_t *r, ngx_http_authz_loc_conf_t *alcf,
    ngx_http_authz_ctx_t *ctx)
{
    ngx_uint_t  add, drop_auth;

    if (r != r->main) {
        return NGX_OK;
    }

    /*
     * the identity of the last allow, where this location and the one
     * that allowed both forward it
     */

    add = (ctx != NULL && ctx->result == NGX_HTTP_AUTHZ_RESULT_ALLOW
           && alcf->forward && ctx->decided->conf->forward);

    /*
     * a Bearer credential the upstream is not to see: with
     * "authz_forward_token off", and where the token comes from another
     * source ("authz_token"), so that an unverified token never travels
     * beside a verified identity
     */

    drop_auth = (alcf->mode != NGX_HTTP_AUTHZ_OFF
                 && (!alcf->forward_token || alcf->token != NULL));

    if (ctx != NULL) {
        ctx->headers_loc = r->loc_conf;
    }

    /* the module's own headers of an earlier location go as well */

    if (!alcf->strip_headers && !add && !drop_auth
        && alcf->claim_strip == NULL && (ctx == NULL || !ctx->added))
    {
        return NGX_OK;
    }

    if (ngx_http_authz_strip(r, alcf, ctx, drop_auth) != NGX_OK) {
        return NGX_ERROR;
    }

    /* $http_x_user_id and the others read the list as it is now */

    ngx_http_authz_invalidate(r, alcf->claim_strip);

    if (ctx != NULL && ctx->claim_added != NULL) {
        ngx_http_authz_invalidate(r, ctx->claim_added);
        ctx->claim_added = NULL;
    }

    if (ctx != NULL) {
        ctx->added = 0;
    }

    if (add) {
        if (ngx_http_authz_identity_add(r, alcf, ctx) != NGX_OK) {
            return NGX_ERROR;
        }

        ctx->added = 1;
        ctx->claim_added = alcf->claim_headers;
    }

    return NGX_OK;
}


/* the identity of ctx->decided, and each "authz_claim_header" */

static ngx_int_t
ngx_http_authz_identity_add(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx)
{
    ngx_str_t                       value, *v;
    ngx_uint_t                      j;
    ngx_http_authz_eval_t          *eval;
    ngx_http_authz_header_t        *ih;
    ngx_http_authz_claim_header_t  *ch;

    eval = ctx->decided;

    for (j = 0; j < NGX_HTTP_AUTHZ_HEADERS; j++) {
        switch (j) {

        case NGX_HTTP_AUTHZ_HEADER_SUB:
            v = (ngx_str_t *) &eval->id.sub;
            break;

        case NGX_HTTP_AUTHZ_HEADER_TENANT:
            v = (ngx_str_t *) &eval->id.tenant;
            break;

        case NGX_HTTP_AUTHZ_HEADER_PERMISSIONS:
            if (ngx_http_authz_permissions_value(r, alcf, eval, &value)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            v = &value;

            /* SPEC 6: common upstream limits are 8 KB a header line */

            if (value.len > NGX_HTTP_AUTHZ_PERMISSIONS_WARN
                && !ctx->permissions_warned)
            {
                ctx->permissions_warned = 1;
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "authz: X-User-Permissions is %uz bytes, "
                              "more than %d; see authz_forward_permissions",
                              value.len, NGX_HTTP_AUTHZ_PERMISSIONS_WARN);
            }

            break;

        default: /* NGX_HTTP_AUTHZ_HEADER_SERVICES */
            v = &eval->services;
            break;
        }

        ih = &ngx_http_authz_identity_headers[j];

        if (ngx_http_authz_header_push(r, &ih->name, &ih->lowcase, ih->hash,
                                       v)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (alcf->claim_headers == NULL) {
        return NGX_OK;
    }

    ch = alcf->claim_headers->elts;

    for (j = 0; j < alcf->claim_headers->nelts; j++) {
        if (ngx_http_authz_claim_value(r,
                                       ngx_http_authz_eval_payload(r, eval),
                                       &ch[j].claim,
                                       &value)
            != NGX_OK
            || ngx_http_authz_header_push(r, &ch[j].name, &ch[j].lowcase,
                                          ch[j].hash, &value)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * "authz_forward_permissions service": the permissions of the
 * location's authz_service ("blog:..."), and "*" where it is a wildcard;
 * none where the location names no service
 */

static ngx_int_t
ngx_http_authz_permissions_value(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_eval_t *eval,
    ngx_str_t *value)
{
    u_char       *p;
    size_t        i;
    ngx_str_t    *svc;
    authz_str_t  *perm;

    if (alcf->forward_permissions == NGX_HTTP_AUTHZ_FORWARD_ALL) {
        *value = eval->permissions;
        return NGX_OK;
    }

    ngx_str_set(value, "");

    svc = &alcf->service;

    if (svc->len == 0 || eval->permissions.len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, eval->permissions.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value->data = p;

    for (i = 0; i < eval->id.nperms; i++) {
        perm = &eval->id.perms[i];

        if ((perm->len > svc->len && perm->data[svc->len] == ':'
             && ngx_strncmp(perm->data, svc->data, svc->len) == 0)
            || (perm->len == 1 && perm->data[0] == '*' && alcf->wildcards))
        {
            if (p != value->data) {
                *p++ = ',';
            }

            p = ngx_cpymem(p, perm->data, perm->len);
        }
    }

    value->len = p - value->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_strip(ngx_http_request_t *r, ngx_http_authz_loc_conf_t *alcf,
    ngx_http_authz_ctx_t *ctx, ngx_uint_t drop_auth)
{
    ngx_uint_t                i, n, found, auth;
    ngx_list_t                headers;
    ngx_list_part_t          *part;
    ngx_table_elt_t          *h, *nh;

    found = 0;
    auth = 0;
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

        if (drop_auth
            && h[i].key.len == sizeof("Authorization") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Authorization",
                               sizeof("Authorization") - 1) == 0
            && authz_bearer_scheme(h[i].value.data, h[i].value.len))
        {
            if (ctx == NULL) {
                ctx = ngx_http_authz_create_ctx(r);
                if (ctx == NULL) {
                    return NGX_ERROR;
                }
            }

            if (!ctx->auth_removed) {
                /* the token source still reads what the client sent */
                ctx->authorization = h[i].value;
                ctx->nauthorization++;
            }

            auth++;
            h[i].hash = (ngx_uint_t) -1;
            found++;
            continue;
        }

        /*
         * "authz_claim_header" names of this level and the enclosing
         * ones, and those set by an earlier location
         */

        if (ngx_http_authz_claim_header_in(alcf->claim_strip, &h[i])
            || (ctx != NULL
                && ngx_http_authz_claim_header_in(ctx->claim_added, &h[i])))
        {
            h[i].hash = (ngx_uint_t) -1;
            found++;
            continue;
        }

        for (n = 0; n < NGX_HTTP_AUTHZ_HEADERS; n++) {
            if (authz_header_name_eq(h[i].key.data, h[i].key.len,
                    ngx_http_authz_identity_headers[n].name.data,
                    ngx_http_authz_identity_headers[n].name.len))
            {
                if (ctx == NULL) {
                    ctx = ngx_http_authz_create_ctx(r);
                    if (ctx == NULL) {
                        return NGX_ERROR;
                    }
                }

                ngx_http_authz_take_client(ctx, &h[i], n);

                /* marks the copy for removal below */
                h[i].hash = (ngx_uint_t) -1;
                found++;
                break;
            }
        }
    }

    if (ctx != NULL) {
        ctx->client_taken = 1;
    }

    if (auth) {
        ctx->auth_removed = 1;
        r->headers_in.authorization = NULL;
    }

    if (found == 0) {
        return NGX_OK;
    }

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

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "authz removed %ui request headers", found);

    return NGX_OK;
}


/*
 * the first copy the client sent of an identity header, as nginx's
 * $http_x_tenant_id shows it (names that differ in case, "-" or "_"),
 * kept before the module first changes the list
 */

static void
ngx_http_authz_take_client(ngx_http_authz_ctx_t *ctx, ngx_table_elt_t *h,
    ngx_uint_t i)
{
    u_char      c;
    ngx_uint_t  k;

    if (ctx->client_taken || ctx->client[i].data != NULL) {
        return;
    }

    for (k = 0; k < h->key.len; k++) {
        c = h->key.data[k];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            return;
        }
    }

    ctx->client[i] = h->value;

    if (ctx->client[i].data == NULL) {
        ngx_str_set(&ctx->client[i], "");
    }
}


static ngx_uint_t
ngx_http_authz_claim_header_in(ngx_array_t *a, ngx_table_elt_t *h)
{
    ngx_uint_t                      i;
    ngx_http_authz_claim_header_t  *ch;

    if (a == NULL) {
        return 0;
    }

    ch = a->elts;

    for (i = 0; i < a->nelts; i++) {
        if (authz_header_name_eq(h->key.data, h->key.len, ch[i].name.data,
                                 ch[i].name.len))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * $http_x_user_id and the others, and $http_NAME of each claim header:
 * a value nginx cached before the list changed is forgotten
 */

static void
ngx_http_authz_invalidate(ngx_http_request_t *r, ngx_array_t *claim_headers)
{
    ngx_uint_t                      i;
    ngx_http_variable_value_t      *v;
    ngx_http_authz_main_conf_t     *amcf;
    ngx_http_authz_claim_header_t  *ch;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_authz_module);

    for (i = 0; i <= NGX_HTTP_AUTHZ_HEADERS; i++) {
        v = &r->variables[amcf->header_vars[i]];
        v->valid = 0;
        v->not_found = 0;
    }

    if (claim_headers == NULL) {
        return;
    }

    ch = claim_headers->elts;

    for (i = 0; i < claim_headers->nelts; i++) {
        v = &r->variables[ch[i].var];
        v->valid = 0;
        v->not_found = 0;
    }
}


/*
 * a complex value ("authz_tenant $http_x_tenant_id") computed with the
 * identity header variables showing what the client sent
 */

ngx_int_t
ngx_http_authz_client_value(ngx_http_request_t *r, ngx_http_authz_ctx_t *ctx,
    ngx_http_complex_value_t *cv, ngx_str_t *value)
{
    ngx_int_t                    rc;
    ngx_uint_t                   i;
    ngx_http_variable_value_t   *v;
    ngx_http_authz_main_conf_t  *amcf;

    if (ctx == NULL || !ctx->client_taken) {
        /* the list is still the client's */
        return ngx_http_complex_value(r, cv, value);
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_authz_module);

    for (i = 0; i < NGX_HTTP_AUTHZ_HEADERS; i++) {
        v = &r->variables[amcf->header_vars[i]];

        v->data = ctx->client[i].data;
        v->len = ctx->client[i].len;
        v->valid = 1;
        v->no_cacheable = 0;
        v->not_found = (ctx->client[i].data == NULL);
    }

    rc = ngx_http_complex_value(r, cv, value);

    ngx_http_authz_invalidate(r, NULL);

    return rc;
}


static ngx_int_t
ngx_http_authz_header_push(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *lowcase, ngx_uint_t hash, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->key = *name;
    h->lowcase_key = lowcase->data;
    h->hash = hash;
    h->value.data = value->data ? value->data : (u_char *) "";
    h->value.len = value->len;

    return NGX_OK;
}
