/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * authz_key_file and authz_algorithms: keys are read, parsed and
 * checked once, at configuration time, into cf->pool.
 */


#include "ngx_http_authz_module.h"


typedef struct {
    ngx_conf_t                 *cf;
    u_char                     *path;
} ngx_http_authz_key_skip_t;


static void ngx_http_authz_key_skip(void *data, const char *reason);
static void ngx_http_authz_key_cleanup(void *data);


char *
ngx_http_authz_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_authz_loc_conf_t *alcf = conf;

    char                       err[256];
    size_t                     n, before;
    u_char                    *buf, *p;
    ssize_t                    size;
    ngx_fd_t                   fd;
    ngx_str_t                 *value, path, kid;
    ngx_uint_t                 i, j, nokid;
    ngx_file_t                 file;
    authz_key_t               *keys;
    ngx_file_info_t            fi;
    ngx_pool_cleanup_t        *cln;
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

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "kid=", 4) != 0
            || value[2].len == 4 || value[2].len - 4 > AUTHZ_MAX_KID_LEN)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        kid.data = value[2].data + 4;
        kid.len = value[2].len - 4;

        for (i = 0; i < kid.len; i++) {
            if (kid.data[i] < 0x20 || kid.data[i] > 0x7e) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid parameter \"%V\"", &value[2]);
                return NGX_CONF_ERROR;
            }
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
                               "RS256, RS384, RS512, PS256, PS384 and PS512 "
                               "are allowed", &value[i]);
            return NGX_CONF_ERROR;
        }

        alcf->algorithms |= alg;
    }

    return NGX_CONF_OK;
}
