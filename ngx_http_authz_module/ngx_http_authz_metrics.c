/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * The answer of an authz_status location: every metric family of the
 * module in the Prometheus text format 0.0.4, or with "?format=json"
 * the same numbers as one JSON object.  A family is one row of
 * ngx_http_authz_metrics_families[] and a function that gives its
 * samples; the two formats are written by the same calls.
 */


#include "ngx_http_authz_status.h"

#include <openssl/crypto.h>


#define NGX_HTTP_AUTHZ_METRICS_BUF  4096


typedef struct {
    ngx_http_request_t            *r;
    ngx_http_authz_status_conf_t  *scf;
    ngx_http_authz_main_conf_t    *amcf;
    ngx_chain_t                   *out;
    ngx_chain_t                  **last;
    ngx_buf_t                     *b;
    off_t                          size;
    ngx_str_t                     *family;    /* the name of the current */
    ngx_uint_t                     json;
    ngx_uint_t                     nfamilies;
    ngx_uint_t                     nsamples;  /* of the current family */
} ngx_http_authz_metrics_t;


typedef ngx_int_t (*ngx_http_authz_metrics_samples_pt)(
    ngx_http_authz_metrics_t *m);


typedef struct {
    ngx_str_t                          name;
    ngx_str_t                          type;
    ngx_str_t                          help;
    ngx_http_authz_metrics_samples_pt  samples;
} ngx_http_authz_metrics_family_t;


static ngx_int_t ngx_http_authz_metrics_format(ngx_http_request_t *r,
    ngx_uint_t *json);
static ngx_int_t ngx_http_authz_metrics_send(ngx_http_authz_metrics_t *m);
static ngx_int_t ngx_http_authz_metrics_family(ngx_http_authz_metrics_t *m,
    ngx_http_authz_metrics_family_t *f);
static ngx_int_t ngx_http_authz_metrics_sample(ngx_http_authz_metrics_t *m,
    ngx_keyval_t *labels, ngx_uint_t n, ngx_atomic_uint_t value);
static ngx_int_t ngx_http_authz_metrics_write(ngx_http_authz_metrics_t *m,
    const u_char *data, size_t len);
static ngx_int_t ngx_http_authz_metrics_escaped(ngx_http_authz_metrics_t *m,
    ngx_str_t *s);

static ngx_int_t ngx_http_authz_metrics_requests(
    ngx_http_authz_metrics_t *m);
static ngx_int_t ngx_http_authz_metrics_denials(ngx_http_authz_metrics_t *m);
static ngx_int_t ngx_http_authz_metrics_cache_lookups(
    ngx_http_authz_metrics_t *m);
static ngx_int_t ngx_http_authz_metrics_cache_evictions(
    ngx_http_authz_metrics_t *m);
static ngx_int_t ngx_http_authz_metrics_cache_entries(
    ngx_http_authz_metrics_t *m);
static ngx_int_t ngx_http_authz_metrics_build_info(
    ngx_http_authz_metrics_t *m);
static ngx_int_t ngx_http_authz_metrics_revocation_entries(
    ngx_http_authz_metrics_t *m);
static ngx_int_t ngx_http_authz_metrics_revocation_hits(
    ngx_http_authz_metrics_t *m);
static ngx_int_t ngx_http_authz_metrics_revocation_reloads(
    ngx_http_authz_metrics_t *m);
static ngx_int_t ngx_http_authz_metrics_key_fetches(
    ngx_http_authz_metrics_t *m);
static ngx_int_t ngx_http_authz_metrics_keys(ngx_http_authz_metrics_t *m);
static ngx_int_t ngx_http_authz_metrics_key_success(
    ngx_http_authz_metrics_t *m);
static ngx_int_t ngx_http_authz_metrics_key_gauge(
    ngx_http_authz_metrics_t *m, ngx_uint_t success);


/* the "kind" label of the revocation families, by AUTHZ_REVOKED_* */

