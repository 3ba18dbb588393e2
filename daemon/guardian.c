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

static void sweep_and_clear(struct nf_journal *j);

static void run(int rfd, struct nf_journal *j) {
        char c;
        ssize_t n;

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
        sweep_and_clear(j);
        _exit(0);
}

static void sweep_and_clear(struct nf_journal *j) {
        struct nf_applier a;
        struct nf_sweep_report rep;
        int clsact[NF_MAX_HOOK_IFACES];
        size_t n_clsact = 0;
        if (nf_applier_open(&a) < 0) {
                nf_log(NF_LOG_ERROR, "guardian.failed", "cannot open rtnetlink");
                return;
        }
        nf_journal_load_clsact(j, clsact, NF_MAX_HOOK_IFACES, &n_clsact);
        int r = nf_sweep(&a, clsact, n_clsact, log_removal, &rep);
        nf_journal_clear(j);
        nf_journal_put_clsact(j, NULL, 0);
        nf_log(r < 0 ? NF_LOG_ERROR : NF_LOG_INFO, "guardian.swept",
               "removed %zu filter priorities, %zu links, %zu qdiscs (%zu errors)", rep.filter_prios, rep.links, rep.qdiscs,
               rep.errors);
        nf_applier_close(&a);
}

static volatile sig_atomic_t forward_sig;
static void on_forward(int sig) {
        forward_sig = sig;
}

int nf_guardian_supervise(const char *state_dir) {
        pid_t child = fork();
        if (child < 0)
                return -errno;
        if (child == 0)
                return 0;
        prctl(PR_SET_NAME, "netfaultd-guard", 0, 0, 0);
        struct sigaction sa = {.sa_handler = on_forward};
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        for (;;) {
                int status;
                pid_t p = waitpid(-1, &status, 0);
                if (p < 0 && errno == EINTR) {
                        if (forward_sig)
                                kill(child, forward_sig);
                        forward_sig = 0;
                        continue;
                }
                if (p != child)
                        continue; /* an orphan we reap as PID 1 */
                if (WIFEXITED(status))
                        _exit(WEXITSTATUS(status));
                nf_log(NF_LOG_WARN, "guardian.daemon_died", "netfaultd died by signal %d; sweeping its faults",
                       WTERMSIG(status));
                struct nf_journal j;
                char err[512];
                if (nf_journal_attach(&j, state_dir, err, sizeof(err)) < 0)
                        nf_log(NF_LOG_WARN, "guardian.journal", "%s; sweeping by our marks only", err);
                sweep_and_clear(&j);
                nf_journal_close(&j);
                _exit(128 + WTERMSIG(status));
        }
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
