/* The journal in --state-dir: our intent is on disk before the kernel changes, so that a
 * restarted daemon or the guardian knows what was ours. One file per fault (fault-<id>.json)
 * plus clsact.json (interfaces where we created the clsact qdisc). Every write is atomic: a
 * temporary file, fsync, rename, fsync of the directory. A lock file keeps one daemon per
 * state directory; the guardian shares it, so a restarted daemon waits for the old guardian. */
#pragma once
#include "core/layer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

struct nf_journal {
        char dir[256];
        int dfd;     /* the directory, opened once (O_NOFOLLOW); every file is reached relative to it */
        int lock_fd;
        unsigned long write_errors; /* records that could not be written (for /metrics) */
};

struct nf_journal_entry {
        char id[24];
        char state[16];        /* "active": written before the kernel changes */
        unsigned slot;
        int64_t created_ms, expires_ms;
        struct cJSON *spec;    /* as POSTed, normalised */
        struct cJSON *objects; /* what it put in the kernel, and what its names resolved to */
};

/* Creates (0700) and opens the state directory, which must be owned by our effective uid and
 * writable by nobody else; takes its lock and proves a record can be written (a probe file is
 * written, synced and removed). -EBUSY when another daemon holds the lock; other -errno with
 * err filled. */
int nf_journal_open(struct nf_journal *j, const char *dir, int wait_ms, char *err, size_t errlen);
/* The directory checks of nf_journal_open only, without the lock (the PID 1 guardian). */
int nf_journal_attach(struct nf_journal *j, const char *dir, char *err, size_t errlen);
void nf_journal_close(struct nf_journal *j);

/* One netfaultd per network namespace (its start-up sweep would remove another's faults): an
 * abstract Unix socket name (@netfaultd, a listening stream socket) exists per namespace and the
 * kernel releases it when the last holder exits; the guardian inherits it. Anyone can bind an
 * abstract name, so a holder is believed only when SO_PEERCRED says it is root or our uid.
 * Returns the fd (accept and close what connects to it), -EBUSY after waiting wait_ms for a
 * netfaultd holder, -ENOLCK (logged) when an impostor holds the name: start without the lock. */
int nf_netns_lock(int wait_ms);
/* The same, telling the holder's pid (as our pid namespace sees it; 0 when unknown) on -EBUSY. It
 * takes the lock of the namespace the calling thread is in: run it through nf_netns_run() to take
 * a pod's. */
int nf_netns_lock_as(int wait_ms, int *holder);

int nf_journal_put(struct nf_journal *j, const char *id, const char *state, unsigned slot, int64_t created_ms,
                   int64_t expires_ms, const struct cJSON *spec, const struct cJSON *objects);
int nf_journal_drop(struct nf_journal *j, const char *id);
int nf_journal_put_clsact(struct nf_journal *j, const int *ifindexes, size_t n);

/* A namespace other than ours with faults inside (netns-<dev>-<ino>.json): its identity, how to
 * reopen it (the file it was opened from; the pod to look up again under proc_root when that
 * process is gone), and the interfaces where we created its clsact qdisc. Written before the
 * kernel changes there, removed when its last fault goes. */
#define NF_JOURNAL_MAX_CLSACT 256
struct nf_journal_netns {
        uint64_t dev, ino;
        char reopen[256];
        char pod_uid[128];
        char proc_root[128];
        int clsact[NF_JOURNAL_MAX_CLSACT];
        size_t n_clsact;
};
int nf_journal_put_netns(struct nf_journal *j, const struct nf_journal_netns *ns);
int nf_journal_drop_netns(struct nf_journal *j, uint64_t dev, uint64_t ino);
/* Every namespace record (corrupt ones are quarantined and counted). Free *out with free(). */
int nf_journal_load_netns(struct nf_journal *j, struct nf_journal_netns **out, size_t *n, size_t *corrupt);

/* Reads every fault record. Corrupt files are renamed to *.corrupt and reported through
 * corrupt (a count); the sweep still cleans the kernel by our marks. */
int nf_journal_load(struct nf_journal *j, struct nf_journal_entry **out, size_t *n, size_t *corrupt);
void nf_journal_entries_free(struct nf_journal_entry *v, size_t n);
int nf_journal_load_clsact(struct nf_journal *j, int *out, size_t max, size_t *n);
/* Removes every fault and namespace record (after a full revert). */
void nf_journal_clear(struct nf_journal *j);
