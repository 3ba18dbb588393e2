/* netfaultd: entry point. Start-up and shutdown are symmetric:
 *   config → log → journal (lock) → registry (netlink, capability probe) → reconciliation
 *   (sweep, resume) → guardian → API → loop
 * and in reverse on SIGTERM/SIGINT, which arrive as loop events: the API stops, every fault is
 * reverted, the guardian is released, the lock is dropped. SIGHUP reloads what can be reloaded
 * (daemon/reload.h); SIGUSR1, SIGUSR2 and SIGALRM are logged and otherwise ignored, never fatal. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/http.h"
#include "core/awsranges.h"
#include "daemon/config.h"
#include "daemon/guardian.h"
#include "core/journal.h"
#include "core/log.h"
#include "daemon/privs.h"
#include "core/registry.h"
#include "daemon/reload.h"
#include "core/resolver.h"

#define LOCK_WAIT_MS 5000
#define HEALTH_TIMEOUT_MS 2000
#define HEALTH_REPLY_MAX 16384

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

/* ---- --health: a container health check without a shell or curl in the image ----
 * Connects to the daemon at --listen (NETFAULTD_LISTEN) with a plain socket, sends GET /healthz
 * and exits 0 when the reply is 200 with "status":"ok" within HEALTH_TIMEOUT_MS, 1 otherwise
 * (Docker's and ECS's meaning of a health command's status). One line on stdout says why. A
 * wildcard listen address (0.0.0.0, ::) is asked on the loopback address of its family. */

static long ms_left(const struct timespec *deadline) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Waits for EVENTS on fd until the deadline: 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events, const struct timespec *deadline) {
        for (;;) {
                long left = ms_left(deadline);
                if (left <= 0)
                        return -ETIMEDOUT;
                struct pollfd p = {.fd = fd, .events = events};
                int n = poll(&p, 1, (int)left);
                if (n > 0)
                        return 0;
                if (n < 0 && errno != EINTR)
                        return -errno;
        }
}

static int connect_by(int family, const struct sockaddr *sa, socklen_t sl, const struct timespec *deadline) {
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err = 0;
        socklen_t el = sizeof(err);
        if (fd < 0)
                return -errno;
        if (connect(fd, sa, sl) < 0) {
                int r = errno != EINPROGRESS ? -errno : wait_fd(fd, POLLOUT, deadline);
                if (r == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err)
                        r = -err;
                if (r < 0) {
                        close(fd);
                        return r;
                }
        }
        return fd;
}

static int health_connect(const char *listen, const struct timespec *deadline, char *why, size_t wlen) {
        if (strncmp(listen, "unix:", 5) == 0) {
                struct sockaddr_un sa = {.sun_family = AF_UNIX};
                if (strlen(listen + 5) >= sizeof(sa.sun_path)) {
                        snprintf(why, wlen, "unix socket path too long");
                        return -ENAMETOOLONG;
                }
                snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", listen + 5);
                int fd = connect_by(AF_UNIX, (struct sockaddr *)&sa, sizeof(sa), deadline);
                if (fd < 0)
                        snprintf(why, wlen, "cannot connect to %s: %s", listen, strerror(-fd));
                return fd;
        }
        const char *colon = strrchr(listen, ':');
        char host[256], port[8];
        if (!colon || colon == listen || !nf_listen_port(listen)) {
                snprintf(why, wlen, "--listen %s names no port to ask (port 0 is chosen at start-up)", listen);
                return -EINVAL;
        }
        size_t hl = (size_t)(colon - listen);
        const char *h = listen;
        if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
                h++;
                hl -= 2;
        }
        snprintf(host, sizeof(host), "%.*s", (int)hl, h);
        snprintf(port, sizeof(port), "%s", colon + 1);
        if (strcmp(host, "0.0.0.0") == 0 || !host[0])
                snprintf(host, sizeof(host), "127.0.0.1");
        else if (strcmp(host, "::") == 0)
                snprintf(host, sizeof(host), "::1");
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res = NULL;
        int r = getaddrinfo(host, port, &hints, &res);
        if (r != 0) {
                snprintf(why, wlen, "cannot resolve %s: %s", host, gai_strerror(r));
                return -EINVAL;
        }
        int fd = -ENOENT;
        for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
                fd = connect_by(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline);
        freeaddrinfo(res);
        if (fd < 0)
                snprintf(why, wlen, "cannot connect to %s:%s: %s", host, port, strerror(-fd));
        return fd;
}

