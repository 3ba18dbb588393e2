#include "api/auth.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/http.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "api/http.h"
#include "api/reply.h"
#include "api/tls.h"
#include "core/log.h"

struct nf_token {
        char name[NF_TOKEN_NAME_MAX];
        enum nf_role role;
        /* Only the secret's digest is kept: comparing digests takes the same time whatever the
         * secrets' lengths and contents, and the secret itself never sits in our memory. */
        unsigned char digest[SHA256_DIGEST_LENGTH];
};

struct nf_tokens {
        size_t n;
        struct nf_token t[NF_TOKENS_MAX];
};

#define TOKEN_LINE_MAX 1024

static void digest(const char *s, size_t len, unsigned char out[SHA256_DIGEST_LENGTH]) {
        unsigned int n = SHA256_DIGEST_LENGTH;
        if (!EVP_Digest(s, len, out, &n, EVP_sha256(), NULL))
                memset(out, 0, SHA256_DIGEST_LENGTH); /* matches no secret: a token then never passes */
}

static bool name_ok(const char *s) {
        if (!*s || strlen(s) >= NF_TOKEN_NAME_MAX)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && !strchr("._-@", *s))
                        return false;
        return true;
}

struct nf_tokens *nf_tokens_load(const char *path, char *err, size_t errlen) {
        char line[TOKEN_LINE_MAX + 2];
        struct stat st;
        unsigned lineno = 0;
        FILE *f = fopen(path, "re");
        struct nf_tokens *t = NULL;

        if (!f) {
                snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
                return NULL;
        }
        if (fstat(fileno(f), &st) < 0 || (st.st_mode & S_IROTH)) {
                snprintf(err, errlen, "%s may be read by anyone (mode %o): chmod o-r it, it holds secrets", path,
                         (unsigned)(st.st_mode & 07777));
                goto fail;
        }
        if (!(t = calloc(1, sizeof(*t)))) {
                snprintf(err, errlen, "out of memory");
                goto fail;
        }
        while (fgets(line, sizeof(line), f)) {
                char name[NF_TOKEN_NAME_MAX], role[8], *p = line, *fields[4];
                size_t nf = 0;
                lineno++;
                if (!strchr(line, '\n') && !feof(f)) {
                        snprintf(err, errlen, "%s:%u: the line is longer than %d bytes", path, lineno, TOKEN_LINE_MAX);
                        goto fail;
                }
                for (char *tok = strtok_r(p, " \t\r\n", &p); tok && nf < 4; tok = strtok_r(NULL, " \t\r\n", &p))
                        fields[nf++] = tok;
                if (nf == 0 || fields[0][0] == '#')
                        continue;
                if (nf != 3) {
                        snprintf(err, errlen, "%s:%u: expected NAME ROLE SECRET, got %zu field(s)", path, lineno, nf);
                        goto fail;
                }
                if (!name_ok(fields[0])) {
                        snprintf(err, errlen, "%s:%u: the name is not 1-%d letters, digits or ._-@", path, lineno,
                                 NF_TOKEN_NAME_MAX - 1);
                        goto fail;
                }
                memcpy(name, fields[0], strlen(fields[0]) + 1); /* name_ok: it fits */
                snprintf(role, sizeof(role), "%.7s", fields[1]);
                if (strcmp(fields[1], "read") != 0 && strcmp(fields[1], "write") != 0) {
                        snprintf(err, errlen, "%s:%u: token '%s': the role '%.16s' is not read or write", path, lineno, name,
                                 fields[1]);
                        goto fail;
                }
                if (strlen(fields[2]) < NF_TOKEN_SECRET_MIN) {
                        snprintf(err, errlen, "%s:%u: token '%s': the secret is shorter than %d bytes", path, lineno, name,
                                 NF_TOKEN_SECRET_MIN);
                        goto fail;
                }
                for (size_t i = 0; i < t->n; i++)
                        if (strcmp(t->t[i].name, name) == 0) {
                                snprintf(err, errlen, "%s:%u: token '%s' is named twice", path, lineno, name);
                                goto fail;
                        }
                if (t->n == NF_TOKENS_MAX) {
                        snprintf(err, errlen, "%s: more than %d tokens", path, NF_TOKENS_MAX);
                        goto fail;
                }
                struct nf_token *k = &t->t[t->n++];
                memcpy(k->name, name, sizeof(k->name));
                k->role = strcmp(role, "read") == 0 ? NF_ROLE_READ : NF_ROLE_WRITE;
                digest(fields[2], strlen(fields[2]), k->digest);
                OPENSSL_cleanse(fields[2], strlen(fields[2]));
        }
        OPENSSL_cleanse(line, sizeof(line));
        if (ferror(f)) {
                snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
                goto fail;
        }
        if (t->n == 0) {
                snprintf(err, errlen, "%s holds no token", path);
                goto fail;
        }
        fclose(f);
        return t;
fail:
        OPENSSL_cleanse(line, sizeof(line));
        free(t);
        fclose(f);
        return NULL;
}

