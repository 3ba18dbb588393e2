/* Reading the members of a spec's JSON with the validator's messages: every refusal names the
 * field ("delay.ms": the parent object's member, a dot, the key) and shows the bad value. Shared
 * by the spec's validator (spec_json.c) and the effects' entries (effects_json.c). Each returns
 * 0, or -1 with e filled (nf_fail). */
#pragma once
#include "core/layer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct cJSON;

/* A short rendering of a bad value for messages: a string quoted (and cut), a number, or its type. */
void nf_json_show(const struct cJSON *v, char *buf, size_t len);

/* Every member of obj is in allowed (NULL-terminated) or, when given, satisfies also. parent
 * names obj in the message ("delay"), NULL for the spec itself. */
int nf_json_check_keys(const struct cJSON *obj, const char *parent, const char *const *allowed,
                       bool (*also)(const char *key), struct nf_err *e);

/* A value that must be a finite number in lo..hi (-0 is read as 0), a whole one, or a boolean;
 * field names it in a refusal. */
int nf_json_number(const struct cJSON *v, const char *field, double lo, double hi, double *out, struct nf_err *e);
int nf_json_integer(const struct cJSON *v, const char *field, double lo, double hi, uint64_t *out, struct nf_err *e);
int nf_json_bool(const struct cJSON *v, const char *field, bool *out, struct nf_err *e);

/* The member key of obj as above; absent is a refusal when required, else leaves out alone.
 * present (may be NULL) says whether it was given. */
int nf_json_get_number(const struct cJSON *obj, const char *parent, const char *key, bool required, double lo,
                       double hi, double *out, bool *present, struct nf_err *e);
int nf_json_get_integer(const struct cJSON *obj, const char *parent, const char *key, bool required, double lo,
                        double hi, uint64_t *out, bool *present, struct nf_err *e);
/* One of n names (an empty name holds a place in the enum and is never a choice); absent leaves
 * out alone. */
int nf_json_get_enum(const struct cJSON *obj, const char *parent, const char *key, const char *const *names, int n,
                     int *out, struct nf_err *e);
