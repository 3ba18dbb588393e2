/* netfaultd: entry point. Start-up and shutdown are symmetric:
 *   config → log → journal (lock) → registry (netlink, capability probe) → reconciliation
 *   (sweep, resume) → guardian → API → loop
 * and in reverse on SIGTERM/SIGINT, which arrive as loop events: the API stops, every fault is
 * reverted, the guardian is released, the lock is dropped. */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "api/http.h"
#include "daemon/awsranges.h"
#include "daemon/config.h"
#include "daemon/guardian.h"
#include "daemon/journal.h"
#include "daemon/log.h"
#include "daemon/registry.h"
#include "daemon/resolver.h"

#define LOCK_WAIT_MS 5000

static void on_signal(evutil_socket_t sig, short what, void *arg) {
        (void)what;
        nf_log(NF_LOG_INFO, "daemon.signal", "%s received: reverting every fault and exiting", strsignal((int)sig));
        event_base_loopbreak(arg);
}

static void log_capabilities(const struct nf_caps *c) {
        for (int i = 0; i < NF_CAP_COUNT; i++)
                nf_log(c->state[i] == NF_CAP_NO ? NF_LOG_WARN : NF_LOG_INFO, "daemon.capability", "%s %s: %s%s%s",
                       nf_cap_kind(i), nf_cap_name(i),
                       c->state[i] == NF_CAP_YES ? "available" : c->state[i] == NF_CAP_NO ? "missing" : "unknown",
                       c->detail[i][0] ? " - " : "", c->detail[i]);
}

