/* Paths inside a rootfs, resolved by the kernel as if the rootfs were "/"
 * (openat2 RESOLVE_IN_ROOT): a symlink such as /etc -> /host-etc or
 * ../../../tmp, or a ".." component, can never lead out of it.  Magic links
 * (/proc/<pid>/fd/N) are refused while resolving.
 *
 * Paths are given as inside the container ("/etc/hosts"; a relative path
 * means the same).  Every fd returned is O_CLOEXEC. */
#ifndef HYRUN_LINUX_RESOLVE_H
#define HYRUN_LINUX_RESOLVE_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

/* openat2 (rootfd, path, flags | O_CLOEXEC, mode) with RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS.  Returns the fd, or -1 with errno set. */
int hy_openat_in_root (int rootfd, const char *path, int flags, mode_t mode);

/* The directory `path` inside the root as an O_PATH fd, creating each
 * missing component (mode & ~umask), one component at a time. */
int hy_mkdir_in_root (int rootfd, const char *path, mode_t mode,
                      hy_error_t *err);

/* The directory that holds `path` (created like hy_mkdir_in_root) as an
 * O_PATH fd; *name gets the last component (caller frees).  The last
 * component must be a name, not "." or "..". */
int hy_parent_in_root (int rootfd, const char *path, char **name,
                       hy_error_t *err);

/* A mount point at `path` inside the root as an O_PATH fd: the existing
 * entry (symlinks followed, in the root), else a new directory or, with
 * is_dir false, a new empty file (mode 0644), parents created. */
int hy_mount_target_in_root (int rootfd, const char *path, bool is_dir,
                             hy_error_t *err);

/* "/proc/self/fd/<fd>": what mount(2) and friends take to reach exactly
 * the file an fd holds. */
#define HY_PROC_FD_PATH_MAX 32
const char *hy_proc_fd_path (int fd, char buf[HY_PROC_FD_PATH_MAX]);

/* Where `fd` is, as a path inside `root` (an absolute host path without a
 * trailing slash; "/" works): "/proc/cpuinfo".  Errors when the fd is not
 * under the root.  Caller frees. */
int hy_fd_path_in_root (int fd, const char *root, char **out, hy_error_t *err);

#endif
