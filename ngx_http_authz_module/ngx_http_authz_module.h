/*
 * Copyright (C) ngx_http_authz_module authors
 */


#ifndef _NGX_HTTP_AUTHZ_MODULE_H_INCLUDED_
#define _NGX_HTTP_AUTHZ_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "authz_rules.h"
#include "authz_key.h"
#include "authz_jwt.h"
#include "authz_claims.h"
#include "authz_http.h"
#include "ngx_http_authz_version.h"
#include "authz_revocation.h"


#define NGX_HTTP_AUTHZ_OFF         0
#define NGX_HTTP_AUTHZ_ON          1
#define NGX_HTTP_AUTHZ_OPTIONAL    2

#define NGX_HTTP_AUTHZ_DENY        0
#define NGX_HTTP_AUTHZ_ALLOW       1


/* $authz_result */
#define NGX_HTTP_AUTHZ_RESULT_NONE       0
#define NGX_HTTP_AUTHZ_RESULT_OFF        1
#define NGX_HTTP_AUTHZ_RESULT_ALLOW      2
#define NGX_HTTP_AUTHZ_RESULT_DENY       3
#define NGX_HTTP_AUTHZ_RESULT_ANONYMOUS  4

/* $authz_cache */
#define NGX_HTTP_AUTHZ_CACHE_OFF         0
#define NGX_HTTP_AUTHZ_CACHE_MISS        1
#define NGX_HTTP_AUTHZ_CACHE_HIT         2

/* authentication state of the request */
#define NGX_HTTP_AUTHZ_TOKEN_NONE        0   /* not looked at yet */
#define NGX_HTTP_AUTHZ_TOKEN_MISSING     1
#define NGX_HTTP_AUTHZ_TOKEN_INVALID     2
#define NGX_HTTP_AUTHZ_TOKEN_VALID       3
#define NGX_HTTP_AUTHZ_TOKEN_ERROR       4   /* internal failure */
#define NGX_HTTP_AUTHZ_TOKEN_PENDING     5   /* waits for a key fetch */

/* the identity headers, in the order of ngx_http_authz_headers() */
#define NGX_HTTP_AUTHZ_HEADER_SUB          0
#define NGX_HTTP_AUTHZ_HEADER_TENANT       1
#define NGX_HTTP_AUTHZ_HEADER_PERMISSIONS  2
#define NGX_HTTP_AUTHZ_HEADER_SERVICES     3
#define NGX_HTTP_AUTHZ_HEADERS             4

/* authz_token_binding */
#define NGX_HTTP_AUTHZ_BINDING_REFUSE      0
#define NGX_HTTP_AUTHZ_BINDING_IGNORE      1
#define NGX_HTTP_AUTHZ_BINDING_MTLS        2

/* authz_forward_permissions */
#define NGX_HTTP_AUTHZ_FORWARD_ALL         0
#define NGX_HTTP_AUTHZ_FORWARD_SERVICE     1

/* X-User-Permissions longer than this is worth a warning (SPEC 6) */
#define NGX_HTTP_AUTHZ_PERMISSIONS_WARN    8192


/* ngx_http_authz_status.h: authz_status, authz_status_zone */
typedef struct ngx_http_authz_status_conf_s  ngx_http_authz_status_conf_t;
typedef struct ngx_http_authz_revocation_s  ngx_http_authz_revocation_t;

/* ngx_http_authz_key_request.c: a request waiting for a key set */
typedef struct ngx_http_authz_key_wait_s  ngx_http_authz_key_wait_t;


/* authz_key_fetches_total{result} */
#define NGX_HTTP_AUTHZ_KEY_OK            0
#define NGX_HTTP_AUTHZ_KEY_HTTP_ERROR    1
#define NGX_HTTP_AUTHZ_KEY_ENCODED       2
#define NGX_HTTP_AUTHZ_KEY_TOO_LARGE     3
#define NGX_HTTP_AUTHZ_KEY_INVALID       4
#define NGX_HTTP_AUTHZ_KEY_NO_MEMORY     5
#define NGX_HTTP_AUTHZ_KEY_RESULTS       6


