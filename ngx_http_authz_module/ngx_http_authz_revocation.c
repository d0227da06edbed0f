/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * authz_revocation_file (SPEC 12).  The file is loaded when the
 * configuration is read, so that a bad file fails "nginx -t"; each
 * worker then looks at it every "check" on a timer and, when it changed
 * (device, inode, size, mtime, ctime), reads and parses it into a new
 * table that replaces the old one.  A file that cannot be read or
 * parsed leaves the last good table in place and is logged once per
 * change.  The request path only looks tokens up.
 */


#include "ngx_http_authz_module.h"


/* how far "generated_at" may be ahead of this clock */
#define NGX_HTTP_AUTHZ_REVOCATION_SKEW  300

#include <openssl/rand.h>


/*
 * a jti entry is kept until its exp is this far in the past: a token
 * stays valid up to authz_leeway after its exp (at most 10 minutes,
 * SPEC 3), and must stay revoked as long
 */
#define NGX_HTTP_AUTHZ_REVOCATION_SLACK  600

#define NGX_HTTP_AUTHZ_REVOCATION_ERRSTR  256

/* the jti in a deny line: escaped, capped like other claim values */
#define NGX_HTTP_AUTHZ_REVOCATION_JTI_LOG  64


/* what identifies the content of the file without reading it */

typedef struct {
    dev_t                               dev;
    ino_t                               ino;
    off_t                               size;
    struct timespec                     mtime;
    struct timespec                     ctime;
} ngx_http_authz_revocation_sig_t;


struct ngx_http_authz_revocation_s {
    ngx_str_t                           path;
    ngx_msec_t                          check;
    time_t                              max_age;     /* 0: off */

    authz_revocation_t                 *table;       /* the last good one */
    double                              generated_at;
    ngx_http_authz_revocation_stats_t   stats;

    ngx_http_authz_revocation_sig_t     sig;         /* of the last parse */
    ngx_err_t                           err;         /* last one logged */
    ngx_event_t                         event;

    ngx_http_authz_main_conf_t         *amcf;        /* in workers only */

    unsigned                            known:1;     /* sig is valid */
    unsigned                            stale:1;     /* logged as stale */
};


static char *ngx_http_authz_revocation_params(ngx_conf_t *cf,
    ngx_http_authz_revocation_t *rv);
static ngx_int_t ngx_http_authz_revocation_load(
    ngx_http_authz_revocation_t *rv, ngx_log_t *log,
    authz_revocation_t **table, ngx_http_authz_revocation_sig_t *sig,
    u_char *reason, ngx_err_t *err);
static ngx_int_t ngx_http_authz_revocation_read(
    ngx_http_authz_revocation_t *rv, ngx_log_t *log, ngx_fd_t fd,
    ngx_file_info_t *fi, authz_revocation_t **table, u_char *reason,
    ngx_err_t *err);
static authz_revocation_t *ngx_http_authz_revocation_parse(
    ngx_http_authz_revocation_t *rv, u_char *data, size_t len,
    u_char *reason);
static void ngx_http_authz_revocation_timer(ngx_event_t *ev);
static void ngx_http_authz_revocation_update(ngx_http_authz_revocation_t *rv,
    ngx_log_t *log);
static void ngx_http_authz_revocation_failed(
    ngx_http_authz_revocation_t *rv, ngx_log_t *log, ngx_int_t rc,
    ngx_err_t err, ngx_http_authz_revocation_sig_t *sig, u_char *reason);
static void ngx_http_authz_revocation_age(ngx_http_authz_revocation_t *rv,
    ngx_log_t *log);
static ngx_uint_t ngx_http_authz_revocation_is_stale(
    ngx_http_authz_revocation_t *rv);
static void ngx_http_authz_revocation_swap(ngx_http_authz_revocation_t *rv,
    authz_revocation_t *table);
static ngx_uint_t ngx_http_authz_revocation_total(
    ngx_http_authz_revocation_t *rv);
static void ngx_http_authz_revocation_sig(ngx_file_info_t *fi,
    ngx_http_authz_revocation_sig_t *sig);
static void ngx_http_authz_revocation_cleanup(void *data);


