/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * authz-mint: signs tokens with libjwt for development, tests and
 * machine-to-machine callers, and prints the JWKS of RSA public keys.
 * It is the issuer side of SPEC §9; the module never links it.
 *
 * Build (from the repository root):
 *
 *     cc -std=c99 -O2 -Wall -Wextra -Werror -o build/authz-mint \
 *         keys/authz-mint.c -ljwt -ljansson -lcrypto
 */


#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>


#define AUTHZ_MINT_OK           0
#define AUTHZ_MINT_FAILED       1
#define AUTHZ_MINT_USAGE        2

#define AUTHZ_MINT_PEM_MAX      65536
#define AUTHZ_MINT_TIME_MAX     99999999999LL      /* year 5138 */
#define AUTHZ_MINT_TTL          (15 * 60)
#define AUTHZ_MINT_JTI_LEN      16


enum {
    AUTHZ_MINT_HELP = 1,
    AUTHZ_MINT_KEY,
    AUTHZ_MINT_JWKS,
    AUTHZ_MINT_KID,
    AUTHZ_MINT_ALG,
    AUTHZ_MINT_ISS,
    AUTHZ_MINT_AUD,
    AUTHZ_MINT_SUB,
    AUTHZ_MINT_TENANT,
    AUTHZ_MINT_TENANT_CLAIM,
    AUTHZ_MINT_TTL_OPT,
    AUTHZ_MINT_PERM,
    AUTHZ_MINT_SERVICE,
    AUTHZ_MINT_ROLE,
    AUTHZ_MINT_CLAIM,
    AUTHZ_MINT_JSON,
    AUTHZ_MINT_UNSET,
    AUTHZ_MINT_IAT,
    AUTHZ_MINT_NBF,
    AUTHZ_MINT_EXP,
    AUTHZ_MINT_NO_EXP,
    AUTHZ_MINT_JTI,
    AUTHZ_MINT_NOPTS
};


typedef struct {
    const char    *name;
    int            id;
    unsigned       arg:1;       /* takes a value */
    unsigned       once:1;      /* may be given once */
    unsigned       token:1;     /* token option, refused with --jwks */
} authz_mint_option_t;


typedef struct {
    const char   *key;
    const char   *alg;
    const char   *tenant_claim;
    const char  **kids;
    const char  **jwks;
    size_t        nkids;
    size_t        njwks;
    const char   *token_opt;    /* first token option, for --jwks */

    json_t       *iss;
    json_t       *aud;          /* array of strings */
    json_t       *sub;
    json_t       *tenant;
    json_t       *jti;
    json_t       *perms;        /* array of strings */
    json_t       *services;     /* object */
    json_t       *roles;        /* array of strings */
    json_t       *over;         /* --claim and --json members */
    json_t       *unset;        /* --unset names, as an object */

    long long     ttl;
    long long     iat;
    long long     nbf;
    long long     exp;
    unsigned      iat_set:1;
    unsigned      nbf_set:1;
    unsigned      exp_set:1;
    unsigned      no_exp:1;
    unsigned      help:1;
} authz_mint_conf_t;


static void authz_mint_error(const char *fmt, ...);
static int authz_mint_usage_error(const char *fmt, ...);
static void authz_mint_usage(void);
static int authz_mint_parse(authz_mint_conf_t *conf, int argc, char **argv,
    long long now);
static int authz_mint_option(authz_mint_conf_t *conf,
    const authz_mint_option_t *opt, const char *value, long long now);
static int authz_mint_check(authz_mint_conf_t *conf);
static void authz_mint_conf_free(authz_mint_conf_t *conf);
static json_t *authz_mint_str(const char *opt, const char *value);
static int authz_mint_append(json_t *array, const char *opt,
    const char *value);
static int authz_mint_number(const char *s, long long *n, const char **end);
static int authz_mint_duration(const char *s, long long *sec);
static int authz_mint_time(const char *s, long long now, long long *t);
static unsigned char *authz_mint_read(const char *name, size_t *len);
static EVP_PKEY *authz_mint_load_key(const char *name, int private);
static int authz_mint_no_passphrase(char *buf, int size, int rwflag,
    void *data);
static char *authz_mint_base64url(const unsigned char *p, size_t len);
static int authz_mint_set_bn(json_t *jwk, const char *name,
    EVP_PKEY *pkey, const char *param);
static json_t *authz_mint_jwk(EVP_PKEY *pkey, const char *kid,
    const char *alg);
static int authz_mint_jwks(authz_mint_conf_t *conf);
static json_t *authz_mint_payload(authz_mint_conf_t *conf, long long now);
static int authz_mint_sign(authz_mint_conf_t *conf, long long now);
static int authz_mint_print(const char *s);