static ngx_str_t  ngx_http_authz_metrics_revoked_kinds[] = {
    ngx_null_string,
    ngx_string("jti"),
    ngx_string("sub"),
    ngx_string("tenant"),
    ngx_string("iat_before")
};


#define ngx_http_authz_metrics_literal(m, s)                                  \
    ngx_http_authz_metrics_write(m, (u_char *) s, sizeof(s) - 1)


/* help texts: no "\" and no newline, so that they need no escaping */

static ngx_http_authz_metrics_family_t  ngx_http_authz_metrics_families[] = {

    { ngx_string("authz_requests_total"), ngx_string("counter"),
      ngx_string("Requests by the final decision of the authz module."),
      ngx_http_authz_metrics_requests },

    { ngx_string("authz_denials_total"), ngx_string("counter"),
      ngx_string("Denied requests by $authz_error and $authz_reason."),
      ngx_http_authz_metrics_denials },

    { ngx_string("authz_cache_lookups_total"), ngx_string("counter"),
      ngx_string("Lookups in the verified-token cache."),
      ngx_http_authz_metrics_cache_lookups },

    { ngx_string("authz_cache_evictions_total"), ngx_string("counter"),
      ngx_string("Live cache entries removed to make room for new ones."),
      ngx_http_authz_metrics_cache_evictions },

    { ngx_string("authz_cache_entries"), ngx_string("gauge"),
      ngx_string("Tokens in the verified-token cache."),
      ngx_http_authz_metrics_cache_entries },

    { ngx_string("authz_build_info"), ngx_string("gauge"),
      ngx_string("Versions of the authz module, nginx and OpenSSL."),
      ngx_http_authz_metrics_build_info },

    { ngx_string("authz_revocation_entries"), ngx_string("gauge"),
      ngx_string("Entries of the revocation list the answering worker has."),
      ngx_http_authz_metrics_revocation_entries },

    { ngx_string("authz_revocation_hits_total"), ngx_string("counter"),
      ngx_string("Tokens refused as revoked, by the rule that matched."),
      ngx_http_authz_metrics_revocation_hits },

    { ngx_string("authz_revocation_reloads_total"), ngx_string("counter"),
      ngx_string("Reads of the revocation file by the workers."),
      ngx_http_authz_metrics_revocation_reloads },

    { ngx_string("authz_key_fetches_total"), ngx_string("counter"),
      ngx_string("Fetches of authz_key_request key sets, by result."),
      ngx_http_authz_metrics_key_fetches },

    { ngx_string("authz_keys"), ngx_string("gauge"),
      ngx_string("Usable keys of each authz_key_request key set."),
      ngx_http_authz_metrics_keys },

    { ngx_string("authz_key_set_last_success_timestamp_seconds"),
      ngx_string("gauge"),
      ngx_string("When each authz_key_request key set was last fetched."),
      ngx_http_authz_metrics_key_success },

    { ngx_null_string, ngx_null_string, ngx_null_string, NULL }
};


