/* The journal round trip, judged by what reaches the kernel. A spec is validated, planned and
 * encoded (ifb links, netem qdiscs, flower filters with their actions): bytes A. Its journal
 * record (the compact render, written to a state directory and loaded back by the journal
 * itself) is validated, planned and encoded again: bytes B. A and B must be equal byte for byte.
 * Comparing a render with a re-render could not see a field the renderer drops (deleting `gap`
 * from it passed that test); the kernel's bytes do. What the core keeps for itself and never sends
 * (duration, lease, name, control-plane protection, the names it resolves, the namespace it names)
 * is appended to the bytes, so that it is held to the same rule.
 *
 * Then each member of each record is deleted in turn: the result must be refused, or encode to
 * other bytes, or be a default that renders back unchanged. A member that is none of these is
 * one whose loss the round trip could not see. Every member the validator knows (its tables:
 * nf_spec_members and each effect's key and fields) must matter (be refused or change the bytes)
 * in at least one spec here, so a new effect or field fails this test until it has a case. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <linux/pkt_sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/effects_json.h"
#include "core/journal.h"
#include "core/log.h"
#include "core/guard.h"
#include "core/spec_json.h"
#include "netem/encode.h"
#include "tap.h"

static const struct nf_validate_limits LIM = {.max_duration_s = 86400, .default_duration_s = 300};
#define FAULT_ID "f-0123456789ab"
#define SLOT 5

/* Each effect with every field set away from its default, rates on both sides of 2^32 bytes/s,
 * every direction, protocol, port form and kind of target. */
static const char *const specs[] = {
        "{\"targets\":[\"10.0.0.0/8\",\"fd00::/64\",\"198.51.100.7\"],\"exclude\":[\"10.1.0.0/16\",\"fd00::8000/65\"],"
        "\"delay\":{\"ms\":100,\"jitter_ms\":10,\"correlation\":25,\"distribution\":\"pareto\"},"
        "\"loss\":{\"percent\":0.5,\"correlation\":12.5},\"limit\":5000,\"interfaces\":[\"eth0\",\"eth1\"],"
        "\"name\":\"slow\",\"duration_s\":60,\"netns\":{\"pod_uid\":\"6b2c1d3e-0f4a-4b5c-8d9e-0a1b2c3d4e5f\"}}",
        "{\"targets\":[\"10.0.2.10\",\"2001:db8::1\"],\"protocol\":\"udp\",\"ports\":[53,\"1000-2000\"],"
        "\"local_ports\":[5353,\"6000-6010\"],\"interfaces\":[\"eth0\"],\"direction\":\"both\",\"blackhole\":true,"
        "\"name\":\"dns\",\"lease_s\":10,\"allow_control_plane\":true}",
        "{\"targets\":[\"10.0.0.1\"],\"protocol\":\"tcp\",\"ports\":[443],\"direction\":\"ingress\","
        "\"delay\":{\"ms\":5,\"jitter_ms\":1,\"distribution\":\"normal\"},\"reorder\":{\"percent\":5,\"correlation\":40,"
        "\"gap\":3},\"duplicate\":{\"percent\":1,\"correlation\":2},\"corrupt\":{\"percent\":1.5,\"correlation\":3},"
        "\"rate\":{\"kbit\":1000}}",
        "{\"targets\":[\"192.0.2.0/24\"],\"protocol\":\"icmp\",\"rate\":{\"kbit\":40000000},\"duration_s\":3600}",
        "{\"targets\":[\"10.9.0.0/16\",\"db.example.internal\",\"aws:S3:eu-west-1\"],\"delay\":{\"ms\":300},"
        "\"lease_s\":30,\"duration_s\":120}",
        "{\"targets\":[\"10.0.4.0/24\"],\"loss\":{\"percent\":100},\"flows_percent\":30,\"direction\":\"both\"}",
        "{\"targets\":[\"fd00:1::/48\"],\"protocol\":\"tcp\",\"local_ports\":[8080],\"direction\":\"ingress\","
        "\"delay\":{\"ms\":50,\"jitter_ms\":20,\"correlation\":5,\"distribution\":\"paretonormal\"},"
        "\"duplicate\":{\"percent\":3}}",
        "{\"targets\":[\"10.0.3.0/24\"],\"delay\":{\"ms\":300},\"guard\":{\"probes\":[{\"http\":{\"url\":"
        "\"http://10.0.3.1:8080/health\",\"max_latency_ms\":200,\"expect_status\":[200,\"300-399\"]}},{\"tcp\":"
        "{\"address\":\"10.0.3.2\",\"port\":5432,\"from\":\"target\"}},{\"prometheus\":{\"url\":\"http://10.0.3.3:9090\","
        "\"query\":\"sum(rate(errors_total[1m]))\",\"max\":0.001}}],\"interval_ms\":500,\"failures_to_abort\":2,"
        "\"scope\":\"all\"}}",
};

