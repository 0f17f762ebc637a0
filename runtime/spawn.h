/* A process started inside the namespaces of a running container: what
 * `hyrun exec` does on a host and the guest agent's `exec` in a VM.
 *
 * The caller forks a joiner, which enters the namespaces (user first,
 * mount last) and forks the process with CLONE_PARENT: pid and time
 * namespaces apply to children only, and the process is the caller's
 * child to wait for.  The joiner sends the process's pid and exits.  The
 * process waits for GO on the sync socket (the caller moves it into a
 * cgroup first), goes through init's last steps (process.c: console,
 * executable, rlimits, user, capabilities, no_new_privs, seccomp), sends
 * READY and execs, after waiting for a byte on its gate when it has one.
 * The sync socket is close-on-exec, so the caller learns that execve
 * succeeded (EOF after READY), or its error. */
#ifndef HYRUN_RUNTIME_SPAWN_H
#define HYRUN_RUNTIME_SPAWN_H

#include <sys/types.h>

#include "common/error.h"
#include "oci/config.h"
#include "runtime/linux/capabilities.h"
#include "runtime/linux/namespaces.h"
#include "runtime/linux/seccomp.h"

struct hy_spawn
{
  const struct oci_process *process;
  const struct oci_linux *linux_; /* may be NULL */
  const struct hy_caps *caps;
  struct hy_seccomp *seccomp;     /* NULL: no filter */
  struct hy_ns_fds *ns;           /* joined by the joiner */
  unsigned preserve_fds;
  /* -1, or the read end of a pipe: after READY the process waits for one
   * byte on it before execve (EOF: it gives up). */
  int gate_fd;
  /* Called first in the joiner, e.g. to close what the process must not
   * hold or to set up its stdio; `sync_fd` is the process's end of the
   * sync socket, to keep.  May be NULL. */
  void (*in_joiner) (void *data, int sync_fd);
  void *data;
};

/* Fork the joiner and receive the pid of the process (the joiner is then
 * reaped).  *sync_fd is the caller's end of the process's sync socket.
 * On failure nothing is left running. */
int hy_spawn_in_namespaces (const struct hy_spawn *s, int *sync_fd,
                            pid_t *pid, hy_error_t *err);

#endif
