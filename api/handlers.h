/* The resources of the HTTP surface (faults_api.c): one handler per route and method, each named
 * in the route table (routes.c). The router has checked the method, the framing, the query and
 * the route's limits before one of these runs. */
#pragma once
#include "api/layer.h"

#include "api/routes.h"

void nf_api_healthz(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_api_capabilities(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_api_faults_list(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_api_fault_create(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_api_faults_delete_all(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_api_fault_get(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_api_fault_delete(struct nf_api *api, struct evhttp_request *req, const char *id);
void nf_api_fault_renew(struct nf_api *api, struct evhttp_request *req, const char *id);
/* pods_api.c */
void nf_api_pods_list(struct nf_api *api, struct evhttp_request *req, const char *id);
