#include "runtime/linux/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/linux/copy-tree.h"
#include "runtime/linux/namespaces.h"
#include "runtime/linux/resolve.h"

/* Flags that say how to mount, not what the mount is. */
#define MS_PLACEMENT (MS_BIND | MS_REC | MS_REMOUNT)
/* The atime mode: the kernel locks these together. */
#define MS_ATIME_MASK                                                         \
  (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)

enum mount_kind
{
  KIND_FS,
  KIND_BIND,
  KIND_IDMAP,
  KIND_CGROUP,
};

/* ---- building blocks ---- */

unsigned long
hy_statfs_locked_flags (unsigned long f_flags)
{
  static const struct
  {
    unsigned long st, ms;
  } map[] = {
    { ST_RDONLY, MS_RDONLY },     { ST_NOSUID, MS_NOSUID },
    { ST_NODEV, MS_NODEV },       { ST_NOEXEC, MS_NOEXEC },
    { ST_NOATIME, MS_NOATIME },   { ST_NODIRATIME, MS_NODIRATIME },
    { ST_RELATIME, MS_RELATIME },
  };
  unsigned long flags = 0;
  for (size_t i = 0; i < sizeof (map) / sizeof (map[0]); i++)
    if (f_flags & map[i].st)
      flags |= map[i].ms;
  return flags;
}

int
hy_bind_mount (const char *source, int target, bool recursive, hy_error_t *err)
{
  char p[HY_PROC_FD_PATH_MAX];
  if (mount (source, hy_proc_fd_path (target, p), NULL,
             MS_BIND | (recursive ? MS_REC : 0), NULL)
      < 0)
    return hy_error_errno (err, "bind `%s`", source);
  return 0;
}

static int
current_flags (const char *path, unsigned long *flags, hy_error_t *err)
{
  struct statfs sf;
  if (statfs (path, &sf) < 0)
    return hy_error_errno (err, "statfs");
  *flags = hy_statfs_locked_flags ((unsigned long) sf.f_flags);
  return 0;
}

/* The flags to retry a refused remount with, or -1 when the request
 * itself contradicts what the kernel locked. */
static int
add_locked_flags (unsigned long *flags, unsigned long cleared,
                  unsigned long locked)
{
  unsigned long atime = *flags & MS_ATIME_MASK;
  if ((cleared & locked) || (atime && atime != (locked & MS_ATIME_MASK)))
    return -1;
  *flags |= atime ? locked & ~MS_ATIME_MASK : locked;
  return 0;
}

int
hy_remount_bind_at (const char *path, unsigned long flags,
                    unsigned long cleared, hy_error_t *err)
{
  if (mount (NULL, path, NULL, MS_BIND | MS_REMOUNT | flags, NULL) == 0)
    return 0;
  if (errno != EPERM)
    return hy_error_errno (err, "remount");

  unsigned long locked = 0, retry = flags;
  if (current_flags (path, &locked, err) < 0)
    return -1;
  if (add_locked_flags (&retry, cleared, locked) < 0)
    return hy_error (err, EPERM,
                     "remount: conflicts with the flags locked "
                     "on the source mount");
  if (retry == flags)
    return hy_error (err, EPERM, "remount");
  if (mount (NULL, path, NULL, MS_BIND | MS_REMOUNT | retry, NULL) < 0)
    return hy_error_errno (err, "remount with the locked flags");
  return 0;
}

int
hy_remount_bind (int fd, unsigned long flags, unsigned long cleared,
                 hy_error_t *err)
{
  char p[HY_PROC_FD_PATH_MAX];
  return hy_remount_bind_at (hy_proc_fd_path (fd, p), flags, cleared, err);
}

int
hy_mount_current_flags (int fd, unsigned long *flags, hy_error_t *err)
{
  char p[HY_PROC_FD_PATH_MAX];
  return current_flags (hy_proc_fd_path (fd, p), flags, err);
}

static int
reopen (const struct hy_mount_ctx *ctx, const char *path, int flags,
        hy_error_t *err)
{
  int fd = hy_openat_in_root (ctx->rootfd, path, flags, 0);
  if (fd < 0)
    return hy_error_errno (err, "open `%s`", path);
  return fd;
}

/* After a bind: apply the mount flags to the new mount.  With only flags
 * turned off ("rw", "suid"), the source's other flags stay. */
