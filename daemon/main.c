/* netfaultd: entry point. Start-up and shutdown are symmetric:
 *   config → log → journal (lock) → registry (netlink, capability probe) → reconciliation
 *   (sweep, resume) → guardian → API → loop
 * and in reverse on SIGTERM/SIGINT, which arrive as loop events: the API stops, every fault is
 * reverted, the guardian is released, the lock is dropped. SIGHUP reloads what can be reloaded
 * (daemon/reload.h); SIGUSR1, SIGUSR2 and SIGALRM are logged and otherwise ignored, never fatal. */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/audit.h"
#include "api/http.h"
#include "api/observe.h"
#include "api/tls.h"
#include "core/awsranges.h"
#include "daemon/config.h"
#include "daemon/guardian.h"
#include "daemon/health.h"
#include "core/journal.h"
#include "core/log.h"
#include "daemon/privs.h"
#include "core/reconcile.h"
#include "core/registry.h"
#include "daemon/reload.h"
#include "core/resolver.h"

#define LOCK_WAIT_MS 5000

static void on_signal(evutil_socket_t sig, short what, void *arg) {
        (void)what;
        nf_log(NF_LOG_INFO, "daemon.signal", "%s received: reverting every fault and exiting", strsignal((int)sig));
        event_base_loopbreak(arg);
}

static void on_hup(evutil_socket_t sig, short what, void *arg) {
        (void)sig;
        (void)what;
        (void)arg;
        nf_log(NF_LOG_INFO, "daemon.signal", "SIGHUP received: reloading");
        nf_reload_all();
}

static void on_ignored(evutil_socket_t sig, short what, void *arg) {
        (void)what;
        (void)arg;
        nf_log(NF_LOG_INFO, "daemon.signal", "%s received: ignored (SIGHUP reloads, SIGTERM stops)", strsignal((int)sig));
}

struct aws_reload {
        struct nf_aws_ranges *aws;
        const char *path;
};

/* The ip-ranges file, loaded beside the one in use and swapped in only when it is whole. The
 * region the daemon found at start (environment, ECS metadata) stays. */
static int reload_aws(void *arg, char *summary, size_t slen, char *why, size_t wlen) {
        struct aws_reload *a = arg;
        struct nf_aws_ranges fresh;
        if (!a->path[0]) {
                snprintf(summary, slen, "none configured (--aws-ip-ranges)");
                return 1;
        }
        if (nf_aws_ranges_load(&fresh, a->path, why, wlen) < 0) {
                snprintf(summary, slen, "%zu prefixes, syncToken %s", a->aws->n, a->aws->sync_token);
                return -1;
        }
        memcpy(fresh.default_region, a->aws->default_region, sizeof(fresh.default_region));
        memcpy(fresh.region_source, a->aws->region_source, sizeof(fresh.region_source));
        nf_aws_ranges_free(a->aws);
        *a->aws = fresh;
        snprintf(summary, slen, "%zu prefixes from %s (syncToken %s, createDate %s)", fresh.n, fresh.path, fresh.sync_token,
                 fresh.create_date);
        return 0;
}

static int reload_resolv(void *arg, char *summary, size_t slen, char *why, size_t wlen) {
        struct nf_resolver *r = arg;
        int rc = nf_resolver_reload(r, "/etc/resolv.conf", why, wlen);
        snprintf(summary, slen, "nameservers %s", r->servers[0] ? r->servers : "none");
        return rc < 0 ? -1 : 0;
}

/* Whoever connects to the namespace lock learns our credentials from the kernel at connect time
 * (another netfaultd checking who holds it); the connection itself is not needed. */
static void on_lock_probe(evutil_socket_t fd, short what, void *arg) {
        (void)what;
        (void)arg;
        int c;
        while ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
                close(c);
}

static void log_capabilities(const struct nf_caps *c) {
        for (int i = 0; i < NF_CAP_COUNT; i++)
                nf_log(c->state[i] == NF_CAP_NO ? NF_LOG_WARN : NF_LOG_INFO, "daemon.capability", "%s %s: %s%s%s",
                       nf_cap_kind(i), nf_cap_name(i),
                       c->state[i] == NF_CAP_YES ? "available" : c->state[i] == NF_CAP_NO ? "missing" : "unknown",
                       c->detail[i][0] ? " - " : "", c->detail[i]);
}

