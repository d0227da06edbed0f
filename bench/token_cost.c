/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * The core's cost of one token, for bench/token-cost.sh: the glue's
 * sequence (authz_token_decode, authz_token_check_claims,
 * authz_token_verify, authz_identity_get on success, authz_token_free),
 * with the glue's scratch buffer (the token's length plus one), run
 * REPS times inside token_cost_measure(), the one function callgrind
 * counts (--toggle-collect=token_cost_measure).  One untimed run first
 * warms OpenSSL's algorithm caches, as the first request of a worker
 * does.
 *
 *   token_cost [-t] [-r REPS] [-s MAX_SIZE] [-a ALG,...] -k [KID]:FILE ...
 *       TOKEN_FILE
 *
 * -a: the algorithms authz_algorithms enables (RS256 by default), for
 * bench/algs.sh.
 *
 * Prints the verdict ("ok" or the reason text), the key that verified,
 * the token's length and, with -t, the wall-clock nanoseconds per token
 * of the measured runs (not under callgrind: there it is meaningless).
 */


#define _POSIX_C_SOURCE  200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authz_jwt.h"
#include "authz_claims.h"


#define TOKEN_COST_STR(s)   { sizeof(s) - 1, (const unsigned char *) s }

/* older cores (AUTHZ_SRC) load keys without the skip callback */
#ifdef AUTHZ_RSA_EXPONENT
#define TOKEN_COST_KEY_LOAD(b, l, k, keys, n, max, e, el)                   \
    authz_key_load(b, l, k, keys, n, max, e, el, NULL, NULL)
#else
#define TOKEN_COST_KEY_LOAD(b, l, k, keys, n, max, e, el)                   \
    authz_key_load(b, l, k, keys, n, max, e, el)
#endif


typedef struct {
    unsigned char   *buf;
    size_t           used;
    size_t           size;
} token_cost_arena_t;


static authz_err_e token_cost_one(const unsigned char *data, size_t len);
void token_cost_measure(const unsigned char *data, size_t len, long reps)
    __attribute__((noinline));
static void *token_cost_alloc(void *data, size_t size);
static unsigned char *token_cost_read(const char *path, size_t *len);
static void token_cost_fail(const char *what, const char *detail);


static authz_key_t           token_cost_keys[AUTHZ_MAX_KEYS];
static authz_verify_conf_t   token_cost_conf;
static authz_key_set_t       token_cost_set;
static authz_claims_conf_t   token_cost_claims;
static time_t                token_cost_now;
static token_cost_arena_t    token_cost_arena;
static const authz_key_t    *token_cost_key;

static const authz_str_t     token_cost_issuer =
    TOKEN_COST_STR("https://issuer.test");
static const authz_str_t     token_cost_audience = TOKEN_COST_STR("api.test");

static const char           *token_cost_usage =
    "token_cost [-t] [-r REPS] [-s MAX_SIZE] [-a ALG,...] -k [KID]:FILE ... "
    "TOKEN_FILE";


