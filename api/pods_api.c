/* GET /v1/pods: the pods on this node that netfaultd can see (core/pods.h), with their
 * containers, their namespace, its interfaces and addresses, and the faults inside it. An
 * orchestrator that knows a pod's uid from the Kubernetes API needs nothing else. Rate-limited:
 * it reads every process's cgroup and enters each pod's namespace. */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/fault_json.h"
#include "api/handlers.h"
#include "api/http.h"
#include "api/reply.h"
#include "core/pods.h"

static void add_interfaces(cJSON *po, const char *proc_root, pid_t pid, const struct nf_netns_id *want) {
        struct nf_ns_iface ifs[NF_MAX_NS_IFACES];
        struct nf_netns_id id;
        char path[300];
        size_t n = 0;
        snprintf(path, sizeof(path), "%s/%d/ns/net", proc_root, (int)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC), r = fd < 0 ? -1 : 0;
        /* The process may have gone (or its pid be reused) since the scan: only the same namespace. */
        if (fd < 0 || nf_netns_id_of(fd, &id) < 0 || !nf_netns_id_equal(&id, want) ||
            (r = nf_netns_interfaces(fd, ifs, NF_MAX_NS_IFACES, &n)) < 0) {
                cJSON_AddNullToObject(po, "interfaces");
                cJSON_AddStringToObject(po, "interfaces_error",
                                        r == -1 ? "the pod's processes exited while netfaultd read them"
                                                : "cannot enter the namespace (netfaultd needs CAP_SYS_ADMIN: --netns-mode)");
        } else {
                cJSON *a = cJSON_AddArrayToObject(po, "interfaces");
                for (size_t i = 0; i < n; i++) {
                        cJSON *io = cJSON_CreateObject(), *ad = cJSON_AddArrayToObject(io, "addresses");
                        cJSON_AddStringToObject(io, "name", ifs[i].name);
                        for (size_t k = 0; k < ifs[i].n_addrs; k++)
                                cJSON_AddItemToArray(ad, cJSON_CreateString(ifs[i].addrs[k]));
                        cJSON_AddItemToArray(a, io);
                }
        }
        if (fd >= 0)
                close(fd);
}

void nf_api_pods_list(struct nf_api *api, struct evhttp_request *req, const char *id) {
        struct nf_registry *r = api->reg;
        struct nf_pod *pods;
        struct nf_err e;
        size_t n;
        (void)id;
        int rc = nf_pods_scan(r->proc_root, &pods, &n);
        if (rc < 0) {
                nf_fail(&e, NF_ERR_INTERNAL, "internal", NULL, "cannot read %s: %s", r->proc_root, strerror(-rc));
                return nf_api_reply_error(req, &e);
        }
        const struct nf_ns *own = nf_registry_own(r);
        cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "pods");
        for (size_t i = 0; i < n; i++) {
                const struct nf_pod *p = &pods[i];
                cJSON *po = cJSON_CreateObject(), *cs = cJSON_CreateArray(), *ns = cJSON_CreateObject();
                cJSON_AddStringToObject(po, "uid", p->uid);
                cJSON_AddStringToObject(po, "qos", p->qos[0] ? p->qos : "guaranteed");
                for (size_t k = 0; k < p->n_containers; k++) {
                        cJSON *c = cJSON_CreateObject();
                        cJSON_AddStringToObject(c, "id", p->containers[k].id);
                        cJSON_AddNumberToObject(c, "pid", p->containers[k].pid);
                        if (p->split)
                                cJSON_AddNumberToObject(c, "netns_inode", (double)p->containers[k].netns.ino);
                        cJSON_AddItemToArray(cs, c);
                }
                cJSON_AddItemToObject(po, "containers", cs);
                cJSON_AddNumberToObject(ns, "inode", (double)p->netns.ino);
                cJSON_AddNumberToObject(ns, "dev", (double)p->netns.dev);
                /* hostNetwork pods share the node's: faulting them needs "host": true. */
                cJSON_AddBoolToObject(ns, "host", nf_netns_id_equal(&p->netns, &own->id));
                cJSON_AddBoolToObject(ns, "split", p->split);
                cJSON_AddItemToObject(po, "netns", ns);
                add_interfaces(po, r->proc_root, p->pid, &p->netns);
                cJSON *fs = cJSON_AddArrayToObject(po, "faults");
                for (const struct nf_fault *f = r->faults; f; f = f->next)
                        if (nf_netns_id_equal(&f->ns->id, &p->netns))
                                cJSON_AddItemToArray(fs, cJSON_CreateString(f->id));
                cJSON_AddItemToArray(a, po);
        }
        free(pods);
        nf_api_reply(req, 200, o);
}
