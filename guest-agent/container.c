/* The container and its processes, made with container mode's own code:
 * the init is runtime/init.c's hy_init_run (the agent plays `hyrun
 * create`'s part on the sync socket), an exec'd process is
 * runtime/spawn.c's.  Both are set up as far as they go before execve and
 * then wait at a gate, a pipe the agent writes one byte to once `start`
 * came (init) and every stream the process uses is attached. */
#include "guest-agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/state.h"
#include "runtime/cgroup/cgroup.h"
#include "runtime/init.h"
#include "runtime/linux/namespaces.h"
#include "runtime/linux/sysctl.h"
#include "runtime/log.h"
#include "runtime/spawn.h"
#include "runtime/sync.h"

/* ---- what a new process gets ---- */

/* Its stdio (child_fd, -1: /dev/null) and the agent's ends; its gate. */
struct plumbing
{
  int child_fd[3];
  int gate_r;
  int extra_keep[OCI_NS_TYPES + 2]; /* fds the child needs besides */
  size_t n_extra;
};

static void
plumbing_init (struct plumbing *pl)
{
  *pl = (struct plumbing){ .child_fd = { -1, -1, -1 }, .gate_r = -1 };
}

static void
plumbing_release (struct plumbing *pl)
{
  for (int i = 0; i < 3; i++)
    if (pl->child_fd[i] >= 0)
      close (pl->child_fd[i]);
  if (pl->gate_r >= 0)
    close (pl->gate_r);
  plumbing_init (pl);
}

