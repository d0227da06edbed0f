/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * authz_key_request and authz_key_cache: key sets fetched by
 * subrequest, kept as normalized records (authz_key_rec_t) in a shared
 * zone with a generation, imported by each worker into its own keys
 * once per generation.  At most one fetch per set is in flight across
 * the workers (an owner word with a deadline in the zone); requests
 * that need a set being fetched wait for it, up to "wait".  State of a
 * fetch or of a wait lives in the request, never in the configuration.
 */


#include "ngx_http_authz_module.h"


#define NGX_HTTP_AUTHZ_KEY_POLL        50        /* ms, waiting requests */
#define NGX_HTTP_AUTHZ_KEY_BACKOFF     60000     /* ms, the cap */
#define NGX_HTTP_AUTHZ_KEY_MIN_MAX_AGE 60000     /* ms */
#define NGX_HTTP_AUTHZ_KEY_MAX_SETS    8         /* per level */


/* one key set in the zone, found by its id at every (re)load */

typedef struct {
    ngx_queue_t                     queue;
    ngx_uint_t                      version;     /* any change */
    ngx_uint_t                      generation;  /* 0: never loaded */
    ngx_uint_t                      nrecs;
    authz_key_rec_t                *recs;
    ngx_msec_t                      success;     /* of recs */
    time_t                          success_time;
    ngx_msec_t                      max_age;     /* 0: none */
    ngx_msec_t                      attempt;     /* last fetch started */
    ngx_msec_t                      retry;       /* backoff: not before */
    ngx_uint_t                      failures;
    ngx_pid_t                       owner;       /* 0: none in flight */
    ngx_uint_t                      owner_seq;
    ngx_msec_t                      owner_deadline;
    ngx_uint_t                      attempted;
    ngx_uint_t                      failing;
    ngx_atomic_uint_t               fetches[NGX_HTTP_AUTHZ_KEY_RESULTS];
    size_t                          id_len;
    u_char                          id[1];
} ngx_http_authz_key_slot_t;


typedef struct {
    ngx_queue_t                     slots;
    ngx_uint_t                      seq;
} ngx_http_authz_key_sh_t;


/* the data of the shared zone, in cf->pool */

typedef struct {
    ngx_slab_pool_t                *shpool;
    ngx_http_authz_key_sh_t        *sh;
    ngx_http_authz_main_conf_t     *amcf;
} ngx_http_authz_key_cache_t;


/* what a worker has imported of one set: worker memory, never conf */

typedef struct {
    ngx_uint_t                      generation;
    authz_key_t                    *keys;
    size_t                          nkeys;
} ngx_http_authz_key_local_t;


/* a snapshot of a set, taken under the zone lock */

typedef struct {
    ngx_uint_t                      usable;
    ngx_uint_t                      due;
    ngx_uint_t                      in_flight;
    ngx_uint_t                      can_fetch;
    ngx_uint_t                      kid_window;
    ngx_uint_t                      version;
    ngx_msec_t                      retry_in;
} ngx_http_authz_key_state_t;


/* one fetch: in the request that made it */

typedef struct {
    ngx_http_authz_key_request_t   *kr;
    ngx_uint_t                      seq;
    ngx_uint_t                      done;
} ngx_http_authz_key_fetch_t;


/* a request that waits for keys */

struct ngx_http_authz_key_wait_s {
    ngx_http_request_t             *r;
    ngx_http_authz_loc_conf_t      *alcf;
    ngx_event_t                     event;
    ngx_msec_t                      deadline;
    ngx_uint_t                      stamp;
    ngx_uint_t                      expired;
};


static ngx_int_t ngx_http_authz_key_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_authz_key_state(ngx_http_authz_key_request_t *kr,
    ngx_http_authz_key_state_t *st);
static ngx_int_t ngx_http_authz_key_import(ngx_log_t *log,
    ngx_http_authz_key_request_t *kr);
static ngx_int_t ngx_http_authz_key_fetch(ngx_http_request_t *r,
    ngx_http_authz_key_request_t *kr, ngx_uint_t background);
static ngx_int_t ngx_http_authz_key_fetch_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static ngx_uint_t ngx_http_authz_key_body(ngx_http_request_t *sr,
    ngx_int_t rc, ngx_http_authz_key_request_t *kr, u_char **body,
    size_t *len, ngx_msec_t *max_age);
