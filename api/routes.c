#include "api/routes.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/connections.h"
#include "api/ecs_compat.h"
#include "api/handlers.h"
#include "api/http.h"
#include "api/metrics.h"
#include "api/rate_limit.h"
#include "api/reply.h"
#include "api/request.h"
#include "core/clock.h"

/* Every route of netfaultd's own API. The first pattern that matches a path wins: the collection
 * comes before /v1/faults/{id}, so "/v1/faults/" is the collection, as it always was. */
static const struct nf_route routes[] = {
        {"v1", "/healthz", false, {{EVHTTP_REQ_GET, nf_api_healthz, 0, 0, NF_ROLE_PUBLIC}}},
        {"v1", "/metrics", false, {{EVHTTP_REQ_GET, nf_api_metrics, 0, 0, NF_ROLE_READ}}},
        {"v1", "/v1/capabilities", false, {{EVHTTP_REQ_GET, nf_api_capabilities, 0, 0, NF_ROLE_READ}}},
        {"v1", "/v1/faults", true,
         {{EVHTTP_REQ_GET, nf_api_faults_list, 0, NF_QUERY_POD_UID | NF_QUERY_LIMIT | NF_QUERY_AFTER, NF_ROLE_READ},
          {EVHTTP_REQ_POST, nf_api_fault_create, NF_ROUTE_RATE_LIMITED, NF_QUERY_DRY_RUN, NF_ROLE_WRITE},
          {EVHTTP_REQ_DELETE, nf_api_faults_delete_all, NF_ROUTE_RATE_LIMITED, 0, NF_ROLE_WRITE}}},
        {"v1", "/v1/faults/{id}", false,
         {{EVHTTP_REQ_GET, nf_api_fault_get, 0, 0, NF_ROLE_READ},
          {EVHTTP_REQ_DELETE, nf_api_fault_delete, NF_ROUTE_RATE_LIMITED, 0, NF_ROLE_WRITE}}},
        {"v1", "/v1/faults/{id}/renew", false,
         {{EVHTTP_REQ_POST, nf_api_fault_renew, NF_ROUTE_RATE_LIMITED, 0, NF_ROLE_WRITE}}},
        {"v1", "/v1/pods", false, {{EVHTTP_REQ_GET, nf_api_pods_list, NF_ROUTE_RATE_LIMITED, 0, NF_ROLE_READ}}},
/* The ECS agent's fault endpoints (api/ecs_compat.h), at the root and under the agent's
 * /api/{endpoint id}/, whose id is taken whatever its length and not used. */
#define ECS_ROUTE(prefix, fault, action, handler, role)                                                                \
        {"ecs", prefix "/fault/v1/" fault "/" action, false, {{EVHTTP_REQ_POST, handler, NF_ROUTE_ECS_RATE, 0, role}}}
#define ECS_ROUTES(prefix)                                                                                             \
        ECS_ROUTE(prefix, "network-latency", "start", nf_ecs_latency_start, NF_ROLE_WRITE),                            \
        ECS_ROUTE(prefix, "network-latency", "stop", nf_ecs_latency_stop, NF_ROLE_WRITE),                              \
        ECS_ROUTE(prefix, "network-latency", "status", nf_ecs_latency_status, NF_ROLE_READ),                           \
        ECS_ROUTE(prefix, "network-packet-loss", "start", nf_ecs_loss_start, NF_ROLE_WRITE),                           \
        ECS_ROUTE(prefix, "network-packet-loss", "stop", nf_ecs_loss_stop, NF_ROLE_WRITE),                             \
        ECS_ROUTE(prefix, "network-packet-loss", "status", nf_ecs_loss_status, NF_ROLE_READ),                          \
        ECS_ROUTE(prefix, "network-blackhole-port", "start", nf_ecs_blackhole_start, NF_ROLE_WRITE),                   \
        ECS_ROUTE(prefix, "network-blackhole-port", "stop", nf_ecs_blackhole_stop, NF_ROLE_WRITE),                     \
        ECS_ROUTE(prefix, "network-blackhole-port", "status", nf_ecs_blackhole_status, NF_ROLE_READ)
        ECS_ROUTES(""),
        ECS_ROUTES("/api/{any}"),
};

