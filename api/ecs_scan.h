/* Go's JSON scanner as the ECS agent's json.Decoder meets a request body: where its first value
 * ends, or the error text Go gives (the state machine of encoding/json's scanner.go, state for
 * state, so that "invalid character 'x' after object key" and "unexpected EOF" read the same). */
#pragma once
#include "api/layer.h"

#include <stddef.h>

#include "api/ecs_json.h"

/* The length of the first JSON value in body (what follows it is not read, as the Decoder does
 * not), 0 when the body holds only white space (Go's io.EOF), or -1 with msg set to Go's text. */
long nf_ecs_scan_value(const char *body, size_t len, char msg[NF_ECS_MSG_MAX]);
