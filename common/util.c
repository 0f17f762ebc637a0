#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

static void *
oom (void)
{
  fputs ("hyrun: out of memory\n", stderr);
  abort ();
}

void *
xmalloc0 (size_t size)
{
  void *p = calloc (1, size ? size : 1);
  return p ? p : oom ();
}

void *
xrealloc (void *p, size_t size)
{
  void *n = realloc (p, size ? size : 1);
  return n ? n : oom ();
}

char *
xstrdup (const char *s)
{
  if (s == NULL)
    return NULL;
  char *d = strdup (s);
  return d ? d : oom ();
}

char *
xstrndup (const char *s, size_t n)
{
  char *d = strndup (s, n);
  return d ? d : oom ();
}

char *
xasprintf (const char *fmt, ...)
{
  char *s;
  va_list ap;
  va_start (ap, fmt);
  int r = vasprintf (&s, fmt, ap);
  va_end (ap);
  return r < 0 ? oom () : s;
}

size_t
strv_len (char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

char **
strv_dup (char *const *v)
{
  if (v == NULL)
    return NULL;
  size_t n = strv_len (v);
  char **d = xmalloc0 ((n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    d[i] = xstrdup (v[i]);
  return d;
}

void
strv_free (char **v)
{
  cleanup_strvp (&v);
}

bool
strv_contains (char *const *v, const char *s)
{
  for (size_t i = 0; v && v[i]; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

bool
str_has_prefix (const char *s, const char *prefix)
{
  return strncmp (s, prefix, strlen (prefix)) == 0;
}

int
read_file_at (int dirfd, const char *path, size_t max_size, char **out,
              size_t *len, hy_error_t *err)
{
  _cleanup_close_ int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "open `%s`", path);

  size_t cap = 4096, used = 0;
  _cleanup_free_ char *buf = xmalloc0 (cap + 1);
  for (;;)
    {
      if (used == cap)
        {
          if (cap >= max_size)
            return hy_error (err, EFBIG, "read `%s`: larger than %zu bytes",
                             path, max_size);
          cap = cap * 2 > max_size ? max_size : cap * 2;
          buf = xrealloc (buf, cap + 1);
        }
      ssize_t r = read (fd, buf + used, cap - used);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return hy_error_errno (err, "read `%s`", path);
      if (r == 0)
        break;
      used += (size_t) r;
    }
  buf[used] = '\0';
  if (len)
    *len = used;
  *out = steal_pointer (&buf);
  return 0;
}

static int
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t w = write (fd, buf, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return -1;
      buf += w;
      len -= (size_t) w;
    }
  return 0;
}

int
write_file_atomic (const char *path, const char *buf, size_t len, mode_t mode,
                   hy_error_t *err)
{
  _cleanup_free_ char *tmp = xasprintf ("%s.tmp.%d", path, getpid ());
  _cleanup_close_ int fd
      = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return hy_error_errno (err, "create `%s`", tmp);
  if (write_all (fd, buf, len) < 0 || rename (tmp, path) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return hy_error (err, saved, "write `%s`", path);
    }
  return 0;
}

int
mkdir_parents (const char *path, mode_t mode, hy_error_t *err)
{
  _cleanup_free_ char *copy = xstrdup (path);
  for (char *p = copy + 1;; p++)
    {
      bool end = *p == '\0';
      if (*p != '/' && !end)
        continue;
      *p = '\0';
      if (mkdir (copy, mode) < 0 && errno != EEXIST)
        return hy_error_errno (err, "create `%s`", copy);
      if (end)
        return 0;
      *p = '/';
    }
}

int
parse_int64 (const char *s, long long min, long long max, long long *out)
{
  if (s == NULL || *s == '\0')
    return -1;
  char *end;
  errno = 0;
  long long v = strtoll (s, &end, 10);
  if (errno || *end != '\0' || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

int
parse_uint64 (const char *s, unsigned long long *out)
{
  if (s == NULL || *s < '0' || *s > '9')
    return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull (s, &end, 10);
  if (errno || *end != '\0')
    return -1;
  *out = v;
  return 0;
}

/* ---- removing a tree ---- */

#define RM_TREE_MAX_DEPTH 64

static bool
is_mount_root (int parent, const char *name)
{
  struct statx stx;
  if (statx (parent, name, AT_SYMLINK_NOFOLLOW, 0, &stx) < 0)
    return false;
  return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
         && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int
rm_tree_depth (int parent, const char *name, int depth)
{
  if (unlinkat (parent, name, 0) == 0 || errno == ENOENT)
    return 0;
  if ((errno != EISDIR && errno != EPERM) || depth > RM_TREE_MAX_DEPTH
      || is_mount_root (parent, name))
    return -1;
  int fd = openat (parent, name,
                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  DIR *d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return -1;
    }
  int r = 0;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    {
      if (str_eq (e->d_name, ".") || str_eq (e->d_name, ".."))
        continue;
      if (rm_tree_depth (dirfd (d), e->d_name, depth + 1) < 0)
        r = -1;
    }
  closedir (d);
  if (unlinkat (parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    r = -1;
  return r;
}

int
rm_tree_at (int parent, const char *name)
{
  return rm_tree_depth (parent, name, 0);
}