static int
set_nonblocking (int fd, hy_error_t *err)
{
  int fl = fcntl (fd, F_GETFL);
  if (fl < 0 || fcntl (fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return hy_error_errno (err, "make fd %d non-blocking", fd);
  return 0;
}

static int
make_pipes (struct proc *p, struct plumbing *pl, hy_error_t *err)
{
  static const unsigned kinds[3]
      = { HY_AGENT_STDIN, HY_AGENT_STDOUT, HY_AGENT_STDERR };
  for (int i = 0; i < 3; i++)
    {
      if (!(p->streams & kinds[i]))
        continue;
      int fds[2];
      if (pipe2 (fds, O_CLOEXEC) < 0)
        return hy_error_errno (err, "create the %s pipe",
                               hy_agent_stream_name (kinds[i]));
      /* stdin: the process reads fds[0]; stdout, stderr: it writes fds[1]. */
      pl->child_fd[i] = i == 0 ? fds[0] : fds[1];
      p->local_fd[i] = i == 0 ? fds[1] : fds[0];
      if (set_nonblocking (p->local_fd[i], err) < 0)
        return -1;
    }
  int gate[2];
  if (pipe2 (gate, O_CLOEXEC) < 0)
    return hy_error_errno (err, "create the start gate");
  pl->gate_r = gate[0];
  p->gate_fd = gate[1];
  return 0;
}

static int
cmp_int (const void *a, const void *b)
{
  return *(const int *) a - *(const int *) b;
}

/* In the child: everything above 2 closes but `keep` (the agent's
 * sockets, other processes' pipes must not stay open in this one). */
static void
close_fds_except (int *keep, size_t n)
{
  qsort (keep, n, sizeof (int), cmp_int);
  unsigned from = 3;
  for (size_t i = 0; i < n; i++)
    {
      if (keep[i] < (int) from)
        continue;
      if ((unsigned) keep[i] > from)
        syscall (SYS_close_range, from, (unsigned) keep[i] - 1, 0);
      from = (unsigned) keep[i] + 1;
    }
  syscall (SYS_close_range, from, ~0U, 0);
}

/* In the child: stdio from the pipes (or /dev/null), then only what it
 * needs stays open. */
static void
child_plumbing (struct plumbing *pl, int sync_fd)
{
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  for (int i = 0; i < 3; i++)
    {
      int fd = pl->child_fd[i] >= 0 ? pl->child_fd[i] : null;
      if (fd >= 0)
        dup2 (fd, i); /* dup2 clears close-on-exec */
    }
  int keep[OCI_NS_TYPES + 4];
  size_t n = 0;
  keep[n++] = sync_fd;
  keep[n++] = pl->gate_r;
  for (size_t i = 0; i < pl->n_extra; i++)
    keep[n++] = pl->extra_keep[i];
  close_fds_except (keep, n);
}

/* The serving side of the sync socket until READY (sync.h), for init and
 * exec'd processes alike. */
/* The state the container's startContainer hooks read: the host's
 * container id when it sent one, paths and pid as the guest sees them. */
static int
send_state (int sync_fd, const char *container_id, pid_t pid,
            hy_error_t *err)
{
  struct oci_state st = { .oci_version = (char *) "1.2.0",
                          .id = (char *) (container_id ? container_id
                                                       : "init"),
                          .status = OCI_STATUS_CREATING,
                          .pid = pid,
                          .bundle = (char *) "/run/hyrun/share" };
  _cleanup_free_ char *json = oci_state_to_json (&st, false);
  struct hy_sync_msg m = { .type = HY_SYNC_HOOKS_DONE };
  snprintf (m.text, sizeof (m.text), "%s", json);
  if (send (sync_fd, &m, sizeof (m), MSG_NOSIGNAL) < 0)
    return hy_error_errno (err, "send to the sync socket");
  return 0;
}

static int
take_pty (struct proc *p, int master, hy_error_t *err)
{
  if (master < 0)
    return hy_error (err, EPROTO, "a PTY message without the master");
  if (p->local_fd[SLOT_TTY] >= 0)
    {
      close (master);
      return hy_error (err, EPROTO, "a second PTY message");
    }
  p->local_fd[SLOT_TTY] = master;
  p->pty_master = fcntl (master, F_DUPFD_CLOEXEC, 3);
  if (p->pty_master < 0)
    return hy_error_errno (err, "dup the console's master");
  return set_nonblocking (master, err);
}

/* A debug line of the process's setup, for the answer: bounded, control
 * characters made '?' (the host refuses them). */
static void
add_debug_line (struct hy_agent_response *resp, const char *text)
{
  if (resp->n_debug >= HY_AGENT_MAX_DEBUG_LINES)
    return;
  char *line = xstrndup (text, HY_AGENT_DEBUG_LINE_MAX);
  for (char *c = line; *c; c++)
    if ((unsigned char) *c < 0x20 || *c == 0x7f)
      *c = '?';
  resp->debug = xrealloc (resp->debug,
                          (resp->n_debug + 1) * sizeof (*resp->debug));
  resp->debug[resp->n_debug++] = line;
}

/* In the child: hy_process_debug sends its lines only with debug on. */
static void
enable_debug_lines (void)
{
  hy_error_t ignored = NULL;
  hy_log_init (NULL, HY_LOG_TEXT, true, &ignored);
}

static int
serve_setup (struct proc *p, const char *container_id, int sync_fd,
             struct hy_agent_response *resp, hy_error_t *err)
{
  for (;;)
    {
      struct hy_sync_msg m;
      int fd, r = 0;
      if (hy_sync_recv (sync_fd, &m, &fd, err) < 0)
        return -1;
      switch (m.type)
        {
        case HY_SYNC_HOOKS:
          r = send_state (sync_fd, container_id, p->pid, err);
          break;
        case HY_SYNC_PTY:
          r = take_pty (p, fd, err);
          break;
        case HY_SYNC_SECCOMP:
          if (fd >= 0)
            close (fd);
          r = hy_error (err, ENOTSUP, ".linux.seccomp.listenerPath: a "
                                      "seccomp agent is not supported "
                                      "inside a VM");
          break;
        case HY_SYNC_WARN:
          agent_log ("warning: %s", m.text);
          break;
        case HY_SYNC_DEBUG:
          add_debug_line (resp, m.text);
          break;
        case HY_SYNC_READY:
          return 0;
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
          hy_sync_send_error (sync_fd, *err);
          return -1;
        }
    }
}

static void
kill_and_reap (pid_t pid)
{
  if (pid <= 0)
    return;
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
}

static int
check_streams (const struct oci_process *p, unsigned streams,
               hy_error_t *err)
{
  if (p->terminal && streams != HY_AGENT_TTY)
    return hy_error (err, EINVAL, ".streams: a process with a terminal "
                                  "uses [\"tty\"]");
  if (!p->terminal && (streams & HY_AGENT_TTY))
    return hy_error (err, EINVAL, ".streams: \"tty\" needs "
                                  "process.terminal");
  return 0;
}

static int
join_cgroup (struct agent *a, pid_t pid, hy_error_t *err)
{
  if (a->o.cgroup == NULL)
    return 0;
  _cleanup_free_ char *path = xasprintf ("%s/cgroup.procs", a->o.cgroup);
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CLOEXEC);
  char buf[16];
  int n = snprintf (buf, sizeof (buf), "%d", (int) pid);
  if (fd < 0 || write (fd, buf, (size_t) n) != n)
    return hy_error_errno (err, "join the container's cgroup `%s`", path);
  return 0;
}

/* ---- create ---- */

struct creation
{
  struct agent *agent;
  struct oci_config *config;
  struct proc *p;
  struct hy_init_args init;
  struct plumbing pl;
  int cgroup_fd;
  int sync_fd;
  bool debug;
};

/* The guest always gives the container a mount namespace of its own. */
static void
ensure_mount_namespace (struct oci_config *c)
{
  if (c->linux_ == NULL)
    c->linux_ = xmalloc0 (sizeof (*c->linux_));
  struct oci_linux *l = c->linux_;
  if (hy_ns_find (l, OCI_NS_MOUNT))
    return;
  l->namespaces
      = xrealloc (l->namespaces, (l->n_namespaces + 1) * sizeof (*l->namespaces));
  l->namespaces[l->n_namespaces++]
      = (struct oci_namespace){ .type = OCI_NS_MOUNT };
}

static int
validate_config (struct oci_config *c, unsigned streams, hy_error_t *err)
{
  if (c->process == NULL)
    return hy_error (err, EINVAL, "config: .process: missing, nothing to run");
  if (c->root == NULL || c->root->path[0] != '/')
    return hy_error (err, EINVAL, "config: .root.path: must be an absolute "
                                  "path in the guest");
  if (check_streams (c->process, streams, err) < 0)
    return -1;
  ensure_mount_namespace (c);
  return hy_sysctl_validate (c, err) < 0 || hy_uts_validate (c, err) < 0
             ? -1
             : 0;
}

static int
prepare_init (struct creation *k, hy_error_t *err)
{
  const struct oci_config *c = k->config;
  struct hy_init_args *a = &k->init;
  a->config = c;
  a->rootfs = c->root->path;
  a->sync_fd = a->fifo_fd = -1;
  a->start_fd = k->pl.gate_r;
  const struct oci_namespace *user = hy_ns_find (c->linux_, OCI_NS_USER);
  a->new_userns = user && user->path == NULL;
  if (c->process->capabilities
      && hy_caps_resolve (c->process->capabilities, &a->caps, err) < 0)
    return -1;
  if (c->linux_->seccomp
      && hy_seccomp_build (c->linux_->seccomp, &a->seccomp, err) < 0)
    return -1;
  if (hy_ns_open_paths (c->linux_, &a->ns, err) < 0)
    return hy_error_prepend (err, "config");
  if (k->agent->o.cgroup)
    {
      /* The container's /dev as container mode's cgroup allows it. */
      if (hy_cgroup_v2_apply_device_rules (k->agent->o.cgroup,
                                           c->linux_->resources, err) < 0)
        return hy_error_prepend (err, "config: .linux.resources.devices");
      _cleanup_free_ char *path
          = xasprintf ("%s/cgroup.procs", k->agent->o.cgroup);
      k->cgroup_fd = open (path, O_WRONLY | O_CLOEXEC);
      if (k->cgroup_fd < 0)
        return hy_error_errno (err, "open `%s`", path);
      a->cgroup_fds = &k->cgroup_fd;
      a->n_cgroup_fds = 1;
    }
  return 0;
}

struct clone_args_v0
{
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
      stack_size, tls;
};

__attribute__ ((noreturn)) static void
start_init (struct creation *k)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  struct plumbing *pl = &k->pl;
  for (int t = 0; t < OCI_NS_TYPES; t++)
    if (k->init.ns.fd[t] >= 0)
      pl->extra_keep[pl->n_extra++] = k->init.ns.fd[t];
  if (k->cgroup_fd >= 0)
    pl->extra_keep[pl->n_extra++] = k->cgroup_fd;
  child_plumbing (pl, k->init.sync_fd);
  if (k->debug)
    enable_debug_lines ();
  hy_init_run (&k->init);
}

