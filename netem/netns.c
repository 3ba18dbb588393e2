#include "netem/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int nf_netns_id_of(int netns_fd, struct nf_netns_id *out) {
        struct statfs sf;
        struct stat st;
        if (fstatfs(netns_fd, &sf) < 0 || fstat(netns_fd, &st) < 0)
                return -errno;
        /* Any file has a device and an inode: only an nsfs file names a namespace. */
        if ((unsigned long)sf.f_type != (unsigned long)NSFS_MAGIC)
                return -EINVAL;
        out->dev = st.st_dev;
        out->ino = st.st_ino;
        return 0;
}

int nf_netns_id_self(struct nf_netns_id *out) {
        int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = nf_netns_id_of(fd, out);
        close(fd);
        return r;
}

bool nf_netns_id_equal(const struct nf_netns_id *a, const struct nf_netns_id *b) {
        return a->dev == b->dev && a->ino == b->ino;
}

struct run {
        int fd;
        int (*fn)(void *);
        void *arg;
        int result;
};

static void *run_inside(void *p) {
        struct run *r = p;
        /* This thread alone joins the namespace, and ends there. */
        if (setns(r->fd, CLONE_NEWNET) < 0)
                r->result = -errno;
        else
                r->result = r->fn(r->arg);
        return NULL;
}

int nf_netns_run(int netns_fd, int (*fn)(void *arg), void *arg) {
        struct run r = {.fd = netns_fd, .fn = fn, .arg = arg, .result = -EINVAL};
        pthread_t t;
        int e = pthread_create(&t, NULL, run_inside, &r);
        if (e)
                return -e;
        pthread_join(t, NULL);
        return r.result;
}
