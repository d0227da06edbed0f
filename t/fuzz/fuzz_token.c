/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * libFuzzer target: a token through the core, in the glue's order
 * (authz_token_decode, authz_token_check_claims, authz_token_verify,
 * authz_identity_get).
 *
 * The first input byte is the mode, the rest the data:
 *
 *     bit 0  0: the data is a compact JWS;
 *            1: the data is the payload JSON, which is signed here with
 *               key 1 so that the claims and identity code are reached
 *               past a real signature check; the header is built as
 *               {"alg":"RS256","kid":"k1"} unless the data holds a NUL,
 *               which no JSON text does: then the bytes before the
 *               first NUL are the header (signed with the same key and
 *               alg, whatever it says), the bytes after it the payload
 *     bit 1  payload mode: PS256 instead of RS256
 *     bit 2  payload mode: no "kid" in the header (every key is tried)
 *     bit 3  payload mode: sign with key 2 (a bad signature for "k1")
 *     bit 4  "exp" required
 *     bit 5  60 seconds of leeway
 *     bit 6  no issuer and audience lists
 *     bit 7  dotted claim names ("ext.tid", "realm_access.roles", ...)
 *
 * Key 1 has kid "k1", key 2 none.  authz_token_verify() runs twice:
 * without a trusted key, then trusting key 1's fingerprint (an internal
 * redirect), so a token mode input reaches the identity code as well.
 * Every input is then verified twice more, with its payload parsed
 * before the signature and after it (conf.claims_first): the verdict
 * and the verifying key must not depend on it, and no run may take more
 * than AUTHZ_MAX_CANDIDATES RSA operations.
 * authz_identity_get() then runs once more per allocation it made, with
 * that allocation failing.  The two RSA-2048 keys are generated at the
 * first call, never stored: signatures in corpus tokens do not verify,
 * and need not.
 */


#define _POSIX_C_SOURCE  200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "authz_jwt.h"
#include "authz_claims.h"


#define FUZZ_NOW            ((time_t) 1700000000)
#define FUZZ_MAX_SIZE       65536

#define FUZZ_MODE_PAYLOAD   0x01
#define FUZZ_MODE_PS256     0x02
#define FUZZ_MODE_NO_KID    0x04
#define FUZZ_MODE_KEY2      0x08
#define FUZZ_MODE_EXP       0x10
#define FUZZ_MODE_LEEWAY    0x20
#define FUZZ_MODE_NO_ISSAUD 0x40
#define FUZZ_MODE_DOTTED    0x80

/* not input bits: the header is the input's; the token is signed */
#define FUZZ_MODE_OWN_HDR   0x100
#define FUZZ_MODE_SIGNED    0x200

#define FUZZ_STR(s)         { sizeof(s) - 1, (const unsigned char *) s }
#define FUZZ_NELTS(a)       (sizeof(a) / sizeof(a[0]))


typedef struct {
    void               **ptrs;
    size_t               nptrs;
    size_t               nalloc;
    size_t               count;       /* allocations asked for */
    size_t               fail_at;     /* 1-based; 0: never fail */
} fuzz_arena_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_init(void);
static EVP_PKEY *fuzz_key_gen(const char *kid);
static void fuzz_token(unsigned mode, const unsigned char *data, size_t len);
static void fuzz_conf(authz_verify_conf_t *conf, unsigned mode);

static authz_key_set_t  fuzz_set;
static authz_err_e fuzz_verdict(const unsigned char *data, size_t len,
    const authz_verify_conf_t *conf, const authz_key_t **key);
static int fuzz_after_signature(authz_err_e rc);
static void fuzz_identity(authz_json_t *payload, unsigned mode);
static void fuzz_identity_check(const authz_identity_t *id);
static void fuzz_payload(unsigned mode, const unsigned char *data,
    size_t len);
static size_t fuzz_b64url(unsigned char *dst, const unsigned char *src,
    size_t len);
static size_t fuzz_sign(unsigned mode, const unsigned char *tbs, size_t len,
    unsigned char *sig);
