#include "core/pods.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool all_of(const char *s, size_t n, const char *set) {
        for (size_t i = 0; i < n; i++)
                if (!s[i] || !strchr(set, s[i]))
                        return false;
        return true;
}

/* A pod uid as kubelets write it in a cgroup name: hex and dashes (the systemd driver writes
 * underscores, which are given back as dashes); static pods have a 32-hex hash as their uid. */
static bool take_uid(const char *s, size_t n, char out[NF_POD_UID_LEN + 1]) {
        if (n < 8 || n > NF_POD_UID_LEN || !all_of(s, n, "0123456789abcdef-_"))
                return false;
        for (size_t i = 0; i < n; i++)
                out[i] = s[i] == '_' ? '-' : s[i];
        out[n] = '\0';
        return true;
}

/* The container of a pod's child cgroup: "<runtime prefix><id>.scope" (systemd driver) or the
 * bare id (cgroupfs). false for something else (a sub-cgroup a runtime made, an init.scope). */
static bool take_container(const char *c, size_t n, struct nf_cgroup_pod *out) {
        static const struct {
                const char *prefix, *runtime;
        } runtimes[] = {{"cri-containerd-", "containerd"}, {"crio-", "crio"}, {"docker-", "docker"}};
        if (n > 6 && memcmp(c + n - 6, ".scope", 6) == 0) {
                n -= 6;
                for (size_t i = 0; i < sizeof(runtimes) / sizeof(*runtimes); i++) {
                        size_t pl = strlen(runtimes[i].prefix);
                        if (n > pl && memcmp(c, runtimes[i].prefix, pl) == 0) {
                                snprintf(out->runtime, sizeof(out->runtime), "%s", runtimes[i].runtime);
                                c += pl;
                                n -= pl;
                                break;
                        }
                }
                if (!out->runtime[0])
                        return false;
        }
        if (n < NF_CONTAINER_PREFIX_MIN || n > NF_CONTAINER_ID_LEN || !all_of(c, n, "0123456789abcdef"))
                return false;
        memcpy(out->container, c, n);
        out->container[n] = '\0';
        return true;
}

/* "besteffort" or "burstable" (a QoS level), else "" (Guaranteed pods have none). */
static void take_qos(const char *s, size_t n, char out[16]) {
        if ((n == 10 && memcmp(s, "besteffort", 10) == 0) || (n == 9 && memcmp(s, "burstable", 9) == 0))
                snprintf(out, 16, "%.*s", (int)n, s);
        else
                out[0] = '\0';
}

int nf_cgroup_line_pod(const char *line, struct nf_cgroup_pod *out) {
        const char *path = strchr(line, ':');
        *out = (struct nf_cgroup_pod){0};
        if (!path || !(path = strchr(path + 1, ':')))
                return 0;
        path++;
        /* Walk the components; the pod's is found after a kubepods one, whatever prefix the node's
         * own cgroup puts before it (a nested node: /system.slice/containerd.service/...). */
        bool under_kubepods = false;
        const char *prev = NULL;
        size_t prev_n = 0;
        for (const char *c = path; *c;) {
                while (*c == '/')
                        c++;
                size_t n = strcspn(c, "/\n");
                if (n == 0)
                        break;
                const char *next = c + n;
                bool pod = false;
                /* kind's nodes (and kubelets run with --cgroup-root) name them kubelet-kubepods-... */
                if (n > 8 && memcmp(c, "kubelet-", 8) == 0) {
                        c += 8;
                        n -= 8;
                }
                if (n > 15 && memcmp(c, "kubepods", 8) == 0 && memcmp(c + n - 6, ".slice", 6) == 0) {
                        /* systemd: kubepods-pod<uid>.slice or kubepods-<qos>-pod<uid>.slice */
                        const char *p = NULL;
                        for (const char *q = c + 8; q + 4 <= c + n; q++)
                                if (memcmp(q, "-pod", 4) == 0)
                                        p = q;
                        if (p && take_uid(p + 4, (size_t)(c + n - 6 - (p + 4)), out->uid)) {
                                pod = true;
                                take_qos(c + 9, p > c + 9 ? (size_t)(p - (c + 9)) : 0, out->qos);
                        }
                        under_kubepods = true;
                } else if (n >= 8 && memcmp(c, "kubepods", 8) == 0) {
                        under_kubepods = true;
                } else if (under_kubepods && n > 3 && memcmp(c, "pod", 3) == 0 && take_uid(c + 3, n - 3, out->uid)) {
                        /* cgroupfs: /kubepods[/<qos>]/pod<uid> */
                        pod = true;
                        take_qos(prev ? prev : "", prev ? prev_n : 0, out->qos);
                }
                if (pod) {
                        while (*next == '/')
                                next++;
                        size_t cn = strcspn(next, "/\n");
                        /* CRI-O's conmon sits in the pod's cgroup but in the node's namespaces. */
                        if (cn > 12 && memcmp(next, "crio-conmon-", 12) == 0)
                                return 0;
                        if (cn)
                                take_container(next, cn, out);
                        return 1;
                }
                prev = c;
                prev_n = n;
                c = next;
        }
        *out = (struct nf_cgroup_pod){0};
        return 0;
}

