/* Prints the members a fault spec may have, one per line, from the validator's own tables: the
 * spec's members and each effect's key, then each effect's fields as "key.field".
 * tests/api/test-openapi.sh compares them with api/openapi.yaml's FaultSpec. */
#include <stdio.h>

#include "core/effects_json.h"
#include "core/spec_json.h"

int main(void) {
        for (const char *const *m = nf_spec_members; *m; m++)
                puts(*m);
        for (int i = 0; i < NF_EFFECT_COUNT; i++)
                puts(nf_effect_json(i)->key);
        for (int i = 0; i < NF_EFFECT_COUNT; i++)
                for (const char *const *f = nf_effect_json(i)->fields; f && *f; f++)
                        printf("%s.%s\n", nf_effect_json(i)->key, *f);
        return 0;
}