static int
clone_init (struct creation *k, hy_error_t *err)
{
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return hy_error_errno (err, "create the sync socket");
  k->sync_fd = sv[0];
  k->init.sync_fd = sv[1];
  struct hy_ns_for_children f;
  pid_t pid = -1;
  if (hy_ns_enter_for_children (k->config->linux_, &k->init.ns, &f, err)
      == 0)
    {
      int flags = hy_ns_clone_flags (k->config->linux_) & ~CLONE_NEWTIME;
      struct clone_args_v0 args
          = { .flags = (uint64_t) flags, .exit_signal = SIGCHLD };
      pid = (pid_t) syscall (SYS_clone3, &args, sizeof (args));
      if (pid == 0)
        start_init (k);
      if (pid < 0)
        hy_error_errno (err, "clone the container's init");
    }
  hy_ns_leave_for_children (&f);
  close (k->init.sync_fd);
  k->init.sync_fd = -1;
  if (pid < 0)
    return -1;
  k->p->pid = pid;
  return 0;
}

static int
send_go (struct creation *k, hy_error_t *err)
{
  const struct oci_linux *l = k->config->linux_;
  if (k->init.new_userns
      && hy_ns_write_id_maps (k->p->pid, l->uid_mappings, l->n_uid_mappings,
                              l->gid_mappings, l->n_gid_mappings, err) < 0)
    return -1;
  return hy_sync_send (k->sync_fd, HY_SYNC_GO, -1, err);
}

