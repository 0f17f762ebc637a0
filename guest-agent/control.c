/* Control connections: the hello, request frames in, response frames out.
 * A frame that cannot be read as a request with a seq closes the
 * connection; a request whose members are wrong is answered with the
 * error. */
#include "guest-agent/agent.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

/* Stop reading requests while this much output waits for the host. */
#define OUTPUT_HIGH_WATER (4u * 1024u * 1024u)

static void
conn_update (struct conn *c)
{
  if (c->dead)
    return;
  uint32_t ev = 0;
  if (hy_frame_writer_pending (&c->writer) < OUTPUT_HIGH_WATER)
    ev |= EPOLLIN;
  if (hy_frame_writer_pending (&c->writer) > 0)
    ev |= EPOLLOUT;
  agent_watch (c->agent, &c->w, ev);
}

static void
conn_close (struct conn *c, const char *why)
{
  if (c->dead)
    return;
  if (why)
    agent_log ("control connection%s: %s", c->ready ? " (ready)" : "", why);
  agent_watch (c->agent, &c->w, 0);
  close (c->w.fd);
  c->w.fd = -1;
  c->dead = true;
  procs_forget_conn (c->agent, c);
}

static void
conn_close_error (struct conn *c, hy_error_t *err)
{
  _cleanup_free_ char *text = hy_error_text (*err);
  hy_error_release (err);
  conn_close (c, text);
}

static void
queue (struct conn *c, char *body, size_t len)
{
  hy_error_t err = NULL;
  if (c->dead)
    {
      free (body);
      return;
    }
  int r = hy_frame_writer_add (&c->writer, body, len, &err);
  free (body);
  if (r < 0 || hy_frame_writer_flush (&c->writer, c->w.fd, &err) < 0)
    {
      conn_close_error (c, &err);
      return;
    }
  conn_update (c);
}

void
control_respond (struct conn *c, enum hy_agent_request_kind kind,
                 const struct hy_agent_response *r)
{
  size_t len;
  char *body = hy_agent_response_encode (r, kind, &len);
  queue (c, body, len);
}

void
control_respond_error (struct conn *c, uint32_t seq,
                       enum hy_agent_request_kind kind, const hy_error_t e)
{
  _cleanup_free_ char *text = hy_error_text (e);
  const struct hy_agent_response r = { .seq = seq, .error = text };
  control_respond (c, kind, &r);
}

void
control_event (struct agent *a, const char *body, size_t len)
{
  for (struct conn *c = a->conns; c; c = c->next)
    if (c->ready && !c->dead)
      {
        queue (c, xstrndup (body, len), len);
        return;
      }
}

/* ---- requests ---- */

/* Flush the answer, then wait (a bounded time) for the host to close the
 * connection: a reboot right away could lose the answer in the device's
 * queues. */
static void
answer_before_power_off (struct conn *c)
{
  hy_error_t ignored = NULL;
  int64_t waited = 0;
  while (hy_frame_writer_pending (&c->writer) > 0 && waited < 1000)
    {
      if (hy_frame_writer_flush (&c->writer, c->w.fd, &ignored) < 0)
        break;
      struct pollfd p = { .fd = c->w.fd, .events = POLLOUT };
      poll (&p, 1, 10);
      waited += 10;
    }
  hy_error_release (&ignored);
  shutdown (c->w.fd, SHUT_WR);
  char buf[256];
  for (; waited < 1000; waited += 10)
    {
      struct pollfd p = { .fd = c->w.fd, .events = POLLIN };
      if (poll (&p, 1, 10) > 0 && read (c->w.fd, buf, sizeof (buf)) <= 0)
        break;
    }
}

static int
do_shutdown (struct agent *a, struct conn *c, uint32_t seq)
{
  const struct hy_agent_response r = { .seq = seq };
  control_respond (c, HY_AGENT_REQ_SHUTDOWN, &r);
  if (!a->o.pid1)
    {
      a->stop = true;
      return 0;
    }
  if (!c->dead)
    answer_before_power_off (c);
  pid1_power_off ();
}

