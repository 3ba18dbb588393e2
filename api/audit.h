/* The audit log: one JSON line per changing request (POST, DELETE; a dry run changes nothing)
 * and per fault state change (created, renewed, reverted with its reason), to stderr and, with
 * --audit-log, appended to a file. Lines start with {"audit": so they can be told from the
 * daemon's other log lines. The fields are listed in README.md ("The audit log"). */
#pragma once
#include "api/layer.h"

#include <stdbool.h>
#include <stddef.h>

#include "core/registry.h"

struct nf_api;
struct evhttp_request;
struct cJSON;

/* Opens path for appending (O_APPEND, created 0640); "" for stderr only. -errno with err. */
int nf_audit_open(const char *path, char *err, size_t errlen);
void nf_audit_close(void);

/* The reply to req is leaving with code and body: its line, if req changes anything. */
void nf_audit_request(struct nf_api *api, struct evhttp_request *req, int code, const struct cJSON *body);
/* A state change the core reported (NF_FAULT_RESOLVED is not one: it is counted, not audited). */
void nf_audit_fault(const struct nf_fault *f, const struct nf_fault_event_info *ev);
/* The label of a revert's reason: deleted, expired, lease, shutdown, pod_gone, other. */
const char *nf_audit_reason(const char *why);
/* A journaled fault the guardian reverted after the daemon died (reason "guardian"): written by
 * the guardian process, which inherits the audit file from the daemon. */
/* The --audit-log file's descriptor, -1 without one (kept open by the guardian). */
int nf_audit_file_fd(void);
void nf_audit_swept(const char *id, const struct cJSON *spec, int64_t created_ms, int64_t expires_ms);