/* Sends the request and reads the whole reply (the server closes: Connection: close). */
static int health_exchange(int fd, char *reply, size_t cap, const struct timespec *deadline, char *why, size_t wlen) {
        static const char req[] = "GET /healthz HTTP/1.1\r\nHost: netfaultd\r\nConnection: close\r\n\r\n";
        size_t off = 0, n = 0;
        int r;
        while (off < sizeof(req) - 1) {
                ssize_t w = send(fd, req + off, sizeof(req) - 1 - off, MSG_NOSIGNAL);
                if (w > 0)
                        off += (size_t)w;
                else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                        snprintf(why, wlen, "cannot send the request: %s", strerror(errno));
                        return -1;
                } else if ((r = wait_fd(fd, POLLOUT, deadline)) < 0) {
                        snprintf(why, wlen, "cannot send the request: %s", strerror(-r));
                        return -1;
                }
        }
        for (;;) {
                if (n == cap - 1) {
                        snprintf(why, wlen, "the reply is longer than %zu bytes", cap - 1);
                        return -1;
                }
                ssize_t got = recv(fd, reply + n, cap - 1 - n, 0);
                if (got == 0)
                        break;
                if (got > 0) {
                        n += (size_t)got;
                        continue;
                }
                if (errno != EAGAIN && errno != EINTR) {
                        snprintf(why, wlen, "cannot read the reply: %s", strerror(errno));
                        return -1;
                }
                if ((r = wait_fd(fd, POLLIN, deadline)) < 0) {
                        snprintf(why, wlen, "no whole reply within %d ms: %s", HEALTH_TIMEOUT_MS, strerror(-r));
                        return -1;
                }
        }
        reply[n] = '\0';
        return 0;
}

static int health_check(const char *listen) {
        static char reply[HEALTH_REPLY_MAX];
        char why[512] = "";
        struct timespec deadline;
        int code = 0, ok = 0;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += HEALTH_TIMEOUT_MS / 1000;
        deadline.tv_nsec += (HEALTH_TIMEOUT_MS % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }
        int fd = health_connect(listen, &deadline, why, sizeof(why));
        if (fd >= 0) {
                if (health_exchange(fd, reply, sizeof(reply), &deadline, why, sizeof(why)) == 0) {
                        const char *body = strstr(reply, "\r\n\r\n");
                        cJSON *o = body ? cJSON_Parse(body + 4) : NULL;
                        const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
                        const cJSON *reason = cJSON_GetObjectItemCaseSensitive(o, "reason");
                        if (sscanf(reply, "HTTP/1.%*d %d", &code) != 1)
                                snprintf(why, sizeof(why), "not an HTTP reply from %s", listen);
                        else if (code != 200 || !cJSON_IsString(st))
                                snprintf(why, sizeof(why), "GET /healthz at %s answered %d", listen, code);
                        else if (strcmp(st->valuestring, "ok") != 0)
                                snprintf(why, sizeof(why), "%s: %s", st->valuestring,
                                         cJSON_IsString(reason) ? reason->valuestring : "no reason given");
                        else {
                                ok = 1;
                                printf("healthy: netfaultd at %s: %.*s\n", listen, (int)strcspn(body + 4, "\r\n"),
                                       body + 4);
                        }
                        cJSON_Delete(o);
                }
                close(fd);
        }
        if (!ok)
                printf("unhealthy: %s\n", why);
        fflush(stdout);
        return ok ? 0 : 1;
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
        struct event *sigterm = NULL, *sigint = NULL, *lockprobe = NULL, *sighup = NULL, *sigother[3] = {NULL};
        static const int other_signals[3] = {SIGUSR1, SIGUSR2, SIGALRM};
        char err[512];
        int code, r, exit_code = NF_EXIT_OK;

        if (nf_config_parse(&cfg, argc, argv, &code) < 0)
                return code;
        if (cfg.health)
                return health_check(cfg.listen);
        nf_log_setup(cfg.log_format, cfg.log_level);
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
                                          .max_connections = cfg.max_connections,
                                          .request_timeout_s = cfg.request_timeout_s};
        snprintf(api_opts.listen, sizeof(api_opts.listen), "%s", cfg.listen);
        if (nf_api_start(&api, base, &reg, &api_opts, err, sizeof(err)) < 0) {
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
        struct aws_reload aws_reload = {.aws = &aws, .path = cfg.aws_ip_ranges};
        nf_reload_register("aws_ip_ranges", reload_aws, &aws_reload);
        if (resolver.dns)
                nf_reload_register("resolv.conf", reload_resolv, &resolver);
        if ((sighup = evsignal_new(base, SIGHUP, on_hup, NULL)))
                evsignal_add(sighup, NULL);
        for (int i = 0; i < 3; i++)
                if ((sigother[i] = evsignal_new(base, other_signals[i], on_ignored, NULL)))
                        evsignal_add(sigother[i], NULL);
        /* Start-up is complete: we listen, the namespace is reconciled, the guardian runs. From
         * here on only CAP_NET_ADMIN is needed (and kept); no-new-privileges. */
        nf_keep_only_net_admin("daemon.privileges");
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
        if (nslock >= 0)
                close(nslock);
        return exit_code;
}
