/* The planner: faults to tc objects, unit conversion, and conflict detection. No kernel. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "netem/plan.h"
#include "netem/units.h"
#include "tap.h"

static struct nf_prefix P(const char *s) {
        struct nf_prefix p = {0};
        nf_prefix_parse(s, &p);
        return p;
}

int main(void) {
        struct nf_prefix targets[] = {P("fd00:1::10"), P("10.0.1.10"), P("10.0.2.0/24")};
        struct nf_spec s = {.targets = targets, .n_targets = 3, .proto = NF_PROTO_TCP, .n_ports = 2,
                            .direction = NF_DIR_EGRESS};
        struct nf_iface ifs[] = {{2, "eth0"}, {5, "eth1"}};
        struct nf_prefix *eff;
        size_t n_eff;
        struct nf_plan p;

        s.ports[0] = (struct nf_port_range){443, 443};
        s.ports[1] = (struct nf_port_range){8000, 8100};
        s.fx.has_delay = true;
        s.fx.delay_ms = 100;
        s.fx.jitter_ms = 10;
        s.fx.has_loss = true;
        s.fx.loss_pct = 20;
        nf_prefix_set_normalize(s.targets, &s.n_targets);

        tap_ok(nf_spec_effective(&s, 100, &eff, &n_eff) == 0 && n_eff == 3, "effective set without excludes");
        tap_ok(nf_plan_build(&s, "f-test", eff, n_eff, 3, ifs, 2, &p) == 0, "plan builds");
        tap_is_int(p.n_keys, 6, "3 prefixes x 2 port ranges = 6 filters per link");
        tap_ok(p.keys[0].remote.family == AF_INET && p.keys[3].remote.family == AF_INET, "IPv4 keys first");
        tap_ok(p.keys[4].remote.family == AF_INET6 && p.keys[4].ip_proto == IPPROTO_TCP, "IPv6 key carries tcp");
        tap_ok(p.keys[1].remote_port.lo == 8000 && p.keys[1].remote_port.hi == 8100, "port range kept");
        tap_is_int(p.n_links, 2, "one link per interface");
        tap_is_int(p.links[0].prio_v4, NF_PRIO_BASE + 8, "slot 3 IPv4 priority (after the guard)");
        tap_is_int(p.links[0].prio_v6, NF_PRIO_BASE + 9, "slot 3 IPv6 priority");
        tap_ok(nf_prio_is_ours(p.links[0].prio_v4) && !nf_prio_is_ours(0xC000) && !nf_prio_is_ours(1),
               "our priority range is recognisable");
        tap_is_str(p.links[0].ifb_name, "nfe3.2", "ifb name carries slot and parent ifindex");
        tap_is_str(p.links[1].ifb_name, "nfe3.5", "second interface has its own ifb");
        tap_ok(p.links[0].ifb_ifindex != p.links[1].ifb_ifindex && p.links[0].ifb_ifindex >= NF_IFB_INDEX_BASE,
               "ifb ifindexes are ours and distinct");
        tap_ok(p.links[0].act_index != p.links[1].act_index, "each link has its own shared action");
        tap_ok(p.links[0].action == NF_ACTION_REDIRECT, "shaping redirects to the ifb");
        /* units: the one conversion boundary */
        tap_is_int(p.netem.latency_ns, 100000000, "100 ms is 1e8 ns");
        tap_is_int(nf_ns_to_ticks(p.netem.latency_ns), 1562500, "100 ms is 1562500 psched ticks");
        tap_is_int(p.netem.loss, 858993459, "20 %% is round(0.2 * UINT32_MAX)");
        tap_is_int(p.netem.limit, NF_NETEM_DEFAULT_LIMIT, "default netem limit");
        tap_is_int(nf_percent_to_u32(100), UINT32_MAX, "100 %% saturates");
        tap_is_int(nf_percent_to_u32(50), 2147483648u, "50 %% rounds like tc");
        nf_plan_free(&p);

        s.fx = (struct nf_effects){.blackhole = true};
        s.direction = NF_DIR_BOTH;
        s.proto = NF_PROTO_ICMP;
        s.n_ports = 0;
        tap_ok(nf_plan_build(&s, "f-test", eff, n_eff, 0, ifs, 1, &p) == 0, "blackhole both directions plans");
        tap_is_int(p.n_links, 2, "egress and ingress links");
        tap_ok(p.links[0].dir == NF_DIR_EGRESS && p.links[1].dir == NF_DIR_INGRESS, "directions in order");
        tap_ok(p.links[0].action == NF_ACTION_DROP && p.links[0].ifb_name[0] == '\0', "blackhole drops without an ifb");
        tap_ok(p.keys[0].ip_proto == IPPROTO_ICMP && p.keys[2].ip_proto == IPPROTO_ICMPV6, "icmp maps per family");
        nf_plan_free(&p);
        tap_ok(nf_plan_build(&s, "f-test", eff, n_eff, NF_MAX_SLOTS, ifs, 1, &p) == -ERANGE, "slot out of range refused");

        /* local ports multiply with remote ports */
        s.fx = (struct nf_effects){.blackhole = true};
        s.direction = NF_DIR_EGRESS;
        s.proto = NF_PROTO_TCP;
        s.n_ports = 2;
        s.n_local_ports = 1;
        s.local_ports[0] = (struct nf_port_range){8080, 8080};
        tap_ok(nf_plan_build(&s, "f-test", eff, n_eff, 1, ifs, 1, &p) == 0 && p.n_keys == 6, "3 prefixes x 2 ports x 1 local port");
        tap_ok(p.keys[0].local_port.lo == 8080 && p.keys[1].remote_port.lo == 8000, "keys carry both ports");
        nf_plan_free(&p);
        s.n_local_ports = 0;
        tap_is_int(nf_guard_prio(AF_INET), NF_PRIO_BASE, "the guard comes first");
        tap_ok(nf_prio_is_ours(nf_slot_prio(NF_MAX_SLOTS - 1, AF_INET6)) && !nf_prio_is_ours(nf_slot_prio(NF_MAX_SLOTS - 1, AF_INET6) + 1),
               "the last slot's priority is the last of ours");

        /* filter limit */
        s.proto = NF_PROTO_TCP;
        s.n_ports = NF_MAX_PORTS;
        struct nf_prefix *many = calloc(1000, sizeof(*many));
        for (int i = 0; i < 1000; i++) {
                many[i].family = AF_INET;
                many[i].len = 32;
                many[i].addr = 0x0a000000u + (unsigned)i;
        }
        tap_ok(nf_plan_build(&s, "f-test", many, 1000, 0, ifs, 1, &p) == -E2BIG, "1000 prefixes x 64 ports exceeds the filter limit");
        free(many);

        /* conflicts */
        struct nf_prefix ta[] = {P("10.0.0.0/8")}, ea[] = {P("10.1.0.0/16")}, tb[] = {P("10.1.2.3")}, tc[] = {P("10.2.0.1")};
        struct nf_spec a = {.targets = ta, .n_targets = 1, .exclude = ea, .n_exclude = 1, .direction = NF_DIR_EGRESS};
        struct nf_spec b = {.targets = tb, .n_targets = 1, .direction = NF_DIR_EGRESS};
        struct nf_spec c = {.targets = tc, .n_targets = 1, .direction = NF_DIR_EGRESS};
        struct nf_prefix *effa, *effb, *effc;
        size_t na, nb, nc;
        char why[200];
        nf_spec_effective(&a, 100, &effa, &na);
        nf_spec_effective(&b, 100, &effb, &nb);
        nf_spec_effective(&c, 100, &effc, &nc);
        struct nf_fault_scope sa = {&a, effa, na, ifs, 1, NULL}, sb = {&b, effb, nb, ifs, 1, NULL}, sc = {&c, effc, nc, ifs, 1, NULL};
        tap_ok(!nf_scopes_overlap(&sa, &sb, why, sizeof(why)), "a target inside another fault's exclude does not conflict");
        tap_ok(nf_scopes_overlap(&sa, &sc, why, sizeof(why)), "overlapping targets conflict");
        tap_ok(strstr(why, "10.2.0.1/32") && strstr(why, "eth0"), "conflict names the prefix and interface: %s", why);
        struct nf_fault_scope sc_other_if = {&c, effc, nc, &ifs[1], 1, NULL};
        tap_ok(!nf_scopes_overlap(&sa, &sc_other_if, NULL, 0), "different interfaces never conflict");
        c.direction = NF_DIR_INGRESS;
        tap_ok(!nf_scopes_overlap(&sa, &sc, NULL, 0), "different directions never conflict");
        c.direction = NF_DIR_BOTH;
        tap_ok(nf_scopes_overlap(&sa, &sc, NULL, 0), "both overlaps egress");
        a.proto = NF_PROTO_TCP;
        c.proto = NF_PROTO_UDP;
        tap_ok(!nf_scopes_overlap(&sa, &sc, NULL, 0), "tcp and udp never conflict");
        c.proto = NF_PROTO_TCP;
        a.n_ports = c.n_ports = 1;
        a.ports[0] = (struct nf_port_range){8080, 8080};
        c.ports[0] = (struct nf_port_range){8081, 9000};
        tap_ok(!nf_scopes_overlap(&sa, &sc, NULL, 0), "disjoint ports never conflict");
        c.ports[0] = (struct nf_port_range){8000, 8080};
        tap_ok(nf_scopes_overlap(&sa, &sc, NULL, 0), "overlapping port ranges conflict");
        /* The same ifindex in two pods' namespaces is two different interfaces. */
        struct nf_netns_id ns1 = {.dev = 4, .ino = 4026532001}, ns2 = {.dev = 4, .ino = 4026532002};
        sa.netns = &ns1;
        sc.netns = &ns2;
        tap_ok(!nf_scopes_overlap(&sa, &sc, NULL, 0), "the same ifindex in different namespaces never conflicts");
        sc.netns = &ns1;
        tap_ok(nf_scopes_overlap(&sa, &sc, NULL, 0), "... in the same namespace it does");
        sc.netns = NULL;
        tap_ok(nf_scopes_overlap(&sa, &sc, NULL, 0), "... and a scope without a namespace counts as the same one");
        free(effa);
        free(effb);
        free(effc);
        free(eff);
        return tap_done();
}
