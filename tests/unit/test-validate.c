/* The validation ladder: every field, every kind of bad value, each refusal naming the field. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api/errors.h"
#include "api/request.h"
#include "core/spec_json.h"
#include "tap.h"

static const struct nf_validate_limits LIM = {.max_duration_s = 3600, .default_duration_s = 300};

struct bad_case {
        const char *json;
        int http;
        const char *field;
        const char *in_message; /* substring the message must contain */
};

static const struct bad_case bad[] = {
        /* shape */
        {"[]", 400, "", "JSON object"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"bogus\":1}", 400, "bogus", "unknown field"},
        {"{\"delay\":{\"ms\":1}}", 400, "targets", "required"},
        {"{\"targets\":[],\"delay\":{\"ms\":1}}", 400, "targets", "at least one"},
        {"{\"targets\":\"10.0.0.1\",\"delay\":{\"ms\":1}}", 400, "targets", "expected an array"},
        {"{\"targets\":[\"10.0.0.1\",\"10.0.0.300\"],\"delay\":{\"ms\":1}}", 400, "targets[1]", "'10.0.0.300'"},
        {"{\"targets\":[\"10.0.0.1\",7],\"delay\":{\"ms\":1}}", 400, "targets[1]", "7 is not"},
        {"{\"targets\":[\"10.0.0.1\"],\"exclude\":[\"nope\"],\"delay\":{\"ms\":1}}", 400, "exclude[0]", "'nope'"},
        {"{\"targets\":[\"10.0.0.1\"],\"exclude\":{},\"delay\":{\"ms\":1}}", 400, "exclude", "expected an array"},
        /* netns: exactly one of pod_uid, container_id, pid, path, host */
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"netns\":\"pod\"}", 400, "netns", "an object"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"netns\":{}}", 400, "netns", "exactly one"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"netns\":{\"pid\":1,\"host\":true}}", 400, "netns", "exactly one"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"netns\":{\"pod\":\"x\"}}", 400, "netns.pod", "unknown field"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"netns\":{\"host\":false}}", 400, "netns.host", "leave netns out"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"netns\":{\"pid\":0}}", 400, "netns.pid", "0 is out of range"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"netns\":{\"pid\":\"42\"}}", 400, "netns.pid", "'42'"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"netns\":{\"pod_uid\":\"6B2C-NOPE\"}}", 400, "netns.pod_uid", "pod uid"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"netns\":{\"container_id\":\"3f9a6c0d\"}}", 400, "netns.container_id", "at least 12"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"netns\":{\"container_id\":\"3f9a6c0de1b2zz\"}}", 400, "netns.container_id", "hex"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"netns\":{\"path\":\"var/run/netns/x\"}}", 400, "netns.path", "absolute path"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"netns\":{\"path\":\"/var/run/netns/../../etc/x\"}}", 400, "netns.path", "absolute path"},
        /* protocol and ports */
        {"{\"targets\":[\"10.0.0.1\"],\"protocol\":\"sctp\",\"delay\":{\"ms\":1}}", 400, "protocol", "'sctp' is not one of all, tcp, udp, icmp"},
        {"{\"targets\":[\"10.0.0.1\"],\"protocol\":6,\"delay\":{\"ms\":1}}", 400, "protocol", "6 is not one of"},
        {"{\"targets\":[\"10.0.0.1\"],\"ports\":[80],\"delay\":{\"ms\":1}}", 400, "ports", "protocol"},
        {"{\"targets\":[\"10.0.0.1\"],\"protocol\":\"icmp\",\"ports\":[80],\"delay\":{\"ms\":1}}", 400, "ports", "icmp"},
        {"{\"targets\":[\"10.0.0.1\"],\"protocol\":\"tcp\",\"ports\":[0],\"delay\":{\"ms\":1}}", 400, "ports[0]", "0 is not a port"},
        {"{\"targets\":[\"10.0.0.1\"],\"protocol\":\"tcp\",\"ports\":[65536],\"delay\":{\"ms\":1}}", 400, "ports[0]", "65536"},
        {"{\"targets\":[\"10.0.0.1\"],\"protocol\":\"tcp\",\"ports\":[80.5],\"delay\":{\"ms\":1}}", 400, "ports[0]", "80.5"},
        {"{\"targets\":[\"10.0.0.1\"],\"protocol\":\"tcp\",\"ports\":[\"2000-1000\"],\"delay\":{\"ms\":1}}", 400, "ports[0]", "'2000-1000'"},
        {"{\"targets\":[\"10.0.0.1\"],\"protocol\":\"tcp\",\"ports\":[\"http\"],\"delay\":{\"ms\":1}}", 400, "ports[0]", "'http'"},
        {"{\"targets\":[\"10.0.0.1\"],\"protocol\":\"tcp\",\"ports\":[],\"delay\":{\"ms\":1}}", 400, "ports", "1 to"},
        /* interfaces and direction */
        {"{\"targets\":[\"10.0.0.1\"],\"interfaces\":[\"eth0/x\"],\"delay\":{\"ms\":1}}", 400, "interfaces[0]", "'eth0/x'"},
        {"{\"targets\":[\"10.0.0.1\"],\"interfaces\":[\"averyveryverylongname\"],\"delay\":{\"ms\":1}}", 400, "interfaces[0]", "not an interface"},
        {"{\"targets\":[\"10.0.0.1\"],\"interfaces\":[\"eth0\",\"eth0\"],\"delay\":{\"ms\":1}}", 400, "interfaces[1]", "twice"},
        {"{\"targets\":[\"10.0.0.1\"],\"interfaces\":[],\"delay\":{\"ms\":1}}", 400, "interfaces", "1 to"},
        {"{\"targets\":[\"10.0.0.1\"],\"direction\":\"sideways\",\"delay\":{\"ms\":1}}", 400, "direction", "'sideways'"},
        /* an enum's placeholder entry is neither a choice nor listed (issue 11, row 19) */
        {"{\"targets\":[\"10.0.0.1\"],\"direction\":\"\",\"delay\":{\"ms\":1}}", 400, "direction", "'' is not one of egress, ingress, both"},
        {"{\"targets\":[\"10.0.0.1\"],\"direction\":\"x\",\"delay\":{\"ms\":1}}", 400, "direction", "'x' is not one of egress, ingress, both"},
        /* effects */
        {"{\"targets\":[\"10.0.0.1\"]}", 400, "delay", "no effect"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{}}", 400, "delay.ms", "required"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":100}", 400, "delay", "expected an object"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":\"100\"}}", 400, "delay.ms", "expected a number, got '100'"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":-1}}", 400, "delay.ms", "-1 is out of range"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":60001}}", 400, "delay.ms", "60001"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":10,\"jitter_ms\":3000}}", 400, "delay.jitter_ms", "3000"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":10,\"correlation\":101}}", 400, "delay.correlation", "101"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":10,\"jitter_ms\":1,\"distribution\":\"gauss\"}}", 400, "delay.distribution", "'gauss'"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":10,\"distribution\":\"normal\"}}", 400, "delay.distribution", "jitter_ms"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":10,\"extra\":1}}", 400, "delay.extra", "unknown field"},
        {"{\"targets\":[\"10.0.0.1\"],\"loss\":{\"percent\":101}}", 400, "loss.percent", "101"},
        {"{\"targets\":[\"10.0.0.1\"],\"loss\":{}}", 400, "loss.percent", "required"},
        {"{\"targets\":[\"10.0.0.1\"],\"loss\":{\"percent\":5,\"correlation\":-3}}", 400, "loss.correlation", "-3"},
        {"{\"targets\":[\"10.0.0.1\"],\"duplicate\":{\"percent\":true}}", 400, "duplicate.percent", "a boolean"},
        {"{\"targets\":[\"10.0.0.1\"],\"corrupt\":{\"percent\":200}}", 400, "corrupt.percent", "200"},
        {"{\"targets\":[\"10.0.0.1\"],\"reorder\":{\"percent\":10}}", 400, "reorder", "delay"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":0},\"reorder\":{\"percent\":10}}", 400, "reorder", "delay"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":10},\"reorder\":{\"percent\":10,\"gap\":-1}}", 400, "reorder.gap", "-1"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":10},\"reorder\":{\"percent\":10,\"gap\":1.5}}", 400, "reorder.gap", "whole number"},
        {"{\"targets\":[\"10.0.0.1\"],\"rate\":{\"kbit\":0}}", 400, "rate.kbit", "0 is out of range"},
        {"{\"targets\":[\"10.0.0.1\"],\"rate\":{\"mbit\":1}}", 400, "rate.mbit", "unknown field"},
        {"{\"targets\":[\"10.0.0.1\"],\"limit\":0}", 400, "limit", "0 is out of range"},
        {"{\"targets\":[\"10.0.0.1\"],\"blackhole\":\"yes\"}", 400, "blackhole", "'yes'"},
        {"{\"targets\":[\"10.0.0.1\"],\"blackhole\":true,\"delay\":{\"ms\":5}}", 400, "blackhole", "cannot be combined"},
        {"{\"targets\":[\"10.0.0.1\"],\"blackhole\":false}", 400, "delay", "no effect"},
        /* local ports, lease, control plane */
        {"{\"targets\":[\"10.0.0.1\"],\"local_ports\":[8080],\"blackhole\":true}", 400, "local_ports", "protocol"},
        {"{\"targets\":[\"10.0.0.1\"],\"protocol\":\"tcp\",\"local_ports\":[\"x\"],\"blackhole\":true}", 400, "local_ports[0]", "'x'"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"lease_s\":0}", 400, "lease_s", "0 is out of range"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"flows_percent\":0}", 400, "flows_percent", "0 is out of range"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"flows_percent\":101}", 400, "flows_percent", "101 is out of range"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"flows_percent\":\"30\"}", 400, "flows_percent", "flows_percent"},
        {"{\"targets\":[\"10.0.0.1\"],\"blackhole\":true,\"flows_percent\":30}", 400, "flows_percent", "a blackhole drops every"},
        {"{\"targets\":[\"10.0.0.1\"],\"rate\":{\"kbit\":100},\"flows_percent\":30}", 400, "flows_percent", "cannot go with rate"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"duration_s\":60,\"lease_s\":61}", 400, "lease_s", "longer than duration_s"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"allow_control_plane\":1}", 400, "allow_control_plane", "expected true or false"},
        /* name, duration */
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"name\":5}", 400, "name", "5 is not a printable"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", 400, "name", "at most 64"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"duration_s\":0}", 400, "duration_s", "0 is out of range 1..3600"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"duration_s\":3601}", 400, "duration_s", "3601"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"duration_s\":\"60\"}", 400, "duration_s", "expected a number"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"duration_s\":1.5}", 400, "duration_s", "whole number"},
        /* a key given twice, at any level, is refused rather than "first wins" (issue 11, row 14) */
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"targets\":[\"10.0.0.2\"]}", 400, "targets", "more than once"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1,\"jitter_ms\":2,\"ms\":500}}", 400, "delay.ms", "more than once"},
        {"{\"targets\":[\"10.0.0.1\"],\"blackhole\":true,\"name\":\"a\",\"name\":\"b\"}", 400, "name", "more than once"},
        {"{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"name\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":1}}}}}}}}", 400, "", "deeper"},
};

