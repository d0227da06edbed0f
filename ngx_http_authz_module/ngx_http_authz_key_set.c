/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * authz_key_cache and the fetched key sets: a checked response becomes
 * normalized records (authz_key_rec_t) in the shared zone with a
 * generation, the success and failure times, the backoff and the owner
 * word of the single flight; each worker imports the records of a set
 * into its own keys (worker memory, never configuration) once per
 * generation.  Sets are found by their id, so a reload keeps them.
 */


#include "ngx_http_authz_key_set.h"

#include <jansson.h>


static ngx_int_t ngx_http_authz_key_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_uint_t ngx_http_authz_key_body(ngx_http_request_t *sr,
    ngx_int_t rc, ngx_http_authz_key_request_t *kr, u_char **body,
    size_t *len, ngx_msec_t *max_age);
static ngx_uint_t ngx_http_authz_key_parse(ngx_log_t *log,
    ngx_http_authz_key_request_t *kr, u_char *body, size_t len,
    authz_key_rec_t **recs, ngx_uint_t *nrecs);
static void ngx_http_authz_key_skip(void *data, const char *reason);
static void ngx_http_authz_key_publish(ngx_log_t *log,
    ngx_http_authz_key_fetch_t *fetch, ngx_uint_t result,
    authz_key_rec_t *recs, ngx_uint_t nrecs, ngx_msec_t max_age);


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


ngx_http_authz_key_local_t *
ngx_http_authz_key_local(ngx_http_authz_key_request_t *kr)
{
    return &ngx_http_authz_key_locals[kr->index];
}


void
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

ngx_int_t
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


/* a fetch that ends without an outcome frees the owner word */

void
ngx_http_authz_key_release(ngx_http_authz_key_fetch_t *fetch)
{
    ngx_http_authz_key_slot_t  *slot;

    if (fetch->done) {
        return;
    }

    fetch->done = 1;
    slot = fetch->kr->slot;

    if (fetch->pending != NULL) {
        (*fetch->pending)--;
    }

    ngx_shmtx_lock(&fetch->kr->shpool->mutex);

    if (slot->owner == ngx_pid && slot->owner_seq == fetch->seq) {
        slot->owner = 0;
        slot->version++;
    }

    ngx_shmtx_unlock(&fetch->kr->shpool->mutex);
}


/* the end of a fetch's subrequest (post_subrequest handler) */

ngx_int_t
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

    /*
     * the client went away: not the provider's failure, no backoff;
     * a waiting request takes the word and fetches again
     */

    if (rc == NGX_HTTP_CLIENT_CLOSED_REQUEST) {
        ngx_http_authz_key_release(fetch);
        return rc;
    }

    recs = NULL;
    nrecs = 0;
    max_age = 0;

    if (sr->connection->error) {

        /*
         * the fetch broke the connection itself: an answer larger than
         * the location's subrequest_output_buffer_size ("too big
         * subrequest response"); a failure of the fetch, with backoff,
         * or every request would fetch again at once
         */

        result = NGX_HTTP_AUTHZ_KEY_TOO_LARGE;

    } else {
        result = ngx_http_authz_key_body(sr, rc, fetch->kr, &body, &len,
                                         &max_age);
    }

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

    if (fetch->pending != NULL) {
        (*fetch->pending)--;
    }

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

    /*
     * a fetch that outlived its deadline, answered after a newer one
     * had its outcome: an older answer never replaces a newer set
     */

    if (fetch->seq < slot->applied_seq) {
        slot->version++;
        ngx_shmtx_unlock(&kr->shpool->mutex);

        if (copy != NULL) {
            ngx_slab_free(kr->shpool, copy);
        }

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "authz key set \"%V\": a late answer of an older "
                      "fetch ignored", &kr->uri);
        return;
    }

    slot->applied_seq = fetch->seq;
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