int nf_cgroup_text_pod(const char *text, struct nf_cgroup_pod *out) {
        for (const char *l = text; l && *l;) {
                if (nf_cgroup_line_pod(l, out))
                        return 1;
                l = strchr(l, '\n');
                if (l)
                        l++;
        }
        *out = (struct nf_cgroup_pod){0};
        return 0;
}

/* ---- the scanner ---- */

static int read_small(const char *path, char *buf, size_t len) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        size_t at = 0;
        while (at + 1 < len) {
                ssize_t r = read(fd, buf + at, len - 1 - at);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                at += (size_t)r;
        }
        buf[at] = '\0';
        close(fd);
        return 0;
}

static int netns_of_pid(const char *proc_root, pid_t pid, struct nf_netns_id *id) {
        char path[300];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%d/ns/net", proc_root, (int)pid);
        if (stat(path, &st) < 0)
                return -errno;
        *id = (struct nf_netns_id){.dev = st.st_dev, .ino = st.st_ino};
        return 0;
}

static struct nf_pod *pod_of(struct nf_pod **v, size_t *n, size_t *cap, const char *uid) {
        for (size_t i = 0; i < *n; i++)
                if (strcmp((*v)[i].uid, uid) == 0)
                        return &(*v)[i];
        if (*n >= NF_MAX_PODS)
                return NULL;
        if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 16;
                struct nf_pod *g = realloc(*v, nc * sizeof(*g));
                if (!g)
                        return NULL;
                *v = g;
                *cap = nc;
        }
        struct nf_pod *p = &(*v)[(*n)++];
        *p = (struct nf_pod){0};
        snprintf(p->uid, sizeof(p->uid), "%s", uid);
        return p;
}

static void add_process(struct nf_pod *p, const struct nf_cgroup_pod *cg, pid_t pid, const struct nf_netns_id *ns) {
        if (!p->pid || pid < p->pid) {
                p->pid = pid;
                p->netns = *ns;
        }
        snprintf(p->qos, sizeof(p->qos), "%s", cg->qos);
        if (!cg->container[0])
                return;
        for (size_t i = 0; i < p->n_containers; i++)
                if (strcmp(p->containers[i].id, cg->container) == 0) {
                        if (pid < p->containers[i].pid) {
                                p->containers[i].pid = pid;
                                p->containers[i].netns = *ns;
                        }
                        return;
                }
        if (p->n_containers < NF_MAX_POD_CONTAINERS) {
                struct nf_pod_container *c = &p->containers[p->n_containers++];
                snprintf(c->id, sizeof(c->id), "%s", cg->container);
                c->pid = pid;
                c->netns = *ns;
        }
}

static int cmp_pod(const void *a, const void *b) {
        return strcmp(((const struct nf_pod *)a)->uid, ((const struct nf_pod *)b)->uid);
}

int nf_pods_scan(const char *proc_root, struct nf_pod **out, size_t *n) {
        DIR *d = opendir(proc_root);
        struct dirent *de;
        size_t cap = 0;
        *out = NULL;
        *n = 0;
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char path[300], text[8192];
                struct nf_cgroup_pod cg;
                struct nf_netns_id ns;
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                if (*end || pid <= 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%ld/cgroup", proc_root, pid);
                /* A process that exits while we look is simply not there. */
                if (read_small(path, text, sizeof(text)) < 0 || !nf_cgroup_text_pod(text, &cg) ||
                    netns_of_pid(proc_root, (pid_t)pid, &ns) < 0)
                        continue;
                struct nf_pod *p = pod_of(out, n, &cap, cg.uid);
                if (!p) {
                        closedir(d);
                        free(*out);
                        *out = NULL;
                        *n = 0;
                        return -ENOMEM;
                }
                add_process(p, &cg, (pid_t)pid, &ns);
        }
        closedir(d);
        for (size_t i = 0; i < *n; i++)
                for (size_t k = 0; k < (*out)[i].n_containers; k++)
                        if (!nf_netns_id_equal(&(*out)[i].containers[k].netns, &(*out)[i].netns))
                                (*out)[i].split = true;
        if (*n)
                qsort(*out, *n, sizeof(**out), cmp_pod);
        return 0;
}

/* ---- a selector to a namespace ---- */

static const char *kind_label(enum nf_netns_kind k) {
        return k == NF_NETNS_POD ? "pod" : k == NF_NETNS_CONTAINER ? "container" : k == NF_NETNS_PATH ? "path" : "pid";
}

