#include "core/effects_json.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "core/spec_fields.h"

/* Bounds, in API units. */
#define MAX_DELAY_MS 60000.0  /* a minute; longer is an outage, use blackhole */
#define MAX_JITTER_MS 2147.0  /* the kernel clamps jitter to INT_MAX ns */
#define MAX_RATE_KBIT 100000000ull /* 100 Gbit/s */
#define MAX_LIMIT 1000000
#define MAX_GAP 1000000

/* ---- delay ---- */

static const char *const delay_fields[] = {"ms", "jitter_ms", "correlation", "distribution", NULL};

static int parse_delay(const cJSON *o, const char *field, struct nf_effects *fx, struct nf_err *e) {
        static const char *const dist_names[] = {"uniform", "normal", "pareto", "paretonormal"};
        int d = 0;
        if (nf_json_get_number(o, field, "ms", true, 0, MAX_DELAY_MS, &fx->delay_ms, NULL, e) < 0 ||
            nf_json_get_number(o, field, "jitter_ms", false, 0, MAX_JITTER_MS, &fx->jitter_ms, NULL, e) < 0 ||
            nf_json_get_number(o, field, "correlation", false, 0, 100, &fx->delay_corr, NULL, e) < 0)
                return -1;
        if (cJSON_GetObjectItemCaseSensitive(o, "distribution")) {
                if (nf_json_get_enum(o, field, "distribution", dist_names, NF_DIST_COUNT, &d, e) < 0)
                        return -1;
                fx->dist = (enum nf_dist)d;
                fx->has_dist = true;
        }
        fx->has_delay = true;
        return 0;
}

static int check_delay(const struct nf_effects *fx, struct nf_err *e) {
        if (fx->has_dist && fx->dist != NF_DIST_UNIFORM && fx->jitter_ms <= 0)
                return nf_fail(e, NF_ERR_INVALID, "conflict", "delay.distribution",
                               "delay.distribution: '%s' shapes the jitter, so delay.jitter_ms must be above 0",
                               nf_dist_name(fx->dist));
        return 0;
}

static cJSON *render_delay(const struct nf_effects *fx) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "ms", fx->delay_ms);
        cJSON_AddNumberToObject(d, "jitter_ms", fx->jitter_ms);
        cJSON_AddNumberToObject(d, "correlation", fx->delay_corr);
        cJSON_AddStringToObject(d, "distribution", nf_dist_name(fx->has_dist ? fx->dist : NF_DIST_UNIFORM));
        return d;
}

/* ---- {percent, correlation}: loss, duplicate, corrupt, and reorder (+gap) ---- */

static const char *const pct_fields[] = {"percent", "correlation", NULL};

static int parse_pct(const cJSON *o, const char *field, bool *has, double *pct, double *corr, struct nf_err *e) {
        if (nf_json_get_number(o, field, "percent", true, 0, 100, pct, NULL, e) < 0 ||
            nf_json_get_number(o, field, "correlation", false, 0, 100, corr, NULL, e) < 0)
                return -1;
        *has = true;
        return 0;
}

static cJSON *render_pct(double pct, double corr) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "percent", pct);
        cJSON_AddNumberToObject(o, "correlation", corr);
        return o;
}

static int parse_loss(const cJSON *o, const char *field, struct nf_effects *fx, struct nf_err *e) {
        return parse_pct(o, field, &fx->has_loss, &fx->loss_pct, &fx->loss_corr, e);
}

static cJSON *render_loss(const struct nf_effects *fx) {
        return render_pct(fx->loss_pct, fx->loss_corr);
}

static int parse_duplicate(const cJSON *o, const char *field, struct nf_effects *fx, struct nf_err *e) {
        return parse_pct(o, field, &fx->has_duplicate, &fx->dup_pct, &fx->dup_corr, e);
}

static cJSON *render_duplicate(const struct nf_effects *fx) {
        return render_pct(fx->dup_pct, fx->dup_corr);
}

