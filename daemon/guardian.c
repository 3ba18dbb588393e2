#include "daemon/guardian.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "netem/apply.h"
#include "netem/sweep.h"

static void keep_only_net_admin(void) {
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct d[2] = {{0}};
        for (int c = 0; c <= 63; c++)
                if (c != CAP_NET_ADMIN)
                        prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
        d[0].effective = d[0].permitted = 1u << CAP_NET_ADMIN;
        if (syscall(SYS_capset, &h, d) < 0)
                nf_log(NF_LOG_WARN, "guardian.caps", "cannot drop capabilities: %s", strerror(errno));
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static void log_removal(const char *event, const char *message) {
        nf_log(NF_LOG_INFO, event, "guardian: %s", message);
}

static void run(int rfd, struct nf_journal *j) {
        char c;
        ssize_t n;
        struct nf_applier a;
        struct nf_sweep_report rep;
        int clsact[NF_MAX_HOOK_IFACES];
        size_t n_clsact = 0;

        prctl(PR_SET_NAME, "netfaultd-guard", 0, 0, 0);
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        keep_only_net_admin();

        /* Blocks until the daemon exits: a clean exit writes 'q' first. */
        while ((n = read(rfd, &c, 1)) < 0 && errno == EINTR)
                ;
        if (n == 1 && c == 'q')
                _exit(0);

        nf_log(NF_LOG_WARN, "guardian.daemon_died", "netfaultd died without reverting; sweeping its faults");
        if (nf_applier_open(&a) < 0) {
                nf_log(NF_LOG_ERROR, "guardian.failed", "cannot open rtnetlink");
                _exit(1);
        }
        nf_journal_load_clsact(j, clsact, NF_MAX_HOOK_IFACES, &n_clsact);
        int r = nf_sweep(&a, clsact, n_clsact, log_removal, &rep);
        nf_journal_clear(j);
        nf_journal_put_clsact(j, NULL, 0);
        nf_log(r < 0 ? NF_LOG_ERROR : NF_LOG_INFO, "guardian.swept",
               "removed %zu filter priorities, %zu links, %zu qdiscs (%zu errors)", rep.filter_prios, rep.links, rep.qdiscs,
               rep.errors);
        _exit(r < 0 ? 1 : 0);
}

int nf_guardian_start(struct nf_guardian *g, struct nf_journal *j) {
        int p[2];
        *g = (struct nf_guardian){.pid = -1, .fd = -1};
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(p[0]);
                close(p[1]);
                return r;
        }
        if (pid == 0) {
                close(p[1]);
                run(p[0], j);
        }
        close(p[0]);
        g->pid = pid;
        g->fd = p[1];
        return 0;
}

void nf_guardian_stop(struct nf_guardian *g) {
        if (g->fd >= 0) {
                if (write(g->fd, "q", 1) < 0)
                        nf_log(NF_LOG_WARN, "guardian.stop", "cannot signal the guardian: %s", strerror(errno));
                close(g->fd);
        }
        for (int i = 0; g->pid > 0 && i < 100; i++) {
                if (waitpid(g->pid, NULL, WNOHANG) == g->pid)
                        break;
                nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000}, NULL);
        }
        *g = (struct nf_guardian){.pid = -1, .fd = -1};
}
