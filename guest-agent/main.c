/* hyrun-agent: the guest agent of hyrun's VM isolation, the VM's PID 1
 * (docs/AGENT-PROTOCOL.md).
 *
 *   hyrun-agent [--transport vsock|unix:DIR] [--not-pid1] [--share DIR]
 *               [--cgroup DIR] [--ready-timeout MS] [--verbose]
 *
 * In a VM it runs with no arguments (the kernel's init).  The test mode
 * (--transport unix:DIR --not-pid1) serves the same protocol on AF_UNIX
 * sockets in DIR (see transport.c) and still makes real containers; run
 * it in its own mount and pid namespaces (unshare -m -p -f --mount-proc)
 * so that nothing leaks. */
#include "guest-agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

#define DEFAULT_SHARE "/run/hyrun/share"
#define DEFAULT_CGROUP "/sys/fs/cgroup/container"

void
agent_log (const char *fmt, ...)
{
  char buf[1024];
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (buf, sizeof (buf), fmt, ap);
  va_end (ap);
  if (n < 0)
    return;
  dprintf (STDERR_FILENO, "hyrun-agent: %s\n", buf);
}

void
agent_log_error (const char *context, hy_error_t *err)
{
  _cleanup_free_ char *text = hy_error_text (*err);
  if (context)
    agent_log ("%s: %s", context, text);
  else
    agent_log ("%s", text);
  hy_error_release (err);
}

void
agent_watch (struct agent *a, struct hy_vm_watch *w, uint32_t events)
{
  hy_error_t err = NULL;
  if (hy_vm_watch_set (a->epfd, w, events, &err) < 0)
    agent_log_error (NULL, &err);
}

void
agent_bury (struct agent *a)
{
  for (struct conn **pc = &a->conns; *pc;)
    {
      struct conn *c = *pc;
      if (!c->dead)
        {
          pc = &c->next;
          continue;
        }
      *pc = c->next;
      hy_frame_reader_release (&c->reader);
      hy_frame_writer_release (&c->writer);
      free (c);
    }
  for (struct stream **ps = &a->streams; *ps;)
    {
      struct stream *s = *ps;
      if (!s->dead)
        {
          ps = &s->next;
          continue;
        }
      *ps = s->next;
      free (s);
    }
}

/* ---- the listeners and the signalfd ---- */

static void
accept_all (struct agent *a, struct hy_vm_watch *w, bool control)
{
  for (;;)
    {
      int fd = accept4 (w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        {
          if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            agent_log ("accept: %s", strerror (errno));
          return;
        }
      hy_error_t err = NULL;
      int r = control ? control_accept (a, fd, false, &err)
                      : streams_accept (a, fd, &err);
      if (r < 0)
        agent_log_error (NULL, &err);
    }
}

static void
on_control_listen (struct hy_vm_watch *w, uint32_t events)
{
  (void) events;
  accept_all (container_of (w, struct agent, control_listen), w, true);
}

static void
on_stream_listen (struct hy_vm_watch *w, uint32_t events)
{
  (void) events;
  accept_all (container_of (w, struct agent, stream_listen), w, false);
}

static void
on_sigchld (struct hy_vm_watch *w, uint32_t events)
{
  (void) events;
  struct signalfd_siginfo si[16];
  while (read (w->fd, si, sizeof (si)) > 0)
    ;
  procs_reap (container_of (w, struct agent, sigchld));
}

/* ---- setup ---- */

static int
setup_signals (struct agent *a, hy_error_t *err)
{
  sigset_t set;
  sigemptyset (&set);
  sigaddset (&set, SIGCHLD);
  if (sigprocmask (SIG_BLOCK, &set, NULL) < 0)
    return hy_error_errno (err, "block SIGCHLD");
  signal (SIGPIPE, SIG_IGN);
  int fd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "signalfd");
  a->sigchld = (struct hy_vm_watch){ .fd = fd, .cb = on_sigchld };
  agent_watch (a, &a->sigchld, EPOLLIN);
  /* Orphans come to us: as PID 1, or as a subreaper in test mode. */
  if (getpid () != 1 && prctl (PR_SET_CHILD_SUBREAPER, 1) < 0)
    return hy_error_errno (err, "become a subreaper");
  return 0;
}

