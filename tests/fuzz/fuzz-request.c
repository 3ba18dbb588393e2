/* libFuzzer target: any bytes as a POST /v1/faults body. The body parser and the validation ladder must never crash,
 * leak or read out of bounds, and every spec it accepts must survive the journal round trip
 * (render compact, validate again, render again: the same text), and plan without error. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/request.h"
#include "core/spec_json.h"
#include "netem/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const struct nf_validate_limits lim = {.max_duration_s = 3600, .default_duration_s = 300};
        struct nf_spec s, again;
        struct nf_err e;
        /* The daemon's own body parser (strict: one value, UTF-8, no NUL), as the API uses it. */
        cJSON *root = nf_json_parse_strict((const char *)data, size, &e);
        if (!root)
                return 0;
        if (nf_validate_fault(root, &lim, &s, &e) == 0) {
                cJSON *j = nf_spec_to_json(&s, true);
                char *t1 = cJSON_PrintUnformatted(j);
                if (nf_validate_fault(j, &lim, &again, &e) != 0)
                        abort(); /* an accepted spec must validate again */
                cJSON *j2 = nf_spec_to_json(&again, true);
                char *t2 = cJSON_PrintUnformatted(j2);
                if (strcmp(t1, t2) != 0)
                        abort();
                struct nf_prefix *eff = NULL;
                size_t n = 0;
                struct nf_iface ifs[1] = {{2, "eth0"}};
                struct nf_plan p;
                if (nf_spec_effective(&s, NF_MAX_FILTERS_PER_FAULT, &eff, &n) == 0 && n > 0 &&
                    nf_plan_build(&s, "f-fuzz", eff, n, 0, ifs, 1, &p) == 0)
                        nf_plan_free(&p);
                free(eff);
                free(t1);
                free(t2);
                cJSON_Delete(j);
                cJSON_Delete(j2);
                nf_spec_free(&again);
                nf_spec_free(&s);
        }
        cJSON_Delete(root);
        return 0;
}
