/* The validation ladder for POST /v1/faults: shape, known fields, types, ranges, then the rules
 * that span fields. Every refusal names the field and the value. Nothing here touches the kernel. */
#pragma once
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
