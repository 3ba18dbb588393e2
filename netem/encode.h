/* Netlink message builders for the tc objects and links we own. Each writes one complete request
 * into buf (at most buflen bytes) and returns it, or NULL when it does not fit. The byte layout
 * follows iproute2's tc and ip for the same command (tests/unit/test-encode.c compares them with
 * fixtures recorded from tc). Sequence numbers and NLM_F_ACK are the caller's (nl.c). */
#pragma once
#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

#include "netem/nl.h"
#include "netem/plan.h"
#include "netem/units.h"

/* Qdiscs */
struct nlmsghdr *nf_enc_clsact(struct nf_msgbuf mb, uint16_t type, int ifindex);
struct nlmsghdr *nf_enc_netem(struct nf_msgbuf mb, int ifindex, uint32_t handle, uint32_t parent,
                              const struct nf_netem_params *p);

/* Deletes a qdisc (with its classes, filters and children) if its handle is handle: a pooled
 * ifb's root when the link is handed back, the capability probe's prio. */
struct nlmsghdr *nf_enc_qdisc_del(struct nf_msgbuf mb, int ifindex, uint32_t handle, uint32_t parent);
/* A share of flows: a prio qdisc of `bands` bands, and a flow filter in hash mode (classid =
 * baseclass + hash of the keys modulo divisor: a band of prio). */
struct nlmsghdr *nf_enc_prio(struct nf_msgbuf mb, int ifindex, uint32_t handle, uint32_t parent, int bands);
struct nlmsghdr *nf_enc_flow_hash(struct nf_msgbuf mb, int ifindex, uint32_t parent, uint16_t prio, uint32_t keys,
                                  uint32_t divisor, uint32_t baseclass);

/* Filters. parent is the clsact hook (egress or ingress). */
struct nf_action_ref {
        enum nf_action_kind kind;
        uint32_t index;     /* shared by every filter of one fault on one link */
        int redirect_ifindex; /* NF_ACTION_REDIRECT */
};
struct nlmsghdr *nf_enc_flower(struct nf_msgbuf mb, int ifindex, uint32_t parent, uint16_t prio, uint32_t handle,
                               enum nf_direction dir, const struct nf_filter_key *k, const struct nf_action_ref *a);
/* a may be NULL: a filter without actions (used by the capability probe). */
/* A dump of the filters at parent; info selects one priority/protocol (tcf_chain_dump honours it). */
struct nlmsghdr *nf_enc_filter_dump(struct nf_msgbuf mb, int ifindex, uint32_t parent, uint32_t info);
/* Deletes every filter of one priority and protocol (the whole classifier instance). */
struct nlmsghdr *nf_enc_filter_del_prio(struct nf_msgbuf mb, int ifindex, uint32_t parent, uint16_t prio,
                                        int family);

/* Deletes one flower filter by handle. */
struct nlmsghdr *nf_enc_filter_del_handle(struct nf_msgbuf mb, int ifindex, uint32_t parent, uint16_t prio,
                                          int family, uint32_t handle);

/* Links */
struct nlmsghdr *nf_enc_ifb_add(struct nf_msgbuf mb, const char *name, int ifindex);
struct nlmsghdr *nf_enc_link_up_alias(struct nf_msgbuf mb, int ifindex, const char *alias);
struct nlmsghdr *nf_enc_link_txqlen(struct nf_msgbuf mb, int ifindex, uint32_t txqlen);
struct nlmsghdr *nf_enc_link_del(struct nf_msgbuf mb, int ifindex);

/* Action statistics request (RTM_GETACTION for one kind and index). */
struct nlmsghdr *nf_enc_action_get(struct nf_msgbuf mb, const char *kind, uint32_t index);
/* A dump of every action of one kind (RTM_GETACTION, NLM_F_DUMP), with their statistics. */
struct nlmsghdr *nf_enc_action_dump(struct nf_msgbuf mb, const char *kind);

uint32_t nf_hook_parent(enum nf_direction dir);
