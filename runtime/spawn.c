#include "runtime/spawn.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime/process.h"
#include "runtime/sync.h"

struct clone_args_v0
{
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
      stack_size, tls;
};

/* ---- the child side ---- */

static int
wait_gate (int gate_fd, hy_error_t *err)
{
  if (gate_fd < 0)
    return 0;
  char c;
  ssize_t n;
  do
    n = read (gate_fd, &c, 1);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return hy_error_errno (err, "wait for the start");
  if (n == 0)
    return hy_error (err, 0, "the runtime went away before the start");
  close (gate_fd);
  return 0;
}

/* *sync_fd becomes -1 once the caller stops listening: after READY when
 * the process waits at a gate (errors then go to the process's stderr, as
 * init's do after READY). */
static int
process_steps (const struct hy_spawn *s, int *sync_fd, char **exe,
               hy_error_t *err)
{
  const struct hy_process_ctx ctx = { .process = s->process,
                                      .linux_ = s->linux_,
                                      .caps = s->caps,
                                      .seccomp = s->seccomp,
                                      .sync_fd = *sync_fd };
  if (hy_sync_expect (*sync_fd, HY_SYNC_GO, err) < 0)
    return -1;
  /* The debug lines use runc's wording, which its suite greps for. */
  hy_process_debug (*sync_fd, "child process in init(): pid %d",
                    (int) getpid ());
  if (hy_process_open_console (s->process, *sync_fd, err) < 0
      || hy_process_find_executable (s->process, exe, err) < 0
      || hy_process_close_stray_fds (s->preserve_fds, err) < 0
      || hy_process_apply (&ctx, err) < 0)
    return -1;
  /* The caller may exit once we have exec'd (exec -d): its death must not
   * end us. */
  if (prctl (PR_SET_PDEATHSIG, 0) < 0)
    return hy_error_errno (err, "clear the parent death signal");
  hy_process_debug (*sync_fd, "setns_init: about to exec `%s`", *exe);
  if (hy_sync_send (*sync_fd, HY_SYNC_READY, -1, err) < 0)
    return -1;
  if (s->gate_fd < 0)
    return 0;
  close (*sync_fd);
  *sync_fd = -1;
  return wait_gate (s->gate_fd, err);
}

/* The process itself: the caller's child (CLONE_PARENT), in every
 * namespace. */
__attribute__ ((noreturn)) static void
run_process (const struct hy_spawn *s, int sync_fd)
{
  hy_error_t err = NULL;
  hy_process_reset_signals ();
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  hy_process_forward_warnings (&sync_fd);
  _cleanup_free_ char *exe = NULL;
  if (process_steps (s, &sync_fd, &exe, &err) == 0)
    hy_process_exec (s->process, exe, &err);
  hy_process_fail (sync_fd, err);
}

/* The joiner: enter the namespaces, fork the process as the caller's
 * child, tell the caller its pid, exit. */
__attribute__ ((noreturn)) static void
run_joiner (const struct hy_spawn *s, int caller_fd, int sync_fd)
{
  hy_error_t err = NULL;
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  close (caller_fd);
  if (s->in_joiner)
    s->in_joiner (s->data, sync_fd);
  if (hy_ns_join (s->ns, &err) == 0)
    {
      /* clone3 wants no exit signal with CLONE_PARENT: the child gets
       * ours, SIGCHLD. */
      struct clone_args_v0 args = { .flags = CLONE_PARENT };
      pid_t pid = (pid_t) syscall (SYS_clone3, &args, sizeof (args));
      if (pid == 0)
        run_process (s, sync_fd);
      if (pid > 0)
        {
          char text[32];
          snprintf (text, sizeof (text), "%d", (int) pid);
          hy_sync_send_text (sync_fd, HY_SYNC_PID, text);
          _exit (0);
        }
      hy_error_errno (&err, "fork the process in the container");
    }
  hy_process_fail (sync_fd, err);
}

/* ---- the caller's side ---- */

static int
parse_pid (const char *text, pid_t *pid, hy_error_t *err)
{
  char *end;
  long v = strtol (text, &end, 10);
  if (*end != '\0' || v <= 0 || v > INT32_MAX)
    return hy_error (err, EPROTO, "bad pid \"%s\" on the sync socket", text);
  *pid = (pid_t) v;
  return 0;
}

static int
receive_pid (int sync_fd, pid_t *pid, hy_error_t *err)
{
  struct hy_sync_msg m;
  int fd, r = hy_sync_recv_or_eof (sync_fd, &m, &fd, err);
  if (r > 0 && fd >= 0)
    close (fd);
  if (r > 0 && m.type == HY_SYNC_PID)
    return parse_pid (m.text, pid, err);
  if (r > 0 && m.type == HY_SYNC_ERROR)
    return hy_error (err, m.errnum, "%s", m.text);
  if (r > 0)
    return hy_error (err, EPROTO, "unexpected message %d on the sync socket",
                     m.type);
  if (r == 0)
    return hy_error (err, 0, "the process joining the container exited");
  return -1;
}

int
hy_spawn_in_namespaces (const struct hy_spawn *s, int *sync_fd, pid_t *pid,
                        hy_error_t *err)
{
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return hy_error_errno (err, "create the sync socket");
  pid_t joiner = fork ();
  if (joiner == 0)
    run_joiner (s, sv[0], sv[1]);
  int saved = errno;
  close (sv[1]);
  if (joiner < 0)
    {
      close (sv[0]);
      errno = saved;
      return hy_error_errno (err, "fork");
    }
  *pid = 0;
  int r = receive_pid (sv[0], pid, err);
  if (r < 0)
    kill (joiner, SIGKILL);
  waitpid (joiner, NULL, 0);
  if (r < 0)
    {
      close (sv[0]);
      return -1;
    }
  *sync_fd = sv[0];
  return 0;
}
