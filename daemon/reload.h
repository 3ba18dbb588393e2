/* SIGHUP: everything that can be re-read without a restart registers a reloader here (today the
 * AWS ip-ranges file and resolv.conf; tokens and certificates belong here too). Each reloader
 * either takes the new file whole or keeps what it had and says why: a bad new file never leaves
 * the daemon without a working configuration. */
#pragma once
#include <stddef.h>

/* 0 when reloaded, 1 when there was nothing to reload, -1 when the old value is kept (why says
 * why). summary describes what is in use afterwards. */
typedef int (*nf_reload_fn)(void *arg, char *summary, size_t summary_len, char *why, size_t why_len);

/* At most NF_MAX_RELOADERS; returns -1 when full. what names it in the log ("aws_ip_ranges"). */
#define NF_MAX_RELOADERS 8
int nf_reload_register(const char *what, nf_reload_fn fn, void *arg);
/* Runs every reloader in registration order and logs each result (event daemon.reload).
 * Returns how many kept their old value. */
int nf_reload_all(void);
void nf_reload_reset(void);
