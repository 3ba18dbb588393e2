#ifndef NFC_CTL_H
#define NFC_CTL_H
/* netfaultctl's options as parsed, shared by the commands, and its exit codes. */
#include <cjson/cJSON.h>

#include "ctl/client.h"

/* Exit codes (documented in --help and README). */
enum {
        NFC_EXIT_OK = 0,
        NFC_EXIT_REFUSED = 1,     /* a server refused (its error is printed); a fleet was rolled back */
        NFC_EXIT_USAGE = 2,       /* bad command line or file */
        NFC_EXIT_UNREACHABLE = 3, /* an endpoint could not be reached (connection, TLS, timeout) */
};

struct nfc_opts {
        struct nfc_conn conn;
        int json;
        /* a fault */
        cJSON *targets, *exclude, *ports, *local_ports, *interfaces;
        const char *protocol, *direction, *name, *pod, *file, *distribution;
        double jitter_ms, correlation;
        int has_jitter, has_correlation;
        long for_s, lease_s;
        double flows_pct; /* 0: not given */
        int dry_run, hold, allow_control_plane;
        /* its steady-state guard: probes as the daemon's JSON, and their settings */
        cJSON *guard_probes;
        const char *prometheus_url;
        double guard_interval_s;
        long guard_failures;
        int guard_scope_all;
        /* revert, watch */
        int all;
        double interval_s;
        long count;
};

/* A --guard-* option's probe, added to o->guard_probes; -1 with why filled. */
int nfc_guard_probe(struct nfc_opts *o, const char *kind, const char *arg, char *why, size_t why_len);

/* Parse "300ms", "1.5s", "10m", "2h"; a bare number is in unit_s seconds. -1 when invalid. */
double nfc_parse_duration(const char *s, double unit_s);

/* The fault commands (fault.c): delay, loss, blackhole, apply. */
int nfc_cmd_fault(struct nfc_opts *o, const char *cmd, int argc, char **argv);
/* Creating a fault body everywhere (fleet.c): all or nothing, then --hold. */
int nfc_fleet_create(struct nfc_opts *o, cJSON *body);
/* The other commands (commands.c). */
int nfc_cmd_list(struct nfc_opts *o);
int nfc_cmd_show(struct nfc_opts *o, const char *id);
int nfc_cmd_revert(struct nfc_opts *o, const char *id);
int nfc_cmd_renew(struct nfc_opts *o, const char *id);
int nfc_cmd_get(struct nfc_opts *o, const char *what); /* caps, health, pods */
int nfc_cmd_watch(struct nfc_opts *o);
/* Exit code for a set of finished calls, after printing each failure's reason on stderr. */
int nfc_calls_exit(const struct nfc_call *calls, size_t n);
/* -o json: one endpoint's body as it came, several as {"results":[{endpoint,status,body}]}. */
void nfc_print_calls_json(const struct nfc_call *calls, size_t n);

#endif
