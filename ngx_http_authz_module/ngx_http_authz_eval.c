/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * Authentication: the token of a location's token source, verified
 * with the location's keys and claim settings into one evaluation.
 * Reading a variable before the access phase, the access phase itself
 * and every internal redirect ask for the evaluation of the token
 * bytes they see under the configuration they run with; an evaluation
 * is made once per (configuration, bytes) and never changed.
 */


#include "ngx_http_authz_module.h"


static ngx_uint_t ngx_http_authz_token(ngx_http_request_t *r,
    ngx_http_authz_loc_conf_t *alcf, ngx_http_authz_ctx_t *ctx,
    ngx_str_t *token);
static ngx_int_t ngx_http_authz_verify(ngx_http_request_t *r,
    ngx_http_authz_ctx_t *ctx, ngx_http_authz_eval_t *eval);
static void ngx_http_authz_registered(ngx_http_authz_eval_t *eval);
static ngx_int_t ngx_http_authz_identity(ngx_http_request_t *r,
    ngx_http_authz_eval_t *eval);
static authz_err_e ngx_http_authz_binding(ngx_http_request_t *r,
    ngx_http_authz_eval_t *eval, const char **detail);
static void ngx_http_authz_claims_log(ngx_http_request_t *r,
    ngx_http_authz_eval_t *eval);
static ngx_int_t ngx_http_authz_copy(ngx_http_request_t *r, ngx_str_t *dst,
    const unsigned char *src, size_t len);
static ngx_int_t ngx_http_authz_join(ngx_http_request_t *r, ngx_str_t *out,
    authz_str_t *a, size_t n);
static void *ngx_http_authz_alloc(void *data, size_t size);
static void ngx_http_authz_eval_cleanup(void *data);


/*
 * NULL on an internal failure (allocation), or when create is 0 and
 * no evaluation of this token under this configuration exists yet
 */

ngx_http_authz_eval_t *
ngx_http_authz_evaluate(ngx_http_request_t *r, ngx_http_authz_loc_conf_t *alcf,
    ngx_uint_t create)
{
    ngx_str_t               token;
    ngx_uint_t              state;
    ngx_http_authz_ctx_t   *ctx;
    ngx_http_authz_eval_t  *eval;

    ctx = ngx_http_authz_create_ctx(r);
    if (ctx == NULL) {
        return NULL;
    }

    state = ngx_http_authz_token(r, alcf, ctx, &token);

    if (state == NGX_HTTP_AUTHZ_TOKEN_ERROR) {
        return NULL;
    }

    eval = ngx_http_authz_find_eval(ctx, alcf, state, &token);
    if (eval != NULL || !create) {
        return eval;
    }

    eval = ngx_pcalloc(r->main->pool, sizeof(ngx_http_authz_eval_t));
    if (eval == NULL) {
        return NULL;
    }

    eval->conf = alcf;
    eval->state = state;

    if (state == NGX_HTTP_AUTHZ_TOKEN_INVALID) {
        eval->err = AUTHZ_ERR_MALFORMED;
        eval->detail = "malformed authorization header";
    }

    if (ngx_http_authz_copy(r, &eval->token, token.data, token.len)
        != NGX_OK)
    {
        return NULL;
    }

    if (state == NGX_HTTP_AUTHZ_TOKEN_NONE
        && ngx_http_authz_verify(r, ctx, eval) != NGX_OK)
    {
        return NULL;
    }

    /* a key set to wait for: not kept, made again with the keys */

    if (eval->state == NGX_HTTP_AUTHZ_TOKEN_PENDING) {
        return eval;
    }

    /* complete: from now on the evaluation is only read */

    eval->next = ctx->evals;
    ctx->evals = eval;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "authz evaluation state:%ui err:%d cache:%ui",
                   eval->state, eval->err, eval->cache);

    return eval;
}


/*
 * NGX_HTTP_AUTHZ_TOKEN_NONE: a token to verify; _MISSING: no token;
 * _INVALID: more than one token, or an Authorization header that is
 * not "Bearer <token>"; _ERROR: internal failure
 */

