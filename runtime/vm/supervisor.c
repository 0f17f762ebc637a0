#include "runtime/vm/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fault.h"
#include "common/util.h"
#include "oci/json.h"
#include "runtime/hooks.h"
#include "runtime/linux/namespaces.h"
#include "runtime/log.h"
#include "runtime/process.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "runtime/vm/agent-link.h"
#include "runtime/vm/machine.h"
#include "runtime/vm/share.h"

/* ---- host namespaces and files ---- */

const struct oci_linux *
hy_vm_host_linux (const struct oci_linux *l, struct oci_linux *storage,
                  struct oci_namespace ns[HY_VM_HOST_NS_MAX])
{
  size_t n = 0;
  ns[n++] = (struct oci_namespace){ .type = OCI_NS_MOUNT };
  ns[n++] = (struct oci_namespace){ .type = OCI_NS_PID };
  const struct oci_namespace *net = hy_ns_find (l, OCI_NS_NETWORK);
  if (net)
    ns[n++] = *net;
  *storage = (struct oci_linux){ .namespaces = ns, .n_namespaces = n };
  return storage;
}

void
hy_vm_dir_remove (int state_dirfd)
{
  rm_tree_at (state_dirfd, HY_VM_DIR);
}

/* ---- the supervisor ---- */

enum stream
{
  STREAM_STDIN,
  STREAM_STDOUT,
  STREAM_STDERR,
  STREAM_TTY,
  N_STREAMS
};

static const char *const stream_names[N_STREAMS]
    = { "stdin", "stdout", "stderr", "tty" };

/* A host process standing for a guest process: the container's init (the
 * supervisor, which also runs the machine) or an exec'd process (the exec
 * proxy).  Signals to it go to the guest process, its stdio is relayed,
 * it exits with the guest process's status. */
struct supervisor
{
  struct hy_init_args *a; /* init only */
  struct hy_machine m;    /* init only; exec: m.qemu_pidfd etc. are -1 */
  const char *id;         /* "init" or the exec's id */
  const char *uds;        /* the hybrid vsock socket */
  bool terminal;
  int sync_fd;
  struct hy_agent_link agent;
  char *state;           /* state document for the hooks */
  int sigfd;
  int start_efd;         /* written once `start` opened exec.fifo */
  int stream[N_STREAMS]; /* -1: not used or closed */
  int host[N_STREAMS];   /* the host end: our stdio, or the pty slave */
  uint32_t wait_seq;
  bool waited;
  int exit_code;
};

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