int main(int argc, char **argv) {
        struct nf_config cfg;
        struct nf_journal journal;
        struct nf_registry reg;
        struct nf_guardian guardian;
        struct nf_api api;
        struct nf_resolver resolver;
        struct nf_aws_ranges aws;
        struct event_base *base = NULL;
        struct event *sigterm = NULL, *sigint = NULL;
        char err[512];
        int code, r, exit_code = NF_EXIT_OK;

        if (nf_config_parse(&cfg, argc, argv, &code) < 0)
                return code;
        nf_log_setup(cfg.log_format, cfg.log_level);
        signal(SIGPIPE, SIG_IGN);

        /* As a container's PID 1, a child guardian would die with us: PID 1 becomes the guardian
         * and the daemon runs in a child of it. */
        bool pid1 = getpid() == 1;
        if (pid1 && nf_guardian_supervise(cfg.state_dir) < 0)
                nf_log(NF_LOG_WARN, "guardian.start_failed", "cannot fork the daemon from PID 1; running unguarded");

        int nslock = nf_netns_lock(LOCK_WAIT_MS);
        if (nslock < 0) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed", "%s",
                       nslock == -EBUSY ? "another netfaultd runs in this network namespace"
                                        : "cannot take the network-namespace lock");
                return nslock == -EBUSY ? NF_EXIT_TEMPFAIL : NF_EXIT_OSERR;
        }
        if ((r = nf_journal_open(&journal, cfg.state_dir, LOCK_WAIT_MS, err, sizeof(err))) < 0) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed", "%s", err);
                return r == -EBUSY ? NF_EXIT_TEMPFAIL : r == -EACCES || r == -EPERM ? NF_EXIT_NOPERM : NF_EXIT_CANTCREAT;
        }
        base = event_base_new();
        if (!base) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed", "cannot create the event loop");
                nf_journal_close(&journal);
                return NF_EXIT_SOFTWARE;
        }
        if ((r = nf_aws_ranges_load(&aws, cfg.aws_ip_ranges, err, sizeof(err))) < 0) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed", "%s", err);
                event_base_free(base);
                nf_journal_close(&journal);
                return NF_EXIT_USAGE;
        }
        nf_aws_region_from_ecs(&aws, 2000);
        if (cfg.aws_ip_ranges[0])
                nf_log(NF_LOG_INFO, "aws.ranges", "%zu prefixes from %s (syncToken %s, createDate %s), default region %s", aws.n,
                       aws.path, aws.sync_token, aws.create_date, aws.default_region[0] ? aws.default_region : "none");
        if (nf_resolver_init(&resolver, base, cfg.dns_min_ttl_s, cfg.dns_max_ttl_s) < 0)
                nf_log(NF_LOG_WARN, "dns.config", "no resolver: hostnames in targets will be refused");
        struct nf_registry_limits lim = {.max_faults = cfg.max_faults, .max_filters = cfg.max_filters};
        r = nf_registry_init(&reg, base, &lim, &journal, nf_listen_port(cfg.listen));
        if (r < 0) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed", "cannot open rtnetlink: %s", strerror(-r));
                exit_code = r == -EPERM || r == -EACCES ? NF_EXIT_NOPERM : NF_EXIT_UNAVAILABLE;
                goto out_base;
        }
        if (reg.caps.state[NF_CAP_LINK_IFB] == NF_CAP_NO && reg.caps.err[NF_CAP_LINK_IFB] == -EPERM) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed",
                       "not permitted to change links and traffic control: run as root or with CAP_NET_ADMIN");
                exit_code = NF_EXIT_NOPERM;
                goto out_registry;
        }
        log_capabilities(&reg.caps);
        reg.resolver = resolver.dns ? &resolver : NULL;
        reg.aws = &aws;

        /* Nothing of ours survives a restart unless asked to: before the API answers, the
         * namespace is swept and, with --on-start=resume, journaled faults come back. */
        nf_registry_reconcile(&reg, cfg.resume, cfg.max_duration_s);

        if (pid1)
                guardian = (struct nf_guardian){.pid = -1, .fd = -1}; /* our parent is the guardian */
        else if ((r = nf_guardian_start(&guardian, &journal)) < 0)
                nf_log(NF_LOG_WARN, "guardian.start_failed", "%s: faults will not be reverted if netfaultd is killed",
                       strerror(-r));
        else
                nf_log(NF_LOG_INFO, "guardian.started", "pid %d watches netfaultd", (int)guardian.pid);

        if (nf_api_start(&api, base, &reg, &cfg, err, sizeof(err)) < 0) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed", "%s", err);
                exit_code = NF_EXIT_OSERR;
                goto out_api;
        }
        /* With --listen HOST:0 the port is known only now; nothing was applied since start-up
         * (resume is refused with port 0), so the guard covers every fault from the first. */
        reg.api_port = reg.applier.guard_port = api.port;
        sigterm = evsignal_new(base, SIGTERM, on_signal, base);
        sigint = evsignal_new(base, SIGINT, on_signal, base);
        evsignal_add(sigterm, NULL);
        evsignal_add(sigint, NULL);
        char where[300]; /* the address bound: HOST:0 logs the port it got */
        if (api.port)
                snprintf(where, sizeof(where), "%.*s:%u", (int)(strrchr(cfg.listen, ':') - cfg.listen), cfg.listen,
                         api.port);
        else
                snprintf(where, sizeof(where), "%s", cfg.listen);
        nf_log(NF_LOG_INFO, "daemon.started", "netfaultd %s listening on %s (%s), state in %s", NETFAULTD_VERSION,
               where, reg.caps.kernel, cfg.state_dir);

        event_base_dispatch(base);

out_api:
        nf_api_stop(&api);
        {
                size_t n = nf_registry_delete_all(&reg, "shutdown");
                nf_log(NF_LOG_INFO, "daemon.stopped", "reverted %zu fault(s)", n);
        }
        nf_guardian_stop(&guardian);
out_registry:
        nf_registry_fini(&reg);
out_base:
        nf_resolver_fini(&resolver);
        nf_aws_ranges_free(&aws);
        if (sigterm)
                event_free(sigterm);
        if (sigint)
                event_free(sigint);
        event_base_free(base);
        nf_journal_close(&journal);
        close(nslock);
        return exit_code;
}