static ngx_uint_t
ngx_http_authz_token(ngx_http_request_t *r, ngx_http_authz_loc_conf_t *alcf,
    ngx_http_authz_ctx_t *ctx, ngx_str_t *token)
{
    ngx_str_t   *value;
    ngx_uint_t   n;

    ngx_str_null(token);

    if (alcf->token != NULL) {
        if (ngx_http_complex_value(r, alcf->token, token) != NGX_OK) {
            return NGX_HTTP_AUTHZ_TOKEN_ERROR;
        }

        return (token->len == 0) ? NGX_HTTP_AUTHZ_TOKEN_MISSING
                                 : NGX_HTTP_AUTHZ_TOKEN_NONE;
    }

    if (ctx->auth_removed) {

        /* "authz_forward_token off" removed what the client sent */

        n = ctx->nauthorization;
        value = &ctx->authorization;

    } else {

        /* nginx itself answers 400 to a second Authorization header */

        n = (r->headers_in.authorization != NULL);
        value = n ? &r->headers_in.authorization->value : NULL;
    }

    if (n == 0) {
        return NGX_HTTP_AUTHZ_TOKEN_MISSING;
    }

    if (n > 1
        || authz_bearer_parse(value->data, value->len,
                              (const unsigned char **) &token->data,
                              &token->len)
           != 0)
    {
        ngx_str_null(token);
        return NGX_HTTP_AUTHZ_TOKEN_INVALID;
    }

    return NGX_HTTP_AUTHZ_TOKEN_NONE;
}


/* the core's checks, cheapest first, the signature last */

