/* Targets given by name: "aws:SERVICE[:region]" selections expanded from AWS's published ranges,
 * hostnames resolved before the fault is created and again at their TTL while it lives. A name
 * that resolves to nothing refuses the fault; a live fault only ever gains addresses (a resolver
 * outage neither shrinks nor widens it). */
#pragma once
#include "core/layer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/awsranges.h"
#include "core/error.h"
#include "core/resolver.h"
#include "netem/spec.h"

struct nf_registry;
struct nf_fault;

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

void nf_fault_init_free(struct nf_fault_init *init);
/* Appends a name (resolved now) to init; NULL on allocation failure. */
struct nf_fault_name *nf_fault_init_name(struct nf_fault_init *init, const char *name, bool aws);
/* Appends addresses to what init learned. -ENOMEM. */
int nf_fault_init_learn(struct nf_fault_init *init, const struct nf_prefix *p, size_t n);

/* Hostnames of a spec (not aws:), copied into names; returns how many. */
size_t nf_spec_hostnames(const struct nf_spec *spec, char (*names)[NF_TARGET_NAME_LEN]);
/* Expands the aws: selections of a spec into init (fail closed: refused naming the target).
 * aws may be NULL: nothing is loaded, every selection is refused. */
int nf_names_expand_aws(const struct nf_aws_ranges *aws, const struct nf_spec *spec, struct nf_fault_init *init,
                        struct nf_err *e);
/* Takes the results of a lookup of the spec's hostnames into init; refuses (naming the target)
 * when a name resolved to nothing. */
int nf_names_take_lookup(const struct nf_spec *spec, const struct nf_lookup *l, struct nf_fault_init *init,
                         struct nf_err *e);
/* Arms the re-resolution of a live fault's hostnames, ttl_s from now (clamped to
 * --dns-min-ttl..--dns-max-ttl); new addresses join the fault as they come. */
void nf_names_schedule(struct nf_registry *r, struct nf_fault *f, uint32_t ttl_s);