static void *fuzz_alloc(void *data, size_t size);
static void fuzz_arena_free(fuzz_arena_t *arena);
static void fuzz_touch(const unsigned char *p, size_t len);
static void fuzz_fail(const char *what);


static authz_key_t   fuzz_keys[2];
static size_t        fuzz_nkeys;
static EVP_PKEY     *fuzz_priv[2];

static volatile unsigned char  fuzz_sink;


/* indexed by FUZZ_MODE_PS256 and FUZZ_MODE_NO_KID */

static const char  *fuzz_headers[] = {
    "{\"alg\":\"RS256\",\"kid\":\"k1\"}",
    "{\"alg\":\"PS256\",\"kid\":\"k1\"}",
    "{\"alg\":\"RS256\"}",
    "{\"alg\":\"PS256\"}"
};


static const authz_str_t  fuzz_issuers[] = {
    FUZZ_STR("https://issuer.example"),
    FUZZ_STR("iss2")
};

static const authz_str_t  fuzz_audiences[] = {
    FUZZ_STR("api"),
    FUZZ_STR("gateway")
};


/* the role table of an authz_role configuration, overlaps on purpose */

static authz_str_t  fuzz_admin_perms[] = {
    FUZZ_STR("*")
};

static authz_str_t  fuzz_editor_perms[] = {
    FUZZ_STR("blog:posts.read"),
    FUZZ_STR("blog:posts.write"),
    FUZZ_STR("blog:posts.read"),
    FUZZ_STR("orders:read:team")
};

static authz_str_t  fuzz_viewer_perms[] = {
    FUZZ_STR("blog:posts.read"),
    FUZZ_STR("orders:*")
};

static const authz_role_t  fuzz_roles[] = {
    { FUZZ_STR("admin"), fuzz_admin_perms, FUZZ_NELTS(fuzz_admin_perms) },
    { FUZZ_STR("editor"), fuzz_editor_perms,
      FUZZ_NELTS(fuzz_editor_perms) },
    { FUZZ_STR("viewer"), fuzz_viewer_perms,
      FUZZ_NELTS(fuzz_viewer_perms) },
    { FUZZ_STR("editor"), fuzz_viewer_perms,
      FUZZ_NELTS(fuzz_viewer_perms) },
    { FUZZ_STR("nobody"), NULL, 0 }
};


/* requirements a location could have, checked against the identity */

static authz_str_t  fuzz_alts[] = {
    FUZZ_STR("blog:posts.read"),
    FUZZ_STR("orders:read:team"),
    FUZZ_STR("admin:all")
};

static const authz_req_t  fuzz_reqs[] = {
    { &fuzz_alts[0], 1, FUZZ_STR("blog:posts.read") },
    { &fuzz_alts[1], 2, FUZZ_STR("orders:read:team|admin:all") }
};

static authz_str_t  fuzz_levels[] = {
    FUZZ_STR("self"),
    FUZZ_STR("team"),
    FUZZ_STR("org")
};

static const authz_scope_t  fuzz_scope = {
    fuzz_levels, FUZZ_NELTS(fuzz_levels), 0
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned  mode;

    fuzz_init();

    if (size == 0) {
        return 0;
    }

    mode = data[0];

    if (mode & FUZZ_MODE_PAYLOAD) {
        fuzz_payload(mode, data + 1, size - 1);

    } else {
        fuzz_token(mode, data + 1, size - 1);
    }

    return 0;
}


static void
fuzz_init(void)
{
    if (fuzz_nkeys != 0) {
        return;
    }

    fuzz_priv[0] = fuzz_key_gen("k1");
    fuzz_priv[1] = fuzz_key_gen(NULL);

    if (fuzz_nkeys != 2) {
        fuzz_fail("key setup");
    }
}


/* a fresh key, loaded through authz_key_load() from its public PEM */

