/* hyrun-agent-ctl: drive a guest agent with hyrun's client library
 * (runtime/vm/agent-client.h), for the tests and by hand.
 *
 *   hyrun-agent-ctl --transport unix:DIR|vsock:UDS [--timeout MS]
 *                   [--share HOSTDIR] COMMAND
 *
 *   --share HOSTDIR   the directory the VM shares (9p): a root.path inside
 *                     it is given to the guest as /run/hyrun/share/...
 *
 *   ready                      accept the agent's ready connection, print
 *                              "kernel <release>"
 *   run --config FILE [--ready] [--stdin] [--resize ROWSxCOLS]
 *       [--attach-delay MS]    create (root.path relative to FILE's
 *                              directory is made absolute), attach the
 *                              streams, start, relay stdio, wait; exits
 *                              with the status (128 + signal)
 *   exec --id ID [--stdin] [--tty] [--resize ROWSxCOLS] [--attach-delay MS]
 *        (--process FILE | -- ARGS...)
 *                              the same for a further process
 *   signal ID SIGNAL [--all]   kill, `ps`, `stats`, `shutdown`,
 *   ps | stats | shutdown      `close-stdin ID`, `resize ID ROWS COLS`:
 *   close-stdin ID             one request each
 *   resize ID ROWS COLS
 *   raw [--stream] HEX         after the hello, send these bytes; print
 *                              "closed" when the agent closes the
 *                              connection, "open" when it does not;
 *                              --stream: on a stream connection (no hello)
 *
 * The process's stdout and stderr are this program's; with --tty the
 * terminal's output goes to stdout.  Errors: "agent-ctl: <error>", exit
 * status 125. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent-protocol/frame.h"
#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/vm/agent-client.h"

#define FAIL 125

static struct hy_agent_transport transport;
static int timeout_ms = 10000;
static const char *share;

#define GUEST_SHARE "/run/hyrun/share"

static int
die (hy_error_t *err)
{
  _cleanup_free_ char *text = hy_error_text (*err);
  fprintf (stderr, "agent-ctl: %s\n", text);
  hy_error_release (err);
  return FAIL;
}

static int
usage (void)
{
  fputs ("usage: hyrun-agent-ctl --transport unix:DIR|vsock:UDS [--timeout "
         "MS] ready|run|exec|signal|ps|stats|shutdown|close-stdin|resize|raw"
         " ...\n",
         stderr);
  return 2;
}

static int
open_control (bool ready, struct hy_agent_conn **c, hy_error_t *err)
{
  int fd;
  if (ready)
    {
      _cleanup_close_ int l = hy_agent_listen_ready (&transport, err);
      if (l < 0)
        return -1;
      fd = hy_agent_accept_ready (l, timeout_ms, err);
    }
  else
    fd = hy_agent_connect (&transport, HY_AGENT_PORT_CONTROL, timeout_ms,
                           err);
  if (fd < 0)
    return -1;
  return hy_agent_conn_open (fd, timeout_ms, c, err);
}

/* ---- one-request commands ---- */

static int
simple_request (struct hy_agent_request *req, struct hy_agent_response *resp,
                hy_error_t *err)
{
  struct hy_agent_conn *c = NULL;
  if (open_control (false, &c, err) < 0)
    return -1;
  int r = hy_agent_call (c, req, timeout_ms, resp, err);
  hy_agent_conn_free (c);
  return r;
}

static int
cmd_ready (hy_error_t *err)
{
  struct hy_agent_conn *c = NULL;
  if (open_control (true, &c, err) < 0)
    return FAIL;
  printf ("kernel %s\n", hy_agent_conn_kernel (c));
  hy_agent_conn_free (c);
  return 0;
}