/* Remember init's pid namespace: `signal --all`, `ps` and `stats` find
 * the container's processes by it. */
static void
note_pid_namespace (struct container *c, pid_t pid)
{
  struct stat ours, theirs;
  _cleanup_free_ char *path = xasprintf ("/proc/%d/ns/pid", (int) pid);
  if (stat ("/proc/self/ns/pid", &ours) < 0 || stat (path, &theirs) < 0
      || (ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino))
    return;
  c->pidns_dev = theirs.st_dev;
  c->pidns_ino = theirs.st_ino;
}

static void
creation_release (struct creation *k)
{
  plumbing_release (&k->pl);
  hy_ns_fds_close (&k->init.ns);
  hy_seccomp_free (k->init.seccomp);
  if (k->cgroup_fd >= 0)
    close (k->cgroup_fd);
  if (k->sync_fd >= 0)
    close (k->sync_fd);
  if (k->p)
    {
      kill_and_reap (k->p->pid);
      proc_free (k->p);
    }
  oci_config_free (k->config);
}

int
container_create (struct agent *a, struct hy_agent_request *req,
                  struct hy_agent_response *resp, hy_error_t *err)
{
  if (a->container)
    return hy_error (err, EEXIST, "the VM has a container already");
  struct creation k
      = { .agent = a, .cgroup_fd = -1, .sync_fd = -1, .debug = req->debug };
  hy_ns_fds_init (&k.init.ns);
  plumbing_init (&k.pl);
  k.config = steal_pointer (&req->config);
  int r = -1;
  if (validate_config (k.config, req->streams, err) == 0)
    {
      k.p = proc_new ("init", req->streams);
      k.p->is_init = true;
      if (make_pipes (k.p, &k.pl, err) == 0 && prepare_init (&k, err) == 0
          && clone_init (&k, err) == 0 && send_go (&k, err) == 0
          && serve_setup (k.p, req->container_id, k.sync_fd, resp, err)
                 == 0)
        r = 0;
    }
  if (r == 0)
    {
      struct container *c = xmalloc0 (sizeof (*c));
      c->config = steal_pointer (&k.config);
      c->init = k.p;
      note_pid_namespace (c, k.p->pid);
      a->container = c;
      proc_add (a, steal_pointer (&k.p));
      resp->pid = c->init->pid;
    }
  creation_release (&k);
  return r;
}

int
container_start (struct agent *a, struct conn *c, uint32_t seq,
                 bool *answered, hy_error_t *err)
{
  struct proc *init = a->container ? a->container->init : NULL;
  if (init == NULL)
    return hy_error (err, ENOENT, "no container: create it first");
  if (init->start_wanted)
    return hy_error (err, EALREADY, "the container was started already");
  if (init->exited)
    return hy_error (err, ESRCH, "the container's init has exited");
  init->start_wanted = true;
  init->start_conn = c;
  init->start_seq = seq;
  *answered = true;
  proc_update (init);
  return 0;
}

/* ---- exec ---- */

