/* GET /metrics in the Prometheus text exposition format (0.0.4): what the daemon counts itself
 * (requests by route and status, faults created and reverted by reason, apply and revert
 * durations, DNS re-resolutions, journal write errors) and, per active fault, the kernel's own
 * packet, byte and drop counters, read at most once per NF_METRICS_CACHE_MS for all faults
 * together, so that a scrape costs bounded netlink work however often it comes. */
#pragma once
#include "api/layer.h"

#include "core/registry.h"

#define NF_METRICS_CACHE_MS 1000

struct nf_api;
struct evhttp_request;

void nf_metrics_request(const char *route, const char *method, int code);
void nf_metrics_fault_event(const struct nf_fault *f, const struct nf_fault_event_info *ev);
/* The route's handler (routes.c). */
void nf_api_metrics(struct nf_api *api, struct evhttp_request *req, const char *id);
