#include "daemon/config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netem/ifb_pool.h"
#include "netem/plan.h"

static void usage(FILE *f) {
        fprintf(f,
                "Usage: netfaultd [OPTIONS]\n"
                "Injects network faults (delay, loss, duplicate, corrupt, reorder, rate, blackhole) toward chosen\n"
                "destinations in this network namespace, driven by a local HTTP/JSON API.\n\n"
                "  --listen ADDR          HOST:PORT or unix:/path            [NETFAULTD_LISTEN, 127.0.0.1:9700]\n"
                "  --log-format FORMAT    text or json                        [NETFAULTD_LOG_FORMAT, text]\n"
                "  --log-level LEVEL      debug, info, warn or error          [NETFAULTD_LOG_LEVEL, info]\n"
                "  --max-duration SECONDS longest duration_s a fault may ask  [NETFAULTD_MAX_DURATION, 3600]\n"
                "  --default-duration S   duration_s when a fault gives none  [NETFAULTD_DEFAULT_DURATION, 300]\n"
                "  --max-faults N         faults active at once (1-%u)       [NETFAULTD_MAX_FAULTS, 64]\n"
                "  --max-body BYTES       largest request body                [NETFAULTD_MAX_BODY, 1048576]\n"
                "  --max-filters N        flower filters across all faults    [NETFAULTD_MAX_FILTERS, 200000]\n"
                "  --ifb-pool N           idle ifb links kept for the next fault, per namespace (0-%u, 0 off)\n"
                "                                                             [NETFAULTD_IFB_POOL, %u]\n"
                "  --ifb-pool-idle S      an idle ifb link is deleted after S seconds [NETFAULTD_IFB_POOL_IDLE, %u]\n"
                "  --rate-limit N         changing requests/s per client, 0 off [NETFAULTD_RATE_LIMIT, 20]\n"
                "  --rate-limit-global N  changing requests/s of all clients together, 0 off\n"
                "                                        [NETFAULTD_RATE_LIMIT_GLOBAL, 5 x --rate-limit]\n"
                "  --ecs-rate-limit S     one request per S seconds per client to each ECS fault route\n"
                "                         (the ECS agent's limit), 0 off [NETFAULTD_ECS_RATE_LIMIT, 5]\n"
                "  --max-connections N    open API connections [NETFAULTD_MAX_CONNECTIONS, 1024, below ulimit -n]\n"
                "  --request-timeout S    time to send a whole request        [NETFAULTD_REQUEST_TIMEOUT, 10]\n"
                "  --state-dir DIR        journal and lock                    [NETFAULTD_STATE_DIR, /run/netfaultd]\n"
                "  --on-start MODE        revert or resume journaled faults   [NETFAULTD_ON_START, revert]\n"
                "  --aws-ip-ranges FILE   AWS ip-ranges.json for aws: targets [NETFAULTD_AWS_IP_RANGES]\n"
                "  --dns-min-ttl S        re-resolve hostnames at most this often [NETFAULTD_DNS_MIN_TTL, 5]\n"
                "  --dns-max-ttl S        and at least this often             [NETFAULTD_DNS_MAX_TTL, 300]\n"
                "  --auth-token-file FILE bearer tokens, NAME read|write SECRET a line (SIGHUP reloads)\n"
                "                                                             [NETFAULTD_AUTH_TOKEN_FILE]\n"
                "  --tls-cert FILE        serve HTTPS (TLS 1.2/1.3) with this PEM certificate chain\n"
                "                                                             [NETFAULTD_TLS_CERT]\n"
                "  --tls-key FILE         and its PEM private key             [NETFAULTD_TLS_KEY]\n"
                "  --tls-client-ca FILE   ask for client certificates this CA signed (mTLS; the subject\n"
                "                         names the caller, who may write)     [NETFAULTD_TLS_CLIENT_CA]\n"
                "  --allowed-host NAMES   Host names a loopback listener also serves, comma-separated\n"
                "                                                             [NETFAULTD_ALLOWED_HOST]\n"
                "  --audit-log FILE       append the audit log (JSON lines) here too [NETFAULTD_AUDIT_LOG]\n"
                "  --insecure-no-auth     serve a non-loopback listener without tokens or mTLS\n"
                "                                                             [NETFAULTD_INSECURE_NO_AUTH=1]\n"
                "  --health               ask the daemon at --listen for /healthz: exit 0 when it answers\n"
                "                         \"ok\" within 2 s, 1 otherwise (a container health check)\n"
                "  --netns-mode on|off    faults inside pods' namespaces (\"netns\"); keeps CAP_SYS_ADMIN and\n"
                "                         CAP_SYS_PTRACE besides CAP_NET_ADMIN [NETFAULTD_NETNS_MODE, off]\n"
                "  --proc-root DIR        the node's /proc, where pods are found [NETFAULTD_PROC_ROOT, /proc]\n"
                "  -h, --help             this text\n"
                "  -V, --version          the version\n\n"
                "Exit codes: 0 stopped cleanly (every fault reverted), 64 bad usage, 69 netlink unavailable,\n"
                "70 internal error, 71 cannot listen, 73 --state-dir unusable (owned by another user, writable by\n"
                "others, not writable or full), 75 another netfaultd holds --state-dir or the namespace, 77 not\n"
                "permitted (needs CAP_NET_ADMIN).\n",
                NF_MAX_SLOTS, NF_IFB_POOL_MAX, NF_IFB_POOL_DEFAULT, NF_IFB_POOL_IDLE_DEFAULT_S);
}

