#include "runtime/linux/copy-tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

static int copy_dir_content (int src, int dst, const char *rel,
                             hy_error_t *err);

static int
copy_data (int in, int out, const char *rel, hy_error_t *err)
{
  char buf[65536];
  for (;;)
    {
      ssize_t r = read (in, buf, sizeof (buf));
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return hy_error_errno (err, "read `%s`", rel);
      if (r == 0)
        return 0;
      for (ssize_t done = 0; done < r;)
        {
          ssize_t w = write (out, buf + done, (size_t) (r - done));
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return hy_error_errno (err, "write `%s`", rel);
          done += w;
        }
    }
}

static int
copy_file (int src, int dst, const char *name, const char *rel,
           hy_error_t *err)
{
  _cleanup_close_ int in
      = openat (src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (in < 0)
    return hy_error_errno (err, "open `%s`", rel);
  _cleanup_close_ int out = openat (
      dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return hy_error_errno (err, "create `%s`", rel);
  return copy_data (in, out, rel, err);
}

static int
copy_symlink (int src, int dst, const char *name, const char *rel,
              hy_error_t *err)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat (src, name, target, sizeof (target) - 1);
  if (n < 0)
    return hy_error_errno (err, "readlink `%s`", rel);
  target[n] = '\0';
  if (symlinkat (target, dst, name) < 0)
    return hy_error_errno (err, "symlink `%s`", rel);
  return 0;
}

static int
copy_dir (int src, int dst, const char *name, const char *rel, hy_error_t *err)
{
  if (mkdirat (dst, name, 0700) < 0)
    return hy_error_errno (err, "mkdir `%s`", rel);
  int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  _cleanup_close_ int in = openat (src, name, flags);
  if (in < 0)
    return hy_error_errno (err, "open `%s`", rel);
  _cleanup_close_ int out = openat (dst, name, flags);
  if (out < 0)
    return hy_error_errno (err, "open `%s`", rel);
  return copy_dir_content (in, out, rel, err);
}

/* Owner first: chown clears the set-id bits that chmod then restores.  An
 * id without a mapping in this user namespace (EINVAL) stays as created. */
static int
copy_attributes (int dst, const char *name, const struct stat *st,
                 const char *rel, hy_error_t *err)
{
  if (fchownat (dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0
      && errno != EINVAL)
    return hy_error_errno (err, "chown `%s`", rel);
  if (!S_ISLNK (st->st_mode)
      && fchmodat (dst, name, st->st_mode & 07777, 0) < 0)
    return hy_error_errno (err, "chmod `%s`", rel);
  return 0;
}

static int
copy_entry (int src, int dst, const char *name, const char *rel,
            hy_error_t *err)
{
  struct stat st;
  if (fstatat (src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return hy_error_errno (err, "stat `%s`", rel);
  int r;
  switch (st.st_mode & S_IFMT)
    {
    case S_IFDIR:
      r = copy_dir (src, dst, name, rel, err);
      break;
    case S_IFREG:
      r = copy_file (src, dst, name, rel, err);
      break;
    case S_IFLNK:
      r = copy_symlink (src, dst, name, rel, err);
      break;
    default:
      r = mknodat (dst, name, st.st_mode, st.st_rdev) < 0
              ? hy_error_errno (err, "mknod `%s`", rel)
              : 0;
    }
  if (r < 0)
    return -1;
  return copy_attributes (dst, name, &st, rel, err);
}

static int
copy_dir_content (int src, int dst, const char *rel, hy_error_t *err)
{
  int fd = openat (src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "open `%s`", rel);
  _cleanup_closedir_ DIR *dir = fdopendir (fd);
  if (dir == NULL)
    {
      close (fd);
      return hy_error_errno (err, "opendir `%s`", rel);
    }
  for (;;)
    {
      errno = 0;
      struct dirent *de = readdir (dir);
      if (de == NULL)
        return errno ? hy_error_errno (err, "readdir `%s`", rel) : 0;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      _cleanup_free_ char *child = xasprintf ("%s/%s", rel, de->d_name);
      if (copy_entry (src, dst, de->d_name, child, err) < 0)
        return -1;
    }
}

int
hy_copy_tree (int src, int dst, hy_error_t *err)
{
  return copy_dir_content (src, dst, ".", err);
}
