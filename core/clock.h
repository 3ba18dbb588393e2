/* Wall-clock time for what users read (created_at, expires_at) and monotonic time for timers. */
#pragma once
#include "core/layer.h"

#include <stddef.h>
#include <stdint.h>

int64_t nf_now_realtime_ms(void);
int64_t nf_now_monotonic_ms(void);
int64_t nf_now_monotonic_us(void); /* for durations (apply, revert, requests) */
/* RFC 3339 in UTC with milliseconds: 2026-11-28T12:00:00.123Z */
char *nf_format_time(int64_t realtime_ms, char *buf, size_t len);
