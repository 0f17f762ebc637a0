/* Container init: everything between clone and execve, in order. */
#include "runtime/init.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fault.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup.h"
#include "runtime/hooks.h"
#include "runtime/linux/resolve.h"
#include "runtime/linux/rootfs.h"
#include "runtime/linux/sysctl.h"
#include "runtime/process.h"
#include "runtime/sync.h"
#include "runtime/vm/supervisor.h"

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

/* A new cgroup namespace is rooted at the cgroup of its creator: made at
 * clone, it would show the runtime's cgroups, not the container's. */
static int
unshare_cgroup_ns (const struct hy_init_args *a, hy_error_t *err)
{
  const struct oci_namespace *ns
      = hy_ns_find (a->config->linux_, OCI_NS_CGROUP);
  if (ns == NULL || ns->path != NULL || a->vm) /* vm: the guest makes it */
    return 0;
  if (unshare (CLONE_NEWCGROUP) < 0)
    return hy_error_errno (err, "unshare the cgroup namespace");
  return 0;
}

/* Joined namespaces and a new cgroup one (init is in its cgroup). */
static int
setup_namespaces (struct hy_init_args *a, hy_error_t *err)
{
  if (hy_ns_join (&a->ns, err) < 0 || become_root_in_userns (a, err) < 0
      || unshare_cgroup_ns (a, err) < 0)
    return -1;
  if (!a->vm && !hy_ns_is_private (a->config->linux_, OCI_NS_MOUNT))
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
int
hy_init_runtime_hooks (const struct hy_init_args *a, char **state,
                       hy_error_t *err)
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

/* createContainer hooks run with the rootfs as their working directory,
 * as runc runs them. */
static int
enter_rootfs (const struct hy_rootfs *r, hy_error_t *err)
{
  if (fchdir (r->rootfd) < 0)
    return hy_error_errno (err, "chdir to the rootfs `%s`", r->path);
  return 0;
}

static int
take_mount_source (struct hy_init_args *a, const struct hy_sync_msg *m,
                   int fd, hy_error_t *err)
{
  size_t n = a->config->n_mounts;
  char *end;
  unsigned long i = strtoul (m->text, &end, 10);
  if (fd < 0 || *end != '\0' || end == m->text || i >= n)
    {
      if (fd >= 0)
        close (fd);
      return hy_error (err, EPROTO, "bad mount source \"%s\" from create",
                       m->text);
    }
  if (a->source_fds == NULL)
    {
      a->source_fds = xmalloc0 (n * sizeof (int));
      for (size_t j = 0; j < n; j++)
        a->source_fds[j] = -1;
    }
  if (a->source_fds[i] >= 0)
    close (a->source_fds[i]);
  a->source_fds[i] = fd;
  return 0;
}

/* GO, after the bind sources create opened for us, if any. */
static int
wait_for_go (struct hy_init_args *a, hy_error_t *err)
{
  for (;;)
    {
      struct hy_sync_msg m;
      int fd;
      if (hy_sync_recv (a->sync_fd, &m, &fd, err) < 0)
        return -1;
      if (m.type == HY_SYNC_GO && fd < 0)
        return 0;
      if (m.type == HY_SYNC_MOUNT_SOURCE)
        {
          if (take_mount_source (a, &m, fd, err) < 0)
            return -1;
          continue;
        }
      if (fd >= 0)
        close (fd);
      if (m.type == HY_SYNC_ERROR)
        return hy_error (err, m.errnum, "%s", m.text);
      return hy_error (err, EPROTO, "unexpected message %d from create",
                       m.type);
    }
}

static void
close_source_fds (struct hy_init_args *a)
{
  for (size_t i = 0; a->source_fds && i < a->config->n_mounts; i++)
    if (a->source_fds[i] >= 0)
      close (a->source_fds[i]);
  free (a->source_fds);
  a->source_fds = NULL;
}

static int
setup_rootfs (struct hy_init_args *a, char **state, hy_error_t *err)
{
  const struct oci_config *c = a->config;
  struct hy_rootfs r = { 0 };
  int ret = -1;
  if (hy_rootfs_prepare (&r, c, a->rootfs, a->no_pivot, err) < 0)
    goto out;
  r.source_fds = a->source_fds;
  if (hy_fault ("init.rootfs-prepare", err) < 0
      || hy_rootfs_mount (&r, err) < 0 || hy_fault ("init.mounts", err) < 0
      || make_cwd (&r, c->process, err) < 0
      || hy_sysctl_apply (c, err) < 0 || hy_uts_apply (c, err) < 0
      || hy_fault ("init.sysctl-uts", err) < 0
      || hy_init_runtime_hooks (a, state, err) < 0
      || enter_rootfs (&r, err) < 0
      || hy_hooks_run (c->hooks, OCI_HOOK_CREATE_CONTAINER, *state, err) < 0
      || hy_fault ("init.hooks", err) < 0
      || hy_rootfs_finalize (&r, err) < 0
      || hy_fault ("init.pivot", err) < 0)
    goto out;
  ret = 0;
out:
  hy_rootfs_release (&r);
  close_source_fds (a);
  return ret;
}

/* The guest agent's start: one byte on a pipe. */
static int
read_start_byte (int fd, hy_error_t *err)
{
  char c;
  ssize_t n;
  do
    n = read (fd, &c, 1);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return hy_error_errno (err, "wait for the start");
  if (n == 0)
    return hy_error (err, 0, "the runtime went away before the start");
  close (fd);
  return 0;
}

/* Block until `start` opens the fifo for reading. */
int
hy_init_wait_for_start (const struct hy_init_args *a, hy_error_t *err)
{
  if (a->start_fd >= 0)
    return read_start_byte (a->start_fd, err);
  char path[HY_PROC_FD_PATH_MAX];
  _cleanup_close_ int fd
      = open (hy_proc_fd_path (a->fifo_fd, path), O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "open exec.fifo");
  if (write (fd, "0", 1) != 1)
    return hy_error_errno (err, "write exec.fifo");
  return 0;
}

int
hy_init_enter (struct hy_init_args *a, hy_error_t *err)
{
  if (hy_cgroup_enter_self (a->cgroup_fds, a->n_cgroup_fds, err) < 0
      || hy_fault ("init.cgroup", err) < 0 || wait_for_go (a, err) < 0)
    return -1;
  /* The debug lines use runc's wording, which its suite greps for. */
  hy_process_debug (a->sync_fd, "child process in init(): pid %d",
                    (int) getpid ());
  if (setup_namespaces (a, err) < 0 || hy_fault ("init.namespaces", err) < 0)
    return -1;
  return 0;
}

static int
init_steps (struct hy_init_args *a, char **exe, hy_error_t *err)
{
  _cleanup_free_ char *state = NULL;
  const struct hy_process_ctx ctx = { .process = a->config->process,
                                      .linux_ = a->config->linux_,
                                      .caps = &a->caps,
                                      .seccomp = a->seccomp,
                                      .sync_fd = a->sync_fd,
                                      .no_new_keyring = a->no_new_keyring };
  if (hy_init_enter (a, err) < 0
      || setup_rootfs (a, &state, err) < 0
      || hy_process_open_console (a->config->process, a->sync_fd, err) < 0
      || hy_fault ("init.console", err) < 0
      || hy_process_find_executable (a->config->process, exe, err) < 0
      || hy_process_close_stray_fds (a->preserve_fds, err) < 0
      || hy_process_apply (&ctx, err) < 0 || hy_fault ("init.process", err) < 0)
    return -1;
  /* From here create may exit: its death must not take us along. */
  if (prctl (PR_SET_PDEATHSIG, 0) < 0)
    return hy_error_errno (err, "clear the parent death signal");
  hy_process_debug (a->sync_fd, "init: closing the pipe to signal completion "
                                "(READY, then the sync socket closes)");
  if (hy_sync_send (a->sync_fd, HY_SYNC_READY, -1, err) < 0)
    return -1;
  close (a->sync_fd);
  a->sync_fd = -1;
  if (hy_init_wait_for_start (a, err) < 0)
    return -1;
  return hy_hooks_run (a->config->hooks, OCI_HOOK_START_CONTAINER, state,
                       err);
}

void
hy_init_run (struct hy_init_args *a)
{
  hy_error_t err = NULL;
  if (a->vm)
    hy_vm_supervise (a);
  hy_process_reset_signals ();
  /* init's stderr is the container's: warnings go to create's log. */
  hy_process_forward_warnings (&a->sync_fd);
  _cleanup_free_ char *exe = NULL;
  if (init_steps (a, &exe, &err) == 0)
    hy_process_exec (a->config->process, exe, &err);
  hy_process_fail (a->sync_fd, err);
}
