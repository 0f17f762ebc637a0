#include "runtime/vm/proxy.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/log.h"
#include "runtime/process.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

#define RELAY_BUF (64 * 1024)

static const unsigned stream_bits[HY_VM_N_STREAMS]
    = { HY_AGENT_STDIN, HY_AGENT_STDOUT, HY_AGENT_STDERR, HY_AGENT_TTY };

void
hy_vm_proxy_init (struct hy_vm_proxy *p, const char *id,
                  const char *vsock_path, bool terminal, int sync_fd)
{
  *p = (struct hy_vm_proxy){ .id = id,
                             .transport = { HY_AGENT_VSOCK, vsock_path },
                             .terminal = terminal,
                             .sync_fd = sync_fd,
                             .sigfd = -1,
                             .start_efd = -1 };
  for (int i = 0; i < HY_VM_N_STREAMS; i++)
    p->stream[i] = p->host[i] = -1;
}

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

void
hy_vm_proxy_release (struct hy_vm_proxy *p)
{
  hy_agent_conn_free (p->agent);
  p->agent = NULL;
  for (int i = 0; i < HY_VM_N_STREAMS; i++)
    close_fd (&p->stream[i]);
  close_fd (&p->sigfd);
  close_fd (&p->start_efd);
}

int
hy_vm_proxy_block_signals (struct hy_vm_proxy *p, hy_error_t *err)
{
  sigset_t all;
  sigfillset (&all);
  if (sigprocmask (SIG_BLOCK, &all, NULL) < 0)
    return hy_error_errno (err, "block signals");
  p->sigfd = signalfd (-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  if (p->sigfd < 0)
    return hy_error_errno (err, "signalfd");
  return 0;
}

/* ---- the agent ---- */

static void
on_response (void *data, enum hy_agent_request_kind kind,
             const struct hy_agent_response *r)
{
  struct hy_vm_proxy *p = data;
  if (kind != HY_AGENT_REQ_WAIT)
    {
      if (r->error)
        hy_log_warning ("vm: guest agent: %s: %s",
                        hy_agent_request_names[kind], r->error);
      return;
    }
  p->waited = true;
  if (r->error)
    {
      hy_log_error ("vm: wait for the process: %s", r->error);
      p->exit_code = 255;
    }
  else
    p->exit_code = r->signaled ? 128 + r->signal : r->exit_code;
}

static void
on_event (void *data, const struct hy_agent_event *e)
{
  (void) data;
  if (e->kind == HY_AGENT_EVENT_OOM)
    hy_log_warning ("vm: the guest killed a process of %s for memory",
                    e->id ? e->id : "the container");
}

int
hy_vm_proxy_open_agent (struct hy_vm_proxy *p, int fd, hy_error_t *err)
{
  if (hy_agent_conn_open (fd, HY_VM_CONNECT_TIMEOUT_MS, &p->agent, err) < 0)
    return hy_vm_proxy_call_failed (p, NULL, err);
  hy_agent_conn_set_callbacks (p->agent, on_response, on_event, p);
  return 0;
}

unsigned
hy_vm_proxy_streams (const struct hy_vm_proxy *p)
{
  return p->terminal ? HY_AGENT_TTY
                     : HY_AGENT_STDIN | HY_AGENT_STDOUT | HY_AGENT_STDERR;
}

static void send_resize (struct hy_vm_proxy *p);

/* With a terminal, the guest's pty starts with the host pty's size. */
int
hy_vm_proxy_attach_streams (struct hy_vm_proxy *p, hy_error_t *err)
{
  unsigned want = hy_vm_proxy_streams (p);
  for (int i = 0; i < HY_VM_N_STREAMS; i++)
    {
      if (!(want & stream_bits[i]))
        continue;
      p->stream[i] = hy_agent_attach (&p->transport, p->id, stream_bits[i],
                                      HY_VM_CONNECT_TIMEOUT_MS, err);
      if (p->stream[i] < 0)
        return hy_error_prepend (err, "vm: attach %s",
                                 hy_agent_stream_name (stream_bits[i]));
      if (i != HY_VM_TTY)
        p->host[i] = i; /* our stdin, stdout, stderr are the process's */
    }
  if (p->terminal)
    send_resize (p);
  return 0;
}

void
hy_vm_proxy_forward_debug (const struct hy_vm_proxy *p,
                           const struct hy_agent_response *resp)
{
  for (size_t i = 0; i < resp->n_debug; i++)
    hy_process_debug (p->sync_fd, "guest: %s", resp->debug[i]);
}

int
hy_vm_proxy_send_wait (struct hy_vm_proxy *p, hy_error_t *err)
{
  struct hy_agent_request req
      = { .kind = HY_AGENT_REQ_WAIT, .id = (char *) p->id };
  return hy_agent_send (p->agent, &req, err);
}

/* ---- the console ---- */

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

int
hy_vm_proxy_open_console (struct hy_vm_proxy *p,
                          const struct oci_process *process, hy_error_t *err)
{
  _cleanup_close_ int master = -1;
  _cleanup_close_ int slave = -1;
  if (hy_pty_open (&master, NULL, err) < 0
      || hy_pty_open_slave (master, &slave, err) < 0)
    return hy_error_prepend (err, "vm: console");
  if (process->has_console_size
      && hy_pty_set_size (master, process->console_height,
                          process->console_width, err)
             < 0)
    return -1;
  /* The guest's pty does the line discipline; ours passes bytes. */
  if (raw_mode (slave, err) < 0
      || hy_terminal_make_controlling (slave, err) < 0
      || hy_sync_send (p->sync_fd, HY_SYNC_PTY, master, err) < 0)
    return -1;
  p->host[HY_VM_TTY] = steal_fd (&slave);
  return 0;
}

/* ---- signals ---- */

static void
send_resize (struct hy_vm_proxy *p)
{
  struct winsize ws;
  _cleanup_error_ hy_error_t err = NULL;
  if (p->host[HY_VM_TTY] < 0 || ioctl (p->host[HY_VM_TTY], TIOCGWINSZ, &ws) < 0
      || ws.ws_row == 0 || ws.ws_col == 0)
    return;
  struct hy_agent_request req = { .kind = HY_AGENT_REQ_RESIZE,
                                  .id = (char *) p->id,
                                  .rows = ws.ws_row,
                                  .cols = ws.ws_col };
  hy_agent_send (p->agent, &req, &err);
}

static void
forward_signal (struct hy_vm_proxy *p, int sig)
{
  if (sig == SIGCHLD || sig == SIGPIPE)
    return;
  if (sig == SIGWINCH)
    {
      send_resize (p);
      return;
    }
  _cleanup_error_ hy_error_t err = NULL;
  struct hy_agent_request req = { .kind = HY_AGENT_REQ_SIGNAL,
                                  .id = (char *) p->id,
                                  .signal = sig };
  if (hy_agent_send (p->agent, &req, &err) < 0)
    hy_log_warning ("vm: forward signal %d: %s", sig, err->msg);
}

static void
read_signals (struct hy_vm_proxy *p)
{
  struct signalfd_siginfo si;
  while (read (p->sigfd, &si, sizeof (si)) == (ssize_t) sizeof (si))
    forward_signal (p, (int) si.ssi_signo);
}

/* ---- the relay ---- */

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

/* Copy what `from` has to `to`.  Returns false at the end of `from` or
 * when `to` fails; a socket `to` is then half-closed. */
static bool
pump (int from, int to, bool to_is_socket)
{
  char buf[RELAY_BUF];
  ssize_t n = read (from, buf, sizeof (buf));
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (n > 0 && write_all (to, buf, (size_t) n) == 0)
    return true;
  if (to_is_socket)
    shutdown (to, SHUT_WR);
  return false;
}

enum
{
  W_SIGNALS = 100,
  W_AGENT,
  W_MACHINE,
  W_START,
  W_HOST = 200, /* + stream: host -> guest */
  W_GUEST = 300 /* + stream: guest -> host */
};

struct watch
{
  struct pollfd p[12];
  int what[12];
  int n;
};

static void
watch_add (struct watch *w, int fd, short events, int what)
{
  if (fd < 0)
    return;
  w->p[w->n] = (struct pollfd){ .fd = fd, .events = events };
  w->what[w->n++] = what;
}

static bool
output_open (const struct hy_vm_proxy *p)
{
  return p->stream[HY_VM_STDOUT] >= 0 || p->stream[HY_VM_STDERR] >= 0
         || p->stream[HY_VM_TTY] >= 0;
}

static void
on_stream (struct hy_vm_proxy *p, int what)
{
  if (what >= W_GUEST)
    {
      int i = what - W_GUEST;
      if (!pump (p->stream[i], p->host[i], false))
        close_fd (&p->stream[i]);
      return;
    }
  int i = what - W_HOST;
  if (pump (p->host[i], p->stream[i], true))
    return;
  if (i == HY_VM_STDIN)
    close_fd (&p->stream[HY_VM_STDIN]);
  p->host[i] = -1; /* ours (0 or the slave): left open */
}

static void
watch_all (struct hy_vm_proxy *p, bool before_start, struct watch *w)
{
  watch_add (w, p->sigfd, POLLIN, W_SIGNALS);
  watch_add (w, hy_agent_conn_fd (p->agent),
             (short) hy_agent_conn_events (p->agent), W_AGENT);
  if (p->machine)
    {
      watch_add (w, p->machine->qemu_pidfd, POLLIN, W_MACHINE);
      watch_add (w, p->machine->backend_pidfd, POLLIN, W_MACHINE);
    }
  if (before_start)
    {
      watch_add (w, p->start_efd, POLLIN, W_START);
      return;
    }
  watch_add (w, p->host[HY_VM_STDIN], POLLIN, W_HOST + HY_VM_STDIN);
  watch_add (w, p->host[HY_VM_TTY], POLLIN, W_HOST + HY_VM_TTY);
  for (int i = HY_VM_STDOUT; i < HY_VM_N_STREAMS; i++)
    watch_add (w, p->stream[i], POLLIN, W_GUEST + i);
}

static int
agent_gone (struct hy_vm_proxy *p, hy_error_t why, hy_error_t *err)
{
  _cleanup_free_ char *text = why ? hy_error_text (why) : NULL;
  _cleanup_free_ char *what
      = xasprintf ("the guest agent's connection %s%s",
                   text ? "failed: " : "closed", text ? text : "");
  if (p->machine == NULL)
    return hy_error (err, ECONNRESET, "vm: %s", what);
  if (why)
    return hy_machine_died (p->machine, what, err);
  return hy_machine_agent_lost (p->machine, what, err);
}

int
hy_vm_proxy_call_failed (struct hy_vm_proxy *p, const char *context,
                         hy_error_t *err)
{
  int e = (*err)->errnum;
  if (p->machine == NULL || (e != ECONNRESET && e != ETIMEDOUT))
    return context ? hy_error_prepend (err, "vm: %s", context)
                   : hy_error_prepend (err, "vm");
  _cleanup_free_ char *what = context
                                  ? xasprintf ("%s: %s", context, (*err)->msg)
                                  : xstrdup ((*err)->msg);
  hy_error_release (err);
  if (e == ETIMEDOUT)
    return hy_machine_died (p->machine, what, err);
  return hy_machine_agent_lost (p->machine, what, err);
}

int
hy_vm_proxy_loop_once (struct hy_vm_proxy *p, bool before_start,
                       hy_error_t *err)
{
  struct watch w = { .n = 0 };
  watch_all (p, before_start, &w);
  if (poll (w.p, (nfds_t) w.n, -1) < 0)
    return errno == EINTR ? 0 : hy_error_errno (err, "vm: poll");
  for (int k = 0; k < w.n; k++)
    {
      if (!w.p[k].revents)
        continue;
      switch (w.what[k])
        {
        case W_SIGNALS:
          read_signals (p);
          break;
        case W_START:
          return 1;
        case W_MACHINE:
          return hy_machine_gone (p->machine, "", err);
        case W_AGENT:
          {
            _cleanup_error_ hy_error_t why = NULL;
            int r = hy_agent_conn_handle (p->agent, (uint32_t) w.p[k].revents,
                                          &why);
            if (r != 0)
              return agent_gone (p, r < 0 ? why : NULL, err);
          }
          break;
        default:
          on_stream (p, w.what[k]);
        }
    }
  return 0;
}

int
hy_vm_proxy_relay_until_exit (struct hy_vm_proxy *p, hy_error_t *err)
{
  while (!p->waited || output_open (p))
    if (hy_vm_proxy_loop_once (p, false, err) < 0)
      return -1;
  return 0;
}