void nf_tokens_free(struct nf_tokens *t) {
        if (t)
                OPENSSL_cleanse(t, sizeof(*t));
        free(t);
}

size_t nf_tokens_count(const struct nf_tokens *t) {
        return t ? t->n : 0;
}

void nf_tokens_describe(const struct nf_tokens *t, char *buf, size_t len) {
        size_t at = 0;
        buf[0] = '\0';
        for (size_t i = 0; t && i < t->n && at < len; i++)
                at += (size_t)snprintf(buf + at, len - at, "%s%s (%s)", i ? ", " : "", t->t[i].name,
                                       t->t[i].role == NF_ROLE_READ ? "read" : "write");
}

/* The token whose secret is s, NULL for none. Every token is compared, whatever matched. */
static const struct nf_token *token_find(const struct nf_tokens *t, const char *s, size_t len) {
        unsigned char d[SHA256_DIGEST_LENGTH];
        const struct nf_token *hit = NULL;
        digest(s, len, d);
        for (size_t i = 0; t && i < t->n; i++) {
                int same = CRYPTO_memcmp(d, t->t[i].digest, sizeof(d)) == 0;
                hit = same ? &t->t[i] : hit;
        }
        return hit;
}

bool nf_auth_enabled(const struct nf_api *api) {
        return api->tokens || nf_tls_client_certs(api);
}

bool nf_auth_host_is_loopback(const char *host) {
        struct in_addr a4;
        struct in6_addr a6;
        if (strcasecmp(host, "localhost") == 0)
                return true;
        if (inet_pton(AF_INET, host, &a4) == 1)
                return (ntohl(a4.s_addr) >> 24) == 127;
        if (inet_pton(AF_INET6, host, &a6) == 1)
                return IN6_IS_ADDR_LOOPBACK(&a6);
        return false;
}

/* Host: NAME[:PORT] or [V6]:PORT, its name part into out. */
static void host_name(const char *h, char *out, size_t len) {
        if (h[0] == '[') {
                size_t n = strcspn(h + 1, "]");
                snprintf(out, len, "%.*s", (int)n, h + 1);
                return;
        }
        const char *colon = strchr(h, ':');
        /* More than one colon: an IPv6 address without brackets (not valid HTTP, taken as is). */
        if (colon && strchr(colon + 1, ':'))
                colon = NULL;
        snprintf(out, len, "%.*s", colon ? (int)(colon - h) : (int)strlen(h), h);
}

static bool host_allowed(const struct nf_api *api, const char *host) {
        const char *list = api->cfg->allowed_hosts;
        size_t hl = strlen(host);
        if (nf_auth_host_is_loopback(host))
                return true;
        while (list && *list) {
                size_t n = strcspn(list, ",");
                if (n == hl && strncasecmp(list, host, n) == 0)
                        return true;
                list += n + (list[n] == ',');
        }
        return false;
}

void nf_auth_caller_address(struct nf_api *api, struct evhttp_request *req, struct nf_caller *who) {
        struct evhttp_connection *evcon = evhttp_request_get_connection(req);
        char *addr = NULL;
        ev_uint16_t port = 0;
        if (api->cfg->listen.is_unix || !evcon) {
                snprintf(who->address, sizeof(who->address), "unix");
                return;
        }
        evhttp_connection_get_peer(evcon, &addr, &port);
        snprintf(who->address, sizeof(who->address), strchr(addr ? addr : "", ':') ? "[%s]:%u" : "%s:%u",
                 addr ? addr : "?", port);
}

static bool refuse(struct evhttp_request *req, enum nf_err_kind kind, const char *code, const char *challenge,
                   const char *msg) {
        struct nf_err e;
        if (challenge)
                evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", challenge);
        nf_fail(&e, kind, code, NULL, "%s", msg);
        nf_api_reply_error(req, &e);
        return false;
}