/* authz_revocation_file PATH [check=5s] [max_age=off]; */

char *
ngx_http_authz_revocation_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_authz_main_conf_t *amcf = conf;

    ngx_int_t                        rc;
    ngx_err_t                        err;
    ngx_str_t                       *value;
    ngx_pool_cleanup_t              *cln;
    authz_revocation_t              *table;
    ngx_http_authz_revocation_t     *rv;
    ngx_http_authz_revocation_sig_t  sig;
    u_char                           reason[NGX_HTTP_AUTHZ_REVOCATION_ERRSTR];

    if (amcf->revocation != NULL) {
        return "is duplicate";
    }

    rv = ngx_pcalloc(cf->pool, sizeof(ngx_http_authz_revocation_t));
    if (rv == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    rv->path = value[1];
    rv->check = 5000;
    rv->stats.generated_at = -1;

    if (ngx_http_authz_revocation_params(cf, rv) != NGX_CONF_OK
        || ngx_conf_full_name(cf->cycle, &rv->path, 1) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* the cleanup first: it frees whichever table is current then */

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_authz_revocation_cleanup;
    cln->data = rv;

    rc = ngx_http_authz_revocation_load(rv, cf->log, &table, &sig, reason,
                                        &err);

    if (rc == NGX_AGAIN) {
        ngx_cpystrn(reason, (u_char *) "the file changed while read",
                    NGX_HTTP_AUTHZ_REVOCATION_ERRSTR);
    }

    if (rc != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, (rc == NGX_ERROR) ? err : 0,
                           "authz_revocation_file \"%V\": %s",
                           &rv->path, reason);
        return NGX_CONF_ERROR;
    }

    rv->sig = sig;
    rv->known = 1;

    ngx_http_authz_revocation_swap(rv, table);

    if (ngx_http_authz_revocation_is_stale(rv)) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "authz_revocation_file \"%V\" is older than "
                           "max_age: allowed requests get 503 until it is "
                           "renewed", &rv->path);
        rv->stale = 1;
    }

    amcf->revocation = rv;

    return NGX_CONF_OK;
}


/* check=TIME (at least 100ms), max_age=TIME|off */

static char *
ngx_http_authz_revocation_params(ngx_conf_t *cf,
    ngx_http_authz_revocation_t *rv)
{
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    value = cf->args->elts;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "check=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            rv->check = ngx_parse_time(&s, 0);

            if (rv->check == (ngx_msec_t) NGX_ERROR || rv->check < 100) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"authz_revocation_file\": invalid "
                                   "check \"%V\", it must be at least "
                                   "100ms", &s);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "max_age=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            if (s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
                rv->max_age = 0;
                continue;
            }

            rv->max_age = ngx_parse_time(&s, 1);

            if (rv->max_age == (time_t) NGX_ERROR || rv->max_age == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"authz_revocation_file\": invalid "
                                   "max_age \"%V\"", &s);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"authz_revocation_file\": invalid "
                           "parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * NGX_OK: a new table; NGX_DECLINED: the file is not a valid list;
 * NGX_ERROR: a system call failed (*err); NGX_AGAIN: the file changed
 * while it was read (a writer that does not rename): try again later
 */

static ngx_int_t
ngx_http_authz_revocation_load(ngx_http_authz_revocation_t *rv,
    ngx_log_t *log, authz_revocation_t **table,
    ngx_http_authz_revocation_sig_t *sig, u_char *reason, ngx_err_t *err)
{
    ngx_fd_t         fd;
    ngx_int_t        rc;
    ngx_file_info_t  fi;

    *table = NULL;
    *err = 0;
    reason[0] = '\0';

    /* a FIFO must not block the worker: its type is refused below */

    fd = ngx_open_file(rv->path.data, NGX_FILE_RDONLY|NGX_FILE_NONBLOCK,
                       NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        *err = ngx_errno;
        ngx_sprintf(reason, ngx_open_file_n " failed%Z");
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        *err = ngx_errno;
        ngx_sprintf(reason, ngx_fd_info_n " failed%Z");
        rc = NGX_ERROR;
        goto done;
    }

    /* what the file was when opened: a refusal is not repeated for it */

    ngx_http_authz_revocation_sig(&fi, sig);

    if (!ngx_is_file(&fi)) {
        ngx_sprintf(reason, "not a regular file%Z");
        rc = NGX_DECLINED;

    } else if (ngx_file_size(&fi) > AUTHZ_REVOCATION_MAX_SIZE) {
        ngx_sprintf(reason, "larger than 64 MB%Z");
        rc = NGX_DECLINED;

    } else {
        rc = ngx_http_authz_revocation_read(rv, log, fd, &fi, table, reason,
                                            err);
    }

done:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", &rv->path);
    }

    return rc;
}


