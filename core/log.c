#include "core/log.h"

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"

static enum nf_log_format format = NF_LOG_TEXT;
static enum nf_log_level min_level = NF_LOG_INFO;

/* libevent's own messages ("[warn] Error from accept() call: ...") would go to stderr in its
 * format, whatever --log-format says: they come through here as event "libevent". */
static void from_libevent(int severity, const char *msg) {
        enum nf_log_level l = severity == EVENT_LOG_DEBUG ? NF_LOG_DEBUG
                              : severity == EVENT_LOG_MSG ? NF_LOG_INFO
                              : severity == EVENT_LOG_WARN ? NF_LOG_WARN
                                                           : NF_LOG_ERROR;
        nf_log(l, "libevent", "%s", msg);
}

void nf_log_setup(enum nf_log_format f, enum nf_log_level min) {
        format = f;
        min_level = min;
        event_set_log_callback(from_libevent);
}

void nf_log(enum nf_log_level level, const char *event, const char *fmt, ...) {
        static const char *const names[] = {"debug", "info", "warn", "error"};
        char msg[1024], ts[40];
        va_list ap;
        if (level < min_level)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        nf_format_time(nf_now_realtime_ms(), ts, sizeof(ts));
        if (format == NF_LOG_JSON) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "ts", ts);
                cJSON_AddStringToObject(o, "level", names[level]);
                cJSON_AddStringToObject(o, "event", event);
                cJSON_AddStringToObject(o, "msg", msg);
                char *s = cJSON_PrintUnformatted(o);
                if (s)
                        fprintf(stderr, "%s\n", s);
                free(s);
                cJSON_Delete(o);
        } else {
                fprintf(stderr, "%s %-5s %s: %s\n", ts, names[level], event, msg);
        }
}
