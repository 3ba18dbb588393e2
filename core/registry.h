/* The faults that are active: creation (resolve interfaces → protect the control plane →
 * conflict check → plan → journal → apply), expiry and lease timers, deletion, revert-all,
 * start-up reconciliation. The only owner of fault lifetimes. */
#pragma once
#include "core/layer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/awsranges.h"
#include "core/journal.h"
#include "core/resolver.h"
#include "netem/apply.h"
#include "netem/caps.h"
#include "netem/plan.h"
#include "netem/spec.h"

struct event_base;
struct event;

#define NF_ID_LEN 20
/* Addresses no fault touches unless it sets allow_control_plane: the ECS agent and task
 * metadata endpoint, and EC2 instance metadata (IPv4 and IPv6). */
#define NF_PROTECTED_ADDRESSES {"169.254.170.2/32", "169.254.169.254/32", "fd00:ec2::254/128"}
#define NF_N_PROTECTED 3

/* A target given by name, and what it has resolved to so far (kept for the fault's life). */
struct nf_fault_name {
        char name[NF_TARGET_NAME_LEN];
        bool aws;
        struct nf_prefix addrs[NF_MAX_NAME_ADDRS];
        size_t n_addrs;
        int64_t resolved_ms; /* last answer with addresses */
        int err;             /* last resolution error, 0 if none */
};

/* What name resolution brought before the fault is created. */
struct nf_fault_init {
        struct nf_prefix *learned; /* addresses of names and aws: selections */
        size_t n_learned;
        struct nf_fault_name *names;
        size_t n_names;
        uint32_t ttl_s; /* smallest TTL of the answers */
};

struct nf_fault {
        char id[NF_ID_LEN];
        struct nf_spec spec;
        struct nf_prefix *eff; /* (targets + learned) minus excludes minus protected addresses */
        size_t n_eff;
        struct nf_prefix *learned; /* from names, normalised; only grows */
        size_t n_learned;
        struct nf_fault_name *names;
        size_t n_names;
        int64_t next_resolve_ms;
        uint32_t first_ttl_s;
        struct event *dns_timer;
        struct nf_lookup *lookup; /* in flight */
        struct nf_prefix protected_hit[NF_N_PROTECTED + 8]; /* protected addresses inside the targets */
        size_t n_protected_hit;
        struct nf_iface ifaces[NF_MAX_IFACES];
        size_t n_ifaces;
        unsigned slot;
        struct nf_plan plan;
        int64_t created_ms, expires_ms;  /* wall clock, for users */
        int64_t lease_expires_ms;        /* 0 without a lease */
        struct event *timer, *lease_timer; /* fire on the monotonic clock */
        struct nf_registry *reg;
        struct nf_fault *next;
};

struct nf_registry_limits {
        uint32_t max_faults;
        uint32_t max_filters; /* across every active fault and interface */
};

struct nf_registry {
        struct event_base *base;
        struct nf_applier applier;
        struct nf_caps caps;
        struct nf_journal *journal; /* may be NULL (tests) */
        struct nf_fault *faults;
        size_t n_faults;
        size_t n_filters;
        struct nf_registry_limits lim;
        uint16_t api_port; /* protected TCP port, 0 for a Unix socket */
        struct nf_resolver *resolver; /* may be NULL: hostnames are then refused */
        struct nf_aws_ranges *aws;
        bool slot_used[NF_MAX_SLOTS];
        uint32_t next_action; /* rotates the shared action indexes, see fresh_action_indexes() */
        char degraded[256];   /* why the daemon is not fully protecting, "" when it is (/healthz) */
};

int nf_registry_init(struct nf_registry *r, struct event_base *base, const struct nf_registry_limits *lim,
                     struct nf_journal *journal, uint16_t api_port);
void nf_registry_fini(struct nf_registry *r);

/* Reconciliation before the API answers: sweeps every object with our marks and, with resume,
 * re-applies journaled faults that have time left until their original expires_at. */
int nf_registry_reconcile(struct nf_registry *r, bool resume, uint32_t max_duration_s);

/* Takes ownership of spec on success and on failure. With dry_run the fault is planned but
 * nothing is applied or kept: free it with nf_fault_free(). */
struct nf_fault *nf_registry_create(struct nf_registry *r, struct nf_spec *spec, struct nf_fault_init *init,
                                    bool dry_run, struct nf_err *e);
/* Expands the aws: selections of a spec into init (fail closed: 422 naming the target). */
int nf_registry_expand_aws(struct nf_registry *r, const struct nf_spec *spec, struct nf_fault_init *init,
                           struct nf_err *e);
/* Takes the results of a lookup of the spec's hostnames into init; refuses (422 naming the
 * target) when a name resolved to nothing. */
int nf_registry_take_lookup(const struct nf_spec *spec, const struct nf_lookup *l, struct nf_fault_init *init,
                            struct nf_err *e);
void nf_fault_init_free(struct nf_fault_init *init);
/* Hostnames of a spec (not aws:), copied into names; returns how many. */
size_t nf_spec_hostnames(const struct nf_spec *spec, char (*names)[NF_TARGET_NAME_LEN]);
struct nf_fault *nf_registry_find(struct nf_registry *r, const char *id);
/* The kernel's counters for f's filters and qdiscs, read now; the surfaces ask the registry, which
 * owns the applier, rather than the applier itself. */
int nf_registry_counters(struct nf_registry *r, const struct nf_fault *f, struct nf_counters *out);
/* What this kernel offers, as probed at start-up. */
const struct nf_caps *nf_registry_caps(const struct nf_registry *r);
int nf_registry_renew(struct nf_registry *r, struct nf_fault *f, struct nf_err *e);
/* Reverts and frees the fault. Returns the revert's result. */
int nf_registry_delete(struct nf_registry *r, struct nf_fault *f, const char *why);
/* Reverts every fault; returns how many. */
size_t nf_registry_delete_all(struct nf_registry *r, const char *why);
void nf_fault_free(struct nf_fault *f);
