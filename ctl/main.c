/* netfaultctl: the command line of netfaultd, for people (tables) and scripts (-o json), for one
 * daemon or a fleet of them (all or nothing). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

static const char usage_text[] =
"Usage: netfaultctl [OPTIONS] COMMAND [ARGS]\n"
"\n"
"Start a fault (on every endpoint at once; all or nothing):\n"
"  delay DURATION --to TARGET...   e.g. delay 300ms --jitter 30ms --to 10.0.1.10 --for 10m\n"
"  loss PERCENT --to TARGET...     e.g. loss 20% --to 10.0.2.0/24 --correlation 25\n"
"  duplicate|corrupt PERCENT ...   duplicate or corrupt a share of the packets\n"
"  blackhole --to TARGET...        e.g. blackhole --to aws:DYNAMODB --port 443\n"
"  apply -f FILE                   a fault body as JSON (api/openapi.yaml; - reads stdin)\n"
"Inspect and end faults:\n"
"  list [--pod UID]                the active faults\n"
"  show ID                         one fault with its kernel counters\n"
"  watch [--interval 2s]           every fault's counters, refreshed (--count N rounds)\n"
"  revert ID | --all               revert one fault, or every fault\n"
"  renew ID                        renew a fault's lease\n"
"The daemons:\n"
"  health | caps | pods            liveness, kernel capabilities, the node's pods\n"
"\n"
"Fault options:\n"
"  -t, --to TARGET       address, CIDR, hostname or aws:SERVICE[:REGION]; repeat or a,b,c\n"
"      --exclude ADDR    never affect this address or CIDR (repeatable)\n"
"  -p, --port PORT       the peer's port or LO-HI (repeatable; implies --protocol tcp)\n"
"      --local-port PORT our own port (the listener's, with --ingress)\n"
"      --protocol P      all, tcp, udp or icmp\n"
"      --ingress|--both  fault traffic from the targets (or both ways); default egress\n"
"  -i, --interface IF    only this interface (repeatable); default: those with a default route\n"
"      --jitter DURATION delay jitter (30ms)\n"
"      --distribution D  uniform, normal, pareto or paretonormal (a delay with jitter)\n"
"      --correlation PCT correlation of successive delays or losses\n"
"      --flows PCT       only this share of flows (connections), each whole or not at all\n"
"      --name NAME       a label shown in lists, logs and metrics\n"
"      --for DURATION    until the fault reverts itself (90s, 10m, 1h; bare: seconds)\n"
"      --lease DURATION  revert unless renewed within this (dead-man switch)\n"
"      --pod UID         fault inside this pod's network namespace (DaemonSet mode)\n"
"      --allow-control-plane  also fault the metadata endpoints and resolvers\n"
"  -n, --dry-run         validate and plan everywhere, show the plan, change nothing\n"
"      --guard-http URL  revert the fault when URL stops answering 2xx/3xx (repeatable)\n"
"      --guard-tcp HOST:PORT  revert it when a TCP connect to HOST:PORT fails\n"
"      --guard-prom 'QUERY<MAX'  revert it when the Prometheus query's value leaves the\n"
"                        bound ('QUERY>MIN' for a floor); server: --prometheus URL or\n"
"                        $NETFAULTCTL_PROMETHEUS_URL\n"
"      --guard-interval D  probe every D (default 1s); --guard-failures N failed rounds in a\n"
"                        row abort (default 3); --guard-all aborts every fault of the namespace\n"
"      --hold            keep running and renew a short lease (--lease, default 15s) every\n"
"                        lease/3; Ctrl-C reverts everywhere; if netfaultctl dies, the\n"
"                        leases expire and every daemon reverts on its own\n"
"\n"
"Connection options:\n"
"  -e, --endpoint URL    http(s)://HOST:PORT or unix:/PATH; repeat for a fleet\n"
"      --endpoints-file F one endpoint a line ('#' comments)\n"
"                        default: $NETFAULTCTL_ENDPOINT, else http://127.0.0.1:9700\n"
"      --token-file F    bearer token: a bare secret, or the daemon's NAME ROLE SECRET lines\n"
"                        (the first write token, or --token-name NAME)\n"
"      --cacert F        CA for https endpoints; --cert F --key F: a client certificate (mTLS)\n"
"      --timeout SECONDS per request (default 30)\n"
"  -o, --output table|json  tables with units (default), or the servers' JSON for scripts\n"
"                        (one endpoint: its body as is; several: {\"results\":[...]})\n"
"  -q, --quiet           no per-endpoint progress on stderr\n"
"\n"
"Exit codes:\n"
"  0  done everywhere\n"
"  1  a server refused (its error code, field and message are printed); for a fleet, the\n"
"     endpoints that had applied the fault were reverted\n"
"  2  usage: a bad command line, option value or file\n"
"  3  an endpoint could not be reached (connection, TLS or timeout) and none refused\n"
"  130, 143, 129  interrupted (SIGINT, SIGTERM, SIGHUP) while a fault was being created: what\n"
"     was applied anywhere is reverted (endpoints still silent get 5s more to answer; a\n"
"     second signal stops waiting, and a fault a silent one applies later ends at its --for)\n";

enum {
        OPT_EXCLUDE = 256, OPT_LOCAL_PORT, OPT_PROTOCOL, OPT_INGRESS, OPT_BOTH, OPT_JITTER, OPT_DISTRIBUTION,
        OPT_CORRELATION, OPT_NAME, OPT_FOR, OPT_LEASE, OPT_POD, OPT_ACP, OPT_HOLD, OPT_ENDPOINTS_FILE,
        OPT_TOKEN_FILE, OPT_TOKEN_NAME, OPT_CACERT, OPT_CERT, OPT_KEY, OPT_TIMEOUT, OPT_ALL, OPT_INTERVAL,
        OPT_COUNT, OPT_VERSION, OPT_GUARD_HTTP, OPT_GUARD_TCP, OPT_GUARD_PROM, OPT_PROMETHEUS, OPT_GUARD_INTERVAL,
        OPT_GUARD_FAILURES, OPT_GUARD_ALL, OPT_FLOWS,
};

static const struct option long_opts[] = {
        {"to", required_argument, NULL, 't'}, {"exclude", required_argument, NULL, OPT_EXCLUDE},
        {"port", required_argument, NULL, 'p'}, {"local-port", required_argument, NULL, OPT_LOCAL_PORT},
        {"protocol", required_argument, NULL, OPT_PROTOCOL}, {"ingress", no_argument, NULL, OPT_INGRESS},
        {"both", no_argument, NULL, OPT_BOTH}, {"interface", required_argument, NULL, 'i'},
        {"jitter", required_argument, NULL, OPT_JITTER}, {"distribution", required_argument, NULL, OPT_DISTRIBUTION},
        {"correlation", required_argument, NULL, OPT_CORRELATION}, {"name", required_argument, NULL, OPT_NAME},
        {"for", required_argument, NULL, OPT_FOR}, {"lease", required_argument, NULL, OPT_LEASE},
        {"pod", required_argument, NULL, OPT_POD}, {"allow-control-plane", no_argument, NULL, OPT_ACP},
        {"dry-run", no_argument, NULL, 'n'}, {"hold", no_argument, NULL, OPT_HOLD},
        {"file", required_argument, NULL, 'f'}, {"endpoint", required_argument, NULL, 'e'},
        {"endpoints-file", required_argument, NULL, OPT_ENDPOINTS_FILE},
        {"token-file", required_argument, NULL, OPT_TOKEN_FILE}, {"token-name", required_argument, NULL, OPT_TOKEN_NAME},
        {"cacert", required_argument, NULL, OPT_CACERT}, {"cert", required_argument, NULL, OPT_CERT},
        {"key", required_argument, NULL, OPT_KEY}, {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"output", required_argument, NULL, 'o'}, {"quiet", no_argument, NULL, 'q'},
        {"all", no_argument, NULL, OPT_ALL}, {"interval", required_argument, NULL, OPT_INTERVAL},
        {"count", required_argument, NULL, OPT_COUNT}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION}, {"guard-http", required_argument, NULL, OPT_GUARD_HTTP},
        {"guard-tcp", required_argument, NULL, OPT_GUARD_TCP}, {"guard-prom", required_argument, NULL, OPT_GUARD_PROM},
        {"prometheus", required_argument, NULL, OPT_PROMETHEUS},
        {"guard-interval", required_argument, NULL, OPT_GUARD_INTERVAL},
        {"guard-failures", required_argument, NULL, OPT_GUARD_FAILURES}, {"guard-all", no_argument, NULL, OPT_GUARD_ALL},
        {"flows", required_argument, NULL, OPT_FLOWS},
        {NULL, 0, NULL, 0},
};

static int bad(const char *opt, const char *value, const char *want)
{
        fprintf(stderr, "netfaultctl: %s '%s': %s (netfaultctl --help)\n", opt, value, want);
        return NFC_EXIT_USAGE;
}

/* --to a,b --to c: each comma-separated item becomes one array element; ports as numbers. */
static void add_items(cJSON **arr, const char *value, int ports)
{
        if (!*arr)
                *arr = cJSON_CreateArray();
        char *copy = strdup(value), *save = NULL;
        for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
                char *end;
                long v = strtol(s, &end, 10);
                if (ports && !*end && end != s)
                        cJSON_AddItemToArray(*arr, cJSON_CreateNumber((double)v));
                else
                        cJSON_AddItemToArray(*arr, cJSON_CreateString(s));
        }
        free(copy);
}