static int parse_corrupt(const cJSON *o, const char *field, struct nf_effects *fx, struct nf_err *e) {
        return parse_pct(o, field, &fx->has_corrupt, &fx->corrupt_pct, &fx->corrupt_corr, e);
}

static cJSON *render_corrupt(const struct nf_effects *fx) {
        return render_pct(fx->corrupt_pct, fx->corrupt_corr);
}

static const char *const reorder_fields[] = {"percent", "correlation", "gap", NULL};

static int parse_reorder(const cJSON *o, const char *field, struct nf_effects *fx, struct nf_err *e) {
        uint64_t gap = 0;
        if (parse_pct(o, field, &fx->has_reorder, &fx->reorder_pct, &fx->reorder_corr, e) < 0 ||
            nf_json_get_integer(o, field, "gap", false, 0, MAX_GAP, &gap, NULL, e) < 0)
                return -1;
        fx->reorder_gap = (uint32_t)gap;
        return 0;
}

static int needs_reorder(const struct nf_effects *fx, struct nf_err *e) {
        if (!(fx->has_delay && fx->delay_ms > 0))
                return nf_fail(e, NF_ERR_INVALID, "conflict", "reorder",
                               "reorder needs a delay above 0 ms: reordered packets are the ones sent without it");
        return 0;
}

static cJSON *render_reorder(const struct nf_effects *fx) {
        cJSON *o = render_pct(fx->reorder_pct, fx->reorder_corr);
        cJSON_AddNumberToObject(o, "gap", fx->reorder_gap);
        return o;
}

/* ---- rate, limit, blackhole ---- */

static const char *const rate_fields[] = {"kbit", NULL};

static int parse_rate(const cJSON *o, const char *field, struct nf_effects *fx, struct nf_err *e) {
        if (nf_json_get_integer(o, field, "kbit", true, 1, (double)MAX_RATE_KBIT, &fx->rate_kbit, NULL, e) < 0)
                return -1;
        fx->has_rate = true;
        return 0;
}

static cJSON *render_rate(const struct nf_effects *fx) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "kbit", (double)fx->rate_kbit);
        return o;
}

static int parse_limit(const cJSON *v, const char *field, struct nf_effects *fx, struct nf_err *e) {
        uint64_t u = 0;
        if (nf_json_integer(v, field, 1, MAX_LIMIT, &u, e) < 0)
                return -1;
        fx->limit = (uint32_t)u;
        fx->has_limit = true;
        return 0;
}

static cJSON *render_limit(const struct nf_effects *fx) {
        return cJSON_CreateNumber(fx->limit);
}

static int parse_blackhole(const cJSON *v, const char *field, struct nf_effects *fx, struct nf_err *e) {
        return nf_json_bool(v, field, &fx->blackhole, e);
}

static cJSON *render_blackhole(const struct nf_effects *fx) {
        return cJSON_CreateBool(fx->blackhole);
}

/* The size is left to the initialisers, so that an entry missing at the end fails the assertion
 * below; test-roundtrip checks that no entry in the middle is left empty. */
static const struct nf_effect_json effects[] = {
        [NF_EFFECT_DELAY] = {.key = "delay", .fields = delay_fields, .parse = parse_delay, .check = check_delay,
                             .render = render_delay},
        [NF_EFFECT_LOSS] = {.key = "loss", .fields = pct_fields, .parse = parse_loss, .render = render_loss},
        [NF_EFFECT_DUPLICATE] = {.key = "duplicate", .fields = pct_fields, .parse = parse_duplicate,
                                 .render = render_duplicate},
        [NF_EFFECT_CORRUPT] = {.key = "corrupt", .fields = pct_fields, .parse = parse_corrupt, .render = render_corrupt},
        [NF_EFFECT_REORDER] = {.key = "reorder", .fields = reorder_fields, .parse = parse_reorder, .needs = needs_reorder,
                               .render = render_reorder},
        [NF_EFFECT_RATE] = {.key = "rate", .fields = rate_fields, .parse = parse_rate, .render = render_rate},
        [NF_EFFECT_LIMIT] = {.key = "limit", .parse = parse_limit, .render = render_limit},
        [NF_EFFECT_BLACKHOLE] = {.key = "blackhole", .ask = "\"blackhole\": true", .parse = parse_blackhole,
                                 .render = render_blackhole, .render_absent = true},
};
_Static_assert(sizeof(effects) / sizeof(*effects) == NF_EFFECT_COUNT, "one JSON entry per enum nf_effect");

