#include "runtime/create.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
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
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fault.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup.h"
#include "runtime/hooks.h"
#include "runtime/init.h"
#include "runtime/linux/mounts.h"
#include "runtime/linux/sysctl.h"
#include "runtime/log.h"
#include "runtime/status.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "runtime/vm/machine.h"
#include "runtime/vm/supervisor.h"

/* What create holds while it works; released whatever the outcome. */
struct creation
{
  const struct hy_create_opts *o;
  const struct oci_config *config;
  int dirfd;
  struct hy_status status;
  struct hy_cgroup *cgroup;
  struct hy_init_args init;
  int sync_fd; /* create's end */
  pid_t pid;
  int pty_master;
  /* Namespaces made or joined on the host: the config's, or in vm mode
   * only those the VM supervisor needs (hy_vm_host_linux). */
  const struct oci_linux *host_linux;
  struct oci_linux vm_linux;
  struct oci_namespace vm_ns[HY_VM_HOST_NS_MAX];
  char *state_dir;
};

/* ---- the state directory ---- */

static void
now_rfc3339 (char *buf, size_t len)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  size_t n = strftime (buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf + n, len - n, ".%09ldZ", ts.tv_nsec);
}

static char *
owner_name (void)
{
  struct passwd *pw = getpwuid (geteuid ());
  return xstrdup (pw ? pw->pw_name : "");
}