/* "container 3f9a… (ns 4026532301), container 77b0… (ns 4026532302)" */
static void name_split(const struct nf_pod *p, char *buf, size_t len) {
        size_t at = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < p->n_containers && at < len; i++)
                at += (size_t)snprintf(buf + at, len - at, "%scontainer %.12s (pid %d, namespace %lu)", i ? ", " : "",
                                       p->containers[i].id, (int)p->containers[i].pid,
                                       (unsigned long)p->containers[i].netns.ino);
}

static int open_pid_ns(const char *proc_root, pid_t pid, struct nf_netns_found *out) {
        snprintf(out->reopen, sizeof(out->reopen), "%s/%d/ns/net", proc_root, (int)pid);
        out->fd = open(out->reopen, O_RDONLY | O_CLOEXEC);
        if (out->fd < 0)
                return -errno;
        int r = nf_netns_id_of(out->fd, &out->id);
        if (r < 0) {
                close(out->fd);
                out->fd = -1;
        }
        return r;
}

static int find_pod(const char *proc_root, const struct nf_netns_sel *sel, struct nf_netns_found *out, struct nf_err *e) {
        struct nf_pod *pods, *hit = NULL;
        struct nf_pod_container *ctr = NULL;
        size_t n, matches = 0;
        char split[600], uid[NF_POD_UID_LEN + 1];
        int r = nf_pods_scan(proc_root, &pods, &n);
        if (r < 0)
                return nf_fail(e, NF_ERR_INTERNAL, "internal", "netns", "netns: cannot read %s: %s", proc_root, strerror(-r));
        const char *field = sel->kind == NF_NETNS_POD ? "netns.pod_uid" : "netns.container_id";
        for (size_t i = 0; i < n; i++) {
                if (sel->kind == NF_NETNS_POD) {
                        if (take_uid(sel->name, strlen(sel->name), uid) && strcmp(pods[i].uid, uid) == 0)
                                hit = &pods[i];
                        continue;
                }
                for (size_t k = 0; k < pods[i].n_containers; k++)
                        if (strncmp(pods[i].containers[k].id, sel->name, strlen(sel->name)) == 0) {
                                if (matches++ == 0) {
                                        hit = &pods[i];
                                        ctr = &pods[i].containers[k];
                                } else if (matches == 2) {
                                        nf_fail(e, NF_ERR_INVALID, "ambiguous_container", field,
                                                "%s: '%s' is the start of more than one container id (%.16s… in pod %s and "
                                                "%.16s… in pod %s); give more of it",
                                                field, sel->name, ctr->id, hit->uid, pods[i].containers[k].id, pods[i].uid);
                                }
                        }
        }
        if (matches > 1) {
                free(pods);
                return -1;
        }
        if (!hit) {
                free(pods);
                return nf_fail(e, NF_ERR_NOT_FOUND, "netns_not_found", field,
                               "%s: no %s '%s' on this node (no process in %s cgroup under %s)", field,
                               sel->kind == NF_NETNS_POD ? "pod" : "container", sel->name,
                               sel->kind == NF_NETNS_POD ? "its pod's" : "its", proc_root);
        }
        if (hit->split && sel->kind == NF_NETNS_POD) {
                name_split(hit, split, sizeof(split));
                nf_fail(e, NF_ERR_INVALID, "pod_split", field,
                        "%s: the containers of pod %s are not in one network namespace: %s", field, hit->uid, split);
                free(pods);
                return -1;
        }
        pid_t pid = ctr ? ctr->pid : hit->pid;
        struct nf_netns_id want = ctr ? ctr->netns : hit->netns;
        snprintf(out->pod_uid, sizeof(out->pod_uid), "%s", hit->uid);
        free(pods);
        /* Between the scan and this open the process may have gone, or (pid reuse) be another. */
        r = open_pid_ns(proc_root, pid, out);
        if (r < 0 || !nf_netns_id_equal(&out->id, &want)) {
                if (r == 0)
                        close(out->fd);
                out->fd = -1;
                return nf_fail(e, NF_ERR_NOT_FOUND, "netns_vanished", field,
                               "%s: the processes of '%s' exited while netfaultd looked them up; nothing was changed", field,
                               sel->name);
        }
        return 0;
}

