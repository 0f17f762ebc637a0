/* The `mounts` of config.json, applied inside a rootfs before pivot_root.
 *
 * Every destination is resolved inside the rootfs (resolve.h): missing
 * directories and files are created there component by component, and the
 * mount goes onto the resolved target through /proc/self/fd/N (or
 * move_mount for idmapped mounts), so no symlink in the rootfs can send a
 * mount outside it.  Sources are host paths, taken as given. */
#ifndef HYRUN_LINUX_MOUNTS_H
#define HYRUN_LINUX_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "oci/config.h"
#include "runtime/linux/mount-options.h"

struct hy_mount_ctx
{
  int rootfd;                     /* O_PATH of the rootfs */
  const char *rootfs;             /* its absolute host path, no symlinks */
  const struct oci_linux *linux_; /* namespaces, id maps; may be NULL */
  /* Per entry of the mounts given to hy_mounts_apply: an O_PATH fd of a
   * bind mount's source that the runtime opened for us, or -1 (then the
   * source path is used).  NULL: none. */
  const int *source_fds;
};

/* Whether the entry is a plain bind mount (not idmapped), whose source
 * may be opened ahead (source_fds).  Bad options: false, the mount
 * reports them. */
bool hy_mount_is_bind (const struct oci_mount *m);

/* Mount every entry in order.  Errors read
 * "mount `/dev` (.mounts[3]): mount tmpfs: ...". */
int hy_mounts_apply (const struct hy_mount_ctx *ctx,
                     const struct oci_mount *mounts, size_t n,
                     hy_error_t *err);

/* One entry (its source as a path, not from source_fds):
 *  - bind/rbind: the target is a directory or a file like the source;
 *    mount flags ("ro", "nosuid", ...) by a MS_BIND|MS_REMOUNT, keeping
 *    the flags the kernel locked on the source (as runc);
 *  - idmap/ridmap or uidMappings/gidMappings: a bind whose tree is
 *    idmapped (open_tree + mount_setattr(MOUNT_ATTR_IDMAP) + move_mount)
 *    with the mount's mappings, else the container's;
 *  - tmpfs (tmpcopyup copies what the directory held), proc, sysfs (a
 *    read-only rbind of /sys when the kernel refuses sysfs: user namespace
 *    without its network namespace), mqueue (likewise /dev/mqueue),
 *    devpts, cgroup (see hy_mount_cgroup) and any other filesystem;
 *  - then the propagation ("rslave", ...) and the recursive attributes
 *    ("rro", "rnosuid", ...: mount_setattr(AT_RECURSIVE)).
 * Destinations under /proc are refused except /proc itself for a proc
 * filesystem and the files lxcfs emulates (runc's rule). */
int hy_mount_one (const struct hy_mount_ctx *ctx, const struct oci_mount *m,
                  hy_error_t *err);

/* A cgroup filesystem at `target` (O_PATH of the mount point, `path` its
 * place in the rootfs), shaped like the host's /sys/fs/cgroup:
 *  - cgroup v2: cgroup2 itself;
 *  - v1 and hybrid: a tmpfs holding one directory per hierarchy (and
 *    "unified"), with symlinks for co-mounted controllers (cpu ->
 * cpu,cpuacct). With a cgroup namespace (linux_) each hierarchy is the real
 * filesystem; without one, or when the kernel refuses it, the container's own
 * cgroup directory of the host is bind-mounted instead.  `o` gives the flags
 * ("ro", "nosuid", ...). */
int hy_mount_cgroup (const struct hy_mount_ctx *ctx, const char *path,
                     int target, const struct hy_mount_options *o,
                     hy_error_t *err);

/* ---- building blocks (also for rootfs.c and devices.c) ---- */

/* Bind `source` onto the mount point `target` (an fd), MS_REC with
 * recursive. */
int hy_bind_mount (const char *source, int target, bool recursive,
                   hy_error_t *err);

/* MS_BIND|MS_REMOUNT the mount whose root is `fd` with `flags` (MS_RDONLY,
 * MS_NOSUID, ...).  When the kernel refuses because the mount has locked
 * flags (a mount from a more privileged user namespace), retry with them
 * added, unless the caller explicitly cleared one (`cleared`) or asked for
 * another atime mode: then the EPERM stands. */
int hy_remount_bind (int fd, unsigned long flags, unsigned long cleared,
                     hy_error_t *err);

/* The same on a path: "/" after pivot_root, where /proc may be absent. */
int hy_remount_bind_at (const char *path, unsigned long flags,
                        unsigned long cleared, hy_error_t *err);

/* The lockable MS_* flags the mount holding `fd` has now. */
int hy_mount_current_flags (int fd, unsigned long *flags, hy_error_t *err);

/* statfs f_flags (ST_*) as the MS_* flags a bind remount can lock. */
unsigned long hy_statfs_locked_flags (unsigned long f_flags);

#endif