static int parse_u32(const char *name, const char *v, uint32_t lo, uint32_t hi, uint32_t *out) {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || end == v || *end || x < lo || x > hi || v[0] == '-') {
                fprintf(stderr, "netfaultd: %s: '%s' is not a whole number in %u..%u\n", name, v, lo, hi);
                return -1;
        }
        *out = (uint32_t)x;
        return 0;
}

static int copy_path(const char *name, const char *v, char *dst, size_t len) {
        if (!*v || strlen(v) >= len) {
                fprintf(stderr, "netfaultd: %s: '%s' is empty or longer than %zu bytes\n", name, v, len - 1);
                return -1;
        }
        snprintf(dst, len, "%s", v);
        return 0;
}

static int apply_opt(struct nf_config *c, int opt, const char *v) {
        switch (opt) {
        case 'l':
                if (strlen(v) >= sizeof(c->listen) || !*v) {
                        fprintf(stderr, "netfaultd: --listen: '%s' is not an address\n", v);
                        return -1;
                }
                snprintf(c->listen, sizeof(c->listen), "%s", v);
                return 0;
        case 'f':
                if (strcmp(v, "text") == 0)
                        c->log_format = NF_LOG_TEXT;
                else if (strcmp(v, "json") == 0)
                        c->log_format = NF_LOG_JSON;
                else {
                        fprintf(stderr, "netfaultd: --log-format: '%s' is not text or json\n", v);
                        return -1;
                }
                return 0;
        case 'L': {
                static const char *const names[] = {"debug", "info", "warn", "error"};
                for (int i = 0; i < 4; i++)
                        if (strcmp(v, names[i]) == 0) {
                                c->log_level = (enum nf_log_level)i;
                                return 0;
                        }
                fprintf(stderr, "netfaultd: --log-level: '%s' is not debug, info, warn or error\n", v);
                return -1;
        }
        case 'd':
                return parse_u32("--max-duration", v, 1, 7 * 24 * 3600, &c->max_duration_s);
        case 'D':
                return parse_u32("--default-duration", v, 1, 7 * 24 * 3600, &c->default_duration_s);
        case 'n':
                return parse_u32("--max-faults", v, 1, NF_MAX_SLOTS, &c->max_faults);
        case 'b':
                return parse_u32("--max-body", v, 1024, 64 * 1024 * 1024, &c->max_body_bytes);
        case 'F':
                return parse_u32("--max-filters", v, 1, 10000000, &c->max_filters);
        case 'p':
                return parse_u32("--ifb-pool", v, 0, NF_IFB_POOL_MAX, &c->ifb_pool);
        case 'i':
                return parse_u32("--ifb-pool-idle", v, 1, 24 * 3600, &c->ifb_pool_idle_s);
        case 'r':
                return parse_u32("--rate-limit", v, 0, 1000000, &c->rate_limit);
        case 'g':
                return parse_u32("--rate-limit-global", v, 0, 1000000, &c->rate_limit_global);
        case 'e':
                return parse_u32("--ecs-rate-limit", v, 0, 3600, &c->ecs_rate_limit_s);
        case 'c':
                return parse_u32("--max-connections", v, 1, 1000000, &c->max_connections);
        case 'R':
                return parse_u32("--request-timeout", v, 1, 3600, &c->request_timeout_s);
        case 's':
                if (!*v || v[0] != '/' || strlen(v) >= sizeof(c->state_dir)) {
                        fprintf(stderr, "netfaultd: --state-dir: '%s' is not an absolute path of at most %zu bytes\n", v,
                                sizeof(c->state_dir) - 1);
                        return -1;
                }
                snprintf(c->state_dir, sizeof(c->state_dir), "%s", v);
                return 0;
        case 'a':
                if (strlen(v) >= sizeof(c->aws_ip_ranges)) {
                        fprintf(stderr, "netfaultd: --aws-ip-ranges: path too long\n");
                        return -1;
                }
                snprintf(c->aws_ip_ranges, sizeof(c->aws_ip_ranges), "%s", v);
                return 0;
        case 't':
                return parse_u32("--dns-min-ttl", v, 1, 86400, &c->dns_min_ttl_s);
        case 'T':
                return parse_u32("--dns-max-ttl", v, 1, 86400, &c->dns_max_ttl_s);
        case 'A':
                return copy_path("--auth-token-file", v, c->auth_token_file, sizeof(c->auth_token_file));
        case 'C':
                return copy_path("--tls-cert", v, c->tls_cert, sizeof(c->tls_cert));
        case 'K':
                return copy_path("--tls-key", v, c->tls_key, sizeof(c->tls_key));
        case 'Q':
                return copy_path("--tls-client-ca", v, c->tls_client_ca, sizeof(c->tls_client_ca));
        case 'H':
                return copy_path("--allowed-host", v, c->allowed_hosts, sizeof(c->allowed_hosts));
        case 'U':
                return copy_path("--audit-log", v, c->audit_log, sizeof(c->audit_log));
        case 'I':
                if (strcmp(v, "1") != 0 && strcmp(v, "true") != 0) {
                        fprintf(stderr, "netfaultd: NETFAULTD_INSECURE_NO_AUTH: '%s' is not 1 or true\n", v);
                        return -1;
                }
                c->insecure_no_auth = true;
                return 0;
        case 'N':
                if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) {
                        fprintf(stderr, "netfaultd: --netns-mode: '%s' is not on or off\n", v);
                        return -1;
                }
                c->netns_mode = strcmp(v, "on") == 0;
                return 0;
        case 'P':
                if (v[0] != '/' || strlen(v) >= sizeof(c->proc_root)) {
                        fprintf(stderr, "netfaultd: --proc-root: '%s' is not an absolute path of at most %zu bytes\n", v,
                                sizeof(c->proc_root) - 1);
                        return -1;
                }
                snprintf(c->proc_root, sizeof(c->proc_root), "%s", v);
                return 0;
        case 'o':
                if (strcmp(v, "revert") != 0 && strcmp(v, "resume") != 0) {
                        fprintf(stderr, "netfaultd: --on-start: '%s' is not revert or resume\n", v);
                        return -1;
                }
                c->resume = strcmp(v, "resume") == 0;
                return 0;
        }
        return -1;
}

