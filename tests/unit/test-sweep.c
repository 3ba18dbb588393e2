/* The sweep's reading of filters and its decision, without netlink (issue 11, row 12): only
 * filters that carry our marks go, a priority is deleted whole only when every filter at it is
 * ours, and a foreign classifier in our priority range is left whatever it holds. Messages are
 * built by our own encoder (what we install) and by hand (what others may install, and the
 * attributes a kernel dump adds). */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_gact.h>
#include <linux/tc_act/tc_mirred.h>
#include <netinet/in.h>
#include <string.h>

#include "netem/encode.h"
#include "netem/sweep.h"
#include "tap.h"

static uint8_t bufs[32][1024];
static int nbuf;

/* What we install: a fault filter (mirred or gact) or, with act NULL, a guard. */
static struct nf_sweep_filter ours(uint16_t prio, int family, uint32_t handle, enum nf_direction dir,
                                   const struct nf_action_ref *act, uint16_t guard_port) {
        struct nf_filter_key k = {.remote.family = (uint8_t)family};
        struct nf_sweep_filter f;
        if (guard_port) {
                k.ip_proto = IPPROTO_TCP;
                k.local_port = (struct nf_port_range){guard_port, guard_port};
        } else {
                nf_prefix_parse(family == AF_INET ? "10.1.0.0/16" : "fd00:1::/64", &k.remote);
                k.ip_proto = IPPROTO_UDP;
                k.remote_port = (struct nf_port_range){53, 53};
        }
        struct nlmsghdr *nlh = nf_enc_flower((struct nf_msgbuf){bufs[nbuf++ % 32], sizeof(bufs[0])}, 2, nf_hook_parent(dir), prio, handle, dir, &k, act);
        if (!nlh || nf_sweep_parse_filter(nlh, &f) < 0)
                printf("# cannot build or parse a flower message\n");
        return f;
}

/* What others install, or what a dump adds: by hand. */
static struct nlmsghdr *header(uint16_t prio, uint16_t eth, uint32_t handle, const char *kind) {
        uint8_t *b = bufs[nbuf++ % 32];
        memset(b, 0, sizeof(bufs[0]));
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);
        nlh->nlmsg_type = RTM_NEWTFILTER;
        struct tcmsg *t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
        t->tcm_family = AF_UNSPEC;
        t->tcm_ifindex = 2;
        t->tcm_handle = handle;
        t->tcm_parent = nf_hook_parent(NF_DIR_EGRESS);
        t->tcm_info = TC_H_MAKE((uint32_t)prio << 16, htons(eth));
        mnl_attr_put_strz(nlh, TCA_KIND, kind);
        mnl_attr_put_u32(nlh, TCA_CHAIN, 0);
        return nlh;
}

static void put_mirred(struct nlmsghdr *nlh, uint16_t acts_type, uint32_t index) {
        struct nlattr *acts = mnl_attr_nest_start(nlh, acts_type), *act = mnl_attr_nest_start(nlh, 1), *o;
        struct tc_mirred m = {.index = index, .action = TC_ACT_STOLEN, .eaction = TCA_EGRESS_REDIR, .ifindex = 1};
        mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
        o = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
        mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof(m), &m);
        mnl_attr_nest_end(nlh, o);
        mnl_attr_nest_end(nlh, act);
        mnl_attr_nest_end(nlh, acts);
}

static struct nf_sweep_filter parse(const struct nlmsghdr *nlh) {
        struct nf_sweep_filter f;
        if (nf_sweep_parse_filter(nlh, &f) < 0)
                printf("# cannot parse a hand-made message\n");
        return f;
}

/* A u32 key node (as tc shows "fh 800::800"), optionally with a mirred action of a given index. */
static struct nf_sweep_filter u32(uint16_t prio, uint16_t eth, uint32_t handle, bool with_action, uint32_t index) {
        struct nlmsghdr *nlh = header(prio, eth, handle, "u32");
        struct nlattr *o = mnl_attr_nest_start(nlh, TCA_OPTIONS);
        mnl_attr_put_u32(nlh, TCA_U32_HASH, 0x80000000);
        if (with_action)
                put_mirred(nlh, TCA_U32_ACT, index);
        mnl_attr_nest_end(nlh, o);
        return parse(nlh);
}

/* The guard as a kernel dump shows it: masks and the hardware count added. */
static struct nf_sweep_filter dumped_guard(uint16_t prio, uint16_t eth, uint32_t handle) {
        struct nlmsghdr *nlh = header(prio, eth, handle, "flower");
        struct nlattr *o = mnl_attr_nest_start(nlh, TCA_OPTIONS);
        mnl_attr_put_u16(nlh, TCA_FLOWER_KEY_ETH_TYPE, htons(eth));
        mnl_attr_put_u8(nlh, TCA_FLOWER_KEY_IP_PROTO, IPPROTO_TCP);
        mnl_attr_put_u16(nlh, TCA_FLOWER_KEY_TCP_SRC, htons(8080));
        mnl_attr_put_u16(nlh, TCA_FLOWER_KEY_TCP_SRC_MASK, 0xffff);
        mnl_attr_put_u32(nlh, TCA_FLOWER_FLAGS, TCA_CLS_FLAGS_SKIP_HW | TCA_CLS_FLAGS_NOT_IN_HW);
        mnl_attr_put_u32(nlh, TCA_FLOWER_IN_HW_COUNT, 0);
        mnl_attr_nest_end(nlh, o);
        return parse(nlh);
}