static int
setup_listeners (struct agent *a, hy_error_t *err)
{
  int c = transport_listen (&a->o.transport, HY_AGENT_PORT_CONTROL, err);
  if (c < 0)
    return -1;
  a->control_listen = (struct hy_vm_watch){ .fd = c,
                                            .cb = on_control_listen };
  agent_watch (a, &a->control_listen, EPOLLIN);
  int s = transport_listen (&a->o.transport, HY_AGENT_PORT_STREAMS, err);
  if (s < 0)
    return -1;
  a->stream_listen = (struct hy_vm_watch){ .fd = s, .cb = on_stream_listen };
  agent_watch (a, &a->stream_listen, EPOLLIN);
  return 0;
}

/* The ready connection: the host learns that the agent serves.  While
 * nobody listens it is tried again every READY_RETRY_MS (from the loop:
 * the agent serves meanwhile) for up to --ready-timeout. */
#define READY_RETRY_MS 20

static void ready_retry_stop (struct agent *a);

/* 1: done (connected, or given up), 0: try again later. */
static int
try_ready (struct agent *a)
{
  hy_error_t err = NULL;
  int fd = -1;
  int r = transport_connect_host (&a->o.transport, HY_AGENT_PORT_CONTROL,
                                  &fd, &err);
  if (fd >= 0)
    {
      int fl = fcntl (fd, F_GETFL);
      fcntl (fd, F_SETFL, fl | O_NONBLOCK);
      if (control_accept (a, fd, true, &err) == 0)
        return 1;
    }
  else if (r == 0 && a->ready_waited_ms < a->o.ready_timeout_ms)
    {
      hy_error_release (&err);
      return 0;
    }
  agent_log_error ("the ready connection", &err);
  return 1;
}

static void
on_ready_retry (struct hy_vm_watch *w, uint32_t events)
{
  (void) events;
  struct agent *a = container_of (w, struct agent, ready_retry);
  uint64_t ticks = 0;
  if (read (w->fd, &ticks, sizeof (ticks)) < 0)
    return;
  a->ready_waited_ms += READY_RETRY_MS * (int) ticks;
  if (try_ready (a))
    ready_retry_stop (a);
}

static void
ready_retry_stop (struct agent *a)
{
  agent_watch (a, &a->ready_retry, 0);
  close (a->ready_retry.fd);
  a->ready_retry.fd = -1;
}

static int
connect_ready (struct agent *a, hy_error_t *err)
{
  if (try_ready (a))
    return 0;
  int fd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "timerfd_create");
  const struct itimerspec every
      = { .it_interval = { 0, READY_RETRY_MS * 1000000L },
          .it_value = { 0, READY_RETRY_MS * 1000000L } };
  if (timerfd_settime (fd, 0, &every, NULL) < 0)
    {
      close (fd);
      return hy_error_errno (err, "timerfd_settime");
    }
  a->ready_retry = (struct hy_vm_watch){ .fd = fd, .cb = on_ready_retry };
  agent_watch (a, &a->ready_retry, EPOLLIN);
  return 0;
}

/* As PID 1 the kernel command line comes first (hyrun.floor ends the VM
 * there); its errors wait for the console, which pid1_setup opens. */
static int
setup_pid1 (struct agent *a, hy_error_t *err)
{
  hy_error_t cmdline_err = NULL;
  agent_read_cmdline (&a->o, &cmdline_err);
  if (pid1_setup (&a->o, err) < 0)
    {
      hy_error_release (&cmdline_err);
      return -1;
    }
  if (cmdline_err)
    {
      *err = cmdline_err;
      return -1;
    }
  fault_crash_at (a, FAULT_AGENT_START);
  return 0;
}

