/* `hyrun run` in the foreground: start the created container, relay its
 * console, forward signals to its init, reap it, and delete it (unless
 * --keep).  *exit_code is the container's: its exit status, or 128 + the
 * signal that killed it. */
#ifndef HYRUN_RUNTIME_RUN_H
#define HYRUN_RUNTIME_RUN_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/create.h"

/* Block the signals the foreground loop takes over; call before create so
 * that none is lost in between (init restores its own mask). */
int hy_run_block_signals (hy_error_t *err);

/* The foreground loop itself, for `run` and `exec`: forward signals to
 * pid, relay the console `master` (-1: none; not closed), reap, and set
 * *exit_code once pid has exited (its status, or 128 + the signal).  The
 * signals must be blocked already. */
int hy_run_wait (pid_t pid, int master, int *exit_code, hy_error_t *err);

int hy_run_foreground (const char *root, const char *id,
                       const struct hy_created *created, bool keep,
                       int *exit_code, hy_error_t *err);

#endif