static int
parse_signal (const char *s)
{
  long long v;
  if (parse_int64 (s, 1, 64, &v) == 0)
    return (int) v;
  static const struct
  {
    const char *name;
    int sig;
  } names[] = { { "KILL", SIGKILL }, { "TERM", SIGTERM }, { "INT", SIGINT },
                { "HUP", SIGHUP },   { "USR1", SIGUSR1 }, { "STOP", SIGSTOP },
                { "CONT", SIGCONT } };
  if (str_has_prefix (s, "SIG"))
    s += 3;
  for (size_t i = 0; i < sizeof (names) / sizeof (names[0]); i++)
    if (str_eq (s, names[i].name))
      return names[i].sig;
  return -1;
}

static int
cmd_simple (const char *verb, int argc, char **argv, hy_error_t *err)
{
  struct hy_agent_request req = { 0 };
  struct hy_agent_response resp = { 0 };
  long long rows, cols;
  if (str_eq (verb, "ps") && argc == 0)
    req.kind = HY_AGENT_REQ_PS;
  else if (str_eq (verb, "stats") && argc == 0)
    req.kind = HY_AGENT_REQ_STATS;
  else if (str_eq (verb, "shutdown") && argc == 0)
    req.kind = HY_AGENT_REQ_SHUTDOWN;
  else if (str_eq (verb, "close-stdin") && argc == 1)
    req = (struct hy_agent_request){ .kind = HY_AGENT_REQ_CLOSE_STDIN,
                                     .id = argv[0] };
  else if (str_eq (verb, "signal") && (argc == 2 || argc == 3))
    {
      req = (struct hy_agent_request){ .kind = HY_AGENT_REQ_SIGNAL,
                                       .id = argv[0],
                                       .signal = parse_signal (argv[1]),
                                       .all = argc == 3
                                              && str_eq (argv[2], "--all") };
      if (req.signal < 0 || (argc == 3 && !req.all))
        return usage ();
    }
  else if (str_eq (verb, "resize") && argc == 3
           && parse_int64 (argv[1], 0, 65535, &rows) == 0
           && parse_int64 (argv[2], 0, 65535, &cols) == 0)
    req = (struct hy_agent_request){ .kind = HY_AGENT_REQ_RESIZE,
                                     .id = argv[0],
                                     .rows = (uint16_t) rows,
                                     .cols = (uint16_t) cols };
  else
    return usage ();
  if (simple_request (&req, &resp, err) < 0)
    return die (err);
  if (req.kind == HY_AGENT_REQ_PS)
    {
      printf ("PID PPID UID STATE CMD\n");
      for (size_t i = 0; i < resp.n_processes; i++)
        {
          const struct hy_agent_ps_entry *e = &resp.processes[i];
          printf ("%d %d %u %c %s\n", e->pid, e->ppid, e->uid, e->state,
                  e->cmd);
        }
    }
  else if (req.kind == HY_AGENT_REQ_STATS)
    printf ("memory total=%llu free=%llu available=%llu pids=%llu "
            "cpu_ns=%llu\n",
            (unsigned long long) resp.mem_total,
            (unsigned long long) resp.mem_free,
            (unsigned long long) resp.mem_available,
            (unsigned long long) resp.pids,
            (unsigned long long) resp.cpu_ns);
  hy_agent_response_release (&resp);
  return 0;
}

/* ---- raw bytes ---- */

static int
cmd_raw (const char *hex, bool stream, hy_error_t *err)
{
  size_t n = strlen (hex);
  if (n % 2)
    return usage ();
  _cleanup_free_ unsigned char *bytes = xmalloc0 (n / 2 + 1);
  for (size_t i = 0; i < n / 2; i++)
    if (sscanf (hex + 2 * i, "%2hhx", &bytes[i]) != 1)
      return usage ();
  struct hy_agent_conn *c = NULL;
  _cleanup_close_ int stream_fd = -1;
  if (stream)
    stream_fd = hy_agent_connect (&transport, HY_AGENT_PORT_STREAMS,
                                  timeout_ms, err);
  if (stream ? stream_fd < 0 : open_control (false, &c, err) < 0)
    return die (err);
  int fd = stream ? stream_fd : hy_agent_conn_fd (c);
  if (send (fd, bytes, n / 2, MSG_NOSIGNAL) < 0 && errno != EPIPE)
    {
      hy_error_errno (err, "send");
      hy_agent_conn_free (c);
      return die (err);
    }
  /* Closed: EOF (or a reset) within the timeout. */
  struct pollfd p = { .fd = fd, .events = POLLIN };
  bool closed = false;
  char buf[4096];
  while (!closed && poll (&p, 1, timeout_ms) > 0)
    {
      ssize_t k = read (fd, buf, sizeof (buf));
      if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
        closed = true;
    }
  puts (closed ? "closed" : "open");
  hy_agent_conn_free (c);
  return 0;
}

