/* The ECS agent's fault-injection endpoints, served with the agent's contract (the "ecs" surface of
 * the route table): POST /fault/v1/{network-latency,network-packet-loss,network-blackhole-port}/
 * {start,stop,status}, also under /api/{endpoint id}/. Each fault started here is an ordinary
 * netfaultd fault named "ecs:..." (listed in /v1/faults, journaled, guarded, expiring after
 * --default-duration). Replies are the agent's: {"Status": ...} or {"Error": ...}. */
#pragma once
#include "api/layer.h"

#include "api/routes.h"

void nf_ecs_latency_start(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_ecs_latency_stop(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_ecs_latency_status(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_ecs_loss_start(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_ecs_loss_stop(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_ecs_loss_status(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_ecs_blackhole_start(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_ecs_blackhole_stop(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_ecs_blackhole_status(struct nf_api *api, struct evhttp_request *req, const char *id);

/* The agent's limiter on each of these routes (tollbooth at 0.2 requests/s, burst 1, keyed by
 * client and path): at most one request per --ecs-rate-limit seconds per client and path. Replies
 * 429 with the agent's text body and returns false when over. */
bool nf_ecs_rate_ok(struct nf_api *api, struct evhttp_request *req, const char *path);
/* A method the route does not serve: 405 with an empty body, as gorilla/mux answers. */
void nf_ecs_method_not_allowed(struct evhttp_request *req);
