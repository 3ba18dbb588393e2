/* Kubernetes pods on this node as /proc shows them: which processes sit in a pod's cgroup, in
 * which containers, and in which network namespace. Nothing asks the Kubernetes API: a kubelet
 * puts every container of a pod under a cgroup that names the pod's uid, and every layout it
 * produces is read here (cgroup v1 and v2; the systemd driver, kubepods-<qos>-pod<uid with _>.slice
 * with cri-containerd-<id>.scope, crio-<id>.scope or docker-<id>.scope; the cgroupfs driver,
 * /kubepods/<qos>/pod<uid>/<id>; Guaranteed pods without a QoS level; under a prefix such as a
 * nested node's). The parser is pure (tests/unit/test-pods.c reads fixture lines); the scanner
 * takes the /proc root as a parameter, so a test can point it at a fake tree. */
#pragma once
#include "core/layer.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/error.h"
#include "netem/netns.h"
#include "netem/spec.h"

#define NF_POD_UID_LEN 64
#define NF_CONTAINER_ID_LEN 72
#define NF_MAX_POD_CONTAINERS 32
#define NF_MAX_PODS 1024
/* The shortest container id prefix accepted (docker ps shows 12). */
#define NF_CONTAINER_PREFIX_MIN 12

/* What one line of /proc/PID/cgroup says of a pod. */
struct nf_cgroup_pod {
        char uid[NF_POD_UID_LEN + 1];          /* with dashes, as the Kubernetes API shows it */
        char qos[16];                          /* "besteffort", "burstable", "" for Guaranteed */
        char container[NF_CONTAINER_ID_LEN + 1]; /* "" for a process of the pod's own cgroup */
        char runtime[16];                      /* "containerd", "crio", "docker", "" (cgroupfs) */
};

/* 1 with out filled when the line ("hierarchy:controllers:path") places the process in a pod's
 * cgroup, 0 when it does not (not a pod, or CRI-O's conmon, which runs in the pod's cgroup but
 * in the node's namespaces). */
int nf_cgroup_line_pod(const char *line, struct nf_cgroup_pod *out);
/* The same over a whole /proc/PID/cgroup file's text: the first line that names a pod. */
int nf_cgroup_text_pod(const char *text, struct nf_cgroup_pod *out);

struct nf_pod_container {
        char id[NF_CONTAINER_ID_LEN + 1];
        pid_t pid; /* one of its processes (the lowest) */
        struct nf_netns_id netns;
};

struct nf_pod {
        char uid[NF_POD_UID_LEN + 1];
        char qos[16];
        struct nf_pod_container containers[NF_MAX_POD_CONTAINERS];
        size_t n_containers;
        pid_t pid;                /* a process in its namespace (the lowest pid seen) */
        struct nf_netns_id netns; /* the namespace of pid */
        bool split;               /* its containers are not all in one namespace (an error to name) */
};

/* Every pod with a process under proc_root ("/proc", or a fake tree: PID/cgroup files and
 * PID/ns/net links), sorted by uid. Processes that vanish while we read are skipped. -errno. */
int nf_pods_scan(const char *proc_root, struct nf_pod **out, size_t *n);

/* What a "netns" selector found: the namespace file, opened, and how to name it. */
struct nf_netns_found {
        int fd;                        /* the caller's to close */
        struct nf_netns_id id;
        char reopen[256];              /* the file it was opened from */
        char pod_uid[NF_POD_UID_LEN + 1]; /* "" when not in a pod */
};

/* Opens the namespace sel names (pod, container, pid or path; not SELF/HOST). own is the daemon's
 * namespace: naming it this way is refused unless host. -1 with e filled: a 404 naming an unknown
 * pod, container or pid; 400 for an ambiguous prefix, a file that is not a namespace, a pod split
 * over namespaces, or our own namespace. */
int nf_netns_find(const char *proc_root, const struct nf_netns_sel *sel, const struct nf_netns_id *own,
                  struct nf_netns_found *out, struct nf_err *e);

/* An interface of a namespace and its addresses, as GET /v1/pods shows them. */
#define NF_MAX_NS_IFACES 16
#define NF_MAX_NS_ADDRS 8
struct nf_ns_iface {
        char name[16];
        char addrs[NF_MAX_NS_ADDRS][52]; /* "10.244.1.7/24": INET6_ADDRSTRLEN (46) + "/128" */
        size_t n_addrs;
};
/* The interfaces (loopback left out) and addresses inside the namespace of netns_fd, read on a
 * thread that enters it (nf_netns_run). -errno (-EPERM without CAP_SYS_ADMIN). */
int nf_netns_interfaces(int netns_fd, struct nf_ns_iface *out, size_t max, size_t *n);
