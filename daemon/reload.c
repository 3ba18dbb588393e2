#include "daemon/reload.h"

#include <stdio.h>

#include "core/log.h"

static struct {
        const char *what;
        nf_reload_fn fn;
        void *arg;
} reloaders[NF_MAX_RELOADERS];
static size_t n_reloaders;

int nf_reload_register(const char *what, nf_reload_fn fn, void *arg) {
        if (n_reloaders >= NF_MAX_RELOADERS)
                return -1;
        reloaders[n_reloaders].what = what;
        reloaders[n_reloaders].fn = fn;
        reloaders[n_reloaders].arg = arg;
        n_reloaders++;
        return 0;
}

int nf_reload_all(void) {
        int kept = 0;
        for (size_t i = 0; i < n_reloaders; i++) {
                char summary[256] = "", why[512] = "";
                int r = reloaders[i].fn(reloaders[i].arg, summary, sizeof(summary), why, sizeof(why));
                if (r < 0) {
                        kept++;
                        nf_log(NF_LOG_ERROR, "daemon.reload_failed", "%s: %s; keeping the previous one (%s)", reloaders[i].what,
                               why, summary);
                } else
                        nf_log(NF_LOG_INFO, "daemon.reload", "%s: %s%s", reloaders[i].what, r > 0 ? "unchanged, " : "",
                               summary);
        }
        return kept;
}

void nf_reload_reset(void) {
        n_reloaders = 0;
}
