/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: the revocation table.  The document is read by
 * authz_revocation_read() (authz_revocation_json.c), not by jansson: a
 * 1,000,000-entry list as json_t objects costs about 160 MB and seconds
 * to build (docs/performance.md).  Entries go as records into one
 * arena; an open addressing index of (hash tag, offset) pairs, at most
 * half full, finds one in O(1).
 */


#include <stdlib.h>
#include <string.h>

#include "authz_revocation.h"


/* a record: kind (1 byte), key length (2, little endian), time (8), key */
#define AUTHZ_RV_HEADER      11

/* a kind that is no longer in use: a duplicate merged into the first */
#define AUTHZ_RV_DEAD        0

#define AUTHZ_RV_BATCH       16

#if (defined __GNUC__ || defined __clang__)
#define authz_rv_prefetch(p)  __builtin_prefetch(p, 1)
#else
#define authz_rv_prefetch(p)
#endif



struct authz_revocation_s {
    unsigned char             *arena;       /* records, in document order */
    size_t                     arena_len;
    size_t                     arena_cap;
    size_t                     nrecords;
    uint64_t                  *slots;       /* tag << 32 | offset + 1 */
    size_t                     mask;
    size_t                     entries[AUTHZ_REVOKED_KINDS];
    size_t                     pruned;
    double                     generated_at;
    double                     iat_before;
    unsigned                   members;     /* AUTHZ_REVOCATION_HAS_* */
    unsigned char              seed[AUTHZ_REVOKED_KINDS][16];
};


static int authz_rv_add(void *data, authz_revoked_e kind,
    const unsigned char *key, size_t len, double t);
static int authz_rv_reserve(authz_revocation_t *rv, size_t n);
static int authz_rv_build(authz_revocation_t *rv, double prune_before);
static int authz_rv_index(authz_revocation_t *rv);
static size_t authz_rv_insert_all(authz_revocation_t *rv);
static size_t authz_rv_insert(authz_revocation_t *rv, size_t off,
    uint64_t h);
static const unsigned char *authz_rv_find(const authz_revocation_t *rv,
    authz_revoked_e kind, const unsigned char *key, size_t len);
static size_t authz_rv_key_len(const unsigned char *rec);
static double authz_rv_time(const unsigned char *rec);
static void authz_rv_set_time(unsigned char *rec, double t);


authz_revocation_t *
authz_revocation_parse(const unsigned char *data, size_t len,
    double prune_before, const unsigned char *seed,
    authz_revocation_error_t *err)
{
    int                         k;
    authz_revocation_t         *rv;
    authz_revocation_reader_t   rd;

    rv = calloc(1, sizeof(authz_revocation_t));
    if (rv == NULL) {
        memset(err, 0, sizeof(authz_revocation_error_t));
        err->text = "not enough memory";
        return NULL;
    }

    for (k = 0; k < AUTHZ_REVOKED_KINDS; k++) {
        memcpy(rv->seed[k], seed, 16);
        rv->seed[k][0] ^= (unsigned char) k;
    }

    rd.entry = authz_rv_add;
    rd.data = rv;

    /*
     * a record is rarely longer than its entry in the document: an arena
     * of the document's size is only touched as far as it is filled
     */

    if (authz_rv_reserve(rv, len + AUTHZ_RV_HEADER
                             + AUTHZ_REVOCATION_MAX_STRING)
        != 0)
    {
        memset(err, 0, sizeof(authz_revocation_error_t));
        goto failed;
    }

    if (authz_revocation_read(data, len, &rd, err) != 0
        || authz_rv_build(rv, prune_before) != 0)
    {
        goto failed;
    }

    rv->generated_at = rd.generated_at;
    rv->iat_before = rd.iat_before;
    rv->members = rd.members;

    return rv;

failed:

    if (err->text == NULL) {
        err->text = "not enough memory";
    }

    authz_revocation_free(rv);

    return NULL;
}


void
authz_revocation_free(authz_revocation_t *rv)
{
    if (rv == NULL) {
        return;
    }

    free(rv->arena);
    free(rv->slots);
    free(rv);
}


