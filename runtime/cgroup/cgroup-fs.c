/* Reading and writing cgroup files, with errors that name file and value. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

/* Cgroup files are small; stat files of big machines stay well below. */
#define CG_FILE_MAX (4u << 20)

char *
hy_cg_join (const char *dir, const char *file)
{
  return xasprintf ("%s/%s", dir, file);
}

bool
hy_cg_exists (const char *dir, const char *file)
{
  _cleanup_free_ char *path = hy_cg_join (dir, file);
  return access (path, F_OK) == 0;
}

int
hy_cg_write_raw (const char *dir, const char *file, const char *value)
{
  _cleanup_free_ char *path = hy_cg_join (dir, file);
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  size_t len = strlen (value);
  ssize_t w;
  do
    w = write (fd, value, len);
  while (w < 0 && errno == EINTR);
  if (w < 0)
    return -errno;
  return (size_t) w == len ? 0 : -EIO;
}

int
hy_cg_write (const char *dir, const char *file, const char *value,
             hy_error_t *err)
{
  int r = hy_cg_write_raw (dir, file, value);
  if (r < 0)
    return hy_error (err, -r, "write `%s/%s` \"%s\"", dir, file, value);
  return 0;
}

int
hy_cg_writef (hy_error_t *err, const char *dir, const char *file,
              const char *fmt, ...)
{
  _cleanup_free_ char *value = NULL;
  va_list ap;
  va_start (ap, fmt);
  int r = vasprintf (&value, fmt, ap);
  va_end (ap);
  if (r < 0)
    abort ();
  return hy_cg_write (dir, file, value, err);
}

int
hy_cg_write_lines (const char *dir, const char *file, const char *value,
                   hy_error_t *err)
{
  _cleanup_free_ char *copy = xstrdup (value);
  char *save = NULL;
  for (char *line = strtok_r (copy, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    if (hy_cg_write (dir, file, line, err) < 0)
      return -1;
  return 0;
}

int
hy_cg_read (const char *dir, const char *file, char **out, hy_error_t *err)
{
  _cleanup_free_ char *path = hy_cg_join (dir, file);
  return read_file_at (AT_FDCWD, path, CG_FILE_MAX, out, NULL, err);
}

static int
parse_u64_value (const char *s, uint64_t *out)
{
  size_t len = strcspn (s, "\n");
  if (len == 3 && strncmp (s, "max", 3) == 0)
    {
      *out = UINT64_MAX;
      return 0;
    }
  _cleanup_free_ char *num = xstrndup (s, len);
  unsigned long long v;
  if (parse_uint64 (num, &v) < 0)
    return -1;
  *out = v;
  return 0;
}

int
hy_cg_read_u64 (const char *dir, const char *file, uint64_t *out,
                hy_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  if (hy_cg_read (dir, file, &text, err) < 0)
    return -1;
  if (parse_u64_value (text, out) < 0)
    return hy_error (err, EINVAL, "read `%s/%s`: not a number: \"%.32s\"", dir,
                     file, text);
  return 0;
}

uint64_t
hy_cg_text_key_u64 (const char *text, const char *key)
{
  size_t klen = strlen (key);
  for (const char *line = text; line && *line;)
    {
      if (strncmp (line, key, klen) == 0 && line[klen] == ' ')
        {
          uint64_t v = 0;
          return parse_u64_value (line + klen + 1, &v) < 0 ? 0 : v;
        }
      line = strchr (line, '\n');
      if (line)
        line++;
    }
  return 0;
}

int
hy_cg_read_key_u64 (const char *dir, const char *file, const char *key,
                    uint64_t *out, hy_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  if (hy_cg_read (dir, file, &text, err) < 0)
    return -1;
  *out = hy_cg_text_key_u64 (text, key);
  return 0;
}

void
hy_cg_sleep_ms (unsigned ms)
{
  struct timespec ts
      = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}