static ngx_uint_t ngx_http_authz_key_parse(ngx_log_t *log,
    ngx_http_authz_key_request_t *kr, u_char *body, size_t len,
    authz_key_rec_t **recs, ngx_uint_t *nrecs);
static void ngx_http_authz_key_publish(ngx_log_t *log,
    ngx_http_authz_key_fetch_t *fetch, ngx_uint_t result,
    authz_key_rec_t *recs, ngx_uint_t nrecs, ngx_msec_t max_age);
static void ngx_http_authz_key_fetch_cleanup(void *data);
static void ngx_http_authz_key_skip(void *data, const char *reason);
static ngx_int_t ngx_http_authz_key_wait(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx);
static ngx_uint_t ngx_http_authz_key_stamp(ngx_http_authz_loc_conf_t *alcf);
static void ngx_http_authz_key_wait_handler(ngx_event_t *ev);
static void ngx_http_authz_key_wait_cleanup(void *data);
static ngx_int_t ngx_http_authz_key_unavailable(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval, ngx_msec_t retry_in);


ngx_str_t  ngx_http_authz_key_results[] = {
    ngx_string("ok"),
    ngx_string("http_error"),
    ngx_string("encoded"),
    ngx_string("too_large"),
    ngx_string("invalid"),
    ngx_string("no_memory")
};


static ngx_http_authz_key_local_t  *ngx_http_authz_key_locals;
static ngx_uint_t                   ngx_http_authz_key_nlocals;


/* authz_key_cache zone=NAME:SIZE */

char *
ngx_http_authz_key_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_authz_main_conf_t *amcf = conf;

    u_char                      *p;
    ssize_t                      size;
    ngx_str_t                   *value, name, s;
    ngx_http_authz_key_cache_t  *cache;

    if (amcf->key_cache != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strncmp(value[1].data, "zone=", 5) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data + 5;
    p = (u_char *) ngx_strchr(name.data, ':');

    if (p == NULL || p == name.data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.len = p - name.data;
    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small", &value[1]);
        return NGX_CONF_ERROR;
    }

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_authz_key_cache_t));
    if (cache == NULL) {
        return NGX_CONF_ERROR;
    }

    cache->amcf = amcf;

    amcf->key_cache = ngx_shared_memory_add(cf, &name, size,
                                            &ngx_http_authz_module);
    if (amcf->key_cache == NULL) {
        return NGX_CONF_ERROR;
    }

    if (amcf->key_cache->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    amcf->key_cache->init = ngx_http_authz_key_cache_init_zone;
    amcf->key_cache->data = cache;

    return NGX_CONF_OK;
}


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
    ngx_uint_t                      i;
    ngx_http_authz_key_request_t  **krs, *kr;
    ngx_http_authz_main_conf_t     *amcf;
    ngx_http_core_srv_conf_t       *cscf;

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

    return NGX_OK;
}


/*
 * a reload keeps the slots: a set is found by its id; a set the
 * configuration no longer has keeps its slot (a few bytes)
 */

