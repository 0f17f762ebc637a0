#include "runtime/lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/create.h"
#include "runtime/hooks.h"
#include "runtime/vm/supervisor.h"
#include "runtime/log.h"

#define CONFIG_COPY_MAX (16u << 20)
#define KILL_WAIT_MS 10000
#define START_POLL_MS 100

int
hy_container_load (const char *root, const char *id, int lock,
                   struct hy_container *c, hy_error_t *err)
{
  *c = (struct hy_container){ .dirfd = -1 };
  _cleanup_free_ char *text = NULL;
  if (hy_status_lock (root, id, lock, &c->dirfd, err) < 0)
    return -1;
  c->root = xstrdup (root);
  if (hy_status_read (c->dirfd, &c->status, err) < 0
      || read_file_at (c->dirfd, HY_CONFIG_COPY, CONFIG_COPY_MAX, &text, NULL,
                       err) < 0
      || oci_config_parse (text, HY_CONFIG_COPY, &c->config, err) < 0
      || (c->status.cgroup
          && hy_cgroup_load (c->status.cgroup, &c->cgroup, err) < 0))
    {
      hy_container_release (c);
      return hy_error_prepend (err, "container \"%s\"", id);
    }
  return 0;
}

void
hy_container_release (struct hy_container *c)
{
  if (c->dirfd >= 0)
    close (c->dirfd);
  free (c->root);
  hy_status_release (&c->status);
  oci_config_free (c->config);
  hy_cgroup_free (c->cgroup);
  *c = (struct hy_container){ .dirfd = -1 };
}

enum oci_status
hy_container_status (struct hy_container *c)
{
  bool frozen = false;
  if (c->cgroup)
    {
      _cleanup_error_ hy_error_t ignored = NULL;
      hy_cgroup_is_frozen (c->cgroup, &frozen, &ignored);
    }
  return hy_status_current (c->dirfd, &c->status, frozen);
}

char *
hy_container_state_json (struct hy_container *c, bool pretty)
{
  return hy_status_state_json (&c->status, hy_container_status (c),
                               &c->config->annotations, pretty);
}

static int
require_status (struct hy_container *c, enum oci_status want,
                const char *action, hy_error_t *err)
{
  enum oci_status st = hy_container_status (c);
  if (st == want)
    return 0;
  return hy_error (err, 0, "cannot %s container \"%s\": it is %s", action,
                   c->status.id, oci_status_name (st));
}

/* ---- start ---- */

static int
read_exec_fifo (struct hy_container *c, hy_error_t *err)
{
  _cleanup_close_ int fd = openat (c->dirfd, HY_EXEC_FIFO,
                                   O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "open exec.fifo");
  for (;;)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      int r = poll (&p, 1, START_POLL_MS);
      if (r < 0 && errno != EINTR)
        return hy_error_errno (err, "wait on exec.fifo");
      char byte;
      if (r > 0 && read (fd, &byte, 1) == 1)
        return 0;
      if (!hy_status_init_alive (&c->status))
        return hy_error (err, 0, "the container's init exited before start");
    }
}

int
hy_container_start (struct hy_container *c, hy_error_t *err)
{
  if (require_status (c, OCI_STATUS_CREATED, "start", err) < 0
      || read_exec_fifo (c, err) < 0)
    return -1;
  unlinkat (c->dirfd, HY_EXEC_FIFO, 0);
  _cleanup_free_ char *state = hy_container_state_json (c, false);
  _cleanup_error_ hy_error_t hook_err = NULL;
  if (hy_hooks_run (c->config->hooks, OCI_HOOK_POSTSTART, state, &hook_err)
      < 0)
    hy_log_warning ("%s", hook_err->msg);
  return 0;
}

/* ---- kill ---- */

int
hy_container_kill (struct hy_container *c, int sig, bool all, hy_error_t *err)
{
  enum oci_status st = hy_container_status (c);
  if (all && sig != SIGKILL && c->status.isolation == HY_ISOLATION_VM
      && st == OCI_STATUS_RUNNING)
    return hy_vm_signal_all (c, sig, err);
  if (all && c->cgroup)
    return hy_cgroup_kill_all (c->cgroup, sig, err);
  if (st == OCI_STATUS_STOPPED || st == OCI_STATUS_CREATING)
    return hy_error (err, 0, "container \"%s\" is not running",
                     c->status.id);
  if (kill (c->status.pid, sig) < 0)
    return hy_error_errno (err, "kill the container's init (pid %d)",
                           c->status.pid);
  return 0;
}

/* ---- pause / resume ---- */

int
hy_container_pause (struct hy_container *c, bool pause, hy_error_t *err)
{
  enum oci_status want = pause ? OCI_STATUS_RUNNING : OCI_STATUS_PAUSED;
  if (c->cgroup == NULL)
    return hy_error (err, 0, "container \"%s\" has no cgroup to freeze",
                     c->status.id);
  if (require_status (c, want, pause ? "pause" : "resume", err) < 0)
    return -1;
  return hy_cgroup_freeze (c->cgroup, pause, err);
}

/* ---- delete ---- */

static int
wait_init_gone (struct hy_container *c, hy_error_t *err)
{
  _cleanup_close_ int pidfd
      = (int) syscall (SYS_pidfd_open, c->status.pid, 0);
  if (pidfd < 0 || !hy_status_init_alive (&c->status))
    return 0; /* already gone */
  struct pollfd p = { .fd = pidfd, .events = POLLIN };
  if (poll (&p, 1, KILL_WAIT_MS) <= 0)
    return hy_error (err, ETIMEDOUT, "the container's init (pid %d) did not "
                                     "exit after SIGKILL", c->status.pid);
  return 0;
}

static int
stop_everything (struct hy_container *c, hy_error_t *err)
{
  if (c->cgroup)
    {
      if (hy_cgroup_kill_all (c->cgroup, SIGKILL, err) < 0)
        return -1;
      hy_cgroup_freeze (c->cgroup, false, err);
    }
  else if (hy_status_init_alive (&c->status))
    kill (c->status.pid, SIGKILL);
  return wait_init_gone (c, err);
}

int
hy_container_delete (struct hy_container *c, bool force, hy_error_t *err)
{
  enum oci_status st = hy_container_status (c);
  if (st == OCI_STATUS_RUNNING || st == OCI_STATUS_PAUSED)
    if (!force)
      return hy_error (err, 0,
                       "cannot delete container \"%s\" that is not stopped: "
                       "%s", c->status.id, oci_status_name (st));
  if (st != OCI_STATUS_STOPPED && stop_everything (c, err) < 0)
    return -1;
  if (c->cgroup && hy_cgroup_destroy (c->cgroup, err) < 0)
    return -1;
  /* poststop hooks see the container stopped; their failures only warn. */
  struct hy_status stopped = c->status;
  _cleanup_free_ char *state = hy_status_state_json (
      &stopped, OCI_STATUS_STOPPED, &c->config->annotations, false);
  _cleanup_error_ hy_error_t hook_err = NULL;
  if (hy_hooks_run (c->config->hooks, OCI_HOOK_POSTSTOP, state, &hook_err)
      < 0)
    hy_log_warning ("%s", hook_err->msg);
  hy_state_dir_remove (c->root, c->status.id);
  return 0;
}
