#include "core/spec_fields.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define FIELD_LEN 96

static const char *type_name(const cJSON *v) {
        if (cJSON_IsNumber(v))
                return "a number";
        if (cJSON_IsString(v))
                return "a string";
        if (cJSON_IsBool(v))
                return "a boolean";
        if (cJSON_IsArray(v))
                return "an array";
        if (cJSON_IsObject(v))
                return "an object";
        return "null";
}

void nf_json_show(const cJSON *v, char *buf, size_t len) {
        if (cJSON_IsString(v)) {
                snprintf(buf, len, "'%.60s%s'", v->valuestring, strlen(v->valuestring) > 60 ? "..." : "");
        } else if (cJSON_IsNumber(v)) {
                snprintf(buf, len, "%.10g", v->valuedouble);
        } else {
                snprintf(buf, len, "%s", type_name(v));
        }
}

static const char *field_of(char *buf, size_t len, const char *parent, const char *key) {
        snprintf(buf, len, "%s%s%s", parent ? parent : "", parent ? "." : "", key);
        return buf;
}

int nf_json_check_keys(const cJSON *obj, const char *parent, const char *const *allowed, bool (*also)(const char *key),
                       struct nf_err *e) {
        const cJSON *it;
        cJSON_ArrayForEach(it, obj) {
                bool ok = also && also(it->string);
                for (const char *const *a = allowed; *a && !ok; a++)
                        ok = strcmp(it->string, *a) == 0;
                if (!ok) {
                        char field[FIELD_LEN];
                        field_of(field, sizeof(field), parent, it->string);
                        return nf_fail(e, NF_ERR_INVALID, "unknown_field", field, "%s: unknown field", field);
                }
        }
        return 0;
}

int nf_json_number(const cJSON *v, const char *field, double lo, double hi, double *out, struct nf_err *e) {
        char shown[96];
        if (!cJSON_IsNumber(v)) {
                nf_json_show(v, shown, sizeof(shown));
                return nf_fail(e, NF_ERR_INVALID, "invalid_type", field, "%s: expected a number, got %s", field, shown);
        }
        if (!isfinite(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi)
                return nf_fail(e, NF_ERR_INVALID, "out_of_range", field, "%s: %.10g is out of range %g..%g", field, v->valuedouble, lo,
                               hi);
        /* -0 is 0: echoing "-0" back would only puzzle whoever reads the fault. */
        *out = v->valuedouble == 0 ? 0 : v->valuedouble;
        return 0;
}

static int whole(double d, const char *field, struct nf_err *e) {
        if (d != floor(d))
                return nf_fail(e, NF_ERR_INVALID, "invalid_type", field, "%s: expected a whole number, got %.10g", field, d);
        return 0;
}

int nf_json_integer(const cJSON *v, const char *field, double lo, double hi, uint64_t *out, struct nf_err *e) {
        double d = 0;
        if (nf_json_number(v, field, lo, hi, &d, e) < 0 || whole(d, field, e) < 0)
                return -1;
        *out = (uint64_t)d;
        return 0;
}

int nf_json_bool(const cJSON *v, const char *field, bool *out, struct nf_err *e) {
        char shown[96];
        if (!cJSON_IsBool(v)) {
                nf_json_show(v, shown, sizeof(shown));
                return nf_fail(e, NF_ERR_INVALID, "invalid_type", field, "%s: expected true or false, got %s", field, shown);
        }
        *out = cJSON_IsTrue(v);
        return 0;
}

/* The member key of obj, a number (a whole one when asked) into *out; absent leaves *out alone. */
static int get(const cJSON *obj, const char *parent, const char *key, bool required, double lo, double hi, bool integer,
               double *out, bool *present, struct nf_err *e) {
        char field[FIELD_LEN];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
        field_of(field, sizeof(field), parent, key);
        if (present)
                *present = v != NULL;
        if (!v)
                return required ? nf_fail(e, NF_ERR_INVALID, "missing_field", field, "%s is required", field) : 0;
        if (nf_json_number(v, field, lo, hi, out, e) < 0 || (integer && whole(*out, field, e) < 0))
                return -1;
        return 0;
}

int nf_json_get_number(const cJSON *obj, const char *parent, const char *key, bool required, double lo, double hi,
                       double *out, bool *present, struct nf_err *e) {
        return get(obj, parent, key, required, lo, hi, false, out, present, e);
}

int nf_json_get_integer(const cJSON *obj, const char *parent, const char *key, bool required, double lo, double hi,
                        uint64_t *out, bool *present, struct nf_err *e) {
        double d = 0;
        bool p = false;
        if (get(obj, parent, key, required, lo, hi, true, &d, &p, e) < 0)
                return -1;
        if (present)
                *present = p;
        if (p)
                *out = (uint64_t)d;
        return 0;
}

int nf_json_get_enum(const cJSON *obj, const char *parent, const char *key, const char *const *names, int n, int *out,
                     struct nf_err *e) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
        char shown[96], list[128] = "", field[FIELD_LEN];
        if (!v)
                return 0;
        for (int i = 0; i < n; i++) {
                if (!names[i][0])
                        continue;
                if (cJSON_IsString(v) && strcmp(v->valuestring, names[i]) == 0) {
                        *out = i;
                        return 0;
                }
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", list[0] ? ", " : "", names[i]);
        }
        nf_json_show(v, shown, sizeof(shown));
        field_of(field, sizeof(field), parent, key);
        return nf_fail(e, NF_ERR_INVALID, "invalid_value", field, "%s: %s is not one of %s", field, shown, list);
}