static int
block_signals (struct supervisor *s, hy_error_t *err)
{
  sigset_t all;
  sigfillset (&all);
  if (sigprocmask (SIG_BLOCK, &all, NULL) < 0)
    return hy_error_errno (err, "block signals");
  s->sigfd = signalfd (-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  if (s->sigfd < 0)
    return hy_error_errno (err, "signalfd");
  return 0;
}

/* ---- the console: a host pty whose master goes where runc sends it ---- */

static int
raw_mode (int fd, hy_error_t *err)
{
  struct termios t;
  if (tcgetattr (fd, &t) < 0)
    return hy_error_errno (err, "tcgetattr on the console");
  cfmakeraw (&t);
  if (tcsetattr (fd, TCSANOW, &t) < 0)
    return hy_error_errno (err, "tcsetattr on the console");
  return 0;
}

static int
open_console (struct supervisor *s, const struct oci_process *p,
              hy_error_t *err)
{
  _cleanup_close_ int master = -1;
  _cleanup_close_ int slave = -1;
  if (hy_pty_open (&master, NULL, err) < 0
      || hy_pty_open_slave (master, &slave, err) < 0)
    return hy_error_prepend (err, "vm: console");
  if (p->has_console_size
      && hy_pty_set_size (master, p->console_height, p->console_width, err)
             < 0)
    return -1;
  /* The guest's pty does the line discipline; ours passes bytes. */
  if (raw_mode (slave, err) < 0 || hy_terminal_make_controlling (slave, err) < 0)
    return -1;
  if (hy_sync_send (s->sync_fd, HY_SYNC_PTY, master, err) < 0)
    return -1;
  s->host[STREAM_TTY] = steal_fd (&slave);
  return 0;
}

/* ---- talking to the agent ---- */

static int
attach_streams (struct supervisor *s, hy_error_t *err)
{
  for (int i = 0; i < N_STREAMS; i++)
    {
      if ((i == STREAM_TTY) != s->terminal)
        continue;
      if (hy_agent_link_attach (s->uds, HY_VM_STREAM_PORT, s->id,
                                stream_names[i], &s->stream[i], err)
          < 0)
        return -1;
      if (i != STREAM_TTY)
        s->host[i] = i; /* our stdin, stdout, stderr are the container's */
    }
  return 0;
}

static char *
streams_json (const struct supervisor *s)
{
  return s->terminal
             ? xstrdup ("[\"tty\"]")
             : xstrdup ("[\"stdin\",\"stdout\",\"stderr\"]");
}

static int
create_in_guest (struct supervisor *s, hy_error_t *err)
{
  _cleanup_free_ char *config = hy_vm_guest_config (s->a->config);
  _cleanup_free_ char *streams = streams_json (s);
  _cleanup_free_ char *members
      = xasprintf (",\"config\":%s,\"streams\":%s", config, streams);
  struct hy_agent_reply r;
  if (hy_agent_link_call (&s->agent, "create", members, &r, err) < 0)
    return -1;
  return hy_agent_reply_check (&r, "create the container in the guest", err);
}

/* How long the guest took, for benchmarks: <vm dir>/ready-ms holds the
 * milliseconds from QEMU's start to the agent's ready connection. */
static void
record_ready_time (const struct supervisor *s, const struct timespec *t0)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  long ms = (now.tv_sec - t0->tv_sec) * 1000
            + (now.tv_nsec - t0->tv_nsec) / 1000000;
  _cleanup_free_ char *path = xasprintf ("%s/ready-ms", s->m.dir);
  _cleanup_free_ char *text = xasprintf ("%ld\n", ms);
  _cleanup_error_ hy_error_t ignored = NULL;
  write_file_atomic (path, text, strlen (text), 0644, &ignored);
}

static int
boot (struct supervisor *s, hy_error_t *err)
{
  int conn;
  struct timespec t0;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  if (hy_machine_start (&s->m, s->a->state_dir, s->a->config, s->a->rootfs,
                        s->a->workload, err)
          < 0
      || hy_fault ("vm.start", err) < 0
      || hy_machine_wait_ready (&s->m, hy_machine_boot_timeout_ms (), &conn,
                                 err) < 0)
    return -1;
  record_ready_time (s, &t0);
  s->uds = s->m.vsock_path;
  return hy_agent_link_open (&s->agent, conn, &s->m, err);
}

/* Everything before READY: errors go to create, which undoes it all. */
static int
prepare (struct supervisor *s, hy_error_t *err)
{
  const struct oci_config *c = s->a->config;
  if (hy_init_enter (s->a, err) < 0
      || hy_init_runtime_hooks (s->a, &s->state, err) < 0)
    return -1;
  if (chdir (s->a->rootfs) < 0)
    return hy_error_errno (err, "chdir to the rootfs `%s`", s->a->rootfs);
  if (hy_hooks_run (c->hooks, OCI_HOOK_CREATE_CONTAINER, s->state, err) < 0
      || (s->terminal && open_console (s, c->process, err) < 0)
      || boot (s, err) < 0 || attach_streams (s, err) < 0
      || create_in_guest (s, err) < 0 || hy_fault ("vm.create", err) < 0)
    return -1;
  return 0;
}

/* ---- waiting for `start` without blocking the loop ---- */

static void *
fifo_waiter (void *arg)
{
  struct supervisor *s = arg;
  _cleanup_error_ hy_error_t err = NULL;
  uint64_t one = 1;
  if (hy_init_wait_for_start (s->a, &err) == 0)
    (void) !write (s->start_efd, &one, sizeof (one));
  return NULL;
}

static int
watch_for_start (struct supervisor *s, hy_error_t *err)
{
  s->start_efd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s->start_efd < 0)
    return hy_error_errno (err, "eventfd");
  pthread_t t;
  int e = pthread_create (&t, NULL, fifo_waiter, s);
  if (e != 0)
    return hy_error (err, e, "start a thread");
  pthread_detach (t);
  return 0;
}

/* ---- signals ---- */

