/* The HTTP server: listening on TCP or a Unix socket, libevent's own request limits, and the
 * state the surface keeps (struct nf_api). Requests go to the router (routes.c), connections
 * are kept by connections.c, replies leave through reply.c. */
#pragma once
#include "api/layer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "api/auth.h"
#include "api/rate_limit.h"
#include "core/registry.h"

struct event_base;

/* --listen, read once (by the daemon's flag parser): HOST:PORT, [IPV6]:PORT or unix:PATH. */
struct nf_listen_addr {
        bool is_unix;
        char host[256]; /* or the socket's path; an IPv6 host without its brackets */
        uint16_t port;  /* 0: any free port (TCP) */
};
/* 0, or -EINVAL with err naming the value and what is wrong with it. */
int nf_listen_parse(const char *s, struct nf_listen_addr *out, char *err, size_t errlen);
/* HOST:PORT ([IPV6]:PORT) with the port given, or unix:PATH, into buf. */
const char *nf_listen_format(const struct nf_listen_addr *la, uint16_t port, char *buf, size_t len);

/* What the HTTP surface is told at start (the daemon fills it from its command line). */
struct nf_api_options {
        struct nf_listen_addr listen;
        uint32_t max_duration_s, default_duration_s;
        uint32_t max_body_bytes;
        uint32_t rate_limit;         /* changing requests per second per client, 0: off */
        uint32_t rate_limit_global;  /* ... from all clients together, 0: off */
        uint32_t ecs_rate_limit_s;   /* seconds between requests to one ECS fault route per client, 0: off */
        uint32_t max_connections;    /* 0: derived from RLIMIT_NOFILE */
        uint32_t request_timeout_s;
        /* Who may call (api/auth.h, api/tls.h); "" for none. */
        const char *auth_token_file;
        const char *allowed_hosts;   /* comma-separated Host names a loopback listener also serves */
        const char *tls_cert, *tls_key, *tls_client_ca;
};
struct nf_conn; /* one accepted connection (connections.c) */
struct ssl_ctx_st;
struct evconnlistener;
struct event;

struct delete_all;
struct nf_api {
        struct event_base *base;
        struct evhttp *http;
        struct nf_registry *reg;
        const struct nf_api_options *cfg;
        char unix_path[256];
        dev_t unix_dev; /* the socket file we created, removed on exit only if still ours */
        ino_t unix_ino;
        uint16_t port; /* the TCP port bound (read back, for --listen HOST:0), 0 for unix: */
        /* Callers (auth.c, tls.c). */
        struct nf_tokens *tokens;  /* NULL without --auth-token-file */
        struct ssl_ctx_st *tls;    /* NULL without --tls-cert */
        bool loopback;             /* a TCP listener on a loopback address: Host is checked */
        struct nf_caller caller;   /* of the request whose handler runs now */
        /* Rate limits (rate_limit.c). */
        struct nf_rate_bucket buckets[NF_RATE_BUCKETS];
        struct nf_rate_bucket global; /* every client's changing requests together */
        /* Connections (connections.c), in the order they last made progress (oldest first). */
        struct nf_conn *conn_head, *conn_tail;
        size_t n_conns, n_dropping, max_conns, pause_at;
        struct evconnlistener *listener;
        struct event *resume_ev; /* accepting again after a pause */
        struct delete_all *deletes; /* DELETE /v1/faults still reverting (faults_api.c) */
        bool accept_paused, fd_paused;
        /* Counters for the rate-limited log lines. */
        int64_t conn_log_ms;
        unsigned long dropped_cap, dropped_deadline, accept_errors;
};


/* -EINVAL (err naming it) when a token file or certificate does not load; another negative
 * errno when the listener cannot be made. */
int nf_api_start(struct nf_api *api, struct event_base *base, struct nf_registry *reg, const struct nf_api_options *cfg,
                 char *err, size_t errlen);
/* Frees the DELETE /v1/faults still reverting, unanswered (at shutdown; faults_api.c). */
void nf_api_deletes_stop(struct nf_api *api);
void nf_api_stop(struct nf_api *api);