authz_revoked_e
authz_revocation_check(const authz_revocation_t *rv,
    const authz_revocation_token_t *tok)
{
    double                t, latest;
    authz_revoked_e       kind;
    const unsigned char  *rec;

    if (tok->has_jti
        && authz_rv_find(rv, AUTHZ_REVOKED_JTI, tok->jti.data, tok->jti.len)
           != NULL)
    {
        return AUTHZ_REVOKED_JTI;
    }

    /* of the time rules that apply, the latest T wins */

    kind = AUTHZ_REVOKED_NONE;
    latest = 0;

    if (tok->sub.len != 0) {
        rec = authz_rv_find(rv, AUTHZ_REVOKED_SUB, tok->sub.data,
                            tok->sub.len);
        if (rec != NULL) {
            kind = AUTHZ_REVOKED_SUB;
            latest = authz_rv_time(rec);
        }
    }

    if (tok->tenant.len != 0) {
        rec = authz_rv_find(rv, AUTHZ_REVOKED_TENANT, tok->tenant.data,
                            tok->tenant.len);
        if (rec != NULL) {
            t = authz_rv_time(rec);

            if (kind == AUTHZ_REVOKED_NONE || t > latest) {
                kind = AUTHZ_REVOKED_TENANT;
                latest = t;
            }
        }
    }

    if (rv->iat_before > 0
        && (kind == AUTHZ_REVOKED_NONE || rv->iat_before > latest))
    {
        kind = AUTHZ_REVOKED_IAT_BEFORE;
        latest = rv->iat_before;
    }

    if (kind == AUTHZ_REVOKED_NONE) {
        return AUTHZ_REVOKED_NONE;
    }

    /* no iat: issued at an unknown time, so possibly before T */

    if (!tok->has_iat || tok->iat < latest) {
        return kind;
    }

    return AUTHZ_REVOKED_NONE;
}


void
authz_revocation_info(const authz_revocation_t *rv,
    authz_revocation_info_t *info)
{
    memset(info, 0, sizeof(authz_revocation_info_t));

    memcpy(info->entries, rv->entries, sizeof(rv->entries));
    info->entries[AUTHZ_REVOKED_IAT_BEFORE] = (rv->iat_before > 0);
    info->pruned = rv->pruned;
    info->memory = sizeof(authz_revocation_t) + rv->arena_cap
                   + (rv->mask + 1) * sizeof(uint64_t);
    info->generated_at = rv->generated_at;
    info->iat_before = rv->iat_before;
    info->has_generated_at =
                      (rv->members & AUTHZ_REVOCATION_HAS_GENERATED_AT) != 0;
}


const char *
authz_revoked_name(authz_revoked_e kind)
{
    switch (kind) {

    case AUTHZ_REVOKED_JTI:
        return "jti";

    case AUTHZ_REVOKED_SUB:
        return "sub";

    case AUTHZ_REVOKED_TENANT:
        return "tenant";

    case AUTHZ_REVOKED_IAT_BEFORE:
        return "iat_before";

    case AUTHZ_REVOKED_NONE:
        break;
    }

    return "none";
}


/* an entry of the document: a record at the end of the arena */

static int
authz_rv_add(void *data, authz_revoked_e kind, const unsigned char *key,
    size_t len, double t)
{
    authz_revocation_t *rv = data;

    unsigned char  *rec;

    if (authz_rv_reserve(rv, AUTHZ_RV_HEADER + len) != 0) {
        return -1;
    }

    rec = rv->arena + rv->arena_len;

    rec[0] = (unsigned char) kind;
    rec[1] = (unsigned char) (len & 0xff);
    rec[2] = (unsigned char) (len >> 8);
    authz_rv_set_time(rec, t);
    memcpy(rec + AUTHZ_RV_HEADER, key, len);

    rv->arena_len += AUTHZ_RV_HEADER + len;
    rv->nrecords++;

    return 0;
}


/* room for n more bytes in the arena */

static int
authz_rv_reserve(authz_revocation_t *rv, size_t n)
{
    size_t          cap;
    unsigned char  *a;

    if (rv->arena_cap - rv->arena_len >= n) {
        return 0;
    }

    cap = rv->arena_cap ? rv->arena_cap : 4096;

    while (cap - rv->arena_len < n) {
        cap *= 2;
    }

    a = realloc(rv->arena, cap);
    if (a == NULL) {
        return -1;
    }

    rv->arena = a;
    rv->arena_cap = cap;

    return 0;
}


/*
 * the index, after the parse: a key listed twice under one kind keeps
 * its latest time (the safe reading of a list appended to carelessly),
 * then jti entries past their exp are dropped and the arena compacted
 */