static void check_bad(const struct bad_case *c) {
        cJSON *root = cJSON_Parse(c->json);
        struct nf_spec s;
        struct nf_err e = {0};
        int r = nf_validate_fault(root, &LIM, &s, &e);
        int ok = r < 0 && nf_http_status(e.kind) == c->http && strcmp(e.field, c->field) == 0 && strstr(e.message, c->in_message);
        tap_ok(ok, "refuses %s -> %d %s", c->json, c->http, c->field[0] ? c->field : "(no field)");
        if (!ok)
                printf("#   got r=%d http=%d field='%s' message='%s'\n", r, nf_http_status(e.kind), e.field, e.message);
        if (r == 0)
                nf_spec_free(&s);
        cJSON_Delete(root);
}

static int accept_json(const char *json, struct nf_spec *s) {
        cJSON *root = cJSON_Parse(json);
        struct nf_err e = {0};
        int r = nf_validate_fault(root, &LIM, s, &e);
        if (r < 0)
                printf("#   refused: %s\n", e.message);
        cJSON_Delete(root);
        return r;
}

/* The body parser: exactly one JSON value, UTF-8, no raw control bytes, no \u0000 (row 14). */
struct strict_case {
        const char *body;
        size_t len; /* 0: strlen */
        const char *in_message; /* NULL: accepted */
};