/*
 * one authz_key_request: read-only after configuration (the zone's
 * init sets slot, sh and shpool); its state is in the zone, in the
 * worker (imported keys) and in requests (fetches, waits)
 */

typedef struct {
    ngx_str_t                   uri;
    ngx_str_t                   issuer;        /* issuer= binding */
    ngx_str_t                   id;            /* "server_name URI" */
    ngx_msec_t                  refresh;
    ngx_msec_t                  max_stale;
    ngx_msec_t                  kid_refresh;
    ngx_msec_t                  wait;
    size_t                      max_size;
    ngx_uint_t                  index;         /* in amcf->key_requests */
    void                       *server;        /* core srv conf; NULL: http */
    ngx_str_t                   file;
    ngx_uint_t                  line;
    void                       *slot;          /* in the zone */
    void                       *sh;
    ngx_slab_pool_t            *shpool;
} ngx_http_authz_key_request_t;


typedef struct {
    ngx_str_t                  *source;
    ngx_uint_t                  fetches[NGX_HTTP_AUTHZ_KEY_RESULTS];
    ngx_uint_t                  keys;
    time_t                      last_success;  /* 0: never */
} ngx_http_authz_key_stats_t;


/*
 * authz_revocation_file counters of this worker (for a metrics module:
 * ngx_http_authz_revocation_stats()); arrays by authz_revoked_e
 */

typedef struct {
    ngx_uint_t                  entries[AUTHZ_REVOKED_KINDS]; /* now */
    ngx_uint_t                  hits[AUTHZ_REVOKED_KINDS];    /* refused */
    ngx_uint_t                  reloads_ok;
    ngx_uint_t                  reloads_failed;
    ngx_uint_t                  pruned;        /* jti entries, last load */
    size_t                      memory;        /* bytes of the table */
    time_t                      generated_at;  /* -1: not in the file */
    time_t                      loaded_at;
} ngx_http_authz_revocation_stats_t;


/* authz_claim_header NAME CLAIM */
typedef struct {
    ngx_str_t                   name;
    ngx_str_t                   lowcase;
    ngx_uint_t                  hash;
    authz_str_t                 claim;
    ngx_int_t                   var;           /* index of $http_name */
} ngx_http_authz_claim_header_t;


typedef struct {
    ngx_array_t                *roles;         /* of authz_role_t */
    ngx_int_t                   roles_used;    /* $authz_roles indexed */
    ngx_shm_zone_t             *cache;         /* authz_cache */
    time_t                      cache_ttl;
    ngx_http_authz_status_conf_t  *status;     /* authz_status */
    ngx_http_authz_revocation_t  *revocation;  /* authz_revocation_file */
    ngx_shm_zone_t             *key_cache;     /* authz_key_cache */
    ngx_array_t                *key_requests;  /* every authz_key_request */

    /* $http_x_user_id ... and $http_authorization, invalidated on change */
    ngx_int_t                   header_vars[NGX_HTTP_AUTHZ_HEADERS + 1];
} ngx_http_authz_main_conf_t;


/* one authz_key_file directive: its keys are keys[first .. first + n) */

typedef struct {
    ngx_str_t                   path;
    ngx_str_t                   conf_file;     /* where it was set */
    ngx_uint_t                  conf_line;
    ngx_str_t                   issuer;        /* issuer=; empty: none */
    ngx_uint_t                  first;
    ngx_uint_t                  n;
    ngx_uint_t                  noticed;       /* algs of the last notices */
    unsigned                    warned:1;      /* no issuer= binding */
} ngx_http_authz_key_file_t;