static const authz_mint_option_t  authz_mint_options[] = {
    { "--help",         AUTHZ_MINT_HELP,         0, 0, 0 },
    { "--key",          AUTHZ_MINT_KEY,          1, 1, 0 },
    { "--jwks",         AUTHZ_MINT_JWKS,         1, 0, 0 },
    { "--kid",          AUTHZ_MINT_KID,          1, 0, 0 },
    { "--alg",          AUTHZ_MINT_ALG,          1, 1, 0 },
    { "--iss",          AUTHZ_MINT_ISS,          1, 1, 1 },
    { "--aud",          AUTHZ_MINT_AUD,          1, 0, 1 },
    { "--sub",          AUTHZ_MINT_SUB,          1, 1, 1 },
    { "--tenant",       AUTHZ_MINT_TENANT,       1, 1, 1 },
    { "--tenant-claim", AUTHZ_MINT_TENANT_CLAIM, 1, 1, 1 },
    { "--ttl",          AUTHZ_MINT_TTL_OPT,      1, 1, 1 },
    { "--perm",         AUTHZ_MINT_PERM,         1, 0, 1 },
    { "--service",      AUTHZ_MINT_SERVICE,      1, 0, 1 },
    { "--role",         AUTHZ_MINT_ROLE,         1, 0, 1 },
    { "--claim",        AUTHZ_MINT_CLAIM,        1, 0, 1 },
    { "--json",         AUTHZ_MINT_JSON,         1, 0, 1 },
    { "--unset",        AUTHZ_MINT_UNSET,        1, 0, 1 },
    { "--iat",          AUTHZ_MINT_IAT,          1, 1, 1 },
    { "--nbf",          AUTHZ_MINT_NBF,          1, 1, 1 },
    { "--exp",          AUTHZ_MINT_EXP,          1, 1, 1 },
    { "--no-exp",       AUTHZ_MINT_NO_EXP,       0, 1, 1 },
    { "--jti",          AUTHZ_MINT_JTI,          1, 1, 1 },
    { NULL, 0, 0, 0, 0 }
};


/* libjwt 1.10 signs RS*, ES* and HS*; it has no PS* */

static const char  *authz_mint_algs[] = { "RS256", "RS384", "RS512", NULL };


static const char  authz_mint_usage_text[] =
"usage: authz-mint --key PRIVATE.pem [token options]\n"
"       authz-mint --jwks PUBLIC.pem [--kid KID] [--jwks FILE [--kid KID]]...\n"
"       authz-mint --help\n"
"\n"
"The first form signs a JWT with libjwt and prints it, followed by a\n"
"newline, on stdout.  The second prints a JWKS for RSA keys.  Tokens and\n"
"keys are for development, tests and machine-to-machine callers.\n"
"\n"
"token options:\n"
"  --key FILE           RSA private key, PEM (PKCS#8 \"PRIVATE KEY\" or\n"
"                       PKCS#1 \"RSA PRIVATE KEY\", unencrypted)\n"
"  --kid KID            \"kid\" header parameter (default: none)\n"
"  --alg ALG            RS256 (default), RS384 or RS512 (libjwt 1.10 has\n"
"                       no PS256, PS384 or PS512)\n"
"  --iss ISS            \"iss\" claim\n"
"  --aud AUD            \"aud\" claim; repeat it for an array\n"
"  --sub SUB            \"sub\" claim\n"
"  --tenant TID         tenant claim\n"
"  --tenant-claim NAME  name of the tenant claim (default: tid)\n"
"  --ttl DURATION       lifetime: exp = now + DURATION (default: 15m)\n"
"  --perm P             append P to \"permissions\" (always present,\n"
"                       possibly empty, in command line order)\n"
"  --service S[=false]  add S: {\"enabled\": true} (or false) to\n"
"                       \"services\" (always present, possibly empty)\n"
"  --role R             append R to \"roles\" (present only if given)\n"
"  --claim NAME=VALUE   string claim (\"123\" stays a string)\n"
"  --json OBJECT        merge the members of a JSON object\n"
"  --unset NAME         remove claim NAME from the payload\n"
"  --iat TIME           \"iat\" (default: now)\n"
"  --nbf TIME           \"nbf\" (default: the \"iat\" value)\n"
"  --exp TIME           \"exp\" (default: now + ttl)\n"
"  --no-exp             no \"exp\" claim\n"
"  --jti ID             \"jti\" (default: 16 random bytes in hex)\n"
"\n"
"JWKS options:\n"
"  --jwks FILE          RSA key, PEM: SPKI \"PUBLIC KEY\", PKCS#1 \"RSA\n"
"                       PUBLIC KEY\", an X.509 certificate, or a private\n"
"                       key (only n and e are printed); repeat it for\n"
"                       several keys\n"
"  --kid KID            give no --kid at all, or exactly one per --jwks:\n"
"                       the Nth --kid names the key of the Nth --jwks\n"
"                       (pairs in order; a key without --kid has no \"kid\")\n"
"  --alg ALG            \"alg\" member of every key (default: RS256)\n"
"\n"
"DURATION is a number of seconds with an optional unit s, m, h or d\n"
"(900, 90s, 15m, 2h, 1d).  TIME is an epoch (1795320000) or a DURATION\n"
"relative to now with a sign (+1h, -5m).\n"
"\n"
"--claim, --json and --unset apply in command line order after all the\n"
"other claims are set, so they can replace or remove any claim, iat and\n"
"exp included; the last one to name a claim wins.  An option takes its\n"
"value from the next argument or after '=' (--sub=alice).\n"
"\n"
"examples:\n"
"  authz-mint --key keys/dev/private.pem --kid dev-1 \\\n"
"      --iss https://manager.local --aud api.local --sub alice \\\n"
"      --tenant acme --perm blog:posts.read --service blog\n"
"  authz-mint --key keys/dev/private.pem --sub bob --exp -5m\n"
"  authz-mint --jwks keys/dev/public.pem --kid dev-1\n"
"\n"
"Exit status: 0 on success, 1 for an unreadable or unsuitable key, a\n"
"signing or an output failure, 2 for bad arguments.\n";


