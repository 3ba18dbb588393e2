/* The scope policy (core/scope.c) without a kernel, a registry or an event loop: exclusions and
 * control-plane protection, the effective set and its refusals, conflicts with active faults,
 * slot and action-index allocation, the fault and filter limits. */
#include <errno.h>
#include <stdlib.h>

#include "core/scope.h"
#include "tap.h"

static struct nf_prefix P(const char *s) {
        struct nf_prefix p = {0};
        if (nf_prefix_parse(s, &p) < 0)
                printf("# bad prefix in the test: %s\n", s);
        return p;
}

static const char *fmt(const struct nf_prefix *p) {
        static char buf[4][NF_PREFIX_STRLEN];
        static int i;
        i = (i + 1) % 4;
        return nf_prefix_format(p, buf[i], sizeof(buf[i]));
}

static bool holds(const struct nf_prefix *v, size_t n, const char *s) {
        struct nf_prefix p = P(s);
        for (size_t i = 0; i < n; i++)
                if (v[i].family == p.family && v[i].len == p.len && v[i].addr == p.addr)
                        return true;
        return false;
}

/* A spec over the given targets and excludes (normalised as the validator leaves them). */
struct fixture {
        struct nf_prefix targets[8], exclude[8];
        char names[2][NF_TARGET_NAME_LEN];
        struct nf_spec spec;
};

static void setup(struct fixture *x, const char *const *targets, size_t nt, const char *const *exclude, size_t ne) {
        *x = (struct fixture){0};
        for (size_t i = 0; i < nt; i++)
                x->targets[i] = P(targets[i]);
        for (size_t i = 0; i < ne; i++)
                x->exclude[i] = P(exclude[i]);
        x->spec = (struct nf_spec){.targets = x->targets, .n_targets = nt, .exclude = x->exclude, .n_exclude = ne,
                                   .target_names = x->names, .direction = NF_DIR_EGRESS};
        nf_prefix_set_normalize(x->spec.targets, &x->spec.n_targets);
        nf_prefix_set_normalize(x->spec.exclude, &x->spec.n_exclude);
}

static void name(struct fixture *x, const char *n) {
        snprintf(x->names[x->spec.n_target_names++], NF_TARGET_NAME_LEN, "%s", n);
}

static void exclusions(void) {
        static const struct nf_prefix ns[] = {{.addr = 0x0a000035, .family = AF_INET, .len = 32}}; /* 10.0.0.53 */
        struct fixture x;
        struct nf_prefix *ex;
        size_t n;
        const char *ex1[] = {"192.0.2.0/24"};

        setup(&x, NULL, 0, ex1, 1);
        struct nf_scope_input in = {.spec = &x.spec, .nameservers = ns, .n_nameservers = 1};
        tap_ok(nf_scope_exclusions(&in, &ex, &n) == 0, "exclusions of a fault with addresses only");
        tap_is_int(n, 4, "the user's exclude and the three protected addresses");
        tap_ok(holds(ex, n, "192.0.2.0/24") && holds(ex, n, "169.254.170.2/32") && holds(ex, n, "169.254.169.254/32") &&
                       holds(ex, n, "fd00:ec2::254/128"),
               "ECS agent, EC2 metadata (IPv4 and IPv6) are protected");
        tap_ok(!holds(ex, n, "10.0.0.53/32"), "the nameservers are not, without hostnames");
        free(ex);

        name(&x, "aws:S3");
        nf_scope_exclusions(&in, &ex, &n);
        tap_ok(!holds(ex, n, "10.0.0.53/32"), "nor for aws: selections, which need no DNS");
        free(ex);

        name(&x, "db.example");
        nf_scope_exclusions(&in, &ex, &n);
        tap_ok(holds(ex, n, "10.0.0.53/32") && n == 5, "a fault with a hostname protects the nameservers too");
        free(ex);

        x.spec.allow_control_plane = true;
        nf_scope_exclusions(&in, &ex, &n);
        tap_ok(n == 1 && holds(ex, n, "192.0.2.0/24"), "allow_control_plane leaves the user's exclude alone");
        free(ex);
}

