#include "runtime/hooks.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

/* How often the hook's exit is checked when pidfds are not available. */
#define EXIT_CHECK_MS 50

/* The last HY_HOOK_OUTPUT_MAX bytes a hook wrote. */
struct output_tail
{
  char data[HY_HOOK_OUTPUT_MAX];
  size_t len;
  bool truncated;
};

struct hook_proc
{
  pid_t pid;
  int pidfd; /* -1 when pidfd_open is not available */
  int stdin_fd; /* write end, non-blocking; -1 once the state is written */
  int output_fd; /* read end, non-blocking; -1 at end of file */
  const char *input;
  size_t input_len;
  size_t input_off;
  struct output_tail output;
  int status;
  bool exited;
};

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

static void
hook_proc_close (struct hook_proc *p)
{
  close_fd (&p->pidfd);
  close_fd (&p->stdin_fd);
  close_fd (&p->output_fd);
}

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- output ---- */

static void
output_append (struct output_tail *t, const char *buf, size_t n)
{
  if (n >= sizeof (t->data))
    {
      memcpy (t->data, buf + n - sizeof (t->data), sizeof (t->data));
      t->truncated = t->truncated || n > sizeof (t->data) || t->len > 0;
      t->len = sizeof (t->data);
      return;
    }
  if (t->len + n > sizeof (t->data))
    {
      size_t drop = t->len + n - sizeof (t->data);
      memmove (t->data, t->data + drop, t->len - drop);
      t->len -= drop;
      t->truncated = true;
    }
  memcpy (t->data + t->len, buf, n);
  t->len += n;
}

/* The output on one line: control characters become spaces, runs of
 * spaces one, and the ends are trimmed.  Caller frees. */
static char *
output_one_line (const struct output_tail *t)
{
  char *line = xmalloc0 (t->len + 4);
  size_t len = 0;
  if (t->truncated)
    len = (size_t) sprintf (line, "...");
  for (size_t i = 0; i < t->len; i++)
    {
      char c = t->data[i];
      if ((unsigned char) c < 0x20 || c == 0x7f)
        c = ' ';
      if (c == ' ' && (len == 0 || line[len - 1] == ' '))
        continue;
      line[len++] = c;
    }
  while (len > 0 && line[len - 1] == ' ')
    len--;
  line[len] = '\0';
  return line;
}

/* Read what is available; EOF or an error closes the pipe. */
static void
read_output (struct hook_proc *p)
{
  char buf[4096];
  while (p->output_fd >= 0)
    {
      ssize_t n = read (p->output_fd, buf, sizeof (buf));
      if (n > 0)
        output_append (&p->output, buf, (size_t) n);
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && errno == EAGAIN)
        return;
      else
        close_fd (&p->output_fd);
    }
}

/* ---- input ---- */

/* Write what the pipe takes.  A hook that exits or closes stdin without
 * reading everything is not an error (EPIPE), as with runc. */
static void
feed_input (struct hook_proc *p)
{
  while (p->stdin_fd >= 0 && p->input_off < p->input_len)
    {
      ssize_t n = write (p->stdin_fd, p->input + p->input_off,
                         p->input_len - p->input_off);
      if (n > 0)
        p->input_off += (size_t) n;
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && errno == EAGAIN)
        return;
      else
        break;
    }
  close_fd (&p->stdin_fd);
}

/* ---- spawning ---- */

/* What the child needs, prepared before fork(). */
struct hook_exec
{
  const char *path;
  char *const *argv;
  char *const *envp;
  int stdin_fd;
  int output_fd;
  int report_fd; /* close-on-exec; gets the errno of a failed exec */
  int open_max;
};

/* Move fd above 0-2 so that the dup2() onto the stdio numbers in the
 * child cannot overwrite another pipe end. */
static int
fd_above_stdio (int fd)
{
  if (fd > 2)
    return fd;
  int moved = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  int saved = errno;
  close (fd);
  errno = saved;
  return moved;
}

static int
make_pipe (int *read_end, int *write_end, hy_error_t *err)
{
  int p[2], errnum = 0;
  if (pipe2 (p, O_CLOEXEC) < 0)
    return hy_error_errno (err, "pipe");
  *read_end = fd_above_stdio (p[0]);
  if (*read_end < 0)
    errnum = errno;
  *write_end = fd_above_stdio (p[1]);
  if (*write_end < 0)
    errnum = errno;
  if (errnum == 0)
    return 0;
  close_fd (read_end);
  close_fd (write_end);
  return hy_error (err, errnum, "pipe");
}

/* Close fds above `from`: close_range, or one by one before Linux 5.9. */
static int
close_fds_from (int from, int open_max)
{
  if (close_range ((unsigned) from, ~0U, 0) == 0)
    return 0;
  if (errno != ENOSYS)
    return -1;
  for (int fd = from; fd < open_max; fd++)
    close (fd);
  return 0;
}

/* In the forked child, before execve: only what the hook needs.  Every
 * call here is async-signal-safe.  The pipe ends are all above 2; signals
 * come blocked from the parent. */
