#include "api/fault_json.h"

#include <cjson/cJSON.h>
#include <stdio.h>

#include "daemon/clock.h"
#include "netem/encode.h"

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

static void port_list(cJSON *o, const char *key, const struct nf_port_range *v, size_t n, bool compact) {
        if (compact && n == 0)
                return;
        cJSON *ports = cJSON_AddArrayToObject(o, key);
        for (size_t i = 0; i < n; i++) {
                char buf[16];
                if (v[i].lo == v[i].hi) {
                        cJSON_AddItemToArray(ports, cJSON_CreateNumber(v[i].lo));
                } else {
                        snprintf(buf, sizeof(buf), "%u-%u", v[i].lo, v[i].hi);
                        cJSON_AddItemToArray(ports, cJSON_CreateString(buf));
                }
        }
}

cJSON *nf_spec_to_json(const struct nf_spec *s, bool compact) {
        static const char *const dirs[] = {"", "egress", "ingress", "both"};
        const struct nf_effects *fx = &s->fx;
        cJSON *o = cJSON_CreateObject();
        cJSON *t = prefixes(s->targets, s->n_targets);
        for (size_t i = 0; i < s->n_target_names; i++)
                cJSON_AddItemToArray(t, cJSON_CreateString(s->target_names[i]));
        cJSON_AddItemToObject(o, "targets", t);
        if (!compact || s->n_exclude)
                cJSON_AddItemToObject(o, "exclude", prefixes(s->exclude, s->n_exclude));
        cJSON_AddStringToObject(o, "protocol", nf_proto_name(s->proto));
        port_list(o, "ports", s->ports, s->n_ports, compact);
        port_list(o, "local_ports", s->local_ports, s->n_local_ports, compact);
        if (!compact || s->n_ifnames) {
                cJSON *ifs = cJSON_AddArrayToObject(o, "interfaces");
                for (size_t i = 0; i < s->n_ifnames; i++)
                        cJSON_AddItemToArray(ifs, cJSON_CreateString(s->ifnames[i]));
        }
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
        if (s->lease_s)
                cJSON_AddNumberToObject(o, "lease_s", s->lease_s);
        cJSON_AddBoolToObject(o, "allow_control_plane", s->allow_control_plane);
        return o;
}

static cJSON *key_to_json(const struct nf_filter_key *k) {
        char buf[NF_PREFIX_STRLEN];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "remote", nf_prefix_format(&k->remote, buf, sizeof(buf)));
        if (k->ip_proto)
                cJSON_AddNumberToObject(o, "ip_proto", k->ip_proto);
        if (k->remote_port.lo) {
                snprintf(buf, sizeof(buf), "%u-%u", k->remote_port.lo, k->remote_port.hi);
                cJSON_AddStringToObject(o, "remote_port", buf);
        }
        if (k->local_port.lo) {
                snprintf(buf, sizeof(buf), "%u-%u", k->local_port.lo, k->local_port.hi);
                cJSON_AddStringToObject(o, "local_port", buf);
        }
        return o;
}

