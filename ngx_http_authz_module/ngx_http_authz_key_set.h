/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * authz_key_request key sets: what ngx_http_authz_key_request.c (the
 * directive, the request path, waits and fetches) shares with
 * ngx_http_authz_key_set.c (the authz_key_cache zone, the fetched
 * response, the records and each worker's imported keys).
 */


#ifndef _NGX_HTTP_AUTHZ_KEY_SET_H_INCLUDED_
#define _NGX_HTTP_AUTHZ_KEY_SET_H_INCLUDED_


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
    ngx_uint_t                     *pending;     /* waited: the waiter's */
} ngx_http_authz_key_fetch_t;


void ngx_http_authz_key_state(ngx_http_authz_key_request_t *kr,
    ngx_http_authz_key_state_t *st);
ngx_int_t ngx_http_authz_key_import(ngx_log_t *log,
    ngx_http_authz_key_request_t *kr);
ngx_http_authz_key_local_t *ngx_http_authz_key_local(
    ngx_http_authz_key_request_t *kr);
ngx_int_t ngx_http_authz_key_fetch_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc);
void ngx_http_authz_key_release(ngx_http_authz_key_fetch_t *fetch);


#endif /* _NGX_HTTP_AUTHZ_KEY_SET_H_INCLUDED_ */
