/* linux.seccomp as a libseccomp filter, in two steps so that the runtime
 * can do the work that may fail before the point of no return:
 *
 *   hy_seccomp_build()  resolves names, builds the filter with libseccomp
 *                       and exports its BPF program behind runc's -ENOSYS
 *                       stub (seccomp-enosys.h); no side effects, runs in
 *                       the parent or the child;
 *   hy_seccomp_load()   installs that program with seccomp(2) in the
 *                       calling process (and with
 *                       SECCOMP_FILTER_FLAG_TSYNC in all its threads).
 *
 * As runc does, the filter does not set no_new_privs itself (the runtime
 * applies process.noNewPrivileges); without it, loading needs
 * CAP_SYS_ADMIN, so a runtime loads the filter before dropping
 * capabilities unless noNewPrivileges is set.  Syscall names libseccomp
 * does not know are skipped, and rules whose action equals the default
 * action are dropped (libseccomp would refuse them).
 *
 * With SCMP_ACT_NOTIFY anywhere, loading yields a notification fd, which
 * hy_seccomp_send_listener() hands to the seccomp agent at
 * linux.seccomp.listenerPath. */
#ifndef HYRUN_LINUX_SECCOMP_H
#define HYRUN_LINUX_SECCOMP_H

#include <stdbool.h>

#include "common/error.h"
#include "oci/config.h"

struct hy_seccomp;

int hy_seccomp_build (const struct oci_seccomp *s, struct hy_seccomp **out,
                      hy_error_t *err);

/* Whether loading will produce a notification fd. */
bool hy_seccomp_uses_notify (const struct hy_seccomp *f);

/* *notify_fd receives the listener fd (the caller owns it), or -1 when no
 * rule uses SCMP_ACT_NOTIFY.  notify_fd may be NULL only then. */
int hy_seccomp_load (struct hy_seccomp *f, int *notify_fd, hy_error_t *err);

void hy_seccomp_free (struct hy_seccomp *f);

static inline void
hy_seccomp_freep (struct hy_seccomp **f)
{
  hy_seccomp_free (*f);
}
#define _cleanup_seccomp_ __attribute__ ((cleanup (hy_seccomp_freep)))

/* Send the container process state to the seccomp agent listening on
 * `listener_path` (AF_UNIX, SOCK_STREAM), with notify_fd attached by
 * SCM_RIGHTS, then close the connection (runtime-spec config-linux.md,
 * "The Container Process State"):
 *
 *   {"ociVersion": "1.2.0", "fds": ["seccompFd"], "pid": <state.pid>,
 *    "metadata": "<metadata>", "state": <state_json>}
 *
 * `state_json` is the container's state document (oci_state_to_json); its
 * "pid" is required and becomes the top-level pid.  `metadata` (the
 * listenerMetadata) may be NULL, then it is left out.  notify_fd stays
 * open.  listenerPath is a host path: the container's init passes the fd
 * to the runtime (over its sync socket, after loading the filter) and
 * the runtime calls this, as runc does. */
int hy_seccomp_send_listener (const char *listener_path, int notify_fd,
                              const char *state_json, const char *metadata,
                              hy_error_t *err);

#endif
