#include "api/metrics.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/audit.h"
#include "api/http.h"
#include "api/reply.h"
#include "core/guard.h"
#include "core/probe.h"
#include "core/clock.h"

/* Requests by (route, method, status): every route and method of the table times the statuses
 * it can answer fits many times over; past the cap, one overflow series counts the rest. */
#define MAX_REQUEST_SERIES 256
static struct {
        const char *route, *method; /* static strings: route patterns and method names */
        int code;
        unsigned long n;
} requests[MAX_REQUEST_SERIES];
static size_t n_requests;
static unsigned long requests_overflow;

static const char *const reasons[] = {"deleted", "expired", "lease", "shutdown", "pod_gone", "guardian", "guard_abort", "other"};
#define N_REASONS (sizeof(reasons) / sizeof(*reasons))
static unsigned long created, reverted[N_REASONS], revert_failed;
static const char *const dns_results[] = {"changed", "unchanged", "failed"};
static unsigned long dns[3];

static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define N_BOUNDS (sizeof(bounds) / sizeof(*bounds))
struct histogram {
        unsigned long bucket[N_BOUNDS]; /* non-cumulative; summed when rendered */
        unsigned long count;
        double sum;
};
static struct histogram apply_h, revert_h;

/* The kernel's counters of every active fault, read together at most once per cache period. */
struct fault_sample {
        char id[NF_ID_LEN];
        struct nf_counters c;
};
static struct fault_sample *samples;
static size_t n_samples;
static int64_t sampled_ms;
static unsigned long netlink_reads; /* faults whose counters were read: the cost of scrapes */

void nf_metrics_request(const char *route, const char *method, int code) {
        route = route ? route : "unmatched";
        for (size_t i = 0; i < n_requests; i++)
                if (requests[i].code == code && strcmp(requests[i].route, route) == 0 && strcmp(requests[i].method, method) == 0) {
                        requests[i].n++;
                        return;
                }
        if (n_requests == MAX_REQUEST_SERIES) {
                requests_overflow++;
                return;
        }
        requests[n_requests++] = (typeof(requests[0])){route, method, code, 1};
}

static void observe(struct histogram *h, double s) {
        size_t i = 0;
        while (i < N_BOUNDS && s > bounds[i])
                i++;
        if (i < N_BOUNDS)
                h->bucket[i]++;
        h->count++;
        h->sum += s;
}

void nf_metrics_fault_event(const struct nf_fault *f, const struct nf_fault_event_info *ev) {
        (void)f;
        switch (ev->what) {
        case NF_FAULT_CREATED:
                created++;
                observe(&apply_h, (double)ev->took_us / 1e6);
                break;
        case NF_FAULT_REVERTED: {
                const char *r = nf_audit_reason(ev->why);
                for (size_t i = 0; i < N_REASONS; i++)
                        if (strcmp(reasons[i], r) == 0)
                                reverted[i]++;
                observe(&revert_h, (double)ev->took_us / 1e6);
                break;
        }
        case NF_FAULT_REVERT_FAILED:
                revert_failed++;
                observe(&revert_h, (double)ev->took_us / 1e6);
                break;
        case NF_FAULT_RESOLVED:
                for (size_t i = 0; i < 3; i++)
                        if (ev->result && strcmp(ev->result, dns_results[i]) == 0)
                                dns[i]++;
                break;
        case NF_FAULT_RENEWED:
                break;
        }
}

static void sample(struct nf_registry *reg) {
        int64_t now = nf_now_monotonic_ms();
        if (sampled_ms && now - sampled_ms < NF_METRICS_CACHE_MS && n_samples == reg->n_faults)
                return;
        struct fault_sample *s = realloc(samples, (reg->n_faults + 1) * sizeof(*s));
        if (!s)
                return;
        samples = s;
        n_samples = 0;
        const struct nf_fault **fs = calloc(reg->n_faults + 1, sizeof(*fs));
        struct nf_counters *c = calloc(reg->n_faults + 1, sizeof(*c));
        size_t n = 0;
        for (struct nf_fault *f = reg->faults; fs && c && f && n < reg->n_faults; f = f->next)
                fs[n++] = f;
        /* One qdisc dump per namespace for all the faults: one per fault made a scrape with 100
         * faults parse 100 dumps of 200 qdiscs each, on the event loop. */
        if (fs && c && nf_registry_counters_many(reg, fs, n, c) == 0) {
                for (size_t i = 0; i < n; i++) {
                        struct fault_sample *x = &samples[n_samples++];
                        snprintf(x->id, sizeof(x->id), "%s", fs[i]->id);
                        x->c = c[i];
                        netlink_reads++;
                }
        }
        free(fs);
        free(c);
        /* The period runs from the end of the reads: stamped with their start, reads that took
         * longer than the period (1,000 faults under TCG: ~8 s before the bulk reads) made every
         * scrape read again. */
        sampled_ms = nf_now_monotonic_ms();
}

