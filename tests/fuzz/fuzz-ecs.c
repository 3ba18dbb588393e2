/* libFuzzer target: any bytes as the body of the ECS agent's fault endpoints (api/ecs_json.c: Go's
 * Decoder and Unmarshal as the agent meets them, then its validation), for each of the three
 * request types. Must never crash, leak or read past the body (which is not NUL-terminated); every
 * refusal must carry a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/ecs_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* An exact-size copy, so that ASan sees any read past the end. */
        char *body = malloc(size ? size : 1);
        if (!body)
                return 0;
        memcpy(body, data, size);
        for (int k = 0; k < NF_ECS_KIND_COUNT; k++) {
                struct nf_ecs_req q;
                char msg[NF_ECS_MSG_MAX] = "";
                if (nf_ecs_decode((enum nf_ecs_kind)k, body, size, &q, msg) < 0) {
                        if (!msg[0])
                                abort();
                        continue;
                }
                msg[0] = '\0';
                if (nf_ecs_validate((enum nf_ecs_kind)k, &q, msg) < 0 && !msg[0])
                        abort();
                nf_ecs_req_free(&q);
        }
        free(body);
        return 0;
}