static int seconds_opt(const char *opt, const char *value, long *out)
{
        double s = nfc_parse_duration(value, 1);
        if (s < 1 || s > 1e9)
                return bad(opt, value, "want a duration of at least 1s (90s, 10m, 1h)");
        *out = (long)(s + 0.5);
        return 0;
}

static int parse_options(struct nfc_opts *o, int argc, char **argv)
{
        char err[512];
        const char *token_file = NULL, *token_name = NULL;
        int c, rc = 0;
        double v;
        while (rc == 0 && (c = getopt_long(argc, argv, "t:p:i:nf:e:o:qh", long_opts, NULL)) != -1) {
                switch (c) {
                case 't': add_items(&o->targets, optarg, 0); break;
                case OPT_EXCLUDE: add_items(&o->exclude, optarg, 0); break;
                case 'p': add_items(&o->ports, optarg, 1); break;
                case OPT_LOCAL_PORT: add_items(&o->local_ports, optarg, 1); break;
                case 'i': add_items(&o->interfaces, optarg, 0); break;
                case OPT_PROTOCOL: o->protocol = optarg; break;
                case OPT_INGRESS: o->direction = "ingress"; break;
                case OPT_BOTH: o->direction = "both"; break;
                case OPT_DISTRIBUTION: o->distribution = optarg; break;
                case OPT_NAME: o->name = optarg; break;
                case OPT_POD: o->pod = optarg; break;
                case OPT_ACP: o->allow_control_plane = 1; break;
                case 'n': o->dry_run = 1; break;
                case OPT_HOLD: o->hold = 1; break;
                case 'f': o->file = optarg; break;
                case OPT_ALL: o->all = 1; break;
                case 'q': o->conn.progress = -1; break;
                case OPT_JITTER:
                        if ((v = nfc_parse_duration(optarg, 0.001)) < 0)
                                return bad("--jitter", optarg, "want a duration (30ms)");
                        o->jitter_ms = v * 1000, o->has_jitter = 1;
                        break;
                case OPT_CORRELATION: {
                        char *end;
                        o->correlation = strtod(optarg, &end), o->has_correlation = 1;
                        if (end == optarg || (*end && strcmp(end, "%") != 0))
                                return bad("--correlation", optarg, "want a percentage");
                        break;
                }
                case OPT_FLOWS: {
                        /* The daemon names the field when the value is out of range; only the form is ours. */
                        char *end;
                        o->flows_pct = strtod(optarg, &end);
                        if (end == optarg || (*end && strcmp(end, "%") != 0) || o->flows_pct <= 0)
                                return bad("--flows", optarg, "want a percentage of flows (30%)");
                        break;
                }
                case OPT_FOR: rc = seconds_opt("--for", optarg, &o->for_s); break;
                case OPT_LEASE: rc = seconds_opt("--lease", optarg, &o->lease_s); break;
                case OPT_TIMEOUT: rc = seconds_opt("--timeout", optarg, &o->conn.timeout_s); break;
                case OPT_INTERVAL:
                        if ((o->interval_s = nfc_parse_duration(optarg, 1)) < 0.1)
                                return bad("--interval", optarg, "want a duration of at least 100ms");
                        break;
                case OPT_GUARD_HTTP:
                case OPT_GUARD_TCP:
                case OPT_GUARD_PROM:
                        if (nfc_guard_probe(o, c == OPT_GUARD_HTTP ? "http" : c == OPT_GUARD_TCP ? "tcp" : "prometheus", optarg,
                                            err, sizeof(err)) < 0)
                                return bad(c == OPT_GUARD_HTTP ? "--guard-http" : c == OPT_GUARD_TCP ? "--guard-tcp" : "--guard-prom",
                                           optarg, err);
                        break;
                case OPT_PROMETHEUS: o->prometheus_url = optarg; break;
                case OPT_GUARD_INTERVAL:
                        if ((o->guard_interval_s = nfc_parse_duration(optarg, 1)) < 0.1)
                                return bad("--guard-interval", optarg, "want a duration of at least 100ms");
                        break;
                case OPT_GUARD_FAILURES:
                        if ((o->guard_failures = strtol(optarg, NULL, 10)) < 1 || o->guard_failures > 100)
                                return bad("--guard-failures", optarg, "want 1 to 100 failed rounds in a row");
                        break;
                case OPT_GUARD_ALL: o->guard_scope_all = 1; break;
                case OPT_COUNT:
                        if ((o->count = strtol(optarg, NULL, 10)) < 1)
                                return bad("--count", optarg, "want a number of rounds");
                        break;
                case 'e':
                        if (o->conn.n_endpoints == NFC_MAX_ENDPOINTS)
                                return bad("--endpoint", optarg, "too many endpoints");
                        o->conn.endpoints[o->conn.n_endpoints++] = optarg;
                        break;
                case OPT_ENDPOINTS_FILE:
                        if (nfc_endpoints_load(&o->conn, optarg, err, sizeof(err)) < 0)
                                return bad("--endpoints-file", optarg, err);
                        break;
                case OPT_TOKEN_FILE: token_file = optarg; break;
                case OPT_TOKEN_NAME: token_name = optarg; break;
                case OPT_CACERT: o->conn.cacert = optarg; break;
                case OPT_CERT: o->conn.cert = optarg; break;
                case OPT_KEY: o->conn.key = optarg; break;
                case 'o':
                        if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0)
                                return bad("-o", optarg, "want table or json");
                        o->json = strcmp(optarg, "json") == 0;
                        break;
                case 'h': fputs(usage_text, stdout); exit(0);
                case OPT_VERSION: puts("netfaultctl " NETFAULTD_VERSION); exit(0);
                default: return NFC_EXIT_USAGE;
                }
        }
        if (rc)
                return rc;
        if (token_name && !token_file)
                return bad("--token-name", token_name, "needs --token-file");
        if (token_file && nfc_token_load(&o->conn, token_file, token_name, err, sizeof(err)) < 0)
                return bad("--token-file", token_file, err);
        if (o->conn.n_endpoints == 0) {
                const char *env = getenv("NETFAULTCTL_ENDPOINT");
                o->conn.endpoints[o->conn.n_endpoints++] = env && *env ? env : "http://127.0.0.1:9700";
        }
        /* progress lines are for fleets (and can be silenced) */
        o->conn.progress = o->conn.progress == 0 && o->conn.n_endpoints > 1;
        return 0;
}

