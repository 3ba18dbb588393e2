#include "daemon/guardian.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <event2/event.h>

#include "api/audit.h"
#include "core/journal.h"
#include "core/log.h"
#include "core/reconcile.h"
#include "daemon/privs.h"
#include "netem/apply.h"
#include "netem/sweep.h"

static void log_removal(const char *event, const char *message) {
        nf_log(NF_LOG_INFO, event, "guardian: %s", message);
}

static void sweep_and_clear(struct nf_journal *j);

/* A guardian restarted later is forked from a daemon that listens and serves: it must not hold
 * the daemon's sockets (a listening port kept open by a guardian would keep a restarted daemon
 * from binding it) nor its event loop. Only the pipe, the journal's directory and lock, the
 * namespace lock and the audit file (--audit-log: the guardian's reverts are audited too) stay. */
static void close_inherited(int keep1, int keep2, int keep3, int keep4, int keep5) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int fds[1024];
        size_t n = 0;
        while (d && (de = readdir(d)) && n < sizeof(fds) / sizeof(*fds)) {
                int fd = atoi(de->d_name);
                if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && fd > 2 && fd != dirfd(d) && fd != keep1 &&
                    fd != keep2 && fd != keep3 && fd != keep4 && fd != keep5)
                        fds[n++] = fd;
        }
        if (d)
                closedir(d);
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
}

static void run(int rfd, struct nf_journal *j, int nslock) {
        char c;
        ssize_t n;

        prctl(PR_SET_NAME, "netfaultd-guard", 0, 0, 0);
        close_inherited(rfd, j->dfd, j->lock_fd, nslock, nf_audit_file_fd());
        /* The signals a service manager or an operator sends to the whole group: we outlive the
         * daemon long enough to clean up after it, whatever it was sent. */
        static const int ignored[] = {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM};
        for (size_t i = 0; i < sizeof(ignored) / sizeof(*ignored); i++)
                signal(ignored[i], SIG_IGN);
        signal(SIGCHLD, SIG_DFL);
        nf_keep_needed_caps("guardian.caps");

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
        /* The journaled faults are what this sweep reverts: each gets its audit line. */
        struct nf_journal_entry *entries = NULL;
        size_t n_entries = 0, corrupt = 0;
        nf_journal_load(j, &entries, &n_entries, &corrupt);
        int r = nf_sweep(&a, clsact, n_clsact, log_removal, &rep);
        /* Pods' namespaces too: each one the journal names, if it is still the one recorded. */
        size_t pods = nf_sweep_journaled_netns(j, log_removal, &rep);
        for (size_t i = 0; i < n_entries; i++)
                nf_audit_swept(entries[i].id, entries[i].spec, entries[i].created_ms, entries[i].expires_ms);
        nf_journal_entries_free(entries, n_entries);
        nf_journal_clear(j);
        nf_journal_put_clsact(j, NULL, 0);
        nf_log(r < 0 ? NF_LOG_ERROR : NF_LOG_INFO, "guardian.swept",
               "removed %zu filter priorities, %zu links, %zu qdiscs (%zu errors), in our namespace and %zu other(s)",
               rep.filter_prios, rep.links, rep.qdiscs, rep.errors, pods);
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
        nf_keep_needed_caps("guardian.caps"); /* the sweep needs nothing more */
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

static int spawn(struct nf_guardian *g) {
        int p[2];
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
                run(p[0], g->journal, g->nslock);
        }
        close(p[0]);
        g->pid = pid;
        g->fd = p[1];
        return 0;
}

int nf_guardian_start(struct nf_guardian *g, struct nf_journal *j, int nslock) {
        *g = (struct nf_guardian){.pid = -1, .fd = -1, .journal = j, .nslock = nslock};
        return spawn(g);
}

/* Why /healthz says "degraded": "the guardian <what>; <consequence>". */
static void set_degraded(struct nf_guardian *g, const char *what, const char *consequence) {
        if (g->degraded)
                snprintf(g->degraded, g->degraded_len, "the guardian %s; %s", what, consequence);
}

static void on_restart(evutil_socket_t fd, short what, void *arg);

/* SIGCHLD: the guardian is our only child. Reaped at once (no zombie), logged, reported as
 * degraded, and started again after a second (a guardian that keeps dying does not spin). */
static void on_child(evutil_socket_t sig, short what, void *arg) {
        struct nf_guardian *g = arg;
        int status;
        (void)sig;
        (void)what;
        if (g->pid <= 0 || waitpid(g->pid, &status, WNOHANG) != g->pid)
                return;
        char how[64];
        if (WIFSIGNALED(status))
                snprintf(how, sizeof(how), "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
        else
                snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
        nf_log(NF_LOG_ERROR, "guardian.died", "pid %d %s: faults would not be reverted if netfaultd died; restarting it",
               (int)g->pid, how);
        set_degraded(g, how, "restarting it (meanwhile faults would not be reverted if netfaultd died)");
        close(g->fd);
        g->fd = -1;
        g->pid = -1;
        event_add(g->restart, &(struct timeval){.tv_sec = 1});
}

static void on_restart(evutil_socket_t fd, short what, void *arg) {
        struct nf_guardian *g = arg;
        (void)fd;
        (void)what;
        int r = spawn(g);
        if (r < 0) {
                nf_log(NF_LOG_ERROR, "guardian.start_failed", "%s: retrying in 5 s", strerror(-r));
                char failed[128];
                snprintf(failed, sizeof(failed), "cannot be restarted (%s)", strerror(-r));
                set_degraded(g, failed, "faults would not be reverted if netfaultd died");
                event_add(g->restart, &(struct timeval){.tv_sec = 5});
                return;
        }
        g->restarts++;
        if (g->degraded)
                g->degraded[0] = '\0';
        nf_log(NF_LOG_WARN, "guardian.restarted", "pid %d watches netfaultd again (restart %u)", (int)g->pid, g->restarts);
}

int nf_guardian_watch(struct nf_guardian *g, struct event_base *base, char *degraded, size_t degraded_len) {
        g->degraded = degraded;
        g->degraded_len = degraded_len;
        g->sigchld = evsignal_new(base, SIGCHLD, on_child, g);
        g->restart = evtimer_new(base, on_restart, g);
        if (!g->sigchld || !g->restart || evsignal_add(g->sigchld, NULL) < 0)
                return -ENOMEM;
        /* It may have died before we listened for SIGCHLD. */
        on_child(SIGCHLD, 0, g);
        return 0;
}

void nf_guardian_stop(struct nf_guardian *g) {
        if (g->sigchld)
                event_free(g->sigchld);
        if (g->restart)
                event_free(g->restart);
        g->sigchld = g->restart = NULL;
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