/*
 * the whole file into a temporary pool, that lives as long as the
 * parse; the end of the file and its size and times are checked again
 * after the read, so that a file written in place is not half taken
 */

static ngx_int_t
ngx_http_authz_revocation_read(ngx_http_authz_revocation_t *rv,
    ngx_log_t *log, ngx_fd_t fd, ngx_file_info_t *fi,
    authz_revocation_t **table, u_char *reason, ngx_err_t *err)
{
    u_char                           *buf;
    size_t                            size, got;
    ssize_t                           n;
    ngx_int_t                         rc;
    ngx_pool_t                       *pool;
    ngx_file_info_t                   after;
    ngx_http_authz_revocation_sig_t   s1, s2;

    size = (size_t) ngx_file_size(fi);

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    buf = ngx_pnalloc(pool, size + 1);
    if (buf == NULL) {
        goto done;
    }

    for (got = 0; got < size + 1; got += n) {
        n = ngx_read_fd(fd, buf + got, size + 1 - got);

        if (n == -1) {
            *err = ngx_errno;
            ngx_sprintf(reason, ngx_read_fd_n " failed%Z");
            goto done;
        }

        if (n == 0) {
            break;
        }
    }

    ngx_http_authz_revocation_sig(fi, &s1);

    if (ngx_fd_info(fd, &after) == NGX_FILE_ERROR) {
        *err = ngx_errno;
        ngx_sprintf(reason, ngx_fd_info_n " failed%Z");
        goto done;
    }

    ngx_http_authz_revocation_sig(&after, &s2);

    if (got != size || ngx_memcmp(&s1, &s2, sizeof(s1)) != 0) {
        rc = NGX_AGAIN;
        goto done;
    }

    *table = ngx_http_authz_revocation_parse(rv, buf, size, reason);

    rc = (*table != NULL) ? NGX_OK : NGX_DECLINED;

done:

    ngx_destroy_pool(pool);

    return rc;
}


static authz_revocation_t *
ngx_http_authz_revocation_parse(ngx_http_authz_revocation_t *rv,
    u_char *data, size_t len, u_char *reason)
{
    u_char                     seed[16];
    authz_revocation_t        *table;
    authz_revocation_info_t    info;
    authz_revocation_error_t   err;

    /* a hash key per table: the file's keys cannot be chosen to collide */

    if (RAND_bytes(seed, sizeof(seed)) != 1) {
        ngx_sprintf(reason, "RAND_bytes() failed%Z");
        return NULL;
    }

    table = authz_revocation_parse(data, len,
                                   (double) ngx_time()
                                   - NGX_HTTP_AUTHZ_REVOCATION_SLACK,
                                   seed, &err);

    if (table == NULL) {
        if (err.line == 0) {
            ngx_sprintf(reason, "%s%Z", err.text);

        } else {
            ngx_sprintf(reason, "%s at line %uz, column %uz%Z", err.text,
                        err.line, err.column);
        }

        return NULL;
    }

    authz_revocation_info(table, &info);

    if (rv->max_age != 0 && !info.has_generated_at) {
        ngx_sprintf(reason, "no \"generated_at\" while max_age is set%Z");
        authz_revocation_free(table);
        return NULL;
    }

    /*
     * a "generated_at" ahead of the clock (milliseconds, a wrong clock)
     * would keep the list fresh for max_age for ever: refused
     */

    if (info.has_generated_at
        && info.generated_at > (double) ngx_time()
                               + NGX_HTTP_AUTHZ_REVOCATION_SKEW)
    {
        ngx_sprintf(reason, "\"generated_at\" is in the future (seconds "
                    "since the epoch expected)%Z");
        authz_revocation_free(table);
        return NULL;
    }

    return table;
}


