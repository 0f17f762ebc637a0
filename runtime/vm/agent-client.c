#include "runtime/vm/agent-client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent-protocol/frame.h"
#include "common/cleanup.h"
#include "common/util.h"

#define PROTOCOL_ERROR "guest agent: protocol error"

/* ---- time ---- */

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What is left of timeout_ms from `start` (-1: no limit). */
static int
remaining (int64_t start, int timeout_ms)
{
  if (timeout_ms < 0)
    return -1;
  int64_t left = start + timeout_ms - now_ms ();
  return left > 0 ? (int) left : 0;
}

/* Wait for `events` on fd; a timeout is an error naming `what`. */
static int
wait_fd (int fd, short events, int64_t start, int timeout_ms,
         const char *what, hy_error_t *err)
{
  for (;;)
    {
      struct pollfd p = { .fd = fd, .events = events };
      int r = poll (&p, 1, remaining (start, timeout_ms));
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return hy_error_errno (err, "poll");
      if (r == 0)
        return hy_error (err, ETIMEDOUT, "guest agent: no %s within %d ms",
                         what, timeout_ms);
      return 0;
    }
}

/* ---- transports ---- */

static int
unix_address (const char *path, struct sockaddr_un *sun, hy_error_t *err)
{
  *sun = (struct sockaddr_un){ .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof (sun->sun_path))
    return hy_error (err, ENAMETOOLONG, "socket path `%s` too long", path);
  strcpy (sun->sun_path, path);
  return 0;
}

static int
connect_unix (const char *path, hy_error_t *err)
{
  struct sockaddr_un sun;
  if (unix_address (path, &sun, err) < 0)
    return -1;
  _cleanup_close_ int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return hy_error_errno (err, "socket");
  if (connect (fd, (struct sockaddr *) &sun, sizeof (sun)) < 0)
    return hy_error_errno (err, "guest agent: connect to `%s`", path);
  return steal_fd (&fd);
}

/* Read the backend's answer line ("OK <n>\n") one byte at a time: the
 * agent's bytes may follow it at once. */
static int
read_connect_answer (int fd, uint32_t port, int64_t start, int timeout_ms,
                     hy_error_t *err)
{
  char line[64];
  size_t n = 0;
  while (n < sizeof (line) - 1)
    {
      if (wait_fd (fd, POLLIN, start, timeout_ms, "answer to CONNECT", err)
          < 0)
        return -1;
      ssize_t k = read (fd, line + n, 1);
      if (k < 0 && errno == EINTR)
        continue;
      if (k < 0)
        return hy_error_errno (err, "guest agent: read the answer to "
                                    "CONNECT %u", port);
      if (k == 0)
        return hy_error (err, ECONNREFUSED, "guest agent: port %u refused "
                                            "the connection", port);
      if (line[n++] == '\n')
        break;
    }
  line[n] = '\0';
  unsigned long long hostport;
  char *nl = strchr (line, '\n');
  if (nl == NULL || !str_has_prefix (line, "OK "))
    return hy_error (err, EPROTO, "guest agent: CONNECT %u answered \"%.*s\"",
                     port, (int) strcspn (line, "\n"), line);
  *nl = '\0';
  if (parse_uint64 (line + 3, &hostport) < 0)
    return hy_error (err, EPROTO, "guest agent: CONNECT %u answered \"%s\"",
                     port, line);
  return 0;
}

static int
connect_vsock (const char *uds, uint32_t port, int timeout_ms,
               hy_error_t *err)
{
  int64_t start = now_ms ();
  _cleanup_close_ int fd = connect_unix (uds, err);
  if (fd < 0)
    return -1;
  char line[32];
  int n = snprintf (line, sizeof (line), "CONNECT %u\n", port);
  if (send (fd, line, (size_t) n, MSG_NOSIGNAL) != n)
    return hy_error_errno (err, "guest agent: send CONNECT %u", port);
  if (read_connect_answer (fd, port, start, timeout_ms, err) < 0)
    return -1;
  return steal_fd (&fd);
}

int
hy_agent_connect (const struct hy_agent_transport *t, uint32_t port,
                  int timeout_ms, hy_error_t *err)
{
  if (t->kind == HY_AGENT_VSOCK)
    return connect_vsock (t->path, port, timeout_ms, err);
  _cleanup_free_ char *path = xasprintf ("%s/agent_%u", t->path, port);
  return connect_unix (path, err);
}