static ngx_int_t
ngx_http_authz_key_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_authz_key_cache_t  *ocache = data;

    ngx_uint_t                      i;
    ngx_queue_t                    *q;
    ngx_http_authz_key_slot_t      *slot;
    ngx_http_authz_key_cache_t     *cache;
    ngx_http_authz_key_request_t  **krs, *kr;

    cache = shm_zone->data;

    if (ocache) {
        cache->shpool = ocache->shpool;
        cache->sh = ocache->sh;

    } else {
        cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

        if (shm_zone->shm.exists) {
            cache->sh = cache->shpool->data;

        } else {
            cache->sh = ngx_slab_calloc(cache->shpool,
                                        sizeof(ngx_http_authz_key_sh_t));
            if (cache->sh == NULL) {
                return NGX_ERROR;
            }

            ngx_queue_init(&cache->sh->slots);
            cache->shpool->data = cache->sh;
            cache->shpool->log_nomem = 0;
        }
    }

    if (cache->amcf->key_requests == NULL) {
        return NGX_OK;
    }

    krs = cache->amcf->key_requests->elts;

    for (i = 0; i < cache->amcf->key_requests->nelts; i++) {
        kr = krs[i];
        kr->shpool = cache->shpool;
        kr->sh = cache->sh;
        kr->slot = NULL;

        for (q = ngx_queue_head(&cache->sh->slots);
             q != ngx_queue_sentinel(&cache->sh->slots);
             q = ngx_queue_next(q))
        {
            slot = ngx_queue_data(q, ngx_http_authz_key_slot_t, queue);

            if (slot->id_len == kr->id.len
                && ngx_memcmp(slot->id, kr->id.data, kr->id.len) == 0)
            {
                kr->slot = slot;
                break;
            }
        }

        if (kr->slot != NULL) {
            continue;
        }

        slot = ngx_slab_calloc(cache->shpool,
                               sizeof(ngx_http_authz_key_slot_t)
                               + kr->id.len);
        if (slot == NULL) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "authz_key_cache zone \"%V\" is too small",
                          &shm_zone->shm.name);
            return NGX_ERROR;
        }

        slot->id_len = kr->id.len;
        ngx_memcpy(slot->id, kr->id.data, kr->id.len);
        ngx_queue_insert_tail(&cache->sh->slots, &slot->queue);

        kr->slot = slot;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_authz_key_request_init_process(ngx_cycle_t *cycle)
{
    ngx_http_authz_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_authz_module);

    if (amcf == NULL || amcf->key_requests == NULL) {
        return NGX_OK;
    }

    ngx_http_authz_key_nlocals = amcf->key_requests->nelts;
    ngx_http_authz_key_locals = ngx_calloc(ngx_http_authz_key_nlocals
                                       * sizeof(ngx_http_authz_key_local_t),
                                           cycle->log);
    if (ngx_http_authz_key_locals == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_authz_key_request_exit_process(ngx_cycle_t *cycle)
{
    size_t                       k;
    ngx_uint_t                   i;
    ngx_http_authz_key_local_t  *local;

    if (ngx_http_authz_key_locals == NULL) {
        return;
    }

    for (i = 0; i < ngx_http_authz_key_nlocals; i++) {
        local = &ngx_http_authz_key_locals[i];

        for (k = 0; k < local->nkeys; k++) {
            authz_key_free(&local->keys[k]);
        }

        if (local->keys != NULL) {
            ngx_free(local->keys);
        }
    }

    ngx_free(ngx_http_authz_key_locals);
    ngx_http_authz_key_locals = NULL;
}


static void
ngx_http_authz_key_state(ngx_http_authz_key_request_t *kr,
    ngx_http_authz_key_state_t *st)
{
    ngx_msec_t                  now, refresh;
    ngx_http_authz_key_slot_t  *slot;

    now = ngx_current_msec;
    slot = kr->slot;

    ngx_shmtx_lock(&kr->shpool->mutex);

    refresh = kr->refresh;

    if (slot->max_age && slot->max_age < refresh) {
        refresh = slot->max_age;
    }

    st->usable = slot->generation != 0 && slot->nrecs != 0
                 && (ngx_msec_int_t) (now - slot->success)
                    <= (ngx_msec_int_t) kr->max_stale;
    st->due = slot->generation == 0
              || (ngx_msec_int_t) (now - slot->success)
                 >= (ngx_msec_int_t) refresh;
    st->in_flight = slot->owner != 0
                    && (ngx_msec_int_t) (now - slot->owner_deadline) < 0;
    st->retry_in = (slot->failures
                    && (ngx_msec_int_t) (slot->retry - now) > 0)
                   ? slot->retry - now : 0;
    st->can_fetch = !st->in_flight && st->retry_in == 0;
    st->kid_window = !slot->attempted
                     || (ngx_msec_int_t) (now - slot->attempt)
                        >= (ngx_msec_int_t) kr->kid_refresh;
    st->version = slot->version;

    ngx_shmtx_unlock(&kr->shpool->mutex);
}


/*
 * the worker's keys of a set follow the zone's generation: records
 * are copied under the lock and imported outside it, once per
 * generation; the old keys are freed (no request holds them across
 * events: a verification uses them within one call)
 */

static ngx_int_t
ngx_http_authz_key_import(ngx_log_t *log, ngx_http_authz_key_request_t *kr)
{
    size_t                       k, n;
    ngx_uint_t                   generation, nrecs;
    authz_key_t                 *keys;
    authz_key_rec_t             *recs;
    ngx_http_authz_key_slot_t   *slot;
    ngx_http_authz_key_local_t  *local;

    if (kr->index >= ngx_http_authz_key_nlocals) {
        return NGX_ERROR;
    }

    local = &ngx_http_authz_key_locals[kr->index];
    slot = kr->slot;

    /* an unlocked look first: the generation only grows */

    if (slot->generation == local->generation) {
        return NGX_OK;
    }

    ngx_shmtx_lock(&kr->shpool->mutex);

    generation = slot->generation;
    nrecs = slot->nrecs;
    recs = NULL;

    if (nrecs) {
        recs = ngx_alloc(nrecs * sizeof(authz_key_rec_t), log);
        if (recs == NULL) {
            ngx_shmtx_unlock(&kr->shpool->mutex);
            return NGX_ERROR;
        }

        ngx_memcpy(recs, slot->recs, nrecs * sizeof(authz_key_rec_t));
    }

    ngx_shmtx_unlock(&kr->shpool->mutex);

    keys = NULL;
    n = 0;

    if (nrecs) {
        keys = ngx_alloc(nrecs * sizeof(authz_key_t), log);
        if (keys == NULL) {
            ngx_free(recs);
            return NGX_ERROR;
        }

        for (k = 0; k < nrecs; k++) {
            if (authz_key_import(&recs[k], &keys[n]) != 0) {
                ngx_log_error(NGX_LOG_ERR, log, 0,
                              "authz key set \"%V\": a key record does not "
                              "import, key skipped", &kr->uri);
                continue;
            }

            keys[n].issuer = kr->issuer.len ? (char *) kr->issuer.data
                                            : NULL;
            keys[n].issuer_len = kr->issuer.len;
            keys[n].source = &kr->uri;
            n++;
        }

        ngx_free(recs);
    }

    for (k = 0; k < local->nkeys; k++) {
        authz_key_free(&local->keys[k]);
    }

    if (local->keys != NULL) {
        ngx_free(local->keys);
    }

    local->keys = keys;
    local->nkeys = n;
    local->generation = generation;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, log, 0,
                   "authz key set \"%V\" generation %ui: %uz keys",
                   &kr->uri, generation, n);

    return NGX_OK;
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

        if (!st.usable) {
            if (!expired && (st.in_flight || st.can_fetch)) {
                return NGX_AGAIN;
            }

            continue;
        }

        if (ngx_http_authz_key_import(r->connection->log, krs[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        local = &ngx_http_authz_key_locals[krs[i]->index];

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
                rc = ngx_http_authz_key_fetch(r, krs[i], 1);

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
    ngx_uint_t                      i, started;
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

    for (i = 0; i < alcf->key_requests->nelts; i++) {
        ngx_http_authz_key_state(krs[i], &st);

        if (st.can_fetch && (!st.usable || st.kid_window)) {
            rc = ngx_http_authz_key_fetch(r, krs[i], 0);

            if (rc == NGX_ERROR) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            if (rc == NGX_OK) {
                started++;
            }
        }
    }

    if (started) {
        /* the end of the subrequest runs the phases again */
        return NGX_AGAIN;
    }

    if ((ngx_msec_int_t) (w->deadline - ngx_current_msec) <= 0) {
        /* the handler runs the phases again, now without waiting */

        w->expired = 1;
        ngx_add_timer(&w->event, 1);

        return NGX_AGAIN;
    }

    w->stamp = ngx_http_authz_key_stamp(alcf);
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
    ngx_http_authz_key_request_t *kr, ngx_uint_t background)
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

    cln->handler = ngx_http_authz_key_fetch_cleanup;
    cln->data = fetch;

    ps->handler = ngx_http_authz_key_fetch_done;
    ps->data = fetch;

    flags = NGX_HTTP_SUBREQUEST_IN_MEMORY
            | (background ? NGX_HTTP_SUBREQUEST_BACKGROUND
                          : NGX_HTTP_SUBREQUEST_WAITED);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "authz key set \"%V\" fetch, background:%ui",
                   &kr->uri, background);

    if (ngx_http_subrequest(r, &kr->uri, NULL, &sr, ps, flags) != NGX_OK) {
        /* the cleanup releases the owner word */
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the parent request ends (an aborted client too): the word is free */

static void
ngx_http_authz_key_fetch_cleanup(void *data)
{
    ngx_http_authz_key_fetch_t *fetch = data;

    ngx_http_authz_key_slot_t  *slot;

    if (fetch->done) {
        return;
    }

    fetch->done = 1;
    slot = fetch->kr->slot;

    ngx_shmtx_lock(&fetch->kr->shpool->mutex);

    if (slot->owner == ngx_pid && slot->owner_seq == fetch->seq) {
        slot->owner = 0;
        slot->version++;
    }

    ngx_shmtx_unlock(&fetch->kr->shpool->mutex);
}


static ngx_int_t
ngx_http_authz_key_fetch_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_authz_key_fetch_t *fetch = data;

    u_char           *body;
    size_t            len;
    ngx_uint_t        result, nrecs;
    ngx_msec_t        max_age;
    authz_key_rec_t  *recs;

    if (fetch->done) {
        return rc;
    }

    recs = NULL;
    nrecs = 0;
    max_age = 0;

    result = ngx_http_authz_key_body(sr, rc, fetch->kr, &body, &len,
                                     &max_age);

    if (result == NGX_HTTP_AUTHZ_KEY_OK) {
        result = ngx_http_authz_key_parse(sr->connection->log, fetch->kr,
                                          body, len, &recs, &nrecs);
    }

    ngx_http_authz_key_publish(sr->connection->log, fetch, result, recs,
                               nrecs, max_age);

    if (recs != NULL) {
        ngx_free(recs);
    }

    return rc;
}


/* the body of an acceptable response: 200, not encoded, complete */

static ngx_uint_t
ngx_http_authz_key_body(ngx_http_request_t *sr, ngx_int_t rc,
    ngx_http_authz_key_request_t *kr, u_char **body, size_t *len,
    ngx_msec_t *max_age)
{
    u_char           *p, *last;
    size_t            n;
    ngx_int_t         age;
    ngx_buf_t        *b;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, sr->connection->log, 0,
                   "authz key set response: rc:%i status:%ui length:%O "
                   "out:%p upstream length:%O", rc, sr->headers_out.status,
                   sr->headers_out.content_length_n, sr->out,
                   sr->upstream ? sr->upstream->length : -2);

    if (rc == NGX_ERROR || rc >= NGX_HTTP_SPECIAL_RESPONSE
        || sr->headers_out.status != NGX_HTTP_OK)
    {
        return NGX_HTTP_AUTHZ_KEY_HTTP_ERROR;
    }

    if (sr->headers_out.content_encoding != NULL
        && sr->headers_out.content_encoding->hash
        && sr->headers_out.content_encoding->value.len)
    {
        return NGX_HTTP_AUTHZ_KEY_ENCODED;
    }

    b = (sr->out != NULL) ? sr->out->buf : NULL;

    if (b == NULL && sr->upstream != NULL) {
        b = &sr->upstream->buffer;
    }

    if (b == NULL || b->pos == NULL) {
        *body = (u_char *) "";
        *len = 0;
        return NGX_HTTP_AUTHZ_KEY_INVALID;
    }

    n = b->last - b->pos;

    if (n > kr->max_size
        || (sr->headers_out.content_length_n > (off_t) kr->max_size))
    {
        return NGX_HTTP_AUTHZ_KEY_TOO_LARGE;
    }

    if (sr->headers_out.content_length_n >= 0
        && sr->headers_out.content_length_n != (off_t) n)
    {
        return NGX_HTTP_AUTHZ_KEY_HTTP_ERROR;
    }

    *body = b->pos;
    *len = n;

    /* Cache-Control: max-age may shorten "refresh", never below 60s */

    part = &sr->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0
            || h[i].key.len != sizeof("Cache-Control") - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) "Cache-Control",
                               h[i].key.len) != 0)
        {
            continue;
        }

        last = h[i].value.data + h[i].value.len;
        p = ngx_strlcasestrn(h[i].value.data, last, (u_char *) "max-age=",
                             8 - 1);
        if (p == NULL) {
            continue;
        }

        p += 8;

        for (n = 0; p + n < last && p[n] >= '0' && p[n] <= '9'; n++) {
            /* void */
        }

        age = ngx_atoi(p, n);

        if (age != NGX_ERROR && age < 86400 * 365) {
            *max_age = ngx_max((ngx_msec_t) age * 1000,
                               NGX_HTTP_AUTHZ_KEY_MIN_MAX_AGE);
        }
    }

    return NGX_HTTP_AUTHZ_KEY_OK;
}


