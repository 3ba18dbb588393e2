#include "api/fault_json.h"

#include <cjson/cJSON.h>
#include <stdio.h>

#include "daemon/clock.h"

static cJSON *prefixes(const struct nf_prefix *p, size_t n) {
        cJSON *a = cJSON_CreateArray();
        char buf[NF_PREFIX_STRLEN];
        for (size_t i = 0; i < n; i++)
                cJSON_AddItemToArray(a, cJSON_CreateString(nf_prefix_format(&p[i], buf, sizeof(buf))));
        return a;
}

static void pct_effect(cJSON *o, const char *key, bool has, double pct, double corr) {
        if (!has)
                return;
        cJSON *e = cJSON_AddObjectToObject(o, key);
        cJSON_AddNumberToObject(e, "percent", pct);
        cJSON_AddNumberToObject(e, "correlation", corr);
}

cJSON *nf_spec_to_json(const struct nf_spec *s) {
        static const char *const dirs[] = {"", "egress", "ingress", "both"};
        const struct nf_effects *fx = &s->fx;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "targets", prefixes(s->targets, s->n_targets));
        cJSON_AddItemToObject(o, "exclude", prefixes(s->exclude, s->n_exclude));
        cJSON_AddStringToObject(o, "protocol", nf_proto_name(s->proto));
        cJSON *ports = cJSON_AddArrayToObject(o, "ports");
        for (size_t i = 0; i < s->n_ports; i++) {
                char buf[16];
                if (s->ports[i].lo == s->ports[i].hi) {
                        cJSON_AddItemToArray(ports, cJSON_CreateNumber(s->ports[i].lo));
                } else {
                        snprintf(buf, sizeof(buf), "%u-%u", s->ports[i].lo, s->ports[i].hi);
                        cJSON_AddItemToArray(ports, cJSON_CreateString(buf));
                }
        }
        cJSON *ifs = cJSON_AddArrayToObject(o, "interfaces");
        for (size_t i = 0; i < s->n_ifnames; i++)
                cJSON_AddItemToArray(ifs, cJSON_CreateString(s->ifnames[i]));
        cJSON_AddStringToObject(o, "direction", dirs[s->direction & 3]);
        if (fx->has_delay) {
                cJSON *d = cJSON_AddObjectToObject(o, "delay");
                cJSON_AddNumberToObject(d, "ms", fx->delay_ms);
                cJSON_AddNumberToObject(d, "jitter_ms", fx->jitter_ms);
                cJSON_AddNumberToObject(d, "correlation", fx->delay_corr);
                cJSON_AddStringToObject(d, "distribution", nf_dist_name(fx->has_dist ? fx->dist : NF_DIST_UNIFORM));
        }
        pct_effect(o, "loss", fx->has_loss, fx->loss_pct, fx->loss_corr);
        pct_effect(o, "duplicate", fx->has_duplicate, fx->dup_pct, fx->dup_corr);
        pct_effect(o, "corrupt", fx->has_corrupt, fx->corrupt_pct, fx->corrupt_corr);
        if (fx->has_reorder) {
                pct_effect(o, "reorder", true, fx->reorder_pct, fx->reorder_corr);
                cJSON_AddNumberToObject(cJSON_GetObjectItem(o, "reorder"), "gap", fx->reorder_gap);
        }
        if (fx->has_rate)
                cJSON_AddNumberToObject(cJSON_AddObjectToObject(o, "rate"), "kbit", (double)fx->rate_kbit);
        if (fx->has_limit)
                cJSON_AddNumberToObject(o, "limit", fx->limit);
        cJSON_AddBoolToObject(o, "blackhole", fx->blackhole);
        if (s->name[0])
                cJSON_AddStringToObject(o, "name", s->name);
        cJSON_AddNumberToObject(o, "duration_s", s->duration_s);
        return o;
}

