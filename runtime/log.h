/* Logging, runc style.
 *
 * Errors and warnings always reach stderr as one line, "hyrun: <message>".
 * With --log FILE every entry is also appended to FILE, formatted as logrus
 * does, because containerd reads the last error back from it:
 *   text  time="2024-01-02T03:04:05Z" level=error msg="..."
 *   json  {"level":"error","msg":"...","time":"2024-01-02T03:04:05Z"}
 * Debug entries are written only with --debug, to FILE or else, formatted
 * the same way (runc's logrus does so), to stderr. */
#ifndef HYRUN_RUNTIME_LOG_H
#define HYRUN_RUNTIME_LOG_H

#include <stdbool.h>

#include "common/error.h"

enum hy_log_level
{
  HY_LOG_ERROR,
  HY_LOG_WARNING,
  HY_LOG_INFO,
  HY_LOG_DEBUG,
};

enum hy_log_format
{
  HY_LOG_TEXT,
  HY_LOG_JSON,
};

/* "text" / "json"; returns <0 (without touching err) for other text. */
int hy_log_format_from_name (const char *s, enum hy_log_format *out);

/* Open `path` (NULL: no log file) for appending. */
int hy_log_init (const char *path, enum hy_log_format format, bool debug,
                 hy_error_t *err);
void hy_log_close (void);

void hy_log (enum hy_log_level level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#define hy_log_error(...) hy_log (HY_LOG_ERROR, __VA_ARGS__)
#define hy_log_warning(...) hy_log (HY_LOG_WARNING, __VA_ARGS__)
#define hy_log_debug(...) hy_log (HY_LOG_DEBUG, __VA_ARGS__)

/* Whether --debug was given (a container process, which logs through
 * create, asks before sending its debug lines). */
bool hy_log_debug_enabled (void);

/* Log a failed command's error (level error) and release it. */
void hy_log_fail (hy_error_t *err);

#endif
