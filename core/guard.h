/* Steady-state guards (issue 16): a fault may carry probes (http, tcp, prometheus) that the
 * daemon runs every interval_ms while the fault lives; after failures_to_abort consecutive
 * failed rounds the fault (or every fault of its namespace, scope "all") is reverted and
 * remembered as "aborted", with the probe that failed and its last results. The guard sits at
 * the injection point, so it acts even when the fault cut the orchestrator off.
 *
 * The guard's settings travel with the fault's spec (a flat allocation the spec points to, so
 * the journal and --on-start=resume keep them); its running state is the fault's (f->guard). The
 * probes themselves are probe.h's. */
#pragma once
#include "core/layer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct cJSON;
struct nf_fault;
struct nf_registry;

/* Limits on what one fault's guard may make us do. With 4 probes at the 100 ms minimum, a fault
 * costs at most 40 connections a second; the daemon's total in flight is capped in probe.c. */
#define NF_GUARD_MAX_PROBES 4
#define NF_GUARD_MIN_INTERVAL_MS 100
#define NF_GUARD_MAX_INTERVAL_MS 3600000
#define NF_GUARD_MAX_FAILURES 100
#define NF_GUARD_HISTORY 8 /* results kept per probe for GET /v1/faults/{id} */
#define NF_PROBE_MAX_EXPECT 8
#define NF_PROBE_URL_LEN 512
#define NF_PROBE_HOST_LEN 256
#define NF_PROBE_QUERY_LEN 512
#define NF_PROBE_CONTAINS_LEN 128

enum nf_probe_kind { NF_PROBE_HTTP, NF_PROBE_TCP, NF_PROBE_PROMETHEUS, NF_PROBE_KIND_COUNT };

/* An http(s) URL split for a request; path holds the query string too. */
struct nf_url {
        bool tls;
        char host[NF_PROBE_HOST_LEN]; /* a name or an address literal, without brackets */
        uint16_t port;
        char path[NF_PROBE_URL_LEN];
};

struct nf_status_range {
        uint16_t lo, hi;
};

struct nf_probe_spec {
        enum nf_probe_kind kind;
        bool from_target;         /* run inside the fault's namespace, not the daemon's */
        uint32_t timeout_ms;
        /* http and prometheus */
        char url_text[NF_PROBE_URL_LEN]; /* as given, for rendering */
        struct nf_url url;
        bool tls_insecure;        /* skip certificate verification (self-signed test services) */
        /* http */
        bool head;                /* method HEAD, else GET */
        struct nf_status_range expect[NF_PROBE_MAX_EXPECT];
        size_t n_expect;          /* 0: 200-399 */
        uint32_t max_latency_ms;  /* 0: no bound */
        char body_contains[NF_PROBE_CONTAINS_LEN];
        /* tcp */
        char address[NF_PROBE_HOST_LEN];
        uint16_t port;
        /* prometheus: the instant query's single value must stay inside [min, max] */
        char query[NF_PROBE_QUERY_LEN];
        bool has_min, has_max;
        double min, max;
};

struct nf_guard_spec {
        struct nf_probe_spec probes[NF_GUARD_MAX_PROBES];
        size_t n_probes;
        uint32_t interval_ms;
        uint32_t failures_to_abort;
        uint32_t grace_ms;
        bool scope_all; /* every fault in the namespace, not only this one */
};

/* One probe's verdict. */
struct nf_probe_result {
        int64_t at_ms; /* wall clock, when it finished */
        bool ok;
        int status;    /* http: the response status; 0 otherwise or when none came */
        uint32_t latency_ms;
        bool has_value;
        double value;  /* prometheus */
        char error[128];
};

/* ---- the settings (guard_json.c) ---- */

/* Reads "guard" of a fault's request into *out (allocated; NULL when absent): -1 with e naming
 * the field ("guard.probes[1].http.url") and the bad value. */
int nf_guard_parse(const struct cJSON *v, struct nf_guard_spec **out, struct nf_err *e);
struct cJSON *nf_guard_spec_to_json(const struct nf_guard_spec *g);
/* An http(s) URL: -1 when it is not one we can request (other schemes, userinfo, fragments,
 * control characters or spaces, a port out of range). */
int nf_url_parse(const char *text, struct nf_url *out);
/* The host names the guard needs resolved (URL hosts and tcp addresses that are not address
 * literals), into names; returns how many. */
size_t nf_guard_hostnames(const struct nf_guard_spec *g, char (*names)[NF_PROBE_HOST_LEN], size_t max);
const char *nf_probe_kind_name(enum nf_probe_kind k);

/* ---- parsing what came back (pure; probe.c and the unit tests) ---- */

/* The status of an HTTP/1.x response head ("HTTP/1.1 503 ..."); -1 when it is not one. */
int nf_http_answer_status(const char *resp, size_t len);
/* The body of a response: after the first empty line; NULL when the head is not complete. */
const char *nf_http_answer_body(const char *resp, size_t len, size_t *body_len);
/* Content-Length of a complete head, -1 when absent. */
long nf_http_answer_length(const char *resp, size_t len);
/* The single value of a Prometheus /api/v1/query answer (a vector of exactly one sample or a
 * scalar): 0 with *out, or -1 with why filled (an error status, no series, several, NaN). */
int nf_prometheus_value(const char *body, size_t len, double *out, char *why, size_t why_len);
/* Whether a result passes the probe's bounds (status, latency, body, value); fills r->ok and,
 * when it fails, r->error. body may be NULL. */
void nf_probe_judge(const struct nf_probe_spec *p, struct nf_probe_result *r, const char *body, size_t body_len);

/* ---- the running guard (guard.c) ---- */

struct nf_guard;

/* Starts f's guard (f->spec.guard, f->guard): the first round after grace_ms. */
int nf_guard_start(struct nf_registry *r, struct nf_fault *f);
/* Stops it: probes in flight are abandoned (their sockets closed), nothing more is judged. */
void nf_guard_free(struct nf_guard *g);
/* Stops f's guard for good (a fault about to be reverted: its probes are no more use). */
void nf_guard_stop(struct nf_fault *f);
/* f's guard for GET /v1/faults/{id} (and a dry run's plan): the settings, whether each probe's
 * own packets cross the fault ("through_fault": true, false, or null for a hostname), and while
 * it runs its state and each probe's recent results, newest first. */
struct cJSON *nf_guard_to_json(const struct nf_fault *f);