int
main(int argc, char **argv)
{
    int                 rc;
    long long           now;
    authz_mint_conf_t   conf;

    now = (long long) time(NULL);

    memset(&conf, 0, sizeof(authz_mint_conf_t));

    rc = authz_mint_parse(&conf, argc, argv, now);

    if (rc != AUTHZ_MINT_OK) {
        goto done;
    }

    if (conf.help) {
        authz_mint_usage();
        rc = authz_mint_print(NULL);
        goto done;
    }

    rc = authz_mint_check(&conf);

    if (rc != AUTHZ_MINT_OK) {
        goto done;
    }

    if (conf.njwks > 0) {
        rc = authz_mint_jwks(&conf);

    } else {
        rc = authz_mint_sign(&conf, now);
    }

done:

    authz_mint_conf_free(&conf);

    return rc;
}


static void
authz_mint_error(const char *fmt, ...)
{
    va_list  args;

    fputs("authz-mint: ", stderr);

    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);

    fputc('\n', stderr);
}


static int
authz_mint_usage_error(const char *fmt, ...)
{
    va_list  args;

    fputs("authz-mint: ", stderr);

    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);

    fputs("\nTry \"authz-mint --help\" for more information.\n", stderr);

    return AUTHZ_MINT_USAGE;
}


static void
authz_mint_usage(void)
{
    fputs(authz_mint_usage_text, stdout);
}


static int
authz_mint_parse(authz_mint_conf_t *conf, int argc, char **argv,
    long long now)
{
    int                         i, rc;
    size_t                      n;
    const char                 *arg, *eq, *value;
    const authz_mint_option_t  *opt;
    unsigned char               seen[AUTHZ_MINT_NOPTS];

    memset(seen, 0, sizeof(seen));

    conf->alg = "RS256";
    conf->tenant_claim = "tid";
    conf->ttl = AUTHZ_MINT_TTL;

    conf->kids = calloc((size_t) argc, sizeof(const char *));
    conf->jwks = calloc((size_t) argc, sizeof(const char *));
    conf->aud = json_array();
    conf->perms = json_array();
    conf->services = json_object();
    conf->roles = json_array();
    conf->over = json_object();
    conf->unset = json_object();

    if (conf->kids == NULL || conf->jwks == NULL || conf->aud == NULL
        || conf->perms == NULL || conf->services == NULL
        || conf->roles == NULL || conf->over == NULL || conf->unset == NULL)
    {
        authz_mint_error("out of memory");
        return AUTHZ_MINT_FAILED;
    }

    for (i = 1; i < argc; i++) {
        arg = argv[i];

        if (strcmp(arg, "-h") == 0) {
            conf->help = 1;
            return AUTHZ_MINT_OK;
        }

        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            return authz_mint_usage_error("unexpected argument \"%s\"", arg);
        }

        eq = strchr(arg, '=');
        n = (eq != NULL) ? (size_t) (eq - arg) : strlen(arg);

        for (opt = authz_mint_options; opt->name != NULL; opt++) {
            if (strlen(opt->name) == n && memcmp(opt->name, arg, n) == 0) {
                break;
            }
        }

        if (opt->name == NULL) {
            return authz_mint_usage_error("unknown option \"%.*s\"",
                                          (int) n, arg);
        }

        if (opt->arg) {
            if (eq != NULL) {
                value = eq + 1;

            } else if (i + 1 < argc) {
                value = argv[++i];

            } else {
                return authz_mint_usage_error("option \"%s\" requires "
                                              "a value", opt->name);
            }

        } else {
            if (eq != NULL) {
                return authz_mint_usage_error("option \"%s\" takes "
                                              "no value", opt->name);
            }

            value = NULL;
        }

        if (opt->once && seen[opt->id]) {
            return authz_mint_usage_error("option \"%s\" is given more "
                                          "than once", opt->name);
        }

        seen[opt->id] = 1;

        if (opt->token && conf->token_opt == NULL) {
            conf->token_opt = opt->name;
        }

        rc = authz_mint_option(conf, opt, value, now);

        if (rc != AUTHZ_MINT_OK) {
            return rc;
        }

        if (conf->help) {
            return AUTHZ_MINT_OK;
        }
    }

    return AUTHZ_MINT_OK;
}