static void
forward_signal (struct supervisor *s, int sig)
{
  _cleanup_error_ hy_error_t err = NULL;
  if (sig == SIGCHLD || sig == SIGPIPE)
    return;
  if (sig == SIGWINCH && s->host[STREAM_TTY] >= 0)
    {
      struct winsize ws;
      if (ioctl (s->host[STREAM_TTY], TIOCGWINSZ, &ws) == 0)
        {
          _cleanup_free_ char *m = xasprintf (
              ",\"id\":\"%s\",\"rows\":%u,\"cols\":%u", s->id,
              ws.ws_row, ws.ws_col);
          hy_agent_link_send (&s->agent, "resize", m, NULL, &err);
        }
      return;
    }
  _cleanup_free_ char *m
      = xasprintf (",\"id\":\"%s\",\"signal\":%d", s->id, sig);
  if (hy_agent_link_send (&s->agent, "signal", m, NULL, &err) < 0)
    hy_log_warning ("vm: forward signal %d: %s", sig, err->msg);
}

static void
read_signals (struct supervisor *s)
{
  struct signalfd_siginfo si;
  while (read (s->sigfd, &si, sizeof (si)) == (ssize_t) sizeof (si))
    forward_signal (s, (int) si.ssi_signo);
}

/* ---- the relay ---- */

#define RELAY_BUF (64 * 1024)

static int
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      buf += n;
      len -= (size_t) n;
    }
  return 0;
}

/* Copy what `from` has to `to`; on end of input or a write error `from`
 * is closed and the peer told (half-close of a socket).  Returns false
 * once `from` is done. */
static bool
pump (int *from, int to, bool to_is_socket)
{
  char buf[RELAY_BUF];
  ssize_t n = read (*from, buf, sizeof (buf));
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (n > 0 && write_all (to, buf, (size_t) n) == 0)
    return true;
  if (to_is_socket)
    shutdown (to, SHUT_WR);
  return false;
}

struct watch
{
  struct pollfd p[8];
  int what[8];
  int n;
};

enum
{
  W_SIGNALS = 100,
  W_AGENT,
  W_QEMU,
  W_BACKEND,
  W_START,
  W_HOST = 200, /* + stream: host -> guest */
  W_GUEST = 300 /* + stream: guest -> host */
};

static void
watch_add (struct watch *w, int fd, int what)
{
  if (fd < 0)
    return;
  w->p[w->n] = (struct pollfd){ .fd = fd, .events = POLLIN };
  w->what[w->n++] = what;
}

static bool
output_open (const struct supervisor *s)
{
  return s->stream[STREAM_STDOUT] >= 0 || s->stream[STREAM_STDERR] >= 0
         || s->stream[STREAM_TTY] >= 0;
}

static void
handle_reply (struct supervisor *s, const struct hy_agent_reply *r)
{
  if (r->seq != s->wait_seq || s->wait_seq == 0)
    {
      if (r->error)
        hy_log_warning ("vm: guest agent: %s", r->error);
      return;
    }
  s->waited = true;
  if (r->error)
    {
      hy_log_error ("vm: wait for the container's process: %s", r->error);
      s->exit_code = 255;
    }
  else
    s->exit_code = r->signal ? 128 + r->signal : r->exit_code;
}

static void
on_stream (struct supervisor *s, int what)
{
  if (what >= W_GUEST)
    {
      int i = what - W_GUEST;
      int to = i == STREAM_TTY ? s->host[STREAM_TTY] : s->host[i];
      if (!pump (&s->stream[i], to, false))
        close_fd (&s->stream[i]);
      return;
    }
  int i = what - W_HOST;
  int from = i == STREAM_STDIN ? STREAM_STDIN : STREAM_TTY;
  if (!pump (&s->host[from], s->stream[from], true))
    {
      if (from == STREAM_STDIN)
        close_fd (&s->stream[STREAM_STDIN]);
      s->host[from] = -1; /* ours (0 or the slave): left open */
    }
}

/* One round of the loop: 0 to go on, 1 when `start` came, <0 when the
 * guest is gone (err says how). */
