#include "runtime/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/json.h"

static int log_fd = -1;
static enum hy_log_format log_format = HY_LOG_TEXT;
static bool log_debug;

static const char *const level_names[] = {
  [HY_LOG_ERROR] = "error",
  [HY_LOG_WARNING] = "warning",
  [HY_LOG_INFO] = "info",
  [HY_LOG_DEBUG] = "debug",
};

int
hy_log_format_from_name (const char *s, enum hy_log_format *out)
{
  if (str_eq (s, "text"))
    *out = HY_LOG_TEXT;
  else if (str_eq (s, "json"))
    *out = HY_LOG_JSON;
  else
    return -1;
  return 0;
}

int
hy_log_init (const char *path, enum hy_log_format format, bool debug,
             hy_error_t *err)
{
  log_format = format;
  log_debug = debug;
  if (path == NULL)
    return 0;
  int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    return hy_error_errno (err, "open log file `%s`", path);
  hy_log_close ();
  log_fd = fd;
  return 0;
}

void
hy_log_close (void)
{
  if (log_fd >= 0)
    close (log_fd);
  log_fd = -1;
}

/* RFC 3339 in UTC, as Go's time.RFC3339 prints it. */
static void
format_time (char *buf, size_t size)
{
  time_t now = time (NULL);
  struct tm tm;
  gmtime_r (&now, &tm);
  strftime (buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Quotes, backslashes (when quoting) and control characters escaped, so
 * that an entry stays on one line whatever the message holds. */
static char *
escape (const char *s, bool quoted)
{
  size_t n = strlen (s);
  char *out = xmalloc0 (n * 4 + 3), *o = out;
  if (quoted)
    *o++ = '"';
  for (; *s; s++)
    {
      unsigned char c = (unsigned char) *s;
      if (quoted && (c == '"' || c == '\\'))
        o += sprintf (o, "\\%c", c);
      else if (c == '\n')
        o += sprintf (o, "\\n");
      else if (c == '\t' && quoted)
        o += sprintf (o, "\\t");
      else if ((c < 0x20 && c != '\t') || c == 0x7f)
        o += sprintf (o, "\\x%02x", c);
      else
        *o++ = (char) c;
    }
  if (quoted)
    *o++ = '"';
  *o = '\0';
  return out;
}

static char *
format_entry (enum hy_log_level level, const char *msg)
{
  char when[64];
  format_time (when, sizeof when);
  if (log_format == HY_LOG_TEXT)
    {
      _cleanup_free_ char *q = escape (msg, true); /* Go's %q */
      return xasprintf ("time=\"%s\" level=%s msg=%s\n", when,
                        level_names[level], q);
    }
  yajl_gen g = oci_gen_new (false);
  yajl_gen_map_open (g);
  oci_gen_kv_str (g, "level", level_names[level]);
  oci_gen_kv_str (g, "msg", msg);
  oci_gen_kv_str (g, "time", when);
  yajl_gen_map_close (g);
  _cleanup_free_ char *json = oci_gen_finish (g, NULL);
  return xasprintf ("%s\n", json);
}

/* One write(2) per entry, so that concurrent hyrun processes appending to
 * the same file do not interleave lines. */
static void
write_entry (int fd, const char *line)
{
  size_t len = strlen (line);
  while (len > 0)
    {
      ssize_t w = write (fd, line, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return;
      line += w;
      len -= (size_t) w;
    }
}

bool
hy_log_debug_enabled (void)
{
  return log_debug;
}

/* Errors and warnings: "hyrun: [warning: ]<message>". */
static void
write_stderr_line (enum hy_log_level level, const char *msg)
{
  _cleanup_free_ char *text = escape (msg, false);
  _cleanup_free_ char *line
      = level == HY_LOG_ERROR
            ? xasprintf ("hyrun: %s\n", text)
            : xasprintf ("hyrun: %s: %s\n", level_names[level], text);
  write_entry (STDERR_FILENO, line);
}

void
hy_log (enum hy_log_level level, const char *fmt, ...)
{
  if (level == HY_LOG_DEBUG && !log_debug)
    return;
  int saved_errno = errno;
  va_list ap;
  va_start (ap, fmt);
  _cleanup_free_ char *msg = NULL;
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  if (msg == NULL)
    return;

  if (log_fd >= 0)
    {
      _cleanup_free_ char *entry = format_entry (level, msg);
      write_entry (log_fd, entry);
    }
  if (level <= HY_LOG_WARNING)
    write_stderr_line (level, msg);
  else if (level == HY_LOG_DEBUG && log_fd < 0)
    {
      _cleanup_free_ char *entry = format_entry (level, msg);
      write_entry (STDERR_FILENO, entry);
    }
  errno = saved_errno;
}

void
hy_log_fail (hy_error_t *err)
{
  _cleanup_free_ char *text = hy_error_text (*err);
  hy_log_error ("%s", text ? text : "out of memory");
  hy_error_release (err);
}