/* ---- run and exec: the relay ---- */

struct session
{
  struct hy_agent_conn *conn;
  const char *id;
  unsigned streams;
  int out_fd, err_fd, in_fd, tty_fd; /* stream connections, -1: none */
  bool stdin_open;                   /* our stdin still feeds in_fd/tty */
  bool waited;
  int status;                        /* exit code, or 128 + signal */
  bool failed;
  hy_error_t err;
};

static void
on_response (void *data, enum hy_agent_request_kind kind,
             const struct hy_agent_response *r)
{
  struct session *s = data;
  if (kind != HY_AGENT_REQ_WAIT)
    return;
  if (r->error)
    {
      hy_error (&s->err, 0, "wait: %s", r->error);
      s->failed = true;
      return;
    }
  s->waited = true;
  s->status = r->signaled ? 128 + r->signal : r->exit_code;
}

static void
on_event (void *data, const struct hy_agent_event *e)
{
  (void) data;
  if (e->kind == HY_AGENT_EVENT_OOM)
    fprintf (stderr, "agent-ctl: event oom %s\n", e->id);
}

static int
attach_all (struct session *s, int delay_ms, hy_error_t *err)
{
  if (delay_ms > 0)
    usleep ((useconds_t) delay_ms * 1000);
  static const unsigned kinds[] = { HY_AGENT_STDIN, HY_AGENT_STDOUT,
                                    HY_AGENT_STDERR, HY_AGENT_TTY };
  int *fds[] = { &s->in_fd, &s->out_fd, &s->err_fd, &s->tty_fd };
  for (size_t i = 0; i < 4; i++)
    if (s->streams & kinds[i])
      {
        *fds[i] = hy_agent_attach (&transport, s->id, kinds[i], timeout_ms,
                                   err);
        if (*fds[i] < 0)
          return -1;
      }
  return 0;
}