static void __attribute__ ((noreturn))
exec_hook (const struct hook_exec *x)
{
  struct sigaction dfl = { .sa_handler = SIG_DFL };
  for (int sig = 1; sig < NSIG; sig++)
    sigaction (sig, &dfl, NULL);
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  /* Its own process group, so that a timeout kills what it started. */
  setpgid (0, 0);
  int report = x->report_fd;
  if (dup2 (x->stdin_fd, 0) < 0 || dup2 (x->output_fd, 1) < 0
      || dup2 (x->output_fd, 2) < 0)
    goto fail;
  if (report != 3 && dup3 (report, 3, O_CLOEXEC) < 0)
    goto fail;
  report = 3;
  if (close_fds_from (4, x->open_max) < 0)
    goto fail;
  execve (x->path, x->argv, x->envp);
fail:;
  int errnum = errno;
  ssize_t n = write (report, &errnum, sizeof (errnum));
  (void) n;
  _exit (127);
}

/* 0 once the hook runs, else the errno of its failed exec. */
static int
exec_result (int report_fd, pid_t pid)
{
  int errnum = 0;
  ssize_t n;
  do
    n = read (report_fd, &errnum, sizeof (errnum));
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t) sizeof (errnum))
    return 0;
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return errnum;
}

static pid_t
fork_hook (const struct hook_exec *x)
{
  sigset_t all, saved;
  sigfillset (&all);
  sigprocmask (SIG_SETMASK, &all, &saved);
  pid_t pid = fork ();
  if (pid == 0)
    exec_hook (x);
  int errnum = errno;
  sigprocmask (SIG_SETMASK, &saved, NULL);
  errno = errnum;
  return pid;
}

/* fork()+execve() rather than posix_spawn(), which leaves glibc's
 * internal signals ignored in the child. */
static int
spawn_hook (const struct oci_hook *hook, int stdin_fd, int output_fd,
            pid_t *pid, hy_error_t *err)
{
  static char *const no_env[] = { NULL };
  char *path_only[] = { hook->path, NULL };
  _cleanup_close_ int report_r = -1;
  _cleanup_close_ int report_w = -1;
  if (make_pipe (&report_r, &report_w, err) < 0)
    return -1;
  long open_max = sysconf (_SC_OPEN_MAX);
  struct hook_exec x = {
    .path = hook->path,
    .argv = hook->args && hook->args[0] ? hook->args : path_only,
    .envp = hook->env ? hook->env : no_env,
    .stdin_fd = stdin_fd,
    .output_fd = output_fd,
    .report_fd = report_w,
    .open_max = open_max > 0 && open_max < INT32_MAX ? (int) open_max : 1024,
  };
  *pid = fork_hook (&x);
  if (*pid < 0)
    return hy_error_errno (err, "fork");
  close_fd (&report_w);
  int errnum = exec_result (report_r, *pid);
  if (errnum != 0)
    {
      *pid = -1;
      return hy_error (err, errnum, "exec");
    }
  return 0;
}

static int
start_hook (const struct oci_hook *hook, const char *name,
            struct hook_proc *p, hy_error_t *err)
{
  _cleanup_close_ int child_stdin = -1;
  _cleanup_close_ int child_output = -1;
  if (make_pipe (&child_stdin, &p->stdin_fd, err) < 0
      || make_pipe (&p->output_fd, &child_output, err) < 0
      || spawn_hook (hook, child_stdin, child_output, &p->pid, err) < 0)
    return hy_error_prepend (err, "%s", name);
  if (fcntl (p->stdin_fd, F_SETFL, O_NONBLOCK) < 0
      || fcntl (p->output_fd, F_SETFL, O_NONBLOCK) < 0)
    return hy_error_errno (err, "%s: set pipes non-blocking", name);
  p->pidfd = (int) syscall (SYS_pidfd_open, p->pid, 0);
  if (p->input_len == 0)
    close_fd (&p->stdin_fd);
  return 0;
}

/* ---- waiting ---- */

static int
reap (struct hook_proc *p, int flags, hy_error_t *err)
{
  for (;;)
    {
      pid_t r = waitpid (p->pid, &p->status, flags);
      if (r == p->pid)
        p->exited = true;
      if (r >= 0)
        return 0;
      if (errno != EINTR)
        return hy_error_errno (err, "waitpid %d", (int) p->pid);
    }
}

/* The hook leads its own process group: kill what it started too. */
static int
kill_hook (struct hook_proc *p, hy_error_t *err)
{
  kill (-p->pid, SIGKILL);
  kill (p->pid, SIGKILL);
  return reap (p, 0, err);
}

static void
add_pollfd (struct pollfd *fds, nfds_t *n, int fd, short events)
{
  if (fd >= 0)
    fds[(*n)++] = (struct pollfd){ .fd = fd, .events = events };
}

