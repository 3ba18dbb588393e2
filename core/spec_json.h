/* The JSON form of a fault's spec, read and written: the body of POST /v1/faults and the "spec"
 * of a journal record are the same document, so one validator and one renderer serve both (the
 * journal is re-validated on --on-start=resume). The validation ladder: shape, known fields,
 * types, ranges, then the rules that span fields; every refusal names the field and the value.
 * The effects' members are read, checked and rendered by their entries (core/effects_json.c).
 * Nothing here touches the kernel. Also the JSON form of a plan (journal and dry runs). */
#pragma once
#include "core/layer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "netem/plan.h"
#include "netem/spec.h"

struct cJSON;

#define NF_MAX_JSON_DEPTH 8

struct nf_validate_limits {
        uint32_t max_duration_s;
        uint32_t default_duration_s;
};

/* The spec's members other than the effects (those are core/effects_json.h's), NULL-terminated. */
extern const char *const nf_spec_members[];

/* 0 and a filled spec (free with nf_spec_free), or -1 with e filled (and nothing to free). */
int nf_validate_fault(const struct cJSON *root, const struct nf_validate_limits *lim, struct nf_spec *out,
                      struct nf_err *e);
int nf_json_depth(const struct cJSON *item);

/* compact: leave out empty lists and defaults, so that the result validates as a request again
 * (the journal stores it and --on-start=resume re-validates it). */
struct cJSON *nf_spec_to_json(const struct nf_spec *s, bool compact);
struct cJSON *nf_prefixes_to_json(const struct nf_prefix *p, size_t n);
/* The tc objects of a plan; with filters, every filter's keys (dry runs). */
struct cJSON *nf_plan_to_json(const struct nf_plan *p, bool filters);