int
hy_agent_listen_ready (const struct hy_agent_transport *t, hy_error_t *err)
{
  _cleanup_free_ char *path
      = t->kind == HY_AGENT_VSOCK
            ? xasprintf ("%s_%u", t->path, HY_AGENT_PORT_CONTROL)
            : xasprintf ("%s/host_%u", t->path, HY_AGENT_PORT_CONTROL);
  struct sockaddr_un sun;
  if (unix_address (path, &sun, err) < 0)
    return -1;
  _cleanup_close_ int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return hy_error_errno (err, "socket");
  unlink (path);
  if (bind (fd, (struct sockaddr *) &sun, sizeof (sun)) < 0)
    return hy_error_errno (err, "bind `%s`", path);
  if (listen (fd, 4) < 0)
    return hy_error_errno (err, "listen on `%s`", path);
  return steal_fd (&fd);
}

int
hy_agent_accept_ready (int listen_fd, int timeout_ms, hy_error_t *err)
{
  if (wait_fd (listen_fd, POLLIN, now_ms (), timeout_ms, "ready connection",
               err) < 0)
    return -1;
  int fd = accept4 (listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "guest agent: accept the ready connection");
  return fd;
}

/* ---- control connections ---- */

struct pending
{
  uint32_t seq;
  enum hy_agent_request_kind kind;
};

struct hy_agent_conn
{
  int fd;
  char *kernel;
  struct hy_frame_reader reader;
  struct hy_frame_writer writer;
  uint32_t next_seq;
  struct pending *pending;
  size_t n_pending, cap_pending;
  hy_agent_response_cb on_response;
  hy_agent_event_cb on_event;
  void *data;
  /* The response a blocking call waits for. */
  uint32_t call_seq;
  bool call_done;
  struct hy_agent_response call_resp;
};

static int
protocol_error (hy_error_t *err)
{
  return hy_error_prepend (err, PROTOCOL_ERROR);
}

/* Read one frame within the deadline (the hello). */
static int
read_frame_blocking (struct hy_agent_conn *c, int64_t start, int timeout_ms,
                     char **body, size_t *len, hy_error_t *err)
{
  for (;;)
    {
      enum hy_frame_status s
          = hy_frame_read (&c->reader, c->fd, body, len, err);
      if (s == HY_FRAME_DONE)
        return 0;
      if (s == HY_FRAME_ERROR)
        return protocol_error (err);
      if (s == HY_FRAME_EOF)
        return hy_error (err, ECONNRESET, "guest agent: the connection "
                                          "closed before the hello");
      if (wait_fd (c->fd, POLLIN, start, timeout_ms, "hello", err) < 0)
        return -1;
    }
}

static int
read_hello (struct hy_agent_conn *c, int timeout_ms, hy_error_t *err)
{
  _cleanup_free_ char *body = NULL;
  size_t len;
  yajl_val doc = NULL;
  const char *type;
  if (read_frame_blocking (c, now_ms (), timeout_ms, &body, &len, err) < 0)
    return -1;
  if (hy_agent_parse (body, len, &doc, &type, err) < 0)
    return protocol_error (err);
  struct hy_agent_hello h = { 0 };
  int r = 0;
  if (!str_eq (type, "hello"))
    r = hy_error (err, EPROTO,
                  PROTOCOL_ERROR ": expected a hello, got \"%.64s\"", type);
  else if (hy_agent_hello_decode (doc, &h, err) < 0)
    r = protocol_error (err);
  else if (h.version != HY_AGENT_VERSION)
    r = hy_error (err, EPROTO, "guest agent: version %u, hyrun speaks %d",
                  h.version, HY_AGENT_VERSION);
  yajl_tree_free (doc);
  if (r == 0)
    c->kernel = steal_pointer (&h.kernel);
  hy_agent_hello_release (&h);
  return r;
}

int
hy_agent_conn_open (int fd, int timeout_ms, struct hy_agent_conn **out,
                    hy_error_t *err)
{
  struct hy_agent_conn *c = xmalloc0 (sizeof (*c));
  c->fd = fd;
  c->next_seq = 1;
  hy_frame_reader_init (&c->reader);
  hy_frame_writer_init (&c->writer);
  int fl = fcntl (fd, F_GETFL);
  if (fl < 0 || fcntl (fd, F_SETFL, fl | O_NONBLOCK) < 0)
    {
      hy_error_errno (err, "guest agent: make the connection non-blocking");
      hy_agent_conn_free (c);
      return -1;
    }
  if (read_hello (c, timeout_ms, err) < 0)
    {
      hy_agent_conn_free (c);
      return -1;
    }
  *out = c;
  return 0;
}

void
hy_agent_conn_free (struct hy_agent_conn *c)
{
  if (c == NULL)
    return;
  if (c->fd >= 0)
    close (c->fd);
  free (c->kernel);
  free (c->pending);
  hy_frame_reader_release (&c->reader);
  hy_frame_writer_release (&c->writer);
  hy_agent_response_release (&c->call_resp);
  free (c);
}

