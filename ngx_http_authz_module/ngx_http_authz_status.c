/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * The counters of authz_status: the "authz_status" and
 * "authz_status_zone" directives, the shared memory zone that holds the
 * counters of every worker, and the log-phase handler that counts each
 * request once, by its final decision.  The answer itself (Prometheus
 * text, JSON) is made by ngx_http_authz_metrics.c.
 */


#include "ngx_http_authz_status.h"


static ngx_http_authz_status_conf_t *ngx_http_authz_status_conf(
    ngx_conf_t *cf);
static ngx_int_t ngx_http_authz_status_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_authz_status_bind(
    ngx_http_authz_status_conf_t *scf, ngx_http_authz_status_conf_t *oscf,
    ngx_log_t *log);
static ngx_http_authz_status_slot_t *ngx_http_authz_status_find(
    ngx_http_authz_status_conf_t *scf, ngx_http_authz_status_conf_t *oscf,
    ngx_str_t *name, ngx_uint_t unused);
static ngx_uint_t ngx_http_authz_status_named(
    ngx_http_authz_status_conf_t *scf, ngx_http_authz_status_slot_t *slot);
static ngx_int_t ngx_http_authz_status_log_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_authz_status_reason(ngx_str_t *error,
    ngx_str_t *reason);


/* the zone's tag: a cache zone of the same name is refused by nginx */
static ngx_uint_t  ngx_http_authz_status_tag;

static ngx_str_t  ngx_http_authz_status_zone_name =
    ngx_string("authz_status");


/* indexed by NGX_HTTP_AUTHZ_STATUS_ALLOW, _DENY, _ANONYMOUS */

ngx_str_t  ngx_http_authz_status_results[] = {
    ngx_string("allow"),
    ngx_string("deny"),
    ngx_string("anonymous")
};


/*
 * Every $authz_error with the fixed $authz_reason texts the module gives
 * (ngx_http_authz_deny() callers, authz_strerror()).  A text not listed
 * counts under its error's "other" row, an error not listed under
 * other/other: the label values are this table's, never the request's.
 * A denial without an error (an internal failure, 500) is "internal".
 */

ngx_http_authz_status_reason_t  ngx_http_authz_status_reasons[] = {
    { ngx_string("missing_token"), ngx_string("no token was provided") },
    { ngx_string("missing_token"), ngx_string("other") },

    { ngx_string("invalid_token"), ngx_string("malformed token") },
    { ngx_string("invalid_token"), ngx_string("token too large") },
    { ngx_string("invalid_token"), ngx_string("algorithm not allowed") },
    { ngx_string("invalid_token"),
      ngx_string("unsupported critical header") },
    { ngx_string("invalid_token"), ngx_string("unknown key id") },
    { ngx_string("invalid_token"),
      ngx_string("signature verification failed") },
    { ngx_string("invalid_token"), ngx_string("token expired") },
    { ngx_string("invalid_token"), ngx_string("token not yet valid") },
    { ngx_string("invalid_token"), ngx_string("token issued in the future") },
    { ngx_string("invalid_token"), ngx_string("token has no expiry") },
    { ngx_string("invalid_token"), ngx_string("issuer not accepted") },
    { ngx_string("invalid_token"),
      ngx_string("key not valid for this issuer") },
    { ngx_string("invalid_token"), ngx_string("audience not accepted") },
    { ngx_string("invalid_token"), ngx_string("invalid claim") },
    { ngx_string("invalid_token"), ngx_string("token revoked") },
    { ngx_string("invalid_token"), ngx_string("token type not accepted") },
    { ngx_string("invalid_token"),
      ngx_string("sender-constrained token refused") },
    { ngx_string("invalid_token"), ngx_string("other") },

    { ngx_string("insufficient_scope"), ngx_string("permission missing") },
    { ngx_string("insufficient_scope"), ngx_string("other") },

    { ngx_string("tenant_mismatch"), ngx_string("request names no tenant") },
    { ngx_string("tenant_mismatch"),
      ngx_string("token is for another tenant") },
    { ngx_string("tenant_mismatch"),
      ngx_string("path names another tenant") },
    { ngx_string("tenant_mismatch"), ngx_string("token has no tenant") },
    { ngx_string("tenant_mismatch"), ngx_string("other") },

    { ngx_string("service_disabled"),
      ngx_string("service not enabled for the tenant") },
    { ngx_string("service_disabled"),
      ngx_string("token has no services claim") },
    { ngx_string("service_disabled"), ngx_string("other") },

    { ngx_string("forbidden"), ngx_string("condition not met") },
    { ngx_string("forbidden"), ngx_string("no rule matched") },
    { ngx_string("forbidden"), ngx_string("path names another user") },
    { ngx_string("forbidden"), ngx_string("path has too many segments") },
    { ngx_string("forbidden"), ngx_string("other") },

    { ngx_string("revocation_stale"),
      ngx_string("revocation list too old") },
    { ngx_string("revocation_stale"), ngx_string("other") },

    { ngx_string("key_unavailable"), ngx_string("no usable key") },
    { ngx_string("key_unavailable"), ngx_string("other") },

    { ngx_string("internal"), ngx_string("internal error") },

    /* the last row: an error not listed above */
    { ngx_string("other"), ngx_string("other") }
};


