#include "runtime/linux/resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

int
hy_openat_in_root (int rootfd, const char *path, int flags, mode_t mode)
{
  struct open_how how = {
    .flags = (unsigned long long) (flags | O_CLOEXEC),
    .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  if (*path == '\0')
    path = "/";
  for (;;)
    {
      /* EAGAIN: a rename raced with the ".." checks of the resolution. */
      long fd = syscall (SYS_openat2, rootfd, path, &how, sizeof (how));
      if (fd >= 0 || errno != EAGAIN)
        return (int) fd;
    }
}

/* Symlinks followed while creating, as the kernel allows in a path. */
#define MAX_HOPS 40

/* Returned with *redirect set: a dangling symlink is in the way, go on
 * with the path it leads to. */
#define REDIRECT (-2)

/* Open the prefix of `path` that ends at `end`, as a directory. */
static int
open_prefix (int rootfd, char *path, char *end)
{
  char saved = *end;
  *end = '\0';
  int fd = hy_openat_in_root (rootfd, path, O_PATH | O_DIRECTORY, 0);
  *end = saved;
  return fd;
}

static bool
is_symlink (int dirfd, const char *name)
{
  struct stat st;
  return fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
         && S_ISLNK (st.st_mode);
}

/* Where the dangling symlink `name` (in `dirfd`, the directory reached by
 * the first dir_len bytes of `path`) leads, followed by `rest`: the link
 * read, then resolved again from the root.  A relative link is relative to
 * its directory; either way RESOLVE_IN_ROOT keeps it in the root. */
static int
follow_dangling (int dirfd, const char *name, const char *path, size_t dir_len,
                 const char *rest, char **redirect, hy_error_t *err)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat (dirfd, name, target, sizeof (target) - 1);
  if (n < 0)
    return hy_error_errno (err, "readlink `%.*s%s`", (int) dir_len, path,
                           name);
  target[n] = '\0';
  const char *sep = *rest ? "/" : "";
  *redirect = target[0] == '/' ? xasprintf ("%s%s%s", target, sep, rest)
                               : xasprintf ("%.*s/%s%s%s", (int) dir_len, path,
                                            target, sep, rest);
  return REDIRECT;
}

/* Create the component [start, end) of `path` inside the already resolved
 * directory `dirfd`, then resolve the prefix again from the root. */
static int
mkdir_component (int rootfd, int dirfd, char *path, char *start, char *end,
                 mode_t mode, char **redirect, hy_error_t *err)
{
  _cleanup_free_ char *name = xstrndup (start, (size_t) (end - start));
  if (mkdirat (dirfd, name, mode) < 0 && errno != EEXIST)
    return hy_error_errno (err, "mkdir `%.*s`", (int) (end - path), path);
  int fd = open_prefix (rootfd, path, end);
  if (fd >= 0)
    return fd;
  if (errno == ENOENT && is_symlink (dirfd, name))
    return follow_dangling (dirfd, name, path, (size_t) (start - path),
                            end + strspn (end, "/"), redirect, err);
  return hy_error_errno (err, "open `%.*s`", (int) (end - path), path);
}

static int
mkdir_components (int rootfd, const char *path, mode_t mode, char **redirect,
                  hy_error_t *err)
{
  _cleanup_free_ char *buf = xstrdup (path);
  _cleanup_close_ int dirfd
      = hy_openat_in_root (rootfd, "/", O_PATH | O_DIRECTORY, 0);
  if (dirfd < 0)
    return hy_error_errno (err, "open the rootfs");

  char *p = buf;
  while (*p)
    {
      while (*p == '/')
        p++;
      char *end = p + strcspn (p, "/");
      if (end == p)
        break;
      int fd = open_prefix (rootfd, buf, end);
      if (fd < 0 && errno != ENOENT)
        return hy_error_errno (err, "open `%.*s`", (int) (end - buf), buf);
      if (fd < 0)
        fd = mkdir_component (rootfd, dirfd, buf, p, end, mode, redirect, err);
      if (fd < 0)
        return fd;
      close (dirfd);
      dirfd = fd;
      p = end;
    }
  return steal_fd (&dirfd);
}

int
hy_mkdir_in_root (int rootfd, const char *path, mode_t mode, hy_error_t *err)
{
  _cleanup_free_ char *current = xstrdup (path);
  for (int hops = 0; hops <= MAX_HOPS; hops++)
    {
      int fd = hy_openat_in_root (rootfd, current, O_PATH | O_DIRECTORY, 0);
      if (fd >= 0)
        return fd;
      if (errno != ENOENT)
        return hy_error_errno (err, "open `%s`", current);
      char *next = NULL;
      fd = mkdir_components (rootfd, current, mode, &next, err);
      if (fd != REDIRECT)
        return fd;
      free (current);
      current = next;
    }
  return hy_error (err, ELOOP, "mkdir `%s`: too many symlinks", path);
}

