#include "netem/encode.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_gact.h>
#include <linux/tc_act/tc_mirred.h>
#include <net/if.h>
#include <string.h>

#include "netem/distrib.h"

uint32_t nf_hook_parent(enum nf_direction dir) {
        return TC_H_MAKE(TC_H_CLSACT, dir == NF_DIR_INGRESS ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
}

/* One attribute appended with its padding zeroed, or false when it does not fit: what
 * mnl_attr_put_check() does, inlined for the encoders called once per filter (a library call
 * per attribute was a third of encoding 10,000 filters). */
static inline bool put(struct nlmsghdr *nlh, size_t buflen, uint16_t type, size_t len, const void *data) {
        size_t at = nlh->nlmsg_len, total = MNL_ATTR_HDRLEN + len;
        if (at + MNL_ALIGN(total) > buflen || total > UINT16_MAX)
                return false;
        struct nlattr *attr = (struct nlattr *)((char *)nlh + at);
        attr->nla_type = type;
        attr->nla_len = (uint16_t)total;
        if (len)
                memcpy((char *)attr + MNL_ATTR_HDRLEN, data, len);
        if (MNL_ALIGN(len) != len)
                memset((char *)attr + total, 0, MNL_ALIGN(len) - len);
        nlh->nlmsg_len = (uint32_t)(at + MNL_ALIGN(total));
        return true;
}

static inline bool put_u8(struct nlmsghdr *nlh, size_t buflen, uint16_t type, uint8_t v) {
        return put(nlh, buflen, type, sizeof(v), &v);
}

static inline bool put_u16(struct nlmsghdr *nlh, size_t buflen, uint16_t type, uint16_t v) {
        return put(nlh, buflen, type, sizeof(v), &v);
}

static inline bool put_u32(struct nlmsghdr *nlh, size_t buflen, uint16_t type, uint32_t v) {
        return put(nlh, buflen, type, sizeof(v), &v);
}

static inline bool put_strz(struct nlmsghdr *nlh, size_t buflen, uint16_t type, const char *v) {
        return put(nlh, buflen, type, strlen(v) + 1, v);
}

/* tc opens nests without NLA_F_NESTED (libmnl sets it); we follow tc so that the bytes match. */
static struct nlattr *nest_start(struct nlmsghdr *nlh, size_t buflen, uint16_t type) {
        struct nlattr *start = mnl_nlmsg_get_payload_tail(nlh);
        if (!put(nlh, buflen, type, 0, NULL))
                return NULL;
        return start;
}

static void nest_end(struct nlmsghdr *nlh, struct nlattr *start) {
        start->nla_len = (uint16_t)((char *)mnl_nlmsg_get_payload_tail(nlh) - (char *)start);
}

/* libmnl does not clear attribute padding; we do, so that requests are deterministic and
 * byte-identical to tc's. Every request's padded attributes lie in its first kilobyte (the only
 * larger attribute, netem's delay table, has an even length and needs no padding). */
#define ZERO_PREFIX 1024

static void clear(void *buf, size_t buflen) {
        memset(buf, 0, buflen < ZERO_PREFIX ? buflen : ZERO_PREFIX);
}

/* A request's netlink header and its family header (tcmsg, ifinfomsg) of extra bytes, zeroed;
 * NULL when buf cannot hold them. */
static struct nlmsghdr *request_header(void *buf, size_t buflen, uint16_t type, uint16_t flags, size_t extra,
                                       void **family_header) {
        if (buflen < MNL_NLMSG_HDRLEN + MNL_ALIGN(extra))
                return NULL;
        clear(buf, buflen);
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | flags;
        *family_header = mnl_nlmsg_put_extra_header(nlh, extra);
        return nlh;
}

static struct nlmsghdr *tc_header(void *buf, size_t buflen, uint16_t type, uint16_t flags, int ifindex,
                                  uint32_t handle, uint32_t parent, uint32_t info) {
        struct tcmsg *t;
        struct nlmsghdr *nlh = request_header(buf, buflen, type, flags, sizeof(*t), (void **)&t);
        if (!nlh)
                return NULL;
        t->tcm_family = AF_UNSPEC;
        t->tcm_ifindex = ifindex;
        t->tcm_handle = handle;
        t->tcm_parent = parent;
        t->tcm_info = info;
        return nlh;
}

struct nlmsghdr *nf_enc_clsact(struct nf_msgbuf mb, uint16_t type, int ifindex) {
        void *buf = mb.buf;
        size_t buflen = mb.len;
        uint16_t flags = type == RTM_NEWQDISC ? (NLM_F_CREATE | NLM_F_EXCL) : 0;
        struct nlmsghdr *nlh =
                tc_header(buf, buflen, type, flags, ifindex, TC_H_MAKE(TC_H_CLSACT, 0), TC_H_CLSACT, 0);
        if (!nlh || !mnl_attr_put_strz_check(nlh, buflen, TCA_KIND, "clsact"))
                return NULL;
        return nlh;
}

struct nlmsghdr *nf_enc_netem(struct nf_msgbuf mb, int ifindex, uint32_t handle, uint32_t parent,
                              const struct nf_netem_params *p) {
        void *buf = mb.buf;
        size_t buflen = mb.len;
        struct nlmsghdr *nlh =
                tc_header(buf, buflen, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex, handle, parent, 0);
        struct tc_netem_qopt q = {
                .latency = nf_ns_to_ticks(p->latency_ns),
                .limit = p->limit,
                .loss = p->loss,
                .gap = p->gap,
                .duplicate = p->duplicate,
                .jitter = nf_ns_to_ticks(p->jitter_ns),
        };
        struct nlattr *opt;
        const int16_t *dist = nf_dist_table(p->dist);

        if (!nlh || !mnl_attr_put_strz_check(nlh, buflen, TCA_KIND, "netem"))
                return NULL;
        /* netem's TCA_OPTIONS is not a nest: the fixed qopt struct comes first and the
         * TCA_NETEM_* attributes follow it inside the same length. */
        opt = mnl_nlmsg_get_payload_tail(nlh);
        if (!mnl_attr_put_check(nlh, buflen, TCA_OPTIONS, sizeof(q), &q))
                return NULL;
        /* Only what is set is sent, as tc does: the qdisc is always created fresh, never changed
         * (a change would keep absent CORR/REORDER/CORRUPT/RATE from before). */
        if (p->delay_corr || p->loss_corr || p->dup_corr) {
                struct tc_netem_corr c = {p->delay_corr, p->loss_corr, p->dup_corr};
                if (!mnl_attr_put_check(nlh, buflen, TCA_NETEM_CORR, sizeof(c), &c))
                        return NULL;
        }
        if (p->reorder_prob) {
                struct tc_netem_reorder r = {p->reorder_prob, p->reorder_corr};
                if (!mnl_attr_put_check(nlh, buflen, TCA_NETEM_REORDER, sizeof(r), &r))
                        return NULL;
        }
        if (p->corrupt_prob) {
                struct tc_netem_corrupt c = {p->corrupt_prob, p->corrupt_corr};
                if (!mnl_attr_put_check(nlh, buflen, TCA_NETEM_CORRUPT, sizeof(c), &c))
                        return NULL;
        }
        if (p->rate_bytes) {
                struct tc_netem_rate r = {0};
                if (p->rate_bytes >= (1ULL << 32)) {
                        if (!mnl_attr_put_u64_check(nlh, buflen, TCA_NETEM_RATE64, p->rate_bytes))
                                return NULL;
                        r.rate = ~0U;
                } else {
                        r.rate = (uint32_t)p->rate_bytes;
                }
                if (!mnl_attr_put_check(nlh, buflen, TCA_NETEM_RATE, sizeof(r), &r))
                        return NULL;
        }
        if (dist && !mnl_attr_put_check(nlh, buflen, TCA_NETEM_DELAY_DIST, NF_DIST_TABLE_LEN * sizeof(int16_t), dist))
                return NULL;
        /* The 32-bit tick fields top out near 275 s; beyond that the 64-bit ns attributes carry the
         * value (tc does the same). */
        if (q.latency == UINT32_MAX && !mnl_attr_put_u64_check(nlh, buflen, TCA_NETEM_LATENCY64, (uint64_t)p->latency_ns))
                return NULL;
        if (q.jitter == UINT32_MAX && !mnl_attr_put_u64_check(nlh, buflen, TCA_NETEM_JITTER64, (uint64_t)p->jitter_ns))
                return NULL;
        nest_end(nlh, opt);
        return nlh;
}

struct nlmsghdr *nf_enc_qdisc_del(struct nf_msgbuf mb, int ifindex, uint32_t handle, uint32_t parent) {
        /* With the handle given the kernel deletes the qdisc only if it is that one (EINVAL
         * otherwise), so a qdisc that is not ours is never removed. */
        return tc_header(mb.buf, mb.len, RTM_DELQDISC, 0, ifindex, handle, parent, 0);
}

/* A share of flows (flows_percent, netem/plan.h): prio qdiscs of ten bands and flow filters
 * hashing each packet's 5-tuple into a band. tc sends prio's options as a "compat nest": the
 * tc_prio_qopt struct then an empty nest, both inside TCA_OPTIONS; the priomap is tc's default
 * (never used: the flow filter classifies every packet). The flow filter's attributes go in tc's
 * order: keys, divisor, baseclass, mode. */
struct nlmsghdr *nf_enc_prio(struct nf_msgbuf mb, int ifindex, uint32_t handle, uint32_t parent, int bands) {
        struct tc_prio_qopt opt = {.bands = bands, .priomap = {1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1}};
        struct nlmsghdr *nlh = tc_header(mb.buf, mb.len, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex, handle, parent, 0);
        struct nlattr *o, *inner;
        if (!nlh || !put_strz(nlh, mb.len, TCA_KIND, "prio") || !(o = nest_start(nlh, mb.len, TCA_OPTIONS)))
                return NULL;
        /* The struct sits in the nest's payload, before the (empty) nested attributes. */
        if (nlh->nlmsg_len + MNL_ALIGN(sizeof(opt)) > mb.len)
                return NULL;
        memcpy(mnl_nlmsg_get_payload_tail(nlh), &opt, sizeof(opt));
        nlh->nlmsg_len += MNL_ALIGN(sizeof(opt));
        if (!(inner = nest_start(nlh, mb.len, TCA_OPTIONS)))
                return NULL;
        nest_end(nlh, inner);
        nest_end(nlh, o);
        return nlh;
}

struct nlmsghdr *nf_enc_flow_hash(struct nf_msgbuf mb, int ifindex, uint32_t parent, uint16_t prio, uint32_t keys,
                                  uint32_t divisor, uint32_t baseclass) {
        /* A new flow filter needs a handle (cls_flow refuses 0 with EINVAL): 1, the only one. */
        struct nlmsghdr *nlh = tc_header(mb.buf, mb.len, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, ifindex, 1, parent,
                                         TC_H_MAKE((uint32_t)prio << 16, htons(ETH_P_ALL)));
        struct nlattr *opt;
        if (!nlh || !put_strz(nlh, mb.len, TCA_KIND, "flow") || !(opt = nest_start(nlh, mb.len, TCA_OPTIONS)) ||
            !put_u32(nlh, mb.len, TCA_FLOW_KEYS, keys) || !put_u32(nlh, mb.len, TCA_FLOW_DIVISOR, divisor) ||
            !put_u32(nlh, mb.len, TCA_FLOW_BASECLASS, baseclass) || !put_u32(nlh, mb.len, TCA_FLOW_MODE, FLOW_MODE_HASH))
                return NULL;
        nest_end(nlh, opt);
        return nlh;
}

static bool put_action(struct nlmsghdr *nlh, size_t buflen, const struct nf_action_ref *a) {
        struct nlattr *acts, *act, *opts;
        if (!(acts = nest_start(nlh, buflen, TCA_FLOWER_ACT)) || !(act = nest_start(nlh, buflen, 1)) ||
            !put_strz(nlh, buflen, TCA_ACT_KIND, nf_action_info(a->kind)->tc_kind) ||
            !(opts = nest_start(nlh, buflen, TCA_ACT_OPTIONS | NLA_F_NESTED)))
                return false;
        if (a->kind == NF_ACTION_DROP) {
                struct tc_gact g = {.index = a->index, .action = TC_ACT_SHOT};
                if (!put(nlh, buflen, TCA_GACT_PARMS, sizeof(g), &g))
                        return false;
        } else {
                struct tc_mirred m = {.index = a->index,
                                      .action = TC_ACT_STOLEN,
                                      .eaction = TCA_EGRESS_REDIR,
                                      .ifindex = (uint32_t)a->redirect_ifindex};
                if (!put(nlh, buflen, TCA_MIRRED_PARMS, sizeof(m), &m))
                        return false;
        }
        nest_end(nlh, opts);
        nest_end(nlh, act);
        nest_end(nlh, acts);
        return true;
}

/* One port or a range, as the source or the destination port. */
static bool put_port(struct nlmsghdr *nlh, size_t buflen, uint8_t ip_proto, const struct nf_port_range *r, bool src) {
        if (r->lo == 0 && r->hi == 0)
                return true;
        if (r->lo == r->hi) {
                uint16_t type = ip_proto == IPPROTO_UDP ? (src ? TCA_FLOWER_KEY_UDP_SRC : TCA_FLOWER_KEY_UDP_DST)
                                                        : (src ? TCA_FLOWER_KEY_TCP_SRC : TCA_FLOWER_KEY_TCP_DST);
                return put_u16(nlh, buflen, type, htons(r->lo));
        }
        return put_u16(nlh, buflen, src ? TCA_FLOWER_KEY_PORT_SRC_MIN : TCA_FLOWER_KEY_PORT_DST_MIN,
                                      htons(r->lo)) &&
               put_u16(nlh, buflen, src ? TCA_FLOWER_KEY_PORT_SRC_MAX : TCA_FLOWER_KEY_PORT_DST_MAX,
                                      htons(r->hi));
}

struct nlmsghdr *nf_enc_flower(struct nf_msgbuf mb, int ifindex, uint32_t parent, uint16_t prio, uint32_t handle,
                               enum nf_direction dir, const struct nf_filter_key *k, const struct nf_action_ref *a) {
        void *buf = mb.buf;
        size_t buflen = mb.len;
        bool v6 = k->remote.family == AF_INET6;
        uint16_t eth = htons(v6 ? ETH_P_IPV6 : ETH_P_IP);
        bool egress = dir != NF_DIR_INGRESS;
        struct nlmsghdr *nlh = tc_header(buf, buflen, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, ifindex, handle,
                                         parent, TC_H_MAKE((uint32_t)prio << 16, eth));
        uint8_t addr[16], mask[16];
        size_t alen = v6 ? 16 : 4;
        struct nlattr *opt;

        if (!nlh || !put_strz(nlh, buflen, TCA_KIND, "flower") ||
            !(opt = nest_start(nlh, buflen, TCA_OPTIONS)))
                return NULL;
        if (k->ip_proto && !put_u8(nlh, buflen, TCA_FLOWER_KEY_IP_PROTO, k->ip_proto))
                return NULL;
        /* The remote side: destination on egress, source on ingress. A /0 needs no key. */
        nf_prefix_addr_bytes(&k->remote, addr);
        nf_prefix_mask_bytes(&k->remote, mask);
        if (k->remote.len > 0 && !put(nlh, buflen,
                                v6 ? (egress ? TCA_FLOWER_KEY_IPV6_DST : TCA_FLOWER_KEY_IPV6_SRC)
                                   : (egress ? TCA_FLOWER_KEY_IPV4_DST : TCA_FLOWER_KEY_IPV4_SRC),
                                alen, addr)) 
                return NULL;
        if (k->remote.len > 0 && !put(nlh, buflen,
                                v6 ? (egress ? TCA_FLOWER_KEY_IPV6_DST_MASK : TCA_FLOWER_KEY_IPV6_SRC_MASK)
                                   : (egress ? TCA_FLOWER_KEY_IPV4_DST_MASK : TCA_FLOWER_KEY_IPV4_SRC_MASK),
                                alen, mask))
                return NULL;
        /* Remote port: destination on egress, source on ingress; the local port the other way. */
        if (!put_port(nlh, buflen, k->ip_proto, &k->remote_port, !egress) ||
            !put_port(nlh, buflen, k->ip_proto, &k->local_port, egress))
                return NULL;
        if (a && !put_action(nlh, buflen, a))
                return NULL;
        /* Never offloaded: a NIC's flower offload would bypass our ifb and netem. */
        if (!put_u32(nlh, buflen, TCA_FLOWER_FLAGS, TCA_CLS_FLAGS_SKIP_HW) ||
            !put_u16(nlh, buflen, TCA_FLOWER_KEY_ETH_TYPE, eth))
                return NULL;
        nest_end(nlh, opt);
        return nlh;
}

struct nlmsghdr *nf_enc_filter_dump(struct nf_msgbuf mb, int ifindex, uint32_t parent, uint32_t info) {
        void *buf = mb.buf;
        size_t buflen = mb.len;
        return tc_header(buf, buflen, RTM_GETTFILTER, NLM_F_DUMP, ifindex, 0, parent, info);
}

struct nlmsghdr *nf_enc_filter_del_prio(struct nf_msgbuf mb, int ifindex, uint32_t parent, uint16_t prio,
                                        int family) {
        void *buf = mb.buf;
        size_t buflen = mb.len;
        uint16_t eth = htons(family == AF_INET6 ? ETH_P_IPV6 : ETH_P_IP);
        return tc_header(buf, buflen, RTM_DELTFILTER, 0, ifindex, 0, parent, TC_H_MAKE((uint32_t)prio << 16, eth));
}

struct nlmsghdr *nf_enc_filter_del_handle(struct nf_msgbuf mb, int ifindex, uint32_t parent, uint16_t prio,
                                          int family, uint32_t handle) {
        void *buf = mb.buf;
        size_t buflen = mb.len;
        uint16_t eth = htons(family == AF_INET6 ? ETH_P_IPV6 : ETH_P_IP);
        struct nlmsghdr *nlh =
                tc_header(buf, buflen, RTM_DELTFILTER, 0, ifindex, handle, parent, TC_H_MAKE((uint32_t)prio << 16, eth));
        /* A handle means something only to its classifier: the kind must be named. */
        if (!nlh || !mnl_attr_put_strz_check(nlh, buflen, TCA_KIND, "flower"))
                return NULL;
        return nlh;
}

static struct nlmsghdr *link_header(void *buf, size_t buflen, uint16_t type, uint16_t flags, int ifindex) {
        struct ifinfomsg *ifi;
        struct nlmsghdr *nlh = request_header(buf, buflen, type, flags, sizeof(*ifi), (void **)&ifi);
        if (!nlh)
                return NULL;
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = ifindex;
        return nlh;
}

struct nlmsghdr *nf_enc_ifb_add(struct nf_msgbuf mb, const char *name, int ifindex) {
        void *buf = mb.buf;
        size_t buflen = mb.len;
        /* We choose the ifindex ourselves (from a range of ours) so that the netem qdisc and the
         * redirecting filters can go in the same batch without asking the kernel first. */
        struct nlmsghdr *nlh = link_header(buf, buflen, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, ifindex);
        struct nlattr *info;
        if (!nlh || !mnl_attr_put_strz_check(nlh, buflen, IFLA_IFNAME, name) ||
            !(info = nest_start(nlh, buflen, IFLA_LINKINFO)) ||
            !mnl_attr_put_str_check(nlh, buflen, IFLA_INFO_KIND, "ifb"))
                return NULL;
        nest_end(nlh, info);
        return nlh;
}

struct nlmsghdr *nf_enc_link_up_alias(struct nf_msgbuf mb, int ifindex, const char *alias) {
        void *buf = mb.buf;
        size_t buflen = mb.len;
        struct nlmsghdr *nlh = link_header(buf, buflen, RTM_NEWLINK, 0, ifindex);
        if (!nlh)
                return NULL;
        struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
        ifi->ifi_flags = IFF_UP;
        ifi->ifi_change = IFF_UP;
        if (alias && !mnl_attr_put_strz_check(nlh, buflen, IFLA_IFALIAS, alias))
                return NULL;
        return nlh;
}

/* The queue length of drivers' default qdiscs: what the pfifo of a prio band takes as its limit
 * (an ifb has 32, too short for a band that carries a whole share of untouched flows). */
struct nlmsghdr *nf_enc_link_txqlen(struct nf_msgbuf mb, int ifindex, uint32_t txqlen) {
        struct nlmsghdr *nlh = link_header(mb.buf, mb.len, RTM_NEWLINK, 0, ifindex);
        if (!nlh || !put_u32(nlh, mb.len, IFLA_TXQLEN, txqlen))
                return NULL;
        return nlh;
}

struct nlmsghdr *nf_enc_link_del(struct nf_msgbuf mb, int ifindex) {
        void *buf = mb.buf;
        size_t buflen = mb.len;
        return link_header(buf, buflen, RTM_DELLINK, 0, ifindex);
}

struct nlmsghdr *nf_enc_action_get(struct nf_msgbuf mb, const char *kind, uint32_t index) {
        void *buf = mb.buf;
        size_t buflen = mb.len;
        struct tcamsg *t;
        struct nlmsghdr *nlh = request_header(buf, buflen, RTM_GETACTION, 0, sizeof(*t), (void **)&t);
        if (!nlh)
                return NULL;
        t->tca_family = AF_UNSPEC;
        struct nlattr *tab, *act;
        if (!(tab = nest_start(nlh, buflen, TCA_ACT_TAB)) || !(act = nest_start(nlh, buflen, 1)) ||
            !mnl_attr_put_strz_check(nlh, buflen, TCA_ACT_KIND, kind) ||
            !mnl_attr_put_u32_check(nlh, buflen, TCA_ACT_INDEX, index))
                return NULL;
        nest_end(nlh, act);
        nest_end(nlh, tab);
        return nlh;
}

struct nlmsghdr *nf_enc_action_dump(struct nf_msgbuf mb, const char *kind) {
        void *buf = mb.buf;
        size_t buflen = mb.len;
        struct tcamsg *t;
        struct nlmsghdr *nlh = request_header(buf, buflen, RTM_GETACTION, NLM_F_DUMP, sizeof(*t), (void **)&t);
        if (!nlh)
                return NULL;
        t->tca_family = AF_UNSPEC;
        struct nlattr *tab, *act;
        if (!(tab = nest_start(nlh, buflen, TCA_ACT_TAB)) || !(act = nest_start(nlh, buflen, 1)) ||
            !mnl_attr_put_strz_check(nlh, buflen, TCA_ACT_KIND, kind))
                return NULL;
        nest_end(nlh, act);
        nest_end(nlh, tab);
        return nlh;
}
