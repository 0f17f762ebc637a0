/* linux.sysctl, hostname and domainname: kernel settings of the
 * container's own namespaces. */
#ifndef HYRUN_LINUX_SYSCTL_H
#define HYRUN_LINUX_SYSCTL_H

#include "common/error.h"
#include "oci/config.h"

/* runc's rule: only namespaced sysctls, each with its namespace private
 * (new, or joined and not the runtime's own):
 *   kernel.msgmax, msgmnb, msgmni, sem, shmall, shmmax, shmmni,
 *   shm_rmid_forced, fs.mqueue.*   with an ipc namespace;
 *   net.*                           with a network namespace;
 *   kernel.domainname               with a uts namespace (kernel.hostname
 *                                   is refused: the "hostname" field).
 * Errors name the key: `sysctl "kernel.panic" is not in a separate kernel
 * namespace`. */
int hy_sysctl_validate (const struct oci_config *c, hy_error_t *err);

/* Validate, then write each value to /proc/sys/<key, '.' -> '/'> (a key
 * written with '/' keeps its dots).  Call it in the container's
 * namespaces, before readonlyPaths make /proc/sys read-only. */
int hy_sysctl_apply (const struct oci_config *c, hy_error_t *err);

/* hostname and domainname need a private uts namespace: "unable to set
 * hostname without a private UTS namespace" (runc). */
int hy_uts_validate (const struct oci_config *c, hy_error_t *err);

/* Validate, then sethostname / setdomainname when set. */
int hy_uts_apply (const struct oci_config *c, hy_error_t *err);

#endif
