#include "runtime/linux/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/linux/mounts.h"
#include "runtime/linux/namespaces.h"
#include "runtime/linux/resolve.h"

#define DEFAULT_DEVICE(p, maj, min)                                           \
  {                                                                           \
    .type = 'c', .path = (char *) (p), .major = (maj), .minor = (min),        \
    .has_major = true, .has_minor = true, .file_mode = 0666,                  \
    .has_file_mode = true, .has_uid = true, .has_gid = true,                  \
  }

const struct oci_device hy_default_devices[] = {
  DEFAULT_DEVICE ("/dev/null", 1, 3),    DEFAULT_DEVICE ("/dev/zero", 1, 5),
  DEFAULT_DEVICE ("/dev/full", 1, 7),    DEFAULT_DEVICE ("/dev/random", 1, 8),
  DEFAULT_DEVICE ("/dev/urandom", 1, 9), DEFAULT_DEVICE ("/dev/tty", 5, 0),
};
const size_t hy_n_default_devices
    = sizeof (hy_default_devices) / sizeof (hy_default_devices[0]);

static mode_t
node_type (char type)
{
  switch (type)
    {
    case 'b':
      return S_IFBLK;
    case 'p':
      return S_IFIFO;
    default: /* 'c', 'u' */
      return S_IFCHR;
    }
}

/* 1 when mknod is not permitted here (the caller binds instead). */
static int
make_node (int dir, const char *name, const struct oci_device *d,
           hy_error_t *err)
{
  mode_t mode = d->has_file_mode ? d->file_mode & 07777 : 0666;
  dev_t dev = d->type == 'p'
                  ? 0
                  : makedev ((unsigned) d->major, (unsigned) d->minor);
  if (mknodat (dir, name, node_type (d->type) | mode, dev) < 0)
    return errno == EPERM ? 1 : hy_error_errno (err, "mknod");
  /* mknod applied the umask. */
  if (fchmodat (dir, name, mode, AT_SYMLINK_NOFOLLOW) < 0)
    return hy_error_errno (err, "chmod");
  if (fchownat (dir, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return hy_error_errno (err, "chown %u:%u", d->uid, d->gid);
  return 0;
}

static int
bind_host_node (int dir, const char *name, const struct oci_device *d,
                hy_error_t *err)
{
  int fd = openat (
      dir, name,
      O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
  if (fd < 0)
    return hy_error_errno (err, "create a mount point");
  close (fd);
  _cleanup_close_ int target
      = openat (dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (target < 0)
    return hy_error_errno (err, "open the mount point");
  return hy_bind_mount (d->path, target, false, err);
}

static int
create_in (int dir, const char *name, const struct oci_device *d, bool bind,
           hy_error_t *err)
{
  struct stat st;
  if (fstatat (dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return S_ISLNK (st.st_mode)
               ? hy_error (err, EEXIST, "a symlink is in the way, refusing it")
               : 0;
  if (errno != ENOENT)
    return hy_error_errno (err, "stat");
  int r = bind ? 1 : make_node (dir, name, d, err);
  return r == 1 ? bind_host_node (dir, name, d, err) : r;
}

int
hy_device_create (int rootfd, const struct oci_device *d, bool bind,
                  hy_error_t *err)
{
  _cleanup_free_ char *name = NULL;
  _cleanup_close_ int dir = hy_parent_in_root (rootfd, d->path, &name, err);
  if (dir < 0 || create_in (dir, name, d, bind, err) < 0)
    return hy_error_prepend (err, "device `%s`", d->path);
  return 0;
}

static int
symlink_in (int dir, const char *target, const char *name, hy_error_t *err)
{
  if (symlinkat (target, dir, name) < 0 && errno != EEXIST)
    return hy_error_errno (err, "symlink `/dev/%s` -> `%s`", name, target);
  return 0;
}

int
hy_devices_symlinks (int rootfd, hy_error_t *err)
{
  static const struct
  {
    const char *name, *target;
  } links[] = {
    { "fd", "/proc/self/fd" },
    { "stdin", "/proc/self/fd/0" },
    { "stdout", "/proc/self/fd/1" },
    { "stderr", "/proc/self/fd/2" },
  };
  _cleanup_close_ int dev = hy_mkdir_in_root (rootfd, "/dev", 0755, err);
  if (dev < 0)
    return -1;
  for (size_t i = 0; i < sizeof (links) / sizeof (links[0]); i++)
    if (symlink_in (dev, links[i].target, links[i].name, err) < 0)
      return -1;
  if (access ("/proc/kcore", F_OK) == 0
      && symlink_in (dev, "/proc/kcore", "core", err) < 0)
    return -1;
  if (unlinkat (dev, "ptmx", 0) < 0 && errno != ENOENT)
    return hy_error_errno (err, "remove `/dev/ptmx`");
  return symlink_in (dev, "pts/ptmx", "ptmx", err);
}

static bool
configured (const struct oci_linux *l, const char *path)
{
  for (size_t i = 0; l && i < l->n_devices; i++)
    if (str_eq (l->devices[i].path, path))
      return true;
  return false;
}

int
hy_devices_setup (int rootfd, const struct oci_linux *l, hy_error_t *err)
{
  bool bind = hy_ns_is_private (l, OCI_NS_USER);
  for (size_t i = 0; i < hy_n_default_devices; i++)
    if (!configured (l, hy_default_devices[i].path)
        && hy_device_create (rootfd, &hy_default_devices[i], bind, err) < 0)
      return -1;
  for (size_t i = 0; l && i < l->n_devices; i++)
    if (hy_device_create (rootfd, &l->devices[i], bind, err) < 0)
      return hy_error_prepend (err, ".linux.devices[%zu]", i);
  return hy_devices_symlinks (rootfd, err);
}
