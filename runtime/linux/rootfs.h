/* The container's root filesystem, set up in the child after clone, in its
 * own mount namespace, in three steps with the createContainer hooks
 * between the second and the third (the spec runs them after the mounts,
 * before pivot_root):
 *
 *   hy_rootfs_prepare   "/" gets linux.rootfsPropagation (default rslave)
 *                       so nothing leaks to the host; the rootfs is bound
 *                       onto itself (MS_BIND|MS_REC) to be a mount point
 *   hy_rootfs_mount     config mounts (mounts.h), then /dev (devices.h)
 *                       unless /dev is a bind mount
 *     (sysctl.h, createContainer hooks)
 *   hy_rootfs_finalize  readonlyPaths, maskedPaths, pivot_root (or with
 *                       no_pivot MS_MOVE + chroot), root.readonly,
 *                       chdir("/")
 *
 * hy_rootfs_setup does all three.  Everything needs /proc of the runtime
 * until the pivot (mounts go through /proc/self/fd/N). */
#ifndef HYRUN_LINUX_ROOTFS_H
#define HYRUN_LINUX_ROOTFS_H

#include <stdbool.h>

#include "common/error.h"
#include "oci/config.h"

struct hy_rootfs
{
  const struct oci_config *config;
  char *path; /* the rootfs, absolute and without symlinks */
  int rootfd; /* O_PATH of the rootfs; of "/" after the pivot */
  bool no_pivot;
  const int *source_fds; /* per config mount, or NULL (mounts.h) */
};

/* `rootfs` is root.path resolved against the bundle. */
int hy_rootfs_prepare (struct hy_rootfs *r, const struct oci_config *c,
                       const char *rootfs, bool no_pivot, hy_error_t *err);
int hy_rootfs_mount (struct hy_rootfs *r, hy_error_t *err);
int hy_rootfs_finalize (struct hy_rootfs *r, hy_error_t *err);
void hy_rootfs_release (struct hy_rootfs *r);

int hy_rootfs_setup (const struct oci_config *c, const char *rootfs,
                     bool no_pivot, hy_error_t *err);

/* ---- the steps on their own ---- */

/* MS_REC|MS_SLAVE, or the named propagation ("rshared", ...), on "/". */
int hy_rootfs_set_propagation (const char *propagation, hy_error_t *err);

/* A /dev/null fd checked to be the 1:3 character device (O_PATH). */
int hy_open_dev_null (hy_error_t *err);

/* maskedPaths entry: /dev/null (dev_null, from hy_open_dev_null) bound
 * over a file, a read-only empty tmpfs over a directory; absent: nothing. */
int hy_rootfs_mask_path (int rootfd, const char *path, int dev_null,
                         hy_error_t *err);

/* readonlyPaths entry: bound onto itself (recursively) and remounted
 * read-only; absent: nothing. */
int hy_rootfs_readonly_path (int rootfd, const char *path, hy_error_t *err);

/* pivot_root(".", ".") inside `rootfs`, then the old root, stacked on
 * the new one, made rslave and detached. */
int hy_rootfs_pivot (const char *rootfs, hy_error_t *err);

/* Without pivot_root (--no-pivot, a rootfs on a ramfs): the host's proc and
 * sysfs mounts outside the rootfs are detached, then the rootfs is moved
 * onto "/" and chrooted into. */
int hy_rootfs_move_root (const char *rootfs, hy_error_t *err);

/* Remount "/" read-only (MS_BIND|MS_REMOUNT|MS_RDONLY, locked flags kept). */
int hy_rootfs_make_readonly (hy_error_t *err);

#endif
