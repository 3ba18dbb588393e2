/* An applier opened from a namespace file works in that namespace and only there: the ground
 * under faults inside pods (one applier per network namespace, issue 10). A child process holds a
 * fresh network namespace; the test opens an applier from /proc/CHILD/ns/net, creates an ifb link
 * with our marks through it, finds it by name there and not in its own namespace, and sweeps it
 * away there while the same-named link in its own namespace stays. Needs root (setns); skipped
 * otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netem/apply.h"
#include "netem/encode.h"
#include "netem/netns.h"
#include "netem/sweep.h"
#include "tap.h"

static int add_marked_ifb(struct nf_applier *a, const char *name, int ifindex) {
        char buf[512];
        int r = nf_nl_request(&a->nl, nf_enc_ifb_add(NF_MSGBUF(buf), name, ifindex), NULL, NULL, NULL);
        if (r < 0)
                return r;
        return nf_nl_request(&a->nl, nf_enc_link_up_alias(NF_MSGBUF(buf), ifindex, NF_LINK_ALIAS_PREFIX "test-netns"),
                             NULL, NULL, NULL);
}

static void no_log(const char *event, const char *message) {
        (void)event;
        (void)message;
}

int main(void) {
        int ready[2], fd;
        char path[64], c;
        struct nf_applier own, inner;
        struct nf_netns_id self;
        struct nf_iface ifc;

        if (geteuid() != 0) {
                printf("1..0 # SKIP needs root (setns, a network namespace)\n");
                return 0;
        }
        /* Our own namespace must be private too: the test creates links in it. */
        if (unshare(CLONE_NEWNET) < 0) {
                printf("1..0 # SKIP cannot create a network namespace: %s\n", strerror(errno));
                return 0;
        }
        if (pipe(ready) < 0)
                return 1;
        pid_t child = fork();
        if (child == 0) {
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(1);
                if (write(ready[1], "x", 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        if (read(ready[0], &c, 1) != 1) {
                printf("not ok 1 - the child made its namespace\n1..1\n");
                return 1;
        }
        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)child);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        tap_ok(fd >= 0, "opened %s", path);

        tap_is_int(nf_applier_open(&own), 0, "an applier for our own namespace");
        tap_is_int(nf_applier_open_in(&inner, fd), 0, "an applier from the child's namespace file");
        close(fd); /* the sockets keep the namespace */
        nf_netns_id_self(&self);
        tap_ok(nf_netns_id_equal(&own.netns, &self), "our applier names our namespace");
        tap_ok(!nf_netns_id_equal(&inner.netns, &self), "the other applier names another namespace (inode %lu vs %lu)",
               (unsigned long)inner.netns.ino, (unsigned long)self.ino);
        int devnull = open("/dev/null", O_RDONLY);
        struct nf_applier bad;
        tap_is_int(nf_applier_open_in(&bad, devnull), -EINVAL, "a file that is not a namespace is refused");
        close(devnull);

        int r = add_marked_ifb(&inner, "nfe7.3", 4242);
        if (r == -EOPNOTSUPP || r == -ENODEV || r == -ENOENT) {
                printf("# no ifb links here (%s): the link checks are left to the lab\n", strerror(-r));
        } else {
                tap_is_int(r, 0, "created a marked ifb link nfe7.3 (ifindex 4242) through the inner applier");
                tap_is_int(nf_world_iface_by_name(&inner.world, "nfe7.3", &ifc), 0, "the inner applier finds it by name");
                tap_is_int(ifc.ifindex, 4242, "... with its index in that namespace");
                tap_is_int(nf_world_iface_by_name(&own.world, "nfe7.3", &ifc), -ENODEV, "our own namespace has no such link");
                /* The same name and index in our namespace: the sweep of the other must not see it. */
                tap_is_int(add_marked_ifb(&own, "nfe7.3", 4242), 0, "a twin nfe7.3 with the same index in our namespace");
                struct nf_sweep_report rep;
                tap_is_int(nf_sweep(&inner, NULL, 0, no_log, &rep), 0, "the inner namespace is swept");
                tap_is_int(rep.links, 1, "... one link of ours removed there");
                tap_is_int(nf_world_iface_by_name(&inner.world, "nfe7.3", &ifc), -ENODEV, "... and it is gone there");
                tap_is_int(nf_world_iface_by_name(&own.world, "nfe7.3", &ifc), 0, "our twin is untouched");
                size_t n = 9;
                struct nf_iface ifs[4];
                tap_is_int(nf_world_default_ifaces(&inner.world, ifs, 4, &n), 0, "default-route interfaces read there");
                tap_is_int(n, 0, "... none: the child's namespace has no route");
                nf_sweep(&own, NULL, 0, no_log, &rep);
        }
        nf_applier_close(&inner);
        nf_applier_close(&own);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        printf("1..%d\n", tap_n);
        return tap_failed ? 1 : 0;
}
