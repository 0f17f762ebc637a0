/* The cgroup mount of a container (hy_mount_cgroup, see mounts.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "common/mountinfo.h"
#include "runtime/linux/mounts.h"
#include "runtime/linux/namespaces.h"
#include "runtime/linux/resolve.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define MS_PLACEMENT (MS_BIND | MS_REC | MS_REMOUNT)

/* A line of /proc/self/cgroup: "4:memory:/user.slice", "0::/init.scope". */
struct own_cgroup
{
  char *controllers; /* "" for cgroup v2 */
  char *path;
};

struct cgroup_view
{
  struct hy_mountinfo mounts;
  struct own_cgroup *own;
  size_t n_own;
};

static void
view_release (struct cgroup_view *v)
{
  hy_mountinfo_free (&v->mounts);
  for (size_t i = 0; i < v->n_own; i++)
    {
      free (v->own[i].controllers);
      free (v->own[i].path);
    }
  free (v->own);
}

static int
read_own_cgroups (struct cgroup_view *v, hy_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  if (read_file_at (AT_FDCWD, "/proc/self/cgroup", 1 << 20, &text, NULL, err)
      < 0)
    return -1;
  char *save = NULL;
  for (char *line = strtok_r (text, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      char *c = strchr (line, ':');
      char *p = c ? strchr (c + 1, ':') : NULL;
      if (p == NULL)
        return hy_error (err, EINVAL,
                         "`/proc/self/cgroup`: cannot parse "
                         "\"%s\"",
                         line);
      v->own = xrealloc (v->own, (v->n_own + 1) * sizeof (*v->own));
      v->own[v->n_own].controllers = xstrndup (c + 1, (size_t) (p - c - 1));
      v->own[v->n_own].path = xstrdup (p + 1);
      v->n_own++;
    }
  return 0;
}

/* Every controller of the /proc/self/cgroup line is among the superblock
 * options of the hierarchy ("rw,cpu,cpuacct", "rw,name=systemd"). */
static bool
own_matches (const struct own_cgroup *own, const struct hy_mountinfo_entry *e)
{
  if (str_eq (e->fstype, "cgroup2"))
    return own->controllers[0] == '\0';
  if (own->controllers[0] == '\0')
    return false;
  _cleanup_free_ char *list = xstrdup (own->controllers);
  char *save = NULL;
  for (char *c = strtok_r (list, ",", &save); c;
       c = strtok_r (NULL, ",", &save))
    if (!hy_options_have (e->super_options, c))
      return false;
  return true;
}

static const struct own_cgroup *
own_for (const struct cgroup_view *v, const struct hy_mountinfo_entry *e)
{
  for (size_t i = 0; i < v->n_own; i++)
    if (own_matches (&v->own[i], e))
      return &v->own[i];
  return NULL;
}

/* The container's cgroup directory in the host's mount of the hierarchy. */
static int
own_directory (const struct hy_mountinfo_entry *e,
               const struct own_cgroup *own, char **out, hy_error_t *err)
{
  const char *rel = own->path;
  if (!str_eq (e->root, "/"))
    {
      size_t n = strlen (e->root);
      if (strncmp (rel, e->root, n) != 0 || (rel[n] != '/' && rel[n] != '\0'))
        return hy_error (err, ENOENT, "cgroup `%s` is not visible under `%s`",
                         own->path, e->mount_point);
      rel += n;
    }
  *out = xasprintf ("%s%s", e->mount_point, str_eq (rel, "/") ? "" : rel);
  return 0;
}

static int
bind_own_directory (const struct hy_mount_ctx *ctx,
                    const struct hy_mountinfo_entry *e,
                    const struct own_cgroup *own, const char *path, int target,
                    unsigned long flags, hy_error_t *err)
{
  _cleanup_free_ char *source = NULL;
  if (own_directory (e, own, &source, err) < 0
      || hy_bind_mount (source, target, true, err) < 0)
    return -1;
  if (flags == 0)
    return 0;
  _cleanup_close_ int top = hy_openat_in_root (ctx->rootfd, path, O_PATH, 0);
  if (top < 0)
    return hy_error_errno (err, "open `%s`", path);
  return hy_remount_bind (top, flags, 0, err);
}

/* One hierarchy at `target`: the real filesystem within a cgroup
 * namespace, else (or when refused, rootless) the own directory. */
static int
mount_hierarchy (const struct hy_mount_ctx *ctx, const struct cgroup_view *v,
                 const struct hy_mountinfo_entry *e, const char *path,
                 int target, unsigned long flags, bool cgroupns,
                 hy_error_t *err)
{
  const struct own_cgroup *own = own_for (v, e);
  if (own == NULL)
    return hy_error (err, ENOENT, "no cgroup of this process in `%s`",
                     e->mount_point);
  char p[HY_PROC_FD_PATH_MAX];
  bool v2 = str_eq (e->fstype, "cgroup2");
  if (cgroupns
      && mount (e->fstype, hy_proc_fd_path (target, p), e->fstype, flags,
                v2 ? NULL : own->controllers)
             == 0)
    return 0;
  if (cgroupns && errno != EPERM && errno != EBUSY)
    return hy_error_errno (err, "mount %s `%s`", e->fstype,
                           v2 ? "" : own->controllers);
  return bind_own_directory (ctx, e, own, path, target, flags, err);
}

static bool
is_hierarchy (const struct hy_mountinfo *mi, size_t i)
{
  const struct hy_mountinfo_entry *e = &mi->entries[i];
  const char *slash = strrchr (e->mount_point, '/');
  return (str_eq (e->fstype, "cgroup") || str_eq (e->fstype, "cgroup2"))
         && slash && (size_t) (slash - e->mount_point) == strlen (CGROUP_ROOT)
         && str_has_prefix (e->mount_point, CGROUP_ROOT "/")
         && hy_mountinfo_find (mi, e->mount_point) == e;
}

/* "cpu,cpuacct" is reachable as "cpu" and "cpuacct" too. */
static int
link_comounted (int dir, const char *name, hy_error_t *err)
{
  if (strchr (name, ',') == NULL)
    return 0;
  _cleanup_free_ char *list = xstrdup (name);
  char *save = NULL;
  for (char *c = strtok_r (list, ",", &save); c;
       c = strtok_r (NULL, ",", &save))
    if (strchr (c, '=') == NULL && symlinkat (name, dir, c) < 0
        && errno != EEXIST)
      return hy_error_errno (err, "symlink `%s`", c);
  return 0;
}

static int
mount_v1_hierarchy (const struct hy_mount_ctx *ctx,
                    const struct cgroup_view *v,
                    const struct hy_mountinfo_entry *e, const char *path,
                    int dir, unsigned long flags, bool cgroupns,
                    hy_error_t *err)
{
  const char *name = strrchr (e->mount_point, '/') + 1;
  _cleanup_free_ char *sub_path = xasprintf ("%s/%s", path, name);
  if (mkdirat (dir, name, 0755) < 0 && errno != EEXIST)
    return hy_error_errno (err, "mkdir `%s`", name);
  _cleanup_close_ int sub
      = openat (dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub < 0)
    return hy_error_errno (err, "open `%s`", name);
  if (mount_hierarchy (ctx, v, e, sub_path, sub, flags, cgroupns, err) < 0)
    return hy_error_prepend (err, "`%s`", name);
  return link_comounted (dir, name, err);
}

/* v1 and hybrid: a tmpfs with one directory per hierarchy. */
static int
mount_v1 (const struct hy_mount_ctx *ctx, const char *path, int target,
          const struct cgroup_view *v, unsigned long flags, bool cgroupns,
          hy_error_t *err)
{
  const unsigned long tmpfs_flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  char p[HY_PROC_FD_PATH_MAX];
  if (mount ("tmpfs", hy_proc_fd_path (target, p), "tmpfs", tmpfs_flags,
             "mode=755")
      < 0)
    return hy_error_errno (err, "mount tmpfs");
  _cleanup_close_ int dir
      = hy_openat_in_root (ctx->rootfd, path, O_RDONLY | O_DIRECTORY, 0);
  if (dir < 0)
    return hy_error_errno (err, "open `%s`", path);
  for (size_t i = 0; i < v->mounts.n; i++)
    if (is_hierarchy (&v->mounts, i)
        && mount_v1_hierarchy (ctx, v, &v->mounts.entries[i], path, dir, flags,
                               cgroupns, err)
               < 0)
      return -1;
  if ((flags & MS_RDONLY)
      && mount (NULL, hy_proc_fd_path (dir, p), NULL,
                MS_REMOUNT | MS_RDONLY | tmpfs_flags, "mode=755")
             < 0)
    return hy_error_errno (err, "remount tmpfs read-only");
  return 0;
}

static int
mount_v2 (const struct hy_mount_ctx *ctx, const char *path, int target,
          const struct cgroup_view *v, unsigned long flags, bool cgroupns,
          hy_error_t *err)
{
  const struct hy_mountinfo_entry *e
      = hy_mountinfo_find (&v->mounts, CGROUP_ROOT);
  if (e == NULL || !str_eq (e->fstype, "cgroup2"))
    return hy_error (err, ENOENT, "no cgroup2 mount at `" CGROUP_ROOT "`");
  return mount_hierarchy (ctx, v, e, path, target, flags, cgroupns, err);
}

int
hy_mount_cgroup (const struct hy_mount_ctx *ctx, const char *path, int target,
                 const struct hy_mount_options *o, hy_error_t *err)
{
  struct statfs sf;
  if (statfs (CGROUP_ROOT, &sf) < 0)
    return hy_error_errno (err, "statfs `" CGROUP_ROOT "`");
  struct cgroup_view v = { 0 };
  int r = hy_mountinfo_read (NULL, &v.mounts, err);
  if (r == 0)
    r = read_own_cgroups (&v, err);
  if (r == 0)
    {
      bool cgroupns = hy_ns_is_private (ctx->linux_, OCI_NS_CGROUP);
      unsigned long flags = o->flags & ~MS_PLACEMENT;
      r = sf.f_type == CGROUP2_SUPER_MAGIC
              ? mount_v2 (ctx, path, target, &v, flags, cgroupns, err)
              : mount_v1 (ctx, path, target, &v, flags, cgroupns, err);
    }
  view_release (&v);
  return r;
}