static int
remount_top (const struct hy_mount_ctx *ctx, const char *path,
             const struct hy_mount_options *o, hy_error_t *err)
{
  unsigned long flags = o->flags & ~MS_PLACEMENT;
  if (flags == 0 && o->clear == 0)
    return 0;
  _cleanup_close_ int top = reopen (ctx, path, O_PATH, err);
  if (top < 0)
    return -1;
  if (flags == 0)
    {
      unsigned long current = 0;
      if (hy_mount_current_flags (top, &current, err) < 0)
        return -1;
      if ((current & o->clear) == 0)
        return 0;
      flags = current & ~o->clear;
    }
  return hy_remount_bind (top, flags, o->clear, err);
}

static int
bind_at (const struct hy_mount_ctx *ctx, const char *source, const char *path,
         int target, const struct hy_mount_options *o, hy_error_t *err)
{
  if (hy_bind_mount (source, target, o->flags & MS_REC, err) < 0)
    return -1;
  return remount_top (ctx, path, o, err);
}

/* ---- the kinds of mounts ---- */

static int
idmapped_tree (const struct hy_mount_ctx *ctx, const struct oci_mount *m,
               const struct hy_mount_options *o, hy_error_t *err)
{
  const struct oci_idmap *uids = m->uid_mappings, *gids = m->gid_mappings;
  size_t n_uids = m->n_uid_mappings, n_gids = m->n_gid_mappings;
  if (n_uids == 0 && n_gids == 0 && ctx->linux_)
    {
      uids = ctx->linux_->uid_mappings;
      n_uids = ctx->linux_->n_uid_mappings;
      gids = ctx->linux_->gid_mappings;
      n_gids = ctx->linux_->n_gid_mappings;
    }
  if (n_uids == 0 || n_gids == 0)
    return hy_error (err, EINVAL,
                     "an idmapped mount needs uidMappings and "
                     "gidMappings, its own or the container's");

  _cleanup_close_ int userns
      = hy_ns_new_userns_fd (uids, n_uids, gids, n_gids, err);
  if (userns < 0)
    return -1;
  bool recursive = (o->flags & MS_REC) || o->ridmap;
  _cleanup_close_ int tree = open_tree (AT_FDCWD, m->source,
                                        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC
                                            | (recursive ? AT_RECURSIVE : 0));
  if (tree < 0)
    return hy_error_errno (err, "open_tree `%s`", m->source);
  struct mount_attr attr
      = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) userns };
  if (mount_setattr (tree, "", AT_EMPTY_PATH | (o->ridmap ? AT_RECURSIVE : 0),
                     &attr, sizeof (attr))
      < 0)
    return hy_error_errno (err, "idmap `%s`", m->source);
  return steal_fd (&tree);
}