static EVP_PKEY *
fuzz_key_gen(const char *kid)
{
    BIO       *bio;
    long       len;
    char      *pem, err[256];
    EVP_PKEY  *pkey;

    pkey = EVP_RSA_gen(2048);
    if (pkey == NULL) {
        fuzz_fail("EVP_RSA_gen()");
    }

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_PUBKEY(bio, pkey) != 1) {
        fuzz_fail("PEM_write_bio_PUBKEY()");
    }

    len = BIO_get_mem_data(bio, &pem);

    if (authz_key_load((const unsigned char *) pem, (size_t) len, kid,
                       fuzz_keys, &fuzz_nkeys, FUZZ_NELTS(fuzz_keys),
                       err, sizeof(err), NULL, NULL)
        != 0)
    {
        fprintf(stderr, "authz_key_load(): %s\n", err);
        fuzz_fail("authz_key_load()");
    }

    BIO_free(bio);

    return pkey;
}


static void
fuzz_token(unsigned mode, const unsigned char *data, size_t len)
{
    unsigned              nverify;
    authz_err_e           rc, vrc, first, last;
    authz_token_t         tok;
    unsigned char        *scratch;
    const authz_key_t    *kfirst, *klast;
    authz_verify_conf_t   conf;

    fuzz_conf(&conf, mode);

    /* exactly the room the header promises, so that ASan sees overruns */

    scratch = malloc(len ? len : 1);
    if (scratch == NULL) {
        fuzz_fail("malloc()");
    }

    rc = authz_token_decode(&tok, data, len, scratch, &conf);

    if (authz_strerror(rc) == NULL) {
        fuzz_fail("authz_strerror()");
    }

    if (rc != AUTHZ_OK) {
        if (tok.detail == NULL) {
            fuzz_fail("decode error without detail");
        }

        goto done;
    }

    if ((tok.deferred ? tok.payload != NULL
                      : (tok.payload == NULL
                         || !authz_json_is_object(tok.payload)))
        || tok.payload_b64 <= data || tok.payload_b64 >= data + len
        || tok.payload_buf < tok.sig + tok.sig_len
        || tok.alg_name == NULL || (tok.alg & conf.algs) == 0
        || tok.signing_input != data || tok.signing_input_len >= len
        || tok.sig < scratch || tok.sig + tok.sig_len > scratch + len
        || tok.kid_len > AUTHZ_MAX_KID_LEN || tok.kid[tok.kid_len] != '\0'
        || (tok.has_kid && tok.kid_len == 0))
    {
        fuzz_fail("decoded token");
    }

    fuzz_touch(tok.sig, tok.sig_len);
    fuzz_touch((const unsigned char *) tok.alg_name, strlen(tok.alg_name));

    rc = authz_token_check_claims(&tok, &conf, FUZZ_NOW);

    if (authz_strerror(rc) == NULL) {
        fuzz_fail("authz_strerror()");
    }

    if (rc != AUTHZ_OK && tok.detail == NULL) {
        fuzz_fail("claims error without detail");
    }

    if (rc == AUTHZ_OK && conf.require_exp && !tok.has_exp
        && !tok.deferred)
    {
        fuzz_fail("no exp accepted");
    }

    /* a fresh verification, then the key that verified "before" */

    vrc = authz_token_verify(&tok, &conf, NULL);

    if (authz_strerror(vrc) == NULL) {
        fuzz_fail("authz_strerror()");
    }

    if (tok.nverify > AUTHZ_MAX_CANDIDATES) {
        fuzz_fail("more RSA operations than candidates");
    }

    if (vrc == AUTHZ_OK) {
        if (tok.key != &fuzz_keys[0] && tok.key != &fuzz_keys[1]) {
            fuzz_fail("verifying key");
        }

        if (!authz_json_is_object(tok.payload)
            || (conf.require_exp && !tok.has_exp && tok.deferred))
        {
            fuzz_fail("verified token");
        }

        if ((mode & (FUZZ_MODE_SIGNED|FUZZ_MODE_KEY2|FUZZ_MODE_OWN_HDR))
               == FUZZ_MODE_SIGNED
            && tok.key != &fuzz_keys[0])
        {
            fuzz_fail("key 2 verified a key 1 signature");
        }

    } else if (tok.detail == NULL) {
        fuzz_fail("verify error without detail");

    } else if (vrc != AUTHZ_ERR_SIGNATURE
               && !(tok.deferred && fuzz_after_signature(vrc)))
    {
        fuzz_fail("verify error other than a bad signature");

    } else if (vrc == AUTHZ_ERR_SIGNATURE
               && (mode & (FUZZ_MODE_SIGNED|FUZZ_MODE_KEY2|FUZZ_MODE_OWN_HDR))
                  == FUZZ_MODE_SIGNED)
    {
        fuzz_fail("own signature refused");
    }

    tok.key = NULL;
    nverify = tok.nverify;

    if (authz_token_verify(&tok, &conf, fuzz_keys[0].fingerprint)
        == AUTHZ_OK)
    {
        vrc = AUTHZ_OK;

        /*
         * key 1 when it is a candidate (no RSA), or else key 2 by RSA
         * (a kid that no key has: key 2, without kid, is the only one)
         */

        if (tok.key != &fuzz_keys[0]
            && (tok.key != &fuzz_keys[1] || tok.nverify == nverify))
        {
            fuzz_fail("trusted key");
        }
    }

    /*
     * the claims check leaves nothing the identity code relies on: any
     * accepted signature leads there, even of an expired token
     */

    if (vrc == AUTHZ_OK) {
        fuzz_identity(tok.payload, mode);
    }

done:

    authz_token_free(&tok);

    if (tok.payload != NULL) {
        fuzz_fail("authz_token_free()");
    }

    free(scratch);

    /* the payload parsed before the signature, then after it */

    conf.claims_first = (size_t) -1;
    first = fuzz_verdict(data, len, &conf, &kfirst);

    conf.claims_first = 1;
    last = fuzz_verdict(data, len, &conf, &klast);

    if ((first == AUTHZ_OK) != (last == AUTHZ_OK) || kfirst != klast) {
        fprintf(stderr, "parsed first: %s, after the signature: %s\n",
                authz_strerror(first), authz_strerror(last));
        fuzz_fail("the verdict depends on when the payload is parsed");
    }
}


