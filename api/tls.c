#include "api/tls.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "api/http.h"

/* The first error OpenSSL queued, after what we were doing; the queue is emptied. */
static void ssl_why(char *err, size_t errlen, const char *what, const char *path) {
        char detail[256] = "unknown error";
        unsigned long e = ERR_get_error();
        if (e)
                ERR_error_string_n(e, detail, sizeof(detail));
        ERR_clear_error();
        snprintf(err, errlen, "%s %s: %s", what, path, detail);
}

static SSL_CTX *ctx_new(const struct nf_api_options *cfg, char *err, size_t errlen) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        if (!ctx) {
                ssl_why(err, errlen, "cannot create a TLS context", "");
                return NULL;
        }
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
        if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
                ssl_why(err, errlen, "--tls-cert", cfg->tls_cert);
                goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1) {
                ssl_why(err, errlen, "--tls-key", cfg->tls_key);
                goto fail;
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
                ssl_why(err, errlen, "--tls-key does not match --tls-cert:", cfg->tls_key);
                goto fail;
        }
        if (cfg->tls_client_ca[0]) {
                STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->tls_client_ca);
                if (!names || SSL_CTX_load_verify_locations(ctx, cfg->tls_client_ca, NULL) != 1) {
                        if (names)
                                sk_X509_NAME_pop_free(names, X509_NAME_free);
                        ssl_why(err, errlen, "--tls-client-ca", cfg->tls_client_ca);
                        goto fail;
                }
                SSL_CTX_set_client_CA_list(ctx, names);
                /* A certificate is asked for; one the CA did not sign ends the handshake. Without
                 * one the connection stands, and a token must then name the caller. */
                SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
                SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"netfaultd", 9);
        }
        return ctx;
fail:
        SSL_CTX_free(ctx);
        return NULL;
}

int nf_tls_start(struct nf_api *api, char *err, size_t errlen) {
        const struct nf_api_options *cfg = api->cfg;
        if (!cfg->tls_cert[0] && !cfg->tls_key[0] && !cfg->tls_client_ca[0])
                return 0;
        if (!cfg->tls_cert[0] || !cfg->tls_key[0]) {
                snprintf(err, errlen, "TLS needs both --tls-cert and --tls-key%s",
                         cfg->tls_client_ca[0] ? " (--tls-client-ca is for the clients' certificates)" : "");
                return -EINVAL;
        }
        api->tls = ctx_new(cfg, err, errlen);
        return api->tls ? 0 : -EINVAL;
}

void nf_tls_stop(struct nf_api *api) {
        SSL_CTX_free(api->tls);
        api->tls = NULL;
}

bool nf_tls_enabled(const struct nf_api *api) {
        return api->tls != NULL;
}

bool nf_tls_client_certs(const struct nf_api *api) {
        return api->tls && api->cfg->tls_client_ca[0];
}

struct bufferevent *nf_tls_bufferevent(struct nf_api *api, struct event_base *base) {
        SSL *ssl = SSL_new(api->tls); /* holds a reference to the context: a reload leaves it be */
        if (!ssl)
                return NULL;
        /* evhttp hands the socket over afterwards (bufferevent_setfd), as in libevent's own
         * https-server sample; the bufferevent frees ssl. */
        struct bufferevent *bev =
                bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
        if (!bev) {
                SSL_free(ssl);
                return NULL;
        }
        /* A client that closes without close_notify is normal for HTTP (curl, probes). */
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
        return bev;
}

bool nf_tls_peer_subject(const struct nf_api *api, struct evhttp_request *req, char *buf, size_t len) {
        struct evhttp_connection *evcon = evhttp_request_get_connection(req);
        struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
        SSL *ssl = bev && nf_tls_client_certs(api) ? bufferevent_openssl_get_ssl(bev) : NULL;
        X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
        buf[0] = '\0';
        if (!cert || SSL_get_verify_result(ssl) != X509_V_OK)
                return false;
        BIO *mem = BIO_new(BIO_s_mem());
        if (!mem)
                return false;
        X509_NAME_print_ex(mem, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
        int n = BIO_read(mem, buf, (int)len - 1);
        BIO_free(mem);
        buf[n > 0 ? n : 0] = '\0';
        return n > 0;
}

int nf_tls_reload(void *arg, char *summary, size_t slen, char *why, size_t wlen) {
        struct nf_api *api = arg;
        if (!api->tls) {
                snprintf(summary, slen, "none configured (--tls-cert, --tls-key)");
                return 1;
        }
        SSL_CTX *fresh = ctx_new(api->cfg, why, wlen);
        snprintf(summary, slen, "%s%s%s", api->cfg->tls_cert, api->cfg->tls_client_ca[0] ? ", client CA " : "",
                 api->cfg->tls_client_ca);
        if (!fresh)
                return -1;
        SSL_CTX_free(api->tls); /* connections made with it hold their own references */
        api->tls = fresh;
        return 0;
}