/* The directory part of `path` (through its last slash) and its last
 * component, which must be a name. */
static int
split_path (const char *path, char **dir, char **name, hy_error_t *err)
{
  size_t len = strlen (path);
  while (len > 1 && path[len - 1] == '/')
    len--;
  _cleanup_free_ char *copy = xstrndup (path, len);
  char *slash = strrchr (copy, '/');
  const char *base = slash ? slash + 1 : copy;
  if (*base == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    return hy_error (err, EINVAL, "`%s` does not end in a file name", path);
  *name = xstrdup (base);
  *dir = xstrndup (copy, (size_t) (base - copy));
  return 0;
}

int
hy_parent_in_root (int rootfd, const char *path, char **name, hy_error_t *err)
{
  _cleanup_free_ char *dir = NULL;
  _cleanup_free_ char *last = NULL;
  if (split_path (path, &dir, &last, err) < 0)
    return -1;
  int fd = hy_mkdir_in_root (rootfd, dir, 0755, err);
  if (fd < 0)
    return -1;
  *name = steal_pointer (&last);
  return fd;
}

/* An empty file at `path`, or REDIRECT when `path` is a dangling symlink. */
static int
create_file (int rootfd, const char *path, char **redirect, hy_error_t *err)
{
  _cleanup_free_ char *dir = NULL;
  _cleanup_free_ char *name = NULL;
  if (split_path (path, &dir, &name, err) < 0)
    return -1;
  _cleanup_close_ int dirfd = hy_mkdir_in_root (rootfd, dir, 0755, err);
  if (dirfd < 0)
    return -1;
  /* O_EXCL never follows a symlink: a dangling one fails with EEXIST. */
  int fd = openat (
      dirfd, name,
      O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0644);
  if (fd < 0 && errno != EEXIST)
    return hy_error_errno (err, "create `%s`", path);
  if (fd >= 0)
    close (fd);
  fd = hy_openat_in_root (rootfd, path, O_PATH, 0);
  if (fd < 0 && errno == ENOENT && is_symlink (dirfd, name))
    return follow_dangling (dirfd, name, dir, strlen (dir), "", redirect, err);
  if (fd < 0)
    return hy_error_errno (err, "open `%s`", path);
  return fd;
}

static int
create_file_target (int rootfd, const char *path, hy_error_t *err)
{
  _cleanup_free_ char *current = xstrdup (path);
  for (int hops = 0; hops <= MAX_HOPS; hops++)
    {
      char *next = NULL;
      int fd = create_file (rootfd, current, &next, err);
      if (fd != REDIRECT)
        return fd;
      free (current);
      current = next;
    }
  return hy_error (err, ELOOP, "create `%s`: too many symlinks", path);
}

int
hy_mount_target_in_root (int rootfd, const char *path, bool is_dir,
                         hy_error_t *err)
{
  int fd = hy_openat_in_root (rootfd, path, O_PATH, 0);
  if (fd >= 0)
    return fd;
  if (errno != ENOENT)
    return hy_error_errno (err, "open `%s`", path);
  if (is_dir)
    return hy_mkdir_in_root (rootfd, path, 0755, err);
  return create_file_target (rootfd, path, err);
}

const char *
hy_proc_fd_path (int fd, char buf[HY_PROC_FD_PATH_MAX])
{
  snprintf (buf, HY_PROC_FD_PATH_MAX, "/proc/self/fd/%d", fd);
  return buf;
}

int
hy_fd_path_in_root (int fd, const char *root, char **out, hy_error_t *err)
{
  char link[HY_PROC_FD_PATH_MAX];
  char target[PATH_MAX];
  ssize_t n
      = readlink (hy_proc_fd_path (fd, link), target, sizeof (target) - 1);
  if (n < 0)
    return hy_error_errno (err, "readlink `%s`", link);
  target[n] = '\0';

  size_t rlen = strcmp (root, "/") == 0 ? 0 : strlen (root);
  if (strncmp (target, root, rlen) != 0
      || (target[rlen] != '/' && target[rlen] != '\0'))
    return hy_error (err, EXDEV, "`%s` is outside the rootfs `%s`", target,
                     root);
  *out = xstrdup (target[rlen] ? target + rlen : "/");
  return 0;
}
