/* Stream connections (port 1025): one attach frame, then raw bytes pumped
 * between the connection and the process's side (a pipe end or the pty
 * master), PUMP_BUF at a time: a pump stops reading while its buffer is
 * full, so a slow reader holds back the writer (and the process blocks on
 * its full pipe) instead of the agent buffering without end.
 *
 * A pump ends when its source reached EOF and its buffer is written (or
 * its destination is gone: then it drains the source into nothing so the
 * process never blocks on output nobody reads).  An endpoint closes once
 * no pump needs it; for output, that close is what the host sees as the
 * end of the stream. */
#include "guest-agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

/* ---- endpoints ---- */

static bool
endpoint_needed (const struct endpoint *e)
{
  return (e->reader && e->reader->src_open)
         || (e->writer && e->writer->dst_open);
}

static void
stream_check_dead (struct stream *s);

static void
endpoint_update (struct endpoint *e)
{
  struct stream *s = e->stream;
  if (e->w.fd < 0)
    return;
  if (!endpoint_needed (e))
    {
      agent_watch (s->agent, &e->w, 0);
      close (e->w.fd);
      e->w.fd = -1;
      stream_check_dead (s);
      return;
    }
  /* EPOLLERR is always reported; asking for it keeps an idle endpoint
   * registered, so that a pipe losing its readers or a connection reset
   * is seen. */
  uint32_t ev = EPOLLERR;
  struct pump *r = e->reader, *w = e->writer;
  if (r && r->src_open && r->len < PUMP_BUF)
    ev |= EPOLLIN;
  if (w && w->dst_open && w->len > 0)
    ev |= EPOLLOUT;
  agent_watch (s->agent, &e->w, ev);
}

/* ---- pumps ---- */

static void
pump_update (struct pump *p)
{
  endpoint_update (p->src);
  endpoint_update (p->dst);
}

/* No more output: tell the other side (EOF) by ending our writing. */
static void
pump_finish_if_done (struct pump *p)
{
  if (p->src_open || !p->dst_open || p->len > 0)
    return;
  p->dst_open = false;
  struct endpoint *d = p->dst;
  if (d->is_socket && d->w.fd >= 0 && endpoint_needed (d))
    shutdown (d->w.fd, SHUT_WR);
}

