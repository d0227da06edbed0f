/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * authz_role, authz_require, authz_rule and authz_condition: rules and
 * requirements are compiled once, at configuration time, into cf->pool.
 */


#include "ngx_http_authz_module.h"


static char *ngx_http_authz_list(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_array_t **a, size_t size);
static ngx_int_t ngx_http_authz_req_compile(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *value, authz_req_t *req);
static ngx_uint_t ngx_http_authz_rule_covered(authz_rule_t *rules,
    ngx_uint_t n, authz_rule_t *rule);


char *
ngx_http_authz_role(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_authz_main_conf_t *amcf = conf;

    ngx_str_t     *value;
    ngx_uint_t     i;
    authz_role_t  *role;

    value = cf->args->elts;

    if (!authz_value_valid(value[1].data, value[1].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid role name \"%V\"", &cmd->name,
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (amcf->roles == NULL) {
        amcf->roles = ngx_array_create(cf->pool, 8, sizeof(authz_role_t));
        if (amcf->roles == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    role = amcf->roles->elts;

    for (i = 0; i < amcf->roles->nelts; i++) {
        if (role[i].name.len == value[1].len
            && ngx_strncmp(role[i].name.data, value[1].data, value[1].len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": role \"%V\" is duplicate",
                               &cmd->name, &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    role = ngx_array_push(amcf->roles);
    if (role == NULL) {
        return NGX_CONF_ERROR;
    }

    role->name = *(authz_str_t *) &value[1];
    role->nperms = cf->args->nelts - 2;
    role->perms = ngx_palloc(cf->pool, role->nperms * sizeof(authz_str_t));
    if (role->perms == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        if (!authz_perm_valid(value[i].data, value[i].len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": invalid permission \"%V\"",
                               &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }

        role->perms[i - 2] = *(authz_str_t *) &value[i];
    }

    return NGX_CONF_OK;
}


/*
 * the array of a list directive (authz_require, authz_condition): a lone
 * "off" cancels the inherited list and leaves *a NULL
 */

static char *
ngx_http_authz_list(ngx_conf_t *cf, ngx_command_t *cmd, ngx_array_t **a,
    size_t size)
{
    ngx_str_t  *value;

    value = cf->args->elts;

    if (cf->args->nelts == 2 && value[1].len == 3
        && ngx_strncmp(value[1].data, "off", 3) == 0)
    {
        if (*a != NGX_CONF_UNSET_PTR) {
            return "is duplicate";
        }

        *a = NULL;
        return NGX_CONF_OK;
    }

    if (*a == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive cannot be combined with "
                           "\"%V off\"",
                           &cmd->name, &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (*a == NGX_CONF_UNSET_PTR) {
        *a = ngx_array_create(cf->pool, 4, size);
        if (*a == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_authz_req_compile(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *value, authz_req_t *req)
{
    const char   *err;
    authz_str_t  *alts;

    alts = ngx_palloc(cf->pool, (authz_req_count_alts(value->data, value->len)
                                 + 1) * sizeof(authz_str_t));
    if (alts == NULL) {
        return NGX_ERROR;
    }

    if (authz_req_parse(req, value->data, value->len, alts, &err) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid requirement \"%V\": %s",
                           &cmd->name, value, err);
        return NGX_ERROR;
    }

    return NGX_OK;
}


char *
ngx_http_authz_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_authz_loc_conf_t *alcf = conf;

    char         *rv;
    ngx_str_t    *value;
    ngx_uint_t    i;
    authz_req_t  *req;

    rv = ngx_http_authz_list(cf, cmd, &alcf->require, sizeof(authz_req_t));
    if (rv != NGX_CONF_OK || alcf->require == NULL) {
        return rv;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        req = ngx_array_push(alcf->require);
        if (req == NULL) {
            return NGX_CONF_ERROR;
        }

        if (ngx_http_authz_req_compile(cf, cmd, &value[i], req) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


char *
ngx_http_authz_rule(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_authz_loc_conf_t *alcf = conf;

    unsigned       bit;
    ngx_str_t     *value;
    ngx_uint_t     i, n;
    const char    *err;
    authz_seg_t   *segs;
    authz_rule_t  *rule;

    if (alcf->rules == NGX_CONF_UNSET_PTR) {
        alcf->rules = ngx_array_create(cf->pool, 8, sizeof(authz_rule_t));
        if (alcf->rules == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    rule = ngx_array_push(alcf->rules);
    if (rule == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(rule, sizeof(authz_rule_t));

    rule->file = *(authz_str_t *) &cf->conf_file->file.name;
    rule->line = cf->conf_file->line;

    value = cf->args->elts;

    /* methods, up to the pattern */

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len && value[i].data[0] == '/') {
            break;
        }

        bit = authz_method_bit(value[i].data, value[i].len);

        if (bit == 0) {
            for (n = 0; n < value[i].len; n++) {
                if (value[i].data[n] < 'A' || value[i].data[n] > 'Z') {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "\"%V\": invalid pattern \"%V\": "
                                       "pattern must start with \"/\"",
                                       &cmd->name, &value[i]);
                    return NGX_CONF_ERROR;
                }
            }

            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": unknown method \"%V\"",
                               &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }

        rule->methods |= bit;
    }

    if (i == 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": no method before \"%V\"", &cmd->name,
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (i == cf->args->nelts) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": no pattern starting with \"/\"",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    segs = ngx_palloc(cf->pool,
                      (authz_pattern_count_segs(value[i].data, value[i].len)
                       + 1) * sizeof(authz_seg_t));
    if (segs == NULL) {
        return NGX_CONF_ERROR;
    }

    if (authz_pattern_compile(&rule->pattern, value[i].data, value[i].len,
                              segs, &err)
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid pattern \"%V\": %s",
                           &cmd->name, &value[i], err);
        return NGX_CONF_ERROR;
    }

    i++;

    if (i == cf->args->nelts) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": no requirement after \"%V\" (use "
                           "\"public\" for a route that needs none)",
                           &cmd->name, &value[i - 1]);
        return NGX_CONF_ERROR;
    }

    if (value[i].len == 6 && ngx_strncmp(value[i].data, "public", 6) == 0) {
        if (i + 1 != cf->args->nelts) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"public\" cannot be combined "
                               "with requirements", &cmd->name);
            return NGX_CONF_ERROR;
        }

        rule->public = 1;
        return NGX_CONF_OK;
    }

    n = cf->args->nelts - i;

    rule->reqs = ngx_palloc(cf->pool, n * sizeof(authz_req_t));
    if (rule->reqs == NULL) {
        return NGX_CONF_ERROR;
    }

    rule->nreqs = n;

    for (n = 0; i < cf->args->nelts; i++, n++) {
        if (ngx_http_authz_req_compile(cf, cmd, &value[i], &rule->reqs[n])
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * called by merge before the rules and authz_rules_default are merged:
 * with "allow", a request whose method no rule names matches no rule
 * and passes without any permission, also on the paths of a rule that
 * names some methods only; warned once, at the level that sets the
 * rules or the default, unless a "*" rule covers the same paths
 */

void
ngx_http_authz_rules_check(ngx_conf_t *cf, ngx_http_authz_loc_conf_t *prev,
    ngx_http_authz_loc_conf_t *conf)
{
    ngx_uint_t                 i, deflt;
    ngx_array_t               *rules;
    authz_rule_t              *rule;
    ngx_http_core_loc_conf_t  *clcf;

    if (conf->rules == NGX_CONF_UNSET_PTR
        && conf->rules_default == NGX_CONF_UNSET_UINT)
    {
        return;
    }

    rules = (conf->rules != NGX_CONF_UNSET_PTR) ? conf->rules : prev->rules;
    deflt = (conf->rules_default != NGX_CONF_UNSET_UINT)
            ? conf->rules_default : prev->rules_default;

    if (rules == NULL || rules == NGX_CONF_UNSET_PTR
        || deflt != NGX_HTTP_AUTHZ_ALLOW)
    {
        return;
    }

    rule = rules->elts;

    for (i = 0; i < rules->nelts; i++) {

        /* a public rule grants nothing the default does not */

        if (rule[i].public || rule[i].methods == AUTHZ_METHOD_ANY
            || ngx_http_authz_rule_covered(rule, rules->nelts, &rule[i]))
        {
            continue;
        }

        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "\"authz_rules_default allow\"%s%V%s lets requests "
                      "pass without any permission when no rule names "
                      "their method: the rule for \"%*s\" names only "
                      "some methods, other methods on its paths pass "
                      "(add a \"*\" rule for them or use "
                      "\"authz_rules_default deny\") in %*s:%uz",
                      clcf->name.len ? " in location \"" : "", &clcf->name,
                      clcf->name.len ? "\"" : "",
                      rule[i].pattern.src.len, rule[i].pattern.src.data,
                      rule[i].file.len, rule[i].file.data, rule[i].line);
        return;
    }
}


/*
 * 1 if a rule for every method matches every uri "rule" matches: one
 * with the same pattern, or one of literal segments and a final "**"
 * that begin the literal prefix of "rule"
 */

static ngx_uint_t
ngx_http_authz_rule_covered(authz_rule_t *rules, ngx_uint_t n,
    authz_rule_t *rule)
{
    ngx_uint_t        i;
    authz_str_t      *pf;
    authz_pattern_t  *pat;

    pf = &rule->pattern.prefix;

    for (i = 0; i < n; i++) {
        pat = &rules[i].pattern;

        if (rules[i].methods != AUTHZ_METHOD_ANY) {
            continue;
        }

        if (pat->src.len == rule->pattern.src.len
            && ngx_memcmp(pat->src.data, rule->pattern.src.data,
                          pat->src.len) == 0)
        {
            return 1;
        }

        if (pat->globs == 1 && pat->tail == 0
            && pat->head == pat->nsegs - 1
            && pf->len >= pat->prefix.len
            && ngx_memcmp(pf->data, pat->prefix.data, pat->prefix.len) == 0
            && (pf->len == pat->prefix.len
                || pf->data[pat->prefix.len] == '/'))
        {
            return 1;
        }
    }

    return 0;
}


char *
ngx_http_authz_condition(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_authz_loc_conf_t *alcf = conf;

    char                              *rv;
    ngx_str_t                         *value;
    ngx_uint_t                         i;
    ngx_http_complex_value_t          *cv;
    ngx_http_compile_complex_value_t   ccv;

    rv = ngx_http_authz_list(cf, cmd, &alcf->conditions,
                             sizeof(ngx_http_complex_value_t));
    if (rv != NGX_CONF_OK || alcf->conditions == NULL) {
        return rv;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0 || value[i].data[0] != '$') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"%V\" is not a variable",
                               &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }

        cv = ngx_array_push(alcf->conditions);
        if (cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}
