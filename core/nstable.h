/* The network namespaces faults live in: one entry per namespace, the daemon's own always the
 * first. An entry holds what used to be one per daemon: the namespace's file (held open for as
 * long as a fault is inside, so its identity cannot be reused under us), its applier (netlink
 * sockets made inside it, the clsact hooks we created there), what its kernel offers, the slots
 * and the rotation of shared action indexes. Marks, conflicts, limits and default interfaces are
 * per namespace: two pods may each hold a fault in slot 0 on their own eth0 (ifindex 2 in both).
 * An entry other than our own goes when its last fault goes. The table operations (find, link,
 * unref) are pure and unit-tested (tests/unit/test-nstable.c); opening one needs the kernel.
 * (Not core/netns.c: netem/netns.c has that name, and the fuzz build compiles every source into
 * one directory of objects.) */
#pragma once
#include "core/layer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct event;
#include "netem/apply.h"
#include "netem/caps.h"
#include "netem/netns.h"
#include "netem/plan.h"
#include "netem/spec.h"

/* Namespaces other than our own with faults at once (each holds netlink sockets and a file). */
#define NF_MAX_NETNS 64
#define NF_NETNS_REOPEN_LEN 256

struct nf_ns {
        struct nf_netns_id id;
        int fd;    /* the namespace file, held open while faults are inside; -1 for our own */
        bool own;  /* the daemon's own namespace (first entry, never released) */
        struct nf_netns_sel named; /* how the first fault that entered it named it */
        char pod_uid[NF_NETNS_NAME_LEN]; /* the pod it belongs to, when known ("" otherwise) */
        /* How to reopen it after a restart: /proc/PID/ns/net of a process inside or a bind
         * mount; the identity decides whether what it opens is still this namespace. */
        char reopen[NF_NETNS_REOPEN_LEN];
        struct nf_applier applier; /* holds the clsact hooks we created here and their users */
        struct nf_caps caps;
        bool slot_used[NF_MAX_SLOTS];
        uint32_t next_action; /* the rotation of shared action indexes, see nf_scope_action_indexes() */
        size_t n_faults, n_filters;
        unsigned refs; /* faults (and creations being planned) that point here */
        int lock_fd;   /* the namespace's @netfaultd lock, taken inside it; -1 for our own (main.c holds it) */
        struct event *lock_ev; /* accepts (and closes) what probes the lock, so that it keeps answering */
        bool gone;     /* no process or file names it any more: its faults are gone */
        struct nf_ns *next;
};

struct nf_ns_table {
        struct nf_ns *list; /* our own first */
        size_t n;           /* entries, our own included */
};

/* ---- pure ---- */
const char *nf_netns_kind_name(enum nf_netns_kind k);
struct nf_ns *nf_ns_find(const struct nf_ns_table *t, const struct nf_netns_id *id);
/* Appends ns (refs as it is); -ENOSPC beyond NF_MAX_NETNS foreign entries. */
int nf_ns_link(struct nf_ns_table *t, struct nf_ns *ns);
/* Drops one reference; true when that was the last one of an entry other than our own, which
 * is then unlinked and the caller's to close (nf_ns_close). */
bool nf_ns_unref(struct nf_ns_table *t, struct nf_ns *ns);

/* ---- with the kernel ---- */
/* The table with our own namespace as its first entry (applier opened, kernel probed). */
int nf_ns_table_init(struct nf_ns_table *t);
void nf_ns_table_fini(struct nf_ns_table *t);
static inline struct nf_ns *nf_ns_own(const struct nf_ns_table *t) {
        return t->list;
}
/* The entry of the namespace netns_fd refers to, with one more reference: the existing one (fd is
 * closed) or a new one that keeps fd. named, pod_uid (may be NULL) and reopen say how it was
 * found. -1 with e filled (nothing kept, fd closed). */
int nf_ns_enter(struct nf_ns_table *t, int netns_fd, const struct nf_netns_sel *named, const char *pod_uid,
                const char *reopen, struct nf_ns **out, struct nf_err *e);
/* One reference fewer; the last one of a foreign entry closes it. */
void nf_ns_put(struct nf_ns_table *t, struct nf_ns *ns);
void nf_ns_close(struct nf_ns *ns);
