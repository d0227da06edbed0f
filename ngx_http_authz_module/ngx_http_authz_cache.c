/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * The verified-token cache: shared memory, keyed by SHA-256 of the whole
 * token, bounded by the zone size with LRU eviction.  An entry records
 * the fingerprint of the key that verified the token, so that a hit
 * counts only where that key is trusted, and never outlives the token's
 * "exp" nor the configured ttl.  A hit skips the RSA operation only.
 */


#include "ngx_http_authz_module.h"

#include <openssl/sha.h>


typedef struct {
    ngx_rbtree_node_t        node;      /* key: first bytes of the hash */
    ngx_queue_t              queue;     /* LRU, most recent first */
    time_t                   expire;
    u_char                   hash[SHA256_DIGEST_LENGTH];
    u_char                   fingerprint[32];
} ngx_http_authz_cache_node_t;


typedef struct {
    ngx_rbtree_t             rbtree;
    ngx_rbtree_node_t        sentinel;
    ngx_queue_t              queue;

    /* for authz_status: changed with the zone locked */
    ngx_uint_t               hits;
    ngx_uint_t               misses;
    ngx_uint_t               evictions;
    ngx_uint_t               entries;
} ngx_http_authz_cache_sh_t;


typedef struct {
    ngx_http_authz_cache_sh_t  *sh;
    ngx_slab_pool_t            *shpool;
} ngx_http_authz_cache_t;


static ngx_int_t ngx_http_authz_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_authz_cache_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_authz_cache_node_t *ngx_http_authz_cache_find(
    ngx_http_authz_cache_t *cache, u_char *hash);
static void ngx_http_authz_cache_evict(ngx_http_authz_cache_t *cache,
    ngx_uint_t n, time_t now, ngx_uint_t force);
static void ngx_http_authz_cache_delete(ngx_http_authz_cache_t *cache,
    ngx_http_authz_cache_node_t *cn);