ngx_int_t
ngx_http_authz_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_table_elt_t                  *h;
    ngx_http_authz_metrics_t          m;
    ngx_http_authz_metrics_family_t  *f;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Allow");
        ngx_str_set(&h->value, "GET, HEAD");

        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    ngx_memzero(&m, sizeof(ngx_http_authz_metrics_t));

    if (ngx_http_authz_metrics_format(r, &m.json) != NGX_OK) {
        return NGX_HTTP_BAD_REQUEST;
    }

    m.r = r;
    m.amcf = ngx_http_get_module_main_conf(r, ngx_http_authz_module);
    m.scf = m.amcf->status;
    m.last = &m.out;

    if (m.json && ngx_http_authz_metrics_literal(&m, "{") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (f = ngx_http_authz_metrics_families; f->samples; f++) {

        /* the key set families have samples only with authz_key_request */

        if (m.amcf->key_requests == NULL
            && (f->samples == ngx_http_authz_metrics_key_fetches
                || f->samples == ngx_http_authz_metrics_keys
                || f->samples == ngx_http_authz_metrics_key_success))
        {
            continue;
        }

        if (ngx_http_authz_metrics_family(&m, f) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (m.json && ngx_http_authz_metrics_literal(&m, "}\n") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_authz_metrics_send(&m);
}


static ngx_int_t
ngx_http_authz_metrics_send(ngx_http_authz_metrics_t *m)
{
    ngx_int_t            rc;
    ngx_table_elt_t     *h;
    ngx_http_request_t  *r;

    r = m->r;

    if (m->json) {
        ngx_str_set(&r->headers_out.content_type, "application/json");

    } else {
        ngx_str_set(&r->headers_out.content_type, "text/plain; version=0.0.4");
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = m->size;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    m->b->last_buf = (r == r->main) ? 1 : 0;
    m->b->last_in_chain = 1;

    return ngx_http_output_filter(r, m->out);
}


/* "?format=json", "?format=prometheus" or no format at all */

static ngx_int_t
ngx_http_authz_metrics_format(ngx_http_request_t *r, ngx_uint_t *json)
{
    ngx_str_t  value;

    *json = 0;

    if (ngx_http_arg(r, (u_char *) "format", 6, &value) != NGX_OK) {
        return NGX_OK;
    }

    if (value.len == 4 && ngx_strncmp(value.data, "json", 4) == 0) {
        *json = 1;
        return NGX_OK;
    }

    if (value.len == 10 && ngx_strncmp(value.data, "prometheus", 10) == 0) {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_authz_metrics_family(ngx_http_authz_metrics_t *m,
    ngx_http_authz_metrics_family_t *f)
{
    m->family = &f->name;
    m->nsamples = 0;

    if (m->json) {
        if ((m->nfamilies++ && ngx_http_authz_metrics_literal(m, ",")
                               != NGX_OK)
            || ngx_http_authz_metrics_literal(m, "\"") != NGX_OK
            || ngx_http_authz_metrics_escaped(m, &f->name) != NGX_OK
            || ngx_http_authz_metrics_literal(m, "\":{\"type\":\"")
               != NGX_OK
            || ngx_http_authz_metrics_escaped(m, &f->type) != NGX_OK
            || ngx_http_authz_metrics_literal(m, "\",\"help\":\"") != NGX_OK
            || ngx_http_authz_metrics_escaped(m, &f->help) != NGX_OK
            || ngx_http_authz_metrics_literal(m, "\",\"samples\":[")
               != NGX_OK
            || f->samples(m) != NGX_OK
            || ngx_http_authz_metrics_literal(m, "]}") != NGX_OK)
        {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (ngx_http_authz_metrics_literal(m, "# HELP ") != NGX_OK
        || ngx_http_authz_metrics_write(m, f->name.data, f->name.len)
           != NGX_OK
        || ngx_http_authz_metrics_literal(m, " ") != NGX_OK
        || ngx_http_authz_metrics_write(m, f->help.data, f->help.len)
           != NGX_OK
        || ngx_http_authz_metrics_literal(m, "\n# TYPE ") != NGX_OK
        || ngx_http_authz_metrics_write(m, f->name.data, f->name.len)
           != NGX_OK
        || ngx_http_authz_metrics_literal(m, " ") != NGX_OK
        || ngx_http_authz_metrics_write(m, f->type.data, f->type.len)
           != NGX_OK
        || ngx_http_authz_metrics_literal(m, "\n") != NGX_OK)
    {
        return NGX_ERROR;
    }

    return f->samples(m);
}


/*
 * one sample of the current family:
 *     name{k="v",...} value            (Prometheus)
 *     {"labels":{"k":"v",...},"value":value}    (JSON)
 */

static ngx_int_t
ngx_http_authz_metrics_sample(ngx_http_authz_metrics_t *m,
    ngx_keyval_t *labels, ngx_uint_t n, ngx_atomic_uint_t value)
{
    u_char      num[NGX_ATOMIC_T_LEN];
    size_t      len;
    ngx_uint_t  i;

    if (m->json) {
        if ((m->nsamples++ && ngx_http_authz_metrics_literal(m, ",")
                              != NGX_OK)
            || ngx_http_authz_metrics_literal(m, "{\"labels\":{") != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else if (ngx_http_authz_metrics_write(m, m->family->data,
                                            m->family->len)
               != NGX_OK
               || (n && ngx_http_authz_metrics_literal(m, "{") != NGX_OK))
    {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        if ((i && ngx_http_authz_metrics_literal(m, ",") != NGX_OK)
            || (m->json && ngx_http_authz_metrics_literal(m, "\"") != NGX_OK)
            || ngx_http_authz_metrics_write(m, labels[i].key.data,
                                            labels[i].key.len)
               != NGX_OK
            || (m->json
                ? ngx_http_authz_metrics_literal(m, "\":\"")
                : ngx_http_authz_metrics_literal(m, "=\"")) != NGX_OK
            || ngx_http_authz_metrics_escaped(m, &labels[i].value) != NGX_OK
            || ngx_http_authz_metrics_literal(m, "\"") != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    len = ngx_sprintf(num, "%uA", value) - num;

    if (m->json) {
        if (ngx_http_authz_metrics_literal(m, "},\"value\":") != NGX_OK
            || ngx_http_authz_metrics_write(m, num, len) != NGX_OK
            || ngx_http_authz_metrics_literal(m, "}") != NGX_OK)
        {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if ((n && ngx_http_authz_metrics_literal(m, "}") != NGX_OK)
        || ngx_http_authz_metrics_literal(m, " ") != NGX_OK
        || ngx_http_authz_metrics_write(m, num, len) != NGX_OK
        || ngx_http_authz_metrics_literal(m, "\n") != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* appends to the answer: a chain of buffers from r->pool */

static ngx_int_t
ngx_http_authz_metrics_write(ngx_http_authz_metrics_t *m, const u_char *data,
    size_t len)
{
    ngx_chain_t  *cl;

    if (m->b == NULL || (size_t) (m->b->end - m->b->last) < len) {
        m->b = ngx_create_temp_buf(m->r->pool,
                                   ngx_max(len, NGX_HTTP_AUTHZ_METRICS_BUF));
        if (m->b == NULL) {
            return NGX_ERROR;
        }

        cl = ngx_alloc_chain_link(m->r->pool);
        if (cl == NULL) {
            return NGX_ERROR;
        }

        cl->buf = m->b;
        cl->next = NULL;

        *m->last = cl;
        m->last = &cl->next;
    }

    m->b->last = ngx_cpymem(m->b->last, data, len);
    m->size += len;

    return NGX_OK;
}


/*
 * a label value or a help text, escaped for the format: in the text
 * format "\", "\"" and newline; in JSON also the other control
 * characters (configured names are printable ASCII: this is the belt)
 */

static ngx_int_t
ngx_http_authz_metrics_escaped(ngx_http_authz_metrics_t *m, ngx_str_t *s)
{
    u_char   *p, *e, c;
    u_char    buf[NGX_HTTP_AUTHZ_STATUS_NAME_LEN * 6];
    size_t    n;

    static u_char  hex[] = "0123456789abcdef";

    for (p = s->data, e = p + s->len; p < e; /* void */) {

        /* in pieces, each escaped into buf */

        for (n = 0; p < e && n < sizeof(buf) - 6; p++) {
            c = *p;

            if (c == '\\' || c == '"') {
                buf[n++] = '\\';
                buf[n++] = c;

            } else if (c == '\n') {
                buf[n++] = '\\';
                buf[n++] = 'n';

            } else if (c < 0x20 && m->json) {
                n = ngx_sprintf(&buf[n], "\\u00%c%c", hex[c >> 4],
                                hex[c & 0xf]) - buf;

            } else {
                buf[n++] = c;
            }
        }

        if (ngx_http_authz_metrics_write(m, buf, n) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the families: each gives its samples, label values from closed sets */

static ngx_int_t
ngx_http_authz_metrics_requests(ngx_http_authz_metrics_t *m)
{
    ngx_str_t                     *label;
    ngx_uint_t                     i, k;
    ngx_keyval_t                   kv[2];
    ngx_http_authz_status_slot_t  *slot;

    ngx_str_set(&kv[0].key, "zone");
    ngx_str_set(&kv[1].key, "result");

    label = m->scf->labels.elts;

    for (i = 0; i < m->scf->labels.nelts; i++) {
        slot = m->scf->slots[i];
        kv[0].value = label[i];

        for (k = 0; k < NGX_HTTP_AUTHZ_STATUS_RESULTS; k++) {
            kv[1].value = ngx_http_authz_status_results[k];

            if (ngx_http_authz_metrics_sample(m, kv, 2, slot->requests[k])
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_metrics_denials(ngx_http_authz_metrics_t *m)
{
    ngx_str_t                       *label;
    ngx_uint_t                       i, k;
    ngx_keyval_t                     kv[3];
    ngx_http_authz_status_slot_t    *slot;
    ngx_http_authz_status_reason_t  *row;

    ngx_str_set(&kv[0].key, "zone");
    ngx_str_set(&kv[1].key, "error");
    ngx_str_set(&kv[2].key, "reason");

    label = m->scf->labels.elts;

    for (i = 0; i < m->scf->labels.nelts; i++) {
        slot = m->scf->slots[i];
        kv[0].value = label[i];

        for (k = 0; k < NGX_HTTP_AUTHZ_STATUS_REASONS; k++) {
            row = &ngx_http_authz_status_reasons[k];
            kv[1].value = row->error;
            kv[2].value = row->reason;

            if (ngx_http_authz_metrics_sample(m, kv, 3, slot->denials[k])
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_metrics_cache_lookups(ngx_http_authz_metrics_t *m)
{
    ngx_keyval_t                  kv;
    ngx_http_authz_cache_stats_t  st;

    ngx_http_authz_cache_stats(m->amcf, &st);

    ngx_str_set(&kv.key, "result");

    ngx_str_set(&kv.value, "hit");

    if (ngx_http_authz_metrics_sample(m, &kv, 1, st.hits) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_str_set(&kv.value, "miss");

    return ngx_http_authz_metrics_sample(m, &kv, 1, st.misses);
}


static ngx_int_t
ngx_http_authz_metrics_cache_evictions(ngx_http_authz_metrics_t *m)
{
    ngx_http_authz_cache_stats_t  st;

    ngx_http_authz_cache_stats(m->amcf, &st);

    return ngx_http_authz_metrics_sample(m, NULL, 0, st.evictions);
}


static ngx_int_t
ngx_http_authz_metrics_cache_entries(ngx_http_authz_metrics_t *m)
{
    ngx_http_authz_cache_stats_t  st;

    ngx_http_authz_cache_stats(m->amcf, &st);

    return ngx_http_authz_metrics_sample(m, NULL, 0, st.entries);
}


static ngx_int_t
ngx_http_authz_metrics_build_info(ngx_http_authz_metrics_t *m)
{
    ngx_keyval_t  kv[3];

    ngx_str_set(&kv[0].key, "version");
    ngx_str_set(&kv[0].value, NGX_HTTP_AUTHZ_VERSION);

    ngx_str_set(&kv[1].key, "nginx");
    ngx_str_set(&kv[1].value, NGINX_VERSION);

    ngx_str_set(&kv[2].key, "openssl");

#ifdef OPENSSL_VERSION_STRING
    kv[2].value.data = (u_char *) OpenSSL_version(OPENSSL_VERSION_STRING);
#else
    kv[2].value.data = (u_char *) OpenSSL_version(OPENSSL_VERSION);
#endif

    kv[2].value.len = ngx_strlen(kv[2].value.data);

    return ngx_http_authz_metrics_sample(m, kv, 3, 1);
}


static ngx_int_t
ngx_http_authz_metrics_revocation_entries(ngx_http_authz_metrics_t *m)
{
    ngx_uint_t                          k;
    ngx_keyval_t                        kv;
    ngx_http_authz_revocation_stats_t  *st;

    st = ngx_http_authz_revocation_stats((ngx_cycle_t *) ngx_cycle);

    ngx_str_set(&kv.key, "kind");

    for (k = 1; k < AUTHZ_REVOKED_KINDS; k++) {
        kv.value = ngx_http_authz_metrics_revoked_kinds[k];

        if (ngx_http_authz_metrics_sample(m, &kv, 1,
                                          st ? st->entries[k] : 0)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_metrics_revocation_hits(ngx_http_authz_metrics_t *m)
{
    ngx_uint_t    k;
    ngx_keyval_t  kv;

    ngx_str_set(&kv.key, "kind");

    for (k = 1; k < AUTHZ_REVOKED_KINDS; k++) {
        kv.value = ngx_http_authz_metrics_revoked_kinds[k];

        if (ngx_http_authz_metrics_sample(m, &kv, 1,
                                          m->scf->sh->revocation_hits[k])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_metrics_revocation_reloads(ngx_http_authz_metrics_t *m)
{
    ngx_keyval_t  kv;

    ngx_str_set(&kv.key, "result");

    ngx_str_set(&kv.value, "ok");

    if (ngx_http_authz_metrics_sample(m, &kv, 1,
                                      m->scf->sh->revocation_reloads[0])
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&kv.value, "failed");

    return ngx_http_authz_metrics_sample(m, &kv, 1,
                                         m->scf->sh->revocation_reloads[1]);
}


/* authz_key_request: the source label is the URI of the configuration */

static ngx_int_t
ngx_http_authz_metrics_key_fetches(ngx_http_authz_metrics_t *m)
{
    ngx_int_t                   rc;
    ngx_uint_t                  i, k;
    ngx_keyval_t                kv[2];
    ngx_http_authz_key_stats_t  st;

    ngx_str_set(&kv[0].key, "source");
    ngx_str_set(&kv[1].key, "result");

    for (i = 0; /* void */ ; i++) {
        rc = ngx_http_authz_key_request_stats(m->amcf, i, &st);

        if (rc == NGX_DONE) {
            return NGX_OK;
        }

        if (rc != NGX_OK) {
            continue;
        }

        kv[0].value = *st.source;

        for (k = 0; k < NGX_HTTP_AUTHZ_KEY_RESULTS; k++) {
            kv[1].value = ngx_http_authz_key_results[k];

            if (ngx_http_authz_metrics_sample(m, kv, 2, st.fetches[k])
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }
}


static ngx_int_t
ngx_http_authz_metrics_keys(ngx_http_authz_metrics_t *m)
{
    return ngx_http_authz_metrics_key_gauge(m, 0);
}


static ngx_int_t
ngx_http_authz_metrics_key_success(ngx_http_authz_metrics_t *m)
{
    return ngx_http_authz_metrics_key_gauge(m, 1);
}


/* one sample per key set: its keys, or the time of its last success */

static ngx_int_t
ngx_http_authz_metrics_key_gauge(ngx_http_authz_metrics_t *m,
    ngx_uint_t success)
{
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    ngx_keyval_t                kv;
    ngx_atomic_uint_t           value;
    ngx_http_authz_key_stats_t  st;

    ngx_str_set(&kv.key, "source");

    for (i = 0; /* void */ ; i++) {
        rc = ngx_http_authz_key_request_stats(m->amcf, i, &st);

        if (rc == NGX_DONE) {
            return NGX_OK;
        }

        if (rc != NGX_OK) {
            continue;
        }

        kv.value = *st.source;
        value = success ? (ngx_atomic_uint_t) st.last_success : st.keys;

        if (ngx_http_authz_metrics_sample(m, &kv, 1, value) != NGX_OK) {
            return NGX_ERROR;
        }
    }
}
