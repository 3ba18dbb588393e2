/* The scope policy of a fault: which addresses it may touch (its targets and what its names
 * brought, minus the user's excludes, minus the protected control plane), whether it collides
 * with the active faults, and which of the daemon's marks it gets (a slot, shared action
 * indexes) within the limits on faults and filters. Pure functions: they see only what they are
 * given (no registry, no netlink, no event loop), so each rule is unit-tested on its own
 * (tests/unit/test-scope.c); the registry gathers the facts and applies the answers. */
#pragma once
#include "core/layer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/resolver.h"
#include "netem/plan.h"
#include "netem/spec.h"

/* Addresses no fault touches unless it sets allow_control_plane: the ECS agent and task
 * metadata endpoint, and EC2 instance metadata (IPv4 and IPv6). */
#define NF_PROTECTED_ADDRESSES {"169.254.170.2/32", "169.254.169.254/32", "fd00:ec2::254/128"}
#define NF_N_PROTECTED 3
/* Protected addresses one fault can report as taken out of its targets: the fixed ones and the
 * nameservers. */
#define NF_MAX_PROTECTED_HIT (NF_N_PROTECTED + NF_MAX_NAMESERVERS)

/* What decides a fault's addresses besides what it asked for. */
struct nf_scope_input {
        const struct nf_spec *spec;
        const struct nf_prefix *learned; /* addresses of its hostnames and aws: selections */
        size_t n_learned;
        const struct nf_prefix *nameservers; /* protected for a fault that names hostnames */
        size_t n_nameservers;
};

/* The addresses a fault covers. */
struct nf_scope_set {
        struct nf_prefix *eff; /* (targets + learned) - exclusions, normalised; the caller frees it */
        size_t n_eff;
        struct nf_prefix protected_hit[NF_MAX_PROTECTED_HIT]; /* protected addresses inside the targets */
        size_t n_protected_hit;
};

/* The user's excludes plus, unless allow_control_plane, the protected addresses and (for a
 * fault with hostnames, not for aws: selections alone) the nameservers: normalised, newly
 * allocated. -ENOMEM. */
int nf_scope_exclusions(const struct nf_scope_input *in, struct nf_prefix **out, size_t *n);

/* What the fault covers. Refuses (-1, e filled) a set that would need more than
 * NF_MAX_FILTERS_PER_FAULT prefixes, and an empty one: naming allow_control_plane when only
 * protected addresses were left out, exclude otherwise. On failure out holds nothing to free. */
int nf_scope_effective(const struct nf_scope_input *in, struct nf_scope_set *out, struct nf_err *e);

/* An active fault as the conflict check sees it. */
struct nf_active_scope {
        const char *id;
        struct nf_fault_scope scope;
};

/* Index in active[] of the first fault that could match a packet a matches too (same interface
 * and direction, overlapping protocol, ports and addresses), with why; -1 for none. */
long nf_scope_overlapping(const struct nf_fault_scope *a, const struct nf_active_scope *active, size_t n,
                          char *why, size_t why_len);
/* The same as a refusal: -1 with e naming the fault and the overlap (a conflict), 0 for none. */
int nf_scope_check_conflicts(const struct nf_fault_scope *a, const struct nf_active_scope *active, size_t n,
                             struct nf_err *e);

/* The slot of a new fault: want when it is given (>= 0, a resumed fault keeps its journaled
 * slot) and free, else the lowest free one. -1 with e filled when there is none. */
int nf_scope_slot(const bool used[NF_MAX_SLOTS], int want, unsigned *slot, struct nf_err *e);

/* Gives each of n links the next shared action index of the rotation (*next, advanced) that
 * none of used[] holds. A new fault's actions get indexes no recent fault used: handing the index
 * of an action the kernel is still releasing (its last filter was just deleted) to a new filter
 * is where tcf_idr_check_alloc() has had busy-retry bugs, and a create/delete loop on one slot
 * would do just that. The indexes rotate through the 2^16 values of our range (NF_ACT_INDEX_BASE
 * + 0..0xffff), skipping those in use. -ENOSPC if every one is in use. */
int nf_scope_action_indexes(uint32_t *next, const uint32_t *used, size_t n_used, struct nf_plan_link *links,
                            size_t n);

/* The limits of --max-faults and --max-filters (across every fault and interface): 0 when one
 * more fault, or `needed` more filters, fit; -1 with e filled (a limit) when not. */
int nf_scope_faults_fit(size_t active, uint32_t max_faults, struct nf_err *e);
int nf_scope_filters_fit(size_t in_use, size_t needed, uint32_t max_filters, struct nf_err *e);