static int
copy_out (int *fd, int to)
{
  char buf[65536];
  ssize_t n = read (*fd, buf, sizeof (buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  if (n <= 0)
    {
      close (*fd);
      *fd = -1;
      return 0;
    }
  for (ssize_t off = 0; off < n;)
    {
      ssize_t w = write (to, buf + off, (size_t) (n - off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return -1;
      off += w;
    }
  return 0;
}

/* Our stdin to the process (stdin stream or terminal); EOF closes the
 * stdin stream's writing side, which is the process's EOF. */
static void
copy_in (struct session *s)
{
  char buf[65536];
  int to = s->in_fd >= 0 ? s->in_fd : s->tty_fd;
  ssize_t n = read (STDIN_FILENO, buf, sizeof (buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      s->stdin_open = false;
      if (s->in_fd >= 0)
        shutdown (s->in_fd, SHUT_WR);
      return;
    }
  for (ssize_t off = 0; off < n;)
    {
      ssize_t w = send (to, buf + off, (size_t) (n - off), MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        {
          s->stdin_open = false;
          return;
        }
      off += w;
    }
}

static bool
relaying (const struct session *s)
{
  return !s->failed
         && (!s->waited || s->out_fd >= 0 || s->err_fd >= 0
             || s->tty_fd >= 0);
}

static int
relay (struct session *s, hy_error_t *err)
{
  while (relaying (s))
    {
      struct pollfd p[5];
      int n = 0;
      uint32_t ev = hy_agent_conn_events (s->conn);
      p[n++] = (struct pollfd){ .fd = hy_agent_conn_fd (s->conn),
                                .events = (short) (POLLIN | (ev & EPOLLOUT
                                                             ? POLLOUT
                                                             : 0)) };
      p[n++] = (struct pollfd){ .fd = s->out_fd, .events = POLLIN };
      p[n++] = (struct pollfd){ .fd = s->err_fd, .events = POLLIN };
      p[n++] = (struct pollfd){ .fd = s->tty_fd, .events = POLLIN };
      p[n++] = (struct pollfd){ .fd = s->stdin_open ? STDIN_FILENO : -1,
                                .events = POLLIN };
      if (poll (p, (nfds_t) n, -1) < 0 && errno != EINTR)
        return hy_error_errno (err, "poll");
      if (p[0].revents)
        {
          uint32_t got = (p[0].revents & POLLIN ? EPOLLIN : 0)
                         | (p[0].revents & POLLOUT ? EPOLLOUT : 0)
                         | (p[0].revents & (POLLERR | POLLHUP) ? EPOLLHUP
                                                                : 0);
          int r = hy_agent_conn_handle (s->conn, got, err);
          if (r < 0)
            return -1;
          if (r > 0 && !s->waited)
            return hy_error (err, ECONNRESET, "the agent closed the "
                                              "connection");
        }
      if ((p[1].revents && copy_out (&s->out_fd, STDOUT_FILENO) < 0)
          || (p[2].revents && copy_out (&s->err_fd, STDERR_FILENO) < 0)
          || (p[3].revents && copy_out (&s->tty_fd, STDOUT_FILENO) < 0))
        return hy_error_errno (err, "write our output");
      if (p[4].revents)
        copy_in (s);
    }
  if (s->failed)
    {
      *err = steal_pointer (&s->err);
      return -1;
    }
  return 0;
}

static int
resize_request (struct session *s, const char *spec, hy_error_t *err)
{
  unsigned rows, cols;
  if (spec == NULL)
    return 0;
  if (sscanf (spec, "%ux%u", &rows, &cols) != 2)
    return hy_error (err, EINVAL, "bad --resize `%s`", spec);
  struct hy_agent_request req = { .kind = HY_AGENT_REQ_RESIZE,
                                  .id = (char *) s->id,
                                  .rows = (uint16_t) rows,
                                  .cols = (uint16_t) cols };
  struct hy_agent_response resp;
  if (hy_agent_call (s->conn, &req, timeout_ms, &resp, err) < 0)
    return -1;
  hy_agent_response_release (&resp);
  return 0;
}

struct run_opts
{
  bool ready, with_stdin, tty;
  const char *resize;
  int attach_delay;
  const char *file; /* config or process */
  char **args;      /* exec -- ARGS */
  const char *id;
};

static unsigned
streams_for (bool terminal, bool with_stdin)
{
  if (terminal)
    return HY_AGENT_TTY;
  return HY_AGENT_STDOUT | HY_AGENT_STDERR
         | (with_stdin ? HY_AGENT_STDIN : 0);
}

static int
send_and_wait (struct session *s, struct hy_agent_request *req,
               hy_error_t *err)
{
  struct hy_agent_response resp;
  if (hy_agent_call (s->conn, req, timeout_ms, &resp, err) < 0)
    return -1;
  hy_agent_response_release (&resp);
  return 0;
}

/* After the process is made: streams, (start), resize, wait, relay. */
static int
drive (struct session *s, const struct run_opts *o, bool start,
       hy_error_t *err)
{
  if (attach_all (s, o->attach_delay, err) < 0)
    return -1;
  s->stdin_open = (s->streams & (HY_AGENT_STDIN | HY_AGENT_TTY)) != 0;
  if (s->tty_fd >= 0 && !o->with_stdin)
    s->stdin_open = false;
  struct hy_agent_request req = { .kind = HY_AGENT_REQ_START };
  if (start && send_and_wait (s, &req, err) < 0)
    return -1;
  if (resize_request (s, o->resize, err) < 0)
    return -1;
  req = (struct hy_agent_request){ .kind = HY_AGENT_REQ_WAIT,
                                   .id = (char *) s->id };
  if (hy_agent_send (s->conn, &req, err) < 0)
    return -1;
  return relay (s, err);
}

static void
session_close (struct session *s)
{
  int *fds[] = { &s->in_fd, &s->out_fd, &s->err_fd, &s->tty_fd };
  for (size_t i = 0; i < 4; i++)
    if (*fds[i] >= 0)
      close (*fds[i]);
  hy_agent_conn_free (s->conn);
  hy_error_release (&s->err);
}

/* root.path as the agent sees it: absolute, and inside the VM's share
 * with --share. */
static int
guest_root_path (const char *file, char **path, hy_error_t *err)
{
  _cleanup_free_ char *copy = xstrdup (file);
  char dir[PATH_MAX], shared[PATH_MAX];
  if (**path != '/')
    {
      if (realpath (dirname (copy), dir) == NULL)
        return hy_error_errno (err, "realpath `%s`", file);
      char *abs = xasprintf ("%s/%s", dir, *path);
      free (*path);
      *path = abs;
    }
  if (share == NULL)
    return 0;
  if (realpath (share, shared) == NULL)
    return hy_error_errno (err, "realpath `%s`", share);
  size_t n = strlen (shared);
  if (strncmp (*path, shared, n) != 0 || (*path)[n] != '/')
    return hy_error (err, EINVAL, "root.path `%s` is not in the share `%s`",
                     *path, shared);
  char *guest = xasprintf (GUEST_SHARE "%s", *path + n);
  free (*path);
  *path = guest;
  return 0;
}

static int
load_config (const char *file, struct oci_config **c, hy_error_t *err)
{
  if (oci_config_load_file (file, c, err) < 0)
    return -1;
  return (*c)->root ? guest_root_path (file, &(*c)->root->path, err) : 0;
}

static int
do_run (const struct run_opts *o, int *status, hy_error_t *err)
{
  _cleanup_config_ struct oci_config *config = NULL;
  if (load_config (o->file, &config, err) < 0)
    return -1;
  if (config->process == NULL)
    return hy_error (err, EINVAL, "%s has no process", o->file);
  struct session s = { .id = "init", .out_fd = -1, .err_fd = -1,
                       .in_fd = -1, .tty_fd = -1 };
  s.streams = streams_for (config->process->terminal, o->with_stdin);
  int r = open_control (o->ready, &s.conn, err);
  if (r == 0)
    {
      hy_agent_conn_set_callbacks (s.conn, on_response, on_event, &s);
      struct hy_agent_request req = { .kind = HY_AGENT_REQ_CREATE,
                                      .config = config,
                                      .streams = s.streams };
      r = send_and_wait (&s, &req, err);
    }
  if (r == 0)
    r = drive (&s, o, true, err);
  *status = s.status;
  session_close (&s);
  return r;
}

static struct oci_process *
process_from_args (char **args, bool tty)
{
  struct oci_process *p = xmalloc0 (sizeof (*p));
  p->args = strv_dup (args);
  p->cwd = xstrdup ("/");
  p->terminal = tty;
  char *env[] = { (char *) "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                           "/usr/bin:/sbin:/bin",
                  (char *) "TERM=xterm", NULL };
  p->env = strv_dup (env);
  return p;
}

static int
do_exec (const struct run_opts *o, int *status, hy_error_t *err)
{
  _cleanup_process_ struct oci_process *proc = NULL;
  if (o->file)
    {
      _cleanup_free_ char *text = NULL;
      if (read_file_at (AT_FDCWD, o->file, 1 << 20, &text, NULL, err) < 0
          || oci_process_parse (text, o->file, &proc, err) < 0)
        return -1;
    }
  else
    proc = process_from_args (o->args, o->tty);
  struct session s = { .id = o->id, .out_fd = -1, .err_fd = -1,
                       .in_fd = -1, .tty_fd = -1 };
  s.streams = streams_for (proc->terminal, o->with_stdin);
  int r = open_control (false, &s.conn, err);
  if (r == 0)
    {
      hy_agent_conn_set_callbacks (s.conn, on_response, on_event, &s);
      struct hy_agent_request req = { .kind = HY_AGENT_REQ_EXEC,
                                      .id = (char *) o->id,
                                      .process = proc,
                                      .streams = s.streams };
      r = send_and_wait (&s, &req, err);
    }
  if (r == 0)
    r = drive (&s, o, false, err);
  *status = s.status;
  session_close (&s);
  return r;
}

static int
cmd_run_or_exec (bool exec, int argc, char **argv, hy_error_t *err)
{
  static const struct option longopts[] = {
    { "config", required_argument, NULL, 'c' },
    { "process", required_argument, NULL, 'p' },
    { "id", required_argument, NULL, 'i' },
    { "ready", no_argument, NULL, 'r' },
    { "stdin", no_argument, NULL, 's' },
    { "tty", no_argument, NULL, 't' },
    { "resize", required_argument, NULL, 'z' },
    { "attach-delay", required_argument, NULL, 'd' },
    { NULL, 0, NULL, 0 },
  };
  struct run_opts o = { 0 };
  int opt;
  optind = 1;
  while ((opt = getopt_long (argc, argv, "+", longopts, NULL)) != -1)
    switch (opt)
      {
      case 'c':
      case 'p':
        o.file = optarg;
        break;
      case 'i':
        o.id = optarg;
        break;
      case 'r':
        o.ready = true;
        break;
      case 's':
        o.with_stdin = true;
        break;
      case 't':
        o.tty = true;
        break;
      case 'z':
        o.resize = optarg;
        break;
      case 'd':
        o.attach_delay = atoi (optarg);
        break;
      default:
        return usage ();
      }
  o.args = argv + optind;
  if (exec ? (o.id == NULL || (o.file == NULL && *o.args == NULL))
           : (o.file == NULL || *o.args))
    return usage ();
  int status = 0;
  if ((exec ? do_exec (&o, &status, err) : do_run (&o, &status, err)) < 0)
    return die (err);
  return status;
}

int
main (int argc, char **argv)
{
  static const struct option longopts[] = {
    { "transport", required_argument, NULL, 't' },
    { "timeout", required_argument, NULL, 'T' },
    { "share", required_argument, NULL, 'S' },
    { NULL, 0, NULL, 0 },
  };
  int opt;
  long long ms;
  signal (SIGPIPE, SIG_IGN);
  while ((opt = getopt_long (argc, argv, "+", longopts, NULL)) != -1)
    switch (opt)
      {
      case 't':
        if (str_has_prefix (optarg, "unix:"))
          transport = (struct hy_agent_transport){ HY_AGENT_UNIX_DIR,
                                                   optarg + 5 };
        else if (str_has_prefix (optarg, "vsock:"))
          transport = (struct hy_agent_transport){ HY_AGENT_VSOCK,
                                                   optarg + 6 };
        else
          return usage ();
        break;
      case 'T':
        if (parse_int64 (optarg, 1, 3600000, &ms) < 0)
          return usage ();
        timeout_ms = (int) ms;
        break;
      case 'S':
        share = optarg;
        break;
      default:
        return usage ();
      }
  if (transport.path == NULL || optind >= argc)
    return usage ();
  const char *verb = argv[optind];
  int rest_c = argc - optind - 1;
  char **rest_v = argv + optind + 1;
  hy_error_t err = NULL;
  if (str_eq (verb, "ready") && rest_c == 0)
    return cmd_ready (&err) == 0 ? 0 : die (&err);
  if (str_eq (verb, "run") || str_eq (verb, "exec"))
    return cmd_run_or_exec (str_eq (verb, "exec"), rest_c + 1, rest_v - 1,
                            &err);
  if (str_eq (verb, "raw") && rest_c == 1)
    return cmd_raw (rest_v[0], false, &err);
  if (str_eq (verb, "raw") && rest_c == 2 && str_eq (rest_v[0], "--stream"))
    return cmd_raw (rest_v[1], true, &err);
  return cmd_simple (verb, rest_c, rest_v, &err);
}
