#include "netem/effects.h"

#include "netem/caps.h"

static void delay_to_netem(const struct nf_effects *fx, struct nf_netem_params *o) {
        o->latency_ns = nf_ms_to_ns(fx->delay_ms);
        o->jitter_ns = nf_ms_to_ns(fx->jitter_ms);
        o->delay_corr = nf_percent_to_u32(fx->delay_corr);
        o->dist = fx->has_dist ? fx->dist : NF_DIST_UNIFORM;
}

static void loss_to_netem(const struct nf_effects *fx, struct nf_netem_params *o) {
        o->loss = nf_percent_to_u32(fx->loss_pct);
        o->loss_corr = nf_percent_to_u32(fx->loss_corr);
}

static void duplicate_to_netem(const struct nf_effects *fx, struct nf_netem_params *o) {
        o->duplicate = nf_percent_to_u32(fx->dup_pct);
        o->dup_corr = nf_percent_to_u32(fx->dup_corr);
}

static void corrupt_to_netem(const struct nf_effects *fx, struct nf_netem_params *o) {
        o->corrupt_prob = nf_percent_to_u32(fx->corrupt_pct);
        o->corrupt_corr = nf_percent_to_u32(fx->corrupt_corr);
}

static void reorder_to_netem(const struct nf_effects *fx, struct nf_netem_params *o) {
        o->reorder_prob = nf_percent_to_u32(fx->reorder_pct);
        o->reorder_corr = nf_percent_to_u32(fx->reorder_corr);
        o->gap = fx->reorder_gap;
}

static void rate_to_netem(const struct nf_effects *fx, struct nf_netem_params *o) {
        o->rate_bytes = fx->rate_kbit * 1000 / 8;
}

static void limit_to_netem(const struct nf_effects *fx, struct nf_netem_params *o) {
        o->limit = fx->limit;
}

#define FLAG(f) offsetof(struct nf_effects, f)

/* The size is left to the initialisers, so that an entry missing at the end fails the assertion
 * below; test-roundtrip checks that no entry in the middle is left empty. */
static const struct nf_effect_kernel effects[] = {
        [NF_EFFECT_DELAY] = {FLAG(has_delay), NF_ACTION_REDIRECT, delay_to_netem},
        [NF_EFFECT_LOSS] = {FLAG(has_loss), NF_ACTION_REDIRECT, loss_to_netem},
        [NF_EFFECT_DUPLICATE] = {FLAG(has_duplicate), NF_ACTION_REDIRECT, duplicate_to_netem},
        [NF_EFFECT_CORRUPT] = {FLAG(has_corrupt), NF_ACTION_REDIRECT, corrupt_to_netem},
        [NF_EFFECT_REORDER] = {FLAG(has_reorder), NF_ACTION_REDIRECT, reorder_to_netem},
        [NF_EFFECT_RATE] = {FLAG(has_rate), NF_ACTION_REDIRECT, rate_to_netem},
        [NF_EFFECT_LIMIT] = {FLAG(has_limit), NF_ACTION_REDIRECT, limit_to_netem},
        [NF_EFFECT_BLACKHOLE] = {FLAG(blackhole), NF_ACTION_DROP, NULL},
};
_Static_assert(sizeof(effects) / sizeof(*effects) == NF_EFFECT_COUNT, "one kernel entry per enum nf_effect");

/* Every fault needs the clsact hook and flower; a redirect also needs the ifb link, its netem
 * qdisc (created even for a fault that only sets limit) and mirred. */
#define CAPS_FILTER (NF_CAP_BIT(NF_CAP_QDISC_CLSACT) | NF_CAP_BIT(NF_CAP_CLS_FLOWER))

static const struct nf_action_info actions[] = {
        [NF_ACTION_REDIRECT] = {"mirred", true, false,
                                CAPS_FILTER | NF_CAP_BIT(NF_CAP_QDISC_NETEM) | NF_CAP_BIT(NF_CAP_LINK_IFB) |
                                        NF_CAP_BIT(NF_CAP_ACT_MIRRED)},
        [NF_ACTION_DROP] = {"gact", false, true, CAPS_FILTER | NF_CAP_BIT(NF_CAP_ACT_GACT)},
};
_Static_assert(sizeof(actions) / sizeof(*actions) == NF_ACTION_COUNT, "one entry per enum nf_action_kind");

const struct nf_effect_kernel *nf_effect_kernel(enum nf_effect e) {
        return &effects[e];
}

const struct nf_action_info *nf_action_info(enum nf_action_kind a) {
        return &actions[a];
}

bool nf_effect_present(const struct nf_effects *fx, enum nf_effect e) {
        return *(const bool *)((const char *)fx + effects[e].flag);
}

enum nf_action_kind nf_effects_action(const struct nf_effects *fx) {
        for (int e = 0; e < NF_EFFECT_COUNT; e++)
                if (effects[e].action == NF_ACTION_DROP && nf_effect_present(fx, e))
                        return NF_ACTION_DROP;
        return NF_ACTION_REDIRECT;
}

void nf_effects_to_netem(const struct nf_effects *fx, struct nf_netem_params *o) {
        *o = (struct nf_netem_params){.limit = NF_NETEM_DEFAULT_LIMIT};
        for (int e = 0; e < NF_EFFECT_COUNT; e++)
                if (effects[e].to_netem && nf_effect_present(fx, e))
                        effects[e].to_netem(fx, o);
}
