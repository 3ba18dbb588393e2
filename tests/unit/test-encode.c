/* The netlink encoder against the bytes iproute2 sends for the same command. Fixtures in
 * tests/fixtures/tc/ were recorded with tests/fixtures/record-tc.sh (strace of tc/ip 6.1.0); each
 * file's first line names the command. Sequence number and port id are masked, and NLM_F_ACK,
 * which our socket layer adds at send time, is added here before comparing. */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>

#include "netem/encode.h"
#include "tap.h"

static const char *dir;

static size_t load(const char *name, uint8_t *out, size_t max) {
        char path[512], line[256];
        size_t n = 0;
        snprintf(path, sizeof(path), "%s/%s.hex", dir, name);
        FILE *f = fopen(path, "r");
        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f)) {
                if (line[0] == '#')
                        continue;
                char *p = line, *end;
                for (;;) {
                        unsigned long v = strtoul(p, &end, 16);
                        if (end == p)
                                break;
                        if (n < max)
                                out[n++] = (uint8_t)v;
                        p = end;
                }
        }
        fclose(f);
        return n;
}

static void compare(const char *name, struct nlmsghdr *nlh) {
        static uint8_t want[16384];
        size_t n = load(name, want, sizeof(want));
        if (!nlh) {
                tap_ok(0, "%s: encoder returned NULL", name);
                return;
        }
        nlh->nlmsg_flags |= NLM_F_ACK;
        uint8_t *got = (uint8_t *)nlh;
        size_t len = nlh->nlmsg_len;
        memset(want + 8, 0, 8); /* seq, pid */
        size_t first = (size_t)-1;
        for (size_t i = 0; i < len && i < n; i++)
                if (i >= 16 || i < 8 ? got[i] != want[i] : 0) {
                        first = i;
                        break;
                }
        int ok = n > 0 && len == n && first == (size_t)-1;
        tap_ok(ok, "%s: %zu bytes equal tc's", name, len);
        if (!ok) {
                printf("#   fixture %zu bytes, ours %zu, first difference at byte %zd\n", n, len,
                       first == (size_t)-1 ? -1 : (ssize_t)first);
                if (first != (size_t)-1)
                        printf("#   ours %02x, tc %02x\n", got[first], want[first]);
        }
}

