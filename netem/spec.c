#include "netem/spec.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

bool nf_is_hostname(const char *s) {
        size_t len = strlen(s), label = 0;
        if (len == 0 || len > 253)
                return false;
        for (const char *c = s; *c; c++) {
                if (*c == '.') {
                        if (label == 0 || c[-1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_') || (label == 0 && *c == '-') || ++label > 63)
                        return false;
        }
        /* All digits and dots is an IPv4 address gone wrong, not a name. */
        return strspn(s, "0123456789.") != len;
}

void nf_spec_free(struct nf_spec *s) {
        free(s->targets);
        free(s->exclude);
        free(s->target_names);
        free(s->guard);
        s->guard = NULL;
        s->target_names = NULL;
        s->n_target_names = 0;
        s->targets = s->exclude = NULL;
        s->n_targets = s->n_exclude = 0;
}

const char *nf_proto_name(enum nf_proto p) {
        static const char *const n[] = {"all", "tcp", "udp", "icmp"};
        return (unsigned)p < 4 ? n[p] : "?";
}

const char *nf_dist_name(enum nf_dist d) {
        static const char *const n[] = {"uniform", "normal", "pareto", "paretonormal"};
        return (unsigned)d < NF_DIST_COUNT ? n[d] : "?";
}