static size_t count(const struct nf_sweep_op *ops, size_t n, enum nf_sweep_op_kind kind) {
        size_t c = 0;
        for (size_t i = 0; i < n; i++)
                c += ops[i].kind == kind;
        return c;
}

int main(void) {
        const uint16_t B = NF_PRIO_BASE;
        const struct nf_action_ref redirect = {NF_ACTION_REDIRECT, NF_ACT_INDEX_BASE + 4, NF_IFB_INDEX_BASE};
        const struct nf_action_ref drop = {NF_ACTION_DROP, NF_ACT_INDEX_BASE + 0xffff, 0};
        const struct nf_action_ref alien = {NF_ACTION_REDIRECT, 7, 3}, below = {NF_ACTION_DROP, NF_ACT_INDEX_BASE - 1, 0};

        /* ---- what is ours */
        struct nf_sweep_filter f = ours(B + 2, AF_INET, 1, NF_DIR_EGRESS, &redirect, 0);
        tap_ok(strcmp(f.kind, "flower") == 0 && f.prio == B + 2 && f.protocol == ETH_P_IP && f.handle == 1 &&
                       f.n_actions == 1 && f.n_our_actions == 1 && f.eth_type == ETH_P_IP,
               "a fault filter is read: flower, priority, protocol, handle, one action of ours");
        tap_ok(nf_sweep_filter_is_ours(&f), "a flower fault filter with a mirred action of our range is ours");
        f = ours(B + 3, AF_INET6, 40000, NF_DIR_INGRESS, &drop, 0);
        tap_ok(nf_sweep_filter_is_ours(&f), "an IPv6 flower fault filter with a gact action at the top of our range is ours");
        f = ours(B, AF_INET, 1, NF_DIR_EGRESS, NULL, 8080);
        tap_ok(nf_sweep_filter_is_ours(&f), "the IPv4 guard (flower, handle 1, no action, tcp + one port) is ours");
        f = ours(B + 1, AF_INET6, 1, NF_DIR_INGRESS, NULL, 443);
        tap_ok(nf_sweep_filter_is_ours(&f), "the IPv6 guard on ingress is ours");
        f = dumped_guard(B, ETH_P_IP, 1);
        tap_ok(nf_sweep_filter_is_ours(&f), "the guard as a dump shows it (port mask, flags, hardware count) is ours");

        /* ---- what is not */
        f = ours(B + 2, AF_INET, 1, NF_DIR_EGRESS, &alien, 0);
        tap_ok(!nf_sweep_filter_is_ours(&f), "flower at our priority with an action index outside our range: not ours");
        f = ours(B + 2, AF_INET, 1, NF_DIR_EGRESS, &below, 0);
        tap_ok(!nf_sweep_filter_is_ours(&f), "... just below our range: not ours");
        f = ours(B + 2, AF_INET, 1, NF_DIR_EGRESS, NULL, 0);
        tap_ok(!nf_sweep_filter_is_ours(&f), "flower at a fault priority without an action: not ours");
        f = ours(B, AF_INET, 2, NF_DIR_EGRESS, NULL, 8080);
        tap_ok(!nf_sweep_filter_is_ours(&f), "a guard-shaped filter with handle 2: not ours");
        f = ours(B, AF_INET, 1, NF_DIR_EGRESS, &redirect, 8080);
        tap_ok(!nf_sweep_filter_is_ours(&f), "a guard-shaped filter with an action: not ours");
        f = ours(B, AF_INET, 1, NF_DIR_EGRESS, NULL, 0);
        tap_ok(!nf_sweep_filter_is_ours(&f), "at the guard priority, a flower with other keys (address, udp): not ours");
        f = dumped_guard(B, ETH_P_IPV6, 1);
        tap_ok(!nf_sweep_filter_is_ours(&f), "an IPv6 filter at the IPv4 guard priority: not ours");
        f = ours(B + 2, AF_INET6, 1, NF_DIR_EGRESS, &redirect, 0);
        tap_ok(!nf_sweep_filter_is_ours(&f), "an IPv6 filter at an IPv4 slot priority: not ours");
        f = ours(B + 2, AF_INET, 1, NF_DIR_EGRESS, &redirect, 0);
        f.chain = 1;
        tap_ok(!nf_sweep_filter_is_ours(&f), "on another chain: not ours");
        f = ours(NF_PRIO_BASE + 2 + 2 * NF_MAX_SLOTS, AF_INET, 1, NF_DIR_EGRESS, &redirect, 0);
        tap_ok(!nf_sweep_filter_is_ours(&f), "above our priority range (0x%x): not ours", NF_PRIO_BASE + 2 + 2 * NF_MAX_SLOTS);
        f = u32(B + 0x10, ETH_P_IP, 0x80000800, false, 0);
        tap_ok(strcmp(f.kind, "u32") == 0 && f.handle == 0x80000800 && !nf_sweep_filter_is_ours(&f), "a u32 filter: not ours");
        f = u32(B + 3, ETH_P_IPV6, 0x80000800, true, NF_ACT_INDEX_BASE + 3);
        tap_ok(!nf_sweep_filter_is_ours(&f), "a u32 filter with a mirred action of our index range: not ours (kind)");
        f = parse(header(B + 2, ETH_P_IP, 1, "bpf"));
        tap_ok(!nf_sweep_filter_is_ours(&f), "a bpf filter: not ours");
        struct nlmsghdr *junk = header(B + 2, ETH_P_IP, 1, "flower");
        junk->nlmsg_type = RTM_NEWQDISC;
        tap_ok(nf_sweep_parse_filter(junk, &f) == -EINVAL, "a message that is not a filter is refused");

        /* ---- decisions */
        struct nf_sweep_filter v[16];
        struct nf_sweep_op ops[32];
        size_t n = 0, k;
        /* a dump: classifier header first, then its filters, as the kernel sends them */
        v[n++] = parse(header(B + 2, ETH_P_IP, 0, "flower"));
        v[n++] = ours(B + 2, AF_INET, 1, NF_DIR_EGRESS, &redirect, 0);
        v[n++] = ours(B + 2, AF_INET, 2, NF_DIR_EGRESS, &redirect, 0);
        v[n++] = parse(header(B, ETH_P_IP, 0, "flower"));
        v[n++] = dumped_guard(B, ETH_P_IP, 1);
        v[n++] = parse(header(B + 0x10, ETH_P_IP, 0, "u32"));
        v[n++] = u32(B + 0x10, ETH_P_IP, 0x80000000, false, 0);
        v[n++] = u32(B + 0x10, ETH_P_IP, 0x80000800, false, 0);
        v[n++] = parse(header(B + 4, ETH_P_IP, 1, "bpf"));
        v[n++] = parse(header(100, ETH_P_IP, 1, "u32"));
        k = nf_sweep_decide(v, n, ops);
        tap_is_int(k, 4, "ours at two priorities, u32 and bpf at two more: 4 decisions");
        tap_ok(k == 4 && ops[0].kind == NF_SWEEP_DEL_PRIO && ops[0].prio == B && ops[1].kind == NF_SWEEP_DEL_PRIO &&
                       ops[1].prio == B + 2 && ops[1].n_ours == 2,
               "the guard's and the fault's priorities, all ours, are deleted whole");
        tap_ok(k == 4 && ops[2].kind == NF_SWEEP_LEAVE && ops[2].prio == B + 4 && strcmp(ops[2].kind_name, "bpf") == 0 &&
                       ops[3].kind == NF_SWEEP_LEAVE && ops[3].prio == B + 0x10 && ops[3].n_foreign == 2 &&
                       strcmp(ops[3].kind_name, "u32") == 0,
               "the bpf and u32 priorities are left (and named for the log)");
        tap_ok(count(ops, k, NF_SWEEP_DEL_HANDLE) == 0, "nothing is deleted by handle");

        /* a priority shared with someone else's flower filter: ours go one by one */
        n = 0;
        v[n++] = ours(B + 6, AF_INET, 3, NF_DIR_EGRESS, &redirect, 0);
        v[n++] = ours(B + 6, AF_INET, 9, NF_DIR_EGRESS, &alien, 0);
        v[n++] = ours(B + 6, AF_INET, 1, NF_DIR_EGRESS, &redirect, 0);
        k = nf_sweep_decide(v, n, ops);
        tap_ok(k == 3 && ops[0].kind == NF_SWEEP_DEL_HANDLE && ops[0].handle == 1 && ops[1].kind == NF_SWEEP_DEL_HANDLE &&
                       ops[1].handle == 3 && ops[2].kind == NF_SWEEP_LEAVE && ops[2].n_foreign == 1 && ops[2].n_ours == 2,
               "shared priority: our two filters by handle, the foreign one left (%zu decisions)", k);
        tap_ok(count(ops, k, NF_SWEEP_DEL_PRIO) == 0, "... and the priority is not deleted");

        /* the same priority number on the other hook is another classifier: decided per dump */
        n = 0;
        v[n++] = ours(B + 6, AF_INET, 1, NF_DIR_INGRESS, &redirect, 0);
        k = nf_sweep_decide(v, n, ops);
        tap_ok(k == 1 && ops[0].kind == NF_SWEEP_DEL_PRIO, "alone on its hook, the same priority is deleted whole");
        tap_is_int(nf_sweep_decide(v, 0, ops), 0, "an empty dump decides nothing");
        return tap_done();
}