typedef struct {
    ngx_log_t                      *log;
    ngx_http_authz_key_request_t   *kr;
} ngx_http_authz_key_skip_ctx_t;


/* a JWKS with at least one usable key and no duplicate kid */

static ngx_uint_t
ngx_http_authz_key_parse(ngx_log_t *log, ngx_http_authz_key_request_t *kr,
    u_char *body, size_t len, authz_key_rec_t **recs, ngx_uint_t *nrecs)
{
    char                            err[256];
    size_t                          n, i, j;
    json_t                         *root;
    ngx_uint_t                      result;
    authz_key_t                    *keys;
    json_error_t                    jerr;
    ngx_http_authz_key_skip_ctx_t   skip;

    root = json_loadb((const char *) body, len, JSON_REJECT_DUPLICATES,
                      &jerr);

    if (root == NULL || !json_is_object(root)
        || !json_is_array(json_object_get(root, "keys")))
    {
        if (root != NULL) {
            json_decref(root);
        }

        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "authz key set \"%V\": the response is not a JWKS",
                      &kr->uri);
        return NGX_HTTP_AUTHZ_KEY_INVALID;
    }

    json_decref(root);

    keys = ngx_alloc(AUTHZ_MAX_KEYS * sizeof(authz_key_t), log);
    if (keys == NULL) {
        return NGX_HTTP_AUTHZ_KEY_NO_MEMORY;
    }

    n = 0;
    skip.log = log;
    skip.kr = kr;

    if (authz_key_load(body, len, NULL, keys, &n, AUTHZ_MAX_KEYS, err,
                       sizeof(err), ngx_http_authz_key_skip, &skip)
        != 0)
    {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "authz key set \"%V\": %s", &kr->uri, err);
        ngx_free(keys);
        return NGX_HTTP_AUTHZ_KEY_INVALID;
    }

    result = NGX_HTTP_AUTHZ_KEY_OK;

    for (i = 0; i < n && result == NGX_HTTP_AUTHZ_KEY_OK; i++) {
        for (j = 0; keys[i].kid_len && j < i; j++) {
            if (keys[j].kid_len == keys[i].kid_len
                && ngx_memcmp(keys[j].kid, keys[i].kid, keys[i].kid_len)
                   == 0)
            {
                ngx_log_error(NGX_LOG_INFO, log, 0,
                              "authz key set \"%V\": duplicate kid",
                              &kr->uri);
                result = NGX_HTTP_AUTHZ_KEY_INVALID;
                break;
            }
        }
    }

    if (result == NGX_HTTP_AUTHZ_KEY_OK) {
        *recs = ngx_alloc(n * sizeof(authz_key_rec_t), log);

        if (*recs == NULL) {
            result = NGX_HTTP_AUTHZ_KEY_NO_MEMORY;

        } else {
            for (i = 0, j = 0; i < n; i++) {
                if (authz_key_record(&keys[i], &(*recs)[j]) == 0) {
                    j++;
                }
            }

            *nrecs = j;

            if (j == 0) {
                result = NGX_HTTP_AUTHZ_KEY_INVALID;
            }
        }
    }

    for (i = 0; i < n; i++) {
        authz_key_free(&keys[i]);
    }

    ngx_free(keys);

    return result;
}