struct execution
{
  struct agent *agent;
  struct proc *p;
  struct hy_caps caps;
  struct hy_seccomp *seccomp;
  struct hy_ns_fds ns;
  char *ns_path[OCI_NS_TYPES];
  struct plumbing pl;
  int sync_fd;
  bool debug;
};

static void
exec_in_joiner (void *data, int sync_fd)
{
  struct execution *e = data;
  struct plumbing *pl = &e->pl;
  for (int t = 0; t < OCI_NS_TYPES; t++)
    if (e->ns.fd[t] >= 0)
      pl->extra_keep[pl->n_extra++] = e->ns.fd[t];
  child_plumbing (pl, sync_fd);
  if (e->debug)
    enable_debug_lines ();
}

static int
check_exec (struct agent *a, const struct hy_agent_request *req,
            hy_error_t *err)
{
  struct proc *init = a->container ? a->container->init : NULL;
  if (init == NULL)
    return hy_error (err, ENOENT, "no container: create it first");
  if (init->exited)
    return hy_error (err, ESRCH, "cannot exec a container that has stopped");
  if (proc_find (a, req->id))
    return hy_error (err, EEXIST, "a process \"%s\" exists already",
                     req->id);
  if (req->process->args == NULL || req->process->args[0] == NULL)
    return hy_error (err, EINVAL, "exec: no command to run");
  return check_streams (req->process, req->streams, err);
}

static int
prepare_exec (struct execution *e, const struct hy_agent_request *req,
              hy_error_t *err)
{
  const struct oci_process *proc = req->process;
  const struct oci_linux *l = e->agent->container->config->linux_;
  if (proc->capabilities && hy_caps_resolve (proc->capabilities, &e->caps,
                                             err) < 0)
    return -1;
  if (l && l->seccomp && hy_seccomp_build (l->seccomp, &e->seccomp, err) < 0)
    return -1;
  if (hy_ns_open_of_pid (e->agent->container->init->pid, &e->ns, e->ns_path,
                         err) == 0)
    return 0;
  if ((*err)->errnum != ENOENT && (*err)->errnum != ESRCH)
    return -1;
  hy_error_release (err);
  return hy_error (err, ESRCH, "cannot exec a container that has stopped");
}

static int
spawn_exec (struct execution *e, const struct hy_agent_request *req,
            hy_error_t *err)
{
  const struct hy_spawn s = { .process = req->process,
                              .linux_ = e->agent->container->config->linux_,
                              .caps = &e->caps,
                              .seccomp = e->seccomp,
                              .ns = &e->ns,
                              .gate_fd = e->pl.gate_r,
                              .in_joiner = exec_in_joiner,
                              .data = e };
  return hy_spawn_in_namespaces (&s, &e->sync_fd, &e->p->pid, err);
}

static void
execution_release (struct execution *e)
{
  plumbing_release (&e->pl);
  hy_ns_fds_close (&e->ns);
  for (int t = 0; t < OCI_NS_TYPES; t++)
    free (e->ns_path[t]);
  hy_seccomp_free (e->seccomp);
  if (e->sync_fd >= 0)
    close (e->sync_fd);
  if (e->p)
    {
      kill_and_reap (e->p->pid);
      proc_free (e->p);
    }
}

int
container_exec (struct agent *a, struct hy_agent_request *req,
                struct hy_agent_response *resp, hy_error_t *err)
{
  if (check_exec (a, req, err) < 0)
    return -1;
  struct execution e = { .agent = a, .sync_fd = -1, .debug = req->debug };
  hy_ns_fds_init (&e.ns);
  plumbing_init (&e.pl);
  e.p = proc_new (req->id, req->streams);
  e.p->start_wanted = true;
  int r = -1;
  if (make_pipes (e.p, &e.pl, err) == 0 && prepare_exec (&e, req, err) == 0
      && spawn_exec (&e, req, err) == 0 && join_cgroup (a, e.p->pid, err) == 0
      && hy_sync_send (e.sync_fd, HY_SYNC_GO, -1, err) == 0
      && serve_setup (e.p, NULL, e.sync_fd, resp, err) == 0)
    r = 0;
  if (r == 0)
    {
      resp->pid = e.p->pid;
      struct proc *p = steal_pointer (&e.p);
      proc_add (a, p);
      execution_release (&e);
      proc_update (p);
      return 0;
    }
  execution_release (&e);
  return -1;
}

