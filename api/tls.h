/* TLS for the HTTP listener (1.2 and 1.3 only) through libevent's OpenSSL bufferevents, and
 * mutual TLS: with --tls-client-ca, a client certificate that CA signed is verified during the
 * handshake and its subject names the caller (api/auth.c). Certificates reload on SIGHUP; a
 * connection keeps the context it started with. */
#pragma once
#include "api/layer.h"

#include <stdbool.h>
#include <stddef.h>

struct nf_api;
struct event_base;
struct bufferevent;
struct evhttp_request;

/* With --tls-cert and --tls-key: the server context, -EINVAL with err naming the bad file
 * otherwise. 0 and nothing done without them. */
int nf_tls_start(struct nf_api *api, char *err, size_t errlen);
void nf_tls_stop(struct nf_api *api);
bool nf_tls_enabled(const struct nf_api *api);
/* Whether client certificates are asked for and verified (--tls-client-ca). */
bool nf_tls_client_certs(const struct nf_api *api);
/* A bufferevent that will accept a TLS handshake on the socket evhttp gives it; NULL without
 * memory. Only when nf_tls_enabled(). */
struct bufferevent *nf_tls_bufferevent(struct nf_api *api, struct event_base *base);
/* The subject (RFC 2253) of the verified client certificate on req's connection into buf;
 * false when there is none. */
bool nf_tls_peer_subject(const struct nf_api *api, struct evhttp_request *req, char *buf, size_t len);
/* SIGHUP (daemon/reload.h's signature, arg: the struct nf_api): certificate, key and client CA
 * read again; a set that does not load or does not match keeps the one in use. */
int nf_tls_reload(void *arg, char *summary, size_t slen, char *why, size_t wlen);
