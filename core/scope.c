#include "core/scope.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool names_hostnames(const struct nf_spec *s) {
        for (size_t i = 0; i < s->n_target_names; i++)
                if (strncmp(s->target_names[i], "aws:", 4) != 0)
                        return true;
        return false;
}

int nf_scope_exclusions(const struct nf_scope_input *in, struct nf_prefix **out, size_t *n) {
        static const char *const protected[] = NF_PROTECTED_ADDRESSES;
        const struct nf_spec *s = in->spec;
        *n = 0;
        *out = calloc(s->n_exclude + NF_N_PROTECTED + in->n_nameservers + 1, sizeof(**out));
        if (!*out)
                return -ENOMEM;
        if (s->n_exclude)
                memcpy(*out, s->exclude, s->n_exclude * sizeof(**out));
        *n = s->n_exclude;
        if (!s->allow_control_plane) {
                for (size_t i = 0; i < NF_N_PROTECTED; i++)
                        nf_prefix_parse(protected[i], &(*out)[(*n)++]);
                /* A fault that needs DNS must not cut off its own re-resolution. */
                if (names_hostnames(s))
                        for (size_t i = 0; i < in->n_nameservers; i++)
                                (*out)[(*n)++] = in->nameservers[i];
        }
        nf_prefix_set_normalize(*out, n);
        return 0;
}

int nf_scope_effective(const struct nf_scope_input *in, struct nf_scope_set *out, struct nf_err *e) {
        struct nf_spec s = *in->spec;
        struct nf_prefix *ex = NULL, *all = NULL;
        size_t n_ex = 0, n_all = s.n_targets + in->n_learned;
        int rc;

        *out = (struct nf_scope_set){0};
        if (nf_scope_exclusions(in, &ex, &n_ex) < 0 || !(all = calloc(n_all + 1, sizeof(*all)))) {
                free(ex);
                return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
        }
        if (s.n_targets)
                memcpy(all, s.targets, s.n_targets * sizeof(*all));
        if (in->n_learned)
                memcpy(all + s.n_targets, in->learned, in->n_learned * sizeof(*all));
        nf_prefix_set_normalize(all, &n_all);
        /* Which protected addresses did the targets hold? (shown in the fault) Binary searches in
         * the normalised sets: a scan of every pair was O(excludes x targets), seconds on the
         * event loop for 10,000 of each. */
        for (size_t i = 0; !s.allow_control_plane && i < n_ex; i++)
                if (!nf_prefix_set_covers(s.exclude, s.n_exclude, &ex[i]) && nf_prefix_set_overlaps(all, n_all, &ex[i]) &&
                    out->n_protected_hit < NF_MAX_PROTECTED_HIT)
                        out->protected_hit[out->n_protected_hit++] = ex[i];
        s.targets = all;
        s.n_targets = n_all;
        s.exclude = ex;
        s.n_exclude = n_ex;
        rc = nf_spec_effective(&s, NF_MAX_FILTERS_PER_FAULT, &out->eff, &out->n_eff);
        free(ex);
        free(all);
        if (rc == -E2BIG)
                return nf_fail(e, NF_ERR_INVALID, "too_many_filters", "exclude", "targets minus exclude splits into more than %d prefixes",
                               NF_MAX_FILTERS_PER_FAULT);
        if (rc < 0)
                return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
        if (out->n_eff == 0) {
                free(out->eff);
                out->eff = NULL;
                return nf_fail(e, NF_ERR_INVALID, "empty_match", out->n_protected_hit ? "allow_control_plane" : "exclude",
                               out->n_protected_hit ? "the targets hold only protected control-plane addresses; set "
                                                      "\"allow_control_plane\": true to fault them"
                                                    : "exclude covers every target: the fault would match nothing");
        }
        return 0;
}

long nf_scope_overlapping(const struct nf_fault_scope *a, const struct nf_active_scope *active, size_t n,
                          char *why, size_t why_len) {
        for (size_t i = 0; i < n; i++)
                if (nf_scopes_overlap(a, &active[i].scope, why, why_len))
                        return (long)i;
        return -1;
}

int nf_scope_check_conflicts(const struct nf_fault_scope *a, const struct nf_active_scope *active, size_t n,
                             struct nf_err *e) {
        char why[256];
        long i = nf_scope_overlapping(a, active, n, why, sizeof(why));
        if (i >= 0)
                return nf_fail(e, NF_ERR_CONFLICT, "conflict", "targets", "overlaps active fault %s: %s", active[i].id, why);
        return 0;
}

int nf_scope_slot(const bool used[NF_MAX_SLOTS], int want, unsigned *slot, struct nf_err *e) {
        if (want >= 0) {
                if ((unsigned)want >= NF_MAX_SLOTS || used[want])
                        return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "slot %d is not free", want);
                *slot = (unsigned)want;
                return 0;
        }
        for (unsigned s = 0; s < NF_MAX_SLOTS; s++)
                if (!used[s]) {
                        *slot = s;
                        return 0;
                }
        /* --max-faults is at most NF_MAX_SLOTS, so its 429 comes first. */
        return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "no free slot: all %u are in use", NF_MAX_SLOTS);
}

int nf_scope_action_indexes(uint32_t *next, const uint32_t *used, size_t n_used, struct nf_plan_link *links,
                            size_t n) {
        /* One bit per index of our range (8 KiB): each candidate is checked in O(1), however many
         * actions the active faults hold. */
        uint64_t taken[0x10000 / 64] = {0};
        for (size_t i = 0; i < n_used; i++) {
                uint32_t off = used[i] - NF_ACT_INDEX_BASE; /* wraps for an index below our range */
                if (off <= 0xffffu)
                        taken[off / 64] |= 1ull << (off % 64);
        }
        for (size_t i = 0; i < n; i++) {
                uint32_t off, tries = 0;
                do {
                        if (tries++ > 0xffffu)
                                return -ENOSPC;
                        off = (*next)++ & 0xffffu;
                } while (taken[off / 64] & (1ull << (off % 64)));
                links[i].act_index = NF_ACT_INDEX_BASE + off;
        }
        return 0;
}

int nf_scope_faults_fit(size_t active, uint32_t max_faults, struct nf_err *e) {
        if (active >= max_faults)
                return nf_fail(e, NF_ERR_LIMIT, "too_many_faults", NULL, "%zu faults are active, the limit (--max-faults) is %u",
                               active, max_faults);
        return 0;
}

int nf_scope_filters_fit(size_t in_use, size_t needed, uint32_t max_filters, struct nf_err *e) {
        if (in_use + needed > max_filters)
                return nf_fail(e, NF_ERR_LIMIT, "too_many_filters", "targets",
                               "the fault needs %zu filters; %zu are installed and the limit (--max-filters) is %u", needed,
                               in_use, max_filters);
        return 0;
}
