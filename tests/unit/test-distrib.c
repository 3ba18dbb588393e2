/* Our delay distribution tables against the .dist files iproute2 ships (the same generators). */
#include <stdlib.h>

#include "netem/distrib.h"
#include "tap.h"

static const char *const dirs[] = {"/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/tc", "/usr/lib64/tc"};

static int load(const char *name, int16_t *out, size_t max) {
        char path[256];
        for (size_t d = 0; d < sizeof(dirs) / sizeof(*dirs); d++) {
                snprintf(path, sizeof(path), "%s/%s.dist", dirs[d], name);
                FILE *f = fopen(path, "r");
                if (!f)
                        continue;
                char line[4096];
                size_t n = 0;
                while (fgets(line, sizeof(line), f)) {
                        if (line[0] == '#')
                                continue;
                        char *p = line, *end;
                        for (;;) {
                                long v = strtol(p, &end, 10);
                                if (end == p)
                                        break;
                                if (n < max)
                                        out[n] = (int16_t)v;
                                n++;
                                p = end;
                        }
                }
                fclose(f);
                return (int)n;
        }
        return -1;
}

int main(void) {
        static const struct {
                enum nf_dist d;
                const char *name;
        } cases[] = {{NF_DIST_NORMAL, "normal"}, {NF_DIST_PARETO, "pareto"}, {NF_DIST_PARETONORMAL, "paretonormal"}};
        tap_ok(nf_dist_table(NF_DIST_UNIFORM) == NULL, "uniform sends no table");
        for (size_t i = 0; i < 3; i++) {
                static int16_t ref[NF_DIST_TABLE_LEN * 2];
                const int16_t *t = nf_dist_table(cases[i].d);
                int n = load(cases[i].name, ref, sizeof(ref) / sizeof(*ref));
                if (n < 0) {
                        printf("ok %d - # SKIP iproute2's %s.dist is not installed\n", ++tap_n, cases[i].name);
                        continue;
                }
                int diff = 0, first = -1;
                for (int k = 0; k < NF_DIST_TABLE_LEN && k < n; k++)
                        if (t[k] != ref[k]) {
                                diff++;
                                if (first < 0)
                                        first = k;
                        }
                tap_ok(n == NF_DIST_TABLE_LEN && diff == 0, "%s table equals iproute2's %s.dist (%d entries, %d differ)",
                       cases[i].name, cases[i].name, n, diff);
                if (first >= 0)
                        printf("#   first difference at %d: ours %d, iproute2 %d\n", first, t[first], ref[first]);
        }
        return tap_done();
}