typedef struct {
    ngx_uint_t                  mode;
    ngx_str_t                   mode_file;     /* where "authz" was set */
    ngx_uint_t                  mode_line;
    ngx_str_t                   realm;
    ngx_array_t                *keys;          /* of authz_key_t */
    ngx_array_t                *key_files;     /* of ..._key_file_t, with
                                                   keys */
    ngx_array_t                *key_requests;  /* of ..._key_request_t * */
    ngx_uint_t                  algorithms;
    ngx_http_complex_value_t   *token;         /* NULL: Bearer header */
    ngx_array_t                *issuers;       /* of authz_str_t */
    ngx_array_t                *audiences;     /* of authz_str_t */
    time_t                      leeway;
    ngx_flag_t                  require_exp;
    size_t                      max_token_size;
    ngx_array_t                *permissions_claims; /* of ngx_str_t */
    ngx_str_t                   tenant_claim;
    ngx_str_t                   services_claim;
    ngx_str_t                   roles_claim;
    ngx_array_t                *scope_levels;  /* of authz_str_t */
    ngx_array_t                *require;       /* of authz_req_t */
    ngx_array_t                *rules;         /* of authz_rule_t */
    ngx_uint_t                  rules_default;
    ngx_str_t                   service;
    ngx_http_complex_value_t   *tenant;
    ngx_str_t                   tenant_bypass;
    ngx_array_t                *conditions;    /* of ngx_http_complex_value_t */
    ngx_flag_t                  forward;
    ngx_flag_t                  forward_token;
    ngx_flag_t                  strip_headers;
    ngx_uint_t                  deny_status;
    ngx_uint_t                  status_zone;   /* authz_status_zone label */
    ngx_array_t                *types;         /* authz_token_type */
    ngx_uint_t                  binding;       /* authz_token_binding */
    ngx_flag_t                  bypass_preflight;
    ngx_uint_t                  forward_permissions;
    ngx_flag_t                  wildcards;
    ngx_uint_t                  log_level;     /* of the deny line */
    ngx_array_t                *claim_headers; /* authz_claim_header */
    ngx_array_t                *claim_strip;   /* names of every level */
    ngx_uint_t                  claims_explicit; /* AUTHZ_CLAIM_* set */

    /* set by merge from the above, read by the request path */
    authz_key_set_t             file_keys;     /* the keys of "keys" */
    authz_verify_conf_t         verify;
    authz_claims_conf_t         claims;
    authz_scope_t               scope;

    /* of the settings that make the identity: a cache hit's claims */
    uint64_t                    claims_digest;
} ngx_http_authz_loc_conf_t;


/*
 * One evaluation: one token's bytes (or their absence) from one token
 * source, authenticated under one location's configuration.  Created
 * whole by ngx_http_authz_evaluate(), never changed afterwards, and
 * kept until the request ends: what it handed to nginx stays valid.
 */

typedef struct ngx_http_authz_eval_s  ngx_http_authz_eval_t;

struct ngx_http_authz_eval_s {
    ngx_http_authz_eval_t      *next;          /* older evaluations */
    ngx_http_authz_loc_conf_t  *conf;          /* authenticated with */
    ngx_str_t                   token;         /* a copy in r->pool */
    authz_json_t               *payload;       /* released at request end */

    ngx_uint_t                  state;         /* NGX_HTTP_AUTHZ_TOKEN_* */
    authz_err_e                 err;
    const char                 *detail;
    ngx_uint_t                  cache;         /* NGX_HTTP_AUTHZ_CACHE_* */

    ngx_str_t                   kid;
    ngx_str_t                   alg;
    ngx_str_t                   key_source;    /* of the verifying key */
    ngx_str_t                   typ;           /* as the token has it */
    ngx_str_t                   bad_alg;       /* a refused "alg" */
    ngx_str_t                   bad_claim;     /* a claim of a bad shape */
    double                      exp;
    u_char                      fingerprint[32];
    ngx_str_t                   jti;           /* for the revocation check */
    double                      iat;

    authz_identity_t            id;            /* sub, tenant: r->pool */
    ngx_str_t                   permissions;   /* joined with "," */
    ngx_str_t                   services;
    ngx_str_t                   roles;

    unsigned                    verified:1;    /* fingerprint is valid */
    unsigned                    has_exp:1;
    unsigned                    has_jti:1;
    unsigned                    has_iat:1;
    unsigned                    payload_parsed:1;  /* after a cache hit */
};


