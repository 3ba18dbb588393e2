/* The guardian: a small process netfaultd forks at start-up. It blocks on a pipe whose write end
 * only the daemon holds; when the daemon dies for any reason (SIGKILL, SIGSEGV, the OOM killer)
 * the pipe reads end-of-file at once, and the guardian sweeps every object with our marks from
 * the namespace, removes the journal's fault records and exits. No polling, no timers. It keeps
 * only CAP_NET_ADMIN and ignores the signals a service manager sends to the whole group, so that
 * it outlives the daemon long enough to clean up. It closes every descriptor it inherited but the
 * pipe, the journal's and the namespace lock. */
#pragma once
#include <sys/types.h>

#include "core/journal.h"

struct event_base;
struct event;

struct nf_guardian {
        pid_t pid;
        int fd; /* write end; closing it tells the guardian we are gone */
        struct nf_journal *journal;
        int nslock; /* the namespace lock, held by the guardian too (-1 if none) */
        /* nf_guardian_watch: */
        struct event *sigchld, *restart;
        char *degraded; /* a reason while no guardian runs, "" otherwise (/healthz) */
        size_t degraded_len;
        unsigned restarts;
};

int nf_guardian_start(struct nf_guardian *g, struct nf_journal *j, int nslock);
/* Notices the guardian's death at once (SIGCHLD on the loop; it is our only child): reaps it,
 * logs guardian.died, writes the reason into degraded and starts a new guardian a second later
 * (guardian.restarted, degraded cleared). */
int nf_guardian_watch(struct nf_guardian *g, struct event_base *base, char *degraded, size_t degraded_len);
/* For a container's PID 1, where a child would die with the daemon: the process forks, the child
 * returns to become the daemon, and PID 1 stays the guardian (and reaper). It forwards SIGTERM,
 * SIGINT and SIGHUP to the daemon, sweeps if the daemon dies by a signal, and exits with the
 * daemon's status. Returns 0 in the child, or -errno if the fork failed (run unguarded). */
int nf_guardian_supervise(const char *state_dir);
/* After a clean shutdown (every fault reverted): let the guardian go and wait for it. */
void nf_guardian_stop(struct nf_guardian *g);