/* Wait (at most timeout_ms, -1: no limit) for the pipes or the exit. */
static int
poll_hook (struct hook_proc *p, int64_t timeout_ms, hy_error_t *err)
{
  struct pollfd fds[3];
  nfds_t n = 0;
  add_pollfd (fds, &n, p->stdin_fd, POLLOUT);
  add_pollfd (fds, &n, p->output_fd, POLLIN);
  add_pollfd (fds, &n, p->pidfd, POLLIN);
  if (p->pidfd < 0 && (timeout_ms < 0 || timeout_ms > EXIT_CHECK_MS))
    timeout_ms = EXIT_CHECK_MS;
  if (poll (fds, n, (int) (timeout_ms > INT32_MAX ? INT32_MAX : timeout_ms))
          < 0
      && errno != EINTR)
    return hy_error_errno (err, "poll");
  feed_input (p);
  read_output (p);
  return 0;
}

/* Run the hook to its end or its deadline (-1: none). */
static int
supervise (struct hook_proc *p, int64_t deadline, bool *timed_out,
           hy_error_t *err)
{
  for (;;)
    {
      if (reap (p, WNOHANG, err) < 0)
        return -1;
      if (p->exited)
        break;
      int64_t left = deadline < 0 ? -1 : deadline - now_ms ();
      if (deadline >= 0 && left <= 0)
        {
          *timed_out = true;
          if (kill_hook (p, err) < 0)
            return -1;
          break;
        }
      if (poll_hook (p, left, err) < 0)
        return -1;
    }
  /* What it wrote before exiting; a descendant keeping the pipe open must
   * not make us wait for it. */
  read_output (p);
  return 0;
}

/* -1 without a timeout. */
static int64_t
hook_deadline (const struct oci_hook *hook)
{
  if (!hook->has_timeout || hook->timeout <= 0
      || hook->timeout > INT32_MAX)
    return -1;
  return now_ms () + hook->timeout * 1000;
}

/* ---- results ---- */

static char *
exit_cause (int status)
{
  if (WIFEXITED (status))
    return xasprintf ("exit status %d", WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    {
      int sig = WTERMSIG (status);
      const char *abbrev = sigabbrev_np (sig);
      _cleanup_free_ char *what = xstrdup (strsignal (sig));
      for (char *c = what; *c; c++)
        *c = (char) tolower ((unsigned char) *c);
      if (abbrev)
        return xasprintf ("killed by signal SIG%s (%s)", abbrev, what);
      return xasprintf ("killed by signal %d (%s)", sig, what);
    }
  return xasprintf ("wait status %#x", (unsigned) status);
}

static int
hook_failed (const char *name, const struct hook_proc *p, bool timed_out,
             const struct oci_hook *hook, hy_error_t *err)
{
  _cleanup_free_ char *cause
      = timed_out ? xasprintf ("timed out after %lld s",
                               (long long) hook->timeout)
                  : exit_cause (p->status);
  _cleanup_free_ char *output = output_one_line (&p->output);
  if (*output)
    return hy_error (err, 0, "%s: %s: %s", name, cause, output);
  return hy_error (err, 0, "%s: %s", name, cause);
}

static int
run_hook (const struct oci_hook *hook, const char *name,
          const char *state_json, hy_error_t *err)
{
  struct hook_proc p = { .pid = -1, .pidfd = -1, .stdin_fd = -1,
                         .output_fd = -1 };
  p.input = state_json ? state_json : "";
  p.input_len = strlen (p.input);
  int64_t deadline = hook_deadline (hook);
  bool timed_out = false;
  int r = start_hook (hook, name, &p, err);
  if (r == 0)
    r = supervise (&p, deadline, &timed_out, err);
  if (r < 0 && p.pid > 0 && !p.exited)
    kill_hook (&p, NULL);
  hook_proc_close (&p);
  if (r < 0)
    return r;
  if (timed_out || !WIFEXITED (p.status) || WEXITSTATUS (p.status) != 0)
    return hook_failed (name, &p, timed_out, hook, err);
  return 0;
}

static int
run_hooks_of_kind (const struct oci_hooks *hooks, enum oci_hook_kind kind,
                   const char *state_json, hy_error_t *err)
{
  for (size_t i = 0; i < hooks->count[kind]; i++)
    {
      const struct oci_hook *hook = &hooks->list[kind][i];
      /* runc's words, which tools look for: "error running hook #N". */
      _cleanup_free_ char *name
          = xasprintf ("error running hook #%zu (%s) `%s`", i,
                       oci_hook_kind_names[kind], hook->path);
      if (run_hook (hook, name, state_json, err) < 0)
        return -1;
    }
  return 0;
}

int
hy_hooks_run (const struct oci_hooks *hooks, enum oci_hook_kind kind,
              const char *state_json, hy_error_t *err)
{
  if ((unsigned) kind >= OCI_HOOK_KINDS)
    return hy_error (err, EINVAL, "unknown hook kind %d", (int) kind);
  if (hooks == NULL || hooks->count[kind] == 0)
    return 0;
  /* A hook that exits without reading its stdin must not kill us. */
  struct sigaction ignore = { .sa_handler = SIG_IGN }, saved;
  sigaction (SIGPIPE, &ignore, &saved);
  int r = run_hooks_of_kind (hooks, kind, state_json, err);
  sigaction (SIGPIPE, &saved, NULL);
  return r;
}
