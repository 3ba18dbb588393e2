#include "api/audit.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/connections.h"
#include "api/http.h"
#include "api/request.h"
#include "api/routes.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/spec_json.h"

#define TARGETS_SHOWN 3 /* a fault of 10,000 targets is summarised, not copied */

static int audit_fd = -1;
static unsigned long write_errors;

int nf_audit_open(const char *path, char *err, size_t errlen) {
        if (!path || !path[0])
                return 0;
        /* O_APPEND: each line is one write(), placed at the end whoever else appends. */
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0) {
                snprintf(err, errlen, "--audit-log %s: %s", path, strerror(errno));
                return -errno;
        }
        nf_audit_close();
        audit_fd = fd;
        return 0;
}

void nf_audit_close(void) {
        if (audit_fd >= 0)
                close(audit_fd);
        audit_fd = -1;
}

static void write_all(int fd, const char *s, size_t len) {
        while (len) {
                ssize_t w = write(fd, s, len);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        if (fd == audit_fd && write_errors++ % 100 == 0)
                                nf_log(NF_LOG_ERROR, "audit.write_failed", "cannot append to --audit-log: %s (%lu line(s) lost)",
                                       w < 0 ? strerror(errno) : "short write", write_errors);
                        return;
                }
                s += w;
                len -= (size_t)w;
        }
}

/* The line, once, on stderr and in the file; o is freed. */
static void emit(cJSON *o) {
        char *s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!s)
                return;
        size_t len = strlen(s);
        char *line = realloc(s, len + 2);
        if (!line) {
                free(s);
                return;
        }
        line[len] = '\n';
        line[len + 1] = '\0';
        fflush(stderr); /* after the log lines before it */
        write_all(STDERR_FILENO, line, len + 1);
        if (audit_fd >= 0)
                write_all(audit_fd, line, len + 1);
        free(line);
}

static cJSON *line_new(const char *what) {
        char ts[40];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "audit", what);
        cJSON_AddStringToObject(o, "ts", nf_format_time(nf_now_realtime_ms(), ts, sizeof(ts)));
        return o;
}

static void add_string_or_null(cJSON *o, const char *key, const char *v) {
        if (v && *v)
                cJSON_AddStringToObject(o, key, v);
        else
                cJSON_AddNullToObject(o, key);
}

/* {"count":N,"first":[...]} of a targets array. */
static cJSON *targets_summary(const cJSON *targets) {
        cJSON *o = cJSON_CreateObject(), *first = cJSON_CreateArray();
        int n = cJSON_IsArray(targets) ? cJSON_GetArraySize(targets) : 0;
        cJSON_AddNumberToObject(o, "count", n);
        for (int i = 0; i < n && i < TARGETS_SHOWN; i++) {
                const cJSON *t = cJSON_GetArrayItem(targets, i);
                if (cJSON_IsString(t))
                        cJSON_AddItemToArray(first, cJSON_CreateString(t->valuestring));
        }
        cJSON_AddItemToObject(o, "first", first);
        return o;
}

/* The effects of a fault spec as JSON (what it does, not where): each effect member as given,
 * and the direction. */
static cJSON *effects_summary(const cJSON *spec) {
        static const char *const keys[] = {"delay", "loss", "duplicate", "corrupt", "reorder", "rate", "limit", "blackhole",
                                           "direction"};
        cJSON *o = cJSON_CreateObject();
        for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec, keys[i]);
                if (v && !cJSON_IsNull(v) && !cJSON_IsFalse(v))
                        cJSON_AddItemToObject(o, keys[i], cJSON_Duplicate(v, true));
        }
        return o;
}

/* "fault": id, name, targets and effects, from a spec as JSON. */
static cJSON *fault_summary(const char *id, const char *name, const cJSON *spec) {
        cJSON *o = cJSON_CreateObject();
        add_string_or_null(o, "id", id);
        add_string_or_null(o, "name", name);
        cJSON_AddItemToObject(o, "targets", targets_summary(cJSON_GetObjectItemCaseSensitive(spec, "targets")));
        cJSON_AddItemToObject(o, "effects", effects_summary(spec));
        return o;
}

static cJSON *fault_of(const struct nf_fault *f) {
        cJSON *spec = nf_spec_to_json(&f->spec, false);
        cJSON *o = fault_summary(f->id, f->spec.name, spec);
        cJSON_Delete(spec);
        return o;
}

const char *nf_audit_reason(const char *why) {
        if (!why)
                return "other";
        if (strncmp(why, "deleted", 7) == 0)
                return "deleted";
        if (strcmp(why, "expired") == 0)
                return "expired";
        if (strncmp(why, "lease", 5) == 0)
                return "lease";
        if (strcmp(why, "shutdown") == 0)
                return "shutdown";
        if (strstr(why, "pod"))
                return "pod_gone";
        if (strncmp(why, "guard abort", 11) == 0)
                return "guard_abort";
        if (strstr(why, "guardian"))
                return "guardian";
        return "other";
}