static void
ngx_http_authz_key_skip(void *data, const char *reason)
{
    ngx_http_authz_key_skip_ctx_t  *skip = data;

    ngx_log_error(NGX_LOG_NOTICE, skip->log, 0,
                  "authz key set \"%V\": %s, key skipped",
                  &skip->kr->uri, reason);
}


/* the outcome of a fetch into the zone; the owner word is released */

static void
ngx_http_authz_key_publish(ngx_log_t *log, ngx_http_authz_key_fetch_t *fetch,
    ngx_uint_t result, authz_key_rec_t *recs, ngx_uint_t nrecs,
    ngx_msec_t max_age)
{
    ngx_msec_t                      now, backoff;
    ngx_uint_t                      was_failing, nkept;
    authz_key_rec_t                *copy;
    ngx_http_authz_key_slot_t      *slot;
    ngx_http_authz_key_request_t   *kr;

    fetch->done = 1;
    kr = fetch->kr;
    slot = kr->slot;
    now = ngx_current_msec;
    copy = NULL;

    ngx_shmtx_lock(&kr->shpool->mutex);

    if (result == NGX_HTTP_AUTHZ_KEY_OK) {
        copy = ngx_slab_alloc_locked(kr->shpool,
                                     nrecs * sizeof(authz_key_rec_t));
        if (copy == NULL) {
            result = NGX_HTTP_AUTHZ_KEY_NO_MEMORY;
        }
    }

    (void) ngx_atomic_fetch_add(&slot->fetches[result], 1);

    if (slot->owner == ngx_pid && slot->owner_seq == fetch->seq) {
        slot->owner = 0;
    }

    slot->version++;
    was_failing = slot->failing;
    nkept = slot->nrecs;

    if (result == NGX_HTTP_AUTHZ_KEY_OK) {
        ngx_memcpy(copy, recs, nrecs * sizeof(authz_key_rec_t));

        if (slot->recs != NULL) {
            ngx_slab_free_locked(kr->shpool, slot->recs);
        }

        slot->recs = copy;
        slot->nrecs = nrecs;
        slot->generation++;
        slot->success = now;
        slot->success_time = ngx_time();
        slot->max_age = max_age;
        slot->failures = 0;
        slot->failing = 0;

    } else {
        backoff = 1000;

        if (slot->failures < 6) {
            backoff <<= slot->failures;

        } else {
            backoff = NGX_HTTP_AUTHZ_KEY_BACKOFF;
        }

        slot->failures++;
        slot->retry = now + ngx_min(backoff, NGX_HTTP_AUTHZ_KEY_BACKOFF);
        slot->failing = 1;
    }

    ngx_shmtx_unlock(&kr->shpool->mutex);

    /* one line per change of state, across the workers */

    if (result != NGX_HTTP_AUTHZ_KEY_OK && !was_failing) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "authz key set \"%V\": fetch failed (%V), %ui keys "
                      "kept until max_stale, retrying with backoff",
                      &kr->uri, &ngx_http_authz_key_results[result], nkept);

    } else if (result == NGX_HTTP_AUTHZ_KEY_OK && was_failing) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "authz key set \"%V\": fetched again, %ui keys",
                      &kr->uri, nrecs);

    } else {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, log, 0,
                       "authz key set \"%V\" fetch: %V, %ui keys",
                       &kr->uri, &ngx_http_authz_key_results[result], nrecs);
    }
}


