/* What a request must be before a handler reads it: a body that is exactly one JSON value with
 * nothing cJSON alone would let through, and query parameters the route takes. */
#pragma once
#include "api/layer.h"

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

struct cJSON;

/* The body of a request as exactly one JSON value, refusing what cJSON alone would let through:
 * raw control bytes (a NUL would cut a string short), invalid UTF-8, \u0000, and anything after
 * the value. NULL with e filled (400 invalid_json, naming the byte offset). */
struct cJSON *nf_json_parse_strict(const char *body, size_t len, struct nf_err *e);

/* Query parameters: each route names the ones it takes; anything unknown, repeated, or not an
 * exact boolean is refused (400 invalid_query), so that a typo never falls back to a real apply. */
#define NF_QUERY_DRY_RUN 1u
#define NF_QUERY_POD_UID 2u /* a pod uid: lowercase hex and dashes */
#define NF_QUERY_LIMIT 4u   /* a page size: 1..NF_QUERY_LIMIT_MAX */
#define NF_QUERY_AFTER 8u   /* a cursor: the fault id a page continues after */
#define NF_QUERY_LIMIT_MAX 1000
struct nf_query {
        bool dry_run;
        char pod_uid[65]; /* "" when not given */
        unsigned limit;   /* 0 when not given */
        char after[24];   /* "" when not given */
};
int nf_query_parse(const char *query, unsigned allowed, struct nf_query *q, struct nf_err *e);
/* The name of one NF_QUERY_* parameter, NULL for no such bit (for listings of the route table). */
const char *nf_query_name(unsigned bit);