ngx_int_t
ngx_http_authz_revocation_init_process(ngx_cycle_t *cycle)
{
    ngx_http_authz_main_conf_t   *amcf;
    ngx_http_authz_revocation_t  *rv;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_authz_module);

    if (amcf == NULL || amcf->revocation == NULL) {
        return NGX_OK;
    }

    rv = amcf->revocation;
    rv->amcf = amcf;

    rv->event.handler = ngx_http_authz_revocation_timer;
    rv->event.data = rv;
    rv->event.log = cycle->log;
    rv->event.cancelable = 1;

    /* workers look at different moments: they do not all parse at once */

    ngx_add_timer(&rv->event, 1 + (ngx_msec_t) ngx_random() % rv->check);

    return NGX_OK;
}


static void
ngx_http_authz_revocation_timer(ngx_event_t *ev)
{
    ngx_http_authz_revocation_t  *rv = ev->data;

    if (ngx_exiting) {
        return;
    }

    ngx_http_authz_revocation_update(rv, ev->log);
    ngx_http_authz_revocation_age(rv, ev->log);

    ngx_add_timer(ev, rv->check);
}


static void
ngx_http_authz_revocation_update(ngx_http_authz_revocation_t *rv,
    ngx_log_t *log)
{
    ngx_err_t                        err;
    ngx_int_t                        rc;
    ngx_msec_t                       start;
    ngx_file_info_t                  fi;
    authz_revocation_t              *table;
    ngx_http_authz_revocation_sig_t  sig;
    u_char                           reason[NGX_HTTP_AUTHZ_REVOCATION_ERRSTR];

    if (ngx_file_info(rv->path.data, &fi) == NGX_FILE_ERROR) {
        err = ngx_errno;
        ngx_cpystrn(reason, (u_char *) ngx_file_info_n " failed",
                    NGX_HTTP_AUTHZ_REVOCATION_ERRSTR);
        ngx_http_authz_revocation_failed(rv, log, NGX_ERROR, err, NULL,
                                         reason);
        return;
    }

    ngx_http_authz_revocation_sig(&fi, &sig);

    if (rv->known && ngx_memcmp(&sig, &rv->sig, sizeof(sig)) == 0) {
        return;
    }

    start = ngx_current_msec;

    rc = ngx_http_authz_revocation_load(rv, log, &table, &sig, reason, &err);

    /* a large list takes a while: the timers must see the time it took */

    ngx_time_update();

    if (rc == NGX_AGAIN) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                       "authz revocation file \"%V\" changed while read",
                       &rv->path);
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_authz_revocation_failed(rv, log, rc, err, &sig, reason);
        return;
    }

    rv->sig = sig;
    rv->known = 1;
    rv->err = 0;

    ngx_http_authz_revocation_swap(rv, table);
    rv->stats.reloads_ok++;

    if (rv->amcf != NULL) {
        ngx_http_authz_status_revocation(rv->amcf, 0, 0);
    }

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "authz: revocation file \"%V\" loaded: %ui jti, %ui sub, "
                  "%ui tenant entries, %ui pruned, %uz kB, in %M ms",
                  &rv->path, rv->stats.entries[AUTHZ_REVOKED_JTI],
                  rv->stats.entries[AUTHZ_REVOKED_SUB],
                  rv->stats.entries[AUTHZ_REVOKED_TENANT],
                  rv->stats.pruned, rv->stats.memory / 1024,
                  ngx_current_msec - start);
}


/*
 * one line per change: a refused file is known by its signature (sig),
 * a file that cannot be opened or read by the error
 */

