/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * The verified-token cache: shared memory, bounded by the zone size
 * with LRU eviction.  An entry is found by a 64-bit hash of the whole
 * token and holds the token's bytes, compared in full: two tokens
 * never share an entry.  It records the fingerprint of the key that
 * verified the token, so that a hit counts only where that key is
 * trusted, and never outlives the token's "exp" nor the configured
 * ttl.
 *
 * It may also hold the claims: what the evaluation needs (alg, kid,
 * exp, nbf, iat, iss, aud, jti, and the identity: sub, tenant,
 * effective permissions, services, roles), recorded with the digest
 * of the claim settings the identity was made with.  A lookup under
 * the same settings gets the claims, and a hit then needs no base64,
 * no JSON and no signature: ngx_http_authz_cache_entry_read() checks
 * again, from the recorded values, everything that depends on time or
 * on the location (size, alg, the key still a candidate, exp, nbf,
 * iat with the leeway, iss, aud); the handler checks the rest
 * (revocation, tenant, services, rules, conditions) as for a miss.
 * Whatever does not pass goes the way of a miss (with the fingerprint:
 * no signature), which gives the exact answer.
 */


#include "ngx_http_authz_module.h"


/* the claims of an entry: at most this, and 1/32 of the zone */
#define NGX_HTTP_AUTHZ_CACHE_CLAIMS_MAX  65536

/* changes whenever the layout of the claims changes */
#define NGX_HTTP_AUTHZ_CACHE_FORMAT      2

/* the bytes at the end of a token that its lookup hash covers */
#define NGX_HTTP_AUTHZ_CACHE_HASHED      64

#define NGX_HTTP_AUTHZ_CLAIM_KID         0x01
#define NGX_HTTP_AUTHZ_CLAIM_EXP         0x02
#define NGX_HTTP_AUTHZ_CLAIM_NBF         0x04
#define NGX_HTTP_AUTHZ_CLAIM_IAT         0x08
#define NGX_HTTP_AUTHZ_CLAIM_ISS         0x10
#define NGX_HTTP_AUTHZ_CLAIM_JTI         0x20
#define NGX_HTTP_AUTHZ_CLAIM_TYP         0x40
#define NGX_HTTP_AUTHZ_CLAIM_SERVICES    0x80  /* the claim is present */


typedef struct {
    ngx_rbtree_node_t        node;      /* key: hash of the token */
    ngx_queue_t              queue;     /* LRU, most recent first */
    time_t                   expire;
    uint64_t                 digest;    /* claim settings of the claims */
    uint32_t                 token_len;
    uint32_t                 claims_len;  /* 0: the fingerprint only */
    u_char                   fingerprint[32];
    u_char                   data[1];   /* the token, then the claims */
} ngx_http_authz_cache_node_t;


/* the claims of an entry, read: strings point into the r->pool copy */

typedef struct {
    uint32_t                 flags;
    uint32_t                 alg;
    authz_times_t            times;
    ngx_str_t                alg_name;
    ngx_str_t                kid;
    ngx_str_t                typ;
    ngx_str_t                iss;
    ngx_str_t                jti;
    ngx_str_t                sub;
    ngx_str_t                tenant;
    ngx_str_t                permissions;  /* joined with "," */
    ngx_str_t                services;
    ngx_str_t                roles;
    uint32_t                 naud;
    u_char                  *aud;          /* naud strings */
} ngx_http_authz_cache_claims_t;


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
static ngx_int_t ngx_http_authz_cache_cmp(const u_char *token, size_t len,
    ngx_http_authz_cache_node_t *cn);
static ngx_http_authz_cache_node_t *ngx_http_authz_cache_find(
    ngx_http_authz_cache_t *cache, uint64_t hash, ngx_str_t *token);
static u_char *ngx_http_authz_cache_entry_write(ngx_http_request_t *r,
    ngx_http_authz_eval_t *eval, size_t *len);
static ngx_int_t ngx_http_authz_cache_claims(ngx_http_authz_cache_entry_t *e,
    ngx_http_authz_cache_claims_t *c);
