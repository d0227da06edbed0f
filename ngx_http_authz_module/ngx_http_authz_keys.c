/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * authz_key_file and authz_algorithms: keys are read, parsed and
 * checked once, at configuration time, into cf->pool; which of them
 * may verify which algorithm in a location is decided at merge, where
 * authz_algorithms is known.
 */


#include "ngx_http_authz_module.h"


typedef struct {
    ngx_conf_t                 *cf;
    u_char                     *path;
} ngx_http_authz_key_skip_t;


static void ngx_http_authz_key_skip(void *data, const char *reason);
static void ngx_http_authz_key_cleanup(void *data);
static u_char *ngx_http_authz_key_name(u_char *buf, size_t len,
    ngx_http_authz_key_file_t *kf, authz_key_t *key, ngx_uint_t i);
static u_char *ngx_http_authz_algs_text(u_char *buf, size_t len,
    ngx_uint_t algs);


/* $authz_key_source of the keys of authz_key_file */
static ngx_str_t  ngx_http_authz_key_source_file = ngx_string("file");


char *
ngx_http_authz_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_authz_loc_conf_t *alcf = conf;

    char                       err[256];
    size_t                     n, before;
    u_char                    *buf, *p;
    ssize_t                    size;
    ngx_fd_t                   fd;
    ngx_str_t                 *value, path, kid, issuer;
    ngx_uint_t                 i, j, nokid;
    ngx_file_t                 file;
    authz_key_t               *keys;
    ngx_file_info_t            fi;
    ngx_pool_cleanup_t        *cln;
    ngx_http_authz_key_file_t  *kf;
    ngx_http_authz_key_skip_t  skip;

    value = cf->args->elts;

    if (alcf->keys == NGX_CONF_UNSET_PTR) {
        alcf->keys = ngx_array_create(cf->pool, AUTHZ_MAX_KEYS,
                                      sizeof(authz_key_t));
        if (alcf->keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    ngx_str_null(&kid);
    ngx_str_null(&issuer);

    for (i = 2; i < cf->args->nelts; i++) {

        if (value[i].len > 4 && kid.len == 0
            && ngx_strncmp(value[i].data, "kid=", 4) == 0)
        {
            kid.data = value[i].data + 4;
            kid.len = value[i].len - 4;

            if (authz_kid_check((char *) kid.data, kid.len) != NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid parameter \"%V\": a kid is 1 "
                                   "to %d printable ASCII characters",
                                   &value[i], AUTHZ_MAX_KID_LEN);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (value[i].len > 7 && issuer.len == 0
            && ngx_strncmp(value[i].data, "issuer=", 7) == 0)
        {
            issuer.data = value[i].data + 7;
            issuer.len = value[i].len - 7;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (alcf->key_files == NULL) {
        alcf->key_files = ngx_array_create(cf->pool, 4,
                                           sizeof(ngx_http_authz_key_file_t));
        if (alcf->key_files == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed", path.data);
        return NGX_CONF_ERROR;
    }

    buf = NULL;
    size = 0;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%s\" failed", path.data);
        goto failed;
    }

    size = ngx_file_size(&fi);

    if (size <= 0 || size > 1024 * 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "authz key file \"%s\" is empty or too large",
                           path.data);
        goto failed;
    }

    buf = ngx_pnalloc(cf->temp_pool, size + 1);
    if (buf == NULL) {
        goto failed;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = path;
    file.log = cf->log;

    if (ngx_read_file(&file, buf, size, 0) != size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "authz key file \"%s\": read failed", path.data);
        goto failed;
    }

    buf[size] = '\0';

    ngx_close_file(fd);
    fd = NGX_INVALID_FILE;

    if (kid.len) {
        for (p = buf; p < buf + size && isspace(*p); p++) { /* void */ }

        if (p < buf + size && *p == '{') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "authz key file \"%s\": \"kid=\" applies to "
                               "PEM keys only, JWKS keys name their own",
                               path.data);
            return NGX_CONF_ERROR;
        }
    }

    before = alcf->keys->nelts;
    n = before;
    keys = alcf->keys->elts;

    /* the array was created with room for every key allowed */

    skip.cf = cf;
    skip.path = path.data;

    if (authz_key_load(buf, size, kid.len ? (char *) kid.data : NULL,
                       keys, &n, AUTHZ_MAX_KEYS, err, sizeof(err),
                       ngx_http_authz_key_skip, &skip)
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "authz key file \"%s\": %s", path.data, err);
        return NGX_CONF_ERROR;
    }

    /* a kid names one key: a token with a kid is tried with that key only */

    for (i = before; i < n; i++) {
        for (j = 0; keys[i].kid_len && j < i; j++) {
            if (keys[j].kid_len == keys[i].kid_len
                && ngx_strncmp(keys[j].kid, keys[i].kid, keys[i].kid_len)
                   == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "authz key file \"%s\": duplicate kid "
                                   "\"%s\"", path.data, keys[i].kid);

                for (i = before; i < n; i++) {
                    authz_key_free(&keys[i]);
                }

                return NGX_CONF_ERROR;
            }
        }
    }

    /*
     * a token is tried against two keys at most (SPEC 10): a third key
     * without kid could never be reached by a token whose kid no key
     * has; keys arrays are not merged across levels, so counting the
     * keys of this level counts those of every location that uses them
     */

    nokid = 0;

    for (i = 0; i < n; i++) {
        if (keys[i].kid_len == 0) {
            nokid++;
        }
    }

    if (nokid > AUTHZ_MAX_CANDIDATES) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"authz_key_file\" \"%s\": %ui keys without "
                           "\"kid\" at one level, at most %d (a token is "
                           "tried against two keys at most: give every key "
                           "a kid)", path.data, nokid, AUTHZ_MAX_CANDIDATES);

        for (i = before; i < n; i++) {
            authz_key_free(&keys[i]);
        }

        return NGX_CONF_ERROR;
    }

    kf = ngx_array_push(alcf->key_files);
    if (kf == NULL) {
        for (i = before; i < n; i++) {
            authz_key_free(&keys[i]);
        }

        return NGX_CONF_ERROR;
    }

    ngx_memzero(kf, sizeof(ngx_http_authz_key_file_t));

    kf->path = path;
    kf->conf_file = cf->conf_file->file.name;
    kf->conf_line = cf->conf_file->line;
    kf->issuer = issuer;
    kf->first = before;
    kf->n = n - before;

    /* issuer= binds every key of the file (SPEC 10) */

    for (i = before; i < n; i++) {
        if (issuer.len) {
            keys[i].issuer = (char *) issuer.data;
            keys[i].issuer_len = issuer.len;
        }

        keys[i].source = &ngx_http_authz_key_source_file;
    }

    alcf->keys->nelts = n;

    for (i = before; i < n; i++) {
        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            for ( /* void */ ; i < n; i++) {
                authz_key_free(&keys[i]);
            }

            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_authz_key_cleanup;
        cln->data = keys[i].pkey;
    }

    return NGX_CONF_OK;