static int
authz_rv_build(authz_revocation_t *rv, double prune_before)
{
    size_t          off, w, size, drop;
    unsigned char  *rec;

    if (authz_rv_index(rv) != 0) {
        return -1;
    }

    drop = authz_rv_insert_all(rv);

    for (off = 0; off < rv->arena_len; off += size) {
        rec = rv->arena + off;
        size = AUTHZ_RV_HEADER + authz_rv_key_len(rec);

        if (rec[0] == AUTHZ_REVOKED_JTI && authz_rv_time(rec) < prune_before) {
            rec[0] = AUTHZ_RV_DEAD;
            rv->pruned++;
            drop++;
        }
    }

    if (drop != 0) {
        w = 0;

        for (off = 0; off < rv->arena_len; off += size) {
            rec = rv->arena + off;
            size = AUTHZ_RV_HEADER + authz_rv_key_len(rec);

            if (rec[0] != AUTHZ_RV_DEAD) {
                memmove(rv->arena + w, rec, size);
                w += size;
            }
        }

        rv->arena_len = w;
        rv->nrecords -= drop;

        if (authz_rv_index(rv) != 0) {
            return -1;
        }

        (void) authz_rv_insert_all(rv);
    }

    for (off = 0; off < rv->arena_len; off += size) {
        rec = rv->arena + off;
        size = AUTHZ_RV_HEADER + authz_rv_key_len(rec);
        rv->entries[rec[0]]++;
    }

    /* what the document needed beyond its records goes back */

    if (rv->arena_len != 0 && rv->arena_len < rv->arena_cap) {
        rec = realloc(rv->arena, rv->arena_len);

        if (rec != NULL) {
            rv->arena = rec;
            rv->arena_cap = rv->arena_len;
        }
    }

    return 0;
}


/* an empty index for rv->nrecords entries, at most half full */

static int
authz_rv_index(authz_revocation_t *rv)
{
    size_t  n;

    n = 16;

    while (n < 2 * rv->nrecords) {
        n *= 2;
    }

    free(rv->slots);

    rv->slots = calloc(n, sizeof(uint64_t));
    if (rv->slots == NULL) {
        return -1;
    }

    rv->mask = n - 1;

    return 0;
}


/*
 * every record into the index, in batches: the hashes of a batch first,
 * each prefetching the slot it starts at, then the inserts (a large
 * index is otherwise mostly waiting for memory: 3 times slower); a
 * repeated key is merged into its first record and marked dead;
 * returns the number of records marked
 */

static size_t
authz_rv_insert_all(authz_revocation_t *rv)
{
    size_t          off, next, first, i, n, dead;
    size_t          offs[AUTHZ_RV_BATCH];
    uint64_t        hash[AUTHZ_RV_BATCH];
    unsigned char  *rec, *dup;

    dead = 0;

    for (next = 0; next < rv->arena_len; /* void */ ) {

        for (n = 0; n < AUTHZ_RV_BATCH && next < rv->arena_len; n++) {
            rec = rv->arena + next;

            offs[n] = next;
            hash[n] = authz_siphash(rv->seed[rec[0]], rec + AUTHZ_RV_HEADER,
                                    authz_rv_key_len(rec));
            authz_rv_prefetch(&rv->slots[hash[n] & rv->mask]);

            next += AUTHZ_RV_HEADER + authz_rv_key_len(rec);
        }

        for (i = 0; i < n; i++) {
            off = offs[i];
            first = authz_rv_insert(rv, off, hash[i]);

            if (first == off) {
                continue;
            }

            rec = rv->arena + off;
            dup = rv->arena + first;

            if (authz_rv_time(rec) > authz_rv_time(dup)) {
                authz_rv_set_time(dup, authz_rv_time(rec));
            }

            rec[0] = AUTHZ_RV_DEAD;
            dead++;
        }
    }

    return dead;
}


/* the offset of the record with the same kind and key, or off if new */

static size_t
authz_rv_insert(authz_revocation_t *rv, size_t off, uint64_t h)
{
    size_t          i, len, other;
    uint64_t        tag;
    unsigned char  *rec, *o;

    rec = rv->arena + off;
    len = authz_rv_key_len(rec);
    tag = h >> 32;

    for (i = h & rv->mask; rv->slots[i] != 0; i = (i + 1) & rv->mask) {
        if ((rv->slots[i] >> 32) != tag) {
            continue;
        }

        other = (size_t) (rv->slots[i] & 0xffffffff) - 1;
        o = rv->arena + other;

        if (o[0] == rec[0] && authz_rv_key_len(o) == len
            && memcmp(o + AUTHZ_RV_HEADER, rec + AUTHZ_RV_HEADER, len) == 0)
        {
            return other;
        }
    }

    rv->slots[i] = (tag << 32) | (uint64_t) (off + 1);

    return off;
}


