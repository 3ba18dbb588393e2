/* One guard probe, run asynchronously on the event loop: a TCP connect, or an HTTP/1.0 request
 * over TCP or TLS (an http probe, or a Prometheus instant query) whose answer is judged against
 * the probe's bounds. Sockets for probes that run "from": "target" are created inside the fault's
 * namespace (netem/netns.h) and used from the loop like any other.
 *
 * Why not libcurl: the daemon's image stays within its size budget (tests/container) and its
 * libraries at those it already has; libevent's bufferevents and OpenSSL filter (already used
 * by the API's TLS listener) carry the connection. The request is HTTP/1.0 with
 * "Connection: close", so an answer is never chunked and ends at Content-Length or EOF. */
#pragma once
#include "core/layer.h"

#include <stdint.h>

#include "core/guard.h"

struct event_base;
struct nf_resolver;

/* Probes in flight in the whole daemon (64 faults x 4 probes fit); more are failed at once. */
#define NF_PROBE_MAX_IN_FLIGHT 512
/* What one answer may make us hold; a longer one is judged on its first bytes (http) or fails
 * (prometheus). */
#define NF_PROBE_MAX_RESPONSE (64 * 1024)

struct nf_probe_ctx;
struct nf_probe_run;

typedef void (*nf_probe_done_fn)(void *arg, const struct nf_probe_result *r);

/* resolver may be NULL: probes naming hosts then fail. */
struct nf_probe_ctx *nf_probe_ctx_new(struct event_base *base, struct nf_resolver *resolver);
/* Runs still waiting for a lookup (cancelled ones) free it when they end (nf_resolver_fini ends them). */
void nf_probe_ctx_free(struct nf_probe_ctx *ctx);
/* Probes run so far, by kind and verdict (metrics). */
uint64_t nf_probe_ctx_count(const struct nf_probe_ctx *ctx, enum nf_probe_kind kind, bool ok);

/* Starts p; done(arg, result) runs once from the event loop, never before this returns. netns_fd
 * is the namespace for "from": "target" (-1: our own). NULL when it cannot start (no memory):
 * done will not run. */
struct nf_probe_run *nf_probe_start(struct nf_probe_ctx *ctx, const struct nf_probe_spec *p, int netns_fd,
                                    nf_probe_done_fn done, void *arg);
/* done will not run; the connection is closed now. */
void nf_probe_cancel(struct nf_probe_run *run);
