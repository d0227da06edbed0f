/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * authz_key_request: the directive and the request path.  A request
 * verifies with the location's file keys and the imported keys of its
 * usable fetched sets; a request that needs a set (cold, or an unknown
 * kid outside kid_refresh) fetches it by subrequest when it takes the
 * set's owner word, or waits for the fetch in flight, up to "wait".
 * The state of a fetch or of a wait lives in the request, never in the
 * configuration.
 */


#include "ngx_http_authz_key_set.h"


/* a request that waits for keys */

struct ngx_http_authz_key_wait_s {
    ngx_http_request_t             *r;
    ngx_http_authz_loc_conf_t      *alcf;
    ngx_event_t                     event;
    ngx_msec_t                      deadline;
    ngx_uint_t                      stamp;
    ngx_uint_t                      expired;
    ngx_uint_t                      pending;  /* its waited fetches */
};


static ngx_int_t ngx_http_authz_key_fetch(ngx_http_request_t *r,
    ngx_http_authz_key_request_t *kr, ngx_http_authz_key_wait_t *w);
static ngx_http_core_loc_conf_t *ngx_http_authz_key_location(
    ngx_http_location_tree_node_t *node, ngx_str_t *uri);
static ngx_int_t ngx_http_authz_key_fetch_headers(ngx_http_request_t *r,
    ngx_http_request_t *sr);
static void ngx_http_authz_key_fetch_cleanup(void *data);
static ngx_int_t ngx_http_authz_key_wait(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx);
static ngx_uint_t ngx_http_authz_key_stamp(ngx_http_authz_loc_conf_t *alcf);
static void ngx_http_authz_key_wait_handler(ngx_event_t *ev);
static void ngx_http_authz_key_wait_cleanup(void *data);
static ngx_int_t ngx_http_authz_key_unavailable(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval, ngx_msec_t retry_in);


/*
 * authz_key_request URI [issuer=ISS] [refresh=10m] [max_stale=24h]
 *                       [kid_refresh=30s] [wait=5s] [max_size=64k]
 */

