/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: permission matching (authz_rules.c), route
 * patterns and the rule table (authz_pattern.c).  Includes only libc.
 */


#ifndef _AUTHZ_RULES_H_INCLUDED_
#define _AUTHZ_RULES_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


typedef struct {
    size_t                len;
    const unsigned char  *data;
} authz_str_t;


/* limits (SPEC §7) */
#define AUTHZ_MAX_PERMISSIONS      4096
#define AUTHZ_MAX_SERVICES         256
#define AUTHZ_MAX_PATTERN_SEGMENTS 64
#define AUTHZ_MAX_PATH_SEGMENTS    256     /* where a location has rules */
#define AUTHZ_MAX_SCOPE_LEVELS     32


/* method bits; AUTHZ_METHOD_ANY is the "*" of a rule */
#define AUTHZ_METHOD_UNKNOWN       0x0000
#define AUTHZ_METHOD_GET           0x0001
#define AUTHZ_METHOD_HEAD          0x0002
#define AUTHZ_METHOD_POST          0x0004
#define AUTHZ_METHOD_PUT           0x0008
#define AUTHZ_METHOD_PATCH         0x0010
#define AUTHZ_METHOD_DELETE        0x0020
#define AUTHZ_METHOD_OPTIONS       0x0040
#define AUTHZ_METHOD_TRACE         0x0080
#define AUTHZ_METHOD_CONNECT       0x0100
#define AUTHZ_METHOD_ANY           0xffffffff


typedef enum {
    AUTHZ_SEG_LITERAL = 0,
    AUTHZ_SEG_STAR,              /* "*": one non-empty segment */
    AUTHZ_SEG_GLOBSTAR,          /* "**": zero or more whole segments */
    AUTHZ_SEG_TENANT,            /* "{tenant}": one segment == tenant */
    AUTHZ_SEG_SUB                /* "{sub}": one segment == sub */
} authz_seg_type_e;


typedef struct {
    authz_seg_type_e      type;
    authz_str_t           literal;  /* AUTHZ_SEG_LITERAL only */

    /* a literal between the first and the last "**" (see below) */
    uint32_t              hash;
    uint64_t              same;     /* its middle bits, on its first copy */
} authz_seg_t;


#define AUTHZ_PATTERN_SLOTS  64


/*
 * A compiled pattern is split at its first and last "**": "head"
 * segments before the first are anchored at the start of a uri, "tail"
 * segments after the last at its end, and the "middle" segments in
 * between (blocks separated by more "**") are searched for in what is
 * left, one bit per middle segment in the masks (bit 0: segs[head + 1]).
 * A pattern without "**" has head == nsegs.  Everything below "prefix"
 * is set by authz_pattern_compile() for the matcher.
 */

typedef struct {
    authz_seg_t          *segs;
    size_t                nsegs;
    unsigned              binds;    /* AUTHZ_BIND_* present in pattern */
    authz_str_t           prefix;   /* the leading literal segments */
    authz_str_t           src;      /* the pattern as written */

    size_t                head;     /* segments before the first "**" */
    size_t                tail;     /* segments after the last "**" */
    size_t                globs;    /* how many "**" */
    uint64_t              wild;     /* middle "*", "{tenant}", "{sub}" */
    uint64_t              tenant;   /* middle "{tenant}" */
    uint64_t              sub;      /* middle "{sub}" */

    /* 1 + index into segs of each distinct middle literal, by its hash */
    unsigned char         slots[AUTHZ_PATTERN_SLOTS];
} authz_pattern_t;


#define AUTHZ_BIND_TENANT  0x01
#define AUTHZ_BIND_SUB     0x02


/* the values the {tenant} and {sub} segments must equal */
typedef struct {
    authz_str_t           tenant;
    authz_str_t           sub;
    int                   tenant_any;  /* token holds the bypass permission */
} authz_bind_t;


/* one requirement: alternatives joined by "|" */
typedef struct {
    authz_str_t          *alts;
    size_t                nalts;
    authz_str_t           text;     /* as written, for scope= and logs */
} authz_req_t;


/* how grants match: scope levels, lowest first; wildcards */
typedef struct {
    authz_str_t          *levels;
    size_t                nlevels;
    int                   nowild;   /* "authz_wildcards off": "*" is plain */
} authz_scope_t;


