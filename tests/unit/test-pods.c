/* Pod lookup (core/pods.c): the cgroup lines kubelets really write, for every layout (cgroup v1
 * and v2; systemd driver with containerd, CRI-O and docker scopes and QoS slices; cgroupfs driver;
 * Guaranteed pods; a nested node's prefix; CRI-O's conmon, which is not the pod's), then the
 * scanner and the selector over a fake /proc tree whose ns/net links point at real namespaces:
 * ours and a child's fresh one. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/pods.h"
#include "tap.h"

#define UID_A "6b2c1d3e-0f4a-4b5c-8d9e-0a1b2c3d4e5f"
#define UID_A_ "6b2c1d3e_0f4a_4b5c_8d9e_0a1b2c3d4e5f"
#define CID "3f9a6c0de1b24f5a8c7d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"

static void line(const char *text, int want, const char *uid, const char *qos, const char *ctr, const char *what) {
        struct nf_cgroup_pod p;
        int got = nf_cgroup_line_pod(text, &p);
        tap_ok(got == want && (!want || (strcmp(p.uid, uid) == 0 && strcmp(p.qos, qos) == 0 && strcmp(p.container, ctr) == 0)),
               "%s (got %d uid '%s' qos '%s' container '%.16s')", what, got, p.uid, p.qos, p.container);
}

static void layouts(void) {
        line("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_A_ ".slice/cri-containerd-" CID ".scope",
             1, UID_A, "burstable", CID, "v2, systemd driver, containerd, burstable");
        line("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_A_ ".slice/crio-" CID ".scope", 1,
             UID_A, "besteffort", CID, "v2, systemd driver, CRI-O, besteffort");
        line("0::/kubepods.slice/kubepods-pod" UID_A_ ".slice/docker-" CID ".scope", 1, UID_A, "", CID,
             "v2, systemd driver, docker, Guaranteed (no QoS slice)");
        line("0::/kubepods/besteffort/pod" UID_A "/" CID, 1, UID_A, "besteffort", CID, "v2, cgroupfs driver, besteffort");
        line("0::/kubepods/pod" UID_A "/" CID, 1, UID_A, "", CID, "v2, cgroupfs driver, Guaranteed");
        line("0::/kubepods/burstable/pod" UID_A, 1, UID_A, "burstable", "", "the pod's own cgroup (no container)");
        line("12:memory:/kubepods/burstable/pod" UID_A "/" CID, 1, UID_A, "burstable", CID, "v1 memory controller, cgroupfs");
        line("4:cpu,cpuacct:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_A_
             ".slice/cri-containerd-" CID ".scope",
             1, UID_A, "burstable", CID, "v1 cpu,cpuacct, systemd driver");
        line("1:name=systemd:/kubepods.slice/kubepods-pod" UID_A_ ".slice/crio-" CID ".scope", 1, UID_A, "", CID,
             "v1 name=systemd hierarchy");
        line("0::/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UID_A_
             ".slice/cri-containerd-" CID ".scope",
             1, UID_A, "besteffort", CID, "a kind node (kubelet.slice prefix, kubelet-kubepods-...)");
        line("0::/system.slice/docker-0123456789ab.scope/kubepods/burstable/pod" UID_A "/" CID, 1, UID_A, "burstable", CID,
             "a nested node's prefix before /kubepods");
        line("0::/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice", 0, "", "", "",
             "a QoS slice alone is no pod");
        line("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_A_ ".slice/crio-conmon-" CID ".scope",
             0, "", "", "", "CRI-O's conmon is not one of the pod's processes");
        line("0::/system.slice/sshd.service", 0, "", "", "", "a node service");
        line("0::/", 0, "", "", "", "the root cgroup");
        line("garbage", 0, "", "", "", "not a cgroup line");
        line("0::/pod" UID_A "/" CID, 0, "", "", "", "pod<uid> outside kubepods is not a pod");
        line("0::/kubepods/besteffort/podNOTAUID/" CID, 0, "", "", "", "a pod segment that is no uid");
        line("0::/kubepods/besteffort/pod1a2b3c4d5e6f70819a2b3c4d5e6f7081/" CID, 1, "1a2b3c4d5e6f70819a2b3c4d5e6f7081",
             "besteffort", CID, "a static pod (its uid is a 32-hex hash)");
        struct nf_cgroup_pod p;
        tap_is_int(nf_cgroup_text_pod("12:pids:/user.slice\n0::/kubepods/pod" UID_A "/" CID "\n", &p), 1,
                   "a whole file: the line that names a pod");
}

static char root[] = "/tmp/nf-pods-XXXXXX";

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void fake(int pid, const char *cgroup, const char *ns_target) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%d", root, pid);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/%d/ns", root, pid);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/%d/ns/net", root, pid);
        if (symlink(ns_target, path) < 0)
                printf("# symlink %s: %s\n", path, strerror(errno));
        snprintf(path, sizeof(path), "%s/%d/cgroup", root, pid);
        FILE *f = fopen(path, "w");
        fputs(cgroup, f);
        fclose(f);
}

int main(void) {
        layouts();

        /* A child in a namespace of its own: pod B's. */
        /* One pipe each way: with a single pipe the child could read back its own "ready" byte
         * and exit, leaving the parent waiting forever (seen as a timeout half of the time). */
        int ready[2], done[2];
        if (pipe(ready) < 0 || pipe(done) < 0)
                return 1;
        pid_t child = fork();
        if (child == 0) {
                char c;
                close(ready[0]);
                close(done[1]);
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(1);
                if (write(ready[1], "x", 1) < 0)
                        _exit(1);
                if (read(done[0], &c, 1) < 0)
                        _exit(1);
                _exit(0);
        }
        close(ready[1]);
        close(done[0]);
        char c, child_ns[64];
        if (read(ready[0], &c, 1) != 1) {
                printf("1..0 # SKIP cannot make a network namespace (not root?)\n");
                return 0;
        }
        snprintf(child_ns, sizeof(child_ns), "/proc/%d/ns/net", (int)child);
        if (!mkdtemp(root))
                return 1;
        /* Pod A: two containers in our namespace; pod B: two in the child's; pod S: split. */
        fake(100, "0::/kubepods/besteffort/pod" UID_A "/" CID "\n", "/proc/self/ns/net");
        fake(101, "0::/kubepods/besteffort/pod" UID_A "/abcdefabcdef0000\n", "/proc/self/ns/net");
        fake(200, "0::/kubepods.slice/kubepods-pod11111111_2222_3333_4444_555555555555.slice/cri-containerd-abcdefabcdef1111.scope\n",
             child_ns);
        fake(201, "0::/kubepods.slice/kubepods-pod11111111_2222_3333_4444_555555555555.slice/cri-containerd-bbbbbbbbbbbb2222.scope\n",
             child_ns);
        fake(300, "0::/kubepods/pod99999999-0000-0000-0000-000000000000/cccccccccccc3333\n", child_ns);
        fake(301, "0::/kubepods/pod99999999-0000-0000-0000-000000000000/dddddddddddd4444\n", "/proc/self/ns/net");
        fake(400, "0::/kubepods.slice/kubepods-pod11111111_2222_3333_4444_555555555555.slice/crio-conmon-eeeeeeeeeeee.scope\n",
             "/proc/self/ns/net");
        fake(500, "0::/system.slice/sshd.service\n", "/proc/self/ns/net");

        struct nf_pod *pods;
        size_t n;
        tap_is_int(nf_pods_scan(root, &pods, &n), 0, "the fake /proc is scanned");
        tap_is_int((int)n, 3, "three pods (conmon and sshd are none)");
        if (n == 3) {
                tap_ok(strcmp(pods[0].uid, "11111111-2222-3333-4444-555555555555") == 0 && pods[0].n_containers == 2 &&
                               !pods[0].split && pods[0].pid == 200,
                       "pod B: two containers, one namespace, lowest pid 200 (conmon left out)");
                tap_ok(strcmp(pods[1].uid, UID_A) == 0 && pods[1].n_containers == 2 && !pods[1].split &&
                               strcmp(pods[1].qos, "besteffort") == 0,
                       "pod A: two containers, besteffort");
                tap_ok(pods[2].split, "pod S: its containers are in two namespaces");
        }
        free(pods);

        struct nf_netns_id self, inner;
        struct nf_netns_found f;
        struct nf_err e;
        nf_netns_id_self(&self);
        struct stat st;
        stat(child_ns, &st);
        inner = (struct nf_netns_id){st.st_dev, st.st_ino};

        struct nf_netns_sel sel = {.kind = NF_NETNS_POD};
        snprintf(sel.name, sizeof(sel.name), "11111111-2222-3333-4444-555555555555");
        tap_is_int(nf_netns_find(root, &sel, &self, &f, &e), 0, "pod B by uid");
        tap_ok(f.fd >= 0 && nf_netns_id_equal(&f.id, &inner) && strcmp(f.pod_uid, sel.name) == 0,
               "its namespace is the child's, opened from %s", f.reopen);
        if (f.fd >= 0)
                close(f.fd);
        snprintf(sel.name, sizeof(sel.name), UID_A);
        tap_is_int(nf_netns_find(root, &sel, &self, &f, &e), -1, "pod A is in our own namespace: refused");
        tap_ok(e.kind == NF_ERR_INVALID && strcmp(e.code, "netns_is_host") == 0 && strstr(e.message, "\"host\": true"),
               "400 netns_is_host: %s", e.message);
        snprintf(sel.name, sizeof(sel.name), "99999999-0000-0000-0000-000000000000");
        tap_is_int(nf_netns_find(root, &sel, &self, &f, &e), -1, "pod S is split");
        tap_ok(e.kind == NF_ERR_INVALID && strstr(e.message, "cccccccccccc") && strstr(e.message, "dddddddddddd"),
               "the refusal names both containers: %s", e.message);
        snprintf(sel.name, sizeof(sel.name), "deadbeef-0000-0000-0000-000000000000");
        tap_is_int(nf_netns_find(root, &sel, &self, &f, &e), -1, "an unknown pod");
        tap_ok(e.kind == NF_ERR_NOT_FOUND && strstr(e.message, "deadbeef-0000") && strcmp(e.field, "netns.pod_uid") == 0,
               "404 naming it: %s", e.message);

        sel = (struct nf_netns_sel){.kind = NF_NETNS_CONTAINER};
        snprintf(sel.name, sizeof(sel.name), "bbbbbbbbbbbb");
        tap_is_int(nf_netns_find(root, &sel, &self, &f, &e), 0, "a container by a 12-character prefix");
        tap_ok(nf_netns_id_equal(&f.id, &inner) && strcmp(f.pod_uid, "11111111-2222-3333-4444-555555555555") == 0,
               "pod B's namespace, and its pod named");
        if (f.fd >= 0)
                close(f.fd);
        snprintf(sel.name, sizeof(sel.name), "abcdefabcdef");
        tap_is_int(nf_netns_find(root, &sel, &self, &f, &e), -1, "a prefix of two containers");
        tap_ok(strcmp(e.code, "ambiguous_container") == 0, "ambiguous: %s", e.message);
        snprintf(sel.name, sizeof(sel.name), "ffffffffffff");
        tap_is_int(nf_netns_find(root, &sel, &self, &f, &e), -1, "an unknown container");
        tap_ok(e.kind == NF_ERR_NOT_FOUND && strstr(e.message, "ffffffffffff"), "404 naming it");

        sel = (struct nf_netns_sel){.kind = NF_NETNS_PID, .pid = 201};
        tap_is_int(nf_netns_find(root, &sel, &self, &f, &e), 0, "a pid");
        tap_ok(nf_netns_id_equal(&f.id, &inner) && f.pod_uid[0], "its namespace and pod");
        if (f.fd >= 0)
                close(f.fd);
        sel.pid = 500;
        tap_is_int(nf_netns_find(root, &sel, &self, &f, &e), -1, "a pid of our own namespace");
        tap_ok(strstr(e.message, "pid 500") != NULL, "refused naming it: %s", e.message);
        sel.pid = 99999;
        tap_is_int(nf_netns_find(root, &sel, &self, &f, &e), -1, "no such pid");
        tap_ok(e.kind == NF_ERR_NOT_FOUND && strstr(e.message, "no process 99999"), "404: %s", e.message);

        sel = (struct nf_netns_sel){.kind = NF_NETNS_PATH};
        snprintf(sel.name, sizeof(sel.name), "%s", child_ns);
        tap_is_int(nf_netns_find(root, &sel, &self, &f, &e), 0, "a path");
        tap_ok(nf_netns_id_equal(&f.id, &inner), "the child's namespace");
        if (f.fd >= 0)
                close(f.fd);
        snprintf(sel.name, sizeof(sel.name), "/etc/hostname");
        tap_is_int(nf_netns_find(root, &sel, &self, &f, &e), -1, "a file that is no namespace");
        tap_ok(e.kind == NF_ERR_INVALID && strcmp(e.code, "not_a_netns") == 0, "400: %s", e.message);

        if (write(done[1], "x", 1) < 0)
                return 1;
        waitpid(child, NULL, 0);
        nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        return tap_done();
}