/* for authz_status: the set of index i of the configuration */

ngx_int_t
ngx_http_authz_key_request_stats(ngx_http_authz_main_conf_t *amcf,
    ngx_uint_t i, ngx_http_authz_key_stats_t *st)
{
    ngx_uint_t                      k;
    ngx_http_authz_key_slot_t      *slot;
    ngx_http_authz_key_request_t  **krs, *kr;

    if (amcf->key_requests == NULL || i >= amcf->key_requests->nelts) {
        return NGX_DONE;
    }

    krs = amcf->key_requests->elts;
    kr = krs[i];
    st->source = &kr->uri;

    /* the first set of a source speaks for it: one series per label */

    for (k = 0; k < i; k++) {
        if (krs[k]->uri.len == kr->uri.len
            && ngx_strncmp(krs[k]->uri.data, kr->uri.data, kr->uri.len) == 0)
        {
            return NGX_DECLINED;
        }
    }

    slot = kr->slot;

    if (slot == NULL) {
        return NGX_DECLINED;
    }

    ngx_shmtx_lock(&kr->shpool->mutex);

    for (k = 0; k < NGX_HTTP_AUTHZ_KEY_RESULTS; k++) {
        st->fetches[k] = slot->fetches[k];
    }

    st->keys = (slot->generation
                && (ngx_msec_int_t) (ngx_current_msec - slot->success)
                   <= (ngx_msec_int_t) kr->max_stale)
               ? slot->nrecs : 0;
    st->last_success = slot->generation ? slot->success_time : 0;

    ngx_shmtx_unlock(&kr->shpool->mutex);

    return NGX_OK;
}
