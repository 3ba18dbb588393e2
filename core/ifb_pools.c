/* Idle ifb links of every namespace we program (netem/ifb_pool.h): their settings, the timer
 * that deletes those idle for --ifb-pool-idle seconds, and the drain at shutdown. A pod's idle
 * links must not linger in its namespace (DaemonSet mode), nor ours in the host's: one timer for
 * all namespaces deletes one link per turn of the loop (a link delete waits for RCU grace
 * periods, tens of milliseconds under TCG) and re-arms for the next one due. */
#include <event2/event.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/registry.h"

void nf_registry_pool_setup(const struct nf_registry *r, struct nf_ns *ns) {
        /* Settings only: the pool's state (links idle or taken) stays as it is. */
        nf_ifb_pool_configure(&ns->applier.pool, r->lim.ifb_pool, (int64_t)r->lim.ifb_pool_idle_s * 1000);
}

/* The earliest moment an idle link of any namespace falls due, or -1. */
static int64_t next_due(const struct nf_registry *r) {
        int64_t due = -1;
        for (const struct nf_ns *ns = r->ns.list; ns; ns = ns->next) {
                int64_t d = nf_ifb_pool_next_expiry(&ns->applier.pool);
                if (d >= 0 && (due < 0 || d < due))
                        due = d;
        }
        return due;
}

static void on_pool_timer(evutil_socket_t fd, short what, void *arg) {
        struct nf_registry *r = arg;
        int64_t now = nf_now_monotonic_ms();
        (void)fd;
        (void)what;
        for (struct nf_ns *ns = r->ns.list; ns; ns = ns->next) {
                int rc = nf_ifb_pool_expire_one(&ns->applier, now);
                if (rc == 0)
                        continue;
                if (rc < 0)
                        nf_log(NF_LOG_WARN, "ifb_pool.delete_failed", "namespace %lu: an idle ifb link: %s",
                               (unsigned long)ns->id.ino, strerror(-rc));
                else
                        nf_log(NF_LOG_DEBUG, "ifb_pool.expired", "namespace %lu: deleted an ifb link idle for %lld s",
                               (unsigned long)ns->id.ino, (long long)(ns->applier.pool.idle_ms / 1000));
                break; /* one per turn */
        }
        nf_registry_pools_changed(r);
}

void nf_registry_pools_changed(struct nf_registry *r) {
        int64_t due = next_due(r);
        if (!r->base)
                return;
        if (due < 0) {
                if (r->ifb_pool_timer)
                        evtimer_del(r->ifb_pool_timer);
                return;
        }
        int64_t in = due - nf_now_monotonic_ms();
        if (nf_registry_arm(r, &r->ifb_pool_timer, on_pool_timer, r, in < 0 ? 0 : in) < 0)
                nf_log(NF_LOG_WARN, "ifb_pool.timer", "cannot arm the idle-link timer: idle ifb links stay until shutdown");
}

void nf_registry_pools_drain(struct nf_registry *r) {
        for (struct nf_ns *ns = r->ns.list; ns; ns = ns->next)
                nf_ifb_pool_drain(&ns->applier);
        if (r->ifb_pool_timer)
                evtimer_del(r->ifb_pool_timer);
}
