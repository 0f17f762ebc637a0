#include "runtime/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/linux/namespaces.h"
#include "runtime/log.h"
#include "runtime/process.h"
#include "runtime/sync.h"
#include "runtime/vm/supervisor.h"
#include "runtime/terminal.h"

/* What exec holds while it works; released whatever the outcome. */
struct execution
{
  const struct hy_exec_opts *o;
  struct hy_container *c;
  const struct oci_process *p;
  struct hy_caps caps;
  struct hy_seccomp *seccomp;
  struct hy_ns_fds ns;
  char *ns_path[OCI_NS_TYPES];
  int sync_fd;  /* hyrun's end */
  int child_fd; /* the process's end, until forked */
  pid_t joiner;
  pid_t pid;
  int pty_master;
};

/* ---- prepared where errors are cheap ---- */

static int
prepare (struct execution *e, hy_error_t *err)
{
  const struct oci_linux *l = e->c->config->linux_;
  if (e->p->args == NULL || e->p->args[0] == NULL)
    return hy_error (err, 0, "exec: no command to run");
  if (e->p->capabilities
      && hy_caps_resolve (e->p->capabilities, &e->caps, err) < 0)
    return -1;
  if (l && l->seccomp && hy_seccomp_build (l->seccomp, &e->seccomp, err) < 0)
    return -1;
  return 0;
}

