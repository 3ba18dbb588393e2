#include "core/clock.h"

#include <stdio.h>
#include <time.h>

static int64_t ms(clockid_t id) {
        struct timespec ts;
        clock_gettime(id, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t nf_now_realtime_ms(void) {
        return ms(CLOCK_REALTIME);
}

int64_t nf_now_monotonic_ms(void) {
        return ms(CLOCK_MONOTONIC);
}

int64_t nf_now_monotonic_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *nf_format_time(int64_t t, char *buf, size_t len) {
        time_t s = (time_t)(t / 1000);
        struct tm tm;
        gmtime_r(&s, &tm);
        snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(t % 1000));
        return buf;
}
