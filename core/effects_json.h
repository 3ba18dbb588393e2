/* The JSON side of each effect, in a table indexed by enum nf_effect (netem/effects.h, which holds
 * the kernel side of the same entries): its member of the spec, the fields of its object, how it
 * is read and checked, and how it is written back. The validator and the renderer (and so the
 * journal, which stores the rendered spec) walk this table, and so does the OpenAPI test, through
 * tests/api/spec-members.c. See netem/effects.h for what adding an effect touches. */
#pragma once
#include "core/layer.h"

#include <stdbool.h>

#include "core/error.h"
#include "netem/effects.h"

struct cJSON;

struct nf_effect_json {
        const char *key;           /* its member of the spec */
        const char *const *fields; /* the members of its object, NULL-terminated; NULL: not an object */
        const char *ask;           /* how a message tells a user to ask for it; NULL: its key */
        /* Reads the member's value v into fx and marks the effect present. For an object, v is
         * known to be one with no unknown field; field is the member's name. */
        int (*parse)(const struct cJSON *v, const char *field, struct nf_effects *fx, struct nf_err *e);
        /* Optional rules on the other effects, then on its own fields, checked once every
         * effect is read (in this order over the whole table, so that a missing companion is
         * reported before a detail). */
        int (*needs)(const struct nf_effects *fx, struct nf_err *e);
        int (*check)(const struct nf_effects *fx, struct nf_err *e);
        /* The member's value as the journal and the API show it; it must validate back to the
         * same fields (tests/unit/test-roundtrip.c holds it to the kernel's bytes). */
        struct cJSON *(*render)(const struct nf_effects *fx);
        bool render_absent; /* also rendered when absent (blackhole: false, as every record has it) */
};

const struct nf_effect_json *nf_effect_json(enum nf_effect e);
/* Whether key is an effect's member of the spec. */
bool nf_effect_key(const char *key);

/* The spec's effect members (root is a JSON object) into fx; 0, or -1 with e filled. */
int nf_effects_parse(const struct cJSON *root, struct nf_effects *fx, struct nf_err *e);
/* The rules that span effects: one that drops stands alone, at least one is given, then each
 * entry's needs and checks. */
int nf_effects_check(const struct nf_effects *fx, struct nf_err *e);
/* Adds the effects' members to a rendered spec, in the table's order. */
void nf_effects_render(const struct nf_effects *fx, struct cJSON *spec);