/* Who may call, said once at start; an unauthenticated remote listener as loudly as we can. */
static void log_access(const struct nf_config *cfg, const struct nf_api *api) {
        char names[512];
        nf_tokens_describe(api->tokens, names, sizeof(names));
        if (!nf_auth_enabled(api) && !cfg->listen_addr.is_unix && !api->loopback)
                nf_log(NF_LOG_ERROR, "http.insecure_no_auth",
                       "--insecure-no-auth: %s is served WITHOUT ANY AUTHENTICATION%s: whoever reaches it can inject and "
                       "revert faults",
                       cfg->listen, nf_tls_enabled(api) ? "" : " and in clear text");
        nf_log(NF_LOG_INFO, "http.access", "%s; %s; tokens: %s%s", nf_tls_enabled(api) ? "TLS" : "plain HTTP",
               nf_tls_client_certs(api) ? "client certificates verified (--tls-client-ca)" : "no client certificates",
               names[0] ? names : "none", api->loopback ? "; Host must be a loopback name" : "");
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
        struct event *sigterm = NULL, *sigint = NULL, *lockprobe = NULL, *sighup = NULL, *sigother[3] = {NULL};
        static const int other_signals[3] = {SIGUSR1, SIGUSR2, SIGALRM};
        char err[512];
        int code, r, exit_code = NF_EXIT_OK;

        if (nf_config_parse(&cfg, argc, argv, &code) < 0)
                return code;
        if (cfg.health)
                return nf_health_check(&cfg.listen_addr, cfg.listen);
        nf_log_setup(cfg.log_format, cfg.log_level);
        nf_privs_netns_mode(cfg.netns_mode);
        signal(SIGPIPE, SIG_IGN);
        /* Until the loop handles them: a stray signal during start-up must not kill us with the
         * namespace half swept. */
        signal(SIGHUP, SIG_IGN);
        for (int i = 0; i < 3; i++)
                signal(other_signals[i], SIG_IGN);

        /* As a container's PID 1, a child guardian would die with us: PID 1 becomes the guardian
         * and the daemon runs in a child of it. */
        bool pid1 = getpid() == 1;
        if (pid1 && nf_guardian_supervise(cfg.state_dir) < 0)
                nf_log(NF_LOG_WARN, "guardian.start_failed", "cannot fork the daemon from PID 1; running unguarded");

        int nslock = nf_netns_lock(LOCK_WAIT_MS);
        if (nslock < 0 && nslock != -ENOLCK) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed", "%s",
                       nslock == -EBUSY ? "another netfaultd runs in this network namespace"
                                        : "cannot take the network-namespace lock");
                return nslock == -EBUSY ? NF_EXIT_TEMPFAIL : NF_EXIT_OSERR;
        }
        if ((r = nf_journal_open(&journal, cfg.state_dir, LOCK_WAIT_MS, err, sizeof(err))) < 0) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed", "%s", err);
                return r == -EBUSY ? NF_EXIT_TEMPFAIL : NF_EXIT_STATEDIR;
        }
        if (nf_audit_open(cfg.audit_log, err, sizeof(err)) < 0) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed", "%s", err);
                nf_journal_close(&journal);
                return NF_EXIT_USAGE;
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
        if (nslock >= 0 && (lockprobe = event_new(base, nslock, EV_READ | EV_PERSIST, on_lock_probe, NULL)))
                event_add(lockprobe, NULL);
        nf_aws_region_from_ecs(&aws, 2000);
        if (cfg.aws_ip_ranges[0])
                nf_log(NF_LOG_INFO, "aws.ranges", "%zu prefixes from %s (syncToken %s, createDate %s), default region %s", aws.n,
                       aws.path, aws.sync_token, aws.create_date, aws.default_region[0] ? aws.default_region : "none");
        if (nf_resolver_init(&resolver, base, cfg.dns_min_ttl_s, cfg.dns_max_ttl_s) < 0)
                nf_log(NF_LOG_WARN, "dns.config", "no resolver: hostnames in targets will be refused");
        struct nf_registry_limits lim = {.max_faults = cfg.max_faults, .max_filters = cfg.max_filters,
                                         .ifb_pool = cfg.ifb_pool, .ifb_pool_idle_s = cfg.ifb_pool_idle_s};
        r = nf_registry_init(&reg, base, &lim, &journal, cfg.listen_addr.is_unix ? 0 : cfg.listen_addr.port);
        if (r < 0) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed", "cannot open rtnetlink: %s", strerror(-r));
                exit_code = r == -EPERM || r == -EACCES ? NF_EXIT_NOPERM : NF_EXIT_UNAVAILABLE;
                goto out_base;
        }
        if (nf_registry_own(&reg)->caps.state[NF_CAP_LINK_IFB] == NF_CAP_NO && nf_registry_own(&reg)->caps.err[NF_CAP_LINK_IFB] == -EPERM) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed",
                       "not permitted to change links and traffic control: run as root or with CAP_NET_ADMIN");
                exit_code = NF_EXIT_NOPERM;
                goto out_registry;
        }
        log_capabilities(&nf_registry_own(&reg)->caps);
        reg.on_event = nf_observe_fault_event; /* audit and metrics, resumed faults included */
        reg.resolver = resolver.dns ? &resolver : NULL;
        reg.aws = &aws;
        reg.netns_mode = cfg.netns_mode;
        snprintf(reg.proc_root, sizeof(reg.proc_root), "%s", cfg.proc_root);

        /* Nothing of ours survives a restart unless asked to: before the API answers, the
         * namespace is swept and, with --on-start=resume, journaled faults come back. */
        nf_registry_reconcile(&reg, cfg.resume, cfg.max_duration_s);

        if (pid1)
                guardian = (struct nf_guardian){.pid = -1, .fd = -1}; /* our parent is the guardian */
        else if ((r = nf_guardian_start(&guardian, &journal, nslock)) < 0) {
                nf_log(NF_LOG_WARN, "guardian.start_failed", "%s: faults will not be reverted if netfaultd is killed",
                       strerror(-r));
                snprintf(reg.degraded, sizeof(reg.degraded), "no guardian (%s): faults would not be reverted if netfaultd died",
                         strerror(-r));
        } else {
                nf_log(NF_LOG_INFO, "guardian.started", "pid %d watches netfaultd", (int)guardian.pid);
                if (nf_guardian_watch(&guardian, base, reg.degraded, sizeof(reg.degraded)) < 0)
                        nf_log(NF_LOG_WARN, "guardian.watch", "cannot watch the guardian: its death would go unnoticed");
        }

        struct nf_api_options api_opts = {.max_duration_s = cfg.max_duration_s,
                                          .default_duration_s = cfg.default_duration_s,
                                          .max_body_bytes = cfg.max_body_bytes,
                                          .rate_limit = cfg.rate_limit,
                                          .rate_limit_global = cfg.rate_limit_global,
                                          .ecs_rate_limit_s = cfg.ecs_rate_limit_s,
                                          .max_connections = cfg.max_connections,
                                          .request_timeout_s = cfg.request_timeout_s,
                                          .listen = cfg.listen_addr,
                                          .auth_token_file = cfg.auth_token_file,
                                          .allowed_hosts = cfg.allowed_hosts,
                                          .tls_cert = cfg.tls_cert,
                                          .tls_key = cfg.tls_key,
                                          .tls_client_ca = cfg.tls_client_ca};
        if ((r = nf_api_start(&api, base, &reg, &api_opts, err, sizeof(err))) < 0) {
                nf_log(NF_LOG_ERROR, "daemon.start_failed", "%s", err);
                exit_code = r == -EINVAL ? NF_EXIT_USAGE : NF_EXIT_OSERR; /* a token file or certificate */
                goto out_api;
        }
        log_access(&cfg, &api);
        /* With --listen HOST:0 the port is known only now; nothing was applied since start-up
         * (resume is refused with port 0), so the guard covers every fault from the first. */
        reg.api_port = nf_registry_own(&reg)->applier.guard_port = api.port;
        sigterm = evsignal_new(base, SIGTERM, on_signal, base);
        sigint = evsignal_new(base, SIGINT, on_signal, base);
        evsignal_add(sigterm, NULL);
        evsignal_add(sigint, NULL);
        char where[300]; /* the address bound: HOST:0 logs the port it got */
        nf_listen_format(&cfg.listen_addr, api.port, where, sizeof(where));
        struct aws_reload aws_reload = {.aws = &aws, .path = cfg.aws_ip_ranges};
        nf_reload_register("aws_ip_ranges", reload_aws, &aws_reload);
        if (resolver.dns)
                nf_reload_register("resolv.conf", reload_resolv, &resolver);
        nf_reload_register("auth_tokens", nf_auth_reload, &api);
        nf_reload_register("tls", nf_tls_reload, &api);
        if ((sighup = evsignal_new(base, SIGHUP, on_hup, NULL)))
                evsignal_add(sighup, NULL);
        for (int i = 0; i < 3; i++)
                if ((sigother[i] = evsignal_new(base, other_signals[i], on_ignored, NULL)))
                        evsignal_add(sigother[i], NULL);
        /* Start-up is complete: we listen, the namespace is reconciled, the guardian runs. From
         * here on only CAP_NET_ADMIN is needed (and kept); no-new-privileges. */
        nf_keep_needed_caps("daemon.privileges");
        nf_log(NF_LOG_INFO, "daemon.started", "netfaultd %s listening on %s (%s), state in %s", NETFAULTD_VERSION,
               where, nf_registry_own(&reg)->caps.kernel, cfg.state_dir);

        event_base_dispatch(base);

out_api:
        nf_api_stop(&api);
        {
                size_t n = nf_registry_delete_all(&reg, "shutdown");
                /* Idle ifb links too, before the guardian is let go without a sweep. */
                nf_registry_pools_drain(&reg);
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
        if (lockprobe)
                event_free(lockprobe);
        if (sighup)
                event_free(sighup);
        for (int i = 0; i < 3; i++)
                if (sigother[i])
                        event_free(sigother[i]);
        nf_reload_reset();
        event_base_free(base);
        nf_journal_close(&journal);
        nf_audit_close();
        if (nslock >= 0)
                close(nslock);
        return exit_code;
}