char *
ngx_http_authz_key_request(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_authz_loc_conf_t *alcf = conf;

    time_t                         t;
    ssize_t                        size;
    ngx_str_t                     *value, s;
    ngx_msec_t                     ms;
    ngx_uint_t                     i;
    ngx_http_authz_key_request_t  *kr, **pkr;
    ngx_http_authz_main_conf_t    *amcf;

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] != '/'
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, '$')
           != NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URI \"%V\": a constant URI of a location "
                           "of the server is expected", &value[1]);
        return NGX_CONF_ERROR;
    }

    kr = ngx_pcalloc(cf->pool, sizeof(ngx_http_authz_key_request_t));
    if (kr == NULL) {
        return NGX_CONF_ERROR;
    }

    kr->uri = value[1];
    kr->refresh = 600000;
    kr->max_stale = 86400000;
    kr->kid_refresh = 30000;
    kr->wait = 5000;
    kr->max_size = 65536;
    kr->file = cf->conf_file->file.name;
    kr->line = cf->conf_file->line;

    if (!(cf->cmd_type & NGX_HTTP_MAIN_CONF)) {
        kr->server = ngx_http_conf_get_module_srv_conf(cf,
                                                       ngx_http_core_module);
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "issuer=", 7) == 0) {
            kr->issuer.data = value[i].data + 7;
            kr->issuer.len = value[i].len - 7;

            if (kr->issuer.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "max_size=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;
            size = ngx_parse_size(&s);

            if (size == NGX_ERROR || size < 64 || size > 1024 * 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid parameter \"%V\": from 64 "
                                   "bytes to 1m", &value[i]);
                return NGX_CONF_ERROR;
            }

            kr->max_size = size;
            continue;
        }

        if (ngx_strncmp(value[i].data, "wait=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;
            ms = ngx_parse_time(&s, 0);

            if (ms == (ngx_msec_t) NGX_ERROR || ms > 60000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid parameter \"%V\": at most 60s",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            kr->wait = ms;
            continue;
        }

        if (ngx_strncmp(value[i].data, "refresh=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;
            t = ngx_parse_time(&s, 1);

            if (t == (time_t) NGX_ERROR || t < 1) {
                goto invalid;
            }

            kr->refresh = (ngx_msec_t) t * 1000;
            continue;
        }

        if (ngx_strncmp(value[i].data, "max_stale=", 10) == 0) {
            s.data = value[i].data + 10;
            s.len = value[i].len - 10;
            t = ngx_parse_time(&s, 1);

            if (t == (time_t) NGX_ERROR || t < 1) {
                goto invalid;
            }

            kr->max_stale = (ngx_msec_t) t * 1000;
            continue;
        }

        if (ngx_strncmp(value[i].data, "kid_refresh=", 12) == 0) {
            s.data = value[i].data + 12;
            s.len = value[i].len - 12;
            t = ngx_parse_time(&s, 1);

            if (t == (time_t) NGX_ERROR || t < 1) {
                goto invalid;
            }

            kr->kid_refresh = (ngx_msec_t) t * 1000;
            continue;
        }

        goto invalid;
    }

    if (alcf->key_requests == NGX_CONF_UNSET_PTR) {
        alcf->key_requests = ngx_array_create(cf->pool, 2,
                                sizeof(ngx_http_authz_key_request_t *));
        if (alcf->key_requests == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (alcf->key_requests->nelts >= NGX_HTTP_AUTHZ_KEY_MAX_SETS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "too many \"authz_key_request\" at one level, "
                           "at most %d", NGX_HTTP_AUTHZ_KEY_MAX_SETS);
        return NGX_CONF_ERROR;
    }

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_authz_module);

    if (amcf->key_requests == NULL) {
        amcf->key_requests = ngx_array_create(cf->pool, 4,
                                sizeof(ngx_http_authz_key_request_t *));
        if (amcf->key_requests == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    kr->index = amcf->key_requests->nelts;

    pkr = ngx_array_push(amcf->key_requests);
    if (pkr == NULL) {
        return NGX_CONF_ERROR;
    }

    *pkr = kr;

    pkr = ngx_array_push(alcf->key_requests);
    if (pkr == NULL) {
        return NGX_CONF_ERROR;
    }

    *pkr = kr;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/*
 * postconfiguration: the zone is required, and each set gets its id,
 * "server_name URI" (server_name of the server whose block has the
 * directive, empty at the http level): stable across reloads
 */

ngx_int_t
ngx_http_authz_key_request_init(ngx_conf_t *cf)
{
    u_char                         *p;
    ngx_str_t                      *name;
    ngx_uint_t                      i, j;
    ngx_http_core_srv_conf_t      **cscfp, *cscf;
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_core_main_conf_t      *cmcf;
    ngx_http_authz_key_request_t  **krs, *kr;
    ngx_http_authz_main_conf_t     *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_authz_module);

    if (amcf->key_requests == NULL) {
        return NGX_OK;
    }

    krs = amcf->key_requests->elts;

    if (amcf->key_cache == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"authz_key_request\" requires \"authz_key_cache\" "
                      "at the http level in %V:%ui",
                      &krs[0]->file, krs[0]->line);
        return NGX_ERROR;
    }

    for (i = 0; i < amcf->key_requests->nelts; i++) {
        kr = krs[i];
        cscf = kr->server;
        name = (cscf != NULL) ? &cscf->server_name : NULL;

        kr->id.len = (name ? name->len : 0) + 1 + kr->uri.len;
        kr->id.data = ngx_pnalloc(cf->pool, kr->id.len);
        if (kr->id.data == NULL) {
            return NGX_ERROR;
        }

        p = kr->id.data;

        if (name != NULL) {
            p = ngx_cpymem(p, name->data, name->len);
        }

        *p++ = ' ';
        ngx_memcpy(p, kr->uri.data, kr->uri.len);
    }

    /*
     * one id is one set: two servers (or a server and the http level)
     * with one server_name and one URI share the keys fetched through
     * either, even when their locations proxy to two providers
     */

    for (i = 0; i < amcf->key_requests->nelts; i++) {
        for (j = 0; j < i; j++) {
            if (krs[j]->server == krs[i]->server
                || krs[j]->id.len != krs[i]->id.len
                || ngx_memcmp(krs[j]->id.data, krs[i]->id.data,
                              krs[i]->id.len)
                   != 0)
            {
                continue;
            }

            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "\"authz_key_request %V\" in %V:%ui and in "
                          "%V:%ui of another server share one key set "
                          "(same server_name and URI): both must reach "
                          "the same provider, or give the servers "
                          "different names or the sets different URIs",
                          &krs[i]->uri, &krs[j]->file, krs[j]->line,
                          &krs[i]->file, krs[i]->line);
            break;
        }
    }

    /* the answer must fit the buffer of the location that fetches it */

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    cscfp = cmcf->servers.elts;

    for (i = 0; i < amcf->key_requests->nelts; i++) {
        kr = krs[i];

        for (j = 0; j < cmcf->servers.nelts; j++) {
            cscf = cscfp[j];

            if (kr->server != NULL && kr->server != cscf) {
                continue;
            }

            clcf = cscf->ctx->loc_conf[ngx_http_core_module.ctx_index];
            clcf = ngx_http_authz_key_location(clcf->static_locations,
                                               &kr->uri);

            if (clcf == NULL
                || clcf->subrequest_output_buffer_size >= kr->max_size)
            {
                continue;
            }

            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "\"authz_key_request %V\" in %V:%ui: the "
                          "\"subrequest_output_buffer_size\" of its "
                          "location (%uz) is smaller than max_size (%uz): "
                          "a larger key set fails every fetch",
                          &kr->uri, &kr->file, kr->line,
                          clcf->subrequest_output_buffer_size,
                          kr->max_size);
            break;
        }
    }

    return NGX_OK;
}


