/* A fault's guard while it lives: rounds of probes every interval_ms, a verdict per round, the
 * revert when failures_to_abort rounds in a row failed. */
#include "core/guard.h"

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/probe.h"
#include "core/registry.h"

struct nf_guard {
        struct nf_registry *reg;
        struct nf_fault *f;
        const struct nf_guard_spec *spec;
        struct event *timer;
        struct slot {
                struct nf_guard *g;
                size_t i;
                struct nf_probe_run *run; /* in flight */
        } slots[NF_GUARD_MAX_PROBES];
        size_t pending;         /* probes of this round still out */
        int first_failed;       /* the round's first failing probe, -1 if none yet */
        int64_t round_start_us; /* monotonic */
        uint32_t consecutive;   /* failed rounds in a row */
        uint64_t rounds;
        struct nf_probe_result hist[NF_GUARD_MAX_PROBES][NF_GUARD_HISTORY]; /* a ring per probe */
        uint64_t n_results[NF_GUARD_MAX_PROBES];
};

static void on_round(evutil_socket_t fd, short what, void *arg);

static void arm(struct nf_guard *g, int64_t in_ms) {
        if (nf_registry_arm(g->reg, &g->timer, on_round, g, in_ms) < 0)
                nf_log(NF_LOG_ERROR, "guard.timer", "%s: cannot arm the guard's timer; the guard stops", g->f->id);
}

static const struct nf_probe_result *latest(const struct nf_guard *g, size_t i) {
        return g->n_results[i] ? &g->hist[i][(g->n_results[i] - 1) % NF_GUARD_HISTORY] : NULL;
}

/* Reverts what the guard protects. Every pointer into g is dead once its own fault is deleted,
 * so the reason and the record are written first and the fault itself goes last. */
static void trip(struct nf_guard *g) {
        struct nf_registry *r = g->reg;
        struct nf_fault *self = g->f;
        const struct nf_probe_spec *p = &g->spec->probes[g->first_failed];
        const struct nf_probe_result *res = latest(g, (size_t)g->first_failed);
        char why[192], others[192];
        char *detail;
        cJSON *j = nf_guard_to_json(self);

        snprintf(why, sizeof(why), "guard abort: probes[%d] (%s) failed %u rounds in a row: %.80s", g->first_failed,
                 nf_probe_kind_name(p->kind), g->consecutive, res ? res->error : "");
        cJSON_ReplaceItemInObjectCaseSensitive(j, "state", cJSON_CreateString("aborted"));
        cJSON_AddNumberToObject(j, "failing_probe", g->first_failed);
        detail = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        nf_log(NF_LOG_WARN, "guard.abort", "%s%s%s: %s%s", self->id, self->spec.name[0] ? " " : "", self->spec.name, why,
               g->spec->scope_all ? "; reverting every fault in its namespace" : "");
        if (g->spec->scope_all) {
                struct nf_ns *ns = self->ns;
                snprintf(others, sizeof(others), "guard abort: the guard of fault %s (scope all): %.100s", self->id,
                         res ? res->error : "");
                for (;;) {
                        struct nf_fault *o = r->faults;
                        while (o && (o == self || o->ns != ns))
                                o = o->next;
                        if (!o)
                                break;
                        nf_registry_remember(r, o, "aborted", others, detail);
                        nf_registry_delete(r, o, others);
                }
        }
        nf_registry_remember(r, self, "aborted", why, detail);
        free(detail);
        nf_registry_delete(r, self, why); /* frees g */
}

static void round_done(struct nf_guard *g) {
        int64_t took_ms = (nf_now_monotonic_us() - g->round_start_us) / 1000;
        g->rounds++;
        if (g->first_failed < 0) {
                if (g->consecutive)
                        nf_log(NF_LOG_INFO, "guard.recovered", "%s: probes pass again after %u failed round(s)", g->f->id,
                               g->consecutive);
                g->consecutive = 0;
        } else if (++g->consecutive >= g->spec->failures_to_abort) {
                trip(g);
                return;
        } else {
                const struct nf_probe_result *res = latest(g, (size_t)g->first_failed);
                nf_log(NF_LOG_INFO, "guard.failed", "%s: probes[%d] failed (%u of %u): %s", g->f->id, g->first_failed,
                       g->consecutive, g->spec->failures_to_abort, res ? res->error : "");
        }
        /* Rounds start every interval_ms; a round that took longer (timeouts are at most the
         * interval, but the loop may be late) is followed by the next one at once. */
        arm(g, (int64_t)g->spec->interval_ms - took_ms);
}

static void on_result(void *arg, const struct nf_probe_result *res) {
        struct slot *s = arg;
        struct nf_guard *g = s->g;
        g->hist[s->i][g->n_results[s->i]++ % NF_GUARD_HISTORY] = *res;
        s->run = NULL;
        if (!res->ok && (g->first_failed < 0 || (size_t)g->first_failed > s->i))
                g->first_failed = (int)s->i;
        if (--g->pending == 0)
                round_done(g);
}