static void effective(void) {
        struct fixture x;
        struct nf_scope_set set;
        struct nf_err e;

        const char *t1[] = {"10.0.0.0/24"}, *e1[] = {"10.0.0.0/25"};
        setup(&x, t1, 1, e1, 1);
        struct nf_scope_input in = {.spec = &x.spec};
        tap_ok(nf_scope_effective(&in, &set, &e) == 0 && set.n_eff == 1 && holds(set.eff, set.n_eff, "10.0.0.128/25"),
               "targets minus exclude");
        tap_is_int(set.n_protected_hit, 0, "no protected address was in the way");
        free(set.eff);

        /* Every target protected: refused, and the message says how to fault them anyway. */
        const char *t2[] = {"169.254.169.254"};
        setup(&x, t2, 1, NULL, 0);
        tap_ok(nf_scope_effective(&in, &set, &e) < 0 && set.eff == NULL, "only a protected address: refused");
        tap_is_str(e.code, "empty_match", "as empty_match");
        tap_is_str(e.field, "allow_control_plane", "naming allow_control_plane");
        tap_ok(e.kind == NF_ERR_INVALID && strstr(e.message, "\"allow_control_plane\": true"), "%s", e.message);
        x.spec.allow_control_plane = true;
        tap_ok(nf_scope_effective(&in, &set, &e) == 0 && set.n_eff == 1 && set.n_protected_hit == 0,
               "with allow_control_plane it is faulted");
        free(set.eff);

        /* A range around the metadata addresses: they are cut out and reported. */
        const char *t3[] = {"169.254.0.0/16", "fd00:ec2::/64"};
        setup(&x, t3, 2, NULL, 0);
        tap_ok(nf_scope_effective(&in, &set, &e) == 0, "a range holding protected addresses is accepted");
        tap_is_int(set.n_protected_hit, 3, "the three protected addresses it held are reported");
        tap_ok(holds(set.protected_hit, set.n_protected_hit, "169.254.170.2/32") &&
                       holds(set.protected_hit, set.n_protected_hit, "fd00:ec2::254/128"),
               "by address: %s, %s, %s", fmt(&set.protected_hit[0]), fmt(&set.protected_hit[1]), fmt(&set.protected_hit[2]));
        bool clear = true;
        for (size_t i = 0; i < set.n_eff; i++)
                clear &= !nf_prefix_overlaps(&set.eff[i], &set.protected_hit[0]) &&
                         !nf_prefix_overlaps(&set.eff[i], &set.protected_hit[1]) &&
                         !nf_prefix_overlaps(&set.eff[i], &set.protected_hit[2]);
        tap_ok(clear, "and none of them is in the effective set (%zu prefixes)", set.n_eff);
        free(set.eff);

        /* The user's exclude covers everything. */
        const char *t4[] = {"10.0.0.0/24", "10.0.5.1"}, *e4[] = {"10.0.0.0/16"};
        setup(&x, t4, 2, e4, 1);
        tap_ok(nf_scope_effective(&in, &set, &e) < 0, "an exclude covering every target: refused");
        tap_ok(strcmp(e.code, "empty_match") == 0 && strcmp(e.field, "exclude") == 0 &&
                       strstr(e.message, "exclude covers every target"),
               "naming exclude: %s", e.message);

        /* A protected target the user excluded as well is not reported as protected. */
        const char *t5[] = {"169.254.169.254"}, *e5[] = {"169.254.169.254"};
        setup(&x, t5, 1, e5, 1);
        tap_ok(nf_scope_effective(&in, &set, &e) < 0 && strcmp(e.field, "exclude") == 0,
               "a protected address excluded by the user too: the exclude is named");

        /* Addresses from names join; a nameserver among them is protected for a hostname fault. */
        struct nf_prefix learned[] = {P("192.0.2.7"), P("192.0.2.53")}, ns[] = {P("192.0.2.53")};
        setup(&x, NULL, 0, NULL, 0);
        name(&x, "api.example");
        in = (struct nf_scope_input){.spec = &x.spec, .learned = learned, .n_learned = 2, .nameservers = ns, .n_nameservers = 1};
        tap_ok(nf_scope_effective(&in, &set, &e) == 0 && set.n_eff == 1 && holds(set.eff, 1, "192.0.2.7/32"),
               "a hostname's addresses are the targets, minus the nameserver");
        tap_ok(set.n_protected_hit == 1 && holds(set.protected_hit, 1, "192.0.2.53/32"), "which is reported as protected");
        free(set.eff);

        /* Splitting past NF_MAX_FILTERS_PER_FAULT prefixes: one /32 out of each of 3,000 /16s. */
        struct nf_prefix all = P("0.0.0.0/0"), *holes = calloc(3000, sizeof(*holes));
        for (unsigned i = 0; i < 3000; i++)
                holes[i] = (struct nf_prefix){.addr = ((nf_u128)(i + 256) << 16) | 1, .family = AF_INET, .len = 32};
        struct nf_spec big = {.targets = &all, .n_targets = 1, .exclude = holes, .n_exclude = 3000};
        in = (struct nf_scope_input){.spec = &big};
        tap_ok(nf_scope_effective(&in, &set, &e) < 0 && strcmp(e.code, "too_many_filters") == 0 &&
                       strcmp(e.field, "exclude") == 0 && set.eff == NULL,
               "targets minus exclude past the per-fault limit: refused naming exclude (%s)", e.message);
        free(holes);
}