static const struct nf_counters *sample_of(const char *id) {
        for (size_t i = 0; i < n_samples; i++)
                if (strcmp(samples[i].id, id) == 0)
                        return &samples[i].c;
        return NULL;
}

/* A label value: backslash, double quote and newline escaped. */
static void label(struct evbuffer *b, const char *s) {
        for (; *s; s++) {
                if (*s == '\\' || *s == '"')
                        evbuffer_add_printf(b, "\\%c", *s);
                else if (*s == '\n')
                        evbuffer_add(b, "\\n", 2);
                else
                        evbuffer_add(b, s, 1);
        }
}

static void head(struct evbuffer *b, const char *name, const char *type, const char *help) {
        evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void histogram(struct evbuffer *b, const char *name, const char *help, const struct histogram *h) {
        unsigned long cum = 0;
        head(b, name, "histogram", help);
        for (size_t i = 0; i < N_BOUNDS; i++) {
                cum += h->bucket[i];
                evbuffer_add_printf(b, "%s_bucket{le=\"%g\"} %lu\n", name, bounds[i], cum);
        }
        evbuffer_add_printf(b, "%s_bucket{le=\"+Inf\"} %lu\n%s_sum %.6f\n%s_count %lu\n", name, h->count, name, h->sum, name,
                            h->count);
}

static void fault_series(struct evbuffer *b, struct nf_registry *reg, const char *name, const char *help, int which) {
        static const char *const dirs[] = {"", "egress", "ingress", "both"};
        head(b, name, "counter", help);
        for (struct nf_fault *f = reg->faults; f; f = f->next) {
                const struct nf_counters *c = sample_of(f->id);
                char ifs[NF_MAX_IFACES * 17] = "";
                if (!c)
                        continue;
                for (size_t i = 0; i < f->n_ifaces; i++)
                        snprintf(ifs + strlen(ifs), sizeof(ifs) - strlen(ifs), "%s%s", i ? "," : "", f->ifaces[i].name);
                evbuffer_add_printf(b, "%s{fault_id=\"%s\",fault_name=\"", name, f->id);
                label(b, f->spec.name);
                evbuffer_add_printf(b, "\",interface=\"");
                label(b, ifs);
                /* Where the fault lives: the namespace's inode ("" for the daemon's own) and the pod. */
                if (f->ns && !f->ns->own)
                        evbuffer_add_printf(b, "\",netns=\"%lu\",pod_uid=\"", (unsigned long)f->ns->id.ino);
                else
                        evbuffer_add_printf(b, "\",netns=\"\",pod_uid=\"");
                label(b, f->ns ? f->ns->pod_uid : "");
                evbuffer_add_printf(b, "\",direction=\"%s\"} %llu\n", (unsigned)f->spec.direction < 4 ? dirs[f->spec.direction] : "",
                                    (unsigned long long)(which == 0 ? c->packets : which == 1 ? c->bytes : c->drops));
        }
}

void nf_api_metrics(struct nf_api *api, struct evhttp_request *req, const char *id) {
        struct nf_registry *reg = api->reg;
        struct evbuffer *b = evbuffer_new();
        (void)id;
        if (!b) {
                struct nf_err e;
                nf_fail(&e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
                return nf_api_reply_error(req, &e);
        }
        sample(reg);
        head(b, "netfaultd_build_info", "gauge", "The running netfaultd's version (always 1).");
        evbuffer_add_printf(b, "netfaultd_build_info{version=\"%s\"} 1\n", NETFAULTD_VERSION);
        head(b, "netfaultd_faults_active", "gauge", "Faults applied now.");
        evbuffer_add_printf(b, "netfaultd_faults_active %zu\n", reg->n_faults);
        head(b, "netfaultd_filters_active", "gauge", "Flower filters of every active fault.");
        evbuffer_add_printf(b, "netfaultd_filters_active %zu\n", reg->n_filters);
        head(b, "netfaultd_faults_created_total", "counter", "Faults applied since start (dry runs are not).");
        evbuffer_add_printf(b, "netfaultd_faults_created_total %lu\n", created);
        head(b, "netfaultd_faults_reverted_total", "counter", "Faults reverted since start, by reason.");
        for (size_t i = 0; i < N_REASONS; i++)
                evbuffer_add_printf(b, "netfaultd_faults_reverted_total{reason=\"%s\"} %lu\n", reasons[i], reverted[i]);
        head(b, "netfaultd_fault_revert_failures_total", "counter", "Reverts the kernel refused (logged as fault.revert_failed).");
        evbuffer_add_printf(b, "netfaultd_fault_revert_failures_total %lu\n", revert_failed);
        fault_series(b, reg, "netfaultd_fault_packets_total", "Packets the fault's filters matched (kernel counters).", 0);
        fault_series(b, reg, "netfaultd_fault_bytes_total", "Bytes the fault's filters matched (kernel counters).", 1);
        fault_series(b, reg, "netfaultd_fault_drops_total", "Packets the fault dropped: netem loss and queue overflow, or "
                                                             "the blackhole (kernel counters).", 2);
        head(b, "netfaultd_fault_stats_reads_total", "counter",
             "Faults whose kernel counters were read for /metrics (at most one read of all per second).");
        evbuffer_add_printf(b, "netfaultd_fault_stats_reads_total %lu\n", netlink_reads);
        histogram(b, "netfaultd_fault_apply_duration_seconds", "Time the kernel work of applying a fault took.", &apply_h);
        histogram(b, "netfaultd_fault_revert_duration_seconds", "Time the kernel work of reverting a fault took.", &revert_h);
        head(b, "netfaultd_http_requests_total", "counter", "HTTP requests answered, by route pattern, method and status.");
        for (size_t i = 0; i < n_requests; i++)
                evbuffer_add_printf(b, "netfaultd_http_requests_total{route=\"%s\",method=\"%s\",code=\"%d\"} %lu\n",
                                    requests[i].route, requests[i].method, requests[i].code, requests[i].n);
        if (requests_overflow)
                evbuffer_add_printf(b, "netfaultd_http_requests_total{route=\"overflow\",method=\"\",code=\"\"} %lu\n",
                                    requests_overflow);
        /* The guardian's watcher says why in the degraded reason (daemon/guardian.c): it is up
         * unless that reason is about it. */
        head(b, "netfaultd_guardian_up", "gauge", "1 while the guardian process that reverts faults if netfaultd dies runs.");
        evbuffer_add_printf(b, "netfaultd_guardian_up %d\n", strstr(reg->degraded, "guardian") ? 0 : 1);
        head(b, "netfaultd_journal_write_errors_total", "counter", "Journal records that could not be written.");
        evbuffer_add_printf(b, "netfaultd_journal_write_errors_total %lu\n", reg->journal ? reg->journal->write_errors : 0);
        head(b, "netfaultd_dns_resolutions_total", "counter", "Hostname targets resolved again at their TTL, by result.");
        for (size_t i = 0; i < 3; i++)
                evbuffer_add_printf(b, "netfaultd_dns_resolutions_total{result=\"%s\"} %lu\n", dns_results[i], dns[i]);
        head(b, "netfaultd_guard_probes_total", "counter", "Steady-state guard probes run, by kind and verdict.");
        for (int k = 0; k < NF_PROBE_KIND_COUNT; k++)
                for (int ok = 1; ok >= 0; ok--)
                        evbuffer_add_printf(b, "netfaultd_guard_probes_total{kind=\"%s\",result=\"%s\"} %lu\n",
                                            nf_probe_kind_name((enum nf_probe_kind)k), ok ? "ok" : "fail",
                                            (unsigned long)nf_probe_ctx_count(reg->probes, (enum nf_probe_kind)k, ok));
        nf_api_reply_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", b);
        evbuffer_free(b);
}
