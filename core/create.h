/* Creating a fault as a request asks for it, for every API surface: aws: selections expanded,
 * hostnames resolved (asynchronously, at most NF_MAX_PENDING_CREATES creations waiting at once),
 * then the fault created or planned (dry run). A surface parses its request, starts a creation
 * and renders what the completion callback gets; it never sees the steps in between. */
#pragma once
#include "core/layer.h"

#include <stdbool.h>

#include "core/error.h"

struct nf_registry;
struct nf_fault;
struct nf_spec;
struct nf_create;

/* The creation's one result: the fault (e NULL) or why not (f NULL). f is the registry's (a dry
 * run's is freed when done returns); e lives for the call only. A busy refusal (too many
 * creations wait for DNS) is NF_ERR_UNAVAILABLE with e->retry_after_s set. */
typedef void (*nf_create_done_fn)(void *arg, struct nf_fault *f, const struct nf_err *e);

/* Takes spec (cleared) and calls done(arg, ...) exactly once, unless cancelled first. When
 * everything is known at once (no hostnames, or a refusal) done runs before this returns, and it
 * returns NULL; otherwise it returns the waiting creation, which stays valid until done runs or
 * it is cancelled. dry_run plans and creates nothing; its fault shows the times it would have if
 * it were created now. */
struct nf_create *nf_create_start(struct nf_registry *r, struct nf_spec *spec, bool dry_run, nf_create_done_fn done,
                                  void *arg);
/* The requester went away (a client that hung up, a surface that stops): done will not be
 * called, and nothing is created, since nobody would learn the fault's id. The names' lookup
 * finishes on its own and the creation is logged as abandoned then. */
void nf_create_cancel(struct nf_create *c);