/*
 * the prefix or exact location of a URI in a server's static location
 * tree (ngx_http_core_find_static_location() at configuration time;
 * regular expressions are not looked at)
 */

static ngx_http_core_loc_conf_t *
ngx_http_authz_key_location(ngx_http_location_tree_node_t *node,
    ngx_str_t *uri)
{
    u_char                    *p;
    size_t                     len, n;
    ngx_int_t                  rc;
    ngx_http_core_loc_conf_t  *found;

    p = uri->data;
    len = uri->len;
    found = NULL;

    while (node != NULL) {
        n = (len <= (size_t) node->len) ? len : node->len;

        rc = ngx_filename_cmp(p, node->name, n);

        if (rc != 0) {
            node = (rc < 0) ? node->left : node->right;
            continue;
        }

        if (len > (size_t) node->len) {
            if (node->inclusive) {
                found = node->inclusive;
                node = node->tree;
                p += n;
                len -= n;
                continue;
            }

            node = node->right;
            continue;
        }

        if (len == (size_t) node->len) {
            return node->exact ? node->exact : node->inclusive;
        }

        node = node->left;
    }

    return found;
}


/*
 * the keys of a location for one request: alcf->verify where the
 * location fetches no keys, otherwise a copy in r->pool whose sets are
 * the file keys and the imported keys of each usable fetched set;
 * NGX_AGAIN: a set this request must wait for (cold, or being fetched)
 */

