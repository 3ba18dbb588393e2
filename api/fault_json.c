#include "api/fault_json.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/guard.h"
#include "core/spec_json.h"
#include "netem/encode.h"

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
        if (f->spec.guard)
                cJSON_AddItemToObject(o, "guard", nf_guard_to_json(f));
        cJSON *prot = cJSON_AddObjectToObject(o, "protected");
        cJSON *pa = cJSON_AddArrayToObject(prot, "addresses");
        if (!f->spec.allow_control_plane) {
                static const char *const all[] = NF_PROTECTED_ADDRESSES;
                for (size_t i = 0; i < NF_N_PROTECTED; i++)
                        cJSON_AddItemToArray(pa, cJSON_CreateString(all[i]));
        }
        cJSON_AddItemToObject(prot, "excluded_from_targets", nf_prefixes_to_json(f->protected_hit, f->n_protected_hit));
        if (f->reg && f->reg->api_port)
                cJSON_AddNumberToObject(prot, "api_port", f->reg->api_port);
        if (f->n_names) {
                cJSON *ns = cJSON_AddArrayToObject(o, "names");
                for (size_t i = 0; i < f->n_names; i++) {
                        const struct nf_fault_name *fn = &f->names[i];
                        cJSON *no = cJSON_CreateObject();
                        cJSON_AddStringToObject(no, "target", fn->name);
                        cJSON_AddItemToObject(no, "addresses", nf_prefixes_to_json(fn->addrs, fn->n_addrs));
                        cJSON_AddStringToObject(no, fn->aws ? "read_at" : "resolved_at", nf_format_time(fn->resolved_ms, t, sizeof(t)));
                        if (fn->err)
                                cJSON_AddStringToObject(no, "last_error", nf_resolver_strerror(fn->err));
                        cJSON_AddItemToArray(ns, no);
                }
                if (f->next_resolve_ms)
                        cJSON_AddStringToObject(o, "next_resolution_at", nf_format_time(f->next_resolve_ms, t, sizeof(t)));
        }
        if (f->ns)
                cJSON_AddItemToObject(o, "netns", nf_netns_to_json(f->ns));
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

cJSON *nf_gone_to_json(const struct nf_gone *g) {
        char t[40];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", g->id);
        cJSON_AddStringToObject(o, "state", g->state);
        if (strcmp(g->state, "aborted") == 0) {
                /* A guard reverted it: why, when, and the guard as it last was. */
                cJSON *guard = g->detail ? cJSON_Parse(g->detail) : NULL;
                cJSON_AddStringToObject(o, "aborted_reason", g->reason);
                cJSON_AddStringToObject(o, "aborted_at", nf_format_time(g->at_ms, t, sizeof(t)));
                if (guard)
                        cJSON_AddItemToObject(o, "guard", guard);
        } else {
                cJSON_AddStringToObject(o, "gone_reason", g->reason);
                cJSON_AddStringToObject(o, "gone_at", nf_format_time(g->at_ms, t, sizeof(t)));
        }
        if (g->pod_uid[0])
                cJSON_AddStringToObject(o, "pod_uid", g->pod_uid);
        return o;
}

cJSON *nf_netns_to_json(const struct nf_ns *ns) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "inode", (double)ns->id.ino);
        cJSON_AddNumberToObject(o, "dev", (double)ns->id.dev);
        cJSON_AddBoolToObject(o, "host", ns->own);
        /* How the fault that entered it first named it; the spec says how this one did. */
        cJSON_AddStringToObject(o, "named_by", nf_netns_kind_name(ns->named.kind));
        if (ns->pod_uid[0])
                cJSON_AddStringToObject(o, "pod_uid", ns->pod_uid);
        else
                cJSON_AddNullToObject(o, "pod_uid");
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
        struct nf_spec shaped = {0}, hole = {.fx.blackhole = true}, share = {.flows_percent = 50};
        cJSON_AddBoolToObject(f, "shaping", nf_caps_missing(c, &shaped) < 0);
        cJSON_AddBoolToObject(f, "blackhole", nf_caps_missing(c, &hole) < 0);
        cJSON_AddBoolToObject(f, "flows_percent", nf_caps_missing(c, &share) < 0);
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
