/* Container init: everything between clone and execve, in order. */
#include "runtime/init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/hooks.h"
#include "runtime/linux/process-attrs.h"
#include "runtime/linux/resolve.h"
#include "runtime/linux/rlimits.h"
#include "runtime/linux/rootfs.h"
#include "runtime/linux/sched.h"
#include "runtime/linux/sysctl.h"
#include "runtime/linux/user.h"
#include "runtime/linux/warn.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

#define KEYCTL_JOIN_SESSION_KEYRING 1

static int
become_root_in_userns (const struct hy_init_args *a, hy_error_t *err)
{
  if (!a->new_userns)
    return 0;
  if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
    return hy_error_errno (err, "become root in the user namespace (is "
                                "uid/gid 0 mapped?)");
  return 0;
}

/* Joined namespaces, then the rootfs up to the createContainer hooks. */
static int
setup_namespaces (struct hy_init_args *a, hy_error_t *err)
{
  if (hy_ns_join (&a->ns, err) < 0 || become_root_in_userns (a, err) < 0)
    return -1;
  if (!hy_ns_is_private (a->config->linux_, OCI_NS_MOUNT))
    return hy_error (err, 0, "config.json: .linux.namespaces: a mount "
                             "namespace is required");
  return 0;
}

/* runc creates process.cwd inside the rootfs when it is missing. */
static int
make_cwd (const struct hy_rootfs *r, const struct oci_process *p,
          hy_error_t *err)
{
  if (p == NULL || p->cwd == NULL)
    return 0;
  int fd = hy_mkdir_in_root (r->rootfd, p->cwd, 0755, err);
  if (fd < 0)
    return hy_error_prepend (err, "create cwd `%s`", p->cwd);
  close (fd);
  return 0;
}

/* Ask create to run prestart and createRuntime; it answers with the state
 * document for our own createContainer hooks. */
static int
runtime_hooks (const struct hy_init_args *a, char **state, hy_error_t *err)
{
  struct hy_sync_msg m;
  int fd;
  if (hy_sync_send (a->sync_fd, HY_SYNC_HOOKS, -1, err) < 0
      || hy_sync_recv (a->sync_fd, &m, &fd, err) < 0)
    return -1;
  if (m.type != HY_SYNC_HOOKS_DONE)
    return hy_error (err, m.errnum, "%s", m.text);
  *state = xstrdup (m.text);
  return 0;
}

static int
setup_rootfs (struct hy_init_args *a, char **state, hy_error_t *err)
{
  const struct oci_config *c = a->config;
  struct hy_rootfs r = { 0 };
  int ret = -1;
  if (hy_rootfs_prepare (&r, c, a->rootfs, a->no_pivot, err) < 0
      || hy_rootfs_mount (&r, err) < 0 || make_cwd (&r, c->process, err) < 0
      || hy_sysctl_apply (c, err) < 0 || hy_uts_apply (c, err) < 0
      || runtime_hooks (a, state, err) < 0
      || hy_hooks_run (c->hooks, OCI_HOOK_CREATE_CONTAINER, *state, err) < 0
      || hy_rootfs_finalize (&r, err) < 0)
    goto out;
  ret = 0;
out:
  hy_rootfs_release (&r);
  return ret;
}

/* The console: a pty from the container's own devpts, its master handed to
 * create (for --console-socket or the foreground relay), its slave made
 * the controlling terminal and stdio. */
