/* The last steps of a container process before execve: init's and exec's. */
#include "runtime/process.h"

#include <errno.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/linux/process-attrs.h"
#include "runtime/linux/rlimits.h"
#include "runtime/linux/sched.h"
#include "runtime/linux/user.h"
#include "runtime/linux/warn.h"
#include "runtime/log.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

#define KEYCTL_JOIN_SESSION_KEYRING 1

void
hy_process_reset_signals (void)
{
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
}

static void
forward_warning (const char *msg, void *data)
{
  const int *sync_fd = data;
  if (*sync_fd >= 0)
    hy_sync_send_text (*sync_fd, HY_SYNC_WARN, msg);
}

void
hy_process_forward_warnings (int *sync_fd)
{
  hy_linux_set_warn (forward_warning, sync_fd);
}

void
hy_process_debug (int sync_fd, const char *fmt, ...)
{
  if (!hy_log_debug_enabled () || sync_fd < 0)
    return;
  va_list ap;
  va_start (ap, fmt);
  _cleanup_free_ char *msg = NULL;
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  if (msg != NULL)
    hy_sync_send_text (sync_fd, HY_SYNC_DEBUG, msg);
}

int
hy_process_open_console (const struct oci_process *p, int sync_fd,
                         hy_error_t *err)
{
  if (!p->terminal)
    return 0;
  _cleanup_close_ int master = -1;
  _cleanup_close_ int slave = -1;
  if (hy_pty_open (&master, NULL, err) < 0
      || hy_pty_open_slave (master, &slave, err) < 0)
    return -1;
  /* The process owns its terminal; the group stays devpts' gid= (tty). */
  if (fchown (slave, p->user.uid, (gid_t) -1) < 0)
    return hy_error_errno (err, "chown the console to uid %u", p->user.uid);
  if (p->has_console_size
      && hy_pty_set_size (master, p->console_height, p->console_width, err)
             < 0)
    return -1;
  if (hy_sync_send (sync_fd, HY_SYNC_PTY, master, err) < 0)
    return -1;
  return hy_terminal_make_controlling (slave, err);
}

static bool
is_executable (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISREG (st.st_mode)
         && access (path, X_OK) == 0;
}

int
hy_process_find_executable (const struct oci_process *p, char **out,
                            hy_error_t *err)
{
  const char *name = p->args[0];
  if (strchr (name, '/'))
    {
      if (!is_executable (name))
        return hy_error_errno (err, "exec: \"%s\"", name);
      *out = xstrdup (name);
      return 0;
    }
  const char *path = NULL;
  for (size_t i = 0; p->env && p->env[i]; i++)
    if (str_has_prefix (p->env[i], "PATH="))
      path = p->env[i] + 5;
  for (const char *dir = path; dir && *dir;)
    {
      size_t len = strcspn (dir, ":");
      _cleanup_free_ char *candidate
          = xasprintf ("%.*s/%s", (int) len, len ? dir : ".", name);
      if (is_executable (candidate))
        {
          *out = steal_pointer (&candidate);
          return 0;
        }
      dir += len + (dir[len] == ':');
    }
  return hy_error (err, ENOENT,
                   "exec: \"%s\": executable file not found in $PATH", name);
}

static int
join_session_keyring (bool no_new_keyring, hy_error_t *err)
{
  if (no_new_keyring)
    return 0;
  if (syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0
      && errno != ENOSYS && errno != EACCES && errno != EPERM)
    return hy_error_errno (err, "join a new session keyring");
  return 0;
}

static int
load_seccomp (const struct hy_process_ctx *x, hy_error_t *err)
{
  if (x->seccomp == NULL)
    return 0;
  _cleanup_close_ int notify_fd = -1;
  if (hy_seccomp_load (x->seccomp, &notify_fd, err) < 0)
    return -1;
  if (notify_fd < 0)
    return 0;
  if (hy_sync_send (x->sync_fd, HY_SYNC_SECCOMP, notify_fd, err) < 0)
    return -1;
  return hy_sync_expect (x->sync_fd, HY_SYNC_SECCOMP_DONE, err);
}

/* Attributes that need the runtime's privileges come first, then the user
 * switch, then the capabilities the process keeps.  Seccomp, as runc
 * loads it: without no_new_privs the kernel wants CAP_SYS_ADMIN for it, so
 * before the capabilities are dropped; with it, as late as possible. */
int
hy_process_apply (const struct hy_process_ctx *x, hy_error_t *err)
{
  const struct oci_process *p = x->process;
  bool nnp = p->no_new_privileges;
  if (chdir (p->cwd) < 0)
    return hy_error_errno (err, "chdir to cwd (\"%s\") set in config.json",
                           p->cwd);
  if (join_session_keyring (x->no_new_keyring, err) < 0
      || hy_rlimits_apply (p->rlimits, p->n_rlimits, err) < 0
      || hy_oom_score_adj_apply (p, err) < 0
      || (x->linux_ && hy_personality_apply (x->linux_->personality, err) < 0)
      || hy_scheduler_apply (p->scheduler, err) < 0
      || hy_io_priority_apply (p->io_priority, err) < 0
      || (p->exec_cpu_affinity
          && hy_cpu_affinity_apply (p->exec_cpu_affinity->initial, err) < 0)
      || (!nnp && load_seccomp (x, err) < 0)
      || hy_caps_prepare_keep (err) < 0 || hy_user_apply (&p->user, err) < 0
      || hy_caps_apply (x->caps, err) < 0 || hy_no_new_privs_apply (p, err) < 0
      || (nnp && load_seccomp (x, err) < 0))
    return -1;
  return 0;
}

int
hy_process_close_stray_fds (unsigned preserve_fds, hy_error_t *err)
{
  unsigned first = 3 + preserve_fds;
  if (syscall (SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    return hy_error_errno (err, "mark fds >= %u close-on-exec", first);
  return 0;
}


int
hy_process_exec (const struct oci_process *p, const char *exe,
                 hy_error_t *err)
{
  char *empty[] = { NULL };
  execve (exe, p->args, p->env ? p->env : empty);
  return hy_error_errno (err, "exec `%s`", exe);
}

void
hy_process_fail (int sync_fd, hy_error_t err)
{
  if (sync_fd >= 0)
    hy_sync_send_error (sync_fd, err);
  else
    {
      _cleanup_free_ char *text = hy_error_text (err);
      dprintf (STDERR_FILENO, "hyrun: %s\n", text);
    }
  _exit (127);
}
