#include "core/record.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/journal.h"
#include "core/log.h"
#include "core/registry.h"
#include "core/spec_json.h"

int nf_record_put(struct nf_journal *j, const struct nf_fault *f, const char *state) {
        if (!j)
                return 0;
        cJSON *spec = nf_spec_to_json(&f->spec, true), *objects = nf_plan_to_json(&f->plan, false);
        /* What names resolved to: --on-start=resume starts from these, then resolves again. */
        cJSON *names = cJSON_AddArrayToObject(objects, "names");
        for (size_t i = 0; i < f->n_names; i++) {
                char buf[NF_PREFIX_STRLEN];
                cJSON *n = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(n, "addresses");
                cJSON_AddStringToObject(n, "name", f->names[i].name);
                for (size_t k = 0; k < f->names[i].n_addrs; k++)
                        cJSON_AddItemToArray(a, cJSON_CreateString(nf_prefix_format(&f->names[i].addrs[k], buf, sizeof(buf))));
                cJSON_AddItemToArray(names, n);
        }
        /* Which namespace it lives in; the namespace's own record says how to reopen it. */
        if (f->ns) {
                cJSON *ns = cJSON_AddObjectToObject(objects, "netns");
                cJSON_AddNumberToObject(ns, "dev", (double)f->ns->id.dev);
                cJSON_AddNumberToObject(ns, "ino", (double)f->ns->id.ino);
        }
        int rc = nf_journal_put(j, f->id, state, f->slot, f->created_ms, f->expires_ms, spec, objects);
        cJSON_Delete(spec);
        cJSON_Delete(objects);
        if (rc < 0)
                nf_log(NF_LOG_ERROR, "journal.write_failed", "%s: %s", f->id, strerror(-rc));
        return rc;
}

int nf_record_put_clsact(struct nf_journal *j, const struct nf_ns *ns, const char *proc_root) {
        const struct nf_applier *a = &ns->applier;
        int v[NF_MAX_HOOK_IFACES];
        size_t n = 0;
        if (!j)
                return 0;
        for (size_t i = 0; i < a->n_uses; i++)
                if (a->uses[i].created_clsact)
                        v[n++] = a->uses[i].ifindex;
        if (ns->own)
                return nf_journal_put_clsact(j, v, n);
        struct nf_journal_netns rec = {.dev = (uint64_t)ns->id.dev, .ino = (uint64_t)ns->id.ino};
        snprintf(rec.reopen, sizeof(rec.reopen), "%s", ns->reopen);
        snprintf(rec.pod_uid, sizeof(rec.pod_uid), "%s", ns->pod_uid);
        snprintf(rec.proc_root, sizeof(rec.proc_root), "%s", proc_root ? proc_root : "");
        for (size_t i = 0; i < n && i < NF_JOURNAL_MAX_CLSACT; i++)
                rec.clsact[rec.n_clsact++] = v[i];
        int rc = nf_journal_put_netns(j, &rec);
        if (rc < 0)
                nf_log(NF_LOG_ERROR, "journal.write_failed", "namespace %lu: %s", (unsigned long)ns->id.ino, strerror(-rc));
        return rc;
}

void nf_record_drop_ns(struct nf_journal *j, const struct nf_ns *ns) {
        if (j && !ns->own)
                nf_journal_drop_netns(j, (uint64_t)ns->id.dev, (uint64_t)ns->id.ino);
}

int nf_record_read_names(const struct nf_journal_entry *je, struct nf_fault_init *init) {
        const cJSON *names = je->objects ? cJSON_GetObjectItem(je->objects, "names") : NULL, *n;
        cJSON_ArrayForEach(n, names) {
                const cJSON *nm = cJSON_GetObjectItem(n, "name"), *a = cJSON_GetObjectItem(n, "addresses"), *it;
                /* aws: selections are read from the ranges file again, not from the record. */
                if (!cJSON_IsString(nm) || strncmp(nm->valuestring, "aws:", 4) == 0)
                        continue;
                struct nf_fault_name *fn = nf_fault_init_name(init, nm->valuestring, false);
                if (!fn)
                        return -ENOMEM;
                cJSON_ArrayForEach(it, a) {
                        if (cJSON_IsString(it) && fn->n_addrs < NF_MAX_NAME_ADDRS &&
                            nf_prefix_parse(it->valuestring, &fn->addrs[fn->n_addrs]) == 0)
                                fn->n_addrs++;
                }
                if (nf_fault_init_learn(init, fn->addrs, fn->n_addrs) < 0)
                        return -ENOMEM;
        }
        return 0;
}