static int
loop_once (struct supervisor *s, bool before_start, hy_error_t *err)
{
  struct watch w = { .n = 0 };
  watch_add (&w, s->sigfd, W_SIGNALS);
  watch_add (&w, s->agent.fd, W_AGENT);
  watch_add (&w, s->m.qemu_pidfd, W_QEMU);
  watch_add (&w, s->m.backend_pidfd, W_BACKEND);
  if (before_start)
    watch_add (&w, s->start_efd, W_START);
  else
    {
      watch_add (&w, s->host[STREAM_STDIN], W_HOST + STREAM_STDIN);
      watch_add (&w, s->host[STREAM_TTY], W_HOST + STREAM_TTY);
      for (int i = STREAM_STDOUT; i < N_STREAMS; i++)
        watch_add (&w, s->stream[i], W_GUEST + i);
    }
  if (poll (w.p, (nfds_t) w.n, -1) < 0)
    return errno == EINTR ? 0 : hy_error_errno (err, "vm: poll");
  for (int k = 0; k < w.n; k++)
    {
      if (!w.p[k].revents)
        continue;
      switch (w.what[k])
        {
        case W_SIGNALS:
          read_signals (s);
          break;
        case W_START:
          return 1;
        case W_QEMU:
        case W_BACKEND:
          return hy_machine_gone (&s->m, "", err);
        case W_AGENT:
          {
            struct hy_agent_reply r;
            _cleanup_error_ hy_error_t why = NULL;
            if (hy_agent_link_read (&s->agent, &r, &why) < 0)
              {
                _cleanup_free_ char *text = hy_error_text (why);
                _cleanup_free_ char *what
                    = xasprintf ("guest agent: %s", text);
                return hy_machine_died (&s->m, what, err);
              }
            handle_reply (s, &r);
            hy_agent_reply_release (&r);
          }
          break;
        default:
          on_stream (s, w.what[k]);
        }
    }
  return 0;
}

static int
send_wait (struct supervisor *s, hy_error_t *err)
{
  _cleanup_free_ char *m = xasprintf (",\"id\":\"%s\"", s->id);
  return hy_agent_link_send (&s->agent, "wait", m, &s->wait_seq, err);
}

static int
start_in_guest (struct supervisor *s, hy_error_t *err)
{
  struct hy_agent_reply r;
  if (hy_hooks_run (s->a->config->hooks, OCI_HOOK_START_CONTAINER, s->state,
                    err)
          < 0
      || hy_agent_link_call (&s->agent, "start", "", &r, err) < 0
      || hy_agent_reply_check (&r, "start the container in the guest", err)
             < 0)
    return -1;
  return send_wait (s, err);
}

static int
relay_until_exit (struct supervisor *s, hy_error_t *err)
{
  while (!s->waited || output_open (s))
    if (loop_once (s, false, err) < 0)
      return -1;
  return 0;
}

/* From READY on: wait for start, start, relay until the process exited. */
static int
run (struct supervisor *s, hy_error_t *err)
{
  int r;
  if (watch_for_start (s, err) < 0)
    return -1;
  while ((r = loop_once (s, true, err)) == 0)
    ;
  if (r < 0 || start_in_guest (s, err) < 0)
    return -1;
  return relay_until_exit (s, err);
}

__attribute__ ((noreturn)) static void
finish (struct supervisor *s, int code)
{
  hy_machine_stop (&s->m);
  _exit (code);
}

static void
supervisor_init (struct supervisor *s, const char *id, bool terminal,
                 int sync_fd)
{
  *s = (struct supervisor){ .id = id, .terminal = terminal,
                            .sync_fd = sync_fd, .sigfd = -1,
                            .start_efd = -1 };
  hy_machine_init (&s->m);
  hy_agent_link_init (&s->agent);
  for (int i = 0; i < N_STREAMS; i++)
    s->stream[i] = s->host[i] = -1;
}

void
hy_vm_supervise (struct hy_init_args *a)
{
  hy_error_t err = NULL;
  struct supervisor s;
  supervisor_init (&s, "init", a->config->process->terminal, a->sync_fd);
  s.a = a;
  hy_process_forward_warnings (&a->sync_fd);
  if (block_signals (&s, &err) < 0 || prepare (&s, &err) < 0)
    {
      hy_machine_stop (&s.m);
      hy_process_fail (a->sync_fd, err);
    }
  /* From here create may exit: its death must not take us along. */
  if (prctl (PR_SET_PDEATHSIG, 0) < 0
      || hy_sync_send (a->sync_fd, HY_SYNC_READY, -1, &err) < 0)
    finish (&s, 255);
  close (a->sync_fd);
  a->sync_fd = -1;
  if (run (&s, &err) < 0)
    {
      _cleanup_free_ char *text = hy_error_text (err);
      fprintf (stderr, "hyrun: %s\n", text);
      hy_log_error ("%s", text);
      finish (&s, 255);
    }
  finish (&s, s.exit_code);
}

