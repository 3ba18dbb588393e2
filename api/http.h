/* The HTTP server: listening (TCP or Unix socket), request limits, routing, JSON replies. */
#pragma once
#include "api/layer.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/registry.h"

struct event_base;

/* What the HTTP surface is told at start (the daemon fills it from its command line). */
struct nf_api_options {
        char listen[256];            /* HOST:PORT or unix:PATH */
        uint32_t max_duration_s, default_duration_s;
        uint32_t max_body_bytes;
        uint32_t rate_limit;         /* changing requests per second per client, 0: off */
        uint32_t rate_limit_global;  /* ... from all clients together, 0: off */
        uint32_t max_connections;    /* 0: derived from RLIMIT_NOFILE */
        uint32_t request_timeout_s;
};
struct evhttp_request;
struct cJSON;

#define NF_RATE_BUCKETS 64

struct nf_rate_bucket {
        char client[64];
        double tokens, last;
};

struct nf_conn; /* one accepted connection (http.c) */
struct evconnlistener;
struct event;

struct nf_api {
        struct event_base *base;
        struct evhttp *http;
        struct nf_registry *reg;
        const struct nf_api_options *cfg;
        char unix_path[256];
        dev_t unix_dev; /* the socket file we created, removed on exit only if still ours */
        ino_t unix_ino;
        uint16_t port; /* the TCP port bound (read back, for --listen HOST:0), 0 for unix: */
        struct nf_rate_bucket buckets[NF_RATE_BUCKETS];
        struct nf_rate_bucket global; /* every client's changing requests together */
        /* Connections, in the order they last made progress (oldest first). */
        struct nf_conn *conn_head, *conn_tail;
        size_t n_conns, n_dropping, max_conns, pause_at;
        struct evconnlistener *listener;
        struct event *resume_ev; /* accepting again after a pause */
        bool accept_paused, fd_paused;
        /* Counters for the rate-limited log lines. */
        int64_t conn_log_ms;
        unsigned long dropped_cap, dropped_deadline, accept_errors;
};

/* Calls gone(arg) once if the client of req hangs up before req is answered (the connection is
 * then closed and req freed); unwatch before replying. For requests that wait (DNS). */
typedef void (*nf_client_gone_fn)(void *arg);
void nf_api_watch_client(struct nf_api *api, struct evhttp_request *req, nf_client_gone_fn gone, void *arg);
void nf_api_unwatch_client(struct nf_api *api, struct evhttp_request *req);

/* The TCP port of a --listen value, 0 for unix: or an unparsable one. */
uint16_t nf_listen_port(const char *listen);

int nf_api_start(struct nf_api *api, struct event_base *base, struct nf_registry *reg, const struct nf_api_options *cfg,
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
