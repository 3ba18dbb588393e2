/* The sweep: finds every tc object and link in this network namespace that carries our marks
 * and removes it, without any memory of what we created. It is the last line of "never leave a
 * fault behind": start-up reconciliation and the guardian both run it.
 * Marks: ifb links named nf* whose alias starts with "netfaultd:"; filters on any clsact hook
 * (chain 0) at our priority range 0xfd00-0xfe01 that are flower and either a fault filter (one
 * mirred or gact action whose index is in our range 0x4e460000-0x4e46ffff) or a guard (priority
 * 0xfd00/0xfd01, handle 1, no action, TCP with one port as the only key); and clsact qdiscs that
 * the journal says we created (only when empty). A priority whose filters are all ours is
 * deleted whole; one shared with filters that are not ours loses only ours, by handle; one that
 * holds none of ours is left alone (and logged): a priority alone is not a mark. */
#pragma once
#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netem/apply.h"

struct nf_sweep_report {
        size_t links, filter_prios, qdiscs, errors;
        size_t foreign_prios; /* priorities in our range holding filters that are not ours, left */
};

/* One filter of a dump, as far as the sweep needs it (nf_sweep_parse_filter). */
struct nf_sweep_filter {
        uint16_t prio;
        uint16_t protocol;     /* ETH_P_*, host order */
        uint32_t handle;       /* 0: the classifier instance itself (the first message of its dump) */
        uint32_t chain;
        char kind[16];         /* the classifier: "flower", "u32", "bpf", ... */
        uint8_t n_actions;     /* flower's actions */
        uint8_t n_our_actions; /* of them: mirred or gact with an index in our range */
        uint8_t ip_proto;      /* flower key, 0 when none */
        uint16_t eth_type;     /* flower key, host order, 0 when none */
        uint8_t n_tcp_ports;   /* flower single TCP port keys (source or destination) */
        bool other_keys;       /* any other flower key: addresses, port ranges, udp, vlan, ... */
};

/* Reads one RTM_NEWTFILTER message. -EINVAL when it is not one or is malformed. */
int nf_sweep_parse_filter(const struct nlmsghdr *nlh, struct nf_sweep_filter *out);
/* Whether a filter carries our marks (see above). */
bool nf_sweep_filter_is_ours(const struct nf_sweep_filter *f);

enum nf_sweep_op_kind {
        NF_SWEEP_DEL_PRIO,   /* every filter at prio/protocol is ours: delete the priority */
        NF_SWEEP_DEL_HANDLE, /* ours, beside filters that are not: delete this one */
        NF_SWEEP_LEAVE,      /* filters that are not ours at a priority of our range: left, logged */
};
struct nf_sweep_op {
        enum nf_sweep_op_kind kind;
        uint16_t prio, protocol;
        uint32_t handle;                /* NF_SWEEP_DEL_HANDLE */
        size_t n_ours, n_foreign;       /* at this priority */
        char kind_name[16];             /* the classifier at this priority */
};

/* The decision for one hook: what to delete among the filters of a dump (any order; sorted in
 * place). Filters outside our priority range or chain 0, and classifier-instance messages
 * (handle 0), are ignored. ops needs room for 2 * n entries. Returns how many were written. */
size_t nf_sweep_decide(struct nf_sweep_filter *f, size_t n, struct nf_sweep_op *ops);

/* log(event, message) is called once per removal. */
typedef void (*nf_sweep_log_fn)(const char *event, const char *message);

int nf_sweep(struct nf_applier *a, const int *clsact_created, size_t n_clsact, nf_sweep_log_fn log,
             struct nf_sweep_report *rep);