/* the table has exactly NGX_HTTP_AUTHZ_STATUS_REASONS rows */

typedef char  ngx_http_authz_status_reasons_check[
    (sizeof(ngx_http_authz_status_reasons)
     / sizeof(ngx_http_authz_status_reason_t)
     == NGX_HTTP_AUTHZ_STATUS_REASONS) ? 1 : -1];


/* "authz_status": the content handler of the location */

char *
ngx_http_authz_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_authz_status_conf_t  *scf;

    scf = ngx_http_authz_status_conf(cf);
    if (scf == NULL) {
        return NGX_CONF_ERROR;
    }

    scf->used = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_authz_status_handler;

    return NGX_CONF_OK;
}


/* "authz_status_zone NAME": the index of the label NAME */

char *
ngx_http_authz_status_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_authz_loc_conf_t *alcf = conf;

    u_char                        *p;
    ngx_str_t                     *value, *label;
    ngx_uint_t                     i;
    ngx_http_authz_status_conf_t  *scf;

    if (alcf->status_zone != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].len > NGX_HTTP_AUTHZ_STATUS_NAME_LEN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid zone name \"%V\": it must "
                           "have 1 to %d characters", &cmd->name, &value[1],
                           NGX_HTTP_AUTHZ_STATUS_NAME_LEN);
        return NGX_CONF_ERROR;
    }

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (*p < 0x20 || *p > 0x7e) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": invalid zone name: only printable "
                               "ASCII characters are allowed", &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    scf = ngx_http_authz_status_conf(cf);
    if (scf == NULL) {
        return NGX_CONF_ERROR;
    }

    label = scf->labels.elts;

    for (i = 0; i < scf->labels.nelts; i++) {
        if (label[i].len == value[1].len
            && ngx_strncmp(label[i].data, value[1].data, value[1].len) == 0)
        {
            alcf->status_zone = i;
            return NGX_CONF_OK;
        }
    }

    label = ngx_array_push(&scf->labels);
    if (label == NULL) {
        return NGX_CONF_ERROR;
    }

    *label = value[1];
    alcf->status_zone = i;

    return NGX_CONF_OK;
}


/* created by the first status directive; label 0 is "default" */

static ngx_http_authz_status_conf_t *
ngx_http_authz_status_conf(ngx_conf_t *cf)
{
    ngx_str_t                     *label;
    ngx_http_authz_main_conf_t    *amcf;
    ngx_http_authz_status_conf_t  *scf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_authz_module);

    if (amcf->status != NULL) {
        return amcf->status;
    }

    scf = ngx_pcalloc(cf->pool, sizeof(ngx_http_authz_status_conf_t));
    if (scf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&scf->labels, cf->pool, 4, sizeof(ngx_str_t))
        != NGX_OK)
    {
        return NULL;
    }

    label = ngx_array_push(&scf->labels);
    if (label == NULL) {
        return NULL;
    }

    ngx_str_set(label, "default");

    amcf->status = scf;

    return scf;
}


/*
 * postconfiguration: with "authz_status" somewhere in http{}, the zone
 * and the counting handler; without it the module counts nothing
 */

