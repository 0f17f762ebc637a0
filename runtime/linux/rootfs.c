#include "runtime/linux/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/linux/devices.h"
#include "runtime/linux/mount-options.h"
#include "common/mountinfo.h"
#include "runtime/linux/mounts.h"
#include "runtime/linux/resolve.h"

/* ---- propagation ---- */

static int
propagation_flags (const char *name, unsigned long *out, hy_error_t *err)
{
  *out = MS_SLAVE | MS_REC;
  if (name == NULL || *name == '\0')
    return 0;
  char *opts[] = { (char *) name, NULL };
  struct hy_mount_options o;
  if (hy_mount_options_parse (opts, &o, err) < 0)
    return -1;
  unsigned long propagation = o.propagation;
  hy_mount_options_release (&o);
  if (propagation == 0)
    return hy_error (err, EINVAL,
                     ".linux.rootfsPropagation: unknown "
                     "propagation \"%s\"",
                     name);
  *out = propagation;
  return 0;
}

int
hy_rootfs_set_propagation (const char *propagation, hy_error_t *err)
{
  unsigned long flags = 0;
  if (propagation_flags (propagation, &flags, err) < 0)
    return -1;
  if (mount (NULL, "/", NULL, flags, NULL) < 0)
    return hy_error_errno (err, "set the propagation of `/`");
  return 0;
}

/* pivot_root refuses a new root whose parent mount is shared: the mount
 * holding the rootfs becomes private (runc's rootfsParentMountPrivate).
 * EINVAL means `p` is not a mount point: try its parent. */
static int
make_parent_private (const char *path, hy_error_t *err)
{
  _cleanup_free_ char *p = xstrdup (path);
  for (;;)
    {
      if (mount (NULL, p, NULL, MS_PRIVATE, NULL) == 0)
        return 0;
      if (errno != EINVAL || str_eq (p, "/"))
        return hy_error_errno (err, "make the mount of `%s` private", p);
      char *slash = strrchr (p, '/');
      slash[slash == p ? 1 : 0] = '\0';
    }
}

/* ---- the steps ---- */

