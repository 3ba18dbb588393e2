/* The faults that are active: creation (resolve interfaces → protect the control plane →
 * conflict check → plan → journal → apply), expiry and lease timers, deletion, revert-all,
 * start-up reconciliation. The only owner of fault lifetimes. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/errors.h"
#include "daemon/journal.h"
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

struct nf_fault {
        char id[NF_ID_LEN];
        struct nf_spec spec;
        struct nf_prefix *eff; /* targets minus excludes minus protected addresses */
        size_t n_eff;
        struct nf_prefix protected_hit[NF_N_PROTECTED]; /* protected addresses inside the targets */
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
        bool slot_used[NF_MAX_SLOTS];
};

int nf_registry_init(struct nf_registry *r, struct event_base *base, const struct nf_registry_limits *lim,
                     struct nf_journal *journal, uint16_t api_port);
void nf_registry_fini(struct nf_registry *r);

/* Reconciliation before the API answers: sweeps every object with our marks and, with resume,
 * re-applies journaled faults that have time left until their original expires_at. */
int nf_registry_reconcile(struct nf_registry *r, bool resume, uint32_t max_duration_s);

/* Takes ownership of spec on success and on failure. With dry_run the fault is planned but
 * nothing is applied or kept: free it with nf_fault_free(). */
struct nf_fault *nf_registry_create(struct nf_registry *r, struct nf_spec *spec, bool dry_run, struct nf_err *e);
struct nf_fault *nf_registry_find(struct nf_registry *r, const char *id);
int nf_registry_renew(struct nf_registry *r, struct nf_fault *f, struct nf_err *e);
/* Reverts and frees the fault. Returns the revert's result. */
int nf_registry_delete(struct nf_registry *r, struct nf_fault *f, const char *why);
/* Reverts every fault; returns how many. */
size_t nf_registry_delete_all(struct nf_registry *r, const char *why);
void nf_fault_free(struct nf_fault *f);