static int dispatch(struct nfc_opts *o, int argc, char **argv)
{
        if (argc < 1) {
                fputs(usage_text, stderr);
                return NFC_EXIT_USAGE;
        }
        const char *cmd = argv[0];
        static const char *const fault_cmds[] = {"delay", "loss", "duplicate", "corrupt", "blackhole", "apply"};
        for (size_t i = 0; i < sizeof(fault_cmds) / sizeof(fault_cmds[0]); i++)
                if (strcmp(cmd, fault_cmds[i]) == 0)
                        return nfc_cmd_fault(o, cmd, argc - 1, argv + 1);
        int nargs = strcmp(cmd, "show") == 0 || strcmp(cmd, "renew") == 0 ? 1 : strcmp(cmd, "revert") == 0 ? -1 : 0;
        if ((nargs >= 0 && argc - 1 != nargs) || (nargs < 0 && argc > 2)) {
                fprintf(stderr, "netfaultctl: %s: wrong number of arguments (netfaultctl --help)\n", cmd);
                return NFC_EXIT_USAGE;
        }
        if (strcmp(cmd, "list") == 0)
                return nfc_cmd_list(o);
        if (strcmp(cmd, "show") == 0)
                return nfc_cmd_show(o, argv[1]);
        if (strcmp(cmd, "revert") == 0)
                return nfc_cmd_revert(o, argc > 1 ? argv[1] : NULL);
        if (strcmp(cmd, "renew") == 0)
                return nfc_cmd_renew(o, argv[1]);
        if (strcmp(cmd, "watch") == 0)
                return nfc_cmd_watch(o);
        if (strcmp(cmd, "caps") == 0 || strcmp(cmd, "health") == 0 || strcmp(cmd, "pods") == 0)
                return nfc_cmd_get(o, cmd);
        fprintf(stderr, "netfaultctl: unknown command '%s' (netfaultctl --help)\n", cmd);
        return NFC_EXIT_USAGE;
}

int main(int argc, char **argv)
{
        struct nfc_opts o;
        memset(&o, 0, sizeof(o));
        int rc = parse_options(&o, argc, argv);
        if (rc == 0) {
                if (nfc_client_init() < 0) {
                        fprintf(stderr, "netfaultctl: libcurl did not initialise\n");
                        rc = NFC_EXIT_UNREACHABLE;
                } else {
                        rc = dispatch(&o, argc - optind, argv + optind);
                        nfc_client_fini();
                }
        }
        cJSON *arrays[] = {o.targets, o.exclude, o.ports, o.local_ports, o.interfaces, o.guard_probes};
        for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
                cJSON_Delete(arrays[i]);
        nfc_conn_fini(&o.conn);
        return rc;
}
