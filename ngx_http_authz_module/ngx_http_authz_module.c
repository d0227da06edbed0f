/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * Directives, configuration merge and module registration.  Keys,
 * rules and requirements are parsed here once, into cf->pool; the
 * request path only reads what this file builds.
 */


#include "ngx_http_authz_module.h"


static ngx_int_t ngx_http_authz_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_authz_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_authz_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_authz_init_process(ngx_cycle_t *cycle);
static void ngx_http_authz_exit_process(ngx_cycle_t *cycle);
static void *ngx_http_authz_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_authz_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_authz_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);

static char *ngx_http_authz_realm_check(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_authz_claim_check(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_authz_token_size_check(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_authz_leeway_check(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_authz_mode(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_authz_complex_value(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_authz_str_list(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_authz_deny_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_conf_enum_t  ngx_http_authz_modes[] = {
    { ngx_string("off"), NGX_HTTP_AUTHZ_OFF },
    { ngx_string("on"), NGX_HTTP_AUTHZ_ON },
    { ngx_string("optional"), NGX_HTTP_AUTHZ_OPTIONAL },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_authz_rules_defaults[] = {
    { ngx_string("deny"), NGX_HTTP_AUTHZ_DENY },
    { ngx_string("allow"), NGX_HTTP_AUTHZ_ALLOW },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_authz_bindings[] = {
    { ngx_string("refuse"), NGX_HTTP_AUTHZ_BINDING_REFUSE },
    { ngx_string("ignore"), NGX_HTTP_AUTHZ_BINDING_IGNORE },
    { ngx_string("mtls"), NGX_HTTP_AUTHZ_BINDING_MTLS },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_authz_forward_permissions_values[] = {
    { ngx_string("all"), NGX_HTTP_AUTHZ_FORWARD_ALL },
    { ngx_string("service"), NGX_HTTP_AUTHZ_FORWARD_SERVICE },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_authz_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_conf_post_t  ngx_http_authz_leeway_post = {
    ngx_http_authz_leeway_check
};

static ngx_conf_post_t  ngx_http_authz_realm_post = {
    ngx_http_authz_realm_check
};

static ngx_conf_post_t  ngx_http_authz_claim_post = {
    ngx_http_authz_claim_check
};

static ngx_conf_post_t  ngx_http_authz_token_size_post = {
    ngx_http_authz_token_size_check
};


static ngx_command_t  ngx_http_authz_commands[] = {

    { ngx_string("authz"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_authz_mode,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, mode),
      &ngx_http_authz_modes },

    { ngx_string("authz_realm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, realm),
      &ngx_http_authz_realm_post },

    { ngx_string("authz_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE123,
      ngx_http_authz_key_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("authz_key_request"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_authz_key_request,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("authz_key_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_authz_key_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("authz_algorithms"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_authz_algorithms,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("authz_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_authz_complex_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, token),
      NULL },

    { ngx_string("authz_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_authz_str_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, issuers),
      NULL },

    { ngx_string("authz_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_authz_str_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, audiences),
      NULL },

    { ngx_string("authz_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, leeway),
      &ngx_http_authz_leeway_post },

    { ngx_string("authz_require_exp"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, require_exp),
      NULL },

    { ngx_string("authz_max_token_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, max_token_size),
      &ngx_http_authz_token_size_post },

    { ngx_string("authz_permissions_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_authz_permissions_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("authz_token_type"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_authz_token_type,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("authz_token_binding"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_authz_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, binding),
      &ngx_http_authz_bindings },

    { ngx_string("authz_bypass_preflight"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, bypass_preflight),
      NULL },

    { ngx_string("authz_forward_permissions"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_authz_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, forward_permissions),
      &ngx_http_authz_forward_permissions_values },

    { ngx_string("authz_wildcards"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, wildcards),
      NULL },

    { ngx_string("authz_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_authz_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, log_level),
      &ngx_http_authz_log_levels },

    { ngx_string("authz_claim_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_authz_claim_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("authz_tenant_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, tenant_claim),
      &ngx_http_authz_claim_post },

    { ngx_string("authz_services_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, services_claim),
      &ngx_http_authz_claim_post },

    { ngx_string("authz_roles_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, roles_claim),
      &ngx_http_authz_claim_post },

    { ngx_string("authz_role"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_authz_role,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("authz_scope_levels"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_authz_str_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, scope_levels),
      NULL },

    { ngx_string("authz_require"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_1MORE,
      ngx_http_authz_require,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("authz_rule"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_authz_rule,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("authz_rules_default"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_authz_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, rules_default),
      &ngx_http_authz_rules_defaults },

    { ngx_string("authz_service"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, service),
      &ngx_http_authz_claim_post },

    { ngx_string("authz_tenant"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_authz_complex_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, tenant),
      NULL },

    { ngx_string("authz_tenant_bypass"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, tenant_bypass),
      &ngx_http_authz_claim_post },

    { ngx_string("authz_condition"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_1MORE,
      ngx_http_authz_condition,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("authz_forward"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, forward),
      NULL },

    { ngx_string("authz_forward_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, forward_token),
      NULL },

    { ngx_string("authz_strip_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, strip_headers),
      NULL },

    { ngx_string("authz_deny_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_authz_deny_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, deny_status),
      NULL },

    { ngx_string("authz_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_authz_cache_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("authz_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_authz_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("authz_status_zone"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_authz_status_zone,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_authz_loc_conf_t, status_zone),
      NULL },

    { ngx_string("authz_revocation_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_authz_revocation_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_authz_module_ctx = {
    ngx_http_authz_preconfiguration,       /* preconfiguration */
    ngx_http_authz_init,                   /* postconfiguration */

    ngx_http_authz_create_main_conf,       /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_authz_create_loc_conf,        /* create location configuration */
    ngx_http_authz_merge_loc_conf          /* merge location configuration */
};


ngx_module_t  ngx_http_authz_module = {
    NGX_MODULE_V1,
    &ngx_http_authz_module_ctx,            /* module context */
    ngx_http_authz_commands,               /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_authz_init_module,            /* init module */
    ngx_http_authz_init_process,           /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_authz_exit_process,           /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_authz_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_authz_add_variables(cf);
}


static ngx_int_t
ngx_http_authz_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt         *h, *first;
    ngx_http_core_main_conf_t   *cmcf;
    ngx_http_authz_main_conf_t  *amcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_authz_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_authz_access_handler;

    /*
     * handlers of a phase run last to first: this one, put first, runs
     * after every other access handler (the final answer of a denial
     * under "satisfy any")
     */

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    first = cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers.elts;
    ngx_memmove(&first[1], &first[0],
                (cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers.nelts - 1)
                * sizeof(ngx_http_handler_pt));
    first[0] = ngx_http_authz_access_last_handler;

    /*
     * client copies of the identity headers are removed again before
     * content, for requests where "satisfy any" skipped the access handler
     */

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_authz_precontent_handler;

    ngx_http_authz_headers_init();

    if (ngx_http_authz_header_vars(cf, amcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_authz_status_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_authz_key_request_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_authz_filter_init(cf);
}


static ngx_int_t
ngx_http_authz_init_module(ngx_cycle_t *cycle)
{
    /* once per start and reload, in the error log; not for "nginx -t" */

    if (!ngx_test_config) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "authz module " NGX_HTTP_AUTHZ_VERSION);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_init_process(ngx_cycle_t *cycle)
{
    if (ngx_http_authz_key_request_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_authz_revocation_init_process(cycle);
}


static void
ngx_http_authz_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_authz_key_request_exit_process(cycle);
}


static void *
ngx_http_authz_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_authz_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_authz_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     amcf->roles = NULL;
     *     amcf->cache = NULL;
     *     amcf->cache_ttl = 0;
     *     amcf->status = NULL;
     *     amcf->revocation = NULL;
     *     amcf->key_cache = NULL;
     *     amcf->key_requests = NULL;
     */

    amcf->roles_used = NGX_CONF_UNSET;

    return amcf;
}


static void *
ngx_http_authz_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_authz_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_authz_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->realm = { 0, NULL };
     *     conf->tenant_claim = { 0, NULL };
     *     conf->services_claim = { 0, NULL };
     *     conf->roles_claim = { 0, NULL };
     *     conf->service = { 0, NULL };
     *     conf->tenant_bypass = { 0, NULL };
     *     conf->verify = { 0 };
     *     conf->claims = { 0 };
     *     conf->scope = { 0 };
     */

    conf->mode = NGX_CONF_UNSET_UINT;
    conf->keys = NGX_CONF_UNSET_PTR;
    conf->key_requests = NGX_CONF_UNSET_PTR;
    conf->algorithms = NGX_CONF_UNSET_UINT;
    conf->token = NGX_CONF_UNSET_PTR;
    conf->issuers = NGX_CONF_UNSET_PTR;
    conf->audiences = NGX_CONF_UNSET_PTR;
    conf->leeway = NGX_CONF_UNSET;
    conf->require_exp = NGX_CONF_UNSET;
    conf->max_token_size = NGX_CONF_UNSET_SIZE;
    conf->scope_levels = NGX_CONF_UNSET_PTR;
    conf->require = NGX_CONF_UNSET_PTR;
    conf->rules = NGX_CONF_UNSET_PTR;
    conf->rules_default = NGX_CONF_UNSET_UINT;
    conf->tenant = NGX_CONF_UNSET_PTR;
    conf->conditions = NGX_CONF_UNSET_PTR;
    conf->forward = NGX_CONF_UNSET;
    conf->forward_token = NGX_CONF_UNSET;
    conf->strip_headers = NGX_CONF_UNSET;
    conf->deny_status = NGX_CONF_UNSET_UINT;
    conf->status_zone = NGX_CONF_UNSET_UINT;
    conf->permissions_claims = NGX_CONF_UNSET_PTR;
    conf->types = NGX_CONF_UNSET_PTR;
    conf->binding = NGX_CONF_UNSET_UINT;
    conf->bypass_preflight = NGX_CONF_UNSET;
    conf->forward_permissions = NGX_CONF_UNSET_UINT;
    conf->wildcards = NGX_CONF_UNSET;
    conf->log_level = NGX_CONF_UNSET_UINT;
    conf->claim_headers = NGX_CONF_UNSET_PTR;
    conf->claim_strip = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_authz_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_authz_loc_conf_t *prev = parent;
    ngx_http_authz_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t    *clcf;

    if (conf->mode == NGX_CONF_UNSET_UINT) {
        conf->mode_file = prev->mode_file;
        conf->mode_line = prev->mode_line;
    }

    ngx_conf_merge_uint_value(conf->mode, prev->mode, NGX_HTTP_AUTHZ_OFF);
    ngx_conf_merge_str_value(conf->realm, prev->realm, "api");

    /* key files and key requests of one level go together */

    if (conf->keys == NGX_CONF_UNSET_PTR
        && conf->key_requests == NGX_CONF_UNSET_PTR)
    {
        conf->keys = prev->keys;
        conf->key_files = prev->key_files;
        conf->key_requests = prev->key_requests;
    }

    ngx_conf_merge_ptr_value(conf->keys, NGX_CONF_UNSET_PTR, NULL);
    ngx_conf_merge_ptr_value(conf->key_requests, NGX_CONF_UNSET_PTR, NULL);
    ngx_conf_merge_uint_value(conf->algorithms, prev->algorithms,
                              AUTHZ_ALG_RS256);
    ngx_conf_merge_ptr_value(conf->token, prev->token, NULL);
    ngx_conf_merge_ptr_value(conf->issuers, prev->issuers, NULL);
    ngx_conf_merge_ptr_value(conf->audiences, prev->audiences, NULL);
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 60);
    ngx_conf_merge_value(conf->require_exp, prev->require_exp, 1);
    ngx_conf_merge_size_value(conf->max_token_size, prev->max_token_size,
                              8192);
    ngx_conf_merge_str_value(conf->tenant_claim, prev->tenant_claim, "tid");
    ngx_conf_merge_str_value(conf->services_claim, prev->services_claim,
                             "services");
    ngx_conf_merge_str_value(conf->roles_claim, prev->roles_claim, "roles");
    ngx_conf_merge_ptr_value(conf->scope_levels, prev->scope_levels, NULL);
    ngx_conf_merge_ptr_value(conf->require, prev->require, NULL);

    ngx_http_authz_rules_check(cf, prev, conf);

    ngx_conf_merge_ptr_value(conf->rules, prev->rules, NULL);
    ngx_conf_merge_uint_value(conf->rules_default, prev->rules_default,
                              NGX_HTTP_AUTHZ_DENY);
    ngx_conf_merge_str_value(conf->service, prev->service, "");

    if (conf->service.len == 3
        && ngx_strncmp(conf->service.data, "off", 3) == 0)
    {
        ngx_str_null(&conf->service);
    }

    ngx_conf_merge_ptr_value(conf->tenant, prev->tenant, NULL);
    ngx_conf_merge_str_value(conf->tenant_bypass, prev->tenant_bypass, "");

    if (conf->tenant_bypass.len == 3
        && ngx_strncmp(conf->tenant_bypass.data, "off", 3) == 0)
    {
        ngx_str_null(&conf->tenant_bypass);
    }

    ngx_conf_merge_ptr_value(conf->conditions, prev->conditions, NULL);
    ngx_conf_merge_value(conf->forward, prev->forward, 1);
    ngx_conf_merge_value(conf->forward_token, prev->forward_token, 1);
    ngx_conf_merge_value(conf->strip_headers, prev->strip_headers, 1);
    ngx_conf_merge_uint_value(conf->deny_status, prev->deny_status,
                              NGX_HTTP_FORBIDDEN);
    ngx_conf_merge_uint_value(conf->status_zone, prev->status_zone, 0);
    ngx_conf_merge_uint_value(conf->binding, prev->binding,
                              NGX_HTTP_AUTHZ_BINDING_REFUSE);
    ngx_conf_merge_value(conf->bypass_preflight, prev->bypass_preflight, 0);
    ngx_conf_merge_uint_value(conf->forward_permissions,
                              prev->forward_permissions,
                              NGX_HTTP_AUTHZ_FORWARD_ALL);
    ngx_conf_merge_value(conf->wildcards, prev->wildcards, 1);
    ngx_conf_merge_uint_value(conf->log_level, prev->log_level,
                              NGX_LOG_INFO);

    if (ngx_http_authz_claims_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }
    ngx_conf_merge_uint_value(conf->binding, prev->binding,
                              NGX_HTTP_AUTHZ_BINDING_REFUSE);
    ngx_conf_merge_value(conf->bypass_preflight, prev->bypass_preflight, 0);
    ngx_conf_merge_uint_value(conf->forward_permissions,
                              prev->forward_permissions,
                              NGX_HTTP_AUTHZ_FORWARD_ALL);
    ngx_conf_merge_value(conf->wildcards, prev->wildcards, 1);
    ngx_conf_merge_uint_value(conf->log_level, prev->log_level,
                              NGX_LOG_INFO);

    if (ngx_http_authz_claims_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    /* the core's view of the same settings, shared, never copied */

    if (conf->keys != NULL) {
        conf->file_keys.keys = conf->keys->elts;
        conf->file_keys.nkeys = conf->keys->nelts;
        conf->verify.sets = &conf->file_keys;
        conf->verify.nsets = 1;
    }

    conf->verify.algs = conf->algorithms;
    conf->verify.max_size = conf->max_token_size;

    if (conf->issuers != NULL) {
        conf->verify.issuers = conf->issuers->elts;
        conf->verify.nissuers = conf->issuers->nelts;
    }

    if (conf->audiences != NULL) {
        conf->verify.audiences = conf->audiences->elts;
        conf->verify.naudiences = conf->audiences->nelts;
    }

    conf->verify.leeway = conf->leeway;
    conf->verify.require_exp = conf->require_exp;

    conf->scope.nowild = !conf->wildcards;

    if (conf->scope_levels != NULL) {
        conf->scope.levels = conf->scope_levels->elts;
        conf->scope.nlevels = conf->scope_levels->nelts;
    }

    conf->claims_digest = ngx_http_authz_cache_digest(conf);

    /*
     * checked in locations, and in servers without locations: "authz on"
     * at the server level may rely on keys that every location sets;
     * an "if" block at the server level ("noname", no name) only runs
     * in the server's rewrite phase, never in the access phase
     */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /* which keys may verify which algorithm here, issuer bindings */

    if (conf->mode != NGX_HTTP_AUTHZ_OFF && conf->file_keys.nkeys != 0
        && (clcf->name.len != 0 || clcf->locations == NULL)
        && !(clcf->noname && clcf->name.len == 0)
        && ngx_http_authz_keys_merge(cf, conf) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (conf->mode != NGX_HTTP_AUTHZ_OFF && conf->file_keys.nkeys == 0
        && conf->key_requests == NULL
        && (clcf->name.len != 0 || clcf->locations == NULL)
        && !(clcf->noname && clcf->name.len == 0))
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"authz\" requires \"authz_key_file\" in %V:%ui",
                      &conf->mode_file, conf->mode_line);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_authz_realm_check(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *realm = data;

    u_char  *p;

    for (p = realm->data; p < realm->data + realm->len; p++) {
        if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\') {
            return "has a character not allowed in a quoted string";
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_authz_claim_check(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *name = data;

    if (!authz_claim_name_valid(name->data, name->len)) {
        return "must be non-empty printable ASCII without \",\" "
               "(in a JSON Pointer, \"~\" only as \"~0\" or \"~1\")";
    }

    return NGX_CONF_OK;
}


/* SPEC 3: more than 10 minutes of clock skew is a mistake */

static char *
ngx_http_authz_leeway_check(ngx_conf_t *cf, void *post, void *data)
{
    time_t  *tp = data;

    if (*tp > 600) {
        return "must not be more than 10m";
    }

    return NGX_CONF_OK;
}


/*
 * the ceiling bounds what a forged token costs: one SHA-256 pass over
 * at most 64k and two RSA operations (docs/performance.md)
 */

static char *
ngx_http_authz_token_size_check(ngx_conf_t *cf, void *post, void *data)
{
    size_t  *sp = data;

    if (*sp < 16 || *sp > AUTHZ_MAX_TOKEN_SIZE) {
        return "must be between 16 and 64k";
    }

    return NGX_CONF_OK;
}


/* a complex value, or "off" to cancel the inherited one */

static char *
ngx_http_authz_complex_value(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t                  *value;
    ngx_http_complex_value_t  **cv;

    cv = (ngx_http_complex_value_t **) (p + cmd->offset);
    value = cf->args->elts;

    if (*cv == NGX_CONF_UNSET_PTR
        && value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0)
    {
        *cv = NULL;
        return NGX_CONF_OK;
    }

    return ngx_http_set_complex_value_slot(cf, cmd, conf);
}


/* "authz": remembers where it was set, for the check in merge */

static char *
ngx_http_authz_mode(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_authz_loc_conf_t *alcf = conf;

    char  *rv;

    rv = ngx_http_authz_enum_slot(cf, cmd, conf);

    if (rv == NGX_CONF_OK) {
        alcf->mode_file = cf->conf_file->file.name;
        alcf->mode_line = cf->conf_file->line;
    }

    return rv;
}


/* every argument appended to an array of ngx_str_t (authz_str_t) */

static char *
ngx_http_authz_str_list(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t     *value, *s;
    ngx_uint_t     i;
    ngx_array_t  **a;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a == NGX_CONF_UNSET_PTR) {
        *a = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
        if (*a == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": empty value",
                               &cmd->name);
            return NGX_CONF_ERROR;
        }

        s = ngx_array_push(*a);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    if (cmd->offset != offsetof(ngx_http_authz_loc_conf_t, scope_levels)) {
        return NGX_CONF_OK;
    }

    /* a level is one segment of a permission, named once */

    if ((*a)->nelts > AUTHZ_MAX_SCOPE_LEVELS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": too many scope levels", &cmd->name);
        return NGX_CONF_ERROR;
    }

    s = (*a)->elts;

    for (i = 0; i < (*a)->nelts; i++) {
        if (!authz_perm_required_valid(s[i].data, s[i].len)
            || ngx_strlchr(s[i].data, s[i].data + s[i].len, ':') != NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": invalid scope level \"%V\"",
                               &cmd->name, &s[i]);
            return NGX_CONF_ERROR;
        }

        if (authz_str_in((authz_str_t *) s, i, s[i].data, s[i].len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": scope level \"%V\" is duplicate",
                               &cmd->name, &s[i]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_authz_deny_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_authz_loc_conf_t *alcf = conf;

    ngx_str_t  *value;

    if (alcf->deny_status != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "403", 3) == 0) {
        alcf->deny_status = NGX_HTTP_FORBIDDEN;

    } else if (value[1].len == 3
               && ngx_strncmp(value[1].data, "404", 3) == 0)
    {
        alcf->deny_status = NGX_HTTP_NOT_FOUND;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid value \"%V\", it must be 403 "
                           "or 404", &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
