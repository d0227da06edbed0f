/*
 * Copyright (C) ngx_http_authz_module authors
 *
 * nginx-free core: the strict JSON reader of the JOSE header and the JWT
 * payload (RFC 8259).  It accepts exactly what jansson 2.14 accepted
 * there (json_loadb() with JSON_REJECT_DUPLICATES after the depth scan
 * of authz_jwt.c), with the same values:
 *
 *   - the top level is an object or an array, with only the four JSON
 *     whitespace characters around it;
 *   - at most max_depth levels of objects and arrays;
 *   - a member name that repeats (after unescaping) fails;
 *   - strings: UTF-8 checked (no overlong form, no surrogate, nothing
 *     above U+10FFFF), no control character below 0x20, \u escapes with
 *     surrogate pairs only in pairs, \u0000 refused;
 *   - a number without '.', 'e' or 'E' is an integer and fails outside
 *     the range of long long; any other is a real (strtod), and fails
 *     when it overflows; no leading zero, '+', '.', "-" alone;
 *   - the literals true, false, null.
 *
 * The result is one block: a tree of authz_json_t nodes in preorder
 * (a container's members follow it, each member followed by its own
 * subtree), with every string decoded and NUL-terminated.  Parsing is
 * one pass without recursion; no input of n bytes costs more than
 * O(n log n) (duplicate names included), and the block is at most
 * about 17 n bytes.
 */


#ifndef _AUTHZ_JSON_H_INCLUDED_
#define _AUTHZ_JSON_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


typedef enum {
    AUTHZ_JSON_OBJECT = 1,
    AUTHZ_JSON_ARRAY,
    AUTHZ_JSON_STRING,
    AUTHZ_JSON_INTEGER,
    AUTHZ_JSON_REAL,
    AUTHZ_JSON_TRUE,
    AUTHZ_JSON_FALSE,
    AUTHZ_JSON_NULL
} authz_json_type_e;


typedef struct authz_json_s  authz_json_t;

struct authz_json_s {
    const char          *key;       /* a member's name, NUL-terminated */
    union {
        const char      *s;         /* string, NUL-terminated */
        long long        i;         /* integer */
        double           d;         /* real */
    } v;
    uint32_t             key_len;
    uint32_t             len;       /* string bytes; members; elements */
    uint32_t             span;      /* nodes of the subtree, itself too */
    uint8_t              type;      /* authz_json_type_e */
    uint8_t              flat;      /* array: every element is a scalar */
};


/*
 * the root node (an object or an array) or NULL: *err is then a static
 * text ("out of memory" when malloc failed); free with authz_json_free()
 */
authz_json_t *authz_json_parse(const unsigned char *p, size_t len,
    int max_depth, const char **err);

/* NULL is accepted */
void authz_json_free(authz_json_t *root);


/* the member of an object, or NULL (also when o is NULL or no object) */
authz_json_t *authz_json_getn(const authz_json_t *o, const char *name,
    size_t len);
authz_json_t *authz_json_get(const authz_json_t *o, const char *name);

/* the element i of an array, or NULL; O(1) for a flat array */
authz_json_t *authz_json_array_get(const authz_json_t *a, size_t i);


/*
 * the value as compact JSON (jansson's json_dumps() with JSON_COMPACT |
 * JSON_ENCODE_ANY, and JSON_ENSURE_ASCII when ascii is 1), byte for
 * byte: reals as "%.17g" with ".0" added when it has neither '.' nor
 * 'e', the exponent without '+' and leading zeros; \uXXXX in upper
 * case.  Writes nothing when buf is NULL; returns the length either
 * way, without a NUL.
 */
size_t authz_json_dump(const authz_json_t *v, int ascii, unsigned char *buf);


#define authz_json_is(j, t)       ((j) != NULL && (j)->type == (t))
#define authz_json_is_object(j)   authz_json_is(j, AUTHZ_JSON_OBJECT)
#define authz_json_is_array(j)    authz_json_is(j, AUTHZ_JSON_ARRAY)
#define authz_json_is_string(j)   authz_json_is(j, AUTHZ_JSON_STRING)
#define authz_json_is_integer(j)  authz_json_is(j, AUTHZ_JSON_INTEGER)
#define authz_json_is_real(j)     authz_json_is(j, AUTHZ_JSON_REAL)
#define authz_json_is_true(j)     authz_json_is(j, AUTHZ_JSON_TRUE)
#define authz_json_is_false(j)    authz_json_is(j, AUTHZ_JSON_FALSE)
#define authz_json_is_null(j)     authz_json_is(j, AUTHZ_JSON_NULL)
#define authz_json_is_number(j)                                              \
    (authz_json_is_integer(j) || authz_json_is_real(j))
#define authz_json_is_boolean(j)                                             \
    (authz_json_is_true(j) || authz_json_is_false(j))

/* a string's bytes and length; "" and 0 for anything else */
#define authz_json_string(j)                                                 \
    (authz_json_is_string(j) ? (j)->v.s : "")
#define authz_json_string_length(j)                                          \
    (authz_json_is_string(j) ? (size_t) (j)->len : 0)

/* members of an object, elements of an array; 0 for anything else */
#define authz_json_object_size(j)                                            \
    (authz_json_is_object(j) ? (size_t) (j)->len : 0)
#define authz_json_array_size(j)                                             \
    (authz_json_is_array(j) ? (size_t) (j)->len : 0)

/* an integer's or a real's value as a double; 0 for anything else */
#define authz_json_number_value(j)                                           \
    (authz_json_is_integer(j) ? (double) (j)->v.i                            \
     : authz_json_is_real(j) ? (j)->v.d : 0.0)

/*
 * for each member e of an object or element e of an array j (none
 * when j is NULL or a scalar), in document order, i counting from 0:
 * e->key and e->key_len are a member's name
 */
#define authz_json_foreach(j, i, e)                                          \
    for ((i) = 0, (e) = ((j) != NULL && (j)->len > 0                         \
                         && ((j)->type == AUTHZ_JSON_OBJECT                  \
                             || (j)->type == AUTHZ_JSON_ARRAY))              \
                        ? (authz_json_t *) (j) + 1 : NULL;                   \
         (e) != NULL && (i) < (j)->len;                                      \
         (i)++, (e) += (e)->span)


#endif /* _AUTHZ_JSON_H_INCLUDED_ */