/* Every member the validator accepts, as "key" or "key.field", from its tables. */
#define MAX_KNOWN 128
static char known[MAX_KNOWN][64];
static bool mattered[MAX_KNOWN];
static size_t n_known;

static void know(const char *key, const char *field) {
        if (n_known < MAX_KNOWN)
                snprintf(known[n_known++], sizeof(known[0]), "%s%s%s", key, field ? "." : "", field ? field : "");
}

/* Both tables have an entry for every effect (a missing last one stops the build; one missing in
 * the middle would be all zeroes), and the list of known members comes from them. */
static void tables(void) {
        bool complete = true;
        for (int i = 0; i < NF_EFFECT_COUNT; i++) {
                const struct nf_effect_json *j = nf_effect_json(i);
                const struct nf_effect_kernel *k = nf_effect_kernel(i);
                if (!j->key || !j->parse || !j->render || k->action >= NF_ACTION_COUNT) {
                        printf("#   effect %d has an empty entry\n", i);
                        complete = false;
                        continue;
                }
                for (int o = 0; o < i; o++)
                        if (nf_effect_kernel(o)->flag == k->flag || strcmp(nf_effect_json(o)->key, j->key) == 0) {
                                printf("#   effect %d (%s) shares its flag or key with effect %d\n", i, j->key, o);
                                complete = false;
                        }
                know(j->key, NULL);
                for (const char *const *f = j->fields; f && *f; f++)
                        know(j->key, *f);
        }
        for (int a = 0; a < NF_ACTION_COUNT; a++)
                complete &= nf_action_info(a)->tc_kind != NULL;
        tap_ok(complete, "every effect has its own complete entry in both tables, every action in its own");
        for (const char *const *m = nf_spec_members; *m; m++)
                know(*m, NULL);
}

struct bytes {
        uint8_t *p;
        size_t n, cap;
};

static void put(struct bytes *b, const void *p, size_t n) {
        if (b->n + n > b->cap) {
                b->cap = (b->n + n) * 2;
                b->p = realloc(b->p, b->cap);
                if (!b->p)
                        abort();
        }
        memcpy(b->p + b->n, p, n);
        b->n += n;
}

static void put_msg(struct bytes *b, const struct nlmsghdr *nlh) {
        if (!nlh)
                abort(); /* the scratch buffer is large enough for any message we build */
        put(b, nlh, nlh->nlmsg_len);
}

static void put_u32(struct bytes *b, uint32_t v) {
        put(b, &v, sizeof(v));
}

static void put_str(struct bytes *b, const char *s) {
        put(b, s, strlen(s) + 1);
}

/* An interface named in the spec gets an index made from its name, so that a name lost on the
 * way changes the bytes; without names, the fault takes eth0 (as a host with one default route). */
static size_t interfaces_of(const struct nf_spec *s, struct nf_iface *out) {
        if (s->n_ifnames == 0) {
                out[0] = (struct nf_iface){.ifindex = 2, .name = "eth0"};
                return 1;
        }
        for (size_t i = 0; i < s->n_ifnames; i++) {
                unsigned h = 0;
                for (const char *c = s->ifnames[i]; *c; c++)
                        h = h * 31 + (unsigned char)*c;
                out[i].ifindex = (int)(10 + h % 10000);
                snprintf(out[i].name, sizeof(out[i].name), "%s", s->ifnames[i]);
        }
        return s->n_ifnames;
}

/* What the applier would send for the spec, then what only the core acts on. 0, or -1 when the
 * spec cannot be planned. */
