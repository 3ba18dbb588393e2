/* The planner: a pure function from a validated fault (and the interfaces it applies to) to the
 * exact tc objects that realise it. No I/O here; the applier turns a plan into netlink.
 *
 * Shape, per interface and direction (measured in ../shared/notes/kernel-lab.md):
 *   clsact on the interface (created only if absent; the root qdisc is never touched)
 *   + one flower filter per (prefix, port range) at our reserved priority, whose action is
 *     a shared mirred redirect to an ifb link of ours carrying the fault's netem qdisc,
 *     or, for a blackhole, a shared gact drop (no ifb at all).
 * flower hashes per distinct mask, so the per-packet cost does not grow with the number of
 * targets; excludes are subtracted from targets here, which keeps one fault's prefixes disjoint
 * and lets faults that exclude each other's ranges coexist. */
#pragma once
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netem/cidr.h"
#include "netem/effects.h"
#include "netem/netns.h"
#include "netem/spec.h"
#include "netem/units.h"

/* Marks of ownership: everything we create carries one of these. */
#define NF_PRIO_BASE 0xFD00u     /* our filter priorities: the guard at BASE (IPv4) and BASE+1 (IPv6), */
                                 /* slot s at BASE + 2 + 2s (IPv4) and +1 (IPv6) */
#define NF_MAX_SLOTS 128u        /* concurrent faults per daemon */
#define NF_QDISC_MAJOR 0x4e46u   /* "NF": major handle of the netem qdisc on our ifb links */
#define NF_ACT_INDEX_BASE 0x4e460000u /* shared action indexes: base + 0..0xffff (the planner's */
                                      /* slot-based default; the registry rotates them) */
#define NF_IFB_PREFIX "nf"       /* ifb link of slot s on ifindex i: nf{e|i}<s>.<i>, what the */
                                 /* planner names; with the pool (ifb_pool.h) the applier */
                                 /* rewrites name and ifindex to a pooled nfp<k> */
#define NF_IFB_INDEX_BASE 0x4e460000 /* ifindex of our ifb links: base + 64s + link number */
#define NF_LINK_ALIAS_PREFIX "netfaultd:"
/* A share of flows (flows_percent = 10w + r): the ifb's root is a prio qdisc of ten bands
 * (handle NF_QDISC_MAJOR:) whose flow filter hashes each packet's 5-tuple (keys src, dst, proto,
 * proto-src, proto-dst) into a band, so a flow keeps its band for its whole life. Bands 1..w
 * hold a netem (handle NF_FLOW_NETEM_MAJOR + band:); when r > 0, band w+1 holds another prio of
 * ten bands (NF_FLOW_SUB_MAJOR + band:) with its own flow filter (its own random seed: an
 * independent hash) and a netem in its first r bands (NF_FLOW_SUBNETEM_MAJOR + sub-band:). Every
 * other band keeps prio's default pfifo, which passes packets on untouched. prio, unlike drr or
 * qfq, looks past a band whose netem holds only packets not yet due, so delayed flows never hold
 * back the others (the ECS agent nests prio qdiscs for the same reason). */
#define NF_FLOW_BANDS 10u
#define NF_FLOW_PRIO 1u
#define NF_FLOW_NETEM_MAJOR 0x100u
#define NF_FLOW_SUB_MAJOR 0x200u
#define NF_FLOW_SUBNETEM_MAJOR 0x300u
#define NF_FLOW_TXQLEN 1000u /* the ifb's queue length, the pfifo bands' limit (netem's default too) */
#define NF_FLOW_KEYS 0x1fu   /* 1 << FLOW_KEY_SRC | DST | PROTO | PROTO_SRC | PROTO_DST */

struct nf_iface {
        int ifindex;
        char name[IF_NAMESIZE];
};

struct nf_filter_key {
        struct nf_prefix remote;   /* destination on egress, source on ingress */
        uint8_t ip_proto;          /* 0: any */
        struct nf_port_range remote_port; /* 0-0: any; destination on egress, source on ingress */
        struct nf_port_range local_port;  /* 0-0: any; source on egress, destination on ingress */
};

struct nf_plan_link {
        struct nf_iface iface;
        enum nf_direction dir; /* NF_DIR_EGRESS or NF_DIR_INGRESS, never both */
        uint16_t prio_v4, prio_v6;
        uint32_t act_index;
        enum nf_action_kind action;
        char ifb_name[IF_NAMESIZE]; /* when the action has an ifb (nf_action_info) */
        int ifb_ifindex;
        char ifb_alias[64];
};

struct nf_plan {
        unsigned slot;
        struct nf_netem_params netem;
        unsigned flows_percent; /* 1..99: that share of flows; 0: every packet (one netem, root of the ifb) */
        struct nf_filter_key *keys; /* in the order of the effective prefixes, later additions at the end */
        size_t n_keys;
        struct nf_plan_link *links;
        size_t n_links;
};

/* Targets minus excludes, as the set the fault really covers. -E2BIG past max_out. */
int nf_spec_effective(const struct nf_spec *s, size_t max_out, struct nf_prefix **out, size_t *n);

/* Builds the plan of a fault in slot `slot` over the given interfaces. -E2BIG when the fault would
 * need more than NF_MAX_FILTERS_PER_FAULT filters, -ERANGE for a bad slot. */
int nf_plan_build(const struct nf_spec *s, const char *fault_id, const struct nf_prefix *eff, size_t n_eff,
                  unsigned slot, const struct nf_iface *ifaces, size_t n_ifaces, struct nf_plan *out);
void nf_plan_free(struct nf_plan *p);
/* Appends the keys for more prefixes (a hostname that resolved to new addresses) to a plan; the
 * new keys start at *first. -E2BIG past NF_MAX_FILTERS_PER_FAULT. */
int nf_plan_extend(struct nf_plan *p, const struct nf_spec *s, const struct nf_prefix *add, size_t n_add, size_t *first);

/* Whether two faults could match the same packet on the same interface and direction. */
struct nf_fault_scope {
        const struct nf_spec *spec;
        const struct nf_prefix *eff;
        size_t n_eff;
        const struct nf_iface *ifaces;
        size_t n_ifaces;
        /* The network namespace of ifaces. Interface indexes repeat across namespaces (every
         * pod has an eth0 at index 2 or so): faults in different namespaces never overlap. NULL
         * counts as the same namespace as any other, the safe side (a false conflict refuses a
         * fault; a missed one would stack two on one link). */
        const struct nf_netns_id *netns;
};
bool nf_scopes_overlap(const struct nf_fault_scope *a, const struct nf_fault_scope *b, char *why, size_t why_len);

uint16_t nf_slot_prio(unsigned slot, int family);
uint16_t nf_guard_prio(int family);
bool nf_prio_is_ours(uint16_t prio);