int nf_netns_find(const char *proc_root, const struct nf_netns_sel *sel, const struct nf_netns_id *own,
                  struct nf_netns_found *out, struct nf_err *e) {
        *out = (struct nf_netns_found){.fd = -1};
        int r;
        switch (sel->kind) {
        case NF_NETNS_POD:
        case NF_NETNS_CONTAINER:
                if (find_pod(proc_root, sel, out, e) < 0)
                        return -1;
                break;
        case NF_NETNS_PID: {
                char path[300], text[8192];
                struct nf_cgroup_pod cg;
                if ((r = open_pid_ns(proc_root, sel->pid, out)) < 0)
                        return nf_fail(e, r == -EINVAL ? NF_ERR_INVALID : NF_ERR_NOT_FOUND, "netns_not_found", "netns.pid",
                                       "netns.pid: no process %d on this node%s", (int)sel->pid,
                                       r == -ENOENT || r == -ESRCH ? "" : " whose network namespace netfaultd can open");
                snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, (int)sel->pid);
                if (read_small(path, text, sizeof(text)) == 0 && nf_cgroup_text_pod(text, &cg))
                        snprintf(out->pod_uid, sizeof(out->pod_uid), "%s", cg.uid);
                break;
        }
        case NF_NETNS_PATH:
                snprintf(out->reopen, sizeof(out->reopen), "%s", sel->name);
                out->fd = open(sel->name, O_RDONLY | O_CLOEXEC);
                if (out->fd < 0)
                        return nf_fail(e, errno == ENOENT ? NF_ERR_NOT_FOUND : NF_ERR_INVALID, "netns_not_found", "netns.path",
                                       "netns.path: cannot open '%s': %s", sel->name, strerror(errno));
                if ((r = nf_netns_id_of(out->fd, &out->id)) < 0) {
                        close(out->fd);
                        out->fd = -1;
                        return nf_fail(e, NF_ERR_INVALID, "not_a_netns", "netns.path",
                                       "netns.path: '%s' is not a network namespace (a bind mount of one or /proc/PID/ns/net)",
                                       sel->name);
                }
                break;
        default:
                return nf_fail(e, NF_ERR_INTERNAL, "internal", "netns", "netns: nothing to look up");
        }
        /* A wrong pod id must never fault the node: our own namespace only when asked for by name. */
        if (own && nf_netns_id_equal(&out->id, own)) {
                char what[NF_NETNS_NAME_LEN + 32];
                if (sel->kind == NF_NETNS_PID)
                        snprintf(what, sizeof(what), "pid %d", (int)sel->pid);
                else
                        snprintf(what, sizeof(what), "%s '%s'", kind_label(sel->kind), sel->name);
                close(out->fd);
                out->fd = -1;
                return nf_fail(e, NF_ERR_INVALID, "netns_is_host", "netns",
                               "netns: %s is in netfaultd's own network namespace (the node's); give \"netns\": "
                               "{\"host\": true} to fault it",
                               what);
        }
        return 0;
}

/* ---- what is inside a namespace ---- */

struct ifaces_arg {
        struct nf_ns_iface *out;
        size_t max, n;
};

static int prefix_len(const struct sockaddr *mask) {
        const unsigned char *b = mask->sa_family == AF_INET ? (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr
                                                            : (const unsigned char *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
        int len = 0, bytes = mask->sa_family == AF_INET ? 4 : 16;
        for (int i = 0; i < bytes; i++)
                len += __builtin_popcount(b[i]);
        return len;
}

/* Runs inside the namespace: getifaddrs() asks rtnetlink on a socket made here, so it sees this
 * namespace's interfaces. */
static int read_ifaces(void *p) {
        struct ifaces_arg *a = p;
        struct ifaddrs *ifs;
        if (getifaddrs(&ifs) < 0)
                return -errno;
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
                if (!i->ifa_name || (i->ifa_flags & IFF_LOOPBACK))
                        continue;
                struct nf_ns_iface *x = NULL;
                for (size_t k = 0; k < a->n; k++)
                        if (strcmp(a->out[k].name, i->ifa_name) == 0)
                                x = &a->out[k];
                if (!x) {
                        if (a->n >= a->max)
                                continue;
                        x = &a->out[a->n++];
                        *x = (struct nf_ns_iface){0};
                        snprintf(x->name, sizeof(x->name), "%s", i->ifa_name);
                }
                if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6) ||
                    x->n_addrs >= NF_MAX_NS_ADDRS)
                        continue;
                char buf[INET6_ADDRSTRLEN];
                const void *ad = i->ifa_addr->sa_family == AF_INET ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
                                                                   : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
                inet_ntop(i->ifa_addr->sa_family, ad, buf, sizeof(buf));
                snprintf(x->addrs[x->n_addrs++], sizeof(x->addrs[0]), "%s/%d", buf, i->ifa_netmask ? prefix_len(i->ifa_netmask) : 0);
        }
        freeifaddrs(ifs);
        return 0;
}

int nf_netns_interfaces(int netns_fd, struct nf_ns_iface *out, size_t max, size_t *n) {
        struct ifaces_arg a = {.out = out, .max = max};
        int r = nf_netns_run(netns_fd, read_ifaces, &a);
        *n = a.n;
        return r;
}
