/* What this kernel can do, found by trying it on a scratch ifb link of ours (created, probed and
 * deleted at start-up): there is no list of loaded qdisc or action kinds to read. */
#pragma once
#include <stdbool.h>

#include "netem/nl.h"
#include "netem/spec.h"

enum nf_cap { NF_CAP_LINK_IFB, NF_CAP_QDISC_CLSACT, NF_CAP_QDISC_NETEM, NF_CAP_CLS_FLOWER, NF_CAP_ACT_MIRRED,
              NF_CAP_ACT_GACT, NF_CAP_QDISC_PRIO, NF_CAP_CLS_FLOW, NF_CAP_COUNT };
enum nf_cap_state { NF_CAP_UNKNOWN, NF_CAP_YES, NF_CAP_NO };
#define NF_CAP_BIT(c) (1u << (c))

struct nf_caps {
        enum nf_cap_state state[NF_CAP_COUNT];
        char detail[NF_CAP_COUNT][NF_NL_EXTACK_LEN]; /* the kernel's answer when NO */
        int err[NF_CAP_COUNT];                      /* negative errno when NO */
        char kernel[160];
};

const char *nf_cap_name(enum nf_cap c);   /* "netem" */
const char *nf_cap_kind(enum nf_cap c);   /* "qdisc" */
const char *nf_cap_module(enum nf_cap c); /* "sch_netem" */

int nf_caps_probe(struct nf_nl *nl, struct nf_caps *c);
/* The first capability the fault needs that this kernel lacks, or -1. */
int nf_caps_missing(const struct nf_caps *c, const struct nf_spec *s);
/* What a fault needs follows from what its filters do with matched packets (netem/effects.h). */
bool nf_caps_needed(const struct nf_spec *s, enum nf_cap cap);