/* ---- exec: a proxy process for the guest process ---- */

static int
exec_in_guest (struct supervisor *s, const struct oci_process *p,
               hy_error_t *err)
{
  _cleanup_free_ char *process = oci_process_to_json (p, false);
  _cleanup_free_ char *streams = streams_json (s);
  _cleanup_free_ char *members = xasprintf (
      ",\"id\":\"%s\",\"process\":%s,\"streams\":%s", s->id, process, streams);
  struct hy_agent_reply r;
  if (hy_agent_link_call (&s->agent, "exec", members, &r, err) < 0)
    return -1;
  return hy_agent_reply_check (&r, "exec in the guest", err);
}

static int
proxy_prepare (struct supervisor *s, const struct oci_process *p,
               hy_error_t *err)
{
  if (block_signals (s, err) < 0
      || hy_agent_link_dial (&s->agent, s->uds, err) < 0
      || (s->terminal && open_console (s, p, err) < 0)
      || attach_streams (s, err) < 0 || exec_in_guest (s, p, err) < 0
      || send_wait (s, err) < 0)
    return -1;
  return 0;
}

__attribute__ ((noreturn)) static void
exec_proxy (const struct hy_exec_opts *o, int sync_fd)
{
  hy_error_t err = NULL;
  char id[32];
  snprintf (id, sizeof (id), "exec-%d", (int) getpid ());
  _cleanup_free_ char *uds
      = xasprintf ("%s/%s/%s/%s", o->container->root, o->container->status.id,
                   HY_VM_DIR, HY_VM_VSOCK_SOCKET);
  struct supervisor s;
  supervisor_init (&s, id, o->process->terminal, sync_fd);
  s.uds = uds;
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  close (o->container->dirfd); /* it carries the container's lock */
  if (proxy_prepare (&s, o->process, &err) < 0)
    hy_process_fail (sync_fd, err);
  if (prctl (PR_SET_PDEATHSIG, 0) < 0
      || hy_sync_send (sync_fd, HY_SYNC_READY, -1, &err) < 0)
    _exit (255);
  close (sync_fd);
  if (relay_until_exit (&s, &err) < 0)
    {
      _cleanup_free_ char *text = hy_error_text (err);
      fprintf (stderr, "hyrun: %s\n", text);
      _exit (255);
    }
  _exit (s.exit_code);
}

static int
serve_proxy (const struct hy_exec_opts *o, int sync_fd, int *master,
             hy_error_t *err)
{
  for (;;)
    {
      struct hy_sync_msg m;
      int fd;
      if (hy_sync_recv (sync_fd, &m, &fd, err) < 0)
        return -1;
      switch (m.type)
        {
        case HY_SYNC_PTY:
          if (hy_sync_take_pty (fd, o->console_socket,
                                o->keep_pty ? master : NULL, err)
              < 0)
            return -1;
          break;
        case HY_SYNC_WARN:
          hy_log_warning ("%s", m.text);
          break;
        case HY_SYNC_READY:
          return 0;
        case HY_SYNC_ERROR:
          return hy_error (err, m.errnum, "%s", m.text);
        default:
          if (fd >= 0)
            close (fd);
          return hy_error (err, EPROTO, "unexpected message %d from the "
                                        "exec proxy", m.type);
        }
    }
}

int
hy_vm_exec (const struct hy_exec_opts *o, struct hy_executed *out,
            hy_error_t *err)
{
  int sv[2];
  if (o->process->args == NULL || o->process->args[0] == NULL)
    return hy_error (err, 0, "exec: no command to run");
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return hy_error_errno (err, "create the sync socket");
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (sv[0]);
      close (sv[1]);
      return hy_error_errno (err, "fork the exec proxy");
    }
  if (pid == 0)
    {
      close (sv[0]);
      exec_proxy (o, sv[1]);
    }
  close (sv[1]);
  int master = -1;
  int r = serve_proxy (o, sv[0], &master, err);
  close (sv[0]);
  if (r == 0 && o->pid_file)
    {
      char buf[32];
      int n = snprintf (buf, sizeof (buf), "%d", (int) pid);
      r = write_file_atomic (o->pid_file, buf, (size_t) n, 0644, err);
    }
  if (r < 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      if (master >= 0)
        close (master);
      return -1;
    }
  *out = (struct hy_executed){ .pid = pid, .pty_master = master };
  return 0;
}

