#include "core/nstable.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/journal.h"
#include "core/log.h"

const char *nf_netns_kind_name(enum nf_netns_kind k) {
        switch (k) {
        case NF_NETNS_SELF: return "self";
        case NF_NETNS_HOST: return "host";
        case NF_NETNS_POD: return "pod_uid";
        case NF_NETNS_CONTAINER: return "container_id";
        case NF_NETNS_PID: return "pid";
        case NF_NETNS_PATH: return "path";
        }
        return "?";
}

struct nf_ns *nf_ns_find(const struct nf_ns_table *t, const struct nf_netns_id *id) {
        for (struct nf_ns *ns = t->list; ns; ns = ns->next)
                if (nf_netns_id_equal(&ns->id, id))
                        return ns;
        return NULL;
}

int nf_ns_link(struct nf_ns_table *t, struct nf_ns *ns) {
        struct nf_ns **p = &t->list;
        if (t->n > NF_MAX_NETNS)
                return -ENOSPC;
        while (*p)
                p = &(*p)->next;
        ns->next = NULL;
        *p = ns;
        t->n++;
        return 0;
}

bool nf_ns_unref(struct nf_ns_table *t, struct nf_ns *ns) {
        if (ns->refs > 0)
                ns->refs--;
        if (ns->refs > 0 || ns->own)
                return false;
        for (struct nf_ns **p = &t->list; *p; p = &(*p)->next)
                if (*p == ns) {
                        *p = ns->next;
                        t->n--;
                        return true;
                }
        return false;
}

int nf_ns_table_init(struct nf_ns_table *t) {
        struct nf_ns *own = calloc(1, sizeof(*own));
        int rc;
        *t = (struct nf_ns_table){0};
        if (!own)
                return -ENOMEM;
        *own = (struct nf_ns){.fd = -1, .lock_fd = -1, .own = true, .refs = 1, .named = {.kind = NF_NETNS_SELF}};
        if ((rc = nf_applier_open(&own->applier)) < 0) {
                free(own);
                return rc;
        }
        own->id = own->applier.netns;
        snprintf(own->reopen, sizeof(own->reopen), "/proc/self/ns/net");
        nf_caps_probe(&own->applier.nl, &own->caps);
        nf_ns_link(t, own);
        return 0;
}

void nf_ns_close(struct nf_ns *ns) {
        if (!ns)
                return;
        nf_applier_close(&ns->applier);
        if (ns->lock_ev)
                event_free(ns->lock_ev);
        if (ns->lock_fd >= 0)
                close(ns->lock_fd);
        if (ns->fd >= 0)
                close(ns->fd);
        free(ns);
}

void nf_ns_table_fini(struct nf_ns_table *t) {
        while (t->list) {
                struct nf_ns *ns = t->list;
                t->list = ns->next;
                nf_ns_close(ns);
        }
        t->n = 0;
}

struct take_lock {
        int holder;
};

/* Inside the target namespace. No waiting: a holder there is another daemon's, now. */
static int take_lock(void *p) {
        struct take_lock *t = p;
        return nf_netns_lock_as(0, &t->holder);
}

int nf_ns_enter(struct nf_ns_table *t, int netns_fd, const struct nf_netns_sel *named, const char *pod_uid,
                const char *reopen, struct nf_ns **out, struct nf_err *e) {
        struct nf_netns_id id;
        struct nf_ns *ns;
        int rc = nf_netns_id_of(netns_fd, &id);
        if (rc < 0) {
                close(netns_fd);
                return nf_fail(e, NF_ERR_INVALID, "not_a_netns", "netns", "netns: %s is not a network namespace (%s)",
                               reopen, strerror(-rc));
        }
        if ((ns = nf_ns_find(t, &id))) {
                close(netns_fd);
                ns->refs++;
                if (pod_uid && pod_uid[0] && !ns->pod_uid[0])
                        snprintf(ns->pod_uid, sizeof(ns->pod_uid), "%s", pod_uid);
                *out = ns;
                return 0;
        }
        if (t->n > NF_MAX_NETNS) {
                close(netns_fd);
                return nf_fail(e, NF_ERR_LIMIT, "too_many_namespaces", "netns",
                               "netns: faults are already inside %d other namespaces, the most netfaultd holds", NF_MAX_NETNS);
        }
        if (!(ns = calloc(1, sizeof(*ns)))) {
                close(netns_fd);
                return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
        }
        *ns = (struct nf_ns){.id = id, .fd = netns_fd, .lock_fd = -1, .named = *named, .refs = 1};
        snprintf(ns->pod_uid, sizeof(ns->pod_uid), "%s", pod_uid ? pod_uid : "");
        snprintf(ns->reopen, sizeof(ns->reopen), "%s", reopen);
        /* Two netfaultds must never program one namespace (a sidecar in the pod and the node's
         * DaemonSet): the lock is the namespace's own @netfaultd name, taken from inside it. */
        struct take_lock tl = {.holder = 0};
        rc = nf_netns_run(netns_fd, take_lock, &tl);
        if (rc == -EBUSY) {
                close(netns_fd);
                free(ns);
                return nf_fail(e, NF_ERR_CONFLICT, "netns_locked", "netns",
                               "netns: another netfaultd (pid %d) programs the network namespace of %s; nothing was changed",
                               tl.holder, reopen);
        }
        if (rc < 0 && rc != -ENOLCK) {
                close(netns_fd);
                free(ns);
                return nf_fail(e, rc == -EPERM ? NF_ERR_DENIED : NF_ERR_KERNEL, "netns_unavailable", "netns",
                               "netns: cannot enter the network namespace of %s: %s%s", reopen, strerror(-rc),
                               rc == -EPERM ? " (entering another namespace needs CAP_SYS_ADMIN: start with --netns-mode on)" : "");
        }
        ns->lock_fd = rc >= 0 ? rc : -1;
        if ((rc = nf_applier_open_in(&ns->applier, netns_fd)) < 0) {
                if (ns->lock_fd >= 0)
                        close(ns->lock_fd);
                close(netns_fd);
                free(ns);
                return nf_fail(e, rc == -EPERM ? NF_ERR_DENIED : NF_ERR_KERNEL, "netns_unavailable", "netns",
                               "netns: cannot enter the network namespace of %s: %s%s", reopen, strerror(-rc),
                               rc == -EPERM ? " (entering another namespace needs CAP_SYS_ADMIN: start with --netns-mode)" : "");
        }
        /* Our API is not in there: no guard filter for its port (a pod's own service on that port
         * must be faultable like any other). */
        ns->applier.guard_port = 0;
        nf_caps_probe(&ns->applier.nl, &ns->caps);
        nf_ns_link(t, ns);
        nf_log(NF_LOG_INFO, "netns.entered", "namespace %lu (named by %s %s%s%s) via %s", (unsigned long)id.ino,
               nf_netns_kind_name(named->kind), named->kind == NF_NETNS_PID ? "" : named->name,
               pod_uid && pod_uid[0] ? ", pod " : "", pod_uid ? pod_uid : "", reopen);
        *out = ns;
        return 0;
}

void nf_ns_put(struct nf_ns_table *t, struct nf_ns *ns) {
        if (!ns || !nf_ns_unref(t, ns))
                return;
        nf_log(NF_LOG_INFO, "netns.released", "namespace %lu: no fault is inside any more", (unsigned long)ns->id.ino);
        nf_ns_close(ns);
}