static void
ngx_http_authz_revocation_failed(ngx_http_authz_revocation_t *rv,
    ngx_log_t *log, ngx_int_t rc, ngx_err_t err,
    ngx_http_authz_revocation_sig_t *sig, u_char *reason)
{
    if (rc == NGX_DECLINED) {
        rv->sig = *sig;
        rv->known = 1;
        rv->err = 0;
        err = 0;

    } else {
        rv->known = 0;

        if (err != 0 && err == rv->err) {
            return;
        }

        rv->err = err;
    }

    if (reason[0] == '\0') {
        ngx_cpystrn(reason, (u_char *) "not enough memory",
                    NGX_HTTP_AUTHZ_REVOCATION_ERRSTR);
    }

    rv->stats.reloads_failed++;

    if (rv->amcf != NULL) {
        ngx_http_authz_status_revocation(rv->amcf, 0, 1);
    }

    ngx_log_error(NGX_LOG_ERR, log, err,
                  "authz: revocation file \"%V\" not loaded, the previous "
                  "list of %ui entries stays: %s", &rv->path,
                  ngx_http_authz_revocation_total(rv), reason);
}


/* "max_age": one line when the list becomes stale, one when it is not */

static void
ngx_http_authz_revocation_age(ngx_http_authz_revocation_t *rv,
    ngx_log_t *log)
{
    ngx_uint_t  stale;

    stale = ngx_http_authz_revocation_is_stale(rv);

    if (stale && !rv->stale) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "authz: revocation list \"%V\" generated at %T is "
                      "older than max_age %T: allowed requests get 503",
                      &rv->path, rv->stats.generated_at, rv->max_age);

    } else if (!stale && rv->stale) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "authz: revocation list \"%V\" is within max_age again",
                      &rv->path);
    }

    rv->stale = stale;
}


static ngx_uint_t
ngx_http_authz_revocation_is_stale(ngx_http_authz_revocation_t *rv)
{
    return rv->max_age != 0
           && (double) ngx_time() - rv->generated_at > (double) rv->max_age;
}


static void
ngx_http_authz_revocation_swap(ngx_http_authz_revocation_t *rv,
    authz_revocation_t *table)
{
    ngx_uint_t               k;
    authz_revocation_info_t  info;

    authz_revocation_free(rv->table);
    rv->table = table;

    authz_revocation_info(table, &info);

    for (k = 0; k < AUTHZ_REVOKED_KINDS; k++) {
        rv->stats.entries[k] = info.entries[k];
    }

    rv->generated_at = info.generated_at;
    rv->stats.generated_at = info.has_generated_at
                             ? (time_t) info.generated_at : -1;
    rv->stats.loaded_at = ngx_time();
    rv->stats.pruned = info.pruned;
    rv->stats.memory = info.memory;
}


static ngx_uint_t
ngx_http_authz_revocation_total(ngx_http_authz_revocation_t *rv)
{
    return rv->stats.entries[AUTHZ_REVOKED_JTI]
           + rv->stats.entries[AUTHZ_REVOKED_SUB]
           + rv->stats.entries[AUTHZ_REVOKED_TENANT];
}


static void
ngx_http_authz_revocation_sig(ngx_file_info_t *fi,
    ngx_http_authz_revocation_sig_t *sig)
{
    ngx_memzero(sig, sizeof(ngx_http_authz_revocation_sig_t));

    sig->dev = fi->st_dev;
    sig->ino = fi->st_ino;
    sig->size = fi->st_size;
    sig->mtime = fi->st_mtim;
    sig->ctime = fi->st_ctim;
}


static void
ngx_http_authz_revocation_cleanup(void *data)
{
    ngx_http_authz_revocation_t  *rv = data;

    authz_revocation_free(rv->table);
    rv->table = NULL;
}


/*
 * the request path: AUTHZ_ERR_REVOKED, with the kind of rule as detail,
 * for a verified token that the list names
 */