static ngx_int_t
ngx_http_authz_verify(ngx_http_request_t *r, ngx_http_authz_ctx_t *ctx,
    ngx_http_authz_eval_t *eval)
{
    u_char                        *scratch;
    ngx_int_t                      rc;
    ngx_uint_t                     looked_up, store, hit, cache;
    authz_err_e                    err;
    authz_token_t                  tok;
    ngx_pool_cleanup_t            *cln;
    const unsigned char           *trusted;
    const authz_verify_conf_t     *vcf;
    ngx_http_authz_loc_conf_t     *alcf;
    ngx_http_authz_main_conf_t    *amcf;
    ngx_http_authz_cache_entry_t   entry;

    alcf = eval->conf;
    amcf = ngx_http_get_module_main_conf(r, ngx_http_authz_module);

    cln = ngx_pool_cleanup_add(r->main->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    /* the payload is the evaluation's until the request ends */

    cln->handler = ngx_http_authz_eval_cleanup;
    cln->data = eval;

    eval->cache = NGX_HTTP_AUTHZ_CACHE_OFF;
    trusted = NULL;
    looked_up = 0;
    store = 0;
    hit = 0;

    /*
     * authz_key_request: the fetched keys join, or a fetch is awaited;
     * before the cache, whose hit must find its key among the current
     * candidates (a key that left a fetched set no longer hits)
     */

    rc = ngx_http_authz_key_request_conf(r, alcf, &vcf);

    if (rc != NGX_OK) {
        eval->state = NGX_HTTP_AUTHZ_TOKEN_PENDING;
        return (rc == NGX_AGAIN) ? NGX_OK : NGX_ERROR;
    }

    /*
     * the cache first: a hit with the claims of this location's claim
     * settings needs no decoding (checked again in entry_read); a hit
     * without gives the key that verified these bytes
     */

    if (amcf->cache != NULL && eval->token.len <= alcf->verify.max_size
        && ngx_http_authz_verified_before(ctx, &eval->token, &cache) == NULL)
    {
        eval->cache = NGX_HTTP_AUTHZ_CACHE_MISS;
        looked_up = 1;

        if (ngx_http_authz_cache_lookup(r, &eval->token,
                                        alcf->claims_digest, &entry)
            == NGX_OK)
        {
            rc = ngx_http_authz_cache_entry_read(r, eval, &entry, vcf);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (rc == NGX_OK) {
                err = AUTHZ_OK;
                hit = 1;
                goto verified;
            }

            trusted = entry.fingerprint;
        }
    }

    scratch = ngx_pnalloc(r->pool, eval->token.len + 1);
    if (scratch == NULL) {
        return NGX_ERROR;
    }

    err = authz_token_decode(&tok, eval->token.data, eval->token.len,
                             scratch, vcf);

    if (err == AUTHZ_ERR_KID && ngx_http_authz_key_request_kid(r, alcf)) {
        authz_token_free(&tok);
        eval->state = NGX_HTTP_AUTHZ_TOKEN_PENDING;
        return NGX_OK;
    }

    if (err == AUTHZ_OK) {
        err = authz_token_check_claims(&tok, vcf, ngx_time());
    }

    if (err == AUTHZ_OK && !looked_up) {
        trusted = ngx_http_authz_verified_before(ctx, &eval->token,
                                                 &eval->cache);
    }

    if (err == AUTHZ_OK) {
        err = authz_token_verify(&tok, vcf, trusted);
    }

    eval->payload = tok.payload;
    tok.payload = NULL;

    if (err == AUTHZ_OK) {
        ngx_memcpy(eval->fingerprint, tok.key->fingerprint, 32);
        eval->verified = 1;

        /* $authz_key_source: "file", or the URI of a fetched key set */

        if (tok.key->source != NULL
            && ngx_http_authz_copy(r, &eval->key_source,
                                   ((ngx_str_t *) tok.key->source)->data,
                                   ((ngx_str_t *) tok.key->source)->len)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* a token verified before in the request was stored then */

        if (looked_up) {
            if (trusted == entry.fingerprint
                && ngx_memcmp(trusted, tok.key->fingerprint, 32) == 0)
            {
                eval->cache = NGX_HTTP_AUTHZ_CACHE_HIT;

            } else {
                store = 1;
            }
        }
    }

    if (tok.has_kid
        && ngx_http_authz_copy(r, &eval->kid, (u_char *) tok.kid,
                               tok.kid_len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (tok.alg_name != NULL) {
        eval->alg.data = (u_char *) tok.alg_name;
        eval->alg.len = ngx_strlen(tok.alg_name);
    }

    if ((tok.has_typ
         && ngx_http_authz_copy(r, &eval->typ, (u_char *) tok.typ,
                                tok.typ_len)
            != NGX_OK)
        || ngx_http_authz_copy(r, &eval->bad_alg, (u_char *) tok.bad_alg,
                               tok.bad_alg_len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    eval->has_exp = tok.has_exp;
    eval->exp = tok.exp;

    if (err == AUTHZ_OK) {
        ngx_http_authz_registered(eval);

        err = authz_identity_get(&eval->id, eval->payload, &alcf->claims,
                                 ngx_http_authz_alloc, r->pool, &tok.detail);

        if (err == AUTHZ_ERR_CLAIM && eval->id.bad_claim != NULL
            && ngx_http_authz_copy(r, &eval->bad_claim,
                                   eval->id.bad_claim->data,
                                   eval->id.bad_claim->len)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    /* a sender-constrained token (RFC 8705, RFC 9449): "cnf" */

    if (err == AUTHZ_OK) {
        err = ngx_http_authz_binding(r, eval, &tok.detail);
    }

    if (store) {
        /*
         * the claims only where a hit gives what a miss would: not for
         * a "cnf" (the binding is checked again by decoding, against
         * this connection), ignored items or missing claims (their
         * info line is logged again by decoding), a typ cut for the log
         */

        ngx_http_authz_cache_store(r, &entry, eval,
            (!tok.has_exp || tok.exp >= (double) NGX_MAX_TIME_T_VALUE)
            ? NGX_MAX_TIME_T_VALUE : (time_t) tok.exp,
            err == AUTHZ_OK
            && authz_json_get(eval->payload, "cnf") == NULL
            && eval->id.ndropped == 0
            && (eval->id.missing & alcf->claims_explicit) == 0
            && tok.typ_len < AUTHZ_MAX_LOG_VALUE);
    }

    eval->detail = tok.detail;

verified:

    /* after the signature, a cache hit included: authz_revocation_file */

    if (err == AUTHZ_OK) {
        err = ngx_http_authz_revocation_check(r, eval, &eval->detail);
    }

    eval->err = err;

    if (err == AUTHZ_ERR_INTERNAL) {
        eval->state = NGX_HTTP_AUTHZ_TOKEN_ERROR;
        return NGX_OK;
    }

    if (err != AUTHZ_OK) {
        eval->state = NGX_HTTP_AUTHZ_TOKEN_INVALID;
        return NGX_OK;
    }

    /* a hit's identity is in r->pool already, and logs nothing */

    if (!hit) {
        ngx_http_authz_claims_log(r, eval);
    }

    if (!hit && ngx_http_authz_identity(r, eval) != NGX_OK) {
        return NGX_ERROR;
    }

    eval->state = NGX_HTTP_AUTHZ_TOKEN_VALID;

    return NGX_OK;
}


/*
 * "authz_token_binding": refuse (the default), ignore, or mtls: cnf's
 * "x5t#S256" must be the base64url SHA-256 of the DER client
 * certificate of the connection (RFC 8705 3.1)
 */

static authz_err_e
ngx_http_authz_binding(ngx_http_request_t *r, ngx_http_authz_eval_t *eval,
    const char **detail)
{
    ngx_http_authz_loc_conf_t  *alcf;
#if (NGX_HTTP_SSL)
    int                         n;
    X509                       *cert;
    u_char                     *der, *p;
    u_char                      md[EVP_MAX_MD_SIZE];
    u_char                      b64[64];
    unsigned                    mdlen;
    ngx_str_t                   src, dst;
#endif

    alcf = eval->conf;

    if (alcf->binding == NGX_HTTP_AUTHZ_BINDING_IGNORE
        || authz_json_get(eval->payload, "cnf") == NULL)
    {
        return AUTHZ_OK;
    }

    if (alcf->binding == NGX_HTTP_AUTHZ_BINDING_REFUSE) {
        *detail = "token has a \"cnf\" claim";
        return AUTHZ_ERR_BINDING;
    }

#if (NGX_HTTP_SSL)

    cert = NULL;

    if (r->connection->ssl != NULL) {
        cert = SSL_get_peer_certificate(r->connection->ssl->connection);
    }

    if (cert == NULL) {
        return authz_cnf_check(eval->payload, NULL, 0, detail);
    }

    n = i2d_X509(cert, NULL);

    der = (n > 0) ? ngx_pnalloc(r->pool, n) : NULL;

    if (der == NULL) {
        X509_free(cert);
        *detail = "client certificate copy failed";
        return AUTHZ_ERR_INTERNAL;
    }

    p = der;
    n = i2d_X509(cert, &p);
    X509_free(cert);

    if (n <= 0 || EVP_Digest(der, n, md, &mdlen, EVP_sha256(), NULL) != 1) {
        *detail = "client certificate digest failed";
        return AUTHZ_ERR_INTERNAL;
    }

    src.data = md;
    src.len = mdlen;
    dst.data = b64;

    ngx_encode_base64url(&dst, &src);

    return authz_cnf_check(eval->payload, dst.data, dst.len, detail);

#else

    return authz_cnf_check(eval->payload, NULL, 0, detail);

#endif
}


/*
 * one info line for the items of permissions and roles claims that
 * were ignored (SPEC 1), one for claims the operator named that the
 * token does not have
 */

static void
ngx_http_authz_claims_log(ngx_http_request_t *r, ngx_http_authz_eval_t *eval)
{
    size_t                      n;
    unsigned                    missing, bit;
    ngx_uint_t                  i;
    authz_identity_t           *id;
    const authz_str_t          *name;
    authz_claims_conf_t        *claims;
    ngx_http_authz_loc_conf_t  *alcf;

    id = &eval->id;
    alcf = eval->conf;
    claims = &alcf->claims;

    if (id->ndropped) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "authz: %uz invalid item%s of claim \"%*s\" ignored",
                      id->ndropped, id->ndropped == 1 ? "" : "s",
                      id->dropped_claim->len, id->dropped_claim->data);
    }

    missing = id->missing & alcf->claims_explicit;

    if (missing == 0) {
        return;
    }

    name = NULL;
    n = 0;

    for (i = 0; i < 4 + claims->npermissions_claims; i++) {
        bit = 1u << i;

        if (!(missing & bit)) {
            continue;
        }

        if (name == NULL) {
            name = (bit == AUTHZ_CLAIM_TENANT) ? &claims->tenant_claim
                   : (bit == AUTHZ_CLAIM_SERVICES) ? &claims->services_claim
                   : (bit == AUTHZ_CLAIM_ROLES) ? &claims->roles_claim
                   : (bit >= AUTHZ_CLAIM_PERMISSIONS)
                   ? &claims->permissions_claims[i - 4]
                   : &claims->sub_claim;
        }

        n++;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "authz: claim \"%*s\" not found in the token%s",
                  name->len, name->data,
                  n > 1 ? " (and other configured claims)" : "");
}


/* jti and iat, for the revocation check (a hit has them from the cache) */

static void
ngx_http_authz_registered(ngx_http_authz_eval_t *eval)
{
    authz_json_t *v;

    v = authz_json_get(eval->payload, "jti");

    if (authz_json_is_string(v)) {
        eval->has_jti = 1;
        eval->jti.data = (u_char *) authz_json_string(v);
        eval->jti.len = authz_json_string_length(v);
    }

    v = authz_json_get(eval->payload, "iat");

    if (authz_json_is_number(v)) {
        eval->has_iat = 1;
        eval->iat = authz_json_number_value(v);
    }
}


/*
 * the payload, for what reads claims by name ($authz_claim_NAME): a
 * cache hit parses it here, once, when such a thing is first read
 */

authz_json_t *
ngx_http_authz_eval_payload(ngx_http_request_t *r,
    ngx_http_authz_eval_t *eval)
{
    u_char  *scratch;

    if (eval->payload != NULL || eval->state != NGX_HTTP_AUTHZ_TOKEN_VALID
        || eval->payload_parsed)
    {
        return eval->payload;
    }

    eval->payload_parsed = 1;

    scratch = ngx_pnalloc(r->pool, eval->token.len + 1);
    if (scratch == NULL) {
        return NULL;
    }

    /* released by the cleanup of ngx_http_authz_verify() */

    eval->payload = authz_token_payload_parse(eval->token.data,
                                              eval->token.len, scratch);

    return eval->payload;
}


static void
ngx_http_authz_eval_cleanup(void *data)
{
    ngx_http_authz_eval_t  *eval = data;

    if (eval->payload != NULL) {
        authz_json_free(eval->payload);
        eval->payload = NULL;
    }
}


/* what nginx is handed (headers, variables) is a copy in r->pool */

static ngx_int_t
ngx_http_authz_identity(ngx_http_request_t *r, ngx_http_authz_eval_t *eval)
{
    ngx_str_t          s;
    authz_identity_t  *id;

    id = &eval->id;

    if (ngx_http_authz_copy(r, &s, id->sub.data, id->sub.len) != NGX_OK) {
        return NGX_ERROR;
    }

    id->sub.data = s.data;

    if (ngx_http_authz_copy(r, &s, id->tenant.data, id->tenant.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    id->tenant.data = s.data;

    if (ngx_http_authz_join(r, &eval->permissions, id->perms, id->nperms)
        != NGX_OK
        || ngx_http_authz_join(r, &eval->services, id->services,
                               id->nservices)
           != NGX_OK
        || ngx_http_authz_join(r, &eval->roles, id->roles, id->nroles)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_copy(ngx_http_request_t *r, ngx_str_t *dst,
    const unsigned char *src, size_t len)
{
    ngx_str_null(dst);

    if (len == 0) {
        dst->data = (u_char *) "";
        return NGX_OK;
    }

    dst->data = ngx_pnalloc(r->pool, len);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, src, len);
    dst->len = len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_authz_join(ngx_http_request_t *r, ngx_str_t *out, authz_str_t *a,
    size_t n)
{
    u_char  *p;
    size_t   i, len;

    ngx_str_set(out, "");

    if (n == 0) {
        return NGX_OK;
    }

    len = 0;

    for (i = 0; i < n; i++) {
        len += a[i].len + 1;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, a[i].data, a[i].len);
    }

    out->len = p - out->data;

    return NGX_OK;
}


static void *
ngx_http_authz_alloc(void *data, size_t size)
{
    return ngx_palloc(data, size);
}