bool nf_auth_request(struct nf_api *api, struct evhttp_request *req, enum nf_role need, struct nf_caller *who) {
        const char *authz = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
        const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
        bool enabled = nf_auth_enabled(api);

        *who = (struct nf_caller){.role = enabled ? NF_ROLE_PUBLIC : NF_ROLE_WRITE};
        nf_auth_caller_address(api, req, who);
        /* A web page that rebinds its own name to 127.0.0.1 reaches us with its name in Host:
         * a loopback listener serves only loopback names (and those --allowed-host adds). */
        if (api->loopback && host) {
                char name[256];
                host_name(host, name, sizeof(name));
                if (!host_allowed(api, name)) {
                        nf_log(NF_LOG_WARN, "http.host_refused", "%s sent Host '%.100s' to a loopback listener", who->address,
                               host);
                        char msg[200];
                        snprintf(msg, sizeof(msg),
                                 "this loopback listener serves only loopback names, not '%.100s' (--allowed-host adds one)",
                                 host);
                        return refuse(req, NF_ERR_MISDIRECTED, "misdirected_request", NULL, msg);
                }
        }
        if (nf_tls_peer_subject(api, req, who->subject, sizeof(who->subject))) {
                /* A certificate our client CA signed: the CA vouches for a caller that may do
                 * everything, unless a token narrows it below. */
                who->authenticated = true;
                who->role = NF_ROLE_WRITE;
        }
        if (authz) {
                size_t sl = strlen("Bearer ");
                const struct nf_token *t = NULL;
                if (strncasecmp(authz, "Bearer ", sl) == 0 && api->tokens) {
                        const char *s = authz + sl;
                        while (*s == ' ')
                                s++;
                        t = token_find(api->tokens, s, strlen(s));
                }
                if (!t && enabled) {
                        nf_log(NF_LOG_WARN, "http.auth_failed", "%s: %s", who->address,
                               api->tokens ? "a bearer token that matches none" : "a token, but no --auth-token-file");
                        return refuse(req, NF_ERR_UNAUTHENTICATED, "unauthenticated",
                                      "Bearer realm=\"netfaultd\", error=\"invalid_token\"",
                                      "the bearer token matches no token of --auth-token-file");
                }
                if (t) {
                        snprintf(who->token, sizeof(who->token), "%s", t->name);
                        who->authenticated = true;
                        who->role = t->role;
                }
        }
        if (need == NF_ROLE_PUBLIC || !enabled)
                return true;
        if (!who->authenticated) {
                nf_log(NF_LOG_INFO, "http.auth_missing", "%s: no credentials", who->address);
                return refuse(req, NF_ERR_UNAUTHENTICATED, "unauthenticated", "Bearer realm=\"netfaultd\"",
                              nf_tls_client_certs(api)
                                      ? "send Authorization: Bearer <token> (a token of --auth-token-file) or a client "
                                        "certificate that --tls-client-ca signed"
                                      : "send Authorization: Bearer <token> (a token of --auth-token-file)");
        }
        if (need == NF_ROLE_WRITE && who->role != NF_ROLE_WRITE) {
                nf_log(NF_LOG_WARN, "http.forbidden", "%s: token '%s' has role read; the request changes faults",
                       who->address, who->token);
                char msg[200];
                snprintf(msg, sizeof(msg), "token '%s' has role read; this request changes faults and needs a write token",
                         who->token);
                return refuse(req, NF_ERR_FORBIDDEN, "forbidden", NULL, msg);
        }
        return true;
}

int nf_auth_reload(void *arg, char *summary, size_t slen, char *why, size_t wlen) {
        struct nf_api *api = arg;
        char names[512];
        if (!api->cfg->auth_token_file[0]) {
                snprintf(summary, slen, "none configured (--auth-token-file)");
                return 1;
        }
        struct nf_tokens *fresh = nf_tokens_load(api->cfg->auth_token_file, why, wlen);
        if (!fresh) {
                nf_tokens_describe(api->tokens, names, sizeof(names));
                snprintf(summary, slen, "%zu token(s): %s", nf_tokens_count(api->tokens), names);
                return -1;
        }
        nf_tokens_free(api->tokens);
        api->tokens = fresh;
        nf_tokens_describe(fresh, names, sizeof(names));
        snprintf(summary, slen, "%zu token(s): %s", fresh->n, names);
        return 0;
}