static int
mount_idmapped (const struct hy_mount_ctx *ctx, const struct oci_mount *m,
                const struct hy_mount_options *o, const char *path, int target,
                hy_error_t *err)
{
  _cleanup_close_ int tree = idmapped_tree (ctx, m, o, err);
  if (tree < 0)
    return -1;
  if (move_mount (tree, "", target, "",
                  MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
      < 0)
    return hy_error_errno (err, "move_mount `%s`", m->source);
  return remount_top (ctx, path, o, err);
}

/* tmpfs over a directory, with what the directory held copied in. */
static int
mount_tmpfs_copyup (const struct hy_mount_ctx *ctx, const struct oci_mount *m,
                    const struct hy_mount_options *o, const char *path,
                    int target, hy_error_t *err)
{
  if (!str_eq (m->type, "tmpfs"))
    return hy_error (err, EINVAL, "tmpcopyup is only for tmpfs");
  _cleanup_close_ int below
      = openat (target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (below < 0)
    return hy_error_errno (err, "open `%s`", path);
  unsigned long flags = o->flags & ~MS_PLACEMENT;
  char p[HY_PROC_FD_PATH_MAX];
  if (mount (m->source ? m->source : "tmpfs", hy_proc_fd_path (target, p),
             "tmpfs", flags & ~MS_RDONLY, o->data)
      < 0)
    return hy_error_errno (err, "mount tmpfs");
  _cleanup_close_ int top = reopen (ctx, path, O_RDONLY | O_DIRECTORY, err);
  if (top < 0)
    return -1;
  if (hy_copy_tree (below, top, err) < 0)
    return hy_error_prepend (err, "tmpcopyup");
  if ((flags & MS_RDONLY)
      && mount (NULL, hy_proc_fd_path (top, p), NULL, MS_REMOUNT | flags,
                o->data)
             < 0)
    return hy_error_errno (err, "remount tmpfs read-only");
  return 0;
}

/* When the kernel refuses sysfs or mqueue (a user namespace that does not
 * own the network or ipc namespace), the host's is bound instead. */
static const char *
fallback_source (const char *type, int errnum)
{
  if (str_eq (type, "sysfs") && (errnum == EPERM || errnum == EBUSY))
    return "/sys";
  if (str_eq (type, "mqueue") && errnum == EPERM)
    return "/dev/mqueue";
  return NULL;
}

static int
mount_fs (const struct hy_mount_ctx *ctx, const struct oci_mount *m,
          const struct hy_mount_options *o, const char *path, int target,
          hy_error_t *err)
{
  if (o->tmpcopyup)
    return mount_tmpfs_copyup (ctx, m, o, path, target, err);
  char p[HY_PROC_FD_PATH_MAX];
  if (mount (m->source ? m->source : m->type, hy_proc_fd_path (target, p),
             m->type, o->flags & ~MS_PLACEMENT, o->data)
      == 0)
    return 0;
  int errnum = errno;
  const char *host = fallback_source (m->type, errnum);
  if (host == NULL)
    return hy_error (err, errnum, "mount %s", m->type);
  struct hy_mount_options bind = *o;
  bind.flags |= MS_BIND | MS_REC;
  return bind_at (ctx, host, path, target, &bind, err);
}

/* ---- one entry ---- */

static enum mount_kind
mount_kind (const struct oci_mount *m, const struct hy_mount_options *o)
{
  if (o->idmap || o->ridmap || m->n_uid_mappings || m->n_gid_mappings)
    return KIND_IDMAP;
  if ((o->flags & MS_BIND) || str_eq (m->type, "bind"))
    return KIND_BIND;
  if (str_eq (m->type, "cgroup") || str_eq (m->type, "cgroup2"))
    return KIND_CGROUP;
  return KIND_FS;
}

static int
check_entry (const struct oci_mount *m, const struct hy_mount_options *o,
             enum mount_kind kind, hy_error_t *err)
{
  if (kind == KIND_IDMAP && !(o->flags & MS_BIND) && !str_eq (m->type, "bind"))
    return hy_error (err, EINVAL, "idmapped mounts must be bind mounts");
  if ((kind == KIND_BIND || kind == KIND_IDMAP) && m->source == NULL)
    return hy_error (err, EINVAL, "a bind mount needs a source");
  if (kind == KIND_FS && (m->type == NULL || *m->type == '\0'))
    return hy_error (err, EINVAL, "no type, and not a bind mount");
  return 0;
}

static bool
source_is_procfs (const struct oci_mount *m, const char *source,
                  enum mount_kind kind)
{
  if (kind == KIND_FS)
    return str_eq (m->type, "proc");
  struct statfs sf;
  return source && statfs (source, &sf) == 0
         && sf.f_type == PROC_SUPER_MAGIC;
}

/* runc's rule: nothing goes over /proc but a proc filesystem, nor inside
 * it but over the files lxcfs emulates. */
static int
check_proc_destination (const struct oci_mount *m, const char *source,
                        enum mount_kind kind, const char *path,
                        hy_error_t *err)
{
  static const char *const lxcfs_files[] = {
    "/proc/cpuinfo", "/proc/diskstats",
    "/proc/meminfo", "/proc/stat",
    "/proc/swaps",   "/proc/uptime",
    "/proc/loadavg", "/proc/slabinfo",
    "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
  };
  if (str_eq (path, "/proc"))
    return source_is_procfs (m, source, kind)
               ? 0
               : hy_error (err, EPERM,
                           "`/proc` cannot be mounted because "
                           "it is not of type proc");
  if (!str_has_prefix (path, "/proc/"))
    return 0;
  for (size_t i = 0; i < sizeof (lxcfs_files) / sizeof (lxcfs_files[0]); i++)
    if (str_eq (path, lxcfs_files[i]))
      return 0;
  return hy_error (err, EPERM,
                   "`%s` cannot be mounted because it is inside "
                   "/proc",
                   path);
}

/* runc's rule: proc and sysfs go on a real directory, never onto a
 * symlink or a file the rootfs put there. */
static int
check_ordinary_dir (const struct hy_mount_ctx *ctx, const struct oci_mount *m,
                    enum mount_kind kind, hy_error_t *err)
{
  if (kind != KIND_FS || !(str_eq (m->type, "proc") || str_eq (m->type, "sysfs")))
    return 0;
  _cleanup_close_ int fd = hy_openat_in_root (ctx->rootfd, m->destination,
                                              O_PATH | O_NOFOLLOW, 0);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0 || S_ISDIR (st.st_mode))
    return 0; /* absent: made as a directory */
  return hy_error (err, ENOTDIR,
                   "filesystem \"%s\" must be mounted on ordinary directory",
                   m->type);
}

static int
target_is_dir (const struct oci_mount *m, const char *source,
               enum mount_kind kind, bool *is_dir, hy_error_t *err)
{
  struct stat st;
  *is_dir = true;
  if (kind != KIND_BIND && kind != KIND_IDMAP)
    return 0;
  if (stat (source, &st) < 0)
    return hy_error_errno (err, "stat `%s`", m->source);
  *is_dir = S_ISDIR (st.st_mode);
  return 0;
}

/* Propagation, then the recursive attributes, on the new mount. */
static int
finish_mount (const struct hy_mount_ctx *ctx, const char *path,
              const struct hy_mount_options *o, hy_error_t *err)
{
  if (o->propagation == 0 && o->attr_set == 0 && o->attr_clr == 0)
    return 0;
  _cleanup_close_ int top = reopen (ctx, path, O_PATH, err);
  if (top < 0)
    return -1;
  char p[HY_PROC_FD_PATH_MAX];
  if (o->propagation
      && mount (NULL, hy_proc_fd_path (top, p), NULL, o->propagation, NULL)
             < 0)
    return hy_error_errno (err, "set the propagation");
  struct mount_attr attr
      = { .attr_set = o->attr_set, .attr_clr = o->attr_clr };
  if ((o->attr_set || o->attr_clr)
      && mount_setattr (top, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                        sizeof (attr))
             < 0)
    return hy_error_errno (err, "set the recursive mount attributes");
  return 0;
}

static int
mount_at (const struct hy_mount_ctx *ctx, const struct oci_mount *m,
          const char *source, const struct hy_mount_options *o,
          enum mount_kind kind, const char *path, int target, hy_error_t *err)
{
  switch (kind)
    {
    case KIND_BIND:
      return bind_at (ctx, source, path, target, o, err);
    case KIND_IDMAP:
      return mount_idmapped (ctx, m, o, path, target, err);
    case KIND_CGROUP:
      return hy_mount_cgroup (ctx, path, target, o, err);
    case KIND_FS:
      break;
    }
  return mount_fs (ctx, m, o, path, target, err);
}

/* source_fd: the source opened for us (source_fds), or -1. */
static int
mount_parsed (const struct hy_mount_ctx *ctx, const struct oci_mount *m,
              int source_fd, const struct hy_mount_options *o,
              hy_error_t *err)
{
  enum mount_kind kind = mount_kind (m, o);
  char fd_path[HY_PROC_FD_PATH_MAX];
  const char *source = m->source;
  if (kind == KIND_BIND && source_fd >= 0)
    source = hy_proc_fd_path (source_fd, fd_path);
  bool is_dir;
  if (check_entry (m, o, kind, err) < 0
      || check_ordinary_dir (ctx, m, kind, err) < 0
      || target_is_dir (m, source, kind, &is_dir, err) < 0)
    return -1;
  _cleanup_close_ int target
      = hy_mount_target_in_root (ctx->rootfd, m->destination, is_dir, err);
  if (target < 0)
    return -1;
  /* From here on the destination is the place it resolved to. */
  _cleanup_free_ char *path = NULL;
  if (hy_fd_path_in_root (target, ctx->rootfs, &path, err) < 0
      || check_proc_destination (m, source, kind, path, err) < 0
      || mount_at (ctx, m, source, o, kind, path, target, err) < 0)
    return -1;
  return finish_mount (ctx, path, o, err);
}

static int
mount_entry (const struct hy_mount_ctx *ctx, const struct oci_mount *m,
             int source_fd, hy_error_t *err)
{
  struct hy_mount_options o;
  if (hy_mount_options_parse (m->options, &o, err) < 0)
    return -1;
  int r = mount_parsed (ctx, m, source_fd, &o, err);
  hy_mount_options_release (&o);
  return r;
}

int
hy_mount_one (const struct hy_mount_ctx *ctx, const struct oci_mount *m,
              hy_error_t *err)
{
  return mount_entry (ctx, m, -1, err);
}

bool
hy_mount_is_bind (const struct oci_mount *m)
{
  struct hy_mount_options o;
  _cleanup_error_ hy_error_t ignored = NULL;
  if (m->source == NULL || hy_mount_options_parse (m->options, &o, &ignored) < 0)
    return false;
  bool bind = mount_kind (m, &o) == KIND_BIND;
  hy_mount_options_release (&o);
  return bind;
}

int
hy_mounts_apply (const struct hy_mount_ctx *ctx,
                 const struct oci_mount *mounts, size_t n, hy_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    if (mount_entry (ctx, &mounts[i],
                     ctx->source_fds ? ctx->source_fds[i] : -1, err)
        < 0)
      return hy_error_prepend (err, "mount `%s` (.mounts[%zu])",
                               mounts[i].destination, i);
  return 0;
}
