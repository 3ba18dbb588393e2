/* The HTTP server's connections: a cap below the descriptor limit, a deadline per phase of a
 * request, accept() paused when it fails, and a watch for clients that hang up while their
 * request waits (connections.c says why evhttp alone is not enough). */
#pragma once
#include "api/layer.h"

#include <stdint.h>

#include "api/auth.h"

struct nf_api;
struct evhttp_request;

/* What the router learned of the request a connection is serving (evhttp serves one request at
 * a time per connection), for the audit line and the metrics written when its reply leaves. */
struct nf_req_info {
        const char *route;   /* the route's pattern, NULL when none matched */
        int64_t start_us;    /* when the router got it */
        struct nf_caller caller;
};
/* req's, NULL for a connection evhttp made itself (not counted). */
struct nf_req_info *nf_conns_req(struct nf_api *api, struct evhttp_request *req);

/* Once the server listens (api->http and api->listener set), and once it has stopped. */
void nf_conns_start(struct nf_api *api);
void nf_conns_stop(struct nf_api *api);

/* req has been read and routed: its connection's deadline now runs for the reply. */
void nf_conns_dispatched(struct nf_api *api, struct evhttp_request *req);

/* Calls gone(arg) once if the client of req hangs up before req is answered (the connection is
 * then closed and req freed); unwatch before replying. For requests that wait (DNS). */
typedef void (*nf_client_gone_fn)(void *arg);
void nf_api_watch_client(struct nf_api *api, struct evhttp_request *req, nf_client_gone_fn gone, void *arg);
void nf_api_unwatch_client(struct nf_api *api, struct evhttp_request *req);