const char *
hy_agent_conn_kernel (const struct hy_agent_conn *c)
{
  return c->kernel;
}

void
hy_agent_conn_set_callbacks (struct hy_agent_conn *c,
                             hy_agent_response_cb on_response,
                             hy_agent_event_cb on_event, void *data)
{
  c->on_response = on_response;
  c->on_event = on_event;
  c->data = data;
}

int
hy_agent_conn_fd (const struct hy_agent_conn *c)
{
  return c->fd;
}

uint32_t
hy_agent_conn_events (const struct hy_agent_conn *c)
{
  return EPOLLIN | (hy_frame_writer_pending (&c->writer) ? EPOLLOUT : 0);
}

/* The members a kind needs, so that no half request goes out. */
static int
check_request (const struct hy_agent_request *req, hy_error_t *err)
{
  const char *name = (unsigned) req->kind < HY_AGENT_REQ_KINDS
                         ? hy_agent_request_names[req->kind]
                         : NULL;
  bool needs_id = req->kind == HY_AGENT_REQ_EXEC
                  || req->kind == HY_AGENT_REQ_SIGNAL
                  || req->kind == HY_AGENT_REQ_WAIT
                  || req->kind == HY_AGENT_REQ_RESIZE
                  || req->kind == HY_AGENT_REQ_CLOSE_STDIN;
  if (name == NULL)
    return hy_error (err, EINVAL, "guest agent: unknown request kind %d",
                     (int) req->kind);
  if (needs_id && (req->id == NULL || !hy_agent_id_valid (req->id)))
    return hy_error (err, EINVAL, "guest agent: %s: bad process id \"%s\"",
                     name, req->id ? req->id : "");
  if ((req->kind == HY_AGENT_REQ_CREATE && req->config == NULL)
      || (req->kind == HY_AGENT_REQ_EXEC && req->process == NULL))
    return hy_error (err, EINVAL, "guest agent: %s: nothing to run", name);
  return 0;
}

int
hy_agent_send (struct hy_agent_conn *c, struct hy_agent_request *req,
               hy_error_t *err)
{
  if (check_request (req, err) < 0)
    return -1;
  req->seq = c->next_seq++;
  if (c->next_seq == 0)
    c->next_seq = 1;
  size_t len;
  _cleanup_free_ char *body = hy_agent_request_encode (req, &len);
  if (hy_frame_writer_add (&c->writer, body, len, err) < 0)
    return hy_error_prepend (err, "guest agent: %s",
                             hy_agent_request_names[req->kind]);
  if (c->n_pending == c->cap_pending)
    {
      c->cap_pending = c->cap_pending ? 2 * c->cap_pending : 8;
      c->pending = xrealloc (c->pending, c->cap_pending * sizeof (*c->pending));
    }
  c->pending[c->n_pending++]
      = (struct pending){ .seq = req->seq, .kind = req->kind };
  return 0;
}

/* The kind of the pending request `seq`, taken off the list. */
static int
take_pending (struct hy_agent_conn *c, uint32_t seq,
              enum hy_agent_request_kind *kind, hy_error_t *err)
{
  for (size_t i = 0; i < c->n_pending; i++)
    if (c->pending[i].seq == seq)
      {
        *kind = c->pending[i].kind;
        c->pending[i] = c->pending[--c->n_pending];
        return 0;
      }
  return hy_error (err, EPROTO, PROTOCOL_ERROR ": a response to seq %u, "
                                "which is not outstanding", seq);
}

static int
on_response (struct hy_agent_conn *c, yajl_val doc, hy_error_t *err)
{
  uint32_t seq;
  enum hy_agent_request_kind kind = HY_AGENT_REQ_KINDS;
  struct hy_agent_response r;
  if (hy_agent_response_seq (doc, &seq, err) < 0)
    return protocol_error (err);
  if (take_pending (c, seq, &kind, err) < 0)
    return -1;
  if (hy_agent_response_decode (doc, kind, &r, err) < 0)
    return protocol_error (err);
  if (c->call_seq != 0 && seq == c->call_seq)
    {
      c->call_resp = r;
      c->call_done = true;
      return 0;
    }
  if (c->on_response)
    c->on_response (c->data, kind, &r);
  hy_agent_response_release (&r);
  return 0;
}

static int
on_frame (struct hy_agent_conn *c, const char *body, size_t len,
          hy_error_t *err)
{
  yajl_val doc = NULL;
  const char *type;
  if (hy_agent_parse (body, len, &doc, &type, err) < 0)
    return protocol_error (err);
  int r = 0;
  if (str_eq (type, "response"))
    r = on_response (c, doc, err);
  else
    {
      struct hy_agent_event ev;
      r = hy_agent_event_decode (doc, &ev, err);
      if (r < 0)
        r = protocol_error (err);
      else if (r > 0)
        {
          if (c->on_event)
            c->on_event (c->data, &ev);
          hy_agent_event_release (&ev);
          r = 0;
        }
    }
  yajl_tree_free (doc);
  return r;
}