static void on_round(evutil_socket_t fd, short what, void *arg) {
        struct nf_guard *g = arg;
        (void)fd;
        (void)what;
        if (g->pending)
                return; /* cannot happen: a round's probes finish within their timeouts */
        g->round_start_us = nf_now_monotonic_us();
        g->first_failed = -1;
        g->pending = g->spec->n_probes;
        for (size_t i = 0; i < g->spec->n_probes; i++) {
                struct slot *s = &g->slots[i];
                int ns_fd = g->f->ns ? g->f->ns->fd : -1;
                s->run = nf_probe_start(g->reg->probes, &g->spec->probes[i], ns_fd, on_result, s);
                if (!s->run) { /* no memory: a failed probe, counted here */
                        struct nf_probe_result *r = &g->hist[i][g->n_results[i]++ % NF_GUARD_HISTORY];
                        *r = (struct nf_probe_result){.at_ms = nf_now_realtime_ms()};
                        snprintf(r->error, sizeof(r->error), "out of memory");
                        if (g->first_failed < 0)
                                g->first_failed = (int)i;
                        g->pending--;
                }
        }
        if (g->pending == 0)
                round_done(g);
}

int nf_guard_start(struct nf_registry *r, struct nf_fault *f) {
        struct nf_guard *g;
        if (!f->spec.guard || !r->base)
                return 0;
        if (!r->probes && !(r->probes = nf_probe_ctx_new(r->base, r->resolver)))
                return -1;
        if (!(g = calloc(1, sizeof(*g))))
                return -1;
        *g = (struct nf_guard){.reg = r, .f = f, .spec = f->spec.guard, .first_failed = -1};
        for (size_t i = 0; i < NF_GUARD_MAX_PROBES; i++)
                g->slots[i] = (struct slot){.g = g, .i = i};
        f->guard = g;
        arm(g, g->spec->grace_ms);
        return g->timer ? 0 : -1;
}

void nf_guard_free(struct nf_guard *g) {
        if (!g)
                return;
        for (size_t i = 0; i < NF_GUARD_MAX_PROBES; i++)
                nf_probe_cancel(g->slots[i].run);
        if (g->timer)
                event_free(g->timer);
        free(g);
}

void nf_guard_stop(struct nf_fault *f) {
        nf_guard_free(f->guard);
        f->guard = NULL;
}

/* Whether a probe's packets match the fault's filters: its address among the fault's prefixes,
 * its port among the fault's ports (peer's) and TCP among its protocols; -1 for a hostname. */
static int through_fault(const struct nf_fault *f, const struct nf_probe_spec *p) {
        const char *host = p->kind == NF_PROBE_TCP ? p->address : p->url.host;
        uint16_t port = p->kind == NF_PROBE_TCP ? p->port : p->url.port;
        char text[NF_PROBE_HOST_LEN];
        struct nf_prefix a;
        bool port_ok = f->spec.n_ports == 0;
        snprintf(text, sizeof(text), "%s", host);
        if (nf_prefix_parse(text, &a) < 0)
                return -1;
        for (size_t i = 0; i < f->spec.n_ports && !port_ok; i++)
                port_ok = port >= f->spec.ports[i].lo && port <= f->spec.ports[i].hi;
        return port_ok && (f->spec.proto == NF_PROTO_ALL || f->spec.proto == NF_PROTO_TCP) &&
               nf_prefix_set_overlaps(f->eff, f->n_eff, &a);
}

cJSON *nf_guard_to_json(const struct nf_fault *f) {
        const struct nf_guard_spec *spec = f->spec.guard;
        const struct nf_guard *g = f->guard;
        char t[40];
        cJSON *o = nf_guard_spec_to_json(spec), *probes = cJSON_GetObjectItemCaseSensitive(o, "probes");
        for (size_t i = 0; i < spec->n_probes; i++) {
                cJSON *p = cJSON_GetArrayItem(probes, (int)i);
                int through = through_fault(f, &spec->probes[i]);
                if (through < 0)
                        cJSON_AddNullToObject(p, "through_fault");
                else
                        cJSON_AddBoolToObject(p, "through_fault", through);
        }
        if (!g)
                return o;
        cJSON_AddStringToObject(o, "state", g->rounds == 0 && !g->pending ? "grace" : "watching");
        cJSON_AddNumberToObject(o, "rounds", (double)g->rounds);
        cJSON_AddNumberToObject(o, "consecutive_failures", g->consecutive);
        for (size_t i = 0; i < spec->n_probes; i++) {
                cJSON *p = cJSON_GetArrayItem(probes, (int)i);
                cJSON *recent = cJSON_AddArrayToObject(p, "recent");
                uint64_t n = g->n_results[i], from = n > NF_GUARD_HISTORY ? n - NF_GUARD_HISTORY : 0;
                for (uint64_t k = n; k-- > from;) { /* newest first */
                        const struct nf_probe_result *r = &g->hist[i][k % NF_GUARD_HISTORY];
                        cJSON *x = cJSON_CreateObject();
                        cJSON_AddStringToObject(x, "at", nf_format_time(r->at_ms, t, sizeof(t)));
                        cJSON_AddBoolToObject(x, "ok", r->ok);
                        cJSON_AddNumberToObject(x, "latency_ms", r->latency_ms);
                        if (r->status)
                                cJSON_AddNumberToObject(x, "status", r->status);
                        if (r->has_value)
                                cJSON_AddNumberToObject(x, "value", r->value);
                        if (!r->ok)
                                cJSON_AddStringToObject(x, "error", r->error);
                        cJSON_AddItemToArray(recent, x);
                }
        }
        return o;
}