static struct nf_fault_scope scope_of(const struct nf_spec *s, const struct nf_prefix *eff, size_t n,
                                      const struct nf_iface *ifs, size_t n_ifs) {
        return (struct nf_fault_scope){s, eff, n, ifs, n_ifs, NULL};
}

static void conflicts(void) {
        struct nf_iface eth0 = {2, "eth0"}, eth1 = {3, "eth1"}, both[] = {{3, "eth1"}, {2, "eth0"}};
        struct nf_prefix net = P("10.0.0.0/24"), host = P("10.0.0.5"), other = P("10.9.0.0/16");
        struct nf_spec a = {.direction = NF_DIR_EGRESS}, b = {.direction = NF_DIR_EGRESS};
        struct nf_fault_scope sa = scope_of(&a, &net, 1, &eth0, 1);
        struct nf_active_scope act[] = {{"f-other", scope_of(&b, &other, 1, &eth0, 1)},
                                        {"f-host", scope_of(&b, &host, 1, &eth0, 1)}};
        struct nf_err e;
        char why[256];

        tap_is_int(nf_scope_check_conflicts(&sa, act, 0, &e), 0, "no active fault, no conflict");
        tap_is_int(nf_scope_check_conflicts(&sa, act, 1, &e), 0, "disjoint addresses do not conflict");
        tap_is_int(nf_scope_check_conflicts(&sa, act, 2, &e), -1, "an address inside the new range conflicts");
        tap_ok(e.kind == NF_ERR_CONFLICT && strcmp(e.code, "conflict") == 0 && strcmp(e.field, "targets") == 0,
               "as a conflict on targets");
        tap_is_str(e.message, "overlaps active fault f-host: 10.0.0.0/24 overlaps 10.0.0.5/32 on eth0",
                   "naming the fault, both prefixes and the interface");
        tap_is_int(nf_scope_overlapping(&sa, act, 2, why, sizeof(why)), 1, "the index of the fault in the way");

        act[1].scope.ifaces = &eth1;
        tap_is_int(nf_scope_overlapping(&sa, act, 2, NULL, 0), -1, "another interface: no conflict");
        act[1].scope.ifaces = both;
        act[1].scope.n_ifaces = 2;
        tap_is_int(nf_scope_overlapping(&sa, act, 2, why, sizeof(why)), 1, "one shared interface of several: a conflict");

        b.direction = NF_DIR_INGRESS;
        tap_is_int(nf_scope_overlapping(&sa, act, 2, NULL, 0), -1, "egress and ingress: no conflict");
        a.direction = NF_DIR_BOTH;
        tap_is_int(nf_scope_overlapping(&sa, act, 2, NULL, 0), 1, "both and ingress: a conflict");
        a.direction = b.direction = NF_DIR_EGRESS;

        a.proto = NF_PROTO_TCP;
        b.proto = NF_PROTO_UDP;
        tap_is_int(nf_scope_overlapping(&sa, act, 2, NULL, 0), -1, "tcp and udp: no conflict");
        b.proto = NF_PROTO_ALL;
        tap_is_int(nf_scope_overlapping(&sa, act, 2, NULL, 0), 1, "tcp and every protocol: a conflict");
        b.proto = NF_PROTO_TCP;
        a.n_ports = b.n_ports = 1;
        a.ports[0] = (struct nf_port_range){443, 443};
        b.ports[0] = (struct nf_port_range){80, 80};
        tap_is_int(nf_scope_overlapping(&sa, act, 2, NULL, 0), -1, "ports 443 and 80: no conflict");
        b.ports[0] = (struct nf_port_range){400, 500};
        tap_is_int(nf_scope_overlapping(&sa, act, 2, NULL, 0), 1, "port 443 and 400-500: a conflict");
        b.n_ports = 0;
        tap_is_int(nf_scope_overlapping(&sa, act, 2, NULL, 0), 1, "port 443 and every port: a conflict");
        a.n_local_ports = b.n_local_ports = 1;
        a.local_ports[0] = (struct nf_port_range){8080, 8080};
        b.local_ports[0] = (struct nf_port_range){9090, 9099};
        tap_is_int(nf_scope_overlapping(&sa, act, 2, NULL, 0), -1, "disjoint local ports: no conflict");
        b.local_ports[0] = (struct nf_port_range){8000, 8080};
        tap_is_int(nf_scope_overlapping(&sa, act, 2, NULL, 0), 1, "overlapping local ports: a conflict");
}

