/* The audit lines of fault state changes (issue 14), as the core's event hook reports them to
 * the surface (api/observe.c): created, renewed, reverted with each reason, one JSON line each,
 * in order, appended to --audit-log. The registry's calls of the hook need a kernel that applies
 * faults (the lab); here the hook is driven with a validated fault. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/audit.h"
#include "api/observe.h"
#include "core/spec_json.h"
#include "tap.h"

int main(void) {
        char path[] = "/tmp/nf-audit-XXXXXX", err[256];
        int fd = mkstemp(path);
        struct nf_validate_limits lim = {.max_duration_s = 600, .default_duration_s = 60};
        struct nf_fault f = {.id = "f-0123456789ab", .created_ms = 1800000000000, .expires_ms = 1800000600000};
        struct nf_err e;
        cJSON *root = cJSON_Parse("{\"name\":\"payments-slow\",\"targets\":[\"10.0.0.1\",\"10.0.0.2\",\"10.2.0.0/24\","
                                  "\"10.1.0.0/16\",\"fd00::/64\"],\"delay\":{\"ms\":300},\"direction\":\"both\"}");
        close(fd);
        tap_ok(nf_validate_fault(root, &lim, &f.spec, &e) == 0, "a fault spec validates");
        cJSON_Delete(root);
        tap_ok(nf_audit_open(path, err, sizeof(err)) == 0, "--audit-log opens");
        static const char *const whys[] = {"expired", "lease not renewed", "deleted by request", "shutdown", "pod gone"};
        struct nf_fault_event_info ev = {.what = NF_FAULT_CREATED, .took_us = 1500};
        nf_observe_fault_event(NULL, &f, &ev);
        ev = (struct nf_fault_event_info){.what = NF_FAULT_RENEWED};
        f.lease_expires_ms = 1800000030000;
        nf_observe_fault_event(NULL, &f, &ev);
        ev = (struct nf_fault_event_info){.what = NF_FAULT_RESOLVED, .why = "x.example", .result = "changed"};
        nf_observe_fault_event(NULL, &f, &ev); /* counted, not audited */
        for (size_t i = 0; i < 5; i++) {
                ev = (struct nf_fault_event_info){.what = NF_FAULT_REVERTED, .why = whys[i], .took_us = 800};
                nf_observe_fault_event(NULL, &f, &ev);
        }
        nf_audit_close();
        nf_spec_free(&f.spec);

        static const char *const want[][2] = {{"fault.created", NULL},  {"fault.renewed", NULL},  {"fault.reverted", "expired"},
                                              {"fault.reverted", "lease"}, {"fault.reverted", "deleted"},
                                              {"fault.reverted", "shutdown"}, {"fault.reverted", "pod_gone"}};
        FILE *in = fopen(path, "r");
        char line[4096];
        size_t n = 0;
        while (in && fgets(line, sizeof(line), in)) {
                cJSON *o = cJSON_Parse(line);
                const cJSON *a = cJSON_GetObjectItem(o, "audit"), *r = cJSON_GetObjectItem(o, "reason"),
                            *fo = cJSON_GetObjectItem(o, "fault");
                const cJSON *tg = cJSON_GetObjectItem(fo, "targets");
                tap_ok(o != NULL, "line %zu is JSON", n + 1);
                if (n < 7) {
                        tap_ok(cJSON_IsString(a) && strcmp(a->valuestring, want[n][0]) == 0, "line %zu is %s", n + 1, want[n][0]);
                        tap_ok(!want[n][1] || (cJSON_IsString(r) && strcmp(r->valuestring, want[n][1]) == 0),
                               "line %zu: reason %s", n + 1, want[n][1] ? want[n][1] : "none");
                }
                tap_ok(strcmp(cJSON_GetObjectItem(fo, "id")->valuestring, "f-0123456789ab") == 0 &&
                               strcmp(cJSON_GetObjectItem(fo, "name")->valuestring, "payments-slow") == 0,
                       "line %zu names the fault's id and name", n + 1);
                tap_ok(cJSON_GetObjectItem(tg, "count")->valueint == 5 && cJSON_GetArraySize(cJSON_GetObjectItem(tg, "first")) == 3,
                       "line %zu summarises the 5 targets (3 shown)", n + 1);
                tap_ok(cJSON_GetObjectItem(cJSON_GetObjectItem(fo, "effects"), "delay") != NULL, "line %zu names the effect", n + 1);
                cJSON_Delete(o);
                n++;
        }
        if (in)
                fclose(in);
        tap_is_int(n, 7, "7 lines: created, renewed, 5 reverts (a re-resolution is no line)");
        unlink(path);
        printf("1..%d\n", tap_n);
        return tap_failed != 0;
}