int
hy_rootfs_prepare (struct hy_rootfs *r, const struct oci_config *c,
                   const char *rootfs, bool no_pivot, hy_error_t *err)
{
  *r = (struct hy_rootfs){ .config = c, .rootfd = -1, .no_pivot = no_pivot };
  r->path = realpath (rootfs, NULL);
  if (r->path == NULL)
    return hy_error_errno (err, "rootfs `%s`", rootfs);
  const char *propagation = c->linux_ ? c->linux_->rootfs_propagation : NULL;
  if (hy_rootfs_set_propagation (propagation, err) < 0
      || make_parent_private (r->path, err) < 0)
    return -1;
  if (mount (r->path, r->path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return hy_error_errno (err, "bind the rootfs `%s` onto itself", r->path);
  r->rootfd = open (r->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (r->rootfd < 0)
    return hy_error_errno (err, "open the rootfs `%s`", r->path);
  return 0;
}

/* "/dev", "//dev/" */
static bool
is_dev (const char *path)
{
  while (*path == '/')
    path++;
  if (strncmp (path, "dev", 3) != 0)
    return false;
  for (path += 3; *path == '/'; path++)
    ;
  return *path == '\0';
}

static bool
dev_is_bind_mounted (const struct oci_config *c)
{
  for (size_t i = 0; i < c->n_mounts; i++)
    {
      const struct oci_mount *m = &c->mounts[i];
      bool bind = str_eq (m->type, "bind")
                  || strv_contains (m->options, "bind")
                  || strv_contains (m->options, "rbind");
      if (bind && is_dev (m->destination))
        return true;
    }
  return false;
}

/* The index of a /dev mount asking for "ro", or -1. */
static ssize_t
readonly_dev (const struct oci_config *c)
{
  for (size_t i = 0; i < c->n_mounts; i++)
    if (is_dev (c->mounts[i].destination)
        && strv_contains (c->mounts[i].options, "ro"))
      return (ssize_t) i;
  return -1;
}

/* The options without "ro" (a shallow copy: the strings are borrowed). */
static char **
without_ro (char *const *options)
{
  char **out = xmalloc0 ((strv_len (options) + 1) * sizeof (char *));
  for (size_t i = 0, n = 0; options[i]; i++)
    if (!str_eq (options[i], "ro"))
      out[n++] = options[i];
  return out;
}

/* A read-only /dev is mounted writable, filled with the devices, then
 * remounted read-only with its other flags, as runc does. */
static int
remount_dev_readonly (struct hy_rootfs *r, const struct oci_mount *m,
                      hy_error_t *err)
{
  struct hy_mount_options o;
  if (hy_mount_options_parse (m->options, &o, err) < 0)
    return -1;
  _cleanup_close_ int fd
      = hy_openat_in_root (r->rootfd, "/dev", O_PATH | O_DIRECTORY, 0);
  char path[HY_PROC_FD_PATH_MAX];
  int ret = 0;
  if (fd < 0
      || mount (NULL, hy_proc_fd_path (fd, path), NULL,
                MS_REMOUNT | o.flags, o.data) < 0)
    ret = hy_error_errno (err, "remount `/dev` read-only");
  hy_mount_options_release (&o);
  return ret;
}

int
hy_rootfs_mount (struct hy_rootfs *r, hy_error_t *err)
{
  const struct oci_config *c = r->config;
  struct hy_mount_ctx ctx = { .rootfd = r->rootfd,
                              .rootfs = r->path,
                              .linux_ = c->linux_,
                              .source_fds = r->source_fds };
  if (dev_is_bind_mounted (c))
    return hy_mounts_apply (&ctx, c->mounts, c->n_mounts, err);
  ssize_t ro_dev = readonly_dev (c);
  _cleanup_free_ struct oci_mount *mounts = NULL;
  _cleanup_free_ char **dev_options = NULL;
  const struct oci_mount *list = c->mounts;
  if (ro_dev >= 0)
    {
      mounts = xmalloc0 (c->n_mounts * sizeof (*mounts));
      memcpy (mounts, c->mounts, c->n_mounts * sizeof (*mounts));
      dev_options = without_ro (c->mounts[ro_dev].options);
      mounts[ro_dev].options = dev_options;
      list = mounts;
    }
  if (hy_mounts_apply (&ctx, list, c->n_mounts, err) < 0
      || hy_devices_setup (r->rootfd, c->linux_, err) < 0)
    return -1;
  return ro_dev >= 0 ? remount_dev_readonly (r, &c->mounts[ro_dev], err) : 0;
}

/* ---- masked and read-only paths ---- */

int
hy_open_dev_null (hy_error_t *err)
{
  _cleanup_close_ int fd = open ("/dev/null", O_PATH | O_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "open `/dev/null`");
  struct stat st;
  if (fstat (fd, &st) < 0)
    return hy_error_errno (err, "stat `/dev/null`");
  if (!S_ISCHR (st.st_mode) || major (st.st_rdev) != 1
      || minor (st.st_rdev) != 3)
    return hy_error (err, 0, "`/dev/null` is not the null device");
  return steal_fd (&fd);
}

/* The entry at `path` inside the root in *fd; -1 there when absent. */
static int
open_listed_path (int rootfd, const char *path, const char *list, int *fd,
                  hy_error_t *err)
{
  *fd = hy_openat_in_root (rootfd, path, O_PATH, 0);
  if (*fd < 0 && errno != ENOENT)
    return hy_error_errno (err, "%s: open `%s`", list, path);
  return 0;
}

int
hy_rootfs_mask_path (int rootfd, const char *path, int dev_null,
                     hy_error_t *err)
{
  _cleanup_close_ int fd = -1;
  if (open_listed_path (rootfd, path, "maskedPaths", &fd, err) < 0)
    return -1;
  if (fd < 0)
    return 0;
  struct stat st;
  if (fstat (fd, &st) < 0)
    return hy_error_errno (err, "maskedPaths: stat `%s`", path);
  char target[HY_PROC_FD_PATH_MAX], source[HY_PROC_FD_PATH_MAX];
  hy_proc_fd_path (fd, target);
  int r = S_ISDIR (st.st_mode)
              ? mount ("tmpfs", target, "tmpfs",
                       MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)
              : mount (hy_proc_fd_path (dev_null, source), target, NULL,
                       MS_BIND, NULL);
  if (r < 0)
    return hy_error_errno (err, "maskedPaths: mask `%s`", path);
  return 0;
}

int
hy_rootfs_readonly_path (int rootfd, const char *path, hy_error_t *err)
{
  _cleanup_close_ int fd = -1;
  if (open_listed_path (rootfd, path, "readonlyPaths", &fd, err) < 0)
    return -1;
  if (fd < 0)
    return 0;
  char self[HY_PROC_FD_PATH_MAX];
  if (hy_bind_mount (hy_proc_fd_path (fd, self), fd, true, err) < 0)
    return hy_error_prepend (err, "readonlyPaths: `%s`", path);
  _cleanup_close_ int top = hy_openat_in_root (rootfd, path, O_PATH, 0);
  if (top < 0)
    return hy_error_errno (err, "readonlyPaths: open `%s`", path);
  unsigned long flags = 0;
  if (hy_mount_current_flags (top, &flags, err) < 0
      || hy_remount_bind (top, flags | MS_RDONLY, 0, err) < 0)
    return hy_error_prepend (err, "readonlyPaths: `%s`", path);
  return 0;
}

static int
apply_path_lists (int rootfd, const struct oci_linux *l, hy_error_t *err)
{
  for (size_t i = 0; l->readonly_paths && l->readonly_paths[i]; i++)
    if (hy_rootfs_readonly_path (rootfd, l->readonly_paths[i], err) < 0)
      return -1;
  if (l->masked_paths == NULL || l->masked_paths[0] == NULL)
    return 0;
  _cleanup_close_ int dev_null = hy_open_dev_null (err);
  if (dev_null < 0)
    return -1;
  for (size_t i = 0; l->masked_paths[i]; i++)
    if (hy_rootfs_mask_path (rootfd, l->masked_paths[i], dev_null, err) < 0)
      return -1;
  return 0;
}

/* ---- changing root ---- */

int
hy_rootfs_pivot (const char *rootfs, hy_error_t *err)
{
  _cleanup_close_ int oldroot = open ("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0)
    return hy_error_errno (err, "open `/`");
  _cleanup_close_ int newroot
      = open (rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (newroot < 0)
    return hy_error_errno (err, "open `%s`", rootfs);
  if (fchdir (newroot) < 0)
    return hy_error_errno (err, "chdir `%s`", rootfs);
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return hy_error_errno (err, "pivot_root `%s`", rootfs);
  /* The old root is now stacked on top of the new one, at "/".  Make sure
   * detaching it cannot propagate to the host, then detach it. */
  if (fchdir (oldroot) < 0)
    return hy_error_errno (err, "chdir to the old root");
  if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return hy_error_errno (err, "make the old root rslave");
  if (umount2 (".", MNT_DETACH) < 0)
    return hy_error_errno (err, "detach the old root");
  if (chdir ("/") < 0)
    return hy_error_errno (err, "chdir `/`");
  return 0;
}

static bool
is_under (const char *path, const char *dir)
{
  size_t n = strlen (dir);
  return strncmp (path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* A chroot leaves the host's mounts in the namespace: proc and sysfs
 * would still count as visible to the kernel ("mnt_already_visible"),
 * letting the container mount its own.  Detach them, or cover them. */
static int
hide_host_kernel_fs (const char *rootfs, hy_error_t *err)
{
  struct hy_mountinfo mi;
  if (hy_mountinfo_read (NULL, &mi, err) < 0)
    return -1;
  int r = 0;
  for (size_t i = mi.n; i > 0 && r == 0; i--)
    {
      const struct hy_mountinfo_entry *e = &mi.entries[i - 1];
      if ((!str_eq (e->fstype, "proc") && !str_eq (e->fstype, "sysfs"))
          || is_under (e->mount_point, rootfs))
        continue;
      if (umount2 (e->mount_point, MNT_DETACH) == 0 || errno == EINVAL
          || errno == ENOENT)
        continue;
      if (mount ("tmpfs", e->mount_point, "tmpfs", MS_RDONLY, NULL) < 0)
        r = hy_error_errno (err, "hide `%s`", e->mount_point);
    }
  hy_mountinfo_free (&mi);
  return r;
}

int
hy_rootfs_move_root (const char *rootfs, hy_error_t *err)
{
  if (hide_host_kernel_fs (rootfs, err) < 0)
    return -1;
  if (chdir (rootfs) < 0)
    return hy_error_errno (err, "chdir `%s`", rootfs);
  if (mount (rootfs, "/", NULL, MS_MOVE, NULL) < 0)
    return hy_error_errno (err, "move `%s` onto `/`", rootfs);
  if (chroot (".") < 0)
    return hy_error_errno (err, "chroot `%s`", rootfs);
  if (chdir ("/") < 0)
    return hy_error_errno (err, "chdir `/`");
  return 0;
}

int
hy_rootfs_make_readonly (hy_error_t *err)
{
  struct statfs sf;
  if (statfs ("/", &sf) < 0)
    return hy_error_errno (err, "statfs `/`");
  unsigned long flags = hy_statfs_locked_flags ((unsigned long) sf.f_flags);
  if (hy_remount_bind_at ("/", flags | MS_RDONLY, 0, err) < 0)
    return hy_error_prepend (err, "make `/` read-only");
  return 0;
}

int
hy_rootfs_finalize (struct hy_rootfs *r, hy_error_t *err)
{
  const struct oci_config *c = r->config;
  const struct oci_linux *l = c->linux_;
  /* Before the pivot: these go through the runtime's /proc. */
  if (l && apply_path_lists (r->rootfd, l, err) < 0)
    return -1;
  if ((r->no_pivot ? hy_rootfs_move_root (r->path, err)
                   : hy_rootfs_pivot (r->path, err))
      < 0)
    return -1;
  close (r->rootfd);
  r->rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (r->rootfd < 0)
    return hy_error_errno (err, "open `/`");
  if (c->root && c->root->readonly && hy_rootfs_make_readonly (err) < 0)
    return -1;
  /* A propagation asked for is the new root's too (crun). */
  if (l && l->rootfs_propagation && *l->rootfs_propagation)
    return hy_rootfs_set_propagation (l->rootfs_propagation, err);
  return 0;
}

void
hy_rootfs_release (struct hy_rootfs *r)
{
  free (r->path);
  r->path = NULL;
  if (r->rootfd >= 0)
    close (r->rootfd);
  r->rootfd = -1;
}

int
hy_rootfs_setup (const struct oci_config *c, const char *rootfs, bool no_pivot,
                 hy_error_t *err)
{
  struct hy_rootfs r;
  int ret = hy_rootfs_prepare (&r, c, rootfs, no_pivot, err);
  if (ret == 0)
    ret = hy_rootfs_mount (&r, err);
  if (ret == 0)
    ret = hy_rootfs_finalize (&r, err);
  hy_rootfs_release (&r);
  return ret;
}