ngx_int_t
ngx_http_authz_status_init(ngx_conf_t *cf)
{
    size_t                         size;
    ngx_http_handler_pt           *h;
    ngx_http_core_main_conf_t     *cmcf;
    ngx_http_authz_main_conf_t    *amcf;
    ngx_http_authz_status_conf_t  *scf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_authz_module);
    scf = amcf->status;

    if (scf == NULL || !scf->used) {
        return NGX_OK;
    }

    size = scf->labels.nelts * sizeof(ngx_http_authz_status_slot_t *);

    scf->slots = ngx_pcalloc(cf->pool, size);
    if (scf->slots == NULL) {
        return NGX_ERROR;
    }

    /*
     * room for four times the labels, and at least 1 MB (some 2,000
     * labels): the size changes, and the counters restart, only when a
     * configuration outgrows it; a reload that renames labels keeps the
     * same zone, and the counters of the others
     */

    size = 8 * ngx_pagesize
           + 4 * scf->labels.nelts * sizeof(ngx_http_authz_status_slot_t);
    size = ngx_max(size, 1024 * 1024);
    size = ngx_align(size, 8 * ngx_pagesize);

    scf->zone = ngx_shared_memory_add(cf, &ngx_http_authz_status_zone_name,
                                      size, &ngx_http_authz_status_tag);
    if (scf->zone == NULL) {
        return NGX_ERROR;
    }

    if (scf->zone->data) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"authz_status\" is used in more than one http block");
        return NGX_ERROR;
    }

    scf->zone->init = ngx_http_authz_status_init_zone;
    scf->zone->data = scf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_authz_status_log_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_status_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_authz_status_conf_t  *oscf = data;

    size_t                         len;
    ngx_http_authz_status_conf_t  *scf;

    scf = shm_zone->data;

    if (oscf != NULL) {
        /* a reload with a zone of the same size: the counters go on */
        scf->shpool = oscf->shpool;
        scf->sh = oscf->sh;

        return ngx_http_authz_status_bind(scf, oscf, shm_zone->shm.log);
    }

    scf->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        scf->sh = scf->shpool->data;
        return ngx_http_authz_status_bind(scf, NULL, shm_zone->shm.log);
    }

    scf->sh = ngx_slab_calloc(scf->shpool,
                              sizeof(ngx_http_authz_status_sh_t));
    if (scf->sh == NULL) {
        return NGX_ERROR;
    }

    scf->shpool->data = scf->sh;

    ngx_queue_init(&scf->sh->slots);

    len = sizeof(" in authz status zone \"\"") + shm_zone->shm.name.len;

    scf->shpool->log_ctx = ngx_slab_alloc(scf->shpool, len);
    if (scf->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(scf->shpool->log_ctx, " in authz status zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone is handled by taking a slot no label uses any more */
    scf->shpool->log_nomem = 0;

    return ngx_http_authz_status_bind(scf, NULL, shm_zone->shm.log);
}


/*
 * In the master, at (re)load: the slot of each label of the new
 * configuration, by name.  Workers only increment counters of slots
 * they were given; only the master walks or changes the list.
 */

static ngx_int_t
ngx_http_authz_status_bind(ngx_http_authz_status_conf_t *scf,
    ngx_http_authz_status_conf_t *oscf, ngx_log_t *log)
{
    ngx_str_t                     *label;
    ngx_uint_t                     i;
    ngx_http_authz_status_slot_t  *slot;

    label = scf->labels.elts;

    for (i = 0; i < scf->labels.nelts; i++) {

        slot = ngx_http_authz_status_find(scf, oscf, &label[i], 0);

        if (slot != NULL) {
            scf->slots[i] = slot;
            continue;
        }

        slot = ngx_slab_calloc(scf->shpool,
                               sizeof(ngx_http_authz_status_slot_t));

        if (slot == NULL) {

            /*
             * many renames over reloads: a label that neither this
             * configuration nor the running one has gives its slot (the
             * running one stays if this reload fails)
             */

            slot = ngx_http_authz_status_find(scf, oscf, NULL, 1);
            if (slot == NULL) {
                ngx_log_error(NGX_LOG_EMERG, log, 0,
                              "no room for zone \"%V\" in the authz status "
                              "zone", &label[i]);
                return NGX_ERROR;
            }

            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "authz status zone is full: the counters of "
                          "zone \"%*s\" are given to zone \"%V\"",
                          slot->len, slot->name, &label[i]);

            ngx_queue_remove(&slot->queue);
            ngx_memzero(slot, sizeof(ngx_http_authz_status_slot_t));
        }

        slot->len = label[i].len;
        ngx_memcpy(slot->name, label[i].data, label[i].len);

        ngx_queue_insert_tail(&scf->sh->slots, &slot->queue);

        scf->slots[i] = slot;
    }

    return NGX_OK;
}


/* the slot named name; or, with unused, one that no label names */

static ngx_http_authz_status_slot_t *
ngx_http_authz_status_find(ngx_http_authz_status_conf_t *scf,
    ngx_http_authz_status_conf_t *oscf, ngx_str_t *name, ngx_uint_t unused)
{
    ngx_queue_t                   *q;
    ngx_http_authz_status_slot_t  *slot;

    for (q = ngx_queue_head(&scf->sh->slots);
         q != ngx_queue_sentinel(&scf->sh->slots);
         q = ngx_queue_next(q))
    {
        slot = ngx_queue_data(q, ngx_http_authz_status_slot_t, queue);

        if (!unused) {
            if (slot->len == name->len
                && ngx_memcmp(slot->name, name->data, name->len) == 0)
            {
                return slot;
            }

            continue;
        }

        if (!ngx_http_authz_status_named(scf, slot)
            && (oscf == NULL || !ngx_http_authz_status_named(oscf, slot)))
        {
            return slot;
        }
    }

    return NULL;
}


