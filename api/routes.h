/* The routes of the HTTP surface: one table of path patterns, the methods each serves and, per
 * method, its handler, its limits and the query parameters it takes. The router, the Allow header
 * of a 405, the query check and tests/tools/nf-routes (which tests/api/test-openapi.sh compares
 * with api/openapi.yaml) all read the same table, so a new route is one row there. */
#pragma once
#include "api/layer.h"

#include "api/auth.h"

#include <event2/http.h>
#include <stdbool.h>
#include <stddef.h>

struct nf_api;

/* A path pattern is literal bytes and at most one {id} or {any} segment, which holds no '/' ({any}
 * matches a segment of any length and is not handed to the handler). Where more of
 * the path follows it, an {id} must be shorter than NF_ROUTE_ID_MAX bytes or the path names no
 * resource; as the last segment it may be longer, and the handler sees its first NF_ROUTE_ID_MAX
 * bytes (no fault id is that long: the handler's 404 names what it saw). The router's strcmp
 * chain had exactly these bounds; tests/unit/test-routes.c pins them. */
#define NF_ROUTE_ID_MAX 40

/* A handler replies to req once (now, or later for requests that wait). id is the {id} segment,
 * "" on a route without one. */
typedef void nf_route_handler(struct nf_api *api, struct evhttp_request *req, const char *id);

/* Limits of a route's method. */
#define NF_ROUTE_RATE_LIMITED 1u /* counts against --rate-limit (and --rate-limit-global, but DELETE) */
#define NF_ROUTE_ECS_RATE 2u     /* the ECS agent's limit: one request per --ecs-rate-limit s per client and path */

#define NF_ROUTE_MAX_METHODS 3

struct nf_route_method {
        enum evhttp_cmd_type method;
        nf_route_handler *handler;
        unsigned limits; /* NF_ROUTE_* */
        unsigned query;  /* NF_QUERY_* parameters it takes (api/request.h); none by default */
        enum nf_role role; /* who may call it when credentials are asked for; unsaid: write */
};

struct nf_route {
        const char *surface;  /* the API it belongs to: "v1", netfaultd's own (api/openapi.yaml); "ecs", the
                               * ECS agent's fault endpoints (api/ecs_compat.h) */
        const char *pattern;
        bool trailing_slash;  /* pattern + "/" names the same resource */
        /* In the order Allow lists them; the first without a handler ends the list. */
        struct nf_route_method methods[NF_ROUTE_MAX_METHODS];
};

/* The table, and how many rows it has. */
const struct nf_route *nf_routes(size_t *n);
/* The first route (in table order) whose pattern matches path, with its {id} segment copied to id
 * ("" without one); NULL if none does. */
const struct nf_route *nf_route_match(const char *path, char id[NF_ROUTE_ID_MAX + 1]);
/* What route serves for method m, NULL if it does not serve m (a 405). */
const struct nf_route_method *nf_route_method(const struct nf_route *route, enum evhttp_cmd_type m);
/* The methods route serves, as an Allow header lists them ("GET, POST, DELETE"). */
void nf_route_allow(const struct nf_route *route, char *buf, size_t len);
/* "GET", "POST", ... ("?" for a method libevent does not name). */
const char *nf_method_name(enum evhttp_cmd_type m);

/* evhttp's callback for every request it has read (arg: the struct nf_api): the checks every
 * request must pass, then the route's limits, then its handler. */
void nf_route_request(struct evhttp_request *req, void *arg);