static int
make_state_dir (struct creation *c, hy_error_t *err)
{
  const struct hy_create_opts *o = c->o;
  if (mkdir_parents (o->root, 0711, err) < 0)
    return hy_error_prepend (err, "create the state root");
  _cleanup_close_ int rootfd
      = open (o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return hy_error_errno (err, "open the state root `%s`", o->root);
  if (mkdirat (rootfd, o->id, 0711) < 0)
    return errno == EEXIST
               ? hy_error (err, 0, "container \"%s\" already exists", o->id)
               : hy_error_errno (err, "create `%s/%s`", o->root, o->id);
  c->dirfd = openat (rootfd, o->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  /* Other verbs wait until the container is made (or given up). */
  if (c->dirfd < 0 || flock (c->dirfd, LOCK_EX) < 0)
    return hy_error_errno (err, "open `%s/%s`", o->root, o->id);
  _cleanup_free_ char *path = xasprintf ("%s/%s", o->root, o->id);
  c->state_dir = realpath (path, NULL);
  if (c->state_dir == NULL)
    return hy_error_errno (err, "resolve `%s`", path);
  c->init.state_dir = c->state_dir;
  return 0;
}

static int
write_config_copy (struct creation *c, hy_error_t *err)
{
  _cleanup_free_ char *json = oci_config_to_json (c->config, false);
  _cleanup_free_ char *path
      = xasprintf ("/proc/self/fd/%d/%s", c->dirfd, HY_CONFIG_COPY);
  return write_file_atomic (path, json, strlen (json), 0600, err);
}

static void
fill_status (struct creation *c)
{
  char created[64];
  now_rfc3339 (created, sizeof (created));
  c->status = (struct hy_status){
    .id = xstrdup (c->o->id),
    .bundle = xstrdup (c->o->bundle->dir),
    .rootfs = xstrdup (c->o->bundle->rootfs),
    .created = xstrdup (created),
    .owner = owner_name (),
    .isolation = c->o->isolation,
    .detached = c->o->detached,
  };
}

static int
make_exec_fifo (struct creation *c, hy_error_t *err)
{
  if (mkfifoat (c->dirfd, HY_EXEC_FIFO, 0600) < 0
      || fchmodat (c->dirfd, HY_EXEC_FIFO, 0622, 0) < 0)
    return hy_error_errno (err, "create exec.fifo");
  c->init.fifo_fd = openat (c->dirfd, HY_EXEC_FIFO, O_PATH | O_CLOEXEC);
  if (c->init.fifo_fd < 0)
    return hy_error_errno (err, "open exec.fifo");
  return 0;
}

/* ---- cgroup ---- */

/* A cgroupsPath shared with other processes works, but runc warns. */
static void
warn_if_not_empty (struct hy_cgroup *cg)
{
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  _cleanup_error_ hy_error_t ignored = NULL;
  if (hy_cgroup_pids (cg, &pids, &n, &ignored) == 0 && n > 0)
    hy_log_warning ("container's cgroup is not empty: %zu process(es) in it",
                    n);
}

static int
make_cgroup (struct creation *c, hy_error_t *err)
{
  if (c->o->no_cgroup)
    return 0;
  const struct oci_linux *l = c->config->linux_;
  struct oci_resources res = { 0 };
  if (l && l->resources)
    res = *l->resources;
  _cleanup_free_ struct oci_device_rule *rules
      = hy_cgroup_device_rules (l ? l->resources : NULL, &res.n_devices);
  res.devices = rules;
  res.has_devices = true;
  if (hy_cgroup_create (l ? l->cgroups_path : NULL, c->o->id, 0, &res,
                        &c->cgroup, err) < 0)
    return -1;
  c->status.cgroup = hy_cgroup_to_string (c->cgroup);
  warn_if_not_empty (c->cgroup);
  return hy_cgroup_open_procs (c->cgroup, &c->init.cgroup_fds,
                               &c->init.n_cgroup_fds, err);
}

/* ---- what init needs, prepared where errors are cheap ---- */

static int
prepare_init (struct creation *c, hy_error_t *err)
{
  const struct oci_config *cfg = c->config;
  struct hy_init_args *a = &c->init;
  a->config = cfg;
  a->rootfs = c->o->bundle->rootfs;
  a->no_pivot = c->o->no_pivot;
  a->no_new_keyring = c->o->no_new_keyring;
  a->preserve_fds = c->o->preserve_fds;
  c->host_linux = cfg->linux_;
  if (c->o->isolation == HY_ISOLATION_VM)
    {
      if (a->preserve_fds > 0)
        return hy_error (err, 0, "--preserve-fds: a host file descriptor "
                                 "cannot be passed into the container's VM");
      const struct oci_resources *r = cfg->linux_ ? cfg->linux_->resources
                                                  : NULL;
      if (hy_machine_check_memory (r ? r->memory : NULL,
                                   "config.json: .linux.resources.memory."
                                   "limit",
                                   err) < 0)
        return -1;
      a->vm = true;
      a->workload = &c->o->bundle->opts;
      c->host_linux = hy_vm_host_linux (cfg->linux_, &c->vm_linux, c->vm_ns);
    }
  a->new_userns = hy_ns_find (c->host_linux, OCI_NS_USER)
                  && !hy_ns_find (c->host_linux, OCI_NS_USER)->path;
  if (cfg->process == NULL)
    return hy_error (err, 0, "config.json: .process: missing, nothing to run");
  if (hy_sysctl_validate (cfg, err) < 0 || hy_uts_validate (cfg, err) < 0)
    return -1;
  if (cfg->process->capabilities
      && hy_caps_resolve (cfg->process->capabilities, &a->caps, err) < 0)
    return -1;
  if (cfg->process->capabilities == NULL)
    a->caps = (struct hy_caps){ 0 };
  if (!a->vm && cfg->linux_ && cfg->linux_->seccomp
      && hy_seccomp_build (cfg->linux_->seccomp, &a->seccomp, err) < 0)
    return -1;
  return hy_ns_open_paths (c->host_linux, &a->ns, err);
}

/* ---- clone ---- */

struct clone_args_v0
{
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
      stack_size, tls;
};

static void
drop_ns_fd (struct hy_ns_fds *ns, enum oci_namespace_type t)
{
  if (ns->fd[t] >= 0)
    close (ns->fd[t]);
  ns->fd[t] = -1;
}

static void
start_init (struct creation *c)
{
  /* Until READY, create's death must end the half-made container (had it
   * died already, init finds the sync socket closed). */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  close (c->sync_fd);
  close (c->dirfd); /* it carries create's flock */
  /* Pid and time namespaces are already ours; don't setns into them. */
  drop_ns_fd (&c->init.ns, OCI_NS_PID);
  drop_ns_fd (&c->init.ns, OCI_NS_TIME);
  hy_init_run (&c->init);
}

static int
clone_init (struct creation *c, hy_error_t *err)
{
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return hy_error_errno (err, "create the sync socket");
  c->sync_fd = sv[0];
  c->init.sync_fd = sv[1];

  struct hy_ns_for_children f;
  int r = hy_ns_enter_for_children (c->host_linux, &c->init.ns, &f, err);
  pid_t pid = -1;
  if (r == 0)
    {
      /* init makes its cgroup namespace once it is in its cgroup. */
      int flags = hy_ns_clone_flags (c->host_linux)
                  & ~(CLONE_NEWTIME | CLONE_NEWCGROUP);
      struct clone_args_v0 args
          = { .flags = (uint64_t) flags, .exit_signal = SIGCHLD };
      hy_log_debug ("nsexec container setup: clone3 of the container's "
                    "init, namespace flags 0x%x", flags);
      pid = (pid_t) syscall (SYS_clone3, &args, sizeof (args));
      if (pid == 0)
        start_init (c);
      if (pid < 0)
        hy_error_errno (err, "clone the container's init");
    }
  hy_ns_leave_for_children (&f);
  close (c->init.sync_fd);
  c->init.sync_fd = -1;
  if (pid < 0)
    return -1;
  c->pid = pid;
  return 0;
}

/* ---- talking to init ---- */

static char *
creating_state (struct creation *c)
{
  struct hy_status s = c->status;
  s.pid = c->pid;
  const oci_strmap *ann = &c->config->annotations;
  return hy_status_state_json (&s, OCI_STATUS_CREATING, ann, false);
}

/* Bind sources only host root may reach would be out of reach of init in
 * a new user namespace.  create opens them (O_PATH) in init's new mount
 * namespace, so that init can bind them, as runc does.  One that cannot
 * be opened is left to init, which reports it. */
static bool
needs_mount_sources (const struct creation *c)
{
  const struct oci_namespace *mnt
      = hy_ns_find (c->config->linux_, OCI_NS_MOUNT);
  if (!c->init.new_userns || mnt == NULL || mnt->path != NULL)
    return false;
  for (size_t i = 0; i < c->config->n_mounts; i++)
    if (hy_mount_is_bind (&c->config->mounts[i]))
      return true;
  return false;
}

static int
send_mount_source (struct creation *c, size_t i, const char *cwd,
                   hy_error_t *err)
{
  const struct oci_mount *m = &c->config->mounts[i];
  _cleanup_free_ char *path = m->source[0] == '/'
                                  ? xstrdup (m->source)
                                  : xasprintf ("%s/%s", cwd, m->source);
  _cleanup_close_ int fd = open (path, O_PATH | O_CLOEXEC);
  if (fd < 0)
    return 0;
  char index[24];
  snprintf (index, sizeof index, "%zu", i);
  return hy_sync_send_text_fd (c->sync_fd, HY_SYNC_MOUNT_SOURCE, index, fd,
                               err);
}

static int
send_mount_sources_from_inside (struct creation *c, const char *cwd,
                                hy_error_t *err)
{
  _cleanup_free_ char *ns_path = xasprintf ("/proc/%d/ns/mnt", (int) c->pid);
  _cleanup_close_ int ns = open (ns_path, O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns (ns, CLONE_NEWNS) < 0)
    return hy_error_errno (err, "enter init's mount namespace");
  for (size_t i = 0; i < c->config->n_mounts; i++)
    if (hy_mount_is_bind (&c->config->mounts[i])
        && send_mount_source (c, i, cwd, err) < 0)
      return -1;
  return 0;
}

static int
send_mount_sources (struct creation *c, hy_error_t *err)
{
  if (!needs_mount_sources (c))
    return 0;
  _cleanup_free_ char *cwd = getcwd (NULL, 0);
  _cleanup_close_ int own = open ("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  _cleanup_close_ int cwd_fd = open (".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cwd == NULL || own < 0 || cwd_fd < 0)
    return hy_error_errno (err, "save the mount namespace and directory");
  int r = send_mount_sources_from_inside (c, cwd, err);
  /* setns into a mount namespace also moves the root and cwd: back. */
  if (setns (own, CLONE_NEWNS) < 0 || fchdir (cwd_fd) < 0)
    {
      hy_log_error ("create: cannot return to its own mount namespace: %s",
                    strerror (errno));
      abort ();
    }
  return r;
}

static int
send_go (struct creation *c, hy_error_t *err)
{
  const struct oci_linux *l = c->config->linux_;
  if (c->init.new_userns
      && hy_ns_write_id_maps (c->pid, l->uid_mappings, l->n_uid_mappings,
                              l->gid_mappings, l->n_gid_mappings, err) < 0)
    return -1;
  if (send_mount_sources (c, err) < 0)
    return -1;
  return hy_sync_send (c->sync_fd, HY_SYNC_GO, -1, err);
}

static int
on_hooks (struct creation *c, hy_error_t *err)
{
  _cleanup_free_ char *state = creating_state (c);
  if (hy_fault ("create.hooks", err) < 0
      || hy_hooks_run (c->config->hooks, OCI_HOOK_PRESTART, state, err) < 0
      || hy_hooks_run (c->config->hooks, OCI_HOOK_CREATE_RUNTIME, state, err)
             < 0)
    return -1;
  struct hy_sync_msg m = { .type = HY_SYNC_HOOKS_DONE };
  if (strlen (state) >= sizeof (m.text))
    return hy_error (err, E2BIG, "the container state is too large");
  strcpy (m.text, state);
  if (send (c->sync_fd, &m, sizeof (m), MSG_NOSIGNAL) < 0)
    return hy_error_errno (err, "send to the sync socket");
  return 0;
}

static int
serve_init (struct creation *c, hy_error_t *err)
{
  for (;;)
    {
      struct hy_sync_msg m;
      int fd, r;
      if (hy_sync_recv (c->sync_fd, &m, &fd, err) < 0)
        return -1;
      switch (m.type)
        {
        case HY_SYNC_HOOKS:
          r = on_hooks (c, err);
          break;
        case HY_SYNC_PTY:
          r = hy_sync_take_pty (fd, c->o->console_socket,
                                c->o->keep_pty ? &c->pty_master : NULL, err);
          break;
        case HY_SYNC_SECCOMP:
          {
            _cleanup_free_ char *state = creating_state (c);
            r = hy_sync_take_seccomp (c->sync_fd, fd,
                                      c->config->linux_->seccomp, state, err);
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
          return 0;
        case HY_SYNC_ERROR:
          return hy_error (err, m.errnum, "%s", m.text);
        default:
          if (fd >= 0)
            close (fd);
          return hy_error (err, EPROTO, "unexpected message %d from init",
                           m.type);
        }
      if (r < 0)
        {
          /* Tell init why, so that it stops waiting. */
          hy_sync_send_error (c->sync_fd, *err);
          return -1;
        }
    }
}

static int
finish (struct creation *c, hy_error_t *err)
{
  c->status.pid = c->pid;
  c->status.pid_start = hy_process_start_time (c->pid);
  if (c->status.pid_start == 0)
    return hy_error (err, ESRCH, "the container's init exited during setup");
  if (hy_status_write_init (c->dirfd, &c->status, err) < 0)
    return -1;
  return hy_pid_file_write (c->o->pid_file, c->pid, err);
}

/* ---- undoing ---- */

void
hy_state_dir_remove (const char *root, const char *id)
{
  _cleanup_free_ char *dir = xasprintf ("%s/%s", root, id);
  _cleanup_close_ int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0)
    {
      unlinkat (fd, HY_STATUS_FILE, 0);
      unlinkat (fd, HY_INIT_FILE, 0);
      unlinkat (fd, HY_EXEC_FIFO, 0);
      unlinkat (fd, HY_CONFIG_COPY, 0);
      hy_vm_dir_remove (fd);
    }
  rmdir (dir);
}

static void
undo (struct creation *c)
{
  if (c->pid > 0)
    {
      kill (c->pid, SIGKILL);
      waitpid (c->pid, NULL, 0);
    }
  if (c->cgroup)
    {
      _cleanup_error_ hy_error_t ignored = NULL;
      hy_cgroup_destroy (c->cgroup, &ignored);
    }
  if (c->dirfd >= 0)
    hy_state_dir_remove (c->o->root, c->o->id);
  if (c->pty_master >= 0)
    close (c->pty_master);
  c->pty_master = -1;
}

static void
release (struct creation *c)
{
  hy_status_release (&c->status);
  free (c->state_dir);
  hy_cgroup_free (c->cgroup);
  hy_ns_fds_close (&c->init.ns);
  hy_seccomp_free (c->init.seccomp);
  hy_cgroup_close_procs (c->init.cgroup_fds, c->init.n_cgroup_fds);
  if (c->init.fifo_fd >= 0)
    close (c->init.fifo_fd);
  if (c->sync_fd >= 0)
    close (c->sync_fd);
  if (c->dirfd >= 0)
    close (c->dirfd);
}

int
hy_container_create (const struct hy_create_opts *o, struct hy_created *out,
                     hy_error_t *err)
{
  struct creation c = { .o = o,
                        .config = o->bundle->config,
                        .dirfd = -1,
                        .sync_fd = -1,
                        .pty_master = -1,
                        .init = { .sync_fd = -1, .fifo_fd = -1, .start_fd = -1 } };
  hy_ns_fds_init (&c.init.ns);
  int r = prepare_init (&c, err);
  if (r == 0)
    r = make_state_dir (&c, err);
  if (r == 0)
    {
      fill_status (&c);
      if (write_config_copy (&c, err) < 0
          || hy_fault ("create.config-copy", err) < 0
          || make_exec_fifo (&c, err) < 0
          || hy_fault ("create.exec-fifo", err) < 0
          || make_cgroup (&c, err) < 0 || hy_fault ("create.cgroup", err) < 0
          || hy_status_write (c.dirfd, &c.status, err) < 0
          || hy_fault ("create.status", err) < 0 || clone_init (&c, err) < 0
          || hy_fault ("create.clone", err) < 0 || send_go (&c, err) < 0
          || hy_fault ("create.go", err) < 0 || serve_init (&c, err) < 0
          || hy_fault ("create.ready", err) < 0 || finish (&c, err) < 0
          || hy_fault ("create.finish", err) < 0)
        r = -1;
      if (r < 0)
        undo (&c);
    }
  if (r == 0)
    *out = (struct hy_created){ .pid = c.pid, .pty_master = c.pty_master };
  release (&c);
  return r;
}