static int encode(const struct nf_spec *s, struct bytes *out) {
        static uint8_t buf[65536];
        struct nf_iface ifaces[NF_MAX_IFACES];
        size_t n_if = interfaces_of(s, ifaces), n_eff = 0;
        struct nf_prefix *eff = NULL;
        struct nf_plan p;

        out->n = 0;
        if (nf_spec_effective(s, NF_MAX_FILTERS_PER_FAULT, &eff, &n_eff) < 0 ||
            nf_plan_build(s, FAULT_ID, eff, n_eff, SLOT, ifaces, n_if, &p) < 0) {
                free(eff);
                return -1;
        }
        for (size_t i = 0; i < p.n_links; i++) {
                const struct nf_plan_link *l = &p.links[i];
                if (!nf_action_info(l->action)->ifb)
                        continue;
                put_msg(out, nf_enc_ifb_add(NF_MSGBUF(buf), l->ifb_name, l->ifb_ifindex));
                put_msg(out, nf_enc_link_up_alias(NF_MSGBUF(buf), l->ifb_ifindex, l->ifb_alias));
                uint32_t root = TC_H_MAKE(NF_QDISC_MAJOR << 16, 0);
                if (!p.flows_percent) {
                        put_msg(out, nf_enc_netem(NF_MSGBUF(buf), l->ifb_ifindex, root, TC_H_ROOT, &p.netem));
                        continue;
                }
                /* A share of flows: the share's shape and the netem each band of it gets
                 * (netem/plan.h; the lab proves the share). */
                put_msg(out, nf_enc_prio(NF_MSGBUF(buf), l->ifb_ifindex, root, TC_H_ROOT, NF_FLOW_BANDS));
                put_u32(out, p.flows_percent);
                put_msg(out, nf_enc_netem(NF_MSGBUF(buf), l->ifb_ifindex, root, root | 1, &p.netem));
        }
        for (size_t i = 0; i < p.n_links; i++) {
                const struct nf_plan_link *l = &p.links[i];
                struct nf_action_ref act = {.kind = l->action, .index = l->act_index, .redirect_ifindex = l->ifb_ifindex};
                for (size_t k = 0; k < p.n_keys; k++) {
                        const struct nf_filter_key *key = &p.keys[k];
                        uint16_t prio = key->remote.family == AF_INET6 ? l->prio_v6 : l->prio_v4;
                        put_msg(out, nf_enc_flower(NF_MSGBUF(buf), l->iface.ifindex, nf_hook_parent(l->dir), prio,
                                                   (uint32_t)k + 1, l->dir, key, &act));
                }
        }
        nf_plan_free(&p);
        free(eff);

        put_u32(out, s->duration_s);
        put_u32(out, s->lease_s);
        put_u32(out, s->allow_control_plane);
        put_str(out, s->name);
        /* The namespace the fault lives in: a resumed fault must enter the same pod. */
        put_u32(out, s->netns.kind);
        put_u32(out, (uint32_t)s->netns.pid);
        put_str(out, s->netns.name);
        for (size_t i = 0; i < s->n_target_names; i++)
                put_str(out, s->target_names[i]);
        return 0;
}

/* Validated and encoded; -1 when refused or not plannable. */
static int spec_bytes(const cJSON *root, struct bytes *out, struct nf_spec *keep) {
        struct nf_spec s;
        struct nf_err e = {0};
        if (nf_validate_fault(root, &LIM, &s, &e) < 0)
                return -1;
        int r = encode(&s, out);
        if (keep && r == 0)
                *keep = s;
        else
                nf_spec_free(&s);
        return r;
}

static bool same(const struct bytes *a, const struct bytes *b, size_t *first) {
        size_t n = a->n < b->n ? a->n : b->n;
        for (*first = 0; *first < n; (*first)++)
                if (a->p[*first] != b->p[*first])
                        return false;
        return a->n == b->n;
}

/* The record as --on-start=resume reads it: rendered, written, loaded. */
static cJSON *through_journal(struct nf_journal *j, const struct nf_spec *s) {
        struct nf_journal_entry *v = NULL;
        size_t n = 0, corrupt = 0;
        cJSON *rec = nf_spec_to_json(s, true), *spec = NULL;
        int r = nf_journal_put(j, FAULT_ID, "active", SLOT, 1000, 61000, rec, NULL);
        cJSON_Delete(rec);
        if (r < 0 || nf_journal_load(j, &v, &n, &corrupt) < 0)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i].id, FAULT_ID) == 0) {
                        spec = v[i].spec;
                        v[i].spec = NULL;
                }
        nf_journal_entries_free(v, n);
        nf_journal_drop(j, FAULT_ID);
        return spec;
}

static void note_mattered(const char *path) {
        for (size_t i = 0; i < n_known; i++)
                if (strcmp(known[i], path) == 0)
                        mattered[i] = true;
}

/* Deletes key (or key.member) from a copy of the record: refused, other bytes, or a default.
 * false when none of these. */
