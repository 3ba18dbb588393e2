/* JSON renderings of faults and capabilities. */
#pragma once
#include <stdbool.h>

#include "daemon/registry.h"

struct cJSON;
struct cJSON *nf_fault_to_json(const struct nf_fault *f, const char *state, const struct nf_counters *counters);
/* compact: leave out empty lists and defaults, so that the result validates as a request again
 * (the journal stores it and --on-start=resume re-validates it). */
struct cJSON *nf_spec_to_json(const struct nf_spec *s, bool compact);
/* The tc objects of a plan; with filters, every filter's keys (dry runs). */
struct cJSON *nf_plan_to_json(const struct nf_plan *p, bool filters);
struct cJSON *nf_caps_to_json(const struct nf_caps *c);
