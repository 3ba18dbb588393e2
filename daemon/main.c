/* netfaultd: entry point. Start-up and shutdown are symmetric: config → log → registry (netlink,
 * capability probe) → API; signals arrive as loop events, and shutdown reverts every fault. */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "api/http.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/registry.h"

static void on_signal(evutil_socket_t sig, short what, void *arg) {
        (void)what;
        nf_log(NF_LOG_INFO, "daemon.signal", "%s received: reverting every fault and exiting", strsignal((int)sig));
        event_base_loopbreak(arg);
}

int main(int argc, char **argv) {
        struct nf_config cfg;
        struct nf_registry reg;
        struct nf_api api;
        struct event_base *base;
        struct event *sigterm, *sigint;
        char err[512];
        int code, r;

        if (nf_config_parse(&cfg, argc, argv, &code) < 0)
                return code;
        nf_log_setup(cfg.log_format, cfg.log_level);
        signal(SIGPIPE, SIG_IGN);

        base = event_base_new();
        if (!base) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed", "cannot create the event loop");
                return NF_EXIT_SOFTWARE;
        }
        r = nf_registry_init(&reg, base, cfg.max_faults);
        if (r < 0) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed", "cannot open rtnetlink: %s", strerror(-r));
                event_base_free(base);
                return r == -EPERM || r == -EACCES ? NF_EXIT_NOPERM : NF_EXIT_UNAVAILABLE;
        }
        if (reg.caps.state[NF_CAP_LINK_IFB] == NF_CAP_NO && reg.caps.err[NF_CAP_LINK_IFB] == -EPERM) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed",
                       "not permitted to change links and traffic control: run as root or with CAP_NET_ADMIN");
                nf_registry_fini(&reg);
                event_base_free(base);
                return NF_EXIT_NOPERM;
        }
        for (int i = 0; i < NF_CAP_COUNT; i++)
                nf_log(reg.caps.state[i] == NF_CAP_NO ? NF_LOG_WARN : NF_LOG_INFO, "daemon.capability", "%s %s: %s%s%s",
                       nf_cap_kind(i), nf_cap_name(i),
                       reg.caps.state[i] == NF_CAP_YES ? "available" : reg.caps.state[i] == NF_CAP_NO ? "missing" : "unknown",
                       reg.caps.detail[i][0] ? " - " : "", reg.caps.detail[i]);

        if (nf_api_start(&api, base, &reg, &cfg, err, sizeof(err)) < 0) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed", "%s", err);
                nf_api_stop(&api);
                nf_registry_fini(&reg);
                event_base_free(base);
                return NF_EXIT_OSERR;
        }
        sigterm = evsignal_new(base, SIGTERM, on_signal, base);
        sigint = evsignal_new(base, SIGINT, on_signal, base);
        evsignal_add(sigterm, NULL);
        evsignal_add(sigint, NULL);
        nf_log(NF_LOG_INFO, "daemon.started", "netfaultd %s listening on %s (%s)", NETFAULTD_VERSION, cfg.listen,
               reg.caps.kernel);

        event_base_dispatch(base);

        nf_api_stop(&api);
        size_t n = reg.n_faults;
        nf_registry_fini(&reg);
        nf_log(NF_LOG_INFO, "daemon.stopped", "reverted %zu fault(s)", n);
        event_free(sigterm);
        event_free(sigint);
        event_base_free(base);
        return NF_EXIT_OK;
}