int main(int argc, char **argv) {
        static char buf[16384];
        dir = argc > 1 ? argv[1] : "tests/fixtures/tc";
        uint32_t qh = TC_H_MAKE(NF_QDISC_MAJOR << 16, 0);
        uint32_t egress = nf_hook_parent(NF_DIR_EGRESS);

        struct nf_effects fx = {.has_delay = true, .delay_ms = 100, .jitter_ms = 10};
        struct nf_netem_params np;
        nf_effects_to_netem(&fx, &np);
        compare("netem-delay", nf_enc_netem(NF_MSGBUF(buf), 3, qh, TC_H_ROOT, &np));

        fx = (struct nf_effects){.has_loss = true, .loss_pct = 20};
        nf_effects_to_netem(&fx, &np);
        compare("netem-loss", nf_enc_netem(NF_MSGBUF(buf), 3, qh, TC_H_ROOT, &np));

        /* tc ... netem limit 5000 delay 100ms 10ms 25% distribution normal loss 20% 5% duplicate 1% 2%
         *       corrupt 0.5% 3% reorder 10% 50% gap 5 rate 1000kbit */
        fx = (struct nf_effects){.has_delay = true, .delay_ms = 100, .jitter_ms = 10, .delay_corr = 25,
                                 .has_dist = true, .dist = NF_DIST_NORMAL,
                                 .has_loss = true, .loss_pct = 20, .loss_corr = 5,
                                 .has_duplicate = true, .dup_pct = 1, .dup_corr = 2,
                                 .has_corrupt = true, .corrupt_pct = 0.5, .corrupt_corr = 3,
                                 .has_reorder = true, .reorder_pct = 10, .reorder_corr = 50, .reorder_gap = 5,
                                 .has_rate = true, .rate_kbit = 1000, .has_limit = true, .limit = 5000};
        nf_effects_to_netem(&fx, &np);
        compare("netem-full", nf_enc_netem(NF_MSGBUF(buf), 3, qh, TC_H_ROOT, &np));

        compare("clsact", nf_enc_clsact(NF_MSGBUF(buf), RTM_NEWQDISC, 2));

        struct nf_filter_key k = {0};
        struct nf_action_ref redir = {.kind = NF_ACTION_REDIRECT, .index = 0x4e460000, .redirect_ifindex = 3};
        struct nf_action_ref drop = {.kind = NF_ACTION_DROP, .index = 0x4e460001};
        nf_prefix_parse("10.0.1.10/32", &k.remote);
        compare("flower-v4-redirect", nf_enc_flower(NF_MSGBUF(buf), 2, egress, 0xfd00, 1, NF_DIR_EGRESS, &k, &redir));

        nf_prefix_parse("fd00:1::/64", &k.remote);
        k.ip_proto = 6;
        k.remote_port = (struct nf_port_range){8080, 8080};
        compare("flower-v6-tcp-drop", nf_enc_flower(NF_MSGBUF(buf), 2, egress, 0xfd01, 2, NF_DIR_EGRESS, &k, &drop));

        nf_prefix_parse("10.0.0.0/8", &k.remote);
        k.ip_proto = 17;
        k.remote_port = (struct nf_port_range){1000, 2000};
        compare("flower-v4-udp-range", nf_enc_flower(NF_MSGBUF(buf), 2, egress, 0xfd00, 3, NF_DIR_EGRESS, &k, &redir));

        nf_prefix_parse("192.0.2.0/24", &k.remote);
        k.ip_proto = 1;
        k.remote_port = (struct nf_port_range){0, 0};
        compare("flower-v4-icmp", nf_enc_flower(NF_MSGBUF(buf), 2, egress, 0xfd00, 4, NF_DIR_EGRESS, &k, &redir));

        /* A share of flows (flows_percent): prio of ten bands, the flow hash, a band's netem and
         * the ifb's queue length. */
        compare("prio-bands", nf_enc_prio(NF_MSGBUF(buf), 3, qh, TC_H_ROOT, NF_FLOW_BANDS));
        compare("flow-hash", nf_enc_flow_hash(NF_MSGBUF(buf), 3, qh, NF_FLOW_PRIO, NF_FLOW_KEYS, 100, qh | 1));
        fx = (struct nf_effects){.has_delay = true, .delay_ms = 100, .jitter_ms = 10};
        nf_effects_to_netem(&fx, &np);
        compare("netem-class", nf_enc_netem(NF_MSGBUF(buf), 3, TC_H_MAKE(0x107u << 16, 0), qh | 7, &np));
        compare("link-txqlen", nf_enc_link_txqlen(NF_MSGBUF(buf), 3, 1000));
        nf_effects_to_netem(&(struct nf_effects){.has_loss = true, .loss_pct = 20}, &np);

        compare("filter-del-prio", nf_enc_filter_del_prio(NF_MSGBUF(buf), 2, egress, 0xfd00, AF_INET));
        compare("link-ifb-add", nf_enc_ifb_add(NF_MSGBUF(buf), "nfe5.2", 0));

        /* Bounds: every builder refuses a buffer that is too small instead of overrunning it. */
        tap_ok(nf_enc_netem((struct nf_msgbuf){buf, 64}, 3, qh, TC_H_ROOT, &np) == NULL, "netem refuses a short buffer");
        tap_ok(nf_enc_flower((struct nf_msgbuf){buf, 100}, 2, egress, 0xfd00, 4, NF_DIR_EGRESS, &k, &redir) == NULL,
               "flower refuses a short buffer");

        /* Ingress filters match the remote side as source. */
        nf_prefix_parse("10.0.2.10/32", &k.remote);
        k.ip_proto = 6;
        k.remote_port = (struct nf_port_range){8080, 8080};
        struct nlmsghdr *nlh = nf_enc_flower(NF_MSGBUF(buf), 2, nf_hook_parent(NF_DIR_INGRESS), 0xfd00, 1,
                                             NF_DIR_INGRESS, &k, &drop);
        struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
        tap_is_int(t->tcm_parent, 0xfffffff2, "ingress hook parent is ffff:fff2");
        bool has_src = false, has_dst = false;
        const struct nlattr *a, *o;
        mnl_attr_for_each(a, nlh, sizeof(struct tcmsg)) {
                if (mnl_attr_get_type(a) != TCA_OPTIONS)
                        continue;
                mnl_attr_for_each_nested(o, a) {
                        has_src |= mnl_attr_get_type(o) == TCA_FLOWER_KEY_IPV4_SRC || mnl_attr_get_type(o) == TCA_FLOWER_KEY_TCP_SRC;
                        has_dst |= mnl_attr_get_type(o) == TCA_FLOWER_KEY_IPV4_DST || mnl_attr_get_type(o) == TCA_FLOWER_KEY_TCP_DST;
                }
        }
        tap_ok(has_src && !has_dst, "ingress matches source address and port");

        /* The control-plane guard: any address, tcp, our port as the local port, no action. */
        struct nf_filter_key g = {.remote.family = AF_INET, .ip_proto = 6, .local_port = {9700, 9700}};
        nlh = nf_enc_flower(NF_MSGBUF(buf), 2, egress, 0xfd00, 1, NF_DIR_EGRESS, &g, NULL);
        bool src_port = false, addr = false, act = false;
        mnl_attr_for_each(a, nlh, sizeof(struct tcmsg)) {
                if (mnl_attr_get_type(a) != TCA_OPTIONS)
                        continue;
                mnl_attr_for_each_nested(o, a) {
                        uint16_t ty = mnl_attr_get_type(o);
                        src_port |= ty == TCA_FLOWER_KEY_TCP_SRC && ntohs(mnl_attr_get_u16(o)) == 9700;
                        addr |= ty == TCA_FLOWER_KEY_IPV4_DST || ty == TCA_FLOWER_KEY_IPV4_DST_MASK;
                        act |= ty == TCA_FLOWER_ACT;
                }
        }
        tap_ok(src_port && !addr && !act, "egress guard: tcp source port 9700, no address key, no action");
        return tap_done();
}