static int
authz_mint_option(authz_mint_conf_t *conf, const authz_mint_option_t *opt,
    const char *value, long long now)
{
    int           rc;
    size_t        i, n;
    json_t       *json, *v;
    const char   *eq, *name;
    json_error_t  err;

    switch (opt->id) {

    case AUTHZ_MINT_HELP:
        conf->help = 1;
        break;

    case AUTHZ_MINT_KEY:
        if (*value == '\0') {
            return authz_mint_usage_error("option \"--key\" requires "
                                          "a file name");
        }

        conf->key = value;
        break;

    case AUTHZ_MINT_JWKS:
        if (*value == '\0') {
            return authz_mint_usage_error("option \"--jwks\" requires "
                                          "a file name");
        }

        conf->jwks[conf->njwks++] = value;
        break;

    case AUTHZ_MINT_KID:
        v = authz_mint_str(opt->name, value);

        if (v == NULL) {
            return AUTHZ_MINT_USAGE;
        }

        json_decref(v);

        conf->kids[conf->nkids++] = value;
        break;

    case AUTHZ_MINT_ALG:
        for (i = 0; authz_mint_algs[i] != NULL; i++) {
            if (strcmp(value, authz_mint_algs[i]) == 0) {
                break;
            }
        }

        if (authz_mint_algs[i] == NULL) {
            return authz_mint_usage_error("unsupported --alg \"%s\" "
                                          "(libjwt 1.10 signs RS256, "
                                          "RS384 and RS512)", value);
        }

        conf->alg = authz_mint_algs[i];
        break;

    case AUTHZ_MINT_ISS:
        conf->iss = authz_mint_str(opt->name, value);
        return (conf->iss != NULL) ? AUTHZ_MINT_OK : AUTHZ_MINT_USAGE;

    case AUTHZ_MINT_SUB:
        conf->sub = authz_mint_str(opt->name, value);
        return (conf->sub != NULL) ? AUTHZ_MINT_OK : AUTHZ_MINT_USAGE;

    case AUTHZ_MINT_TENANT:
        conf->tenant = authz_mint_str(opt->name, value);
        return (conf->tenant != NULL) ? AUTHZ_MINT_OK : AUTHZ_MINT_USAGE;

    case AUTHZ_MINT_JTI:
        conf->jti = authz_mint_str(opt->name, value);
        return (conf->jti != NULL) ? AUTHZ_MINT_OK : AUTHZ_MINT_USAGE;

    case AUTHZ_MINT_AUD:
        return authz_mint_append(conf->aud, opt->name, value);

    case AUTHZ_MINT_PERM:
        return authz_mint_append(conf->perms, opt->name, value);

    case AUTHZ_MINT_ROLE:
        return authz_mint_append(conf->roles, opt->name, value);

    case AUTHZ_MINT_TENANT_CLAIM:
        v = authz_mint_str(opt->name, value);

        if (v == NULL) {
            return AUTHZ_MINT_USAGE;
        }

        json_decref(v);

        if (*value == '\0') {
            return authz_mint_usage_error("option \"--tenant-claim\" "
                                          "requires a claim name");
        }

        conf->tenant_claim = value;
        break;

    case AUTHZ_MINT_TTL_OPT:
        if (authz_mint_duration(value, &conf->ttl) != 0) {
            return authz_mint_usage_error("bad --ttl \"%s\" (expected "
                                          "a duration: 900, 90s, 15m, "
                                          "2h, 1d)", value);
        }

        break;

    case AUTHZ_MINT_IAT:
    case AUTHZ_MINT_NBF:
    case AUTHZ_MINT_EXP:
        if (opt->id == AUTHZ_MINT_IAT) {
            rc = authz_mint_time(value, now, &conf->iat);
            conf->iat_set = 1;

        } else if (opt->id == AUTHZ_MINT_NBF) {
            rc = authz_mint_time(value, now, &conf->nbf);
            conf->nbf_set = 1;

        } else {
            rc = authz_mint_time(value, now, &conf->exp);
            conf->exp_set = 1;
        }

        if (rc != 0) {
            return authz_mint_usage_error("bad %s \"%s\" (expected an "
                                          "epoch or +/-DURATION: "
                                          "1795320000, +1h, -5m)",
                                          opt->name, value);
        }

        break;

    case AUTHZ_MINT_NO_EXP:
        conf->no_exp = 1;
        break;

    case AUTHZ_MINT_SERVICE:
        eq = strchr(value, '=');
        name = value;
        n = (eq != NULL) ? (size_t) (eq - value) : strlen(value);

        if (n == 0) {
            return authz_mint_usage_error("option \"--service\" requires "
                                          "a service name");
        }

        if (eq == NULL || strcmp(eq + 1, "true") == 0) {
            v = json_true();

        } else if (strcmp(eq + 1, "false") == 0) {
            v = json_false();

        } else {
            return authz_mint_usage_error("bad --service \"%s\" (expected "
                                          "NAME, NAME=true or NAME=false)",
                                          value);
        }

        json = json_pack("{so}", "enabled", v);

        if (json == NULL
            || json_object_setn_new(conf->services, name, n, json) != 0)
        {
            return authz_mint_usage_error("option \"--service\": "
                                          "not valid UTF-8");
        }

        break;

    case AUTHZ_MINT_CLAIM:
        eq = strchr(value, '=');

        if (eq == NULL || eq == value) {
            return authz_mint_usage_error("bad --claim \"%s\" (expected "
                                          "NAME=VALUE)", value);
        }

        n = (size_t) (eq - value);

        v = json_string(eq + 1);

        if (v == NULL || json_object_setn_new(conf->over, value, n, v) != 0)
        {
            return authz_mint_usage_error("option \"--claim\": "
                                          "not valid UTF-8");
        }

        json_object_deln(conf->unset, value, n);
        break;

    case AUTHZ_MINT_JSON:
        json = json_loads(value, JSON_REJECT_DUPLICATES, &err);

        if (json == NULL) {
            return authz_mint_usage_error("bad --json: %s (column %d)",
                                          err.text, err.column);
        }

        if (!json_is_object(json)) {
            json_decref(json);
            return authz_mint_usage_error("bad --json: not a JSON object");
        }

        json_object_foreach(json, name, v) {
            json_object_del(conf->unset, name);
        }

        if (json_object_update(conf->over, json) != 0) {
            json_decref(json);
            authz_mint_error("out of memory");
            return AUTHZ_MINT_FAILED;
        }

        json_decref(json);
        break;

    case AUTHZ_MINT_UNSET:
        if (*value == '\0') {
            return authz_mint_usage_error("option \"--unset\" requires "
                                          "a claim name");
        }

        if (json_object_set_new(conf->unset, value, json_true()) != 0) {
            return authz_mint_usage_error("option \"--unset\": "
                                          "not valid UTF-8");
        }

        json_object_del(conf->over, value);
        break;
    }

    return AUTHZ_MINT_OK;
}