/*
 * The request: its evaluations, the last decision of the access phase,
 * and what the client sent before the module changed any header.
 * Lives in r->main->pool and survives internal redirects.
 */

typedef struct {
    ngx_http_authz_eval_t      *evals;         /* newest first */

    /* the last decision, set whole by ngx_http_authz_decide() */
    ngx_http_authz_eval_t      *decided;
    ngx_uint_t                  result;        /* NGX_HTTP_AUTHZ_RESULT_* */
    ngx_str_t                   error;         /* $authz_error */
    ngx_str_t                   reason;        /* $authz_reason */
    ngx_str_t                   scope;         /* the unmet requirement */
    ngx_str_t                   json;          /* the body of a denial */
    ngx_uint_t                  json_status;   /* answer with a JSON body */
    ngx_uint_t                  deny_status;   /* 404 after satisfy any */

    /* the client's own headers, taken before the first change */
    ngx_str_t                   client[NGX_HTTP_AUTHZ_HEADERS];
    ngx_str_t                   authorization;
    ngx_uint_t                  nauthorization;

    void                      **headers_loc;   /* r->loc_conf handled */
    ngx_http_authz_key_wait_t  *key_wait;      /* authz_key_request */

    ngx_array_t                *claim_added;   /* claim headers set */

    unsigned                    client_taken:1;
    unsigned                    permissions_warned:1;
    unsigned                    added:1;       /* identity headers set */
    unsigned                    auth_removed:1;
    unsigned                    json_body:1;
} ngx_http_authz_ctx_t;


extern ngx_module_t  ngx_http_authz_module;


/* ngx_http_authz_ctx.c: the request state */
ngx_http_authz_ctx_t *ngx_http_authz_get_ctx(ngx_http_request_t *r);
ngx_http_authz_ctx_t *ngx_http_authz_create_ctx(ngx_http_request_t *r);
ngx_http_authz_eval_t *ngx_http_authz_find_eval(ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_loc_conf_t *alcf, ngx_uint_t state, ngx_str_t *token);
const u_char *ngx_http_authz_verified_before(ngx_http_authz_ctx_t *ctx,
    ngx_str_t *token, ngx_uint_t *cache);
void ngx_http_authz_decide(ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval, ngx_uint_t result, const char *error,
    const char *reason, const authz_req_t *req);

/* ngx_http_authz_eval.c: authentication of one token */
ngx_http_authz_eval_t *ngx_http_authz_evaluate(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_uint_t create);
authz_json_t *ngx_http_authz_eval_payload(ngx_http_request_t *r,
    ngx_http_authz_eval_t *eval);

/* ngx_http_authz_handler.c: the phase handlers */
ngx_int_t ngx_http_authz_access_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_authz_access_last_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_authz_precontent_handler(ngx_http_request_t *r);

/* ngx_http_authz_headers.c: identity headers */
void ngx_http_authz_headers_init(void);
ngx_int_t ngx_http_authz_headers(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx);
ngx_int_t ngx_http_authz_client_value(ngx_http_request_t *r,
    ngx_http_authz_ctx_t *ctx, ngx_http_complex_value_t *cv,
    ngx_str_t *value);
ngx_int_t ngx_http_authz_header_vars(ngx_conf_t *cf,
    ngx_http_authz_main_conf_t *amcf);

