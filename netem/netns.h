/* Network namespaces other than our own, entered the safe way: netlink sockets belong to the
 * namespace they were created in and stay there, so only their creation needs to happen inside.
 * It runs on a short-lived thread that joins the namespace (setns affects the calling thread
 * only); the daemon's own threads never change namespace, so nothing else can run by mistake in
 * a pod's namespace, and a failed return trip cannot strand the event loop there. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* A namespace's identity: the device and inode of its nsfs file (what `ip netns identify` and
 * /proc/PID/ns/net compare). Interface indexes are only unique within one. */
struct nf_netns_id {
        dev_t dev;
        ino_t ino;
};

/* The identity of the namespace a file descriptor refers to (an nsfs file: /proc/PID/ns/net or
 * a bind mount of one). -EINVAL when fd is not a network namespace. */
int nf_netns_id_of(int netns_fd, struct nf_netns_id *out);
/* The namespace this process started in (its main thread's). */
int nf_netns_id_self(struct nf_netns_id *out);
bool nf_netns_id_equal(const struct nf_netns_id *a, const struct nf_netns_id *b);

/* Runs fn(arg) on a thread inside the namespace of netns_fd and returns its result, or a
 * negative errno when the namespace cannot be entered (-EPERM without CAP_SYS_ADMIN). */
int nf_netns_run(int netns_fd, int (*fn)(void *arg), void *arg);
