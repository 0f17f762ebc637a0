/* A new process in an existing container (container mode), as runc exec.
 *
 * hyrun opens the namespaces of the container's init that differ from its
 * own and forks a joiner, which enters them (user first, mount last) and
 * forks the process with CLONE_PARENT: pid and time namespaces apply to
 * children only, and the process is hyrun's child to wait for.  hyrun
 * moves it into the container's cgroup and sends GO; the process then
 * goes through init's last steps (process.c: console, executable, rlimits,
 * user, capabilities, no_new_privs, seccomp) and execs.  Its sync socket
 * is close-on-exec, so hyrun learns that execve succeeded, or its error.
 *
 * The container's lock is dropped once the process is in the cgroup: in a
 * paused container (--ignore-paused) the process stays frozen, and exec
 * with it, until `resume`, which needs the lock. */
#ifndef HYRUN_RUNTIME_EXEC_H
#define HYRUN_RUNTIME_EXEC_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/config.h"
#include "runtime/lifecycle.h"

struct hy_exec_opts
{
  struct hy_container *container; /* loaded; created, running or paused */
  const struct oci_process *process; /* complete: what to run, how */
  char *const *cgroups;   /* exec --cgroup values; NULL for none */
  const char *console_socket;
  const char *pid_file;
  unsigned preserve_fds;
  bool keep_pty; /* foreground -t: keep the console's master */
};

struct hy_executed
{
  pid_t pid;      /* hyrun's child */
  int pty_master; /* with keep_pty and process.terminal, else -1 */
};

/* Returns once the process has exec'd.  On failure nothing is left: no
 * process, no pid file. */
int hy_container_exec (const struct hy_exec_opts *o, struct hy_executed *out,
                       hy_error_t *err);

#endif