void nf_audit_fault(const struct nf_fault *f, const struct nf_fault_event_info *ev) {
        static const char *const names[] = {[NF_FAULT_CREATED] = "fault.created", [NF_FAULT_RENEWED] = "fault.renewed",
                                            [NF_FAULT_REVERTED] = "fault.reverted",
                                            [NF_FAULT_REVERT_FAILED] = "fault.revert_failed"};
        char t[40];
        if (ev->what == NF_FAULT_RESOLVED || (unsigned)ev->what >= sizeof(names) / sizeof(*names))
                return;
        cJSON *o = line_new(names[ev->what]);
        cJSON_AddItemToObject(o, "fault", fault_of(f));
        if (ev->what == NF_FAULT_REVERTED || ev->what == NF_FAULT_REVERT_FAILED) {
                cJSON_AddStringToObject(o, "reason", nf_audit_reason(ev->why));
                add_string_or_null(o, "why", ev->why);
        }
        if (ev->what != NF_FAULT_RENEWED)
                cJSON_AddNumberToObject(o, "kernel_ms", (double)ev->took_us / 1000.0);
        cJSON_AddStringToObject(o, "created_at", nf_format_time(f->created_ms, t, sizeof(t)));
        cJSON_AddStringToObject(o, "expires_at", nf_format_time(f->expires_ms, t, sizeof(t)));
        if (f->lease_expires_ms)
                cJSON_AddStringToObject(o, "lease_expires_at", nf_format_time(f->lease_expires_ms, t, sizeof(t)));
        emit(o);
}

int nf_audit_file_fd(void) {
        return audit_fd;
}

void nf_audit_swept(const char *id, const cJSON *spec, int64_t created_ms, int64_t expires_ms) {
        char t[40];
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(spec, "name");
        cJSON *o = line_new("fault.reverted");
        cJSON_AddItemToObject(o, "fault", fault_summary(id, cJSON_IsString(name) ? name->valuestring : NULL, spec));
        cJSON_AddStringToObject(o, "reason", "guardian");
        cJSON_AddStringToObject(o, "why", "netfaultd died; the guardian swept what carries its marks");
        cJSON_AddStringToObject(o, "created_at", nf_format_time(created_ms, t, sizeof(t)));
        cJSON_AddStringToObject(o, "expires_at", nf_format_time(expires_ms, t, sizeof(t)));
        emit(o);
}

static bool changes(struct evhttp_request *req) {
        enum evhttp_cmd_type m = evhttp_request_get_command(req);
        struct nf_query q;
        struct nf_err e;
        if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD || m == EVHTTP_REQ_OPTIONS)
                return false;
        /* A dry run changes nothing: not audited (a malformed query is, with its 400). */
        const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
        return !(u && nf_query_parse(evhttp_uri_get_query(u), NF_QUERY_DRY_RUN, &q, &e) == 0 && q.dry_run);
}

/* The fault a request was about: the reply's when it is one, else what the POSTed body asked
 * for (a refused create), else the id in the path. */
static cJSON *request_fault(struct evhttp_request *req, const cJSON *body, const char *path_id) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(body, "id");
        if (cJSON_IsString(id)) {
                const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
                return fault_summary(id->valuestring, cJSON_IsString(name) ? name->valuestring : NULL,
                                     cJSON_GetObjectItemCaseSensitive(body, "spec"));
        }
        if (evhttp_request_get_command(req) == EVHTTP_REQ_POST && !path_id[0]) {
                struct evbuffer *in = evhttp_request_get_input_buffer(req);
                size_t len = in ? evbuffer_get_length(in) : 0;
                const char *b = len ? (const char *)evbuffer_pullup(in, -1) : NULL;
                cJSON *asked = b ? cJSON_ParseWithLength(b, len) : NULL;
                if (cJSON_IsObject(asked)) {
                        const cJSON *name = cJSON_GetObjectItemCaseSensitive(asked, "name");
                        cJSON *o = fault_summary(NULL, cJSON_IsString(name) ? name->valuestring : NULL, asked);
                        cJSON_Delete(asked);
                        return o;
                }
                cJSON_Delete(asked);
        }
        if (path_id[0]) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "id", path_id);
                return o;
        }
        return NULL;
}

void nf_audit_request(struct nf_api *api, struct evhttp_request *req, int code, const cJSON *body) {
        if (!changes(req))
                return;
        struct nf_req_info *info = nf_conns_req(api, req);
        const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
        const char *path = u ? evhttp_uri_get_path(u) : NULL;
        char path_id[48] = "";
        if (path && strncmp(path, "/v1/faults/", 11) == 0)
                snprintf(path_id, sizeof(path_id), "%.*s", (int)strcspn(path + 11, "/"), path + 11);

        cJSON *o = line_new("request");
        cJSON *who = cJSON_AddObjectToObject(o, "caller");
        add_string_or_null(who, "address", info ? info->caller.address : NULL);
        add_string_or_null(who, "token", info ? info->caller.token : NULL);
        add_string_or_null(who, "subject", info ? info->caller.subject : NULL);
        cJSON_AddStringToObject(o, "method", nf_method_name(evhttp_request_get_command(req)));
        add_string_or_null(o, "route", info ? info->route : NULL);
        add_string_or_null(o, "path", path);
        cJSON_AddNumberToObject(o, "status", code);
        if (info && info->start_us)
                cJSON_AddNumberToObject(o, "duration_ms", (double)(nf_now_monotonic_us() - info->start_us) / 1000.0);
        else
                cJSON_AddNullToObject(o, "duration_ms");
        cJSON *f = request_fault(req, body, path_id);
        if (f)
                cJSON_AddItemToObject(o, "fault", f);
        else
                cJSON_AddNullToObject(o, "fault");
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(body, "error");
        const cJSON *ec = cJSON_GetObjectItemCaseSensitive(err, "code");
        add_string_or_null(o, "error", cJSON_IsString(ec) ? ec->valuestring : NULL);
        const cJSON *rev = cJSON_GetObjectItemCaseSensitive(body, "reverted");
        if (cJSON_IsNumber(rev))
                cJSON_AddNumberToObject(o, "reverted", rev->valuedouble);
        emit(o);
}