/* ---- verbs that ask the agent ---- */

static char *
container_uds (const struct hy_container *c)
{
  return xasprintf ("%s/%s/%s/%s", c->root, c->status.id, HY_VM_DIR,
                    HY_VM_VSOCK_SOCKET);
}

int
hy_vm_signal_all (struct hy_container *c, int sig, hy_error_t *err)
{
  _cleanup_free_ char *uds = container_uds (c);
  struct hy_agent_link l;
  struct hy_agent_reply r;
  hy_agent_link_init (&l);
  _cleanup_free_ char *m
      = xasprintf (",\"id\":\"init\",\"signal\":%d,\"all\":true", sig);
  int ret = -1;
  if (hy_agent_link_dial (&l, uds, err) == 0
      && hy_agent_link_call (&l, "signal", m, &r, err) == 0)
    ret = hy_agent_reply_check (&r, "signal the container's processes", err);
  hy_agent_link_close (&l);
  return ret;
}

static int
ps_entry (yajl_val e, const oci_jpath *at, struct hy_vm_process *p,
          hy_error_t *err)
{
  int64_t v;
  bool present;
  if (oci_json_expect_object (e, at, err) < 0
      || oci_json_int64 (e, at, "pid", true, 1, INT32_MAX, &v, &present, err)
             < 0)
    return -1;
  p->pid = (int) v;
  if (oci_json_int64 (e, at, "ppid", false, 0, INT32_MAX, &v, &present, err)
      < 0)
    return -1;
  p->ppid = present ? (int) v : 0;
  if (oci_json_int64 (e, at, "uid", false, 0, UINT32_MAX, &v, &present, err)
      < 0)
    return -1;
  p->uid = present ? (uint32_t) v : 0;
  if (oci_json_string (e, at, "state", false, &p->state, err) < 0
      || oci_json_string (e, at, "cmd", false, &p->cmd, err) < 0)
    return -1;
  return 0;
}

static int
parse_ps (const char *text, struct hy_vm_process **out, size_t *n,
          hy_error_t *err)
{
  yajl_val doc = NULL;
  yajl_val list;
  if (oci_json_parse (text, &doc, err) < 0
      || oci_json_array (doc, JPATH_ROOT, "processes", true, &list, err) < 0)
    {
      yajl_tree_free (doc);
      return hy_error_prepend (err, "guest agent: ps");
    }
  size_t len = YAJL_GET_ARRAY (list)->len;
  *out = xmalloc0 ((len + 1) * sizeof (**out));
  *n = 0;
  const oci_jpath procs = JPATH_KEY (JPATH_ROOT, "processes");
  for (size_t i = 0; i < len; i++)
    {
      const oci_jpath at = JPATH_INDEX (&procs, i);
      if (ps_entry (YAJL_GET_ARRAY (list)->values[i], &at, &(*out)[i], err)
          < 0)
        {
          yajl_tree_free (doc);
          hy_vm_processes_free (*out, i + 1);
          return hy_error_prepend (err, "guest agent: ps");
        }
      (*n)++;
    }
  yajl_tree_free (doc);
  return 0;
}

void
hy_vm_processes_free (struct hy_vm_process *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (p[i].state);
      free (p[i].cmd);
    }
  free (p);
}

int
hy_vm_ps (struct hy_container *c, struct hy_vm_process **out, size_t *n,
          hy_error_t *err)
{
  _cleanup_free_ char *uds = container_uds (c);
  struct hy_agent_link l;
  struct hy_agent_reply r;
  hy_agent_link_init (&l);
  int ret = -1;
  if (hy_agent_link_dial (&l, uds, err) == 0
      && hy_agent_link_call (&l, "ps", "", &r, err) == 0)
    {
      if (r.error)
        ret = hy_agent_reply_check (&r, "ps in the guest", err);
      else
        {
          ret = parse_ps (r.text, out, n, err);
          hy_agent_reply_release (&r);
        }
    }
  hy_agent_link_close (&l);
  return ret;
}