char *
ngx_http_authz_cache_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_authz_main_conf_t *amcf = conf;

    u_char                  *p;
    ssize_t                  size;
    ngx_str_t               *value, name, s;
    ngx_uint_t               i;
    ngx_http_authz_cache_t  *cache;

    if (amcf->cache != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_str_null(&name);
    size = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {

            name.data = value[i].data + 5;

            p = (u_char *) ngx_strchr(name.data, ':');

            if (p == NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\": invalid zone size \"%V\"",
                                   &cmd->name, &value[i]);
                return NGX_CONF_ERROR;
            }

            name.len = p - name.data;

            s.data = p + 1;
            s.len = value[i].data + value[i].len - s.data;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\": invalid zone size \"%V\"",
                                   &cmd->name, &value[i]);
                return NGX_CONF_ERROR;
            }

            if (size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\": zone \"%V\" is too small",
                                   &cmd->name, &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {

            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            amcf->cache_ttl = ngx_parse_time(&s, 1);

            if (amcf->cache_ttl == (time_t) NGX_ERROR
                || amcf->cache_ttl == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\": invalid ttl \"%V\"",
                                   &cmd->name, &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid parameter \"%V\"",
                           &cmd->name, &value[i]);
        return NGX_CONF_ERROR;
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (amcf->cache_ttl == 0) {
        amcf->cache_ttl = 300;
    }

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_authz_cache_t));
    if (cache == NULL) {
        return NGX_CONF_ERROR;
    }

    amcf->cache = ngx_shared_memory_add(cf, &name, size,
                                        &ngx_http_authz_module);
    if (amcf->cache == NULL) {
        return NGX_CONF_ERROR;
    }

    if (amcf->cache->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": zone \"%V\" is already used",
                           &cmd->name, &name);
        return NGX_CONF_ERROR;
    }

    amcf->cache->init = ngx_http_authz_cache_init_zone;
    amcf->cache->data = cache;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_authz_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_authz_cache_t  *ocache = data;

    size_t                   len;
    ngx_http_authz_cache_t  *cache;

    cache = shm_zone->data;

    /* a reload keeps the entries: they are keyed by content, not config */

    if (ocache) {
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;
        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return NGX_OK;
    }

    cache->sh = ngx_slab_calloc(cache->shpool,
                                sizeof(ngx_http_authz_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_http_authz_cache_insert_value);

    ngx_queue_init(&cache->sh->queue);

    len = sizeof(" in authz cache zone \"\"") + shm_zone->shm.name.len;

    cache->shpool->log_ctx = ngx_slab_alloc(cache->shpool, len);
    if (cache->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cache->shpool->log_ctx, " in authz cache zone \"%V\"%Z",
                &shm_zone->shm.name);

    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_http_authz_cache_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t           **p;
    ngx_http_authz_cache_node_t  *cn, *cnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else { /* node->key == temp->key */

            cn = (ngx_http_authz_cache_node_t *) node;
            cnt = (ngx_http_authz_cache_node_t *) temp;

            p = (ngx_memcmp(cn->hash, cnt->hash, SHA256_DIGEST_LENGTH) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_http_authz_cache_node_t *
ngx_http_authz_cache_find(ngx_http_authz_cache_t *cache, u_char *hash)
{
    ngx_int_t                     rc;
    ngx_rbtree_key_t              key;
    ngx_rbtree_node_t            *node, *sentinel;
    ngx_http_authz_cache_node_t  *cn;

    ngx_memcpy(&key, hash, sizeof(ngx_rbtree_key_t));

    node = cache->sh->rbtree.root;
    sentinel = cache->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        cn = (ngx_http_authz_cache_node_t *) node;

        rc = ngx_memcmp(hash, cn->hash, SHA256_DIGEST_LENGTH);

        if (rc == 0) {
            return cn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/*
 * fills fingerprint and returns NGX_OK on a live entry for the token;
 * NGX_DECLINED on a miss
 */

ngx_int_t
ngx_http_authz_cache_lookup(ngx_http_request_t *r, ngx_str_t *token,
    u_char *hash, u_char *fingerprint)
{
    ngx_int_t                     rc;
    ngx_http_authz_cache_t       *cache;
    ngx_http_authz_main_conf_t   *amcf;
    ngx_http_authz_cache_node_t  *cn;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_authz_module);
    cache = amcf->cache->data;

    SHA256(token->data, token->len, hash);

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_authz_cache_find(cache, hash);

    if (cn != NULL) {
        if (cn->expire > ngx_time()) {
            ngx_memcpy(fingerprint, cn->fingerprint, 32);

            ngx_queue_remove(&cn->queue);
            ngx_queue_insert_head(&cache->sh->queue, &cn->queue);

            rc = NGX_OK;

        } else {
            ngx_http_authz_cache_delete(cache, cn);
        }
    }

    if (rc == NGX_OK) {
        cache->sh->hits++;

    } else {
        cache->sh->misses++;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


/* records a token that a key verified just now */

void
ngx_http_authz_cache_store(ngx_http_request_t *r, u_char *hash,
    const u_char *fingerprint, time_t expire)
{
    time_t                        now;
    ngx_http_authz_cache_t       *cache;
    ngx_http_authz_main_conf_t   *amcf;
    ngx_http_authz_cache_node_t  *cn;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_authz_module);
    cache = amcf->cache->data;

    now = ngx_time();

    if (expire > now + amcf->cache_ttl) {
        expire = now + amcf->cache_ttl;
    }

    if (expire <= now) {
        return;
    }

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_authz_cache_find(cache, hash);

    if (cn != NULL) {
        /* another worker was first */
        goto done;
    }

    ngx_http_authz_cache_evict(cache, 1, now, 0);

    cn = ngx_slab_alloc_locked(cache->shpool,
                               sizeof(ngx_http_authz_cache_node_t));

    if (cn == NULL) {
        /* full: the least recently used entries make room */

        ngx_http_authz_cache_evict(cache, 16, now, 1);

        cn = ngx_slab_alloc_locked(cache->shpool,
                                   sizeof(ngx_http_authz_cache_node_t));
        if (cn == NULL) {
            goto done;
        }
    }

    ngx_memcpy(&cn->node.key, hash, sizeof(ngx_rbtree_key_t));
    ngx_memcpy(cn->hash, hash, SHA256_DIGEST_LENGTH);
    ngx_memcpy(cn->fingerprint, fingerprint, 32);
    cn->expire = expire;

    ngx_rbtree_insert(&cache->sh->rbtree, &cn->node);
    ngx_queue_insert_head(&cache->sh->queue, &cn->queue);
    cache->sh->entries++;

done:

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/*
 * removes up to n entries from the LRU tail: expired ones only, or
 * with force any; an eviction is counted only for a live entry
 */

static void
ngx_http_authz_cache_evict(ngx_http_authz_cache_t *cache, ngx_uint_t n,
    time_t now, ngx_uint_t force)
{
    ngx_queue_t                  *q;
    ngx_http_authz_cache_node_t  *cn;

    while (n--) {

        if (ngx_queue_empty(&cache->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&cache->sh->queue);
        cn = ngx_queue_data(q, ngx_http_authz_cache_node_t, queue);

        if (cn->expire > now) {
            if (!force) {
                return;
            }

            cache->sh->evictions++;
        }

        ngx_http_authz_cache_delete(cache, cn);
    }
}


/* with the zone locked */

static void
ngx_http_authz_cache_delete(ngx_http_authz_cache_t *cache,
    ngx_http_authz_cache_node_t *cn)
{
    ngx_queue_remove(&cn->queue);
    ngx_rbtree_delete(&cache->sh->rbtree, &cn->node);
    ngx_slab_free_locked(cache->shpool, cn);
    cache->sh->entries--;
}


/* authz_status: the counters of the zone, all zero without a cache */

void
ngx_http_authz_cache_stats(ngx_http_authz_main_conf_t *amcf,
    ngx_http_authz_cache_stats_t *st)
{
    ngx_http_authz_cache_t  *cache;

    ngx_memzero(st, sizeof(ngx_http_authz_cache_stats_t));

    if (amcf->cache == NULL) {
        return;
    }

    cache = amcf->cache->data;

    ngx_shmtx_lock(&cache->shpool->mutex);

    st->hits = cache->sh->hits;
    st->misses = cache->sh->misses;
    st->evictions = cache->sh->evictions;
    st->entries = cache->sh->entries;

    ngx_shmtx_unlock(&cache->shpool->mutex);
}