#define N_ROUTES (sizeof(routes) / sizeof(*routes))
#define ID_SEGMENT "{id}"
#define ANY_SEGMENT "{any}" /* one segment of any length, not handed on */

const struct nf_route *nf_routes(size_t *n) {
        *n = N_ROUTES;
        return routes;
}

const char *nf_method_name(enum evhttp_cmd_type m) {
        switch (m) {
        case EVHTTP_REQ_GET: return "GET";
        case EVHTTP_REQ_POST: return "POST";
        case EVHTTP_REQ_HEAD: return "HEAD";
        case EVHTTP_REQ_PUT: return "PUT";
        case EVHTTP_REQ_DELETE: return "DELETE";
        case EVHTTP_REQ_OPTIONS: return "OPTIONS";
        case EVHTTP_REQ_TRACE: return "TRACE";
        case EVHTTP_REQ_CONNECT: return "CONNECT";
        case EVHTTP_REQ_PATCH: return "PATCH";
        }
        return "?";
}

static bool pattern_match(const struct nf_route *r, const char *path, char id[NF_ROUTE_ID_MAX + 1]) {
        const char *seg = strstr(r->pattern, ID_SEGMENT), *any = seg ? NULL : strstr(r->pattern, ANY_SEGMENT);
        size_t before = seg ? (size_t)(seg - r->pattern) : any ? (size_t)(any - r->pattern) : strlen(r->pattern);

        if (strncmp(path, r->pattern, before) != 0)
                return false;
        path += before;
        if (any)
                return strcmp(path + strcspn(path, "/"), any + strlen(ANY_SEGMENT)) == 0;
        if (!seg)
                return *path == '\0' || (r->trailing_slash && strcmp(path, "/") == 0);
        const char *after = seg + strlen(ID_SEGMENT);
        size_t len = strcspn(path, "/");
        if (strcmp(path + len, after) != 0 || (*after && len >= NF_ROUTE_ID_MAX))
                return false;
        snprintf(id, NF_ROUTE_ID_MAX + 1, "%.*s", (int)len, path);
        return true;
}

const struct nf_route *nf_route_match(const char *path, char id[NF_ROUTE_ID_MAX + 1]) {
        for (size_t i = 0; i < N_ROUTES; i++) {
                id[0] = '\0';
                if (pattern_match(&routes[i], path, id))
                        return &routes[i];
        }
        id[0] = '\0';
        return NULL;
}

const struct nf_route_method *nf_route_method(const struct nf_route *route, enum evhttp_cmd_type m) {
        for (size_t i = 0; i < NF_ROUTE_MAX_METHODS && route->methods[i].handler; i++)
                if (route->methods[i].method == m)
                        return &route->methods[i];
        return NULL;
}

void nf_route_allow(const struct nf_route *route, char *buf, size_t len) {
        size_t at = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < NF_ROUTE_MAX_METHODS && route->methods[i].handler && at < len; i++)
                at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? ", " : "", nf_method_name(route->methods[i].method));
}

static size_t count_headers(struct evhttp_request *req, const char *name) {
        struct evkeyval *kv;
        size_t n = 0;
        for (kv = evhttp_request_get_input_headers(req)->tqh_first; kv; kv = kv->next.tqe_next)
                if (strcasecmp(kv->key, name) == 0)
                        n++;
        return n;
}

/* The methods answered with a 405 where a route does not serve them; any other (TRACE, CONNECT)
 * is a 501 on every path. */
#define KNOWN_METHODS                                                                                                  \
        (EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE | EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD |    \
         EVHTTP_REQ_OPTIONS)

/* What every request must pass before its route's limits and handler: a method we know, framing
 * nobody can read two ways, and a query string that the route takes for this method (rm; NULL for
 * no route or a 405: then none). Replies and returns false otherwise. */
