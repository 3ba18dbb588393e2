#include "netem/plan.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint16_t nf_slot_prio(unsigned slot, int family) {
        return (uint16_t)(NF_PRIO_BASE + 2 + 2 * slot + (family == AF_INET6 ? 1 : 0));
}

uint16_t nf_guard_prio(int family) {
        return (uint16_t)(NF_PRIO_BASE + (family == AF_INET6 ? 1 : 0));
}

bool nf_prio_is_ours(uint16_t prio) {
        return prio >= NF_PRIO_BASE && prio < NF_PRIO_BASE + 2 + 2 * NF_MAX_SLOTS;
}

int nf_spec_effective(const struct nf_spec *s, size_t max_out, struct nf_prefix **out, size_t *n) {
        return nf_prefix_set_subtract(s->targets, s->n_targets, s->exclude, s->n_exclude, max_out, out, n);
}

static uint8_t ip_proto_of(enum nf_proto p, int family) {
        switch (p) {
        case NF_PROTO_TCP:
                return IPPROTO_TCP;
        case NF_PROTO_UDP:
                return IPPROTO_UDP;
        case NF_PROTO_ICMP:
                return family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
        default:
                return 0;
        }
}

static size_t keys_per_prefix(const struct nf_spec *s) {
        return (s->n_ports ? s->n_ports : 1) * (s->n_local_ports ? s->n_local_ports : 1);
}

/* Writes the keys of prefixes eff[0..n) into out (which has room), in prefix order. */
static size_t fill_keys(const struct nf_spec *s, const struct nf_prefix *eff, size_t n, struct nf_filter_key *out) {
        size_t n_local = s->n_local_ports ? s->n_local_ports : 1, per = keys_per_prefix(s), k = 0;
        for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < per; j++) {
                        struct nf_filter_key *key = &out[k++];
                        *key = (struct nf_filter_key){.remote = eff[i], .ip_proto = ip_proto_of(s->proto, eff[i].family)};
                        if (s->n_ports)
                                key->remote_port = s->ports[j / n_local];
                        if (s->n_local_ports)
                                key->local_port = s->local_ports[j % n_local];
                }
        }
        return k;
}

int nf_plan_build(const struct nf_spec *s, const char *fault_id, const struct nf_prefix *eff, size_t n_eff,
                  unsigned slot, const struct nf_iface *ifaces, size_t n_ifaces, struct nf_plan *out) {
        size_t per_prefix = keys_per_prefix(s);
        size_t n_dirs = s->direction == NF_DIR_BOTH ? 2 : 1;
        int r;

        *out = (struct nf_plan){.slot = slot};
        if (slot >= NF_MAX_SLOTS)
                return -ERANGE;
        if (n_eff == 0 || n_eff > NF_MAX_FILTERS_PER_FAULT / per_prefix)
                return n_eff == 0 ? -EINVAL : -E2BIG;

        nf_effects_to_netem(&s->fx, &out->netem);
        out->flows_percent = s->flows_percent < 100 ? s->flows_percent : 0;

        out->keys = calloc(n_eff * per_prefix, sizeof(*out->keys));
        out->links = calloc(n_ifaces * n_dirs, sizeof(*out->links));
        if (!out->keys || !out->links) {
                r = -ENOMEM;
                goto fail;
        }
        /* eff is normalised, so IPv4 prefixes come first. */
        out->n_keys = fill_keys(s, eff, n_eff, out->keys);

        for (size_t i = 0; i < n_ifaces; i++) {
                for (size_t d = 0; d < n_dirs; d++) {
                        struct nf_plan_link *l = &out->links[out->n_links++];
                        enum nf_direction dir =
                                s->direction == NF_DIR_BOTH ? (d == 0 ? NF_DIR_EGRESS : NF_DIR_INGRESS) : s->direction;
                        l->iface = ifaces[i];
                        l->dir = dir;
                        l->prio_v4 = nf_slot_prio(slot, AF_INET);
                        l->prio_v6 = nf_slot_prio(slot, AF_INET6);
                        l->act_index = NF_ACT_INDEX_BASE + 4 * slot + (dir == NF_DIR_INGRESS ? 1 : 0) +
                                       (uint32_t)(i * 4 * NF_MAX_SLOTS);
                        l->action = nf_effects_action(&s->fx);
                        if (nf_action_info(l->action)->ifb) {
                                l->ifb_ifindex = NF_IFB_INDEX_BASE + (int)(64 * slot + out->n_links - 1);
                                snprintf(l->ifb_name, sizeof(l->ifb_name), NF_IFB_PREFIX "%c%u.%d",
                                         dir == NF_DIR_INGRESS ? 'i' : 'e', slot, ifaces[i].ifindex);
                                snprintf(l->ifb_alias, sizeof(l->ifb_alias), NF_LINK_ALIAS_PREFIX "%s:%s:%s",
                                         fault_id, ifaces[i].name, dir == NF_DIR_INGRESS ? "ingress" : "egress");
                        }
                }
        }
        return 0;
fail:
        nf_plan_free(out);
        return r;
}