static ngx_uint_t
ngx_http_authz_status_named(ngx_http_authz_status_conf_t *scf,
    ngx_http_authz_status_slot_t *slot)
{
    ngx_str_t   *label;
    ngx_uint_t   i;

    label = scf->labels.elts;

    for (i = 0; i < scf->labels.nelts; i++) {
        if (slot->len == label[i].len
            && ngx_memcmp(slot->name, label[i].data, slot->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * One count per request: the final decision of the main request, at
 * the end, whatever internal redirects decided on the way (each of
 * them replaces the decision whole).  It counts under the zone label
 * of the location that made that decision.  Requests without a
 * decision ("authz off", or never past the rewrite phases) and the
 * requests of an authz_status location are not counted.
 */

static ngx_int_t
ngx_http_authz_status_log_handler(ngx_http_request_t *r)
{
    ngx_uint_t                     result;
    ngx_http_authz_ctx_t          *ctx;
    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_authz_loc_conf_t     *alcf;
    ngx_http_authz_main_conf_t    *amcf;
    ngx_http_authz_status_slot_t  *slot;

    if (r != r->main) {
        return NGX_OK;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->handler == ngx_http_authz_status_handler) {
        return NGX_OK;
    }

    ctx = ngx_http_authz_get_ctx(r);

    if (ctx == NULL) {
        return NGX_OK;
    }

    switch (ctx->result) {

    case NGX_HTTP_AUTHZ_RESULT_ALLOW:
        result = NGX_HTTP_AUTHZ_STATUS_ALLOW;
        break;

    case NGX_HTTP_AUTHZ_RESULT_DENY:
        result = NGX_HTTP_AUTHZ_STATUS_DENY;
        break;

    case NGX_HTTP_AUTHZ_RESULT_ANONYMOUS:
        result = NGX_HTTP_AUTHZ_STATUS_ANONYMOUS;
        break;

    default:
        return NGX_OK;
    }

    alcf = (ctx->decided != NULL)
           ? ctx->decided->conf
           : ngx_http_get_module_loc_conf(r, ngx_http_authz_module);

    amcf = ngx_http_get_module_main_conf(r, ngx_http_authz_module);

    slot = amcf->status->slots[alcf->status_zone];

    (void) ngx_atomic_fetch_add(&slot->requests[result], 1);

    if (result == NGX_HTTP_AUTHZ_STATUS_DENY) {
        (void) ngx_atomic_fetch_add(
            &slot->denials[ngx_http_authz_status_reason(&ctx->error,
                                                        &ctx->reason)],
            1);
    }

    return NGX_OK;
}


/* the row of (error, reason): static texts compared, never copied */

static ngx_uint_t
ngx_http_authz_status_reason(ngx_str_t *error, ngx_str_t *reason)
{
    ngx_uint_t                       i, other;
    ngx_http_authz_status_reason_t  *row;

    other = NGX_HTTP_AUTHZ_STATUS_REASONS - 1;

    for (i = 0; i < NGX_HTTP_AUTHZ_STATUS_REASONS - 1; i++) {
        row = &ngx_http_authz_status_reasons[i];

        if (error->len == 0) {
            /* decided without an error: an internal failure */

            if (row->error.len == sizeof("internal") - 1
                && ngx_strncmp(row->error.data, "internal", row->error.len)
                   == 0)
            {
                return i;
            }

            continue;
        }

        if (row->error.len != error->len
            || ngx_strncmp(row->error.data, error->data, error->len) != 0)
        {
            continue;
        }

        if (row->reason.len == reason->len
            && ngx_strncmp(row->reason.data, reason->data, reason->len) == 0)
        {
            return i;
        }

        if (row->reason.len == sizeof("other") - 1
            && ngx_strncmp(row->reason.data, "other", row->reason.len) == 0)
        {
            other = i;
        }
    }

    return other;
}


/*
 * authz_revocation_file: a refused token of a kind (hit, an
 * AUTHZ_REVOKED_* kind) or a reload of the list by a worker (hit 0,
 * reload_failed 0 or 1), summed over the workers when a status
 * location exists
 */

void
ngx_http_authz_status_revocation(ngx_http_authz_main_conf_t *amcf,
    ngx_uint_t hit, ngx_uint_t reload_failed)
{
    ngx_http_authz_status_conf_t  *scf;

    scf = amcf->status;

    if (scf == NULL || !scf->used || scf->sh == NULL) {
        return;
    }

    if (hit != 0 && hit < AUTHZ_REVOKED_KINDS) {
        (void) ngx_atomic_fetch_add(&scf->sh->revocation_hits[hit], 1);
        return;
    }

    (void) ngx_atomic_fetch_add(&scf->sh->revocation_reloads[reload_failed
                                                             ? 1 : 0], 1);
}