static int
setup_console (const struct hy_init_args *a, hy_error_t *err)
{
  const struct oci_process *p = a->config->process;
  if (!p->terminal)
    return 0;
  _cleanup_close_ int master = -1;
  _cleanup_close_ int slave = -1;
  if (hy_pty_open (&master, NULL, err) < 0
      || hy_pty_open_slave (master, &slave, err) < 0)
    return -1;
  if (p->has_console_size
      && hy_pty_set_size (master, p->console_height, p->console_width, err)
             < 0)
    return -1;
  if (hy_sync_send (a->sync_fd, HY_SYNC_PTY, master, err) < 0)
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

/* argv[0] as execvpe would find it with the container's PATH; runc reports
 * a missing binary at create time. */
static int
find_executable (const struct oci_process *p, char **out, hy_error_t *err)
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
join_session_keyring (const struct hy_init_args *a, hy_error_t *err)
{
  if (a->no_new_keyring)
    return 0;
  if (syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0
      && errno != ENOSYS && errno != EACCES && errno != EPERM)
    return hy_error_errno (err, "join a new session keyring");
  return 0;
}

/* Attributes that need the runtime's privileges come first, then the user
 * switch, then the capabilities the process keeps. */
static int
setup_process (const struct hy_init_args *a, hy_error_t *err)
{
  const struct oci_process *p = a->config->process;
  const struct oci_linux *l = a->config->linux_;
  if (chdir (p->cwd) < 0)
    return hy_error_errno (err, "chdir to cwd (\"%s\") set in config.json",
                           p->cwd);
  if (join_session_keyring (a, err) < 0
      || hy_rlimits_apply (p->rlimits, p->n_rlimits, err) < 0
      || hy_oom_score_adj_apply (p, err) < 0
      || (l && hy_personality_apply (l->personality, err) < 0)
      || hy_scheduler_apply (p->scheduler, err) < 0
      || hy_io_priority_apply (p->io_priority, err) < 0
      || (p->exec_cpu_affinity
          && hy_cpu_affinity_apply (p->exec_cpu_affinity->initial, err) < 0)
      || hy_caps_prepare_keep (err) < 0 || hy_user_apply (&p->user, err) < 0
      || hy_caps_apply (&a->caps, err) < 0
      || hy_no_new_privs_apply (p, err) < 0)
    return -1;
  return 0;
}

static int
load_seccomp (const struct hy_init_args *a, hy_error_t *err)
{
  if (a->seccomp == NULL)
    return 0;
  _cleanup_close_ int notify_fd = -1;
  if (hy_seccomp_load (a->seccomp, &notify_fd, err) < 0)
    return -1;
  if (notify_fd < 0)
    return 0;
  if (hy_sync_send (a->sync_fd, HY_SYNC_SECCOMP, notify_fd, err) < 0)
    return -1;
  return hy_sync_expect (a->sync_fd, HY_SYNC_SECCOMP_DONE, err);
}

/* Everything above fd 2 closes on exec, but the preserved ones. */
static int
close_stray_fds (const struct hy_init_args *a, hy_error_t *err)
{
  unsigned first = 3 + a->preserve_fds;
  if (syscall (SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    return hy_error_errno (err, "mark fds >= %u close-on-exec", first);
  return 0;
}

/* Block until `start` opens the fifo for reading. */
static int
wait_for_start (const struct hy_init_args *a, hy_error_t *err)
{
  char path[HY_PROC_FD_PATH_MAX];
  _cleanup_close_ int fd
      = open (hy_proc_fd_path (a->fifo_fd, path), O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "open exec.fifo");
  if (write (fd, "0", 1) != 1)
    return hy_error_errno (err, "write exec.fifo");
  return 0;
}

static int
init_steps (struct hy_init_args *a, char **exe, hy_error_t *err)
{
  _cleanup_free_ char *state = NULL;
  if (hy_sync_expect (a->sync_fd, HY_SYNC_GO, err) < 0
      || setup_namespaces (a, err) < 0 || setup_rootfs (a, &state, err) < 0
      || setup_console (a, err) < 0
      || find_executable (a->config->process, exe, err) < 0
      || setup_process (a, err) < 0 || close_stray_fds (a, err) < 0
      || load_seccomp (a, err) < 0)
    return -1;
  /* From here create may exit: its death must not take us along. */
  if (prctl (PR_SET_PDEATHSIG, 0) < 0
      || hy_sync_send (a->sync_fd, HY_SYNC_READY, -1, err) < 0)
    return -1;
  close (a->sync_fd);
  a->sync_fd = -1;
  if (wait_for_start (a, err) < 0)
    return -1;
  return hy_hooks_run (a->config->hooks, OCI_HOOK_START_CONTAINER, state,
                       err);
}

/* The runtime may block or ignore signals; the container starts clean. */
static void
reset_signals (void)
{
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
}

/* init's stderr is the container's: warnings go to create's log instead. */
static void
forward_warning (const char *msg, void *data)
{
  const struct hy_init_args *a = data;
  if (a->sync_fd >= 0)
    hy_sync_send_text (a->sync_fd, HY_SYNC_WARN, msg);
}

void
hy_init_run (struct hy_init_args *a)
{
  hy_error_t err = NULL;
  reset_signals ();
  hy_linux_set_warn (forward_warning, a);
  _cleanup_free_ char *exe = NULL;
  if (init_steps (a, &exe, &err) == 0)
    {
      const struct oci_process *p = a->config->process;
      char *empty[] = { NULL };
      execve (exe, p->args, p->env ? p->env : empty);
      hy_error_errno (&err, "exec `%s`", exe);
    }
  if (a->sync_fd >= 0)
    hy_sync_send_error (a->sync_fd, err);
  else
    {
      _cleanup_free_ char *text = hy_error_text (err);
      dprintf (STDERR_FILENO, "hyrun: %s\n", text);
    }
  _exit (127);
}