static int
authz_mint_check(authz_mint_conf_t *conf)
{
    size_t  i, j;

    if (conf->key == NULL && conf->njwks == 0) {
        return authz_mint_usage_error("either --key or --jwks is required");
    }

    if (conf->key != NULL && conf->njwks > 0) {
        return authz_mint_usage_error("--key and --jwks cannot be combined");
    }

    if (conf->njwks > 0) {
        if (conf->token_opt != NULL) {
            return authz_mint_usage_error("option \"%s\" cannot be used "
                                          "with --jwks", conf->token_opt);
        }

        if (conf->nkids != 0 && conf->nkids != conf->njwks) {
            return authz_mint_usage_error("give no --kid or one --kid per "
                                          "--jwks (%zu --jwks, %zu --kid)",
                                          conf->njwks, conf->nkids);
        }

        for (i = 0; i < conf->nkids; i++) {
            for (j = i + 1; j < conf->nkids; j++) {
                if (strcmp(conf->kids[i], conf->kids[j]) == 0) {
                    return authz_mint_usage_error("duplicate --kid \"%s\"",
                                                  conf->kids[i]);
                }
            }
        }

        return AUTHZ_MINT_OK;
    }

    if (conf->nkids > 1) {
        return authz_mint_usage_error("option \"--kid\" is given more "
                                      "than once");
    }

    if (conf->exp_set && conf->no_exp) {
        return authz_mint_usage_error("--exp and --no-exp cannot be "
                                      "combined");
    }

    return AUTHZ_MINT_OK;
}


static void
authz_mint_conf_free(authz_mint_conf_t *conf)
{
    free(conf->kids);
    free(conf->jwks);

    json_decref(conf->iss);
    json_decref(conf->aud);
    json_decref(conf->sub);
    json_decref(conf->tenant);
    json_decref(conf->jti);
    json_decref(conf->perms);
    json_decref(conf->services);
    json_decref(conf->roles);
    json_decref(conf->over);
    json_decref(conf->unset);
}


static json_t *
authz_mint_str(const char *opt, const char *value)
{
    json_t  *v;

    /* jansson refuses strings that are not valid UTF-8 */

    v = json_string(value);

    if (v == NULL) {
        (void) authz_mint_usage_error("option \"%s\": not valid UTF-8", opt);
    }

    return v;
}


static int
authz_mint_append(json_t *array, const char *opt, const char *value)
{
    json_t  *v;

    v = authz_mint_str(opt, value);

    if (v == NULL) {
        return AUTHZ_MINT_USAGE;
    }

    if (json_array_append_new(array, v) != 0) {
        authz_mint_error("out of memory");
        return AUTHZ_MINT_FAILED;
    }

    return AUTHZ_MINT_OK;
}


