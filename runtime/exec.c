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
#include "runtime/spawn.h"
#include "runtime/status.h"
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
  int sync_fd; /* hyrun's end */
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

static int
stopped (hy_error_t *err)
{
  return hy_error (err, 0, "cannot exec a container that has stopped");
}

/* The namespaces of the container's init that are not hyrun's own. */
static int
open_namespaces (struct execution *e, hy_error_t *err)
{
  if (hy_ns_open_of_pid (e->c->status.pid, &e->ns, e->ns_path, err) < 0)
    {
      if ((*err)->errnum != ENOENT && (*err)->errnum != ESRCH)
        return -1;
      hy_error_release (err);
      return stopped (err);
    }
  /* The pid may have been reused before the opens: check it is init's. */
  if (!hy_status_init_alive (&e->c->status))
    return stopped (err);
  return 0;
}

/* ---- the process ---- */

/* The lock on the container's directory is hyrun's to drop, never the
 * joiner's to keep. */
static void
close_lock (void *data, int sync_fd)
{
  (void) sync_fd;
  struct execution *e = data;
  close (e->c->dirfd);
}

static int
spawn (struct execution *e, hy_error_t *err)
{
  const struct hy_spawn s = { .process = e->p,
                              .linux_ = e->c->config->linux_,
                              .caps = &e->caps,
                              .seccomp = e->seccomp,
                              .ns = &e->ns,
                              .preserve_fds = e->o->preserve_fds,
                              .gate_fd = -1,
                              .in_joiner = close_lock,
                              .data = e };
  hy_log_debug ("nsexec container setup: fork the joiner of the "
                "container's namespaces");
  return hy_spawn_in_namespaces (&s, &e->sync_fd, &e->pid, err);
}

/* ---- the parent side ---- */

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

static void
undo (struct execution *e)
{
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
  if (o->container->status.isolation == HY_ISOLATION_VM)
    return hy_vm_exec (o, out, err);
  struct execution e = { .o = o,
                         .c = o->container,
                         .p = o->process,
                         .sync_fd = -1,
                         .pty_master = -1 };
  hy_ns_fds_init (&e.ns);
  int r = 0;
  if (prepare (&e, err) < 0 || open_namespaces (&e, err) < 0)
    r = -1;
  else if (spawn (&e, err) < 0 || send_go (&e, err) < 0 || serve_process (&e, err) < 0
           || hy_pid_file_write (o->pid_file, e.pid, err) < 0)
    {
      r = -1;
      undo (&e);
    }
  if (r == 0)
    *out = (struct hy_executed){ .pid = e.pid, .pty_master = e.pty_master };
  release (&e);
  return r;
}