static void
fuzz_conf(authz_verify_conf_t *conf, unsigned mode)
{
    memset(conf, 0, sizeof(authz_verify_conf_t));

    fuzz_set.keys = fuzz_keys;
    fuzz_set.nkeys = fuzz_nkeys;
    conf->sets = &fuzz_set;
    conf->nsets = 1;
    conf->algs = AUTHZ_ALG_RS256|AUTHZ_ALG_PS256;
    conf->max_size = FUZZ_MAX_SIZE;
    conf->leeway = (mode & FUZZ_MODE_LEEWAY) ? 60 : 0;
    conf->require_exp = (mode & FUZZ_MODE_EXP) ? 1 : 0;

    if ((mode & FUZZ_MODE_NO_ISSAUD) == 0) {
        conf->issuers = fuzz_issuers;
        conf->nissuers = FUZZ_NELTS(fuzz_issuers);
        conf->audiences = fuzz_audiences;
        conf->naudiences = FUZZ_NELTS(fuzz_audiences);
    }
}


/* the glue's sequence; the key that verified, or NULL */

static authz_err_e
fuzz_verdict(const unsigned char *data, size_t len,
    const authz_verify_conf_t *conf, const authz_key_t **key)
{
    authz_err_e     rc;
    authz_token_t   tok;
    unsigned char  *scratch;

    scratch = malloc(len ? len : 1);
    if (scratch == NULL) {
        fuzz_fail("malloc()");
    }

    rc = authz_token_decode(&tok, data, len, scratch, conf);

    if (rc == AUTHZ_OK) {
        rc = authz_token_check_claims(&tok, conf, FUZZ_NOW);
    }

    if (rc == AUTHZ_OK) {
        rc = authz_token_verify(&tok, conf, NULL);
    }

    if (tok.nverify > AUTHZ_MAX_CANDIDATES) {
        fuzz_fail("more RSA operations than candidates");
    }

    if (rc != AUTHZ_OK && tok.detail == NULL) {
        fuzz_fail("error without detail");
    }

    *key = (rc == AUTHZ_OK) ? tok.key : NULL;

    authz_token_free(&tok);
    free(scratch);

    return rc;
}