static bool request_ok(struct evhttp_request *req, enum evhttp_cmd_type m, const struct nf_route *route,
                       const struct nf_route_method *rm) {
        struct nf_query q;
        struct nf_err e;
        size_t cl = count_headers(req, "Content-Length"), te = count_headers(req, "Transfer-Encoding");
        if (!(m & KNOWN_METHODS)) {
                /* CONNECT replies carry no framing for a body in libevent: end the connection. */
                evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
                nf_fail(&e, NF_ERR_NOT_IMPLEMENTED, "not_implemented", NULL, "the method is not implemented: netfaultd serves GET, POST and DELETE");
                nf_api_reply_error(req, &e);
                return false;
        }
        /* Two Content-Length headers, or one beside Transfer-Encoding, can be read two ways by a
         * proxy and by us (request smuggling): refuse, and close, since the body's end is unsure. */
        if (cl > 1 || te > 1 || (cl && te)) {
                evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
                if (cl > 1)
                        nf_fail(&e, NF_ERR_INVALID, "bad_request", NULL, "the request has %zu Content-Length headers; send one", cl);
                else if (te > 1)
                        nf_fail(&e, NF_ERR_INVALID, "bad_request", NULL, "the request has %zu Transfer-Encoding headers; send one", te);
                else
                        nf_fail(&e, NF_ERR_INVALID, "bad_request", NULL,
                                "the request has both Content-Length and Transfer-Encoding; send only one of them");
                nf_api_reply_error(req, &e);
                return false;
        }
        /* The agent ignores query strings: so do its routes here. */
        if (route && strcmp(route->surface, "ecs") == 0)
                return true;
        if (nf_query_parse(evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)), rm ? rm->query : 0, &q, &e) < 0) {
                nf_api_reply_error(req, &e);
                return false;
        }
        return true;
}

static void method_not_allowed(struct evhttp_request *req, const struct nf_route *route, const char *path) {
        struct nf_err e;
        char allow[64];
        nf_route_allow(route, allow, sizeof(allow));
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
        if (strcmp(route->surface, "ecs") == 0)
                return nf_ecs_method_not_allowed(req);
        nf_fail(&e, NF_ERR_METHOD, "method_not_allowed", NULL, "%s allows %s", path, allow);
        nf_api_reply_error(req, &e);
}

void nf_route_request(struct evhttp_request *req, void *arg) {
        struct nf_api *api = arg;
        const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
        enum evhttp_cmd_type m = evhttp_request_get_command(req);
        char id[NF_ROUTE_ID_MAX + 1];
        struct nf_err e;

        nf_conns_dispatched(api, req);
        if (!path)
                path = "/";
        const struct nf_route *route = nf_route_match(path, id);
        const struct nf_route_method *rm = route ? nf_route_method(route, m) : NULL;
        struct nf_req_info *info = nf_conns_req(api, req);
        if (info) {
                *info = (struct nf_req_info){.route = route ? route->pattern : NULL, .start_us = nf_now_monotonic_us()};
                nf_auth_caller_address(api, req, &info->caller);
        }
        if (!request_ok(req, m, route, rm))
                return;
        if (!route) {
                nf_fail(&e, NF_ERR_NOT_FOUND, "not_found", NULL, "no such resource: %.200s", path);
                return nf_api_reply_error(req, &e);
        }
        if (!rm)
                return method_not_allowed(req, route, path);
        /* Into the connection's record first: a refusal's reply (and its audit line) names the caller. */
        struct nf_caller *who = info ? &info->caller : &api->caller;
        bool allowed = nf_auth_request(api, req, rm->role, who);
        api->caller = *who;
        if (!allowed)
                return;
        if ((rm->limits & NF_ROUTE_RATE_LIMITED) && !nf_rate_ok(api, req))
                return;
        if ((rm->limits & NF_ROUTE_ECS_RATE) && !nf_ecs_rate_ok(api, req, path))
                return;
        rm->handler(api, req, id);
}
