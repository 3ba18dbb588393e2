/* The validation ladder for POST /v1/faults: shape, known fields, types, ranges, then the rules
 * that span fields. Every refusal names the field and the value. Nothing here touches the kernel. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/errors.h"
#include "netem/spec.h"

struct cJSON;

#define NF_MAX_JSON_DEPTH 8

struct nf_validate_limits {
        uint32_t max_duration_s;
        uint32_t default_duration_s;
};

/* 0 and a filled spec (free with nf_spec_free), or -1 with e filled (and nothing to free). */
int nf_validate_fault(const struct cJSON *root, const struct nf_validate_limits *lim, struct nf_spec *out,
                      struct nf_err *e);
int nf_json_depth(const struct cJSON *item);

/* The body of a request as exactly one JSON value, refusing what cJSON alone would let through:
 * raw control bytes (a NUL would cut a string short), invalid UTF-8, \u0000, and anything after
 * the value. NULL with e filled (400 invalid_json, naming the byte offset). */
struct cJSON *nf_json_parse_strict(const char *body, size_t len, struct nf_err *e);

/* Query parameters: each route names the ones it takes; anything unknown, repeated, or not an
 * exact boolean is refused (400 invalid_query), so that a typo never falls back to a real apply. */
#define NF_QUERY_DRY_RUN 1u
struct nf_query {
        bool dry_run;
};
int nf_query_parse(const char *query, unsigned allowed, struct nf_query *q, struct nf_err *e);