authz_err_e
ngx_http_authz_revocation_check(ngx_http_request_t *r,
    ngx_http_authz_eval_t *eval, const char **detail)
{
    authz_revoked_e               kind;
    authz_revocation_token_t      tok;
    ngx_http_authz_main_conf_t   *amcf;
    ngx_http_authz_revocation_t  *rv;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_authz_module);
    rv = amcf->revocation;

    if (rv == NULL || rv->table == NULL) {
        return AUTHZ_OK;
    }

    ngx_memzero(&tok, sizeof(authz_revocation_token_t));

    /* from the payload or, on a cache hit, from the entry */

    tok.has_jti = eval->has_jti;
    tok.jti.data = eval->jti.data;
    tok.jti.len = eval->jti.len;
    tok.has_iat = eval->has_iat;
    tok.iat = eval->iat;

    tok.sub = eval->id.sub;
    tok.tenant = eval->id.tenant;

    kind = authz_revocation_check(rv->table, &tok);

    if (kind == AUTHZ_REVOKED_NONE) {
        return AUTHZ_OK;
    }

    rv->stats.hits[kind]++;

    ngx_http_authz_status_revocation(
        ngx_http_get_module_main_conf(r, ngx_http_authz_module), kind, 0);

    switch (kind) {

    case AUTHZ_REVOKED_JTI:
        *detail = "by jti";
        break;

    case AUTHZ_REVOKED_SUB:
        *detail = "by sub";
        break;

    case AUTHZ_REVOKED_TENANT:
        *detail = "by tenant";
        break;

    default: /* AUTHZ_REVOKED_IAT_BEFORE */
        *detail = "by iat_before";
        break;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "authz token revoked %s", *detail);

    return AUTHZ_ERR_REVOKED;
}


/* "max_age": a list older than that cannot vouch for anybody */

ngx_uint_t
ngx_http_authz_revocation_stale(ngx_http_request_t *r)
{
    ngx_http_authz_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_authz_module);

    return amcf->revocation != NULL
           && ngx_http_authz_revocation_is_stale(amcf->revocation);
}


/*
 * the deny line of a revoked token: who (sub, tenant) and which token
 * (jti: not a secret, but a client's bytes: escaped and capped)
 */

void
ngx_http_authz_revocation_log(ngx_http_request_t *r,
    ngx_http_authz_eval_t *eval)
{
    u_char       *p, c;
    size_t        i, len;
    ngx_str_t     none = ngx_string("-");
    ngx_str_t     sub, tenant;
    const char   *s;
    u_char        jti[NGX_HTTP_AUTHZ_REVOCATION_JTI_LOG * 4 + 3];

    static u_char  hex[] = "0123456789abcdef";

    /* a '"' in a verified sub or tenant must not end its field */

    if (ngx_http_authz_log_escaped(r, (ngx_str_t *) &eval->id.sub, &sub)
        != NGX_OK
        || ngx_http_authz_log_escaped(r, (ngx_str_t *) &eval->id.tenant,
                                      &tenant)
           != NGX_OK)
    {
        return;
    }

    p = jti;

    if (eval->has_jti) {
        s = (const char *) eval->jti.data;
        len = eval->jti.len;

        for (i = 0; i < len && i < NGX_HTTP_AUTHZ_REVOCATION_JTI_LOG; i++) {
            c = (u_char) s[i];

            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                *p++ = '\\';
                *p++ = 'x';
                *p++ = hex[c >> 4];
                *p++ = hex[c & 0xf];

            } else {
                *p++ = c;
            }
        }

        if (len > NGX_HTTP_AUTHZ_REVOCATION_JTI_LOG) {
            p = ngx_cpymem(p, "...", 3);
        }

    } else {
        *p++ = '-';
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "authz: invalid token: token revoked (%s), sub: \"%V\", "
                  "tenant: \"%V\", jti: \"%*s\", kid: \"%V\", alg: \"%V\"",
                  eval->detail ? eval->detail : "-",
                  sub.len ? &sub : &none,
                  tenant.len ? &tenant : &none,
                  p - jti, jti,
                  eval->kid.len ? &eval->kid : &none,
                  eval->alg.len ? &eval->alg : &none);
}


/* the counters, for a metrics module: NULL without authz_revocation_file */

ngx_http_authz_revocation_stats_t *
ngx_http_authz_revocation_stats(ngx_cycle_t *cycle)
{
    ngx_http_authz_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_authz_module);

    if (amcf == NULL || amcf->revocation == NULL) {
        return NULL;
    }

    return &amcf->revocation->stats;
}