static void slots(void) {
        bool used[NF_MAX_SLOTS] = {0};
        unsigned s = 99;
        struct nf_err e;

        tap_ok(nf_scope_slot(used, -1, &s, &e) == 0 && s == 0, "an empty table gives slot 0");
        used[0] = used[1] = used[3] = true;
        tap_ok(nf_scope_slot(used, -1, &s, &e) == 0 && s == 2, "the lowest free slot (2)");
        tap_ok(nf_scope_slot(used, 7, &s, &e) == 0 && s == 7, "a resumed fault keeps its free journaled slot");
        tap_ok(nf_scope_slot(used, 3, &s, &e) < 0 && strstr(e.message, "slot 3 is not free"), "a taken one is refused: %s",
               e.message);
        tap_ok(nf_scope_slot(used, (int)NF_MAX_SLOTS, &s, &e) < 0, "a slot past the table is refused");
        for (unsigned i = 0; i < NF_MAX_SLOTS; i++)
                used[i] = i != NF_MAX_SLOTS - 1;
        tap_ok(nf_scope_slot(used, -1, &s, &e) == 0 && s == NF_MAX_SLOTS - 1, "the last free slot is found");
        used[NF_MAX_SLOTS - 1] = true;
        tap_ok(nf_scope_slot(used, -1, &s, &e) < 0 && e.kind == NF_ERR_INTERNAL, "a full table: refused (%s)", e.message);
}

static void action_indexes(void) {
        struct nf_plan_link l[3] = {0};
        uint32_t next = 0, used[] = {NF_ACT_INDEX_BASE + 1, NF_ACT_INDEX_BASE + 2};

        tap_ok(nf_scope_action_indexes(&next, NULL, 0, l, 2) == 0 && l[0].act_index == NF_ACT_INDEX_BASE &&
                       l[1].act_index == NF_ACT_INDEX_BASE + 1 && next == 2,
               "the rotation hands out consecutive indexes");
        next = 0;
        int rc = nf_scope_action_indexes(&next, used, 2, l, 2);
        tap_ok(rc == 0 && l[0].act_index == NF_ACT_INDEX_BASE && l[1].act_index == NF_ACT_INDEX_BASE + 3,
               "indexes in use are skipped (%#x, %#x)", l[0].act_index, l[1].act_index);
        next = 0xfffe;
        tap_ok(nf_scope_action_indexes(&next, NULL, 0, l, 3) == 0 && l[0].act_index == NF_ACT_INDEX_BASE + 0xfffe &&
                       l[1].act_index == NF_ACT_INDEX_BASE + 0xffff && l[2].act_index == NF_ACT_INDEX_BASE,
               "past 0xffff it wraps to the start of our range");
        next = UINT32_MAX;
        tap_ok(nf_scope_action_indexes(&next, NULL, 0, l, 2) == 0 && l[0].act_index == NF_ACT_INDEX_BASE + 0xffff &&
                       l[1].act_index == NF_ACT_INDEX_BASE,
               "and so does the counter itself");
        uint32_t wrap_used[] = {NF_ACT_INDEX_BASE + 0xffff, NF_ACT_INDEX_BASE};
        next = 0xffff;
        tap_ok(nf_scope_action_indexes(&next, wrap_used, 2, l, 1) == 0 && l[0].act_index == NF_ACT_INDEX_BASE + 1,
               "skipping across the wrap");

        uint32_t *all = calloc(0x10000, sizeof(*all));
        for (uint32_t i = 0; i < 0x10000; i++)
                all[i] = NF_ACT_INDEX_BASE + i;
        tap_is_int(nf_scope_action_indexes(&next, all, 0x10000, l, 1), -ENOSPC, "every index in use: refused, no endless loop");
        all[0x1234] = 0;
        tap_ok(nf_scope_action_indexes(&next, all, 0x10000, l, 1) == 0 && l[0].act_index == NF_ACT_INDEX_BASE + 0x1234,
               "the one free index is found");
        free(all);
}

static void limits(void) {
        struct nf_err e;
        tap_is_int(nf_scope_faults_fit(63, 64, &e), 0, "the 64th fault fits --max-faults 64");
        tap_is_int(nf_scope_faults_fit(64, 64, &e), -1, "the 65th does not");
        tap_ok(e.kind == NF_ERR_LIMIT && strcmp(e.code, "too_many_faults") == 0 && e.field[0] == '\0', "a limit, no field");
        tap_is_str(e.message, "64 faults are active, the limit (--max-faults) is 64", "the message");
        tap_is_int(nf_scope_filters_fit(90, 10, 100, &e), 0, "filters up to --max-filters fit");
        tap_is_int(nf_scope_filters_fit(90, 11, 100, &e), -1, "one more does not");
        tap_ok(e.kind == NF_ERR_LIMIT && strcmp(e.code, "too_many_filters") == 0 && strcmp(e.field, "targets") == 0,
               "a limit on targets");
        tap_is_str(e.message, "the fault needs 11 filters; 90 are installed and the limit (--max-filters) is 100", "the message");
}

int main(void) {
        exclusions();
        effective();
        conflicts();
        slots();
        action_indexes();
        limits();
        return tap_done();
}
