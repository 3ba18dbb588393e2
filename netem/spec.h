/* A fault as the user asked for it, validated and normalised, in API units (ms, percent, kbit).
 * Conversion to kernel units happens once, in units.c and the effects' entries (effects.c). */
#pragma once
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netem/cidr.h"

enum nf_proto { NF_PROTO_ALL, NF_PROTO_TCP, NF_PROTO_UDP, NF_PROTO_ICMP };
enum nf_dist { NF_DIST_UNIFORM, NF_DIST_NORMAL, NF_DIST_PARETO, NF_DIST_PARETONORMAL, NF_DIST_COUNT };
enum nf_direction { NF_DIR_EGRESS = 1, NF_DIR_INGRESS = 2, NF_DIR_BOTH = 3 };

/* Limits on everything a client can make us allocate. */
#define NF_MAX_TARGETS 10000
#define NF_MAX_EXCLUDES 10000
#define NF_MAX_PORTS 64
#define NF_MAX_IFACES 16
#define NF_MAX_NAME 64
#define NF_MAX_TARGET_NAMES 64 /* hostnames and aws: selections in one fault */
#define NF_TARGET_NAME_LEN 256
/* Filters one fault may install per interface (prefixes after exclusion x port ranges). */
#define NF_MAX_FILTERS_PER_FAULT 40000

struct nf_port_range {
        uint16_t lo, hi;
};

/* The fields of every effect; each effect's entries in netem/effects.c and core/effects_json.c
 * say which flag marks it present and how its fields are read, written and sent. */
struct nf_effects {
        bool has_delay, has_loss, has_duplicate, has_corrupt, has_reorder, has_rate, has_limit;
        bool blackhole;
        double delay_ms, jitter_ms, delay_corr; /* corr in percent */
        enum nf_dist dist;
        bool has_dist;
        double loss_pct, loss_corr;
        double dup_pct, dup_corr;
        double corrupt_pct, corrupt_corr;
        double reorder_pct, reorder_corr;
        uint32_t reorder_gap;
        uint64_t rate_kbit;
        uint32_t limit; /* netem queue, packets */
};

/* Which network namespace a fault lives in, as the user named it ("netns" in the API): absent
 * (SELF) is the daemon's own, exactly as before namespaces could be named; HOST says "our own"
 * explicitly (required when one of the others resolves to it). Finding the namespace is the
 * core's (core/pods.h); this is only the name, journaled with the spec. */
enum nf_netns_kind { NF_NETNS_SELF, NF_NETNS_HOST, NF_NETNS_POD, NF_NETNS_CONTAINER, NF_NETNS_PID, NF_NETNS_PATH };
#define NF_NETNS_NAME_LEN 128 /* a pod uid, a container id (64 hex) or a path */
struct nf_netns_sel {
        enum nf_netns_kind kind;
        char name[NF_NETNS_NAME_LEN]; /* pod uid, container id (or prefix), path; "" otherwise */
        int32_t pid;                  /* NF_NETNS_PID */
};

struct nf_spec {
        char name[NF_MAX_NAME + 1];
        struct nf_netns_sel netns;
        struct nf_prefix *targets; /* normalised; addresses and CIDRs as given */
        size_t n_targets;
        /* Targets given by name: hostnames (resolved, and re-resolved while the fault lives) and
         * "aws:SERVICE[:region]" selections, verbatim. */
        char (*target_names)[NF_TARGET_NAME_LEN];
        size_t n_target_names;
        struct nf_prefix *exclude; /* normalised */
        size_t n_exclude;
        enum nf_proto proto;
        struct nf_port_range ports[NF_MAX_PORTS]; /* the peer's port */
        size_t n_ports;
        struct nf_port_range local_ports[NF_MAX_PORTS]; /* ours */
        size_t n_local_ports;
        char ifnames[NF_MAX_IFACES][IF_NAMESIZE];
        size_t n_ifnames; /* 0: every interface with a default route */
        enum nf_direction direction;
        struct nf_effects fx;
        uint32_t duration_s;
        uint32_t lease_s;          /* 0: no lease; else reverted unless renewed within this time */
        bool allow_control_plane;  /* false: metadata endpoints and our API stay untouched */
        /* The share of flows (connections, by 5-tuple) the effects apply to, 1..99; 0 means
         * every matched packet, the default (and what 100 normalises to). */
        uint8_t flows_percent;
        /* Steady-state probes that revert the fault when they fail (core/guard.h): the core's
         * business, kept here so that it travels and is journaled with the spec; a flat
         * allocation, freed with it. NULL: none. */
        struct nf_guard_spec *guard;
};

void nf_spec_free(struct nf_spec *s);
bool nf_is_hostname(const char *s);
const char *nf_proto_name(enum nf_proto p);
const char *nf_dist_name(enum nf_dist d);