static const unsigned char *
authz_rv_find(const authz_revocation_t *rv, authz_revoked_e kind,
    const unsigned char *key, size_t len)
{
    size_t                i;
    uint64_t              h, tag;
    const unsigned char  *rec;

    if (rv->entries[kind] == 0 || len > AUTHZ_REVOCATION_MAX_STRING) {
        return NULL;
    }

    h = authz_siphash(rv->seed[kind], key, len);
    tag = h >> 32;

    for (i = h & rv->mask; rv->slots[i] != 0; i = (i + 1) & rv->mask) {
        if ((rv->slots[i] >> 32) != tag) {
            continue;
        }

        rec = rv->arena + (size_t) (rv->slots[i] & 0xffffffff) - 1;

        if (rec[0] == (unsigned char) kind && authz_rv_key_len(rec) == len
            && memcmp(rec + AUTHZ_RV_HEADER, key, len) == 0)
        {
            return rec;
        }
    }

    return NULL;
}


static size_t
authz_rv_key_len(const unsigned char *rec)
{
    return (size_t) rec[1] | ((size_t) rec[2] << 8);
}


static double
authz_rv_time(const unsigned char *rec)
{
    double  t;

    memcpy(&t, rec + 3, sizeof(double));

    return t;
}


static void
authz_rv_set_time(unsigned char *rec, double t)
{
    memcpy(rec + 3, &t, sizeof(double));
}


/* SipHash-2-4 (Aumasson, Bernstein), little endian words */

#define AUTHZ_ROTL(x, b)  (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))

#define AUTHZ_SIPROUND                                                       \
    v0 += v1; v1 = AUTHZ_ROTL(v1, 13); v1 ^= v0; v0 = AUTHZ_ROTL(v0, 32);    \
    v2 += v3; v3 = AUTHZ_ROTL(v3, 16); v3 ^= v2;                             \
    v0 += v3; v3 = AUTHZ_ROTL(v3, 21); v3 ^= v0;                             \
    v2 += v1; v1 = AUTHZ_ROTL(v1, 17); v1 ^= v2; v2 = AUTHZ_ROTL(v2, 32)


static uint64_t
authz_le64(const unsigned char *p)
{
    return (uint64_t) p[0] | (uint64_t) p[1] << 8 | (uint64_t) p[2] << 16
           | (uint64_t) p[3] << 24 | (uint64_t) p[4] << 32
           | (uint64_t) p[5] << 40 | (uint64_t) p[6] << 48
           | (uint64_t) p[7] << 56;
}


uint64_t
authz_siphash(const unsigned char *key, const unsigned char *p, size_t len)
{
    uint64_t              k0, k1, v0, v1, v2, v3, m, b;
    const unsigned char  *end;

    k0 = authz_le64(key);
    k1 = authz_le64(key + 8);

    v0 = k0 ^ 0x736f6d6570736575ULL;
    v1 = k1 ^ 0x646f72616e646f6dULL;
    v2 = k0 ^ 0x6c7967656e657261ULL;
    v3 = k1 ^ 0x7465646279746573ULL;

    end = p + (len - len % 8);

    for ( /* void */ ; p != end; p += 8) {
        m = authz_le64(p);
        v3 ^= m;
        AUTHZ_SIPROUND;
        AUTHZ_SIPROUND;
        v0 ^= m;
    }

    b = (uint64_t) len << 56;

    switch (len & 7) {
    case 7:
        b |= (uint64_t) p[6] << 48;
        /* fall through */
    case 6:
        b |= (uint64_t) p[5] << 40;
        /* fall through */
    case 5:
        b |= (uint64_t) p[4] << 32;
        /* fall through */
    case 4:
        b |= (uint64_t) p[3] << 24;
        /* fall through */
    case 3:
        b |= (uint64_t) p[2] << 16;
        /* fall through */
    case 2:
        b |= (uint64_t) p[1] << 8;
        /* fall through */
    case 1:
        b |= (uint64_t) p[0];
        break;
    }

    v3 ^= b;
    AUTHZ_SIPROUND;
    AUTHZ_SIPROUND;
    v0 ^= b;

    v2 ^= 0xff;
    AUTHZ_SIPROUND;
    AUTHZ_SIPROUND;
    AUTHZ_SIPROUND;
    AUTHZ_SIPROUND;

    return v0 ^ v1 ^ v2 ^ v3;
}
