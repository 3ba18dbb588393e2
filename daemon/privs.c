#include "daemon/privs.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"

static bool netns_mode;

void nf_privs_netns_mode(bool on) {
        netns_mode = on;
}

int nf_keep_needed_caps(const char *event) {
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct d[2] = {{0}};
        int r = 0;
        /* Without raw capset (no libcap): version 3 holds 64 capabilities in two words. */
        if (syscall(SYS_capget, &h, d) < 0) {
                r = -errno;
                nf_log(NF_LOG_WARN, event, "cannot read our capabilities: %s", strerror(errno));
                return r;
        }
        /* --netns-mode: entering a pod's namespace (setns) needs CAP_SYS_ADMIN, opening another
         * user's /proc/PID/ns/net needs CAP_SYS_PTRACE; both processes need both (the guardian
         * reopens journaled namespaces to sweep them). Nothing else, ever. */
        uint32_t want = (1u << CAP_NET_ADMIN) | (netns_mode ? (1u << CAP_SYS_ADMIN) | (1u << CAP_SYS_PTRACE) : 0);
        uint32_t keep = d[0].permitted & want;
        /* The bounding set first: dropping from it needs CAP_SETPCAP, which goes next. Without
         * CAP_SETPCAP (an unprivileged start, a second call) the set is what it was, and EPERM is
         * no error here. */
        for (int c = 0; c <= 63; c++)
                if (!(c < 32 && (want & (1u << c))) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 &&
                    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EPERM && errno != EINVAL && r == 0)
                        r = -errno;
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        /* Already down to keep (a service manager did it; its seccomp filter may refuse capset):
         * a leftover inheritable bit is harmless without ambient capabilities and with
         * no-new-privileges, so a refused capset is no error then. */
        bool done = d[0].effective == keep && d[0].permitted == keep && !d[1].effective && !d[1].permitted;
        d[0] = (struct __user_cap_data_struct){.effective = keep, .permitted = keep, .inheritable = 0};
        d[1] = (struct __user_cap_data_struct){0};
        if (syscall(SYS_capset, &h, d) < 0 && r == 0 && !done)
                r = -errno;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 && r == 0)
                r = -errno;
        if (r < 0)
                nf_log(NF_LOG_WARN, event, "cannot drop capabilities: %s", strerror(-r));
        else
                nf_log(NF_LOG_DEBUG, event, "keeping %s, no new privileges",
                       !keep                                ? "no capability"
                       : keep == (1u << CAP_NET_ADMIN)      ? "CAP_NET_ADMIN only"
                                                            : "CAP_NET_ADMIN, CAP_SYS_ADMIN and CAP_SYS_PTRACE (--netns-mode)");
        return r;
}