static int
authz_mint_number(const char *s, long long *n, const char **end)
{
    long long  v;

    if (*s < '0' || *s > '9') {
        return -1;
    }

    for (v = 0; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (*s - '0');

        if (v > AUTHZ_MINT_TIME_MAX) {
            return -1;
        }
    }

    *n = v;
    *end = s;

    return 0;
}


static int
authz_mint_duration(const char *s, long long *sec)
{
    long long    n, scale;
    const char  *p;

    if (authz_mint_number(s, &n, &p) != 0) {
        return -1;
    }

    switch (*p) {

    case '\0':
        scale = 1;
        break;

    case 's':
        scale = 1;
        p++;
        break;

    case 'm':
        scale = 60;
        p++;
        break;

    case 'h':
        scale = 60 * 60;
        p++;
        break;

    case 'd':
        scale = 24 * 60 * 60;
        p++;
        break;

    default:
        return -1;
    }

    if (*p != '\0' || n > AUTHZ_MINT_TIME_MAX / scale) {
        return -1;
    }

    *sec = n * scale;

    return 0;
}


static int
authz_mint_time(const char *s, long long now, long long *t)
{
    long long    d;
    const char  *p;

    if (*s == '+' || *s == '-') {
        if (authz_mint_duration(s + 1, &d) != 0) {
            return -1;
        }

        *t = (*s == '+') ? now + d : now - d;

        return (*t < 0) ? -1 : 0;
    }

    if (authz_mint_number(s, t, &p) != 0 || *p != '\0') {
        return -1;
    }

    return 0;
}


static unsigned char *
authz_mint_read(const char *name, size_t *len)
{
    int             rc;
    FILE           *f;
    size_t          n;
    unsigned char  *buf;

    f = fopen(name, "rb");

    if (f == NULL) {
        authz_mint_error("%s: %s", name, strerror(errno));
        return NULL;
    }

    buf = malloc(AUTHZ_MINT_PEM_MAX + 1);

    if (buf == NULL) {
        fclose(f);
        authz_mint_error("out of memory");
        return NULL;
    }

    errno = 0;
    n = fread(buf, 1, AUTHZ_MINT_PEM_MAX + 1, f);
    rc = ferror(f) ? errno : 0;

    fclose(f);

    if (rc != 0 || n == 0 || n > AUTHZ_MINT_PEM_MAX) {
        if (rc != 0) {
            authz_mint_error("%s: %s", name, strerror(rc));

        } else if (n == 0) {
            authz_mint_error("%s: empty file", name);

        } else {
            authz_mint_error("%s: too large for a PEM key", name);
        }

        OPENSSL_cleanse(buf, n);
        free(buf);

        return NULL;
    }

    *len = n;

    return buf;
}


static EVP_PKEY *
authz_mint_load_key(const char *name, int private)
{
    int                 ok;
    BIO                *bio;
    X509               *x509;
    size_t              len;
    BIGNUM             *d;
    EVP_PKEY           *pkey;
    unsigned char      *buf;
    OSSL_DECODER_CTX   *dctx;

    buf = authz_mint_read(name, &len);

    if (buf == NULL) {
        return NULL;
    }

    pkey = NULL;
    ok = 0;

    /* any PEM key: SPKI, PKCS#1, PKCS#8; encrypted ones are refused */

    bio = BIO_new_mem_buf(buf, (int) len);
    dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL, 0,
                                         NULL, NULL);

    if (bio != NULL && dctx != NULL
        && OSSL_DECODER_CTX_set_pem_password_cb(dctx,
                                    authz_mint_no_passphrase, NULL) == 1)
    {
        ok = OSSL_DECODER_from_bio(dctx, bio);
    }

    /* an X.509 certificate, as authz_key_file accepts */

    if (ok != 1 && !private && bio != NULL && BIO_reset(bio) == 1) {
        x509 = PEM_read_bio_X509(bio, NULL, authz_mint_no_passphrase, NULL);

        if (x509 != NULL) {
            pkey = X509_get_pubkey(x509);
            ok = (pkey != NULL);
            X509_free(x509);
        }
    }

    OSSL_DECODER_CTX_free(dctx);
    BIO_free(bio);

    OPENSSL_cleanse(buf, len);
    free(buf);

    ERR_clear_error();

    if (ok != 1 || pkey == NULL) {
        authz_mint_error("%s: no unencrypted PEM key found", name);
        goto failed;
    }

    if (EVP_PKEY_get_id(pkey) != EVP_PKEY_RSA) {
        authz_mint_error("%s: not an RSA key", name);
        goto failed;
    }

    if (private) {
        d = NULL;

        if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, &d) != 1) {
            ERR_clear_error();
            authz_mint_error("%s: not a private key", name);
            goto failed;
        }

        BN_clear_free(d);
    }

    return pkey;

failed:

    EVP_PKEY_free(pkey);

    return NULL;
}


static int
authz_mint_no_passphrase(char *buf, int size, int rwflag, void *data)
{
    (void) buf;
    (void) size;
    (void) rwflag;
    (void) data;

    /* never prompt: keys for this tool are not encrypted */

    return -1;
}


