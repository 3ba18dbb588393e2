/* The table of network namespaces (core/nstable.c) without a kernel: entries found by identity
 * (device and inode), our own always first and never released, a foreign entry released with its
 * last reference (and only then), the bound on foreign entries, the names of how a namespace was
 * named. The per-namespace conflict rule is test-scope.c's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/nstable.h"
#include "core/scope.h"
#include "tap.h"

static struct nf_ns *entry(unsigned long dev, unsigned long ino, bool own) {
        struct nf_ns *ns = calloc(1, sizeof(*ns));
        ns->id = (struct nf_netns_id){.dev = (dev_t)dev, .ino = (ino_t)ino};
        ns->own = own;
        ns->fd = -1;
        ns->refs = 1;
        return ns;
}

int main(void) {
        struct nf_ns_table t = {0};
        struct nf_ns *own = entry(4, 4026531840ul, true), *a = entry(4, 4026532300ul, false), *b = entry(4, 4026532301ul, false);

        tap_is_int(nf_ns_link(&t, own), 0, "our own namespace is the first entry");
        tap_is_int(nf_ns_link(&t, a), 0, "pod A's namespace joins");
        tap_is_int(nf_ns_link(&t, b), 0, "pod B's namespace joins");
        tap_ok(t.n == 3 && t.list == own && nf_ns_own(&t) == own, "three entries, ours first");
        tap_ok(nf_ns_find(&t, &a->id) == a && nf_ns_find(&t, &b->id) == b, "entries found by identity");
        struct nf_netns_id other_dev = {.dev = 5, .ino = a->id.ino};
        tap_ok(nf_ns_find(&t, &other_dev) == NULL, "the same inode on another device is another namespace");

        a->refs++; /* a second fault in pod A */
        tap_ok(!nf_ns_unref(&t, a) && nf_ns_find(&t, &a->id) == a, "pod A stays while a fault is inside");
        tap_ok(nf_ns_unref(&t, a) && nf_ns_find(&t, &a->id) == NULL && t.n == 2, "its last fault gone, pod A's entry is released");
        tap_ok(!nf_ns_unref(&t, own) && !nf_ns_unref(&t, own) && nf_ns_find(&t, &own->id) == own,
               "our own namespace is never released");
        tap_ok(t.list == own && own->next == b, "the others keep their order");

        /* Bounded: NF_MAX_NETNS foreign entries besides our own. */
        struct nf_ns *many[NF_MAX_NETNS];
        size_t linked = 0;
        for (size_t i = 0; i + 1 < NF_MAX_NETNS; i++) {
                many[i] = entry(4, 5000000000ul + i, false);
                if (nf_ns_link(&t, many[i]) == 0)
                        linked++;
        }
        tap_is_int((int)t.n, NF_MAX_NETNS + 1, "our own and %d foreign namespaces", NF_MAX_NETNS);
        struct nf_ns *extra = entry(4, 6000000000ul, false);
        tap_is_int(nf_ns_link(&t, extra), -ENOSPC, "one more is refused");
        free(extra);
        for (size_t i = 0; i < linked; i++)
                if (nf_ns_unref(&t, many[i]))
                        free(many[i]);
        tap_is_int((int)t.n, 2, "released again");

        tap_is_str(nf_netns_kind_name(NF_NETNS_POD), "pod_uid", "how a namespace was named: pod_uid");
        tap_is_str(nf_netns_kind_name(NF_NETNS_CONTAINER), "container_id", "container_id");
        tap_is_str(nf_netns_kind_name(NF_NETNS_PID), "pid", "pid");
        tap_is_str(nf_netns_kind_name(NF_NETNS_PATH), "path", "path");
        tap_is_str(nf_netns_kind_name(NF_NETNS_HOST), "host", "host");
        tap_is_str(nf_netns_kind_name(NF_NETNS_SELF), "self", "self (not named)");

        /* Conflicts are per namespace: the same target on eth0 (ifindex 2) in two pods is no overlap,
         * in one pod it is. */
        struct nf_prefix p;
        nf_prefix_parse("10.0.1.10/32", &p);
        struct nf_spec spec = {.direction = NF_DIR_EGRESS, .fx = {.has_delay = true, .delay_ms = 100}};
        struct nf_iface eth0 = {.ifindex = 2, .name = "eth0"};
        struct nf_active_scope in_b = {"f-0000000000b0", {&spec, &p, 1, &eth0, 1, &b->id}};
        struct nf_fault_scope in_a = {&spec, &p, 1, &eth0, 1, &own->id}, also_b = {&spec, &p, 1, &eth0, 1, &b->id};
        struct nf_err e;
        tap_is_int(nf_scope_check_conflicts(&in_a, &in_b, 1, &e), 0, "the same target on eth0 in another namespace is no conflict");
        tap_is_int(nf_scope_check_conflicts(&also_b, &in_b, 1, &e), -1, "in the same namespace it is a conflict");
        tap_ok(e.kind == NF_ERR_CONFLICT && strstr(e.message, "f-0000000000b0") != NULL, "naming the fault: %s", e.message);

        tap_ok(nf_ns_unref(&t, b), "pod B released");
        free(a);
        free(b);
        free(own);
        return tap_done();
}
