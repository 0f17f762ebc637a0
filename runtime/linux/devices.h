/* The container's /dev: default devices, linux.devices and the usual
 * symlinks, created inside the rootfs (resolve.h) before pivot_root. */
#ifndef HYRUN_LINUX_DEVICES_H
#define HYRUN_LINUX_DEVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "oci/config.h"

/* /dev/null, zero, full, random, urandom and tty: character devices, mode
 * 0666, owned by root. */
extern const struct oci_device hy_default_devices[];
extern const size_t hy_n_default_devices;

/* Create one device node at d->path inside the root: mknod with
 * d->file_mode (default 0666), then chown to d->uid/d->gid.  With `bind`
 * (a user namespace, where mknod is never allowed), or when mknod fails
 * with EPERM, the host's node at the same path is bind-mounted onto an
 * empty file instead, as runc does.  An existing entry is kept, except a
 * symlink, which is refused.  Missing parent directories are created. */
int hy_device_create (int rootfd, const struct oci_device *d, bool bind,
                      hy_error_t *err);

/* /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr -> /proc/self/fd[/N],
 * /dev/core -> /proc/kcore (when the host has it), and /dev/ptmx ->
 * pts/ptmx (replacing what was there, for the devpts newinstance). */
int hy_devices_symlinks (int rootfd, hy_error_t *err);

/* The whole /dev: the defaults (unless linux.devices has the same path),
 * linux.devices, then the symlinks.  Bind-mounts instead of mknod when the
 * container has a user namespace.  l may be NULL.  Errors name
 * `.linux.devices[i]`. */
int hy_devices_setup (int rootfd, const struct oci_linux *l, hy_error_t *err);

#endif