/* Run a request; *answered when it was answered (or will be, deferred). */
static int
dispatch (struct agent *a, struct conn *c, struct hy_agent_request *req,
          struct hy_agent_response *resp, bool *answered, hy_error_t *err)
{
  *answered = false;
  switch (req->kind)
    {
    case HY_AGENT_REQ_CREATE:
      return container_create (a, req, resp, err);
    case HY_AGENT_REQ_START:
      return container_start (a, c, req->seq, answered, err);
    case HY_AGENT_REQ_EXEC:
      return container_exec (a, req, resp, err);
    case HY_AGENT_REQ_SIGNAL:
      return container_signal (a, req->id, req->signal, req->all, err);
    case HY_AGENT_REQ_WAIT:
      *answered = true;
      return container_wait (a, c, req->seq, req->id, err);
    case HY_AGENT_REQ_RESIZE:
      return container_resize (a, req->id, req->rows, req->cols, err);
    case HY_AGENT_REQ_CLOSE_STDIN:
      return container_close_stdin (a, req->id, err);
    case HY_AGENT_REQ_PS:
      return procfs_ps (a, resp, err);
    case HY_AGENT_REQ_STATS:
      return procfs_stats (a, resp, err);
    case HY_AGENT_REQ_SHUTDOWN:
      *answered = true;
      return do_shutdown (a, c, req->seq);
    case HY_AGENT_REQ_KINDS:
      break;
    }
  return hy_error (err, ENOTSUP, "unknown request");
}

static void
handle_request (struct conn *c, yajl_val doc)
{
  struct agent *a = c->agent;
  struct hy_agent_request req;
  struct hy_agent_response resp = { 0 };
  bool answerable = false, answered = false;
  hy_error_t err = NULL;
  if (hy_agent_request_decode (doc, &req, &answerable, &err) < 0)
    {
      if (!answerable)
        return conn_close_error (c, &err);
      control_respond_error (c, req.seq, req.kind, err);
      hy_error_release (&err);
      return;
    }
  resp.seq = req.seq;
  if (fault_on_request (c, &req))
    {
      hy_agent_request_release (&req);
      return;
    }
  int r = dispatch (a, c, &req, &resp, &answered, &err);
  if (r < 0)
    {
      control_respond_error (c, req.seq, req.kind, err);
      if (a->o.verbose)
        agent_log_error (hy_agent_request_names[req.kind], &err);
      hy_error_release (&err);
    }
  else if (!answered)
    control_respond (c, req.kind, &resp);
  hy_agent_response_release (&resp);
  hy_agent_request_release (&req);
}

static void
handle_frame (struct conn *c, char *body, size_t len)
{
  yajl_val doc = NULL;
  const char *type = NULL;
  hy_error_t err = NULL;
  if (hy_agent_parse (body, len, &doc, &type, &err) < 0)
    return conn_close_error (c, &err);
  handle_request (c, doc);
  yajl_tree_free (doc);
}

static void
on_conn (struct hy_vm_watch *w, uint32_t events)
{
  struct conn *c = container_of (w, struct conn, w);
  hy_error_t err = NULL;
  if ((events & EPOLLOUT)
      && hy_frame_writer_flush (&c->writer, c->w.fd, &err) < 0)
    return conn_close_error (c, &err);
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
    {
      /* One frame per wakeup: level-triggered epoll comes back for more,
       * and other connections get their turn. */
      char *body = NULL;
      size_t len = 0;
      enum hy_frame_status s = hy_frame_read (&c->reader, c->w.fd, &body,
                                              &len, &err);
      if (s == HY_FRAME_ERROR)
        return conn_close_error (c, &err);
      if (s == HY_FRAME_EOF)
        return conn_close (c, c->ready ? "closed by the host" : NULL);
      if (s == HY_FRAME_DONE)
        {
          handle_frame (c, body, len);
          free (body);
        }
    }
  conn_update (c);
}

int
control_accept (struct agent *a, int fd, bool ready, hy_error_t *err)
{
  struct conn *c = xmalloc0 (sizeof (*c));
  c->agent = a;
  c->ready = ready;
  c->w = (struct hy_vm_watch){ .fd = fd, .cb = on_conn };
  hy_frame_reader_init (&c->reader);
  hy_frame_writer_init (&c->writer);
  c->next = a->conns;
  a->conns = c;
  size_t len;
  char *hello = fault_hello (a, &len);
  if (hello == NULL)
    hello = hy_agent_hello_encode (a->kernel, &len);
  queue (c, hello, len);
  if (c->dead)
    return hy_error (err, EPIPE, "the host closed the connection at once");
  return 0;
}
