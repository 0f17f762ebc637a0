/* The last steps before a container process execs, shared by the
 * container's init (init.c) and `exec` (exec.c): the console, the
 * executable lookup, the process attributes, stray fds, seccomp, and the
 * way out on failure.  Everything here runs in the child; messages to the
 * parent go over its sync socket (sync.h). */
#ifndef HYRUN_RUNTIME_PROCESS_H
#define HYRUN_RUNTIME_PROCESS_H

#include <stdbool.h>

#include "common/error.h"
#include "oci/config.h"
#include "runtime/linux/capabilities.h"
#include "runtime/linux/seccomp.h"

/* The runtime may block or ignore signals; the process starts clean. */
void hy_process_reset_signals (void);

/* Send warnings (hy_linux_warn) to the parent's log over *sync_fd while it
 * is >= 0; the child's stderr is the container's. */
void hy_process_forward_warnings (int *sync_fd);

/* With --debug, a debug line for the parent's log (DEBUG); best effort. */
void hy_process_debug (int sync_fd, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* With process.terminal: a pty from the devpts mounted at /dev/pts now,
 * the master sent to the parent (PTY), the slave made the controlling
 * terminal and stdio.  Nothing without a terminal. */
int hy_process_open_console (const struct oci_process *p, int sync_fd,
                             hy_error_t *err);

/* argv[0] as execvpe would find it with the process's PATH; runc reports a
 * missing binary before the process starts. */
int hy_process_find_executable (const struct oci_process *p, char **out,
                                hy_error_t *err);

/* What the last steps before execve need. */
struct hy_process_ctx
{
  const struct oci_process *process;
  const struct oci_linux *linux_;   /* may be NULL */
  const struct hy_caps *caps;
  struct hy_seccomp *seccomp;       /* NULL: no filter */
  int sync_fd;                      /* a notify fd goes to the parent */
  bool no_new_keyring;
};

/* cwd, session keyring, rlimits, oom score, personality, scheduling, then
 * the user and the capabilities it keeps, no_new_privs and the seccomp
 * filter (before the capabilities are dropped when no_new_privs is off,
 * as runc does).  A notify fd goes to the parent (SECCOMP), which answers
 * SECCOMP_DONE once the listener has it. */
int hy_process_apply (const struct hy_process_ctx *x, hy_error_t *err);

/* Everything above fd 2 closes on exec but fds 3 .. 3 + preserve_fds - 1. */
int hy_process_close_stray_fds (unsigned preserve_fds, hy_error_t *err);

/* execve; returns only on failure, with the error set. */
int hy_process_exec (const struct oci_process *p, const char *exe,
                     hy_error_t *err);

/* Report err to the parent over sync_fd (or, when it is < 0, on stderr as
 * "hyrun: <error>") and exit 127. */
__attribute__ ((noreturn)) void hy_process_fail (int sync_fd, hy_error_t err);

#endif