static int
setup (struct agent *a, hy_error_t *err)
{
  struct utsname u;
  if (a->o.pid1 && setup_pid1 (a, err) < 0)
    return -1;
  if (uname (&u) == 0)
    snprintf (a->kernel, sizeof (a->kernel), "%s", u.release);
  a->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (a->epfd < 0)
    return hy_error_errno (err, "epoll_create1");
  if (setup_signals (a, err) < 0 || setup_listeners (a, err) < 0
      || oom_watch (a, err) < 0 || connect_ready (a, err) < 0)
    return -1;
  /* While the host reads the hello and sends create: no request is read
   * before the loop runs. */
  if (a->o.pid1)
    pid1_mount_share (&a->o);
  return 0;
}

static int
run (struct agent *a, hy_error_t *err)
{
  while (!a->stop)
    {
      if (hy_vm_watch_dispatch (a->epfd, -1, err) < 0)
        return -1;
      agent_bury (a);
    }
  return 0;
}

/* ---- options ---- */

static void
usage (FILE *f)
{
  fputs ("usage: hyrun-agent [--transport vsock|unix:DIR] [--not-pid1] "
         "[--share DIR]\n"
         "                   [--cgroup DIR] [--ready-timeout MS] "
         "[--verbose]\n",
         f);
}

static int
parse_transport (const char *s, struct agent_transport *t)
{
  if (str_eq (s, "vsock"))
    {
      *t = (struct agent_transport){ 0 };
      return 0;
    }
  if (str_has_prefix (s, "unix:") && s[5] != '\0')
    {
      *t = (struct agent_transport){ .unix_dir = true, .dir = s + 5 };
      return 0;
    }
  return -1;
}

static int
parse_options (int argc, char **argv, struct agent_opts *o)
{
  static const struct option longopts[] = {
    { "transport", required_argument, NULL, 't' },
    { "not-pid1", no_argument, NULL, 'n' },
    { "share", required_argument, NULL, 's' },
    { "cgroup", required_argument, NULL, 'c' },
    { "ready-timeout", required_argument, NULL, 'r' },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  long long ms;
  bool cgroup_given = false;
  int opt;
  while ((opt = getopt_long (argc, argv, "h", longopts, NULL)) != -1)
    switch (opt)
      {
      case 't':
        if (parse_transport (optarg, &o->transport) < 0)
          {
            fprintf (stderr, "hyrun-agent: bad --transport `%s`\n", optarg);
            return 2;
          }
        break;
      case 'n':
        o->pid1 = false;
        break;
      case 's':
        o->share = optarg;
        break;
      case 'c':
        o->cgroup = optarg;
        cgroup_given = true;
        break;
      case 'r':
        if (parse_int64 (optarg, 0, 3600000, &ms) < 0)
          {
            fprintf (stderr, "hyrun-agent: bad --ready-timeout `%s`\n",
                     optarg);
            return 2;
          }
        o->ready_timeout_ms = (int) ms;
        break;
      case 'v':
        o->verbose = true;
        break;
      case 'h':
        usage (stdout);
        return 1;
      default:
        usage (stderr);
        return 2;
      }
  /* The kernel hands unknown `key=value` words of its command line to
   * init as environment: hyrun_verbose=1 turns logging up in a VM. */
  if (str_eq (getenv ("hyrun_verbose"), "1"))
    o->verbose = true;
  if (!o->pid1 && !cgroup_given)
    o->cgroup = NULL;
  if (optind != argc)
    {
      usage (stderr);
      return 2;
    }
  return 0;
}

int
main (int argc, char **argv)
{
  static struct agent a = {
    .o = { .pid1 = true,
           .share = DEFAULT_SHARE,
           .cgroup = DEFAULT_CGROUP,
           .ready_timeout_ms = 10000 },
    .epfd = -1,
    .fault_timer = { .fd = -1 },
  };
  int r = parse_options (argc, argv, &a.o);
  if (r != 0)
    return r == 1 ? 0 : r;
  if (a.o.pid1 && getpid () != 1)
    {
      fputs ("hyrun-agent: not PID 1: run it with --not-pid1 (test mode)\n",
             stderr);
      return 2;
    }
  hy_error_t err = NULL;
  if (setup (&a, &err) < 0 || run (&a, &err) < 0)
    {
      agent_log_error (NULL, &err);
      if (a.o.pid1)
        pid1_power_off ();
      return 1;
    }
  return 0;
}