static bool
same_file (const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static int
stopped (hy_error_t *err)
{
  return hy_error (err, 0, "cannot exec a container that has stopped");
}

/* The namespaces of the container's init that are not hyrun's own. */
static int
open_namespaces (struct execution *e, hy_error_t *err)
{
  pid_t init = e->c->status.pid;
  for (int t = 0; t < OCI_NS_TYPES; t++)
    {
      const char *name = hy_ns_proc_name ((enum oci_namespace_type) t);
      _cleanup_free_ char *self = xasprintf ("/proc/self/ns/%s", name);
      e->ns_path[t] = xasprintf ("/proc/%d/ns/%s", (int) init, name);
      struct stat ours, theirs;
      if (stat (self, &ours) < 0)
        {
          if (errno == ENOENT)
            continue; /* a namespace type this kernel lacks */
          return hy_error_errno (err, "stat `%s`", self);
        }
      if (stat (e->ns_path[t], &theirs) < 0)
        return errno == ENOENT || errno == ESRCH
                   ? stopped (err)
                   : hy_error_errno (err, "stat `%s`", e->ns_path[t]);
      if (same_file (&ours, &theirs))
        continue;
      int fd = open (e->ns_path[t], O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return errno == ENOENT || errno == ESRCH
                   ? stopped (err)
                   : hy_error_errno (err, "open `%s`", e->ns_path[t]);
      e->ns.fd[t] = fd;
      e->ns.path[t] = e->ns_path[t];
      e->ns.index[t] = HY_NS_NO_INDEX;
    }
  /* The pid may have been reused before the opens: check it is init's. */
  if (!hy_status_init_alive (&e->c->status))
    return stopped (err);
  return 0;
}

/* ---- the child side ---- */

struct clone_args_v0
{
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
      stack_size, tls;
};

static int
process_steps (struct execution *e, char **exe, hy_error_t *err)
{
  const struct oci_process *p = e->p;
  const struct hy_process_ctx ctx = { .process = p,
                                      .linux_ = e->c->config->linux_,
                                      .caps = &e->caps,
                                      .seccomp = e->seccomp,
                                      .sync_fd = e->child_fd };
  if (hy_sync_expect (e->child_fd, HY_SYNC_GO, err) < 0)
    return -1;
  hy_process_debug (e->child_fd, "child process in init(): pid %d",
                    (int) getpid ());
  if (hy_process_open_console (p, e->child_fd, err) < 0
      || hy_process_find_executable (p, exe, err) < 0
      || hy_process_close_stray_fds (e->o->preserve_fds, err) < 0
      || hy_process_apply (&ctx, err) < 0)
    return -1;
  /* hyrun exec -d exits once we have exec'd: its death must not end us. */
  if (prctl (PR_SET_PDEATHSIG, 0) < 0)
    return hy_error_errno (err, "clear the parent death signal");
  hy_process_debug (e->child_fd, "setns_init: about to exec `%s`", *exe);
  return hy_sync_send (e->child_fd, HY_SYNC_READY, -1, err);
}

/* The process itself: hyrun's child (CLONE_PARENT), in every namespace. */
__attribute__ ((noreturn)) static void
run_process (struct execution *e)
{
  hy_error_t err = NULL;
  hy_process_reset_signals ();
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  hy_process_forward_warnings (&e->child_fd);
  _cleanup_free_ char *exe = NULL;
  if (process_steps (e, &exe, &err) == 0)
    hy_process_exec (e->p, exe, &err);
  hy_process_fail (e->child_fd, err);
}

/* The joiner: enter the namespaces, fork the process as hyrun's child, tell
 * hyrun its pid, exit. */
__attribute__ ((noreturn)) static void
run_joiner (struct execution *e)
{
  hy_error_t err = NULL;
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  close (e->sync_fd);
  e->sync_fd = -1;
  /* The lock on it is hyrun's to drop, never ours to keep. */
  close (e->c->dirfd);
  if (hy_ns_join (&e->ns, &err) == 0)
    {
      /* clone3 wants no exit signal with CLONE_PARENT: the child gets
       * ours, SIGCHLD. */
      struct clone_args_v0 args = { .flags = CLONE_PARENT };
      pid_t pid = (pid_t) syscall (SYS_clone3, &args, sizeof (args));
      if (pid == 0)
        run_process (e);
      if (pid > 0)
        {
          char text[32];
          snprintf (text, sizeof (text), "%d", (int) pid);
          hy_sync_send_text (e->child_fd, HY_SYNC_PID, text);
          _exit (0);
        }
      hy_error_errno (&err, "fork the process in the container");
    }
  hy_process_fail (e->child_fd, err);
}

/* ---- the parent side ---- */

static int
fork_joiner (struct execution *e, hy_error_t *err)
{
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return hy_error_errno (err, "create the sync socket");
  e->sync_fd = sv[0];
  e->child_fd = sv[1];
  hy_log_debug ("nsexec container setup: fork the joiner of the "
                "container's namespaces");
  e->joiner = fork ();
  if (e->joiner == 0)
    run_joiner (e);
  int saved = errno;
  close (e->child_fd);
  e->child_fd = -1;
  if (e->joiner < 0)
    {
      errno = saved;
      return hy_error_errno (err, "fork");
    }
  return 0;
}

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

/* The process's pid, from the joiner, which is then reaped. */
static int
receive_pid (struct execution *e, hy_error_t *err)
{
  struct hy_sync_msg m;
  int fd, r = hy_sync_recv_or_eof (e->sync_fd, &m, &fd, err);
  if (r > 0 && fd >= 0)
    close (fd);
  if (r > 0 && m.type == HY_SYNC_PID)
    r = parse_pid (m.text, &e->pid, err);
  else if (r > 0 && m.type == HY_SYNC_ERROR)
    r = hy_error (err, m.errnum, "%s", m.text);
  else if (r > 0)
    r = hy_error (err, EPROTO, "unexpected message %d on the sync socket",
                  m.type);
  else if (r == 0)
    r = hy_error (err, 0, "the process joining the container exited");
  if (r < 0)
    return -1;
  waitpid (e->joiner, NULL, 0);
  e->joiner = 0;
  return 0;
}

static int
send_go (struct execution *e, hy_error_t *err)
{
  struct hy_cgroup *cg = e->c->cgroup;
  if (cg == NULL && e->o->cgroups && e->o->cgroups[0])
    return hy_error (err, 0, "--cgroup: the container has no cgroup");
  if (cg && hy_cgroup_enter_subs (cg, e->pid, e->o->cgroups, err) < 0)
    return hy_error_prepend (err, "join the container's cgroup");
  /* Now kill --all and delete find the process.  In a paused container it
   * is frozen from here until resume, which must not wait on our lock. */
  flock (e->c->dirfd, LOCK_UN);
  return hy_sync_send (e->sync_fd, HY_SYNC_GO, -1, err);
}

/* Until the socket closes: the process has exec'd (after READY) or died. */
static int
serve_process (struct execution *e, hy_error_t *err)
{
  bool ready = false;
  for (;;)
    {
      struct hy_sync_msg m;
      int fd, r = hy_sync_recv_or_eof (e->sync_fd, &m, &fd, err);
      if (r < 0)
        return -1;
      if (r == 0)
        return ready ? 0
                     : hy_error (err, 0, "the process exited during setup");
      switch (m.type)
        {
        case HY_SYNC_PTY:
          r = hy_sync_take_pty (fd, e->o->console_socket,
                                e->o->keep_pty ? &e->pty_master : NULL, err);
          break;
        case HY_SYNC_SECCOMP:
          {
            _cleanup_free_ char *state = hy_container_state_json (e->c, false);
            r = hy_sync_take_seccomp (e->sync_fd, fd,
                                      e->c->config->linux_->seccomp, state,
                                      err);
          }
          break;
        case HY_SYNC_WARN:
          hy_log_warning ("%s", m.text);
          r = 0;
          break;
        case HY_SYNC_DEBUG:
          hy_log_debug ("%s", m.text);
          r = 0;
          break;
        case HY_SYNC_READY:
          ready = true;
          r = 0;
          break;
        case HY_SYNC_ERROR:
          return hy_error (err, m.errnum, "%s", m.text);
        default:
          if (fd >= 0)
            close (fd);
          return hy_error (err, EPROTO, "unexpected message %d from the "
                                        "process", m.type);
        }
      if (r < 0)
        {
          hy_sync_send_error (e->sync_fd, *err);
          return -1;
        }
    }
}

static int
write_pid_file (struct execution *e, hy_error_t *err)
{
  if (e->o->pid_file == NULL)
    return 0;
  char buf[32];
  int n = snprintf (buf, sizeof (buf), "%d", (int) e->pid);
  return write_file_atomic (e->o->pid_file, buf, (size_t) n, 0644, err);
}

static void
undo (struct execution *e)
{
  if (e->joiner > 0)
    {
      kill (e->joiner, SIGKILL);
      waitpid (e->joiner, NULL, 0);
    }
  if (e->pid > 0)
    {
      kill (e->pid, SIGKILL);
      waitpid (e->pid, NULL, 0);
    }
  if (e->pty_master >= 0)
    close (e->pty_master);
  e->pty_master = -1;
}

static void
release (struct execution *e)
{
  hy_ns_fds_close (&e->ns);
  for (int t = 0; t < OCI_NS_TYPES; t++)
    free (e->ns_path[t]);
  hy_seccomp_free (e->seccomp);
  if (e->sync_fd >= 0)
    close (e->sync_fd);
}

int
hy_container_exec (const struct hy_exec_opts *o, struct hy_executed *out,
                   hy_error_t *err)
{
  struct execution e = { .o = o,
                         .c = o->container,
                         .p = o->process,
                         .sync_fd = -1,
                         .child_fd = -1,
                         .pty_master = -1 };
  if (o->container->status.isolation == HY_ISOLATION_VM)
    return hy_vm_exec (o, out, err);
  hy_ns_fds_init (&e.ns);
  int r = 0;
  if (prepare (&e, err) < 0 || open_namespaces (&e, err) < 0)
    r = -1;
  else if (fork_joiner (&e, err) < 0 || receive_pid (&e, err) < 0
           || send_go (&e, err) < 0 || serve_process (&e, err) < 0
           || write_pid_file (&e, err) < 0)
    {
      r = -1;
      undo (&e);
    }
  if (r == 0)
    *out = (struct hy_executed){ .pid = e.pid, .pty_master = e.pty_master };
  release (&e);
  return r;
}