cJSON *nf_fault_to_json(const struct nf_fault *f, const char *state, const struct nf_counters *c) {
        char t[40];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", f->id);
        if (f->spec.name[0])
                cJSON_AddStringToObject(o, "name", f->spec.name);
        else
                cJSON_AddNullToObject(o, "name");
        cJSON_AddStringToObject(o, "state", state);
        cJSON_AddStringToObject(o, "created_at", nf_format_time(f->created_ms, t, sizeof(t)));
        cJSON_AddStringToObject(o, "expires_at", nf_format_time(f->expires_ms, t, sizeof(t)));
        cJSON_AddItemToObject(o, "spec", nf_spec_to_json(&f->spec));
        cJSON *ifs = cJSON_AddArrayToObject(o, "interfaces");
        for (size_t i = 0; i < f->n_ifaces; i++)
                cJSON_AddItemToArray(ifs, cJSON_CreateString(f->ifaces[i].name));

        /* What we put in the kernel, so that an operator can find it with tc. */
        cJSON *k = cJSON_AddObjectToObject(o, "kernel");
        cJSON_AddNumberToObject(k, "prefixes", (double)f->n_eff);
        cJSON_AddNumberToObject(k, "filters_per_interface", (double)f->plan.n_keys);
        cJSON_AddNumberToObject(k, "priority_ipv4", nf_slot_prio(f->slot, AF_INET));
        cJSON_AddNumberToObject(k, "priority_ipv6", nf_slot_prio(f->slot, AF_INET6));
        cJSON *links = cJSON_AddArrayToObject(k, "links");
        for (size_t i = 0; i < f->plan.n_links; i++) {
                const struct nf_plan_link *l = &f->plan.links[i];
                cJSON *lo = cJSON_CreateObject();
                cJSON_AddStringToObject(lo, "interface", l->iface.name);
                cJSON_AddStringToObject(lo, "direction", l->dir == NF_DIR_INGRESS ? "ingress" : "egress");
                cJSON_AddStringToObject(lo, "action", l->action == NF_ACTION_DROP ? "drop" : "redirect");
                if (l->action == NF_ACTION_REDIRECT)
                        cJSON_AddStringToObject(lo, "ifb", l->ifb_name);
                cJSON_AddItemToArray(links, lo);
        }
        if (c) {
                cJSON *co = cJSON_AddObjectToObject(o, "counters");
                cJSON_AddNumberToObject(co, "packets", (double)c->packets);
                cJSON_AddNumberToObject(co, "bytes", (double)c->bytes);
                cJSON_AddNumberToObject(co, "drops", (double)c->drops);
                cJSON_AddNumberToObject(co, "delivered", (double)c->delivered);
        }
        return o;
}

cJSON *nf_caps_to_json(const struct nf_caps *c) {
        static const char *const states[] = {"unknown", "yes", "no"};
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kernel", c->kernel);
        cJSON *q = cJSON_AddObjectToObject(o, "qdiscs"), *cl = cJSON_AddObjectToObject(o, "classifiers"),
              *a = cJSON_AddObjectToObject(o, "actions"), *l = cJSON_AddObjectToObject(o, "links");
        for (int i = 0; i < NF_CAP_COUNT; i++) {
                const char *kind = nf_cap_kind(i);
                cJSON *dst = kind[0] == 'q' ? q : kind[0] == 'c' ? cl : kind[0] == 'a' ? a : l;
                cJSON *e = cJSON_AddObjectToObject(dst, nf_cap_name(i));
                cJSON_AddStringToObject(e, "available", states[c->state[i]]);
                cJSON_AddStringToObject(e, "module", nf_cap_module(i));
                if (c->detail[i][0])
                        cJSON_AddStringToObject(e, "detail", c->detail[i]);
        }
        cJSON *f = cJSON_AddObjectToObject(o, "faults");
        struct nf_spec shaped = {0}, hole = {.fx.blackhole = true};
        cJSON_AddBoolToObject(f, "shaping", nf_caps_missing(c, &shaped) < 0);
        cJSON_AddBoolToObject(f, "blackhole", nf_caps_missing(c, &hole) < 0);
        cJSON *d = cJSON_AddArrayToObject(f, "directions");
        cJSON_AddItemToArray(d, cJSON_CreateString("egress"));
        cJSON_AddItemToArray(d, cJSON_CreateString("ingress"));
        return o;
}
