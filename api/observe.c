#include "api/observe.h"

#include <event2/http.h>

#include "api/audit.h"
#include "api/connections.h"
#include "api/http.h"
#include "api/metrics.h"
#include "api/routes.h"

void nf_observe_reply(void *arg, struct evhttp_request *req, int code, const struct cJSON *body) {
        struct nf_api *api = arg;
        struct nf_req_info *info = nf_conns_req(api, req);
        nf_metrics_request(info ? info->route : NULL, nf_method_name(evhttp_request_get_command(req)), code);
        nf_audit_request(api, req, code, body);
        /* The next request on this connection starts afresh (libevent's own errors do not pass
         * the router). */
        if (info)
                *info = (struct nf_req_info){0};
}

void nf_observe_fault_event(void *arg, const struct nf_fault *f, const struct nf_fault_event_info *ev) {
        (void)arg;
        nf_metrics_fault_event(f, ev);
        nf_audit_fault(f, ev);
}