/* what authz_token_verify() may find in a payload parsed after it */

static int
fuzz_after_signature(authz_err_e rc)
{
    switch (rc) {

    case AUTHZ_ERR_MALFORMED:
    case AUTHZ_ERR_EXPIRED:
    case AUTHZ_ERR_NOT_YET_VALID:
    case AUTHZ_ERR_IAT:
    case AUTHZ_ERR_NO_EXP:
    case AUTHZ_ERR_ISSUER:
    case AUTHZ_ERR_AUDIENCE:
    case AUTHZ_ERR_CLAIM:
        return 1;

    default:
        return 0;
    }
}


static void
fuzz_identity(authz_json_t *payload, unsigned mode)
{
    size_t                i, count;
    ptrdiff_t             k;
    const char           *detail;
    authz_err_e           rc, frc;
    fuzz_arena_t          arena;
    authz_identity_t      id;
    const authz_str_t    *names;
    authz_claims_conf_t   conf;

    static const authz_str_t  plain[] = {
        FUZZ_STR("sub"),
        FUZZ_STR("tid"),
        FUZZ_STR("permissions"),
        FUZZ_STR("services"),
        FUZZ_STR("roles")
    };

    static const authz_str_t  dotted[] = {
        FUZZ_STR("sub"),
        FUZZ_STR("/ext/tid"),
        FUZZ_STR("resource_access.api.permissions"),
        FUZZ_STR("ext.services"),
        FUZZ_STR("/realm_access/roles")
    };

    /* several permissions claims, JSON Pointers among them */

    static const authz_str_t  union_claims[] = {
        FUZZ_STR("resource_access.api.permissions"),
        FUZZ_STR("/resource_access/a~1b.c/roles/0"),
        FUZZ_STR("scope"),
        FUZZ_STR("/scp~0")
    };

    names = (mode & FUZZ_MODE_DOTTED) ? dotted : plain;

    memset(&conf, 0, sizeof(authz_claims_conf_t));

    if (mode & FUZZ_MODE_DOTTED) {
        conf.permissions_claims = union_claims;
        conf.npermissions_claims = FUZZ_NELTS(union_claims);
        conf.roles_used = 1;
    }

    conf.sub_claim = names[0];
    conf.tenant_claim = names[1];
    conf.permissions_claim = names[2];
    conf.services_claim = names[3];
    conf.roles_claim = names[4];
    conf.roles = fuzz_roles;
    conf.nroles = FUZZ_NELTS(fuzz_roles);

    memset(&arena, 0, sizeof(fuzz_arena_t));

    detail = NULL;

    rc = authz_identity_get(&id, payload, &conf, fuzz_alloc, &arena,
                            &detail);

    if (rc == AUTHZ_OK) {
        fuzz_identity_check(&id);

        k = authz_reqs_check(fuzz_reqs, FUZZ_NELTS(fuzz_reqs), id.perms,
                             id.nperms, &fuzz_scope);

        if (k < -1 || k >= (ptrdiff_t) FUZZ_NELTS(fuzz_reqs)) {
            fuzz_fail("authz_reqs_check()");
        }

        (void) authz_str_in(id.services, id.nservices,
                            (const unsigned char *) "blog", 4);

    } else if (rc == AUTHZ_ERR_CLAIM) {
        if (detail == NULL) {
            fuzz_fail("claim error without detail");
        }

    } else {
        fuzz_fail("authz_identity_get() result");
    }

    count = arena.count;

    fuzz_arena_free(&arena);

    /* every allocation failure must come back as AUTHZ_ERR_INTERNAL */

    for (i = 1; i <= count; i++) {
        memset(&arena, 0, sizeof(fuzz_arena_t));
        arena.fail_at = i;

        frc = authz_identity_get(&id, payload, &conf, fuzz_alloc, &arena,
                                 &detail);

        if (frc != AUTHZ_ERR_INTERNAL) {
            fprintf(stderr, "allocation %zu of %zu failed: rc %d\n",
                    i, count, (int) frc);
            fuzz_fail("allocation failure not reported");
        }

        fuzz_arena_free(&arena);
    }
}