static ngx_int_t ngx_http_authz_cache_check(ngx_http_request_t *r,
    const authz_verify_conf_t *verify,
    ngx_http_authz_eval_t *eval, ngx_http_authz_cache_claims_t *c,
    u_char *fingerprint, const authz_key_t **key);
static ngx_int_t ngx_http_authz_cache_split(ngx_http_request_t *r,
    ngx_str_t *joined, authz_str_t **out, size_t *n);
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

            p = (ngx_http_authz_cache_cmp(cn->data, cn->token_len, cnt) < 0)
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


/* the order of tokens of one hash: by length, then by bytes */

static ngx_int_t
ngx_http_authz_cache_cmp(const u_char *token, size_t len,
    ngx_http_authz_cache_node_t *cn)
{
    if (len != cn->token_len) {
        return (len < cn->token_len) ? -1 : 1;
    }

    return ngx_memcmp(token, cn->data, len);
}


static ngx_http_authz_cache_node_t *
ngx_http_authz_cache_find(ngx_http_authz_cache_t *cache, uint64_t hash,
    ngx_str_t *token)
{
    ngx_int_t                     rc;
    ngx_rbtree_key_t              key;
    ngx_rbtree_node_t            *node, *sentinel;
    ngx_http_authz_cache_node_t  *cn;

    key = (ngx_rbtree_key_t) hash;

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

        rc = ngx_http_authz_cache_cmp(token->data, token->len, cn);

        if (rc == 0) {
            return cn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/*
 * MurmurHash64A (Austin Appleby, public domain): 8 bytes a step; not
 * a defence against chosen collisions, and it need not be one: the
 * token's bytes are compared in full, and tokens of one hash are
 * ordered by their bytes in the rbtree, which stays balanced
 */

uint64_t
ngx_http_authz_hash(uint64_t seed, const u_char *p, size_t len)
{
    uint64_t       h, k;
    const u_char  *end;

    static const uint64_t  m = 0xc6a4a7935bd1e995ULL;

    h = seed ^ (len * m);

    for (end = p + (len & ~(size_t) 7); p != end; p += 8) {
        ngx_memcpy(&k, p, 8);

        k *= m;
        k ^= k >> 47;
        k *= m;

        h ^= k;
        h *= m;
    }

    k = 0;

    switch (len & 7) {
    case 7: k ^= (uint64_t) p[6] << 48;  /* fall through */
    case 6: k ^= (uint64_t) p[5] << 40;  /* fall through */
    case 5: k ^= (uint64_t) p[4] << 32;  /* fall through */
    case 4: k ^= (uint64_t) p[3] << 24;  /* fall through */
    case 3: k ^= (uint64_t) p[2] << 16;  /* fall through */
    case 2: k ^= (uint64_t) p[1] << 8;   /* fall through */
    case 1: k ^= (uint64_t) p[0];
            h ^= k;
            h *= m;
    }

    h ^= h >> 47;
    h *= m;
    h ^= h >> 47;

    return h;
}


/*
 * the digest of every setting that makes the identity of a token from
 * its claims (at merge time, from values, never pointers: the zone
 * survives reloads); never 0, which marks an entry without claims
 */

uint64_t
ngx_http_authz_cache_digest(ngx_http_authz_loc_conf_t *alcf)
{
    size_t               i, j;
    uint64_t             h;
    authz_claims_conf_t *c;

    c = &alcf->claims;

#define ngx_http_authz_digest_str(s)                                         \
    h = ngx_http_authz_hash(h + (s).len, (s).data, (s).len)

    h = NGX_HTTP_AUTHZ_CACHE_FORMAT;

    ngx_http_authz_digest_str(c->sub_claim);
    ngx_http_authz_digest_str(c->tenant_claim);
    ngx_http_authz_digest_str(c->permissions_claim);
    ngx_http_authz_digest_str(c->services_claim);
    ngx_http_authz_digest_str(c->roles_claim);

    /* several permissions claims (their union), each a name or pointer */

    h = ngx_http_authz_hash(h, (u_char *) "permissions", 11)
        + c->npermissions_claims;

    for (i = 0; i < c->npermissions_claims; i++) {
        ngx_http_authz_digest_str(c->permissions_claims[i]);
    }

    /* roles read only when used; which claims are named (info line) */

    h += (uint64_t) (c->roles_used ? 1 : 0) << 32;
    h += (uint64_t) alcf->claims_explicit << 40;

    h = ngx_http_authz_hash(h, (u_char *) "roles", 5) + c->nroles;

    for (i = 0; i < c->nroles; i++) {
        ngx_http_authz_digest_str(c->roles[i].name);

        h += c->roles[i].nperms;

        for (j = 0; j < c->roles[i].nperms; j++) {
            ngx_http_authz_digest_str(c->roles[i].perms[j]);
        }
    }

    h = ngx_http_authz_hash(h, (u_char *) "levels", 6)
        + alcf->scope.nlevels;

    for (i = 0; i < alcf->scope.nlevels; i++) {
        ngx_http_authz_digest_str(alcf->scope.levels[i]);
    }

#undef ngx_http_authz_digest_str

    return (h == 0) ? 1 : h;
}


/*
 * NGX_OK on a live entry for the token: entry->fingerprint is set, and
 * entry->claims when they were made under the claim settings digest;
 * NGX_DECLINED on a miss; entry->hash is set either way
 */

ngx_int_t
ngx_http_authz_cache_lookup(ngx_http_request_t *r, ngx_str_t *token,
    uint64_t digest, ngx_http_authz_cache_entry_t *entry)
{
    size_t                        n;
    ngx_int_t                     rc;
    ngx_http_authz_cache_t       *cache;
    ngx_http_authz_main_conf_t   *amcf;
    ngx_http_authz_cache_node_t  *cn;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_authz_module);
    cache = amcf->cache->data;

    /*
     * the hash only finds the entry; the token's bytes, compared in
     * full, decide.  The last bytes of a token are its signature's,
     * which differ between any two signed tokens: hashing them and the
     * length spreads the entries as well as hashing everything.  Tokens
     * that share them (forged ones) share a hash and are told apart by
     * the comparison, in a tree ordered by their bytes.
     */

    n = ngx_min(token->len, NGX_HTTP_AUTHZ_CACHE_HASHED);
    entry->hash = ngx_http_authz_hash(token->len,
                                      token->data + token->len - n, n);
    entry->claims = NULL;
    entry->claims_len = 0;

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_authz_cache_find(cache, entry->hash, token);

    if (cn != NULL) {
        if (cn->expire > ngx_time()) {
            ngx_memcpy(entry->fingerprint, cn->fingerprint, 32);

            if (cn->claims_len && cn->digest == digest) {
                entry->claims = ngx_pnalloc(r->pool, cn->claims_len);

                if (entry->claims != NULL) {
                    ngx_memcpy(entry->claims, cn->data + cn->token_len,
                               cn->claims_len);
                    entry->claims_len = cn->claims_len;
                }
            }

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


/*
 * records a token that a key verified just now (the key of
 * eval->fingerprint), with its claims if claims is set: the identity
 * of eval, made under eval->conf's claim settings
 */

void
ngx_http_authz_cache_store(ngx_http_request_t *r,
    ngx_http_authz_cache_entry_t *entry, ngx_http_authz_eval_t *eval,
    time_t expire, ngx_uint_t claims)
{
    u_char                       *blob;
    size_t                        len, max;
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

    /* the claims, made before the lock; too large: the fingerprint only */

    blob = NULL;
    len = 0;

    if (claims) {
        blob = ngx_http_authz_cache_entry_write(r, eval, &len);

        max = ngx_min(NGX_HTTP_AUTHZ_CACHE_CLAIMS_MAX,
                      amcf->cache->shm.size / 32);

        if (blob == NULL || len > max) {
            blob = NULL;
            len = 0;
        }
    }

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_authz_cache_find(cache, entry->hash, &eval->token);

    if (cn != NULL) {
        /* another worker, or another claim setting, was first */
        goto done;
    }

    ngx_http_authz_cache_evict(cache, 1, now, 0);

    len += offsetof(ngx_http_authz_cache_node_t, data) + eval->token.len;

    cn = ngx_slab_alloc_locked(cache->shpool, len);

    /*
     * full: the least recently used entries make room; entries differ
     * in size, so a large one may need more than one round
     */

    while (cn == NULL) {

        if (ngx_queue_empty(&cache->sh->queue)) {
            goto done;
        }

        ngx_http_authz_cache_evict(cache, 16, now, 1);

        cn = ngx_slab_alloc_locked(cache->shpool, len);
    }

    cn->node.key = (ngx_rbtree_key_t) entry->hash;
    cn->expire = expire;
    cn->digest = eval->conf->claims_digest;
    cn->token_len = eval->token.len;
    cn->claims_len = len - offsetof(ngx_http_authz_cache_node_t, data)
                     - eval->token.len;
    ngx_memcpy(cn->fingerprint, eval->fingerprint, 32);
    ngx_memcpy(cn->data, eval->token.data, eval->token.len);

    if (cn->claims_len) {
        ngx_memcpy(cn->data + cn->token_len, blob, cn->claims_len);
    }

    ngx_rbtree_insert(&cache->sh->rbtree, &cn->node);
    ngx_queue_insert_head(&cache->sh->queue, &cn->queue);
    cache->sh->entries++;

done:

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/*
 * The claims of an entry, as bytes: flags (NGX_HTTP_AUTHZ_CLAIM_*),
 * exp, nbf, iat (doubles), then strings, each a 32-bit length and its
 * bytes: alg, kid, typ, iss, jti, sub, tenant; the permissions, services
 * and roles, each one string joined with ","; the
 * number of aud strings and the strings.  NULL when the identity
 * cannot be written this way (an item empty or with a ",", or a time
 * that is not a number): the entry then keeps the fingerprint only.
 */

#define ngx_http_authz_put32(p, v)                                           \
    do { uint32_t  v32 = (uint32_t) (v);                                     \
         p = ngx_cpymem(p, &v32, 4); } while (0)

#define ngx_http_authz_putstr(p, d, l)                                       \
    do { ngx_http_authz_put32(p, l);                                         \
         if (l) { p = ngx_cpymem(p, d, l); } } while (0)


static u_char *
ngx_http_authz_cache_entry_write(ngx_http_request_t *r,
    ngx_http_authz_eval_t *eval, size_t *len)
{
    u_char            *blob, *p;
    size_t             i, k, n, size, naud;
    double             times[3];
    size_t             counts[3], joined[3];
    uint32_t           flags;
    authz_str_t       *lists[3];
    authz_json_t      *v, *aud, *iss, *e;
    authz_identity_t  *id;

    id = &eval->id;

    flags = 0;
    times[0] = eval->exp;
    times[1] = 0;
    times[2] = eval->iat;

    if (eval->kid.len) {
        flags |= NGX_HTTP_AUTHZ_CLAIM_KID;
    }

    if (eval->has_exp) {
        flags |= NGX_HTTP_AUTHZ_CLAIM_EXP;
    }

    if (eval->has_iat) {
        flags |= NGX_HTTP_AUTHZ_CLAIM_IAT;
    }

    if (eval->has_jti) {
        flags |= NGX_HTTP_AUTHZ_CLAIM_JTI;
    }

    if (eval->typ.data != NULL) {
        flags |= NGX_HTTP_AUTHZ_CLAIM_TYP;
    }

    if (id->has_services) {
        flags |= NGX_HTTP_AUTHZ_CLAIM_SERVICES;
    }

    v = authz_json_get(eval->payload, "nbf");

    if (v != NULL) {
        if (!authz_json_is_number(v)) {
            return NULL;
        }

        flags |= NGX_HTTP_AUTHZ_CLAIM_NBF;
        times[1] = authz_json_number_value(v);
    }

    iss = authz_json_get(eval->payload, "iss");

    if (authz_json_is_string(iss)) {
        flags |= NGX_HTTP_AUTHZ_CLAIM_ISS;
    }

    /* aud: its strings; no string matches no audience, as on a miss */

    aud = authz_json_get(eval->payload, "aud");
    naud = 0;
    size = 0;

    if (authz_json_is_string(aud)) {
        naud = 1;
        size += 4 + authz_json_string_length(aud);

    } else if (authz_json_is_array(aud)) {
        authz_json_foreach(aud, i, e) {
            if (authz_json_is_string(e)) {
                naud++;
                size += 4 + authz_json_string_length(e);
            }
        }
    }

    lists[0] = id->perms;
    counts[0] = id->nperms;
    lists[1] = id->services;
    counts[1] = id->nservices;
    lists[2] = id->roles;
    counts[2] = id->nroles;

    for (k = 0; k < 3; k++) {
        joined[k] = 0;

        for (i = 0; i < counts[k]; i++) {
            n = lists[k][i].len;

            if (n == 0 || memchr(lists[k][i].data, ',', n) != NULL) {
                return NULL;
            }

            joined[k] += n + (i ? 1 : 0);
        }

        size += 4 + joined[k];
    }

    size += 4 + sizeof(times) + 4 * 7 + eval->alg.len + eval->kid.len
            + eval->typ.len
            + (iss ? authz_json_string_length(iss) : 0) + eval->jti.len
            + id->sub.len + id->tenant.len + 4;

    blob = ngx_pnalloc(r->pool, size);
    if (blob == NULL) {
        return NULL;
    }

    p = blob;

    ngx_http_authz_put32(p, flags);
    p = ngx_cpymem(p, times, sizeof(times));

    ngx_http_authz_putstr(p, eval->alg.data, eval->alg.len);
    ngx_http_authz_putstr(p, eval->kid.data, eval->kid.len);
    ngx_http_authz_putstr(p, eval->typ.data, eval->typ.len);

    if (flags & NGX_HTTP_AUTHZ_CLAIM_ISS) {
        ngx_http_authz_putstr(p, authz_json_string(iss),
                              authz_json_string_length(iss));
    } else {
        ngx_http_authz_put32(p, 0);
    }

    ngx_http_authz_putstr(p, eval->jti.data, eval->jti.len);
    ngx_http_authz_putstr(p, id->sub.data, id->sub.len);
    ngx_http_authz_putstr(p, id->tenant.data, id->tenant.len);

    for (k = 0; k < 3; k++) {
        ngx_http_authz_put32(p, joined[k]);

        for (i = 0; i < counts[k]; i++) {
            if (i) {
                *p++ = ',';
            }

            p = ngx_cpymem(p, lists[k][i].data, lists[k][i].len);
        }
    }

    ngx_http_authz_put32(p, naud);

    if (authz_json_is_string(aud)) {
        ngx_http_authz_putstr(p, authz_json_string(aud),
                              authz_json_string_length(aud));

    } else if (naud) {
        authz_json_foreach(aud, i, e) {
            if (authz_json_is_string(e)) {
                ngx_http_authz_putstr(p, authz_json_string(e),
                                      authz_json_string_length(e));
            }
        }
    }

    *len = p - blob;

    return blob;
}


/* reads what ngx_http_authz_cache_entry_write() wrote */

#define ngx_http_authz_get32(p, end, v)                                      \
    do { uint32_t  v32;                                                      \
         if (end - p < 4) { return NGX_DECLINED; }                           \
         ngx_memcpy(&v32, p, 4); p += 4; v = v32; } while (0)

#define ngx_http_authz_getstr(p, end, s)                                     \
    do { ngx_http_authz_get32(p, end, (s)->len);                             \
         if ((size_t) (end - p) < (s)->len) { return NGX_DECLINED; }         \
         (s)->data = p; p += (s)->len; } while (0)


static ngx_int_t
ngx_http_authz_cache_claims(ngx_http_authz_cache_entry_t *e,
    ngx_http_authz_cache_claims_t *c)
{
    u_char    *p, *end;
    double     times[3];
    uint32_t   i;
    ngx_str_t  s;

    p = e->claims;
    end = p + e->claims_len;

    ngx_http_authz_get32(p, end, c->flags);

    if (end - p < (ssize_t) sizeof(times)) {
        return NGX_DECLINED;
    }

    ngx_memcpy(times, p, sizeof(times));
    p += sizeof(times);

    c->times.exp = times[0];
    c->times.nbf = times[1];
    c->times.iat = times[2];
    c->times.has_exp = (c->flags & NGX_HTTP_AUTHZ_CLAIM_EXP) ? 1 : 0;
    c->times.has_nbf = (c->flags & NGX_HTTP_AUTHZ_CLAIM_NBF) ? 1 : 0;
    c->times.has_iat = (c->flags & NGX_HTTP_AUTHZ_CLAIM_IAT) ? 1 : 0;

    ngx_http_authz_getstr(p, end, &c->alg_name);
    ngx_http_authz_getstr(p, end, &c->kid);
    ngx_http_authz_getstr(p, end, &c->typ);
    ngx_http_authz_getstr(p, end, &c->iss);
    ngx_http_authz_getstr(p, end, &c->jti);
    ngx_http_authz_getstr(p, end, &c->sub);
    ngx_http_authz_getstr(p, end, &c->tenant);

    ngx_http_authz_getstr(p, end, &c->permissions);
    ngx_http_authz_getstr(p, end, &c->services);
    ngx_http_authz_getstr(p, end, &c->roles);

    ngx_http_authz_get32(p, end, c->naud);
    c->aud = p;

    for (i = 0; i < c->naud; i++) {
        ngx_http_authz_getstr(p, end, &s);
    }

    return (p == end) ? NGX_OK : NGX_DECLINED;
}


/*
 * a hit with claims: NGX_OK when every check that depends on time or
 * on the location passes, and eval is then complete as after a miss
 * (before the revocation check); NGX_DECLINED: decode as on a miss
 */

ngx_int_t
ngx_http_authz_cache_entry_read(ngx_http_request_t *r,
    ngx_http_authz_eval_t *eval, ngx_http_authz_cache_entry_t *entry,
    const authz_verify_conf_t *verify)
{
    ngx_int_t                       rc;
    authz_identity_t               *id;
    const ngx_str_t                *src;
    const authz_key_t              *key;
    ngx_http_authz_cache_claims_t   c;

    if (entry->claims == NULL
        || ngx_http_authz_cache_claims(entry, &c) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    rc = ngx_http_authz_cache_check(r, verify, eval, &c, entry->fingerprint,
                                    &key);
    if (rc != NGX_OK) {
        return rc;
    }

    id = &eval->id;

    if (ngx_http_authz_cache_split(r, &c.permissions, &id->perms,
                                   &id->nperms)
        != NGX_OK
        || ngx_http_authz_cache_split(r, &c.services, &id->services,
                                      &id->nservices)
           != NGX_OK
        || ngx_http_authz_cache_split(r, &c.roles, &id->roles, &id->nroles)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    id->sub.data = c.sub.data;
    id->sub.len = c.sub.len;
    id->tenant.data = c.tenant.data;
    id->tenant.len = c.tenant.len;
    id->has_services = (c.flags & NGX_HTTP_AUTHZ_CLAIM_SERVICES) ? 1 : 0;

    eval->permissions = c.permissions;
    eval->services = c.services;
    eval->roles = c.roles;

    eval->kid = c.kid;
    eval->alg = c.alg_name;

    if (c.flags & NGX_HTTP_AUTHZ_CLAIM_TYP) {
        eval->typ = c.typ;

        if (eval->typ.len == 0) {
            eval->typ.data = (u_char *) "";
        }
    }

    /* $authz_key_source: the key's, as on a miss (conf or r->pool) */

    if (key->source != NULL) {
        src = key->source;

        eval->key_source.data = ngx_pnalloc(r->pool, src->len);
        if (eval->key_source.data == NULL) {
            return NGX_ERROR;
        }

        eval->key_source.len = src->len;
        ngx_memcpy(eval->key_source.data, src->data, src->len);
    }

    eval->has_exp = c.times.has_exp;
    eval->exp = c.times.exp;
    eval->has_iat = c.times.has_iat;
    eval->iat = c.times.iat;
    eval->has_jti = (c.flags & NGX_HTTP_AUTHZ_CLAIM_JTI) ? 1 : 0;
    eval->jti = c.jti;

    ngx_memcpy(eval->fingerprint, key->fingerprint, 32);
    eval->verified = 1;
    eval->cache = NGX_HTTP_AUTHZ_CACHE_HIT;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "authz cache hit with claims");

    return NGX_OK;
}


/* what authz_token_decode() and authz_token_check_claims() check */

static ngx_int_t
ngx_http_authz_cache_check(ngx_http_request_t *r,
    const authz_verify_conf_t *verify, ngx_http_authz_eval_t *eval,
    ngx_http_authz_cache_claims_t *c, u_char *fingerprint,
    const authz_key_t **key)
{
    u_char         *p;
    uint32_t        i, len;
    authz_token_t   tok;

    if (eval->token.len > verify->max_size
        || c->kid.len > AUTHZ_MAX_KID_LEN)
    {
        return NGX_DECLINED;
    }

    ngx_memzero(&tok, sizeof(authz_token_t));

    tok.alg = authz_alg_parse(c->alg_name.data, c->alg_name.len);

    if ((tok.alg & verify->algs) == 0) {
        return NGX_DECLINED;
    }

    /* the key of the fingerprint: still a candidate of this location */

    if (c->flags & NGX_HTTP_AUTHZ_CLAIM_KID) {
        tok.has_kid = 1;
        tok.kid_len = c->kid.len;
        ngx_memcpy(tok.kid, c->kid.data, c->kid.len);
    }

    *key = authz_token_trusted_key(&tok, verify, fingerprint);

    if (*key == NULL) {
        return NGX_DECLINED;
    }

    /* issuer binding (SPEC 10): the key signs for its own issuer only */

    if ((*key)->issuer != NULL
        && (!(c->flags & NGX_HTTP_AUTHZ_CLAIM_ISS)
            || c->iss.len != (*key)->issuer_len
            || ngx_memcmp(c->iss.data, (*key)->issuer, c->iss.len) != 0))
    {
        return NGX_DECLINED;
    }

    /* authz_token_type: a token without "typ" fails */

    if (verify->ntypes) {
        if (!(c->flags & NGX_HTTP_AUTHZ_CLAIM_TYP)) {
            return NGX_DECLINED;
        }

        for (i = 0; i < verify->ntypes; i++) {
            if (authz_typ_eq(c->typ.data, c->typ.len, verify->types[i].data,
                             verify->types[i].len))
            {
                break;
            }
        }

        if (i == verify->ntypes) {
            return NGX_DECLINED;
        }
    }

    if (!authz_times_ok(&c->times, verify, ngx_time())) {
        return NGX_DECLINED;
    }

    if (verify->nissuers
        && (!(c->flags & NGX_HTTP_AUTHZ_CLAIM_ISS)
            || !authz_str_in(verify->issuers, verify->nissuers,
                             c->iss.data, c->iss.len)))
    {
        return NGX_DECLINED;
    }

    if (verify->naudiences == 0) {
        return NGX_OK;
    }

    /* read with their bounds by ngx_http_authz_cache_claims() */

    p = c->aud;

    for (i = 0; i < c->naud; i++) {
        ngx_memcpy(&len, p, 4);
        p += 4;

        if (authz_str_in(verify->audiences, verify->naudiences, p, len)) {
            return NGX_OK;
        }

        p += len;
    }

    return NGX_DECLINED;
}


/* "a,b,c" into an array of n strings that point into it */

static ngx_int_t
ngx_http_authz_cache_split(ngx_http_request_t *r, ngx_str_t *joined,
    authz_str_t **out, size_t *n)
{
    u_char       *p, *end, *comma;
    size_t        k;
    authz_str_t  *a;

    end = joined->data + joined->len;
    k = 1;

    for (p = joined->data; p < end; p = comma + 1) {
        comma = memchr(p, ',', end - p);

        if (comma == NULL) {
            break;
        }

        k++;
    }

    a = ngx_palloc(r->pool, k * sizeof(authz_str_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    *out = a;
    *n = 0;

    if (joined->len == 0) {
        return NGX_OK;
    }

    for (p = joined->data; /* void */; p = comma + 1) {
        comma = memchr(p, ',', end - p);

        a->data = p;
        a->len = (comma ? comma : end) - p;
        a++;
        (*n)++;

        if (comma == NULL) {
            break;
        }
    }

    return NGX_OK;
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
