/* Reading the world with libnl-route: interfaces, default routes, qdiscs, filters, statistics.
 * Nothing here writes. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netem/plan.h"

struct nl_sock;

struct nf_world {
        struct nl_sock *sk;
};

int nf_world_open(struct nf_world *w);
void nf_world_close(struct nf_world *w);

/* Interfaces that carry a default route (IPv4 or IPv6, main table), without duplicates. */
int nf_world_default_ifaces(struct nf_world *w, struct nf_iface *out, size_t max, size_t *n);
/* -ENODEV when there is no such interface. */
int nf_world_iface_by_name(struct nf_world *w, const char *name, struct nf_iface *out);

/* What sits on an interface's ingress handle: nothing, clsact, or the older ingress qdisc. */
enum nf_hook_qdisc { NF_HOOK_NONE, NF_HOOK_CLSACT, NF_HOOK_INGRESS };
/* The hook qdisc of each of n interfaces, from one dump of every qdisc. */
int nf_world_hook_qdiscs(struct nf_world *w, const int *ifindexes, size_t n, enum nf_hook_qdisc *out);
int nf_world_hook_qdisc(struct nf_world *w, int ifindex, enum nf_hook_qdisc *out);

struct nf_qdisc_stats {
        uint64_t packets, bytes, drops;
};
int nf_world_qdisc_stats(struct nf_world *w, int ifindex, uint32_t handle, struct nf_qdisc_stats *out);
/* The statistics of the qdisc `handle` on each of n interfaces, from one dump of every qdisc
 * (found[i] says whether out[i] was filled): what /metrics reads for every fault at once, where a
 * dump per fault cost O(faults^2). */
int nf_world_qdisc_stats_many(struct nf_world *w, const int *ifindexes, size_t n, uint32_t handle,
                              struct nf_qdisc_stats *out, bool *found);
