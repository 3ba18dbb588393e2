#include "daemon/registry.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "daemon/clock.h"
#include "daemon/log.h"

int nf_registry_init(struct nf_registry *r, struct event_base *base, uint32_t max_faults) {
        int rc;
        *r = (struct nf_registry){.base = base, .max_faults = max_faults};
        rc = nf_applier_open(&r->applier);
        if (rc < 0)
                return rc;
        nf_caps_probe(&r->applier.nl, &r->caps);
        return 0;
}

void nf_registry_fini(struct nf_registry *r) {
        nf_registry_delete_all(r, "shutdown");
        nf_applier_close(&r->applier);
}

static void make_id(char *id) {
        uint8_t b[6];
        if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
                uint64_t t = (uint64_t)nf_now_monotonic_ms() ^ (uint64_t)random();
                memcpy(b, &t, sizeof(b));
        }
        snprintf(id, NF_ID_LEN, "f-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

static void fault_free(struct nf_fault *f) {
        if (f->timer)
                event_free(f->timer);
        nf_plan_free(&f->plan);
        free(f->eff);
        nf_spec_free(&f->spec);
        free(f);
}

static void on_expiry(evutil_socket_t fd, short what, void *arg) {
        struct nf_fault *f = arg;
        (void)fd;
        (void)what;
        nf_registry_delete(f->reg, f, "expired");
}

static int resolve_interfaces(struct nf_registry *r, struct nf_fault *f, struct nf_err *e) {
        if (f->spec.n_ifnames == 0) {
                int rc = nf_world_default_ifaces(&r->applier.world, f->ifaces, NF_MAX_IFACES, &f->n_ifaces);
                if (rc < 0)
                        return nf_fail(e, 500, "kernel_error", "interfaces", "cannot read the routing table: %s",
                                       strerror(-rc));
                if (f->n_ifaces == 0)
                        return nf_fail(e, 422, "no_default_route", "interfaces",
                                       "interfaces: none given and no interface carries a default route here; name "
                                       "the interfaces");
                return 0;
        }
        for (size_t i = 0; i < f->spec.n_ifnames; i++) {
                int rc = nf_world_iface_by_name(&r->applier.world, f->spec.ifnames[i], &f->ifaces[i]);
                if (rc < 0) {
                        char field[48];
                        snprintf(field, sizeof(field), "interfaces[%zu]", i);
                        return nf_fail(e, 400, "unknown_interface", field, "%s: '%s' does not exist in this network namespace",
                                       field, f->spec.ifnames[i]);
                }
        }
        f->n_ifaces = f->spec.n_ifnames;
        return 0;
}

static int check_conflicts(struct nf_registry *r, struct nf_fault *f, struct nf_err *e) {
        struct nf_fault_scope a = {&f->spec, f->eff, f->n_eff, f->ifaces, f->n_ifaces};
        for (struct nf_fault *o = r->faults; o; o = o->next) {
                struct nf_fault_scope b = {&o->spec, o->eff, o->n_eff, o->ifaces, o->n_ifaces};
                char why[256];
                if (nf_scopes_overlap(&a, &b, why, sizeof(why)))
                        return nf_fail(e, 409, "conflict", "targets", "overlaps active fault %s: %s", o->id, why);
        }
        return 0;
}

static int unavailable(const struct nf_caps *c, const struct nf_spec *s, struct nf_err *e) {
        char mods[160] = "", said[400] = "";
        int first = nf_caps_missing(c, s);
        /* Name every module the fault needs and lacks, so that one modprobe line fixes it. */
        for (int i = 0; i < NF_CAP_COUNT; i++) {
                if (c->state[i] != NF_CAP_NO || !nf_caps_needed(s, i))
                        continue;
                snprintf(mods + strlen(mods), sizeof(mods) - strlen(mods), "%s%s", mods[0] ? " " : "", nf_cap_module(i));
                snprintf(said + strlen(said), sizeof(said) - strlen(said), "%s%s %s: %s", said[0] ? "; " : "",
                         nf_cap_name(i), nf_cap_kind(i), c->detail[i]);
        }
        if (!mods[0])
                snprintf(mods, sizeof(mods), "%s", nf_cap_module(first));
        return nf_fail(e, 503, "kernel_unsupported", NULL,
                       "this kernel lacks what the fault needs (%s); load it on the host with 'modprobe %s' (EC2, ECS "
                       "and EKS kernels ship these modules; a container cannot load them itself)%s%s",
                       mods, mods, said[0] ? "; kernel said: " : "", said);
}

struct nf_fault *nf_registry_create(struct nf_registry *r, struct nf_spec *spec, struct nf_err *e) {
        struct nf_fault *f = calloc(1, sizeof(*f));
        struct nf_apply_error ae;
        int rc, cap;

        if (!f) {
                nf_spec_free(spec);
                nf_fail(e, 500, "internal", NULL, "out of memory");
                return NULL;
        }
        f->spec = *spec;
        *spec = (struct nf_spec){0};
        f->reg = r;

        if ((cap = nf_caps_missing(&r->caps, &f->spec)) >= 0) {
                unavailable(&r->caps, &f->spec, e);
                goto fail;
        }
        if (r->n_faults >= r->max_faults) {
                nf_fail(e, 429, "too_many_faults", NULL, "%zu faults are active, the limit (--max-faults) is %u",
                        r->n_faults, r->max_faults);
                goto fail;
        }
        if (resolve_interfaces(r, f, e) < 0)
                goto fail;
        rc = nf_spec_effective(&f->spec, NF_MAX_FILTERS_PER_FAULT, &f->eff, &f->n_eff);
        if (rc == -E2BIG) {
                nf_fail(e, 400, "too_many_filters", "exclude",
                        "targets minus exclude splits into more than %d prefixes", NF_MAX_FILTERS_PER_FAULT);
                goto fail;
        } else if (rc < 0) {
                nf_fail(e, 500, "internal", NULL, "out of memory");
                goto fail;
        }
        if (f->n_eff == 0) {
                nf_fail(e, 400, "empty_match", "exclude", "exclude covers every target: the fault would match nothing");
                goto fail;
        }
        if (check_conflicts(r, f, e) < 0)
                goto fail;
        for (f->slot = 0; f->slot < NF_MAX_SLOTS && r->slot_used[f->slot]; f->slot++)
                ;
        make_id(f->id);
        rc = nf_plan_build(&f->spec, f->id, f->eff, f->n_eff, f->slot, f->ifaces, f->n_ifaces, &f->plan);
        if (rc == -E2BIG) {
                nf_fail(e, 400, "too_many_filters", "ports",
                        "targets x ports needs more than %d filters; use fewer ports or wider CIDRs",
                        NF_MAX_FILTERS_PER_FAULT);
                goto fail;
        } else if (rc < 0) {
                nf_fail(e, 500, "internal", NULL, "planning failed: %s", strerror(-rc));
                goto fail;
        }
        rc = nf_apply(&r->applier, &f->plan, &ae);
        if (rc < 0) {
                int http = rc == -EBUSY || rc == -EEXIST ? 409 : rc == -EPERM ? 403 : 500;
                nf_fail(e, http, http == 409 ? "kernel_conflict" : "kernel_error", NULL, "%s: %s%s%s", ae.message,
                        strerror(-rc), ae.extack[0] ? "; kernel said: " : "", ae.extack);
                nf_log(NF_LOG_WARN, "fault.apply_failed", "%s rolled back: %s", f->id, e->message);
                goto fail;
        }
        r->slot_used[f->slot] = true;
        f->created_ms = nf_now_realtime_ms();
        f->expires_ms = f->created_ms + (int64_t)f->spec.duration_s * 1000;
        f->timer = evtimer_new(r->base, on_expiry, f);
        struct timeval tv = {.tv_sec = f->spec.duration_s};
        if (!f->timer || evtimer_add(f->timer, &tv) < 0) {
                nf_revert(&r->applier, &f->plan, NULL);
                r->slot_used[f->slot] = false;
                nf_fail(e, 500, "internal", NULL, "cannot arm the expiry timer");
                goto fail;
        }
        f->next = r->faults;
        r->faults = f;
        r->n_faults++;
        nf_log(NF_LOG_INFO, "fault.created", "%s%s%s: %zu prefixes on %zu interface(s), slot %u, %u s", f->id,
               f->spec.name[0] ? " " : "", f->spec.name, f->n_eff, f->n_ifaces, f->slot, f->spec.duration_s);
        return f;
fail:
        fault_free(f);
        return NULL;
}

struct nf_fault *nf_registry_find(struct nf_registry *r, const char *id) {
        for (struct nf_fault *f = r->faults; f; f = f->next)
                if (strcmp(f->id, id) == 0)
                        return f;
        return NULL;
}

int nf_registry_delete(struct nf_registry *r, struct nf_fault *f, const char *why) {
        struct nf_apply_error ae;
        int rc = nf_revert(&r->applier, &f->plan, &ae);
        if (rc < 0)
                nf_log(NF_LOG_ERROR, "fault.revert_failed", "%s: %s: %s%s%s", f->id, ae.message, strerror(-rc),
                       ae.extack[0] ? "; kernel said: " : "", ae.extack);
        else
                nf_log(NF_LOG_INFO, "fault.reverted", "%s (%s)", f->id, why);
        for (struct nf_fault **p = &r->faults; *p; p = &(*p)->next)
                if (*p == f) {
                        *p = f->next;
                        break;
                }
        r->n_faults--;
        r->slot_used[f->slot] = false;
        fault_free(f);
        return rc;
}

size_t nf_registry_delete_all(struct nf_registry *r, const char *why) {
        size_t n = 0;
        while (r->faults) {
                nf_registry_delete(r, r->faults, why);
                n++;
        }
        return n;
}
