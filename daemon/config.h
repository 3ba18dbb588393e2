/* Command-line flags, each with an environment-variable twin (flag wins). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "api/http.h"
#include "core/log.h"

/* Exit codes (sysexits.h values, so that systemd and shells can tell them apart). */
#define NF_EXIT_OK 0
#define NF_EXIT_USAGE 64       /* bad flag or value */
#define NF_EXIT_UNAVAILABLE 69 /* the kernel's netlink interface could not be opened */
#define NF_EXIT_SOFTWARE 70    /* internal error */
#define NF_EXIT_OSERR 71       /* could not listen */
#define NF_EXIT_STATEDIR 73    /* --state-dir unusable: unsafe owner or mode, not writable, full */
#define NF_EXIT_TEMPFAIL 75    /* another netfaultd holds the state directory */
#define NF_EXIT_NOPERM 77      /* lacks CAP_NET_ADMIN */

struct nf_config {
        char listen[256];                 /* as given */
        struct nf_listen_addr listen_addr; /* read once, here */
        enum nf_log_format log_format;
        enum nf_log_level log_level;
        uint32_t max_duration_s;
        uint32_t default_duration_s;
        uint32_t max_faults;
        uint32_t max_body_bytes;
        uint32_t max_filters;
        uint32_t ifb_pool;        /* idle ifb links kept per namespace, 0: none (--ifb-pool) */
        uint32_t ifb_pool_idle_s; /* deleted after this long idle (--ifb-pool-idle) */
        uint32_t rate_limit; /* changing requests per second per client, 0: off */
        uint32_t rate_limit_global; /* changing requests per second from all clients together, 0: off */
        uint32_t ecs_rate_limit_s; /* seconds between requests to one ECS fault route per client, 0: off */
        uint32_t max_connections;   /* open API connections; 0: derived from RLIMIT_NOFILE */
        uint32_t request_timeout_s; /* a request must arrive (headers and body) within this time */
        char state_dir[200];
        bool resume;         /* --on-start=resume */
        char aws_ip_ranges[256];
        uint32_t dns_min_ttl_s, dns_max_ttl_s;
        /* Who may call (issue 14): "" for none. */
        char auth_token_file[256];
        char allowed_hosts[512];
        char tls_cert[256], tls_key[256], tls_client_ca[256];
        bool insecure_no_auth; /* serve a non-loopback listener without credentials */
        char audit_log[256];   /* audit lines are also appended here */
        bool health; /* --health: ask the running daemon (at --listen) for /healthz and exit 0 or 1 */
        bool netns_mode;     /* --netns-mode on: faults inside other network namespaces (pods) */
        char proc_root[128]; /* --proc-root: where pods' processes are read */
};

/* Returns -1 to exit with *exit_code (help and version exit 0, errors exit NF_EXIT_USAGE). */
int nf_config_parse(struct nf_config *c, int argc, char **argv, int *exit_code);
