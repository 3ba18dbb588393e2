/* Where what happens is told to the audit log (audit.c) and the metrics (metrics.c): every
 * reply as it leaves, and every fault event of the core. */
#pragma once
#include "api/layer.h"

#include "core/registry.h"

struct cJSON;
struct evhttp_request;

/* nf_reply_observer for the server (arg: the struct nf_api); installed by nf_api_start. */
void nf_observe_reply(void *arg, struct evhttp_request *req, int code, const struct cJSON *body);
/* nf_fault_event_fn for the registry (arg unused): the daemon installs it before the registry
 * reconciles, so that resumed faults are told too. */
void nf_observe_fault_event(void *arg, const struct nf_fault *f, const struct nf_fault_event_info *ev);
