/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * The counters of authz_status: what ngx_http_authz_status.c (the zone
 * and the counting) shares with ngx_http_authz_metrics.c (the answer).
 */


#ifndef _NGX_HTTP_AUTHZ_STATUS_H_INCLUDED_
#define _NGX_HTTP_AUTHZ_STATUS_H_INCLUDED_


#include "ngx_http_authz_module.h"


/* the "zone" label: printable ASCII, from authz_status_zone */
#define NGX_HTTP_AUTHZ_STATUS_NAME_LEN  64

/* authz_requests_total{result}: allow, deny, anonymous */
#define NGX_HTTP_AUTHZ_STATUS_ALLOW      0
#define NGX_HTTP_AUTHZ_STATUS_DENY       1
#define NGX_HTTP_AUTHZ_STATUS_ANONYMOUS  2
#define NGX_HTTP_AUTHZ_STATUS_RESULTS    3

/* rows of ngx_http_authz_status_reasons[] */
#define NGX_HTTP_AUTHZ_STATUS_REASONS    41


/* one (error, reason) row of authz_denials_total: a closed set */

typedef struct {
    ngx_str_t                     error;
    ngx_str_t                     reason;
} ngx_http_authz_status_reason_t;


/*
 * The counters of one "zone" label, in shared memory.  A slot is found
 * by its name at every (re)load and never moves: workers of an old
 * configuration that still finish their requests after a reload count
 * into the same slots as the new ones.
 */

typedef struct {
    ngx_queue_t                   queue;
    ngx_atomic_t                  requests[NGX_HTTP_AUTHZ_STATUS_RESULTS];
    ngx_atomic_t                  denials[NGX_HTTP_AUTHZ_STATUS_REASONS];
    size_t                        len;
    u_char                        name[NGX_HTTP_AUTHZ_STATUS_NAME_LEN];
} ngx_http_authz_status_slot_t;


typedef struct {
    ngx_queue_t                   slots;

    /* authz_revocation_file, summed over the workers */
    ngx_atomic_t                  revocation_hits[AUTHZ_REVOKED_KINDS];
    ngx_atomic_t                  revocation_reloads[2];   /* ok, failed */
} ngx_http_authz_status_sh_t;


/* amcf->status: cf->pool, also the data of the shared zone */

struct ngx_http_authz_status_conf_s {
    ngx_array_t                   labels;     /* of ngx_str_t, [0] default */
    ngx_http_authz_status_slot_t **slots;     /* by label, set by the zone */
    ngx_shm_zone_t               *zone;
    ngx_slab_pool_t              *shpool;
    ngx_http_authz_status_sh_t   *sh;
    ngx_uint_t                    used;       /* "authz_status" is set */
};


extern ngx_http_authz_status_reason_t  ngx_http_authz_status_reasons[];
extern ngx_str_t                       ngx_http_authz_status_results[];

ngx_int_t ngx_http_authz_status_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_AUTHZ_STATUS_H_INCLUDED_ */