int nf_plan_extend(struct nf_plan *p, const struct nf_spec *s, const struct nf_prefix *add, size_t n_add, size_t *first) {
        size_t per = keys_per_prefix(s);
        *first = p->n_keys;
        if (n_add == 0)
                return 0;
        if (p->n_keys + n_add * per > NF_MAX_FILTERS_PER_FAULT)
                return -E2BIG;
        struct nf_filter_key *k = realloc(p->keys, (p->n_keys + n_add * per) * sizeof(*k));
        if (!k)
                return -ENOMEM;
        p->keys = k;
        p->n_keys += fill_keys(s, add, n_add, p->keys + p->n_keys);
        return 0;
}

void nf_plan_free(struct nf_plan *p) {
        free(p->keys);
        free(p->links);
        *p = (struct nf_plan){0};
}

static bool protos_overlap(enum nf_proto a, enum nf_proto b) {
        return a == NF_PROTO_ALL || b == NF_PROTO_ALL || a == b;
}

static bool ranges_overlap(const struct nf_port_range *a, size_t na, const struct nf_port_range *b, size_t nb) {
        /* icmp and "all" have no ports; an empty list means every port. */
        if (na == 0 || nb == 0)
                return true;
        for (size_t i = 0; i < na; i++)
                for (size_t j = 0; j < nb; j++)
                        if (a[i].lo <= b[j].hi && b[j].lo <= a[i].hi)
                                return true;
        return false;
}

static bool ports_overlap(const struct nf_spec *a, const struct nf_spec *b) {
        return ranges_overlap(a->ports, a->n_ports, b->ports, b->n_ports) &&
               ranges_overlap(a->local_ports, a->n_local_ports, b->local_ports, b->n_local_ports);
}

bool nf_scopes_overlap(const struct nf_fault_scope *a, const struct nf_fault_scope *b, char *why, size_t why_len) {
        const char *shared_if = NULL;
        size_t ia, ib;
        char pa[NF_PREFIX_STRLEN], pb[NF_PREFIX_STRLEN];

        if (!(a->spec->direction & b->spec->direction))
                return false;
        if (a->netns && b->netns && !nf_netns_id_equal(a->netns, b->netns))
                return false;
        for (size_t i = 0; i < a->n_ifaces && !shared_if; i++)
                for (size_t j = 0; j < b->n_ifaces; j++)
                        if (a->ifaces[i].ifindex == b->ifaces[j].ifindex) {
                                shared_if = a->ifaces[i].name;
                                break;
                        }
        if (!shared_if)
                return false;
        if (!protos_overlap(a->spec->proto, b->spec->proto) || !ports_overlap(a->spec, b->spec))
                return false;
        if (!nf_prefix_sets_intersect(a->eff, a->n_eff, b->eff, b->n_eff, &ia, &ib))
                return false;
        if (why)
                snprintf(why, why_len, "%s overlaps %s on %s", nf_prefix_format(&a->eff[ia], pa, sizeof(pa)),
                         nf_prefix_format(&b->eff[ib], pb, sizeof(pb)), shared_if);
        return true;
}