/* what authz_claims.h promises about a successful identity */

static void
fuzz_identity_check(const authz_identity_t *id)
{
    size_t  i, j;

    if ((id->sub.len && !authz_value_valid(id->sub.data, id->sub.len))
        || (id->tenant.len
            && !authz_value_valid(id->tenant.data, id->tenant.len)))
    {
        fuzz_fail("sub or tenant");
    }

    if (id->nperms > AUTHZ_MAX_PERMISSIONS
        || id->nservices > AUTHZ_MAX_SERVICES
        || (id->nperms && id->perms == NULL)
        || (id->nservices && id->services == NULL)
        || (id->nroles && id->roles == NULL))
    {
        fuzz_fail("identity counts");
    }

    for (i = 0; i < id->nperms; i++) {
        if (!authz_perm_valid(id->perms[i].data, id->perms[i].len)) {
            fuzz_fail("invalid permission");
        }

        for (j = 0; j < i; j++) {
            if (id->perms[i].len == id->perms[j].len
                && memcmp(id->perms[i].data, id->perms[j].data,
                          id->perms[i].len) == 0)
            {
                fuzz_fail("duplicate permission");
            }
        }
    }

    for (i = 0; i < id->nroles; i++) {
        if (!authz_value_valid(id->roles[i].data, id->roles[i].len)) {
            fuzz_fail("invalid role");
        }

        for (j = 0; j < i; j++) {
            if (id->roles[i].len == id->roles[j].len
                && memcmp(id->roles[i].data, id->roles[j].data,
                          id->roles[i].len) == 0)
            {
                fuzz_fail("duplicate role");
            }
        }
    }

    for (i = 0; i < id->nservices; i++) {
        if (!authz_value_valid(id->services[i].data, id->services[i].len)) {
            fuzz_fail("invalid service");
        }
    }
}


/* the data as a payload: header.payload signed with key 1 or 2 */

static void
fuzz_payload(unsigned mode, const unsigned char *data, size_t len)
{
    size_t               hlen, plen, slen, tlen, n;
    authz_json_t        *json;
    unsigned char       *token, *p;
    unsigned char        sig[512];
    const char          *err;
    const unsigned char *hdr, *nul;

    nul = memchr(data, '\0', len);

    if (nul != NULL) {
        mode |= FUZZ_MODE_OWN_HDR;
        hdr = data;
        hlen = nul - data;
        len -= hlen + 1;
        data = nul + 1;

    } else {
        hdr = (const unsigned char *) fuzz_headers[(mode >> 1) & 3];
        hlen = strlen((const char *) hdr);
    }

    n = (hlen + 2) / 3 * 4 + 1 + (len + 2) / 3 * 4 + 1
        + (sizeof(sig) + 2) / 3 * 4;

    p = malloc(n);
    if (p == NULL) {
        fuzz_fail("malloc()");
    }

    token = p;

    p += fuzz_b64url(p, hdr, hlen);
    *p++ = '.';
    p += fuzz_b64url(p, data, len);

    tlen = p - token;

    /* the RSA private operation only for a payload that can pass */

    json = authz_json_parse(data, len, AUTHZ_JSON_MAX_DEPTH, &err);

    if (authz_json_is_object(json)) {
        mode |= FUZZ_MODE_SIGNED;
        slen = fuzz_sign(mode, token, tlen, sig);

    } else {
        memset(sig, 0x5a, 256);
        slen = 256;
    }

    authz_json_free(json);

    *p++ = '.';
    p += fuzz_b64url(p, sig, slen);

    plen = p - token;

    /* an exact-size copy: ASan then sees any read past the token */

    p = malloc(plen);
    if (p == NULL) {
        fuzz_fail("malloc()");
    }

    memcpy(p, token, plen);
    free(token);

    fuzz_token(mode, p, plen);

    free(p);
}


