/* guardbench: what steady-state guards (issue 16) cost the daemon's event loop, natively. The
 * probe engine the daemon uses (core/probe.c) runs FAULTS x PROBES http probes every
 * INTERVAL_MS against URL (bench/run.sh points it at svcstub's /slow, an answer after 80 ms)
 * on one libevent loop, as 64 guarded faults would; a 5 ms timer on the same loop measures how
 * late it fires (the loop's stall: what a /healthz request would wait at most). A first phase
 * without probes gives the baseline. Prints one JSON line per phase for bench/report.py:
 *   guard_loop (the 5 ms timer's lateness samples, ms), guard_rate (probes finished a second),
 *   guard_cpu (process CPU per probe, µs), guard_ok (the share that passed)
 * Usage: guardbench URL FAULTS PROBES INTERVAL_MS SECONDS */
#include <cjson/cJSON.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/guard.h"
#include "core/probe.h"

struct fault {
        struct nf_guard_spec *g;
        struct event *timer;
        struct timeval every;
        size_t pending;
};

static struct event_base *base;
static struct nf_probe_ctx *ctx;
static unsigned long ran, ok;
static double *lags;
static size_t n_lags, cap_lags;
static double next_tick;

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Re-armed each time for 5 ms from now: the lateness of each firing is one stall, and stalls do
 * not add up. */
static void on_tick(evutil_socket_t fd, short what, void *arg) {
        struct event *t = arg;
        struct timeval tick = {0, 5000};
        (void)fd;
        (void)what;
        double late = now_ms() - next_tick;
        if (n_lags == cap_lags) {
                cap_lags = cap_lags ? cap_lags * 2 : 4096;
                lags = realloc(lags, cap_lags * sizeof(*lags));
        }
        lags[n_lags++] = late > 0 ? late : 0;
        event_base_update_cache_time(base);
        next_tick = now_ms() + 5;
        event_add(t, &tick);
}

static void on_result(void *arg, const struct nf_probe_result *r) {
        struct fault *f = arg;
        ran++;
        ok += r->ok;
        f->pending--;
}

static void on_round(evutil_socket_t fd, short what, void *arg) {
        struct fault *f = arg;
        (void)fd;
        (void)what;
        event_add(f->timer, &f->every);
        if (f->pending)
                return; /* the round before is still out (timeouts are the interval) */
        for (size_t i = 0; i < f->g->n_probes; i++)
                if (nf_probe_start(ctx, &f->g->probes[i], -1, on_result, f))
                        f->pending++;
}

static void phase(struct fault *faults, size_t n, unsigned interval_ms, unsigned seconds) {
        struct timeval tick = {0, 5000}, iv = {interval_ms / 1000, (interval_ms % 1000) * 1000}, stop = {seconds, 0};
        struct event *t = event_new(base, -1, 0, on_tick, event_self_cbarg());
        double c0 = cpu_ms();
        ran = ok = 0;
        n_lags = 0;
        for (size_t i = 0; i < n; i++) {
                faults[i].timer = event_new(base, -1, 0, on_round, &faults[i]);
                faults[i].every = iv;
                /* Spread like faults created one after another. */
                struct timeval first = {0, (suseconds_t)(i * interval_ms * 1000 / n)};
                event_add(faults[i].timer, &first);
        }
        next_tick = now_ms() + 5;
        event_add(t, &tick);
        event_base_loopexit(base, &stop);
        event_base_dispatch(base);
        double cpu = cpu_ms() - c0;
        event_free(t);
        for (size_t i = 0; i < n; i++)
                event_free(faults[i].timer);
        /* Let the last round finish before the next phase. */
        struct timeval drain = {0, (interval_ms + 50) * 1000};
        event_base_loopexit(base, &drain);
        event_base_dispatch(base);
        size_t probes = n * (n ? faults[0].g->n_probes : 0);
        printf("{\"b\":\"guard_rate\",\"impl\":\"netfaultd\",\"probes\":%zu,\"unit\":\"per_s\",\"v\":%.1f}\n", probes,
               ran / (double)seconds);
        if (ran) {
                printf("{\"b\":\"guard_cpu\",\"impl\":\"netfaultd\",\"probes\":%zu,\"unit\":\"us_per_probe\",\"v\":%.2f}\n", probes,
                       cpu * 1000 / ran);
                printf("{\"b\":\"guard_ok\",\"impl\":\"netfaultd\",\"probes\":%zu,\"unit\":\"ratio\",\"v\":%.4f}\n", probes,
                       ok / (double)ran);
        }
        printf("{\"b\":\"guard_loop\",\"impl\":\"netfaultd\",\"probes\":%zu,\"unit\":\"ms\",\"vs\":[", probes);
        for (size_t i = 0; i < n_lags; i++)
                printf("%s%.3f", i ? "," : "", lags[i]);
        printf("]}\n");
        fflush(stdout);
}

int main(int argc, char **argv) {
        if (argc != 6) {
                fprintf(stderr, "usage: guardbench URL FAULTS PROBES INTERVAL_MS SECONDS\n");
                return 2;
        }
        size_t n = (size_t)atoi(argv[2]), p = (size_t)atoi(argv[3]);
        unsigned interval = (unsigned)atoi(argv[4]), secs = (unsigned)atoi(argv[5]);
        char json[2048], one[600];
        size_t len = 0;
        len += (size_t)snprintf(json + len, sizeof(json) - len, "{\"interval_ms\":%u,\"probes\":[", interval);
        snprintf(one, sizeof(one), "{\"http\":{\"url\":\"%s\",\"timeout_ms\":%u}}", argv[1], interval);
        for (size_t i = 0; i < p && len < sizeof(json) - sizeof(one); i++)
                len += (size_t)snprintf(json + len, sizeof(json) - len, "%s%s", i ? "," : "", one);
        snprintf(json + len, sizeof(json) - len, "]}");
        cJSON *v = cJSON_Parse(json);
        struct nf_err e;
        struct nf_guard_spec *g = NULL;
        if (nf_guard_parse(v, &g, &e) < 0) {
                fprintf(stderr, "guardbench: %s\n", e.message);
                return 1;
        }
        cJSON_Delete(v);
        struct fault *faults = calloc(n, sizeof(*faults));
        for (size_t i = 0; i < n; i++)
                faults[i].g = g;
        base = event_base_new();
        ctx = nf_probe_ctx_new(base, NULL);
        phase(faults, 0, interval, secs);
        phase(faults, n, interval, secs);
        nf_probe_ctx_free(ctx);
        event_base_free(base);
        free(faults);
        free(g);
        free(lags);
        return 0;
}
