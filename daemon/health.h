/* netfaultd --health: asks the daemon at --listen for /healthz (the container health check). */
#pragma once
#include "api/http.h"

/* 0 when the daemon answers 200 with "status":"ok" in time, 1 otherwise; one line on stdout
 * says why. listen is the flag's text, for messages. */
int nf_health_check(const struct nf_listen_addr *la, const char *listen);