typedef struct {
    unsigned              methods;
    authz_pattern_t       pattern;
    authz_req_t          *reqs;
    size_t                nreqs;
    int                   public;   /* "public": no requirement */

    /* where the rule was written, for configuration messages */
    authz_str_t           file;
    size_t                line;
} authz_rule_t;


/* the longest permission (SPEC 1) */
#define AUTHZ_MAX_PERMISSION_LEN   256

/*
 * a permission (SPEC 1): one OAuth 2 scope token (RFC 6749 3.3,
 * 0x21-0x7e except '"' and '\\') without ",", 1 to 256 bytes;
 * returns 1 if valid
 */
int authz_perm_valid(const unsigned char *p, size_t len);

/*
 * a required permission: as authz_perm_valid(), without "*",
 * and without empty ":"/"." segments; returns 1 if valid
 */
int authz_perm_required_valid(const unsigned char *p, size_t len);

/* 1 if the granted permission satisfies the required one */
int authz_grant_satisfies(const authz_str_t *grant, const authz_str_t *req,
    const authz_scope_t *scope);

/* 1 if any of grants[0..n) satisfies any alternative of req */
int authz_req_satisfied(const authz_req_t *req, const authz_str_t *grants,
    size_t n, const authz_scope_t *scope);

/*
 * index of the first requirement of reqs[0..n) that is not satisfied,
 * or -1 if all are
 */
ptrdiff_t authz_reqs_check(const authz_req_t *reqs, size_t n,
    const authz_str_t *grants, size_t ngrants, const authz_scope_t *scope);

/*
 * splits "a|b|c" into alternatives; alts must have room for
 * authz_req_count_alts(); each alternative must pass
 * authz_perm_required_valid(); returns 0 or -1 with *err set
 * to a static reason
 */
size_t authz_req_count_alts(const unsigned char *p, size_t len);
int authz_req_parse(authz_req_t *req, const unsigned char *p, size_t len,
    authz_str_t *alts, const char **err);

/* method name (upper case) to bit, 0 if unknown; "*" gives ANY */
unsigned authz_method_bit(const unsigned char *m, size_t len);

/*
 * route patterns (authz_pattern.c, the matcher's design and cost are in
 * docs/rules.md); segs must have room for authz_pattern_count_segs();
 * pattern literals point into src, which must outlive the pattern;
 * returns 0 or -1 with *err set to a static reason
 */
size_t authz_pattern_count_segs(const unsigned char *src, size_t len);
int authz_pattern_compile(authz_pattern_t *pat, const unsigned char *src,
    size_t len, authz_seg_t *segs, const char **err);

/*
 * matches a normalized URI path (starting with "/"); bind == NULL
 * treats {tenant} and {sub} as "*"; otherwise only the bindings in
 * "enforce" (AUTHZ_BIND_*) are checked against bind, the others act as
 * "*"; returns 1 on match.  The cost is bounded in docs/rules.md: at
 * most 128 segments located, plus one step per head and tail segment,
 * plus (with two "**" or more) one step per uri segment between them.
 */
int authz_pattern_match(const authz_pattern_t *pat, const unsigned char *uri,
    size_t len, const authz_bind_t *bind, unsigned enforce);

/*
 * index of the first rule whose methods contain method and whose
 * pattern matches uri (bindings as "*"), or -1; a rule for GET also
 * covers HEAD, as "limit_except GET" does.  The uri is split into
 * segments once for the whole table.
 */
ptrdiff_t authz_rules_find(const authz_rule_t *rules, size_t n,
    unsigned method, const unsigned char *uri, size_t len);

/*
 * the number of segments of a uri (its "/" bytes): the glue refuses a
 * path of more than AUTHZ_MAX_PATH_SEGMENTS where a location has rules,
 * so that a table's work stays within a few times that of a short path
 * whatever shapes its patterns have (docs/rules.md)
 */
size_t authz_path_segments(const unsigned char *uri, size_t len);

/*
 * authz_rules_find() that adds to *steps the segment steps it took:
 * each uri segment located, each pattern segment compared, each uri
 * segment a search went through; for tests and benchmarks
 */
ptrdiff_t authz_rules_find_steps(const authz_rule_t *rules, size_t n,
    unsigned method, const unsigned char *uri, size_t len, size_t *steps);


#endif /* _AUTHZ_RULES_H_INCLUDED_ */