static char *
authz_mint_base64url(const unsigned char *p, size_t len)
{
    char               *dst, *d;
    size_t              i;
    static const char   alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    dst = malloc(len / 3 * 4 + 4 + 1);

    if (dst == NULL) {
        return NULL;
    }

    d = dst;

    for (i = 0; i + 2 < len; i += 3) {
        *d++ = alphabet[p[i] >> 2];
        *d++ = alphabet[((p[i] & 0x03) << 4) | (p[i + 1] >> 4)];
        *d++ = alphabet[((p[i + 1] & 0x0f) << 2) | (p[i + 2] >> 6)];
        *d++ = alphabet[p[i + 2] & 0x3f];
    }

    /* no padding (RFC 7515, section 2) */

    if (len - i == 1) {
        *d++ = alphabet[p[i] >> 2];
        *d++ = alphabet[(p[i] & 0x03) << 4];

    } else if (len - i == 2) {
        *d++ = alphabet[p[i] >> 2];
        *d++ = alphabet[((p[i] & 0x03) << 4) | (p[i + 1] >> 4)];
        *d++ = alphabet[(p[i + 1] & 0x0f) << 2];
    }

    *d = '\0';

    return dst;
}


static int
authz_mint_set_bn(json_t *jwk, const char *name, EVP_PKEY *pkey,
    const char *param)
{
    int             rc, len;
    char           *b64;
    BIGNUM         *bn;
    unsigned char  *bin;

    bn = NULL;
    bin = NULL;
    b64 = NULL;
    rc = -1;

    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) {
        goto done;
    }

    /* big-endian, without leading zero octets (RFC 7518, section 6.3.1) */

    len = BN_num_bytes(bn);
    bin = malloc(len > 0 ? (size_t) len : 1);

    if (bin == NULL || BN_bn2bin(bn, bin) != len) {
        goto done;
    }

    b64 = authz_mint_base64url(bin, (size_t) len);

    if (b64 == NULL) {
        goto done;
    }

    rc = json_object_set_new(jwk, name, json_string(b64));

done:

    free(b64);
    free(bin);
    BN_free(bn);

    return rc;
}


static json_t *
authz_mint_jwk(EVP_PKEY *pkey, const char *kid, const char *alg)
{
    json_t  *jwk;

    jwk = json_object();

    if (jwk == NULL
        || json_object_set_new(jwk, "kty", json_string("RSA")) != 0
        || json_object_set_new(jwk, "use", json_string("sig")) != 0
        || json_object_set_new(jwk, "alg", json_string(alg)) != 0
        || (kid != NULL
            && json_object_set_new(jwk, "kid", json_string(kid)) != 0)
        || authz_mint_set_bn(jwk, "n", pkey, OSSL_PKEY_PARAM_RSA_N) != 0
        || authz_mint_set_bn(jwk, "e", pkey, OSSL_PKEY_PARAM_RSA_E) != 0)
    {
        ERR_clear_error();
        json_decref(jwk);
        return NULL;
    }

    return jwk;
}


static int
authz_mint_jwks(authz_mint_conf_t *conf)
{
    int        rc;
    char      *out;
    size_t     i;
    json_t    *jwks, *keys, *jwk;
    EVP_PKEY  *pkey;

    out = NULL;
    rc = AUTHZ_MINT_FAILED;

    keys = json_array();
    jwks = json_pack("{so}", "keys", keys);

    if (jwks == NULL) {
        authz_mint_error("out of memory");
        goto done;
    }

    for (i = 0; i < conf->njwks; i++) {
        pkey = authz_mint_load_key(conf->jwks[i], 0);

        if (pkey == NULL) {
            goto done;
        }

        jwk = authz_mint_jwk(pkey, (conf->nkids > 0) ? conf->kids[i] : NULL,
                             conf->alg);

        EVP_PKEY_free(pkey);

        if (jwk == NULL || json_array_append_new(keys, jwk) != 0) {
            authz_mint_error("%s: cannot build the JWK", conf->jwks[i]);
            goto done;
        }
    }

    out = json_dumps(jwks, JSON_COMPACT | JSON_PRESERVE_ORDER);

    if (out == NULL) {
        authz_mint_error("out of memory");
        goto done;
    }

    rc = authz_mint_print(out);

done:

    free(out);
    json_decref(jwks);

    return rc;
}