/* ngx_http_authz_claim_conf.c: claim names, token type, claim headers */
char *ngx_http_authz_enum_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_authz_permissions_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_authz_token_type(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_authz_claim_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_authz_claims_merge(ngx_conf_t *cf,
    ngx_http_authz_loc_conf_t *prev, ngx_http_authz_loc_conf_t *conf);
ngx_int_t ngx_http_authz_claim_value(ngx_http_request_t *r,
    authz_json_t *payload, authz_str_t *claim, ngx_str_t *value);

/* ngx_http_authz_filter.c: denials */
ngx_int_t ngx_http_authz_deny(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval, ngx_uint_t status, const char *error,
    const char *reason, const authz_req_t *req);
ngx_int_t ngx_http_authz_filter_init(ngx_conf_t *cf);
ngx_int_t ngx_http_authz_log_escaped(ngx_http_request_t *r, ngx_str_t *value,
    ngx_str_t *out);

ngx_int_t ngx_http_authz_add_variables(ngx_conf_t *cf);

char *ngx_http_authz_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_authz_algorithms(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_authz_keys_merge(ngx_conf_t *cf,
    ngx_http_authz_loc_conf_t *conf);
char *ngx_http_authz_role(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_authz_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_authz_rule(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_authz_condition(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_authz_rules_check(ngx_conf_t *cf,
    ngx_http_authz_loc_conf_t *prev, ngx_http_authz_loc_conf_t *conf);
char *ngx_http_authz_cache_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* what a lookup found: the key that verified, the claims if they apply */
typedef struct {
    uint64_t                    hash;          /* of the token */
    u_char                      fingerprint[32];
    u_char                     *claims;        /* a copy in r->pool */
    size_t                      claims_len;
} ngx_http_authz_cache_entry_t;

ngx_int_t ngx_http_authz_cache_lookup(ngx_http_request_t *r,
    ngx_str_t *token, uint64_t digest, ngx_http_authz_cache_entry_t *entry);
ngx_int_t ngx_http_authz_cache_entry_read(ngx_http_request_t *r,
    ngx_http_authz_eval_t *eval, ngx_http_authz_cache_entry_t *entry,
    const authz_verify_conf_t *verify);
void ngx_http_authz_cache_store(ngx_http_request_t *r,
    ngx_http_authz_cache_entry_t *entry, ngx_http_authz_eval_t *eval,
    time_t expire, ngx_uint_t claims);
uint64_t ngx_http_authz_cache_digest(ngx_http_authz_loc_conf_t *alcf);
uint64_t ngx_http_authz_hash(uint64_t seed, const u_char *p, size_t len);

typedef struct {
    ngx_uint_t                  hits;
    ngx_uint_t                  misses;
    ngx_uint_t                  evictions;
    ngx_uint_t                  entries;
} ngx_http_authz_cache_stats_t;

void ngx_http_authz_cache_stats(ngx_http_authz_main_conf_t *amcf,
    ngx_http_authz_cache_stats_t *st);

/* ngx_http_authz_status.c: counters; ngx_http_authz_metrics.c: answer */
char *ngx_http_authz_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_authz_status_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_authz_status_init(ngx_conf_t *cf);
void ngx_http_authz_status_revocation(ngx_http_authz_main_conf_t *amcf,
    ngx_uint_t hit, ngx_uint_t reload_failed);
/* ngx_http_authz_revocation.c: authz_revocation_file */
char *ngx_http_authz_revocation_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_authz_revocation_init_process(ngx_cycle_t *cycle);
authz_err_e ngx_http_authz_revocation_check(ngx_http_request_t *r,
    ngx_http_authz_eval_t *eval, const char **detail);
ngx_uint_t ngx_http_authz_revocation_stale(ngx_http_request_t *r);
void ngx_http_authz_revocation_log(ngx_http_request_t *r,
    ngx_http_authz_eval_t *eval);
ngx_http_authz_revocation_stats_t *ngx_http_authz_revocation_stats(
    ngx_cycle_t *cycle);

/* ngx_http_authz_key_request.c: authz_key_request, authz_key_cache */
char *ngx_http_authz_key_request(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_authz_key_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_authz_key_request_init(ngx_conf_t *cf);
ngx_int_t ngx_http_authz_key_request_init_process(ngx_cycle_t *cycle);
void ngx_http_authz_key_request_exit_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_authz_key_request_conf(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, const authz_verify_conf_t **vcf);
ngx_uint_t ngx_http_authz_key_request_kid(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf);
ngx_int_t ngx_http_authz_key_request_access(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval);
ngx_int_t ngx_http_authz_key_request_stats(ngx_http_authz_main_conf_t *amcf,
    ngx_uint_t i, ngx_http_authz_key_stats_t *st);

extern ngx_str_t  ngx_http_authz_key_results[];


#endif /* _NGX_HTTP_AUTHZ_MODULE_H_INCLUDED_ */
