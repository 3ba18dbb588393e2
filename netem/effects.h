/* The effects a fault can have, each an entry in a table indexed by enum nf_effect. This is the
 * kernel side of an entry: which flag of struct nf_effects says a fault has it, what the fault's
 * filters do with matched packets for it (redirect them through an ifb link carrying the fault's
 * netem qdisc, or drop them with gact), and how its parameters become netem's. The JSON side (its
 * member of the spec, validation, rendering) is core/effects_json.c, indexed by the same enum.
 * The planner, the capability check and the applier ask these tables; none names an effect.
 *
 * Adding an effect: a value in enum nf_effect, its fields in struct nf_effects (netem/spec.h), an
 * entry here and one in core/effects_json.c, a property in api/openapi.yaml, and a case in
 * tests/unit/test-roundtrip.c (which fails until each of its fields reaches the kernel's bytes). A
 * netem attribute that no effect sent before also needs its field in struct nf_netem_params and
 * its place in nf_enc_netem(), where attributes keep tc's order. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netem/spec.h"
#include "netem/units.h"

/* In the order the spec renders them. */
enum nf_effect {
        NF_EFFECT_DELAY,
        NF_EFFECT_LOSS,
        NF_EFFECT_DUPLICATE,
        NF_EFFECT_CORRUPT,
        NF_EFFECT_REORDER,
        NF_EFFECT_RATE,
        NF_EFFECT_LIMIT,
        NF_EFFECT_BLACKHOLE,
        NF_EFFECT_COUNT
};

/* What a fault's filters do with the packets they match. */
enum nf_action_kind { NF_ACTION_REDIRECT, NF_ACTION_DROP, NF_ACTION_COUNT };

struct nf_action_info {
        const char *tc_kind; /* the tc action on the filter: "mirred", "gact" */
        bool ifb;            /* each link gets an ifb of ours carrying the fault's netem qdisc */
        bool drops;          /* every packet it takes is dropped: its packet count is the fault's drops */
        uint32_t caps;       /* NF_CAP_BIT() of every kernel module a fault with this action needs */
};

struct nf_effect_kernel {
        size_t flag;                /* offsetof the bool in struct nf_effects that says the fault has it */
        enum nf_action_kind action; /* and so the capabilities it needs */
        /* Its parameters in netem's units; NULL when it has none. */
        void (*to_netem)(const struct nf_effects *fx, struct nf_netem_params *p);
};

const struct nf_effect_kernel *nf_effect_kernel(enum nf_effect e);
const struct nf_action_info *nf_action_info(enum nf_action_kind a);
bool nf_effect_present(const struct nf_effects *fx, enum nf_effect e);
/* NF_ACTION_DROP when an effect that drops is present (it stands alone: the validator refuses it
 * with any other), else NF_ACTION_REDIRECT, also for no effect at all. */
enum nf_action_kind nf_effects_action(const struct nf_effects *fx);
/* netem's parameters for the effects present, from each one's entry; a queue of
 * NF_NETEM_DEFAULT_LIMIT unless an effect sets it. */
void nf_effects_to_netem(const struct nf_effects *fx, struct nf_netem_params *out);