failed:

    if (fd != NGX_INVALID_FILE) {
        ngx_close_file(fd);
    }

    return NGX_CONF_ERROR;
}


/* one notice per key of a JWKS that is not used, with the reason */

static void
ngx_http_authz_key_skip(void *data, const char *reason)
{
    ngx_http_authz_key_skip_t  *skip = data;

    ngx_conf_log_error(NGX_LOG_NOTICE, skip->cf, 0,
                       "authz key file \"%s\": %s, key skipped",
                       skip->path, reason);
}


static void
ngx_http_authz_key_cleanup(void *data)
{
    EVP_PKEY_free(data);
}


char *
ngx_http_authz_algorithms(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_authz_loc_conf_t *alcf = conf;

    unsigned     alg;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (alcf->algorithms != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    alcf->algorithms = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        alg = authz_alg_parse(value[i].data, value[i].len);

        if (alg == 0
            && ((value[i].len == 4
                 && ngx_strncasecmp(value[i].data, (u_char *) "none", 4) == 0)
                || (value[i].len > 2
                    && ngx_strncasecmp(value[i].data, (u_char *) "HS", 2)
                       == 0)))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "algorithm \"%V\" is refused: unsigned and "
                               "HMAC tokens are never accepted", &value[i]);
            return NGX_CONF_ERROR;
        }

        if (alg == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "algorithm \"%V\" is not supported: only "
                               "RS256, RS384, RS512, PS256, PS384, PS512, "
                               "ES256, ES384, Ed25519 and EdDSA are allowed",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        alcf->algorithms |= alg;
    }

    return NGX_CONF_OK;
}


/*
 * A location's keys against its authz_algorithms (SPEC 14): a key
 * none of whose algorithms is enabled here is an error when it is a
 * PEM key or a single JWK (the key the operator named), a notice when
 * it is one of a JWKS (it never becomes a candidate: candidates hold
 * the token's alg, and a token's alg is one of the location's); and
 * the warning of SPEC 10 on several sources, several issuers and no
 * binding.  Notices are told once per key file and set of algorithms.
 */