const struct nf_effect_json *nf_effect_json(enum nf_effect e) {
        return &effects[e];
}

bool nf_effect_key(const char *key) {
        for (int i = 0; i < NF_EFFECT_COUNT; i++)
                if (strcmp(effects[i].key, key) == 0)
                        return true;
        return false;
}

int nf_effects_parse(const cJSON *root, struct nf_effects *fx, struct nf_err *e) {
        for (int i = 0; i < NF_EFFECT_COUNT; i++) {
                const struct nf_effect_json *j = &effects[i];
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, j->key);
                char shown[96];
                if (!v)
                        continue;
                if (j->fields && !cJSON_IsObject(v)) {
                        nf_json_show(v, shown, sizeof(shown));
                        return nf_fail(e, NF_ERR_INVALID, "invalid_type", j->key, "%s: expected an object, got %s", j->key,
                                       shown);
                }
                if ((j->fields && nf_json_check_keys(v, j->key, j->fields, NULL, e) < 0) || j->parse(v, j->key, fx, e) < 0)
                        return -1;
        }
        return 0;
}

/* "a, b, c or d" of the effects in [0, NF_EFFECT_COUNT) but skip, by key or, with ask, as a user
 * asks for them. */
static const char *list_effects(char *buf, size_t len, int skip, bool ask) {
        int last = NF_EFFECT_COUNT - 1 == skip ? NF_EFFECT_COUNT - 2 : NF_EFFECT_COUNT - 1;
        buf[0] = '\0';
        for (int i = 0; i < NF_EFFECT_COUNT; i++) {
                const struct nf_effect_json *j = &effects[i];
                if (i == skip)
                        continue;
                snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", !buf[0] ? "" : i == last ? " or " : ", ",
                         ask && j->ask ? j->ask : j->key);
        }
        return buf;
}

int nf_effects_check(const struct nf_effects *fx, struct nf_err *e) {
        char list[256];
        int n = 0, drop = -1;
        for (int i = 0; i < NF_EFFECT_COUNT; i++) {
                if (!nf_effect_present(fx, i))
                        continue;
                n++;
                if (drop < 0 && nf_effect_kernel(i)->action == NF_ACTION_DROP)
                        drop = i;
        }
        /* A drop takes every matched packet: there is nothing left for another effect to shape. (An
         * effect that drops is asked for with true; "no effect given" names the first entry, as
         * the validator always has.) */
        if (drop >= 0 && n > 1)
                return nf_fail(e, NF_ERR_INVALID, "conflict", effects[drop].key,
                               "%s: true drops everything matched and cannot be combined with %s", effects[drop].key,
                               list_effects(list, sizeof(list), drop, false));
        if (n == 0)
                return nf_fail(e, NF_ERR_INVALID, "missing_field", effects[0].key, "no effect given: add %s",
                               list_effects(list, sizeof(list), -1, true));
        for (int i = 0; i < NF_EFFECT_COUNT; i++)
                if (effects[i].needs && nf_effect_present(fx, i) && effects[i].needs(fx, e) < 0)
                        return -1;
        for (int i = 0; i < NF_EFFECT_COUNT; i++)
                if (effects[i].check && nf_effect_present(fx, i) && effects[i].check(fx, e) < 0)
                        return -1;
        return 0;
}

void nf_effects_render(const struct nf_effects *fx, cJSON *spec) {
        for (int i = 0; i < NF_EFFECT_COUNT; i++)
                if (effects[i].render_absent || nf_effect_present(fx, i))
                        cJSON_AddItemToObject(spec, effects[i].key, effects[i].render(fx));
}
