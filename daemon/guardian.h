/* The guardian: a small process netfaultd forks at start-up. It blocks on a pipe whose write end
 * only the daemon holds; when the daemon dies for any reason (SIGKILL, SIGSEGV, the OOM killer)
 * the pipe reads end-of-file at once, and the guardian sweeps every object with our marks from
 * the namespace, removes the journal's fault records and exits. No polling, no timers. It keeps
 * only CAP_NET_ADMIN and ignores the signals a service manager sends to the whole group, so that
 * it outlives the daemon long enough to clean up. */
#pragma once
#include <sys/types.h>

#include "daemon/journal.h"

struct nf_guardian {
        pid_t pid;
        int fd; /* write end; closing it tells the guardian we are gone */
};

int nf_guardian_start(struct nf_guardian *g, struct nf_journal *j);
/* For a container's PID 1, where a child would die with the daemon: the process forks, the child
 * returns to become the daemon, and PID 1 stays the guardian (and reaper). It forwards SIGTERM,
 * SIGINT and SIGHUP to the daemon, sweeps if the daemon dies by a signal, and exits with the
 * daemon's status. Returns 0 in the child, or -errno if the fork failed (run unguarded). */
int nf_guardian_supervise(const char *state_dir);
/* After a clean shutdown (every fault reverted): let the guardian go and wait for it. */
void nf_guardian_stop(struct nf_guardian *g);
