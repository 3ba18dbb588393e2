/* The faults that are active: creation (validate → resolve interfaces → conflict check → plan →
 * apply), expiry timers, deletion, revert-all. The only owner of fault lifetimes. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/errors.h"
#include "netem/apply.h"
#include "netem/caps.h"
#include "netem/plan.h"
#include "netem/spec.h"

struct event_base;
struct event;

#define NF_ID_LEN 20

struct nf_fault {
        char id[NF_ID_LEN];
        struct nf_spec spec;
        struct nf_prefix *eff; /* targets minus excludes */
        size_t n_eff;
        struct nf_iface ifaces[NF_MAX_IFACES];
        size_t n_ifaces;
        unsigned slot;
        struct nf_plan plan;
        int64_t created_ms, expires_ms; /* wall clock, for users */
        struct event *timer;            /* fires on the monotonic clock */
        struct nf_registry *reg;
        struct nf_fault *next;
};

struct nf_registry {
        struct event_base *base;
        struct nf_applier applier;
        struct nf_caps caps;
        struct nf_fault *faults;
        size_t n_faults;
        uint32_t max_faults;
        bool slot_used[NF_MAX_SLOTS];
};

int nf_registry_init(struct nf_registry *r, struct event_base *base, uint32_t max_faults);
void nf_registry_fini(struct nf_registry *r);

/* Takes ownership of spec on success and on failure. */
struct nf_fault *nf_registry_create(struct nf_registry *r, struct nf_spec *spec, struct nf_err *e);
struct nf_fault *nf_registry_find(struct nf_registry *r, const char *id);
/* Reverts and frees the fault. Returns the revert's result. */
int nf_registry_delete(struct nf_registry *r, struct nf_fault *f, const char *why);
/* Reverts every fault; returns how many. */
size_t nf_registry_delete_all(struct nf_registry *r, const char *why);
