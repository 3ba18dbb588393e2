#include "netem/spec.h"

#include <stdlib.h>

void nf_spec_free(struct nf_spec *s) {
        free(s->targets);
        free(s->exclude);
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