static void check_strict(void) {
        static const struct strict_case cases[] = {
                {"{\"a\":1}", 0, NULL},
                {" \r\n\t{\"a\":[1,2]} \n", 0, NULL},
                {"{\"name\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}", 0, NULL},
                {"{\"a\":\"\\u00e9\\ud83d\\ude00\\\\u0000\"}", 0, NULL}, /* an escaped backslash, then text */
                {"{\"a\":1}{\"b\":2}", 0, "after the JSON value, at byte 7"},
                {"{\"a\":1} x", 0, "after the JSON value, at byte 8"},
                {"{\"a\":1}\n\n]", 0, "after the JSON value"},
                {"{\"a\":\"10.0.0.1\0zzz\"}", 19, "raw control byte 0x00 at byte 14"},
                {"{\"a\":1}\0", 8, "raw control byte 0x00 at byte 7"},
                {"{\"a\":\"x\x01y\"}", 0, "raw control byte 0x01"},
                {"{\"a\":\x0b" "1}", 0, "raw control byte 0x0b"}, /* cJSON would take it as whitespace */
                {"{\"a\":\"10.0.0.1\\u0000zzz\"}", 0, "\\u0000 at byte 14"},
                {"{\"a\\u0000b\":1}", 0, "\\u0000"},
                {"{\"name\":\"caf\xe9\"}", 0, "not valid UTF-8 (byte 12 is 0xe9)"},
                {"{\"name\":\"\xc0\xaf\"}", 0, "not valid UTF-8"},       /* overlong '/' */
                {"{\"name\":\"\xed\xa0\x80\"}", 0, "not valid UTF-8"},   /* a surrogate */
                {"{\"name\":\"\xf4\x90\x80\x80\"}", 0, "not valid UTF-8"}, /* above U+10FFFF */
                {"{\"name\":\"\xe2\x82\"}", 0, "not valid UTF-8"},       /* cut short */
                {"{\"name\":\"x\"}\xe2\x82", 0, "not valid UTF-8"},      /* cut short by the end */
                {"{\"a\":\"\\udc00\"}", 0, "not valid JSON"},            /* a lone low surrogate */
                {"{\"a\":", 0, "not valid JSON"},
                {"", 0, "not valid JSON"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                const struct strict_case *c = &cases[i];
                size_t len = c->len ? c->len : strlen(c->body);
                struct nf_err e = {0};
                /* A copy of exactly len bytes, so that ASan sees any read past the body. */
                char *copy = malloc(len ? len : 1);
                memcpy(copy, c->body, len);
                cJSON *j = nf_json_parse_strict(copy, len, &e);
                bool ok = c->in_message ? !j && nf_http_status(e.kind) == 400 && strcmp(e.code, "invalid_json") == 0 &&
                                                  strstr(e.message, c->in_message)
                                        : j != NULL;
                tap_ok(ok, "strict body %zu %s%s", i, c->in_message ? "refused: " : "accepted", c->in_message ? c->in_message : "");
                if (!ok)
                        printf("#   got %s: %s\n", j ? "accepted" : "refused", e.message);
                cJSON_Delete(j);
                free(copy);
        }
}

/* Query strings: only exact booleans, nothing unknown or repeated (row 1). */
static void check_query(void) {
        static const struct {
                const char *query;
                unsigned allowed;
                int dry_run; /* -1: refused */
                const char *field, *in_message;
        } cases[] = {
                {NULL, NF_QUERY_DRY_RUN, 0, NULL, NULL},
                {"", NF_QUERY_DRY_RUN, 0, NULL, NULL},
                {"dry_run=true", NF_QUERY_DRY_RUN, 1, NULL, NULL},
                {"dry_run=1", NF_QUERY_DRY_RUN, 1, NULL, NULL},
                {"dry_run=false", NF_QUERY_DRY_RUN, 0, NULL, NULL},
                {"dry_run=0", NF_QUERY_DRY_RUN, 0, NULL, NULL},
                {"dry%5Frun=%74rue", NF_QUERY_DRY_RUN, 1, NULL, NULL},
                {"dry_run=TRUE", NF_QUERY_DRY_RUN, -1, "dry_run", "'dry_run=TRUE'"},
                {"dry_run=yes", NF_QUERY_DRY_RUN, -1, "dry_run", "true or false"},
                {"dry_run", NF_QUERY_DRY_RUN, -1, "dry_run", "'dry_run'"},
                {"dry_run=", NF_QUERY_DRY_RUN, -1, "dry_run", "true or false"},
                {"dry_run=true ", NF_QUERY_DRY_RUN, -1, "dry_run", "true or false"},
                {"dry_run=%00true", NF_QUERY_DRY_RUN, -1, "dry_run", "true or false"},
                {"dry_run=false&dry_run=true", NF_QUERY_DRY_RUN, -1, "dry_run", "more than once"},
                {"dry_run=true&dry_run=true", NF_QUERY_DRY_RUN, -1, "dry_run", "more than once"},
                {"dry_run=true&", NF_QUERY_DRY_RUN, -1, "", "empty parameter"},
                {"dry_run=true&x=1", NF_QUERY_DRY_RUN, -1, "x", "'x=1' is not known"},
                {"DRY_RUN=true", NF_QUERY_DRY_RUN, -1, "DRY_RUN", "not known"},
                {"dry_run=true", 0, -1, "dry_run", "takes no parameters"},
                {"%zz=1", 0, -1, "", "not a parameter name"},
                {"%ff=1", 0, -1, "", "'%ff=1' is not a parameter name"},
                {"\xc3=1", 0, -1, "", "'\\xc3=1' is not a parameter name"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                struct nf_query q = {.dry_run = true};
                struct nf_err e = {0};
                int r = nf_query_parse(cases[i].query, cases[i].allowed, &q, &e);
                bool ok = cases[i].dry_run < 0 ? r < 0 && nf_http_status(e.kind) == 400 && strcmp(e.code, "invalid_query") == 0 &&
                                                         strcmp(e.field, cases[i].field) == 0 &&
                                                         strstr(e.message, cases[i].in_message)
                                               : r == 0 && q.dry_run == (cases[i].dry_run == 1);
                tap_ok(ok, "query '%s' -> %s", cases[i].query ? cases[i].query : "(none)",
                       cases[i].dry_run < 0 ? "400" : cases[i].dry_run ? "dry run" : "real");
                if (!ok)
                        printf("#   got r=%d dry_run=%d field='%s' message='%s'\n", r, q.dry_run, e.field, e.message);
        }
}

int main(void) {
        struct nf_spec s;

        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                check_bad(&bad[i]);

        tap_ok(accept_json("{\"targets\":[\"10.0.1.10\",\"10.0.1.10/32\",\"10.0.0.0/16\",\"fd00::1\"],\"delay\":{\"ms\":100,"
                      "\"jitter_ms\":10,\"correlation\":25,\"distribution\":\"normal\"}}",
                      &s) == 0,
               "accepts a full delay");
        tap_is_int(s.n_targets, 2, "targets normalised (contained and duplicate dropped)");
        tap_is_int(s.duration_s, 300, "default duration");
        tap_is_int(s.proto, NF_PROTO_ALL, "default protocol all");
        tap_is_int(s.direction, NF_DIR_EGRESS, "default direction egress");
        tap_ok(s.fx.has_delay && s.fx.delay_ms == 100 && s.fx.jitter_ms == 10 && s.fx.dist == NF_DIST_NORMAL, "delay fields");
        nf_spec_free(&s);

        tap_ok(accept_json("{\"targets\":[\"10.0.2.10\"],\"protocol\":\"tcp\",\"ports\":[8080,\"9000-9100\"],\"blackhole\":true,"
                      "\"duration_s\":60,\"name\":\"alb-8080\",\"interfaces\":[\"eth0\"],\"direction\":\"both\"}",
                      &s) == 0,
               "accepts a port-scoped blackhole");
        tap_ok(s.n_ports == 2 && s.ports[0].lo == 8080 && s.ports[0].hi == 8080 && s.ports[1].lo == 9000 &&
                       s.ports[1].hi == 9100,
               "ports and ranges");
        tap_ok(s.fx.blackhole && s.duration_s == 60 && strcmp(s.name, "alb-8080") == 0 && s.n_ifnames == 1 &&
                       s.direction == NF_DIR_BOTH,
               "blackhole, duration, name, interfaces, direction");
        nf_spec_free(&s);

        tap_ok(accept_json("{\"targets\":[\"10.0.0.0/8\"],\"exclude\":[\"10.1.0.0/16\"],\"loss\":{\"percent\":0.5},"
                      "\"duplicate\":{\"percent\":1},\"corrupt\":{\"percent\":0.1},\"rate\":{\"kbit\":1000},\"limit\":5000}",
                      &s) == 0,
               "accepts fractional loss with duplicate, corrupt, rate and limit");
        tap_ok(s.fx.loss_pct == 0.5 && s.fx.rate_kbit == 1000 && s.fx.limit == 5000 && s.n_exclude == 1,
               "loss, rate, limit, exclude fields");
        nf_spec_free(&s);

        tap_ok(accept_json("{\"targets\":[\"10.0.2.10\"],\"protocol\":\"tcp\",\"local_ports\":[8080],\"direction\":\"ingress\","
                           "\"blackhole\":true,\"lease_s\":30,\"allow_control_plane\":true}",
                           &s) == 0 &&
                       s.n_local_ports == 1 && s.local_ports[0].lo == 8080 && s.lease_s == 30 && s.allow_control_plane &&
                       s.direction == NF_DIR_INGRESS,
               "accepts local_ports, ingress, lease_s and allow_control_plane");
        nf_spec_free(&s);

        tap_ok(accept_json("{\"targets\":[\"10.0.2.10\"],\"loss\":{\"percent\":100},\"flows_percent\":30}", &s) == 0 &&
                       s.flows_percent == 30,
               "accepts flows_percent with loss");
        nf_spec_free(&s);
        tap_ok(accept_json("{\"targets\":[\"10.0.2.10\"],\"delay\":{\"ms\":5},\"flows_percent\":100}", &s) == 0 &&
                       s.flows_percent == 0,
               "flows_percent 100 means every packet, as without it");
        nf_spec_free(&s);

        /* The journal stores the compact spec and --on-start=resume validates it again: every
         * accepted spec must survive the round trip unchanged. */
        static const char *const round[] = {
                "{\"targets\":[\"10.0.0.0/8\",\"fd00::/64\"],\"exclude\":[\"10.1.0.0/16\"],\"delay\":{\"ms\":100,\"jitter_ms\":10,"
                "\"correlation\":25,\"distribution\":\"pareto\"},\"loss\":{\"percent\":0.5},\"limit\":5000,\"duration_s\":60}",
                "{\"targets\":[\"10.0.2.10\"],\"protocol\":\"udp\",\"ports\":[53,\"1000-2000\"],\"local_ports\":[5353],"
                "\"interfaces\":[\"eth0\"],\"direction\":\"both\",\"blackhole\":true,\"name\":\"dns\",\"lease_s\":10}",
                "{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":5},\"reorder\":{\"percent\":5,\"gap\":3},\"duplicate\":{\"percent\":1},"
                "\"corrupt\":{\"percent\":1},\"rate\":{\"kbit\":1000}}",
        };
        for (size_t i = 0; i < sizeof(round) / sizeof(*round); i++) {
                struct nf_spec a, b;
                int ok = accept_json(round[i], &a) == 0;
                cJSON *j = ok ? nf_spec_to_json(&a, true) : NULL;
                char *t1 = j ? cJSON_PrintUnformatted(j) : NULL;
                struct nf_err e = {0};
                ok = ok && j && nf_validate_fault(j, &LIM, &b, &e) == 0;
                cJSON *j2 = ok ? nf_spec_to_json(&b, true) : NULL;
                char *t2 = j2 ? cJSON_PrintUnformatted(j2) : NULL;
                tap_ok(ok && t1 && t2 && strcmp(t1, t2) == 0, "spec %zu survives the journal round trip", i);
                if (!ok)
                        printf("#   %s\n#   %s\n", t1 ? t1 : "", e.message);
                free(t1);
                free(t2);
                cJSON_Delete(j);
                cJSON_Delete(j2);
                if (ok) {
                        nf_spec_free(&a);
                        nf_spec_free(&b);
                }
        }

        /* -0 is taken as 0, so that the fault never echoes "-0" (issue 11, row 19) */
        tap_ok(accept_json("{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":-0,\"jitter_ms\":-0.0}}", &s) == 0 &&
                       !signbit(s.fx.delay_ms) && !signbit(s.fx.jitter_ms),
               "-0 is read as 0");
        {
                cJSON *j = nf_spec_to_json(&s, true);
                char *t = cJSON_PrintUnformatted(j);
                tap_ok(t && strstr(t, "\"ms\":0,") && !strstr(t, "-0"), "and rendered as 0: %s", t ? t : "");
                free(t);
                cJSON_Delete(j);
        }
        nf_spec_free(&s);

        /* netns round trip: what the journal stores validates as the same selector again. */
        static const char *const selectors[] = {"{\"pod_uid\":\"6b2c1d3e-0f4a-4b5c-8d9e-0a1b2c3d4e5f\"}",
                                                "{\"container_id\":\"containerd://3f9a6c0de1b2\"}", "{\"pid\":4242}",
                                                "{\"path\":\"/var/run/netns/cni-1234\"}", "{\"host\":true}"};
        static const enum nf_netns_kind kinds[] = {NF_NETNS_POD, NF_NETNS_CONTAINER, NF_NETNS_PID, NF_NETNS_PATH, NF_NETNS_HOST};
        for (size_t i = 0; i < sizeof(selectors) / sizeof(*selectors); i++) {
                char body[256];
                struct nf_spec again;
                snprintf(body, sizeof(body), "{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"netns\":%s}", selectors[i]);
                bool ok = accept_json(body, &s) == 0 && s.netns.kind == kinds[i];
                cJSON *j = ok ? nf_spec_to_json(&s, true) : NULL;
                struct nf_err e;
                ok = ok && nf_validate_fault(j, &LIM, &again, &e) == 0;
                tap_ok(ok && again.netns.kind == s.netns.kind && again.netns.pid == s.netns.pid &&
                               strcmp(again.netns.name, s.netns.name) == 0,
                       "netns %s is accepted and survives the journal's round trip", selectors[i]);
                if (ok)
                        nf_spec_free(&again);
                cJSON_Delete(j);
                nf_spec_free(&s);
        }
        tap_ok(accept_json("{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":1},\"netns\":{\"container_id\":\"cri-o://3f9a6c0de1b2\"}}",
                           &s) == 0 && strcmp(s.netns.name, "3f9a6c0de1b2") == 0,
               "a container id's runtime scheme is dropped");
        nf_spec_free(&s);

        check_strict();
        check_query();

        tap_ok(accept_json("{\"targets\":[\"10.0.0.1\"],\"delay\":{\"ms\":50},\"reorder\":{\"percent\":25,\"correlation\":50,"
                      "\"gap\":5}}",
                      &s) == 0 &&
                       s.fx.reorder_gap == 5,
               "accepts reorder with delay and gap");
        nf_spec_free(&s);
        return tap_done();
}