cJSON *nf_plan_to_json(const struct nf_plan *p, bool filters) {
        cJSON *o = cJSON_CreateObject(), *links = cJSON_AddArrayToObject(o, "links");
        char h[32];
        for (size_t i = 0; i < p->n_links; i++) {
                const struct nf_plan_link *l = &p->links[i];
                cJSON *lo = cJSON_CreateObject();
                cJSON_AddStringToObject(lo, "interface", l->iface.name);
                cJSON_AddNumberToObject(lo, "ifindex", l->iface.ifindex);
                cJSON_AddStringToObject(lo, "direction", l->dir == NF_DIR_INGRESS ? "ingress" : "egress");
                snprintf(h, sizeof(h), "ffff:%x", nf_hook_parent(l->dir) & 0xffff);
                cJSON_AddStringToObject(lo, "clsact_hook", h);
                cJSON_AddNumberToObject(lo, "priority_ipv4", l->prio_v4);
                cJSON_AddNumberToObject(lo, "priority_ipv6", l->prio_v6);
                cJSON_AddStringToObject(lo, "action", l->action == NF_ACTION_DROP ? "gact drop" : "mirred redirect");
                cJSON_AddNumberToObject(lo, "action_index", l->act_index);
                if (l->action == NF_ACTION_REDIRECT) {
                        cJSON *ifb = cJSON_AddObjectToObject(lo, "ifb");
                        cJSON_AddStringToObject(ifb, "name", l->ifb_name);
                        cJSON_AddNumberToObject(ifb, "ifindex", l->ifb_ifindex);
                        cJSON_AddStringToObject(ifb, "alias", l->ifb_alias);
                        snprintf(h, sizeof(h), "%x:", NF_QDISC_MAJOR);
                        cJSON_AddStringToObject(ifb, "qdisc", "netem");
                        cJSON_AddStringToObject(ifb, "qdisc_handle", h);
                }
                cJSON_AddItemToArray(links, lo);
        }
        if (p->n_links && p->links[0].action == NF_ACTION_REDIRECT) {
                const struct nf_netem_params *n = &p->netem;
                cJSON *ne = cJSON_AddObjectToObject(o, "netem");
                cJSON_AddNumberToObject(ne, "limit", n->limit);
                cJSON_AddNumberToObject(ne, "latency_ns", (double)n->latency_ns);
                cJSON_AddNumberToObject(ne, "jitter_ns", (double)n->jitter_ns);
                cJSON_AddNumberToObject(ne, "loss", n->loss);
                cJSON_AddNumberToObject(ne, "duplicate", n->duplicate);
                cJSON_AddNumberToObject(ne, "corrupt", n->corrupt_prob);
                cJSON_AddNumberToObject(ne, "reorder", n->reorder_prob);
                cJSON_AddNumberToObject(ne, "gap", n->gap);
                cJSON_AddNumberToObject(ne, "rate_bytes_per_s", (double)n->rate_bytes);
                cJSON_AddStringToObject(ne, "distribution", nf_dist_name(n->dist));
        }
        cJSON_AddNumberToObject(o, "filters_per_link", (double)p->n_keys);
        if (filters) {
                cJSON *fs = cJSON_AddArrayToObject(o, "filters");
                for (size_t k = 0; k < p->n_keys; k++) {
                        cJSON *fo = key_to_json(&p->keys[k]);
                        cJSON_AddNumberToObject(fo, "handle", (double)k + 1);
                        cJSON_AddStringToObject(fo, "protocol", p->keys[k].remote.family == AF_INET6 ? "ipv6" : "ip");
                        cJSON_AddItemToArray(fs, fo);
                }
        }
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
        cJSON_AddItemToObject(o, "spec", nf_spec_to_json(&f->spec, false));
        if (f->lease_expires_ms)
                cJSON_AddStringToObject(o, "lease_expires_at", nf_format_time(f->lease_expires_ms, t, sizeof(t)));
        cJSON *prot = cJSON_AddObjectToObject(o, "protected");
        cJSON *pa = cJSON_AddArrayToObject(prot, "addresses");
        if (!f->spec.allow_control_plane) {
                static const char *const all[] = NF_PROTECTED_ADDRESSES;
                for (size_t i = 0; i < NF_N_PROTECTED; i++)
                        cJSON_AddItemToArray(pa, cJSON_CreateString(all[i]));
        }
        cJSON_AddItemToObject(prot, "excluded_from_targets", prefixes(f->protected_hit, f->n_protected_hit));
        if (f->reg && f->reg->api_port)
                cJSON_AddNumberToObject(prot, "api_port", f->reg->api_port);
        if (f->n_names) {
                cJSON *ns = cJSON_AddArrayToObject(o, "names");
                for (size_t i = 0; i < f->n_names; i++) {
                        const struct nf_fault_name *fn = &f->names[i];
                        cJSON *no = cJSON_CreateObject();
                        cJSON_AddStringToObject(no, "target", fn->name);
                        cJSON_AddItemToObject(no, "addresses", prefixes(fn->addrs, fn->n_addrs));
                        cJSON_AddStringToObject(no, fn->aws ? "read_at" : "resolved_at", nf_format_time(fn->resolved_ms, t, sizeof(t)));
                        if (fn->err)
                                cJSON_AddStringToObject(no, "last_error", nf_resolver_strerror(fn->err));
                        cJSON_AddItemToArray(ns, no);
                }
                if (f->next_resolve_ms)
                        cJSON_AddStringToObject(o, "next_resolution_at", nf_format_time(f->next_resolve_ms, t, sizeof(t)));
        }
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
        /* clsact gives both hooks; ingress shaping also needs ifb (blackholes do not). */
        cJSON *d = cJSON_AddArrayToObject(f, "directions");
        if (c->state[NF_CAP_QDISC_CLSACT] == NF_CAP_YES) {
                cJSON_AddItemToArray(d, cJSON_CreateString("egress"));
                cJSON_AddItemToArray(d, cJSON_CreateString("ingress"));
        }
        cJSON_AddBoolToObject(f, "ingress_hook", c->state[NF_CAP_QDISC_CLSACT] == NF_CAP_YES);
        cJSON_AddBoolToObject(f, "ifb", c->state[NF_CAP_LINK_IFB] == NF_CAP_YES);
        return o;
}