int nf_config_parse(struct nf_config *c, int argc, char **argv, int *exit_code) {
        static const struct option opts[] = {
                {"listen", required_argument, NULL, 'l'},          {"log-format", required_argument, NULL, 'f'},
                {"log-level", required_argument, NULL, 'L'},       {"max-duration", required_argument, NULL, 'd'},
                {"default-duration", required_argument, NULL, 'D'}, {"max-faults", required_argument, NULL, 'n'},
                {"max-body", required_argument, NULL, 'b'},
                {"max-filters", required_argument, NULL, 'F'},     {"rate-limit", required_argument, NULL, 'r'},
                {"ifb-pool", required_argument, NULL, 'p'},        {"ifb-pool-idle", required_argument, NULL, 'i'},
                {"state-dir", required_argument, NULL, 's'},       {"on-start", required_argument, NULL, 'o'},
                {"aws-ip-ranges", required_argument, NULL, 'a'},   {"dns-min-ttl", required_argument, NULL, 't'},
                {"dns-max-ttl", required_argument, NULL, 'T'},
                {"rate-limit-global", required_argument, NULL, 'g'},
                {"ecs-rate-limit", required_argument, NULL, 'e'},
                {"max-connections", required_argument, NULL, 'c'},
                {"request-timeout", required_argument, NULL, 'R'},
                {"auth-token-file", required_argument, NULL, 'A'}, {"tls-cert", required_argument, NULL, 'C'},
                {"tls-key", required_argument, NULL, 'K'},         {"tls-client-ca", required_argument, NULL, 'Q'},
                {"allowed-host", required_argument, NULL, 'H'},    {"insecure-no-auth", no_argument, NULL, 'I'},
                {"audit-log", required_argument, NULL, 'U'},
                {"health", no_argument, NULL, 'Y'},
                {"netns-mode", required_argument, NULL, 'N'},      {"proc-root", required_argument, NULL, 'P'},
                {"help", no_argument, NULL, 'h'},                  {"version", no_argument, NULL, 'V'},
                {NULL, 0, NULL, 0}};
        static const struct {
                const char *env;
                int opt;
        } envs[] = {{"NETFAULTD_LISTEN", 'l'},         {"NETFAULTD_LOG_FORMAT", 'f'},
                    {"NETFAULTD_LOG_LEVEL", 'L'},      {"NETFAULTD_MAX_DURATION", 'd'},
                    {"NETFAULTD_DEFAULT_DURATION", 'D'}, {"NETFAULTD_MAX_FAULTS", 'n'},
                    {"NETFAULTD_MAX_BODY", 'b'},
                    {"NETFAULTD_IFB_POOL", 'p'},       {"NETFAULTD_IFB_POOL_IDLE", 'i'},
                    {"NETFAULTD_MAX_FILTERS", 'F'},    {"NETFAULTD_RATE_LIMIT", 'r'}, {"NETFAULTD_ECS_RATE_LIMIT", 'e'},
                    {"NETFAULTD_STATE_DIR", 's'},      {"NETFAULTD_ON_START", 'o'},
                    {"NETFAULTD_AWS_IP_RANGES", 'a'},  {"NETFAULTD_DNS_MIN_TTL", 't'},
                    {"NETFAULTD_DNS_MAX_TTL", 'T'},
                    {"NETFAULTD_RATE_LIMIT_GLOBAL", 'g'}, {"NETFAULTD_MAX_CONNECTIONS", 'c'},
                    {"NETFAULTD_REQUEST_TIMEOUT", 'R'},
                    {"NETFAULTD_AUTH_TOKEN_FILE", 'A'}, {"NETFAULTD_TLS_CERT", 'C'},
                    {"NETFAULTD_TLS_KEY", 'K'},        {"NETFAULTD_TLS_CLIENT_CA", 'Q'},
                    {"NETFAULTD_ALLOWED_HOST", 'H'},   {"NETFAULTD_INSECURE_NO_AUTH", 'I'},
                    {"NETFAULTD_AUDIT_LOG", 'U'},
                    {"NETFAULTD_NETNS_MODE", 'N'},     {"NETFAULTD_PROC_ROOT", 'P'}};
        int opt;

        *c = (struct nf_config){.log_format = NF_LOG_TEXT,
                                .log_level = NF_LOG_INFO,
                                .max_duration_s = 3600,
                                .default_duration_s = 300,
                                .max_faults = 64,
                                .max_body_bytes = 1024 * 1024,
                                .max_filters = 200000,
                                .ifb_pool = NF_IFB_POOL_DEFAULT,
                                .ifb_pool_idle_s = NF_IFB_POOL_IDLE_DEFAULT_S,
                                .rate_limit = 20,
                                .ecs_rate_limit_s = 5,
                                .rate_limit_global = UINT32_MAX, /* until given: 5 x rate_limit */
                                .request_timeout_s = 10,
                                .dns_min_ttl_s = 5,
                                .dns_max_ttl_s = 300};
        snprintf(c->listen, sizeof(c->listen), "127.0.0.1:9700");
        snprintf(c->state_dir, sizeof(c->state_dir), "/run/netfaultd");
        snprintf(c->proc_root, sizeof(c->proc_root), "/proc");
        *exit_code = NF_EXIT_USAGE;

        for (size_t i = 0; i < sizeof(envs) / sizeof(*envs); i++) {
                const char *v = getenv(envs[i].env);
                if (v && *v && apply_opt(c, envs[i].opt, v) < 0) {
                        fprintf(stderr, "netfaultd: (from %s)\n", envs[i].env);
                        return -1;
                }
        }
        optind = 1;
        while ((opt = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
                if (opt == 'h') {
                        usage(stdout);
                        *exit_code = NF_EXIT_OK;
                        return -1;
                }
                if (opt == 'V') {
                        printf("netfaultd %s\n", NETFAULTD_VERSION);
                        *exit_code = NF_EXIT_OK;
                        return -1;
                }
                if (opt == 'Y') {
                        c->health = true;
                        continue;
                }
                if (opt == '?' || apply_opt(c, opt, opt == 'I' ? "1" : optarg) < 0) {
                        fprintf(stderr, "Try 'netfaultd --help'.\n");
                        return -1;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "netfaultd: unexpected argument '%s'\nTry 'netfaultd --help'.\n", argv[optind]);
                return -1;
        }
        if (c->dns_min_ttl_s > c->dns_max_ttl_s) {
                fprintf(stderr, "netfaultd: --dns-min-ttl %u is above --dns-max-ttl %u\n", c->dns_min_ttl_s, c->dns_max_ttl_s);
                return -1;
        }
        /* Rotating client addresses must not multiply the per-client limit without bound. */
        if (c->rate_limit_global == UINT32_MAX)
                c->rate_limit_global = c->rate_limit > 200000 ? 1000000 : 5 * c->rate_limit;
        /* --listen HOST:0 binds a port chosen at start-up, after resumed faults were applied
         * without the API-port guard; with resume, the port must be known beforehand. */
        char err[320];
        if (nf_listen_parse(c->listen, &c->listen_addr, err, sizeof(err)) < 0) {
                fprintf(stderr, "netfaultd: %s\n", err);
                return -1;
        }
        if (c->resume && !c->listen_addr.is_unix && c->listen_addr.port == 0) {
                fprintf(stderr, "netfaultd: --listen %s: port 0 (any free port) cannot be used with --on-start resume\n",
                        c->listen);
                return -1;
        }
        /* Anything but loopback or a Unix socket is reachable from other hosts: it needs
         * credentials, or an explicit --insecure-no-auth (main.c logs it loudly). --health only
         * asks a running daemon (on loopback for a wildcard address) and serves nothing. */
        if (!c->health && !c->listen_addr.is_unix && !nf_auth_host_is_loopback(c->listen_addr.host) && !c->auth_token_file[0] &&
            !c->tls_client_ca[0] && !c->insecure_no_auth) {
                fprintf(stderr,
                        "netfaultd: --listen %s is not loopback: refusing to serve it without credentials; give "
                        "--auth-token-file or --tls-client-ca (with --tls-cert/--tls-key), or --insecure-no-auth\n",
                        c->listen);
                return -1;
        }
        if (c->default_duration_s > c->max_duration_s)
                c->default_duration_s = c->max_duration_s;
        return 0;
}