ngx_int_t
ngx_http_authz_key_request_conf(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, const authz_verify_conf_t **vcf)
{
    ngx_uint_t                      i, n, expired;
    authz_key_set_t                *sets;
    authz_verify_conf_t            *conf;
    ngx_http_authz_ctx_t           *ctx;
    ngx_http_authz_key_state_t      st;
    ngx_http_authz_key_local_t     *local;
    ngx_http_authz_key_request_t  **krs;

    *vcf = &alcf->verify;

    if (alcf->key_requests == NULL) {
        return NGX_OK;
    }

    ctx = ngx_http_authz_get_ctx(r);
    expired = (ctx != NULL && ctx->key_wait != NULL
               && ctx->key_wait->expired);

    krs = alcf->key_requests->elts;

    sets = ngx_palloc(r->pool, (alcf->key_requests->nelts + 1)
                               * sizeof(authz_key_set_t));
    conf = ngx_palloc(r->pool, sizeof(authz_verify_conf_t));

    if (sets == NULL || conf == NULL) {
        return NGX_ERROR;
    }

    *conf = alcf->verify;
    n = 0;

    if (alcf->file_keys.nkeys) {
        sets[n++] = alcf->file_keys;
    }

    for (i = 0; i < alcf->key_requests->nelts; i++) {
        ngx_http_authz_key_state(krs[i], &st);

        /*
         * a cold set is waited for where it is all the location has;
         * next to file keys, only a token whose kid no key has waits
         * (ngx_http_authz_key_request_kid())
         */

        if (!st.usable) {
            if (!expired && alcf->file_keys.nkeys == 0
                && (st.in_flight || st.can_fetch))
            {
                return NGX_AGAIN;
            }

            continue;
        }

        if (ngx_http_authz_key_import(r->connection->log, krs[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        local = ngx_http_authz_key_local(krs[i]);

        if (local->nkeys) {
            sets[n].keys = local->keys;
            sets[n].nkeys = local->nkeys;
            n++;
        }
    }

    conf->sets = sets;
    conf->nsets = n;
    *vcf = conf;

    return NGX_OK;
}


/* a token's kid is unknown: 1 when a fetch (made or in flight) may help */

ngx_uint_t
ngx_http_authz_key_request_kid(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf)
{
    ngx_uint_t                      i;
    ngx_http_authz_ctx_t           *ctx;
    ngx_http_authz_key_state_t      st;
    ngx_http_authz_key_request_t  **krs;

    if (alcf->key_requests == NULL) {
        return 0;
    }

    ctx = ngx_http_authz_get_ctx(r);

    if (ctx != NULL && ctx->key_wait != NULL && ctx->key_wait->expired) {
        return 0;
    }

    krs = alcf->key_requests->elts;

    for (i = 0; i < alcf->key_requests->nelts; i++) {
        ngx_http_authz_key_state(krs[i], &st);

        if (st.in_flight || (st.can_fetch && st.kid_window)) {
            return 1;
        }
    }

    return 0;
}


/*
 * the access phase: fetches for a pending evaluation (then NGX_AGAIN),
 * background refreshes of stale sets, 503 where no key is usable;
 * NGX_DECLINED: the evaluation decides
 */

ngx_int_t
ngx_http_authz_key_request_access(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval)
{
    ngx_int_t                       rc;
    ngx_uint_t                      i, usable;
    ngx_msec_t                      retry_in;
    ngx_http_authz_key_state_t      st;
    ngx_http_authz_key_request_t  **krs;

    /*
     * every pass of the phase handler starts here: a poll of an earlier
     * pass must not run the phases again once this one has decided
     * (a subrequest's end woke this request while the poll timer ran)
     */

    if (ctx->key_wait != NULL && ctx->key_wait->event.timer_set) {
        ngx_del_timer(&ctx->key_wait->event);
    }

    if (eval->state == NGX_HTTP_AUTHZ_TOKEN_PENDING) {
        return ngx_http_authz_key_wait(r, alcf, ctx);
    }

    krs = alcf->key_requests->elts;
    usable = alcf->file_keys.nkeys;
    retry_in = 0;

    for (i = 0; i < alcf->key_requests->nelts; i++) {
        ngx_http_authz_key_state(krs[i], &st);

        if (st.usable) {
            usable++;

            /* stale-while-revalidate */

            if (st.due && st.can_fetch) {
                rc = ngx_http_authz_key_fetch(r, krs[i], NULL);

                if (rc == NGX_ERROR) {
                    return NGX_HTTP_INTERNAL_SERVER_ERROR;
                }
            }

        } else if (st.retry_in > retry_in) {
            retry_in = st.retry_in;
        }
    }

    if (usable == 0 && eval->state != NGX_HTTP_AUTHZ_TOKEN_MISSING) {
        return ngx_http_authz_key_unavailable(r, alcf, ctx, eval, retry_in);
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_authz_key_unavailable(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval, ngx_msec_t retry_in)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (h->value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    h->value.len = ngx_sprintf(h->value.data, "%M",
                               retry_in ? (retry_in + 999) / 1000 : 1)
                   - h->value.data;

    return ngx_http_authz_deny(r, alcf, ctx, eval,
                               NGX_HTTP_SERVICE_UNAVAILABLE,
                               "key_unavailable", "no usable key", NULL);
}


/*
 * a pending evaluation: this request fetches the sets it may fetch and
 * is woken by the subrequest; otherwise it polls the zone until a set
 * it waits for changes or its wait is over
 */

static ngx_int_t
ngx_http_authz_key_wait(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_uint_t                      i, started, in_flight;
    ngx_msec_t                      wait;
    ngx_pool_cleanup_t             *cln;
    ngx_http_authz_key_wait_t      *w;
    ngx_http_authz_key_state_t      st;
    ngx_http_authz_key_request_t  **krs;

    krs = alcf->key_requests->elts;
    w = ctx->key_wait;

    if (w == NULL) {
        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        w = ngx_pcalloc(r->pool, sizeof(ngx_http_authz_key_wait_t));
        if (w == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        wait = 0;

        for (i = 0; i < alcf->key_requests->nelts; i++) {
            if (krs[i]->wait > wait) {
                wait = krs[i]->wait;
            }
        }

        w->r = r;
        w->deadline = ngx_current_msec + wait;
        w->event.handler = ngx_http_authz_key_wait_handler;
        w->event.data = w;
        w->event.log = r->connection->log;

        cln->handler = ngx_http_authz_key_wait_cleanup;
        cln->data = w;

        ctx->key_wait = w;
    }

    w->alcf = alcf;
    started = 0;
    in_flight = 0;

    for (i = 0; i < alcf->key_requests->nelts; i++) {
        ngx_http_authz_key_state(krs[i], &st);

        in_flight += st.in_flight;

        if (st.can_fetch && (!st.usable || st.kid_window)) {
            rc = ngx_http_authz_key_fetch(r, krs[i], w);

            if (rc == NGX_ERROR) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            if (rc == NGX_OK) {
                started++;
            }
        }
    }

    if (started || w->pending) {
        /*
         * the end of each subrequest runs the phases again; the request
         * goes on only when none of its own fetches is in flight (the
         * end of a waited subrequest must find it still waiting)
         */
        return NGX_AGAIN;
    }

    if ((ngx_msec_int_t) (w->deadline - ngx_current_msec) <= 0) {
        /* the handler runs the phases again, now without waiting */

        w->expired = 1;
        ngx_add_timer(&w->event, 1);

        return NGX_AGAIN;
    }

    /*
     * nothing in flight any more (the state changed since the
     * evaluation): the next tick evaluates again
     */

    w->stamp = in_flight ? ngx_http_authz_key_stamp(alcf) : (ngx_uint_t) -1;
    ngx_add_timer(&w->event, NGX_HTTP_AUTHZ_KEY_POLL);

    return NGX_AGAIN;
}


static ngx_uint_t
ngx_http_authz_key_stamp(ngx_http_authz_loc_conf_t *alcf)
{
    ngx_uint_t                      i, stamp;
    ngx_http_authz_key_slot_t      *slot;
    ngx_http_authz_key_request_t  **krs;

    krs = alcf->key_requests->elts;
    stamp = 0;

    for (i = 0; i < alcf->key_requests->nelts; i++) {
        slot = krs[i]->slot;
        stamp += slot->version;
    }

    return stamp;
}


static void
ngx_http_authz_key_wait_handler(ngx_event_t *ev)
{
    ngx_http_authz_key_wait_t *w = ev->data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = w->r;
    c = r->connection;

    if (!w->expired) {
        if ((ngx_msec_int_t) (w->deadline - ngx_current_msec) <= 0) {
            w->expired = 1;

        } else if (w->stamp == ngx_http_authz_key_stamp(w->alcf)) {
            ngx_add_timer(ev, NGX_HTTP_AUTHZ_KEY_POLL);
            return;
        }
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "authz key wait over, expired:%ui", w->expired);

    ngx_http_set_log_request(c->log, r);

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_authz_key_wait_cleanup(void *data)
{
    ngx_http_authz_key_wait_t *w = data;

    if (w->event.timer_set) {
        ngx_del_timer(&w->event);
    }
}


/*
 * starts one fetch when this worker takes the set's owner word;
 * NGX_DECLINED: another fetch is in flight or the set backs off
 */

static ngx_int_t
ngx_http_authz_key_fetch(ngx_http_request_t *r,
    ngx_http_authz_key_request_t *kr, ngx_http_authz_key_wait_t *w)
{
    ngx_uint_t                   seq, flags;
    ngx_msec_t                   now, timeout;
    ngx_pool_cleanup_t          *cln;
    ngx_http_request_t          *sr;
    ngx_http_authz_key_slot_t   *slot;
    ngx_http_authz_key_fetch_t  *fetch;
    ngx_http_post_subrequest_t  *ps;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    fetch = ngx_pcalloc(r->pool, sizeof(ngx_http_authz_key_fetch_t));
    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));

    if (cln == NULL || fetch == NULL || ps == NULL) {
        return NGX_ERROR;
    }

    now = ngx_current_msec;
    slot = kr->slot;

    /* a fetch that outlives this no longer holds the others back */

    timeout = ngx_max(2 * kr->wait, 10000);

    ngx_shmtx_lock(&kr->shpool->mutex);

    if ((slot->owner != 0
         && (ngx_msec_int_t) (now - slot->owner_deadline) < 0)
        || (slot->failures && (ngx_msec_int_t) (slot->retry - now) > 0))
    {
        ngx_shmtx_unlock(&kr->shpool->mutex);
        return NGX_DECLINED;
    }

    seq = ++((ngx_http_authz_key_sh_t *) kr->sh)->seq;
    slot->owner = ngx_pid;
    slot->owner_seq = seq;
    slot->owner_deadline = now + timeout;
    slot->attempt = now;
    slot->attempted = 1;
    slot->version++;

    ngx_shmtx_unlock(&kr->shpool->mutex);

    fetch->kr = kr;
    fetch->seq = seq;

    if (w != NULL) {
        fetch->pending = &w->pending;
        w->pending++;
    }

    cln->handler = ngx_http_authz_key_fetch_cleanup;
    cln->data = fetch;

    ps->handler = ngx_http_authz_key_fetch_done;
    ps->data = fetch;

    flags = NGX_HTTP_SUBREQUEST_IN_MEMORY
            | ((w == NULL) ? NGX_HTTP_SUBREQUEST_BACKGROUND
                           : NGX_HTTP_SUBREQUEST_WAITED);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "authz key set \"%V\" fetch, background:%d",
                   &kr->uri, w == NULL);

    if (ngx_http_subrequest(r, &kr->uri, NULL, &sr, ps, flags) != NGX_OK) {
        /* the cleanup releases the owner word */
        return NGX_ERROR;
    }

    /* the cleanup releases the owner word on an error here too */

    return ngx_http_authz_key_fetch_headers(r, sr);
}


/*
 * a fetch is the module's request, not the client's: the subrequest
 * starts with the client's headers and body, and none of them may reach
 * the provider or decide the fetch, whatever the location passes on
 * (Authorization, Cookie, X-User-*; a Content-Length above the
 * location's client_max_body_size fails the fetch with 413, and one
 * sent without its body makes the provider wait): only Host is kept
 */

static ngx_int_t
ngx_http_authz_key_fetch_headers(ngx_http_request_t *r,
    ngx_http_request_t *sr)
{
    ngx_table_elt_t  *h;

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 1,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sr->headers_in.content_length_n = -1;
    sr->headers_in.keep_alive_n = -1;
    sr->headers_in.server = r->headers_in.server;

    if (r->headers_in.host != NULL) {
        h = ngx_list_push(&sr->headers_in.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        *h = *r->headers_in.host;
        sr->headers_in.host = h;
    }

    sr->request_body = NULL;

    return NGX_OK;
}


/* the parent request ends (an aborted client too): the word is free */

static void
ngx_http_authz_key_fetch_cleanup(void *data)
{
    ngx_http_authz_key_release(data);
}
