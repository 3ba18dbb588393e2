/* Who is calling, and may they: bearer tokens from --auth-token-file (a name, a role and a
 * secret per line, reloaded on SIGHUP), the subject of a verified client certificate (mTLS,
 * api/tls.c), and on a loopback listener a Host check against DNS rebinding. The route table
 * (routes.c) names the role each method needs; the router asks here before the handler runs. */
#pragma once
#include "api/layer.h"

#include <stdbool.h>
#include <stddef.h>

struct nf_api;
struct evhttp_request;

/* What a route's method needs. The zero value is the strictest, so that a row that forgets to
 * say is not left open. */
enum nf_role {
        NF_ROLE_WRITE = 0, /* changes faults */
        NF_ROLE_READ,      /* reads */
        NF_ROLE_PUBLIC,    /* anyone who can connect (liveness probes) */
};

#define NF_TOKEN_NAME_MAX 64
#define NF_TOKENS_MAX 64
#define NF_TOKEN_SECRET_MIN 16 /* bytes: a shorter secret is refused when the file is read */

/* The tokens in force (opaque; one allocation, swapped whole on reload). */
struct nf_tokens;

/* Reads a token file: lines "NAME ROLE SECRET" (ROLE read or write), '#' comments and blank
 * lines. Refuses the whole file (NULL, why in err) for a bad line, a duplicate name, a short
 * secret, no token at all, or a file that others than its owner and group may read. */
struct nf_tokens *nf_tokens_load(const char *path, char *err, size_t errlen);
void nf_tokens_free(struct nf_tokens *t);
size_t nf_tokens_count(const struct nf_tokens *t);
/* "ci (write), grafana (read)" for the log; never a secret. */
void nf_tokens_describe(const struct nf_tokens *t, char *buf, size_t len);

/* The caller of one request, as the audit log and the log lines name it. */
struct nf_caller {
        char address[64];                 /* "127.0.0.1:51234", "unix" */
        char token[NF_TOKEN_NAME_MAX];    /* the token's name, "" without one */
        char subject[256];                /* the client certificate's subject, "" without one */
        bool authenticated;               /* by token or certificate */
        enum nf_role role;                /* what the caller may do (NF_ROLE_WRITE with auth off) */
};

/* Whether the server asks for credentials at all (tokens loaded or client certificates
 * required). Without, every caller who can connect may do everything. */
bool nf_auth_enabled(const struct nf_api *api);

/* The checks before a route's handler: the Host header on a loopback listener (421), then the
 * caller's credentials against need (401 with WWW-Authenticate: Bearer, 403 for a read token on
 * a changing request). Fills who either way; replies and returns false when refused. */
bool nf_auth_request(struct nf_api *api, struct evhttp_request *req, enum nf_role need, struct nf_caller *who);

/* who->address for req's connection ("127.0.0.1:51234", "[::1]:4711", "unix"). */
void nf_auth_caller_address(struct nf_api *api, struct evhttp_request *req, struct nf_caller *who);

/* Whether --listen's host is loopback (127.0.0.0/8, ::1, localhost): the Host check applies
 * there, and any other address needs credentials to start. */
bool nf_auth_host_is_loopback(const char *host);

/* SIGHUP (daemon/reload.h's signature, arg: the struct nf_api): the token file again, kept
 * whole or not at all. */
int nf_auth_reload(void *arg, char *summary, size_t slen, char *why, size_t wlen);