char *
ngx_http_authz_keys_merge(ngx_conf_t *cf, ngx_http_authz_loc_conf_t *conf)
{
    u_char                     *p;
    ngx_uint_t                  i, k, usable, unbound;
    authz_key_t                *keys, *key;
    ngx_http_authz_key_file_t  *kf, *first_unbound;
    u_char                      name[AUTHZ_MAX_KID_LEN + 32];
    u_char                      algs[128];

    if (conf->key_files == NULL) {
        return NGX_CONF_OK;
    }

    keys = conf->keys->elts;
    kf = conf->key_files->elts;
    usable = 0;
    unbound = 0;
    first_unbound = NULL;

    for (k = 0; k < conf->key_files->nelts; k++) {

        if (kf[k].issuer.len == 0) {
            unbound++;

            if (first_unbound == NULL) {
                first_unbound = &kf[k];
            }
        }

        for (i = kf[k].first; i < kf[k].first + kf[k].n; i++) {
            key = &keys[i];

            if (key->algs & conf->algorithms) {
                usable++;
                continue;
            }

            p = ngx_http_authz_key_name(name, sizeof(name) - 1, &kf[k], key,
                                        i - kf[k].first);
            *p = '\0';

            p = ngx_http_authz_algs_text(algs, sizeof(algs) - 1, key->algs);
            *p = '\0';

            if (!key->in_set) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "authz key file \"%V\": %s verifies %s, and "
                              "\"authz_algorithms\" enables none of them "
                              "where it is used in %V:%ui",
                              &kf[k].path, name, algs, &kf[k].conf_file,
                              kf[k].conf_line);
                return NGX_CONF_ERROR;
            }

            if (kf[k].noticed != conf->algorithms) {
                ngx_log_error(NGX_LOG_NOTICE, cf->log, 0,
                              "authz key file \"%V\": %s, alg not enabled "
                              "(it verifies %s), key not used where "
                              "\"authz_algorithms\" does not enable it",
                              &kf[k].path, name, algs);
            }
        }

        kf[k].noticed = conf->algorithms;
    }

    if (usable == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "authz key file \"%V\": no key verifies an algorithm "
                      "that \"authz_algorithms\" enables where it is used "
                      "in %V:%ui",
                      &kf[0].path, &kf[0].conf_file, kf[0].conf_line);
        return NGX_CONF_ERROR;
    }

    /*
     * SPEC 10: with two providers' keys and two issuers, either key
     * signs tokens that claim either issuer, unless each is bound
     */

    if (conf->key_files->nelts > 1 && unbound > 0
        && conf->issuers != NULL && conf->issuers->nelts > 1
        && !kf[0].warned)
    {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "keys of %ui \"authz_key_file\" sources and %ui "
                      "\"authz_issuer\" values without \"issuer=\" on "
                      "\"%V\": any of these keys can sign a token for any "
                      "of these issuers in %V:%ui",
                      conf->key_files->nelts, conf->issuers->nelts,
                      &first_unbound->path, &first_unbound->conf_file,
                      first_unbound->conf_line);

        kf[0].warned = 1;
    }

    return NGX_CONF_OK;
}


/* "key "kid"", or "key #N" (1-based in its file), or "PEM key" */

static u_char *
ngx_http_authz_key_name(u_char *buf, size_t len,
    ngx_http_authz_key_file_t *kf, authz_key_t *key, ngx_uint_t i)
{
    if (key->kid_len) {
        return ngx_snprintf(buf, len, "key \"%s\"", key->kid);
    }

    if (kf->n > 1) {
        return ngx_snprintf(buf, len, "key #%ui", i + 1);
    }

    return ngx_snprintf(buf, len, "the key");
}


static u_char *
ngx_http_authz_algs_text(u_char *buf, size_t len, ngx_uint_t algs)
{
    u_char      *p, *last;
    ngx_uint_t   bit;
    const char  *name;

    p = buf;
    last = buf + len;

    for (bit = 1; bit <= AUTHZ_ALG_EDDSA; bit <<= 1) {
        if ((algs & bit) == 0) {
            continue;
        }

        name = authz_alg_name(bit);

        if (name != NULL) {
            p = ngx_snprintf(p, last - p, "%s%s", (p == buf) ? "" : " ",
                             name);
        }
    }

    return p;
}