int
main(int argc, char **argv)
{
    int               c, timed;
    long              reps;
    char             *path, *kid, *colon, *alg, err[256];
    double            ns;
    size_t            n, len, klen;
    authz_err_e       rc;
    unsigned char    *key, *data;
    struct timespec   t0, t1;

    reps = 1;
    timed = 0;
    n = 0;

    memset(&token_cost_conf, 0, sizeof(authz_verify_conf_t));

    token_cost_set.keys = token_cost_keys;
    token_cost_conf.sets = &token_cost_set;
    token_cost_conf.nsets = 1;
    token_cost_conf.algs = AUTHZ_ALG_RS256;
    token_cost_conf.max_size = 8192;
    token_cost_conf.issuers = &token_cost_issuer;
    token_cost_conf.nissuers = 1;
    token_cost_conf.audiences = &token_cost_audience;
    token_cost_conf.naudiences = 1;
    token_cost_conf.leeway = 60;
    token_cost_conf.require_exp = 1;

    while ((c = getopt(argc, argv, "tr:s:k:a:")) != -1) {
        switch (c) {

        case 'a':
            token_cost_conf.algs = 0;

            for (alg = strtok(optarg, ","); alg != NULL;
                 alg = strtok(NULL, ","))
            {
                if (authz_alg_parse((unsigned char *) alg, strlen(alg))
                    == 0)
                {
                    token_cost_fail("unknown algorithm", alg);
                }

                token_cost_conf.algs |= authz_alg_parse((unsigned char *)
                                                        alg, strlen(alg));
            }

            break;

        case 't':
            timed = 1;
            break;

        case 'r':
            reps = atol(optarg);
            break;

        case 's':
            token_cost_conf.max_size = strtoul(optarg, NULL, 10);
            break;

        case 'k':
            colon = strchr(optarg, ':');
            if (colon == NULL) {
                token_cost_fail("-k takes KID:FILE", optarg);
            }

            *colon = '\0';
            kid = (colon == optarg) ? NULL : optarg;
            path = colon + 1;

            key = token_cost_read(path, &klen);

            if (TOKEN_COST_KEY_LOAD(key, klen, kid, token_cost_keys, &n,
                                    AUTHZ_MAX_KEYS, err, sizeof(err))
                != 0)
            {
                token_cost_fail(path, err);
            }

            free(key);
            break;

        default:
            token_cost_fail("usage", token_cost_usage);
        }
    }

    if (optind != argc - 1 || n == 0 || reps < 1) {
        token_cost_fail("usage", token_cost_usage);
    }

    token_cost_set.nkeys = n;

    token_cost_claims.sub_claim = (authz_str_t) TOKEN_COST_STR("sub");
    token_cost_claims.tenant_claim = (authz_str_t) TOKEN_COST_STR("tid");
    token_cost_claims.permissions_claim =
                                (authz_str_t) TOKEN_COST_STR("permissions");
    token_cost_claims.services_claim =
                                (authz_str_t) TOKEN_COST_STR("services");
    token_cost_claims.roles_claim = (authz_str_t) TOKEN_COST_STR("roles");

    token_cost_arena.size = 1024 * 1024;
    token_cost_arena.buf = malloc(token_cost_arena.size);
    if (token_cost_arena.buf == NULL) {
        token_cost_fail("malloc()", "arena");
    }

    data = token_cost_read(argv[optind], &len);

    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r')) {
        len--;
    }

    token_cost_now = time(NULL);

    rc = token_cost_one(data, len);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    token_cost_measure(data, len, reps);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / reps;

    printf("%s", (rc == AUTHZ_OK) ? "ok" : authz_strerror(rc));

    if (token_cost_key != NULL) {
        printf(", key %zu", (size_t) (token_cost_key - token_cost_keys));
    }

    printf(", %zu bytes", len);

    if (timed) {
        printf(", %.0f ns", ns);
    }

    printf("\n");

    for (c = 0; (size_t) c < n; c++) {
        authz_key_free(&token_cost_keys[c]);
    }

    free(token_cost_arena.buf);
    free(data);

    return 0;
}


void
token_cost_measure(const unsigned char *data, size_t len, long reps)
{
    long  i;

    for (i = 0; i < reps; i++) {
        (void) token_cost_one(data, len);
    }
}


static authz_err_e
token_cost_one(const unsigned char *data, size_t len)
{
    authz_err_e        rc;
    const char        *detail;
    authz_token_t      tok;
    unsigned char     *scratch;
    authz_identity_t   id;

    /* the glue takes len + 1 bytes from the request pool */

    scratch = malloc(len + 1);
    if (scratch == NULL) {
        token_cost_fail("malloc()", "scratch");
    }

    token_cost_arena.used = 0;
    token_cost_key = NULL;

    rc = authz_token_decode(&tok, data, len, scratch, &token_cost_conf);

    if (rc == AUTHZ_OK) {
        rc = authz_token_check_claims(&tok, &token_cost_conf,
                                      token_cost_now);
    }

    if (rc == AUTHZ_OK) {
        rc = authz_token_verify(&tok, &token_cost_conf, NULL);
    }

    if (rc == AUTHZ_OK) {
        token_cost_key = tok.key;
        rc = authz_identity_get(&id, tok.payload, &token_cost_claims,
                                token_cost_alloc, &token_cost_arena,
                                &detail);
    }

    authz_token_free(&tok);
    free(scratch);

    return rc;
}


/* a bump allocator, as the request pool is */

static void *
token_cost_alloc(void *data, size_t size)
{
    void                *p;
    token_cost_arena_t  *a;

    a = data;
    size = (size + 15) & ~(size_t) 15;

    if (size > a->size - a->used) {
        return NULL;
    }

    p = a->buf + a->used;
    a->used += size;

    return p;
}


static unsigned char *
token_cost_read(const char *path, size_t *len)
{
    long            size;
    FILE           *f;
    unsigned char  *buf;

    f = fopen(path, "rb");
    if (f == NULL) {
        token_cost_fail("cannot open", path);
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        token_cost_fail("cannot size", path);
    }

    buf = malloc(size + 1);
    if (buf == NULL) {
        token_cost_fail("malloc()", path);
    }

    if (fread(buf, 1, size, f) != (size_t) size) {
        token_cost_fail("cannot read", path);
    }

    fclose(f);

    *len = size;

    return buf;
}


static void
token_cost_fail(const char *what, const char *detail)
{
    fprintf(stderr, "token_cost: %s: %s\n", what, detail);
    exit(2);
}