static bool delete_one(size_t c, const cJSON *record, const struct bytes *b, const char *key, const char *member) {
        char path[96];
        struct bytes d = {0};
        size_t first;
        cJSON *copy = cJSON_Duplicate(record, true), *parent = member ? cJSON_GetObjectItem(copy, key) : copy;
        cJSON *gone = cJSON_DetachItemFromObject(parent, member ? member : key);
        struct nf_spec s;
        bool ok = true;

        snprintf(path, sizeof(path), "%s%s%s", key, member ? "." : "", member ? member : "");
        if (strcmp(key, "guard") == 0) {
                /* Not the kernel's: it matters by coming back whole from the journal, so that a
                 * resumed fault is guarded as it was. */
                struct nf_spec back = {0};
                cJSON *again = spec_bytes(record, &d, &back) == 0 && back.guard ? nf_guard_spec_to_json(back.guard) : NULL;
                ok = again && cJSON_Compare(again, cJSON_GetObjectItem(record, "guard"), true);
                if (ok)
                        note_mattered("guard");
                else
                        printf("#   spec %zu: the guard does not come back whole from the journal\n", c);
                cJSON_Delete(again);
                nf_spec_free(&back);
                cJSON_Delete(gone);
                cJSON_Delete(copy);
                free(d.p);
                return ok;
        }
        if (spec_bytes(copy, &d, &s) < 0) {
                note_mattered(path); /* refused: a record without it fails loudly, never silently */
        } else if (!same(b, &d, &first)) {
                note_mattered(path);
                nf_spec_free(&s);
        } else {
                /* Equal bytes: only right if what was deleted was the default, which renders back. */
                cJSON *again = nf_spec_to_json(&s, true);
                const cJSON *back = member ? cJSON_GetObjectItem(cJSON_GetObjectItem(again, key), member)
                                           : cJSON_GetObjectItem(again, key);
                if (!back || !cJSON_Compare(back, gone, true)) {
                        printf("#   spec %zu: without '%s' the spec differs but its bytes do not\n", c, path);
                        ok = false;
                }
                cJSON_Delete(again);
                nf_spec_free(&s);
        }
        cJSON_Delete(gone);
        cJSON_Delete(copy);
        free(d.p);
        return ok;
}

static void delete_each(size_t c, const cJSON *record, const struct bytes *b) {
        const cJSON *m, *f;
        size_t n = 0, bad = 0;
        cJSON_ArrayForEach(m, record) {
                bad += !delete_one(c, record, b, m->string, NULL);
                n++;
                if (cJSON_IsObject(m) && strcmp(m->string, "guard") != 0)
                        cJSON_ArrayForEach(f, m) {
                                bad += !delete_one(c, record, b, m->string, f->string);
                                n++;
                        }
        }
        tap_ok(bad == 0, "spec %zu: each of the %zu members of its record, deleted, is refused, changes the bytes or is a default",
               c, n);
}

static void remove_dir(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        char path[300];
        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.' || (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)) {
                        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                        unlink(path);
                }
        if (d)
                closedir(d);
        rmdir(dir);
}

int main(void) {
        char dir[] = "/tmp/nf-roundtrip-XXXXXX", err[256];
        struct nf_journal j;

        nf_log_setup(NF_LOG_TEXT, NF_LOG_ERROR);
        if (!mkdtemp(dir) || nf_journal_open(&j, dir, 0, err, sizeof(err)) < 0) {
                printf("Bail out! no state directory: %s\n", err);
                return 1;
        }
        tables();
        for (size_t c = 0; c < sizeof(specs) / sizeof(*specs); c++) {
                struct bytes a = {0}, b = {0};
                struct nf_spec s;
                size_t first = 0;
                cJSON *req = cJSON_Parse(specs[c]), *record = NULL;
                int ok = spec_bytes(req, &a, &s) == 0;
                if (!tap_ok(ok, "spec %zu validates and plans", c))
                        goto next;
                record = through_journal(&j, &s);
                nf_spec_free(&s);
                if (!tap_ok(record && spec_bytes(record, &b, NULL) == 0, "spec %zu: its journal record validates and plans",
                            c))
                        goto next;
                if (!tap_ok(same(&a, &b, &first), "spec %zu: the kernel bytes from the record equal the original's (%zu bytes)", c,
                            a.n)) {
                        char *t = cJSON_PrintUnformatted(record);
                        printf("#   %zu and %zu bytes, first difference at byte %zu\n#   record: %s\n", a.n, b.n, first,
                               t ? t : "");
                        free(t);
                }
                delete_each(c, record, &b);
        next:
                cJSON_Delete(req);
                cJSON_Delete(record);
                free(a.p);
                free(b.p);
        }
        for (size_t i = 0; i < n_known; i++)
                tap_ok(mattered[i], "'%s' matters in some spec (refused without it, or other bytes)", known[i]);
        nf_journal_close(&j);
        remove_dir(dir);
        return tap_done();
}
