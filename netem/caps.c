#include "netem/caps.h"

#include <errno.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "netem/effects.h"
#include "netem/encode.h"
#include "netem/plan.h"

#define PROBE_IFNAME "nfprobe"
#define PROBE_IFINDEX (NF_IFB_INDEX_BASE - 1)
#define PROBE_ACT_INDEX (NF_ACT_INDEX_BASE - 1)

static const struct {
        const char *name, *kind, *module;
} table[NF_CAP_COUNT] = {
        [NF_CAP_LINK_IFB] = {"ifb", "link", "ifb"},
        [NF_CAP_QDISC_CLSACT] = {"clsact", "qdisc", "sch_ingress"},
        [NF_CAP_QDISC_NETEM] = {"netem", "qdisc", "sch_netem"},
        [NF_CAP_CLS_FLOWER] = {"flower", "classifier", "cls_flower"},
        [NF_CAP_ACT_MIRRED] = {"mirred", "action", "act_mirred"},
        [NF_CAP_ACT_GACT] = {"gact", "action", "act_gact"},
        [NF_CAP_QDISC_PRIO] = {"prio", "qdisc", "sch_prio"},
        [NF_CAP_CLS_FLOW] = {"flow", "classifier", "cls_flow"},
};

const char *nf_cap_name(enum nf_cap c) {
        return table[c].name;
}
const char *nf_cap_kind(enum nf_cap c) {
        return table[c].kind;
}
const char *nf_cap_module(enum nf_cap c) {
        return table[c].module;
}

static int one(struct nf_nl *nl, struct nlmsghdr *nlh, struct nf_nl_error *e) {
        return nf_nl_request(nl, nlh, NULL, NULL, e);
}

static void record(struct nf_caps *c, enum nf_cap cap, int r, const struct nf_nl_error *e) {
        c->state[cap] = r == 0 ? NF_CAP_YES : NF_CAP_NO;
        c->err[cap] = r;
        if (r < 0)
                snprintf(c->detail[cap], sizeof(c->detail[cap]), "%s", e->extack[0] ? e->extack : strerror(-r));
}

int nf_caps_probe(struct nf_nl *nl, struct nf_caps *c) {
        char buf[1024];
        struct nf_nl_error e;
        struct utsname u;
        struct nf_filter_key key = {0};
        int r;

        *c = (struct nf_caps){0};
        if (uname(&u) == 0)
                snprintf(c->kernel, sizeof(c->kernel), "%s %s", u.sysname, u.release);

        /* A probe link left by a daemon that died mid-probe. */
        one(nl, nf_enc_link_del(NF_MSGBUF(buf), PROBE_IFINDEX), &e);

        r = one(nl, nf_enc_ifb_add(NF_MSGBUF(buf), PROBE_IFNAME, PROBE_IFINDEX), &e);
        record(c, NF_CAP_LINK_IFB, r, &e);
        if (r < 0)
                return 0; /* nothing else can be tried without a link of our own */
        one(nl, nf_enc_link_up_alias(NF_MSGBUF(buf), PROBE_IFINDEX, NF_LINK_ALIAS_PREFIX "probe"), &e);

        /* A share of flows (flows_percent) needs prio: tried as the root for a moment, then
         * deleted for netem's probe. */
        uint32_t root = TC_H_MAKE(NF_QDISC_MAJOR << 16, 0);
        r = one(nl, nf_enc_prio(NF_MSGBUF(buf), PROBE_IFINDEX, root, TC_H_ROOT, NF_FLOW_BANDS), &e);
        record(c, NF_CAP_QDISC_PRIO, r, &e);
        if (r == 0)
                one(nl, nf_enc_qdisc_del(NF_MSGBUF(buf), PROBE_IFINDEX, root, TC_H_ROOT), &e);

        struct nf_netem_params np = {.limit = 1000};
        r = one(nl, nf_enc_netem(NF_MSGBUF(buf), PROBE_IFINDEX, TC_H_MAKE(NF_QDISC_MAJOR << 16, 0), TC_H_ROOT, &np),
                &e);
        record(c, NF_CAP_QDISC_NETEM, r, &e);

        r = one(nl, nf_enc_clsact(NF_MSGBUF(buf), RTM_NEWQDISC, PROBE_IFINDEX), &e);
        record(c, NF_CAP_QDISC_CLSACT, r, &e);
        if (r == 0) {
                uint32_t parent = nf_hook_parent(NF_DIR_EGRESS);
                nf_prefix_parse("192.0.2.1/32", &key.remote);
                r = one(nl, nf_enc_flower(NF_MSGBUF(buf), PROBE_IFINDEX, parent, NF_PRIO_BASE, 1, NF_DIR_EGRESS, &key, NULL),
                        &e);
                record(c, NF_CAP_CLS_FLOWER, r, &e);
                /* The flow classifier on the hook, so that it is known even without prio. */
                int rf = one(nl, nf_enc_flow_hash(NF_MSGBUF(buf), PROBE_IFINDEX, parent, NF_PRIO_BASE + 1,
                                                  1u << FLOW_KEY_DST, 1, root | 1),
                             &e);
                record(c, NF_CAP_CLS_FLOW, rf, &e);
                if (r == 0) {
                        /* Actions are tried on flower filters of their own; without flower they stay unknown. */
                        struct nf_action_ref drop = {.kind = NF_ACTION_DROP, .index = PROBE_ACT_INDEX};
                        struct nf_action_ref redir = {.kind = NF_ACTION_REDIRECT, .index = PROBE_ACT_INDEX,
                                                      .redirect_ifindex = PROBE_IFINDEX};
                        /* flower refuses two filters with the same key: each probe gets its own. */
                        nf_prefix_parse("192.0.2.2/32", &key.remote);
                        r = one(nl, nf_enc_flower(NF_MSGBUF(buf), PROBE_IFINDEX, parent, NF_PRIO_BASE, 2, NF_DIR_EGRESS,
                                                  &key, &drop),
                                &e);
                        record(c, NF_CAP_ACT_GACT, r, &e);
                        nf_prefix_parse("192.0.2.3/32", &key.remote);
                        r = one(nl, nf_enc_flower(NF_MSGBUF(buf), PROBE_IFINDEX, parent, NF_PRIO_BASE, 3, NF_DIR_EGRESS,
                                                  &key, &redir),
                                &e);
                        record(c, NF_CAP_ACT_MIRRED, r, &e);
                }
        }
        /* Deleting the link takes its qdiscs, filters and their actions with it. */
        one(nl, nf_enc_link_del(NF_MSGBUF(buf), PROBE_IFINDEX), &e);
        return 0;
}

bool nf_caps_needed(const struct nf_spec *s, enum nf_cap cap) {
        uint32_t flows = s->flows_percent ? NF_CAP_BIT(NF_CAP_QDISC_PRIO) | NF_CAP_BIT(NF_CAP_CLS_FLOW) : 0;
        return (nf_action_info(nf_effects_action(&s->fx))->caps | flows) & NF_CAP_BIT(cap);
}

int nf_caps_missing(const struct nf_caps *c, const struct nf_spec *s) {
        /* Unknown counts as missing: an action is unknown only when flower is missing, and then
         * the fault cannot work anyway. */
        for (int i = 0; i < NF_CAP_COUNT; i++)
                if (nf_caps_needed(s, i) && c->state[i] != NF_CAP_YES)
                        return i;
        return -1;
}