int
hy_agent_conn_handle (struct hy_agent_conn *c, uint32_t events,
                      hy_error_t *err)
{
  if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
      && hy_frame_writer_pending (&c->writer)
      && hy_frame_writer_flush (&c->writer, c->fd, err) < 0)
    {
      /* The agent is gone; what it sent before may still be read. */
      if ((*err)->errnum != EPIPE && (*err)->errnum != ECONNRESET)
        return hy_error_prepend (err, "guest agent");
      hy_error_release (err);
      hy_frame_writer_release (&c->writer);
      events |= EPOLLIN;
    }
  if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
    return 0;
  for (;;)
    {
      char *body = NULL;
      size_t len = 0;
      enum hy_frame_status s = hy_frame_read (&c->reader, c->fd, &body, &len,
                                              err);
      if (s == HY_FRAME_AGAIN)
        return 0;
      if (s == HY_FRAME_EOF)
        return 1;
      if (s == HY_FRAME_ERROR)
        return protocol_error (err);
      int r = on_frame (c, body, len, err);
      free (body);
      if (r < 0)
        return -1;
    }
}

int
hy_agent_call (struct hy_agent_conn *c, struct hy_agent_request *req,
               int timeout_ms, struct hy_agent_response *resp,
               hy_error_t *err)
{
  int64_t start = now_ms ();
  if (hy_agent_send (c, req, err) < 0)
    return -1;
  c->call_seq = req->seq;
  c->call_done = false;
  int r = 0;
  while (r == 0 && !c->call_done)
    {
      uint32_t ev = hy_agent_conn_events (c);
      short want = (short) ((ev & EPOLLIN ? POLLIN : 0)
                            | (ev & EPOLLOUT ? POLLOUT : 0));
      struct pollfd p = { .fd = c->fd, .events = want };
      int n = poll (&p, 1, remaining (start, timeout_ms));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        r = hy_error_errno (err, "poll");
      else if (n == 0)
        r = hy_error (err, ETIMEDOUT, "guest agent: no answer to %s within "
                                      "%d ms",
                      hy_agent_request_names[req->kind], timeout_ms);
      else
        {
          uint32_t got = (p.revents & POLLIN ? EPOLLIN : 0)
                         | (p.revents & POLLOUT ? EPOLLOUT : 0)
                         | (p.revents & POLLERR ? EPOLLERR : 0)
                         | (p.revents & POLLHUP ? EPOLLHUP : 0);
          r = hy_agent_conn_handle (c, got, err);
          if (r > 0 && !c->call_done)
            r = hy_error (err, ECONNRESET, "guest agent: the connection "
                                           "closed before the answer to %s",
                          hy_agent_request_names[req->kind]);
        }
    }
  c->call_seq = 0;
  if (r < 0 && !c->call_done)
    return -1;
  *resp = c->call_resp;
  c->call_resp = (struct hy_agent_response){ 0 };
  if (resp->error)
    {
      hy_error (err, 0, "%s", resp->error);
      hy_agent_response_release (resp);
      return -1;
    }
  return 0;
}

/* ---- streams ---- */

int
hy_agent_attach (const struct hy_agent_transport *t, const char *id,
                 unsigned stream, int timeout_ms, hy_error_t *err)
{
  if (!hy_agent_id_valid (id) || hy_agent_stream_name (stream) == NULL)
    return hy_error (err, EINVAL, "guest agent: cannot attach stream %u of "
                                  "\"%s\"", stream, id);
  _cleanup_close_ int fd
      = hy_agent_connect (t, HY_AGENT_PORT_STREAMS, timeout_ms, err);
  if (fd < 0)
    return -1;
  size_t len;
  _cleanup_free_ char *body = hy_agent_attach_encode (id, stream, &len);
  struct hy_frame_writer w;
  hy_frame_writer_init (&w);
  int r = hy_frame_writer_add (&w, body, len, err);
  int64_t start = now_ms ();
  while (r == 0 && (r = hy_frame_writer_flush (&w, fd, err)) == 0)
    r = wait_fd (fd, POLLOUT, start, timeout_ms, "room for the attach", err);
  hy_frame_writer_release (&w);
  if (r < 0)
    return hy_error_prepend (err, "guest agent: attach to the %s of \"%s\"",
                             hy_agent_stream_name (stream), id);
  return steal_fd (&fd);
}