static void
pump_write (struct pump *p)
{
  while (p->dst_open && p->len > 0)
    {
      ssize_t n = p->dst->is_socket
                      ? send (p->dst->w.fd, p->buf + p->off, p->len,
                              MSG_NOSIGNAL | MSG_DONTWAIT)
                      : write (p->dst->w.fd, p->buf + p->off, p->len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      if (n <= 0)
        {
          /* The reader is gone (EPIPE, reset): drain into nothing. */
          p->dst_open = false;
          p->len = p->off = 0;
          break;
        }
      p->off += (size_t) n;
      p->len -= (size_t) n;
    }
  if (p->len == 0)
    p->off = 0;
  pump_finish_if_done (p);
}

static void
pump_read (struct pump *p)
{
  if (!p->src_open)
    return;
  if (p->off > 0 && p->len > 0)
    {
      memmove (p->buf, p->buf + p->off, p->len);
      p->off = 0;
    }
  size_t room = PUMP_BUF - p->off - p->len;
  if (room == 0)
    return;
  ssize_t n;
  do
    n = read (p->src->w.fd, p->buf + p->off + p->len, room);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return;
  if (n <= 0)
    {
      /* EOF, or EIO from a pty master whose slaves are all closed. */
      p->src_open = false;
      pump_finish_if_done (p);
      return;
    }
  if (p->dst_open)
    p->len += (size_t) n;
  pump_write (p);
}

/* A hang-up or error with nothing left to read from the fd: whoever was
 * to get our bytes is gone too (a pipe without readers, a reset
 * connection, a pty master whose slave side closed). */
static bool
peer_gone (const struct endpoint *e, uint32_t events)
{
  if (events & EPOLLERR)
    return true;
  return (events & EPOLLHUP) && (e->reader == NULL || !e->reader->src_open);
}

static void
on_endpoint (struct hy_vm_watch *w, uint32_t events)
{
  struct endpoint *e = container_of (w, struct endpoint, w);
  struct pump *r = e->reader, *wr = e->writer;
  if (r && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
    pump_read (r);
  if (wr && wr->dst_open && (events & EPOLLOUT))
    pump_write (wr);
  if (wr && wr->dst_open && peer_gone (e, events))
    {
      wr->dst_open = false;
      wr->len = wr->off = 0;
      pump_finish_if_done (wr);
    }
  struct stream *s = e->stream;
  if (r)
    pump_update (r);
  if (wr)
    pump_update (wr);
  proc_update (s->proc);
}

/* ---- streams ---- */

static void
stream_check_dead (struct stream *s)
{
  if (s->conn.w.fd >= 0 || s->local.w.fd >= 0 || s->dead)
    return;
  s->dead = true;
  for (int i = 0; i < SLOTS; i++)
    if (s->proc && s->proc->stream[i] == s)
      s->proc->stream[i] = NULL;
}

bool
stream_output_done (const struct stream *s)
{
  return s == NULL || !s->has_out || (!s->out.src_open && !s->out.dst_open)
         || s->dead;
}

void
stream_close_input (struct stream *s)
{
  if (s == NULL || !s->has_in || !s->in.src_open)
    return;
  s->in.src_open = false;
  pump_finish_if_done (&s->in);
  /* stdin's pipe is no socket: its end is the close. */
  pump_update (&s->in);
}

static void
set_endpoint (struct stream *s, struct endpoint *e, int fd, bool is_socket)
{
  *e = (struct endpoint){ .w = { .fd = fd, .cb = on_endpoint },
                          .stream = s,
                          .is_socket = is_socket };
}

static void
set_pump (struct pump *p, struct endpoint *src, struct endpoint *dst)
{
  p->src = src;
  p->dst = dst;
  p->src_open = p->dst_open = true;
  src->reader = p;
  dst->writer = p;
}

static int
slot_of (unsigned kind)
{
  switch (kind)
    {
    case HY_AGENT_STDIN:
      return SLOT_STDIN;
    case HY_AGENT_STDOUT:
      return SLOT_STDOUT;
    case HY_AGENT_STDERR:
      return SLOT_STDERR;
    default:
      return SLOT_TTY;
    }
}

static void
start_stream (struct agent *a, struct proc *p, unsigned kind, int conn_fd)
{
  int slot = slot_of (kind);
  struct stream *s = xmalloc0 (sizeof (*s));
  s->agent = a;
  s->proc = p;
  s->kind = kind;
  set_endpoint (s, &s->conn, conn_fd, true);
  set_endpoint (s, &s->local, steal_fd (&p->local_fd[slot]), false);
  s->has_out = kind != HY_AGENT_STDIN;
  s->has_in = kind == HY_AGENT_STDIN || kind == HY_AGENT_TTY;
  if (s->has_out)
    set_pump (&s->out, &s->local, &s->conn);
  if (s->has_in)
    set_pump (&s->in, &s->conn, &s->local);
  s->next = a->streams;
  a->streams = s;
  p->stream[slot] = s;
  p->attached |= kind;
  endpoint_update (&s->conn);
  endpoint_update (&s->local);
  proc_update (p);
}

/* ---- attach connections ---- */

struct attaching
{
  struct hy_vm_watch w;
  struct agent *agent;
  struct hy_frame_reader reader;
};

/* Nothing else points to an attaching connection, and epoll reports its
 * fd once per batch: it can go at once. */
static void
attaching_free (struct attaching *at)
{
  hy_frame_reader_release (&at->reader);
  free (at);
}

static int
attach (struct agent *a, yajl_val doc, int fd, hy_error_t *err)
{
  struct hy_agent_attach at;
  if (hy_agent_attach_decode (doc, &at, err) < 0)
    return -1;
  struct proc *p = proc_find (a, at.id);
  const char *name = hy_agent_stream_name (at.stream);
  int r = 0;
  if (p == NULL)
    r = hy_error (err, ESRCH, "attach: no process \"%s\"", at.id);
  else if (!(p->streams & at.stream))
    r = hy_error (err, EINVAL, "attach: process \"%s\" has no %s stream",
                  at.id, name);
  else if (p->attached & at.stream)
    r = hy_error (err, EBUSY, "attach: the %s of \"%s\" is attached already",
                  name, at.id);
  else if (p->local_fd[slot_of (at.stream)] < 0)
    r = hy_error (err, EPIPE, "attach: the %s of \"%s\" is gone", name,
                  at.id);
  if (r == 0)
    start_stream (a, p, at.stream, fd);
  hy_agent_attach_release (&at);
  return r;
}

static void
on_attaching (struct hy_vm_watch *w, uint32_t events)
{
  (void) events;
  struct attaching *at = container_of (w, struct attaching, w);
  char *body = NULL;
  size_t len = 0;
  hy_error_t err = NULL;
  enum hy_frame_status s
      = hy_frame_read (&at->reader, at->w.fd, &body, &len, &err);
  if (s == HY_FRAME_AGAIN)
    return;
  /* Out of the epoll set before the fd joins it again as a stream. */
  agent_watch (at->agent, &at->w, 0);
  yajl_val doc = NULL;
  const char *type;
  int fd = at->w.fd;
  bool taken = false;
  if (s == HY_FRAME_DONE && hy_agent_parse (body, len, &doc, &type, &err) == 0
      && attach (at->agent, doc, fd, &err) == 0)
    taken = true;
  if (!taken && err)
    agent_log_error ("stream connection refused", &err);
  if (!taken)
    close (fd);
  hy_error_release (&err);
  if (doc)
    yajl_tree_free (doc);
  free (body);
  attaching_free (at);
}

int
streams_accept (struct agent *a, int fd, hy_error_t *err)
{
  (void) err;
  struct attaching *at = xmalloc0 (sizeof (*at));
  at->agent = a;
  at->w = (struct hy_vm_watch){ .fd = fd, .cb = on_attaching };
  hy_frame_reader_init (&at->reader);
  agent_watch (a, &at->w, EPOLLIN);
  return 0;
}
