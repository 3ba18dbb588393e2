/* The journal record of a fault: what nf_journal_put stores before the kernel changes (the spec
 * as a request would give it, the tc objects of its plan, what its names resolved to) and what
 * --on-start=resume reads back from it beyond the spec. The journal (journal.c) only stores and
 * loads records; what a record holds is decided here. */
#pragma once
#include "core/layer.h"

#include <stddef.h>

struct nf_fault;
struct nf_fault_init;
struct nf_journal;
struct nf_journal_entry;
struct nf_ns;

/* Writes the fault's record in state ("active"). j may be NULL (nothing is written: 0). -errno,
 * logged. */
int nf_record_put(struct nf_journal *j, const struct nf_fault *f, const char *state);
/* Writes the interfaces of ns whose clsact qdisc we created (the sweep may remove only those):
 * clsact.json for our own namespace; for another, its namespace record (identity, how to reopen
 * it, proc_root to look its pod up again), which the guardian and the next start sweep. -errno. */
int nf_record_put_clsact(struct nf_journal *j, const struct nf_ns *ns, const char *proc_root);
/* Removes the record of a namespace other than ours (its last fault is gone). */
void nf_record_drop_ns(struct nf_journal *j, const struct nf_ns *ns);
/* The journaled addresses of a record's hostnames, into init: a resumed fault starts from them
 * (and resolves again at once). -ENOMEM. */
int nf_record_read_names(const struct nf_journal_entry *je, struct nf_fault_init *init);
