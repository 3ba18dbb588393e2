/* Why something the core was asked to do did not happen: a kind, a stable code, the field at
 * fault and a sentence naming the bad value. The core says what went wrong, never how a protocol
 * shows it: each API surface maps kinds to its own statuses (for HTTP, api/errors.c). */
#pragma once
#include "core/layer.h"

#include <stdarg.h>

enum nf_err_kind {
        NF_ERR_INTERNAL,           /* a bug or no memory: nothing the caller can fix */
        NF_ERR_INVALID,            /* the request is malformed or breaks a rule of its own */
        NF_ERR_UNSATISFIABLE,      /* well-formed, but this host cannot give it a meaning (a name
                                    * with no address, no default route, an unknown AWS region) */
        NF_ERR_NOT_FOUND,          /* no such fault */
        NF_ERR_CONFLICT,           /* it overlaps what exists (another fault, an object in the kernel) */
        NF_ERR_LIMIT,              /* a configured limit on faults, filters or request rate */
        NF_ERR_UNSUPPORTED_KERNEL, /* the kernel lacks a module the fault needs */
        NF_ERR_KERNEL,             /* the kernel refused; its extended-ack text is in the message */
        NF_ERR_DENIED,             /* the kernel refused for lack of privilege */
        NF_ERR_UNAVAILABLE,        /* a dependency is missing or busy (journal, resolver): retry later */
        /* Kinds that only a request's framing meets, found by the API surfaces themselves. */
        NF_ERR_TOO_LARGE,          /* the body is over the limit */
        NF_ERR_MEDIA_TYPE,         /* the body is not JSON */
        NF_ERR_METHOD,             /* the resource does not take this method */
        NF_ERR_NOT_IMPLEMENTED,    /* the method is unknown to the server */
        NF_ERR_EXPECTATION,        /* an Expect header other than 100-continue */
        /* Kinds of the caller's standing, found by the surfaces (api/auth.c). */
        NF_ERR_UNAUTHENTICATED,    /* no credentials, or ones that match nothing */
        NF_ERR_FORBIDDEN,          /* known caller, but its role does not allow this */
        NF_ERR_MISDIRECTED,        /* the request names a host this listener does not serve */
        NF_ERR_KIND_COUNT
};

struct nf_err {
        enum nf_err_kind kind;
        char code[32];
        char field[96];
        char message[640];
        unsigned retry_after_s; /* > 0: busy, the same request may succeed after this long */
};

/* Fills e (retry_after_s 0) and returns -1, so that validators can `return nf_fail(e, ...)`. */
int nf_fail(struct nf_err *e, enum nf_err_kind kind, const char *code, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
