/* The HTTP server: listening (TCP or Unix socket), request limits, routing, JSON replies. */
#pragma once
#include <stddef.h>

#include "daemon/config.h"
#include "daemon/registry.h"

struct event_base;
struct evhttp_request;
struct cJSON;

#define NF_RATE_BUCKETS 64

struct nf_rate_bucket {
        char client[64];
        double tokens, last;
};

struct nf_api {
        struct event_base *base;
        struct evhttp *http;
        struct nf_registry *reg;
        const struct nf_config *cfg;
        char unix_path[256];
        uint16_t port; /* the TCP port bound (read back, for --listen HOST:0), 0 for unix: */
        struct nf_rate_bucket buckets[NF_RATE_BUCKETS];
};

/* The TCP port of a --listen value, 0 for unix: or an unparsable one. */
uint16_t nf_listen_port(const char *listen);

int nf_api_start(struct nf_api *api, struct event_base *base, struct nf_registry *reg, const struct nf_config *cfg,
                 char *err, size_t errlen);
void nf_api_stop(struct nf_api *api);

/* Replies; both take ownership of body. */
void nf_api_reply(struct evhttp_request *req, int code, struct cJSON *body);
void nf_api_reply_error(struct evhttp_request *req, const struct nf_err *e);

/* Resource handlers (faults_api.c). */
void nf_api_faults_collection(struct nf_api *api, struct evhttp_request *req);
void nf_api_fault_item(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_api_fault_renew(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_api_healthz(struct nf_api *api, struct evhttp_request *req);
void nf_api_capabilities(struct nf_api *api, struct evhttp_request *req);
