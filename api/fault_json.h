/* JSON renderings of faults and capabilities for replies. */
#pragma once
#include "api/layer.h"

#include <stdbool.h>

#include "core/registry.h"

struct cJSON;
struct cJSON *nf_fault_to_json(const struct nf_fault *f, const char *state, const struct nf_counters *counters);
struct cJSON *nf_caps_to_json(const struct nf_caps *c);
/* A fault that went with its namespace: id, state "gone", gone_reason, gone_at, pod_uid. */
struct cJSON *nf_gone_to_json(const struct nf_gone *g);
/* A namespace as faults and pods show it: inode, device, how it was named, its pod. */
struct cJSON *nf_netns_to_json(const struct nf_ns *ns);