static json_t *
authz_mint_payload(authz_mint_conf_t *conf, long long now)
{
    int            i;
    json_t        *payload, *v;
    long long      iat;
    const char    *name;
    char           hex[AUTHZ_MINT_JTI_LEN * 2 + 1];
    unsigned char  rnd[AUTHZ_MINT_JTI_LEN];

    payload = json_object();

    if (payload == NULL) {
        goto nomem;
    }

    if ((conf->iss != NULL
         && json_object_set(payload, "iss", conf->iss) != 0)
        || (json_array_size(conf->aud) == 1
            && json_object_set(payload, "aud",
                               json_array_get(conf->aud, 0)) != 0)
        || (json_array_size(conf->aud) > 1
            && json_object_set(payload, "aud", conf->aud) != 0)
        || (conf->sub != NULL
            && json_object_set(payload, "sub", conf->sub) != 0)
        || (conf->tenant != NULL
            && json_object_set(payload, conf->tenant_claim,
                               conf->tenant) != 0))
    {
        goto nomem;
    }

    iat = conf->iat_set ? conf->iat : now;

    if (json_object_set_new(payload, "iat", json_integer(iat)) != 0
        || json_object_set_new(payload, "nbf",
                               json_integer(conf->nbf_set ? conf->nbf : iat))
           != 0)
    {
        goto nomem;
    }

    if (!conf->no_exp
        && json_object_set_new(payload, "exp",
                               json_integer(conf->exp_set ? conf->exp
                                                          : now + conf->ttl))
           != 0)
    {
        goto nomem;
    }

    if (conf->jti != NULL) {
        if (json_object_set(payload, "jti", conf->jti) != 0) {
            goto nomem;
        }

    } else {
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            ERR_clear_error();
            authz_mint_error("RAND_bytes() failed");
            json_decref(payload);
            return NULL;
        }

        for (i = 0; i < AUTHZ_MINT_JTI_LEN; i++) {
            snprintf(&hex[i * 2], 3, "%02x", rnd[i]);
        }

        if (json_object_set_new(payload, "jti", json_string(hex)) != 0) {
            goto nomem;
        }
    }

    if (json_object_set(payload, "permissions", conf->perms) != 0
        || json_object_set(payload, "services", conf->services) != 0
        || (json_array_size(conf->roles) > 0
            && json_object_set(payload, "roles", conf->roles) != 0))
    {
        goto nomem;
    }

    /* --claim and --json replace, --unset removes */

    if (json_object_update(payload, conf->over) != 0) {
        goto nomem;
    }

    json_object_foreach(conf->unset, name, v) {
        json_object_del(payload, name);
    }

    return payload;

nomem:

    authz_mint_error("out of memory");
    json_decref(payload);

    return NULL;
}


static int
authz_mint_sign(authz_mint_conf_t *conf, long long now)
{
    int        rc, err;
    BIO       *mem;
    long       len;
    char      *pem, *json, *token;
    jwt_t     *jwt;
    json_t    *payload;
    EVP_PKEY  *pkey;

    rc = AUTHZ_MINT_FAILED;
    mem = NULL;
    jwt = NULL;
    json = NULL;
    token = NULL;
    payload = NULL;

    pkey = authz_mint_load_key(conf->key, 1);

    if (pkey == NULL) {
        return AUTHZ_MINT_FAILED;
    }

    /*
     * hand libjwt the key just checked, as unencrypted PKCS#8 PEM,
     * in secure memory that is cleared when freed
     */

    mem = BIO_new(BIO_s_secmem());

    if (mem == NULL
        || PEM_write_bio_PrivateKey(mem, pkey, NULL, NULL, 0, NULL, NULL)
           != 1)
    {
        ERR_clear_error();
        authz_mint_error("%s: cannot convert the key", conf->key);
        goto done;
    }

    len = BIO_get_mem_data(mem, &pem);

    payload = authz_mint_payload(conf, now);

    if (payload == NULL) {
        goto done;
    }

    json = json_dumps(payload, JSON_COMPACT);

    if (json == NULL || jwt_new(&jwt) != 0) {
        authz_mint_error("out of memory");
        goto done;
    }

    err = jwt_add_grants_json(jwt, json);

    if (err != 0) {
        authz_mint_error("jwt_add_grants_json() failed: %s", strerror(err));
        goto done;
    }

    if (conf->nkids > 0) {
        err = jwt_add_header(jwt, "kid", conf->kids[0]);

        if (err != 0) {
            authz_mint_error("jwt_add_header(\"kid\") failed: %s",
                             strerror(err));
            goto done;
        }
    }

    err = jwt_set_alg(jwt, jwt_str_alg(conf->alg),
                      (const unsigned char *) pem, (int) len);

    if (err != 0) {
        authz_mint_error("jwt_set_alg() failed: %s", strerror(err));
        goto done;
    }

    errno = 0;
    token = jwt_encode_str(jwt);

    if (token == NULL) {
        ERR_clear_error();
        authz_mint_error("%s: signing failed: %s", conf->key,
                         strerror(errno != 0 ? errno : EINVAL));
        goto done;
    }

    rc = authz_mint_print(token);

done:

    free(token);
    jwt_free(jwt);
    free(json);
    json_decref(payload);
    BIO_free(mem);
    EVP_PKEY_free(pkey);

    return rc;
}


static int
authz_mint_print(const char *s)
{
    if ((s != NULL && (fputs(s, stdout) == EOF || putchar('\n') == EOF))
        || fflush(stdout) != 0)
    {
        authz_mint_error("stdout: %s", strerror(errno));
        return AUTHZ_MINT_FAILED;
    }

    return AUTHZ_MINT_OK;
}
