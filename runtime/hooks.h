/* OCI hooks, run as runc runs them.
 *
 * Each hook of a kind runs in order, to completion, before the next one:
 * argv is hook.args (just the path when absent), the environment is
 * hook.env and nothing else, stdin is a pipe carrying the state JSON, and
 * stdout and stderr go to one pipe whose last 4 KiB end up in the error
 * message.  The hook starts with an empty signal mask, default signal
 * dispositions, only fds 0-2 open, and in a process group of its own so
 * that a timeout kills whatever it started as well.
 *
 * The first failing hook stops the run; errors name the hook by its index
 * in config.json's hooks.<kind> array:
 *   prestart hook #1 `/usr/bin/net-setup`: exit status 3: no such bridge
 *   prestart hook #0 `/usr/bin/slow`: timed out after 5 s
 *
 * While hooks run, SIGPIPE is ignored (a hook may leave its stdin unread)
 * and restored afterwards.  Hooks are waited for with waitpid() on their
 * pid: SIGCHLD must not be ignored nor reaped by a waitpid(-1) handler.
 *
 * The caller decides what a failure means: for prestart, createRuntime,
 * createContainer and startContainer it is fatal to the operation; for
 * poststart and poststop runc (and hyrun) only log it as a warning and go
 * on.  hy_hooks_run() returns the error in every case. */
#ifndef HYRUN_RUNTIME_HOOKS_H
#define HYRUN_RUNTIME_HOOKS_H

#include "common/error.h"
#include "oci/config.h"

/* Bytes of a hook's combined stdout+stderr kept for the error message. */
#define HY_HOOK_OUTPUT_MAX 4096

/* Run the hooks of `kind` in order; NULL hooks or none of that kind do
 * nothing.  state_json is written to each hook's stdin (a hook may leave
 * it unread). */
int hy_hooks_run (const struct oci_hooks *hooks, enum oci_hook_kind kind,
                  const char *state_json, hy_error_t *err);

#endif
