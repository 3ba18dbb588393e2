/* JSON renderings of faults and capabilities. */
#pragma once
#include <stdbool.h>

#include "daemon/registry.h"

struct cJSON;
struct cJSON *nf_fault_to_json(const struct nf_fault *f, const char *state, const struct nf_counters *counters);
struct cJSON *nf_spec_to_json(const struct nf_spec *s);
struct cJSON *nf_caps_to_json(const struct nf_caps *c);