static size_t
fuzz_b64url(unsigned char *dst, const unsigned char *src, size_t len)
{
    size_t          i;
    uint32_t        acc;
    unsigned char  *d;

    static const char  alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    d = dst;

    for (i = 0; i + 2 < len; i += 3) {
        acc = (uint32_t) src[i] << 16 | (uint32_t) src[i + 1] << 8
              | src[i + 2];

        *d++ = alphabet[(acc >> 18) & 0x3f];
        *d++ = alphabet[(acc >> 12) & 0x3f];
        *d++ = alphabet[(acc >> 6) & 0x3f];
        *d++ = alphabet[acc & 0x3f];
    }

    if (len - i == 1) {
        acc = (uint32_t) src[i] << 16;

        *d++ = alphabet[(acc >> 18) & 0x3f];
        *d++ = alphabet[(acc >> 12) & 0x3f];

    } else if (len - i == 2) {
        acc = (uint32_t) src[i] << 16 | (uint32_t) src[i + 1] << 8;

        *d++ = alphabet[(acc >> 18) & 0x3f];
        *d++ = alphabet[(acc >> 12) & 0x3f];
        *d++ = alphabet[(acc >> 6) & 0x3f];
    }

    return d - dst;
}


static size_t
fuzz_sign(unsigned mode, const unsigned char *tbs, size_t len,
    unsigned char *sig)
{
    size_t         slen;
    EVP_PKEY      *pkey;
    EVP_MD_CTX    *md;
    EVP_PKEY_CTX  *pctx;

    pkey = fuzz_priv[(mode & FUZZ_MODE_KEY2) ? 1 : 0];
    slen = 512;

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        fuzz_fail("EVP_MD_CTX_new()");
    }

    if (EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, pkey) != 1) {
        fuzz_fail("EVP_DigestSignInit()");
    }

    if ((mode & FUZZ_MODE_PS256)
        && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST)
               != 1
            || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1))
    {
        fuzz_fail("PSS parameters");
    }

    if (EVP_DigestSign(md, sig, &slen, tbs, len) != 1) {
        fuzz_fail("EVP_DigestSign()");
    }

    EVP_MD_CTX_free(md);

    return slen;
}


/* authz_alloc_pt: exact-size blocks, freed together, optional failure */

static void *
fuzz_alloc(void *data, size_t size)
{
    void          *p, **ptrs;
    size_t         n;
    fuzz_arena_t  *arena;

    arena = data;

    if (++arena->count == arena->fail_at) {
        return NULL;
    }

    if (arena->nptrs == arena->nalloc) {
        n = arena->nalloc ? 2 * arena->nalloc : 8;

        ptrs = realloc(arena->ptrs, n * sizeof(void *));
        if (ptrs == NULL) {
            fuzz_fail("realloc()");
        }

        arena->ptrs = ptrs;
        arena->nalloc = n;
    }

    p = malloc(size ? size : 1);
    if (p == NULL) {
        fuzz_fail("malloc()");
    }

    arena->ptrs[arena->nptrs++] = p;

    return p;
}


static void
fuzz_arena_free(fuzz_arena_t *arena)
{
    size_t  i;

    for (i = 0; i < arena->nptrs; i++) {
        free(arena->ptrs[i]);
    }

    free(arena->ptrs);

    arena->ptrs = NULL;
    arena->nptrs = 0;
    arena->nalloc = 0;
}


/* reads every byte, so that ASan checks the pointers the core returned */

static void
fuzz_touch(const unsigned char *p, size_t len)
{
    size_t         i;
    unsigned char  x;

    x = 0;

    for (i = 0; i < len; i++) {
        x ^= p[i];
    }

    fuzz_sink = x;
}


static void
fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_token: %s\n", what);
    abort();
}


#ifndef AUTHZ_LIBFUZZER
#include "fuzz_replay.h"
#endif /* AUTHZ_LIBFUZZER */
