#include "runtime/vm/vsock/vsock.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/vm/vhost-user/vhost-user.h"

#define CTRL_QUEUE_LEN 1024
/* Control packets one tx packet can cause at most, with margin. */
#define CTRL_RESERVE 4
#define FIRST_HOST_PORT (1u << 30)

enum conn_state
{
  CONN_HOST_LINE,       /* host client: waiting for "CONNECT <port>\n" */
  CONN_GUEST_CONNECTING, /* REQUEST sent to the guest, no answer yet */
  CONN_ESTABLISHED,
};

struct conn
{
  struct hy_vm_watch w; /* the UNIX socket */
  struct vsock *vs;
  struct conn *next;
  enum conn_state state;
  bool dead;
  uint32_t host_port, guest_port;
  /* host -> guest */
  uint32_t peer_buf_alloc, peer_fwd_cnt, rx_cnt;
  bool readable;         /* the UNIX socket has data or EOF for us */
  bool host_eof;         /* the host sends no more: SHUTDOWN sent */
  bool host_gone;        /* nor receives: waiting for the guest's RST */
  bool credit_requested;
  /* guest -> host */
  uint8_t *buf;
  size_t buf_len;
  uint32_t fwd_cnt, fwd_cnt_sent;
  bool guest_shut_send, guest_shut_rcv, close_after_flush;
  char line[32];
  size_t line_len;
};

struct vsock
{
  struct hy_vhost_dev dev;
  int epfd;
  uint64_t cid;
  const char *uds_path;
  struct hy_vm_watch listener;
  struct conn *conns;
  struct conn *rx_cursor; /* round-robin start for host -> guest data */
  struct hy_vsock_hdr ctrl[CTRL_QUEUE_LEN];
  unsigned ctrl_head, ctrl_len;
  uint32_t next_port;
};

static void
vs_log (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static void
vs_log (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs ("hyrun-vhost-vsock: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
}

/* ---- connections ---- */

static struct conn *
conn_find (struct vsock *vs, uint32_t host_port, uint32_t guest_port)
{
  for (struct conn *c = vs->conns; c; c = c->next)
    if (!c->dead && c->host_port == host_port && c->guest_port == guest_port)
      return c;
  return NULL;
}

static bool
host_port_used (struct vsock *vs, uint32_t port)
{
  for (struct conn *c = vs->conns; c; c = c->next)
    if (!c->dead && c->host_port == port)
      return true;
  return false;
}

/* Freed after the current batch of events (see hy_vm_watch_dispatch). */
static void
conn_kill (struct conn *c)
{
  if (c->dead)
    return;
  c->dead = true;
  hy_vm_watch_set (c->vs->epfd, &c->w, 0, NULL);
  close (c->w.fd);
  c->w.fd = -1;
}

static void
reap_dead (struct vsock *vs)
{
  for (struct conn **pp = &vs->conns; *pp;)
    {
      struct conn *c = *pp;
      if (!c->dead)
        {
          pp = &c->next;
          continue;
        }
      *pp = c->next;
      if (vs->rx_cursor == c)
        vs->rx_cursor = NULL;
      free (c->buf);
      free (c);
    }
}

/* ---- control packets to the guest ---- */

static void
ctrl_push (struct vsock *vs, const struct hy_vsock_hdr *h)
{
  if (vs->ctrl_len == CTRL_QUEUE_LEN)
    {
      vs_log ("control queue full, dropping op %u", le16toh (h->op));
      return;
    }
  vs->ctrl[(vs->ctrl_head + vs->ctrl_len++) % CTRL_QUEUE_LEN] = *h;
}

static struct hy_vsock_hdr
conn_hdr (struct conn *c, uint16_t op, uint32_t flags, uint32_t len)
{
  c->fwd_cnt_sent = c->fwd_cnt;
  return (struct hy_vsock_hdr) {
    .src_cid = htole64 (HY_VSOCK_HOST_CID),
    .dst_cid = htole64 (c->vs->cid),
    .src_port = htole32 (c->host_port),
    .dst_port = htole32 (c->guest_port),
    .len = htole32 (len),
    .type = htole16 (HY_VSOCK_TYPE_STREAM),
    .op = htole16 (op),
    .flags = htole32 (flags),
    .buf_alloc = htole32 (HY_VSOCK_BUF_ALLOC),
    .fwd_cnt = htole32 (c->fwd_cnt),
  };
}

static void
conn_send_ctrl (struct conn *c, uint16_t op, uint32_t flags)
{
  struct hy_vsock_hdr h = conn_hdr (c, op, flags, 0);
  ctrl_push (c->vs, &h);
}

/* Reset the guest's side and drop ours. */
static void
conn_reset (struct conn *c)
{
  if (c->state != CONN_HOST_LINE)
    conn_send_ctrl (c, HY_VSOCK_OP_RST, 0);
  conn_kill (c);
}

/* RST for a packet that matches no connection. */
static void
send_rst_for (struct vsock *vs, const struct hy_vsock_hdr *in)
{
  struct hy_vsock_hdr h = {
    .src_cid = in->dst_cid,
    .dst_cid = htole64 (vs->cid),
    .src_port = in->dst_port,
    .dst_port = in->src_port,
    .type = in->type,
    .op = htole16 (HY_VSOCK_OP_RST),
  };
  ctrl_push (vs, &h);
}

static uint32_t
peer_credit (const struct conn *c)
{
  uint32_t in_flight = c->rx_cnt - c->peer_fwd_cnt;
  return in_flight > c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* Whether host bytes still go to the guest: then a hang-up of the host
 * end shows as EOF when read, after the bytes before it. */
static bool
reads_host (const struct conn *c)
{
  return c->state == CONN_ESTABLISHED && !c->host_eof && !c->guest_shut_rcv;
}

static struct conn *
conn_new (struct vsock *vs, int fd, enum conn_state state)
{
  struct conn *c = xmalloc0 (sizeof (*c));
  c->w.fd = fd;
  c->vs = vs;
  c->state = state;
  c->next = vs->conns;
  vs->conns = c;
  return c;
}

/* ---- guest -> host bytes ---- */

static void
conn_flush (struct conn *c)
{
  while (c->buf_len > 0)
    {
      ssize_t n = send (c->w.fd, c->buf, c->buf_len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      if (n <= 0)
        {
          conn_reset (c);
          return;
        }
      memmove (c->buf, c->buf + n, c->buf_len - n);
      c->buf_len -= n;
      c->fwd_cnt += n;
    }
  if (c->buf_len > 0)
    return;
  if (c->close_after_flush)
    {
      conn_reset (c);
      return;
    }
  if (c->guest_shut_send)
    shutdown (c->w.fd, SHUT_WR);
  /* Let a guest waiting for credit know it has some again. */
  if (c->fwd_cnt - c->fwd_cnt_sent >= HY_VSOCK_BUF_ALLOC / 4)
    conn_send_ctrl (c, HY_VSOCK_OP_CREDIT_UPDATE, 0);
}

static void
conn_take_rw (struct conn *c, const struct hy_vq_chain *ch, uint32_t len)
{
  if (c->guest_shut_send || c->buf_len + len > HY_VSOCK_BUF_ALLOC)
    {
      vs_log ("guest port %u overran its credit", c->guest_port);
      conn_reset (c);
      return;
    }
  if (c->buf == NULL)
    c->buf = xmalloc0 (HY_VSOCK_BUF_ALLOC);
  c->buf_len += hy_vq_chain_read (ch, sizeof (struct hy_vsock_hdr),
                                  c->buf + c->buf_len, len);
  conn_flush (c);
}

/* ---- the guest's packets (tx queue) ---- */

static int
connect_host_port (struct vsock *vs, uint32_t port)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  int n = snprintf (sun.sun_path, sizeof (sun.sun_path), "%s_%" PRIu32,
                    vs->uds_path, port);
  if (n < 0 || (size_t) n >= sizeof (sun.sun_path))
    return -1;
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (connect (fd, (struct sockaddr *) &sun, sizeof (sun)) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static void
guest_request (struct vsock *vs, const struct hy_vsock_hdr *h)
{
  uint32_t host_port = le32toh (h->dst_port);
  uint32_t guest_port = le32toh (h->src_port);
  if (conn_find (vs, host_port, guest_port))
    {
      send_rst_for (vs, h);
      return;
    }
  int fd = connect_host_port (vs, host_port);
  if (fd < 0)
    {
      send_rst_for (vs, h);
      return;
    }
  struct conn *c = conn_new (vs, fd, CONN_ESTABLISHED);
  c->host_port = host_port;
  c->guest_port = guest_port;
  c->peer_buf_alloc = le32toh (h->buf_alloc);
  c->peer_fwd_cnt = le32toh (h->fwd_cnt);
  conn_send_ctrl (c, HY_VSOCK_OP_RESPONSE, 0);
}

static void
guest_response (struct conn *c)
{
  if (c->state != CONN_GUEST_CONNECTING)
    {
      conn_reset (c);
      return;
    }
  char ok[32];
  int n = snprintf (ok, sizeof (ok), "OK %" PRIu32 "\n", c->host_port);
  if (send (c->w.fd, ok, n, MSG_NOSIGNAL) != n)
    {
      conn_reset (c);
      return;
    }
  c->state = CONN_ESTABLISHED;
}

static void
guest_shutdown (struct conn *c, uint32_t flags)
{
  if (flags & HY_VSOCK_SHUTDOWN_SEND)
    c->guest_shut_send = true;
  if (flags & HY_VSOCK_SHUTDOWN_RCV)
    c->guest_shut_rcv = true;
  if (c->guest_shut_send && c->guest_shut_rcv)
    c->close_after_flush = true; /* the RST answers the full shutdown */
  conn_flush (c);
}

static void
handle_tx (struct vsock *vs, const struct hy_vq_chain *ch)
{
  struct hy_vsock_hdr h;
  if (hy_vq_chain_read (ch, 0, &h, sizeof (h)) != sizeof (h))
    {
      vs_log ("tx: packet shorter than its header");
      return;
    }
  uint32_t len = le32toh (h.len);
  uint16_t op = le16toh (h.op);
  if (le64toh (h.src_cid) != vs->cid)
    return; /* spoofed: there is nobody to answer */
  if (le64toh (h.dst_cid) != HY_VSOCK_HOST_CID)
    {
      /* Only the host is reachable: refuse at once rather than let the
       * guest's connect() wait for its timeout. */
      if (op != HY_VSOCK_OP_RST)
        send_rst_for (vs, &h);
      return;
    }
  if (len > HY_VSOCK_MAX_PKT || len > ch->out_len - sizeof (h)
      || le16toh (h.type) != HY_VSOCK_TYPE_STREAM)
    {
      if (op != HY_VSOCK_OP_RST)
        send_rst_for (vs, &h);
      struct conn *bad = conn_find (vs, le32toh (h.dst_port),
                                    le32toh (h.src_port));
      if (bad)
        conn_kill (bad);
      return;
    }
  if (op == HY_VSOCK_OP_REQUEST)
    {
      guest_request (vs, &h);
      return;
    }
  struct conn *c = conn_find (vs, le32toh (h.dst_port), le32toh (h.src_port));
  if (c == NULL || c->state == CONN_HOST_LINE)
    {
      if (op != HY_VSOCK_OP_RST)
        send_rst_for (vs, &h);
      return;
    }
  c->peer_buf_alloc = le32toh (h.buf_alloc);
  c->peer_fwd_cnt = le32toh (h.fwd_cnt);
  if (peer_credit (c) > 0)
    c->credit_requested = false;
  switch (op)
    {
    case HY_VSOCK_OP_RESPONSE:
      guest_response (c);
      break;
    case HY_VSOCK_OP_RST:
      conn_kill (c);
      break;
    case HY_VSOCK_OP_SHUTDOWN:
      guest_shutdown (c, le32toh (h.flags));
      break;
    case HY_VSOCK_OP_RW:
      if (c->state != CONN_ESTABLISHED)
        conn_reset (c);
      else
        conn_take_rw (c, ch, len);
      break;
    case HY_VSOCK_OP_CREDIT_UPDATE:
      break;
    case HY_VSOCK_OP_CREDIT_REQUEST:
      conn_send_ctrl (c, HY_VSOCK_OP_CREDIT_UPDATE, 0);
      break;
    default:
      conn_reset (c);
      break;
    }
}

static void
process_tx (struct vsock *vs)
{
  struct hy_vq *vq = hy_vhost_queue_get (&vs->dev, HY_VSOCK_QUEUE_TX);
  if (vq == NULL)
    return;
  struct hy_vq_chain ch;
  bool pushed = false;
  while (CTRL_QUEUE_LEN - vs->ctrl_len >= CTRL_RESERVE
         && hy_vq_pop (vq, &ch) > 0)
    {
      handle_tx (vs, &ch);
      hy_vq_push (vq, ch.head, 0);
      pushed = true;
    }
  if (pushed || vq->dropped)
    hy_vq_notify (vq);
  vq->dropped = 0;
  if (vq->broken)
    vs_log ("tx queue broken by the guest");
}

/* ---- host -> guest (rx queue) ---- */

static bool
conn_wants_rx (const struct conn *c)
{
  return !c->dead && reads_host (c) && c->readable && peer_credit (c) > 0;
}

static void
fill_ctrl (struct vsock *vs, struct hy_vq *vq, const struct hy_vq_chain *ch)
{
  const struct hy_vsock_hdr *h = &vs->ctrl[vs->ctrl_head];
  bool ok = ch->in_len >= sizeof (*h);
  if (ok)
    hy_vq_chain_write (ch, 0, h, sizeof (*h));
  hy_vq_push (vq, ch->head, ok ? sizeof (*h) : 0);
  if (ok)
    {
      vs->ctrl_head = (vs->ctrl_head + 1) % CTRL_QUEUE_LEN;
      vs->ctrl_len--;
    }
}

/* The host end is closed for good, not just shut down for writing. */
static bool
host_hung_up (const struct conn *c)
{
  struct pollfd p = { .fd = c->w.fd, .events = POLLOUT };
  return poll (&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

/* Read what the credit allows from c straight into the chain's buffers.
 * Returns false when the chain was not used. */
static bool
fill_data (struct conn *c, struct hy_vq *vq, const struct hy_vq_chain *ch)
{
  size_t hlen = sizeof (struct hy_vsock_hdr);
  if (ch->in_len <= hlen)
    {
      hy_vq_push (vq, ch->head, 0);
      return true;
    }
  uint64_t cap = ch->in_len - hlen;
  if (cap > peer_credit (c))
    cap = peer_credit (c);
  if (cap > HY_VSOCK_MAX_PKT)
    cap = HY_VSOCK_MAX_PKT;
  struct iovec iov[HY_VQ_MAX_SEGS];
  int niov = 0;
  uint64_t skip = hlen, left = cap;
  for (unsigned i = ch->nout; i < ch->nout + ch->nin && left > 0; i++)
    {
      const struct hy_vq_seg *s = &ch->seg[i];
      if (skip >= s->len)
        {
          skip -= s->len;
          continue;
        }
      size_t n = s->len - skip;
      if (n > left)
        n = left;
      iov[niov++] = (struct iovec) { s->p + skip, n };
      left -= n;
      skip = 0;
    }
  ssize_t n;
  do
    n = readv (c->w.fd, iov, niov);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN)
    {
      c->readable = false;
      hy_vq_unpop (vq);
      return false;
    }
  struct hy_vsock_hdr h;
  if (n <= 0)
    {
      /* The host sends no more.  It may only have shut down its writing
       * half and still read what the guest sends: only a host that is
       * gone altogether stops the guest's direction too. */
      c->host_eof = true;
      uint32_t flags = HY_VSOCK_SHUTDOWN_SEND;
      if (n < 0 || host_hung_up (c))
        {
          flags |= HY_VSOCK_SHUTDOWN_RCV;
          c->host_gone = true;
        }
      h = conn_hdr (c, HY_VSOCK_OP_SHUTDOWN, flags, 0);
      n = 0;
    }
  else
    {
      h = conn_hdr (c, HY_VSOCK_OP_RW, 0, n);
      c->rx_cnt += n;
    }
  hy_vq_chain_write (ch, 0, &h, hlen);
  hy_vq_push (vq, ch->head, hlen + n);
  return true;
}

static struct conn *
next_rx_conn (struct vsock *vs)
{
  struct conn *start = vs->rx_cursor ? vs->rx_cursor->next : NULL;
  for (struct conn *c = start; c; c = c->next)
    if (conn_wants_rx (c))
      return vs->rx_cursor = c;
  for (struct conn *c = vs->conns; c && c != start; c = c->next)
    if (conn_wants_rx (c))
      return vs->rx_cursor = c;
  return NULL;
}

static void
request_credit (struct vsock *vs)
{
  for (struct conn *c = vs->conns; c; c = c->next)
    if (!c->dead && reads_host (c) && c->readable && peer_credit (c) == 0
        && !c->credit_requested)
      {
        c->credit_requested = true;
        conn_send_ctrl (c, HY_VSOCK_OP_CREDIT_REQUEST, 0);
      }
}

static void
process_rx (struct vsock *vs)
{
  struct hy_vq *vq = hy_vhost_queue_get (&vs->dev, HY_VSOCK_QUEUE_RX);
  if (vq == NULL)
    return;
  request_credit (vs);
  struct hy_vq_chain ch;
  bool pushed = false;
  for (;;)
    {
      struct conn *c = vs->ctrl_len ? NULL : next_rx_conn (vs);
      if (vs->ctrl_len == 0 && c == NULL)
        break;
      if (hy_vq_pop (vq, &ch) <= 0)
        break;
      if (c == NULL)
        {
          fill_ctrl (vs, vq, &ch);
          pushed = true;
        }
      else
        pushed |= fill_data (c, vq, &ch);
    }
  if (pushed || vq->dropped)
    hy_vq_notify (vq);
  vq->dropped = 0;
}

/* ---- host side: the listener and connection events ---- */

static void
host_line (struct conn *c)
{
  char buf[sizeof (c->line)];
  size_t room = sizeof (c->line) - c->line_len;
  ssize_t n = recv (c->w.fd, buf, room, MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      conn_kill (c);
      return;
    }
  char *nl = memchr (buf, '\n', n);
  size_t take = nl ? (size_t) (nl - buf) + 1 : (size_t) n;
  if (recv (c->w.fd, c->line + c->line_len, take, 0) != (ssize_t) take)
    {
      conn_kill (c);
      return;
    }
  c->line_len += take;
  if (nl == NULL)
    {
      if (c->line_len == sizeof (c->line))
        conn_kill (c);
      return;
    }
  c->line[c->line_len - 1] = '\0';
  unsigned long long port;
  if (!str_has_prefix (c->line, "CONNECT ")
      || parse_uint64 (c->line + 8, &port) < 0 || port > UINT32_MAX)
    {
      conn_kill (c);
      return;
    }
  struct vsock *vs = c->vs;
  while (host_port_used (vs, vs->next_port) || vs->next_port < FIRST_HOST_PORT)
    vs->next_port = vs->next_port < FIRST_HOST_PORT ? FIRST_HOST_PORT
                                                    : vs->next_port + 1;
  c->host_port = vs->next_port++;
  c->guest_port = port;
  c->state = CONN_GUEST_CONNECTING;
  conn_send_ctrl (c, HY_VSOCK_OP_REQUEST, 0);
}

static void
conn_cb (struct hy_vm_watch *w, uint32_t events)
{
  struct conn *c = (struct conn *) w;
  if (c->state == CONN_HOST_LINE)
    {
      host_line (c);
      return;
    }
  if ((events & (EPOLLHUP | EPOLLERR)) && !reads_host (c) && !c->host_gone)
    {
      conn_reset (c); /* gone while we were not reading from it */
      return;
    }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
    c->readable = true;
  if (events & EPOLLOUT)
    conn_flush (c);
}

static void
listener_cb (struct hy_vm_watch *w, uint32_t events)
{
  struct vsock *vs
      = (struct vsock *) ((char *) w - offsetof (struct vsock, listener));
  (void) events;
  int fd = accept4 (w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    return;
  struct conn *c = conn_new (vs, fd, CONN_HOST_LINE);
  c->w.cb = conn_cb;
}

static void
refresh_interest (struct vsock *vs)
{
  for (struct conn *c = vs->conns; c; c = c->next)
    {
      if (c->dead)
        continue;
      c->w.cb = conn_cb;
      uint32_t ev = 0;
      if (c->state == CONN_HOST_LINE)
        ev = EPOLLIN;
      else if (c->state == CONN_GUEST_CONNECTING)
        ev = EPOLLHUP; /* the host gave up waiting for the guest */
      else
        {
          if (!reads_host (c) && !c->host_gone)
            ev |= EPOLLHUP; /* only a host gone altogether matters now */
          else if (reads_host (c) && !c->readable)
            ev |= EPOLLIN;
          if (c->buf_len > 0)
            ev |= EPOLLOUT;
        }
      _cleanup_error_ hy_error_t e = NULL;
      if (hy_vm_watch_set (vs->epfd, &c->w, ev, &e) < 0)
        {
          vs_log ("%s", e->msg);
          conn_reset (c);
        }
    }
}

/* ---- the device ---- */

static struct vsock *
vsock_of (struct hy_vhost_dev *d)
{
  return d->opaque;
}

static int
vsock_get_config (struct hy_vhost_dev *d, uint32_t offset, uint8_t *buf,
                  uint32_t len)
{
  uint64_t cfg = htole64 (vsock_of (d)->cid);
  if (offset > sizeof (cfg) || len > sizeof (cfg) - offset)
    return -1;
  memcpy (buf, (uint8_t *) &cfg + offset, len);
  return 0;
}

static void
vsock_kicked (struct hy_vhost_dev *d, unsigned idx)
{
  (void) d;
  (void) idx; /* the loop processes both queues after every event */
}

static void
vsock_reset (struct hy_vhost_dev *d)
{
  struct vsock *vs = vsock_of (d);
  for (struct conn *c = vs->conns; c; c = c->next)
    conn_kill (c);
  vs->ctrl_len = 0;
}

static const struct hy_vhost_ops vsock_ops = {
  .name = "hyrun-vhost-vsock",
  .features = (1ull << HY_VIRTIO_F_VERSION_1)
              | (1ull << HY_VIRTIO_F_RING_INDIRECT_DESC)
              | (1ull << HY_VIRTIO_F_RING_EVENT_IDX),
  .num_queues = 3,
  .get_config = vsock_get_config,
  .queue_kicked = vsock_kicked,
  .reset = vsock_reset,
};

/* A socket at path that nobody accepts on is left over from a backend
 * that died; one that accepts belongs to a live one. */
static bool
socket_is_stale (const struct sockaddr_un *sun)
{
  struct stat st;
  if (lstat (sun->sun_path, &st) < 0 || !S_ISSOCK (st.st_mode))
    return false;
  _cleanup_close_ int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  int r = connect (fd, (const struct sockaddr *) sun, sizeof (*sun));
  return r < 0 && errno == ECONNREFUSED;
}

static int
listen_unix (const char *path, hy_error_t *err)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof (sun.sun_path))
    return hy_error (err, ENAMETOOLONG, "socket path `%s` too long", path);
  strcpy (sun.sun_path, path);
  _cleanup_close_ int fd
      = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return hy_error_errno (err, "socket");
  int r = bind (fd, (struct sockaddr *) &sun, sizeof (sun));
  if (r < 0 && errno == EADDRINUSE && socket_is_stale (&sun)
      && unlink (path) == 0)
    r = bind (fd, (struct sockaddr *) &sun, sizeof (sun));
  if (r < 0)
    return hy_error_errno (err, "bind `%s`", path);
  if (listen (fd, 64) < 0)
    {
      hy_error_errno (err, "listen on `%s`", path);
      unlink (path);
      return -1;
    }
  return steal_fd (&fd);
}

static int
accept_front_end (const char *path, hy_error_t *err)
{
  _cleanup_close_ int lfd = listen_unix (path, err);
  if (lfd < 0)
    return -1;
  /* Block for the one front-end. */
  int fd;
  do
    {
      struct pollfd p = { .fd = lfd, .events = POLLIN };
      if (poll (&p, 1, -1) < 0 && errno != EINTR)
        break;
      fd = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
    }
  while (fd < 0 && (errno == EAGAIN || errno == EINTR));
  int saved = errno;
  unlink (path);
  if (fd < 0)
    return hy_error (err, saved, "wait for the front-end on `%s`", path);
  return fd;
}

/* Take an inherited fd over: close-on-exec, and check what it is. */
static int
adopt_socket (int fd, const char *name, bool listening, hy_error_t *err)
{
  int domain, type, acceptconn;
  socklen_t len = sizeof (int);
  if (fcntl (fd, F_SETFD, FD_CLOEXEC) < 0)
    return hy_error_errno (err, "%s %d", name, fd);
  if (getsockopt (fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0
      || getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0
      || getsockopt (fd, SOL_SOCKET, SO_ACCEPTCONN, &acceptconn, &len) < 0)
    return hy_error_errno (err, "%s %d is not a socket", name, fd);
  if (domain != AF_UNIX || type != SOCK_STREAM)
    return hy_error (err, EINVAL, "%s %d is not a unix stream socket", name,
                     fd);
  if ((acceptconn != 0) != listening)
    return hy_error (err, EINVAL, "%s %d is %s", name, fd,
                     listening ? "not listening" : "a listening socket");
  int flags = fcntl (fd, F_GETFL);
  if (flags < 0
      || fcntl (fd, F_SETFL, listening ? flags | O_NONBLOCK
                                       : flags & ~O_NONBLOCK) < 0)
    return hy_error_errno (err, "%s %d", name, fd);
  return 0;
}

static int
check_opts (const struct hy_vsock_opts *o, hy_error_t *err)
{
  if (o->guest_cid < 3 || o->guest_cid >= 0xffffffffull)
    return hy_error (err, EINVAL, "invalid guest cid %llu",
                     (unsigned long long) o->guest_cid);
  if (o->uds_path == NULL || o->uds_path[0] == '\0')
    return hy_error (err, EINVAL, "no host socket path");
  if (o->vhost_fd < 0 && o->vhost_socket == NULL)
    return hy_error (err, EINVAL, "no vhost-user socket");
  if (o->vhost_fd >= 0
      && adopt_socket (o->vhost_fd, "vhost-user fd", false, err) < 0)
    return -1;
  if (o->uds_fd >= 0 && adopt_socket (o->uds_fd, "host socket fd", true, err)
                            < 0)
    return -1;
  return 0;
}

static int
serve (struct vsock *vs, int vfd, bool verbose, hy_error_t *err)
{
  int ret = hy_vhost_dev_init (&vs->dev, vs->epfd, vfd, &vsock_ops, vs, err);
  vs->dev.verbose = verbose;
  while (ret == 0 && !vs->dev.disconnected)
    {
      int timeout = hy_vhost_poll (&vs->dev) ? 1 : -1;
      ret = hy_vm_watch_dispatch (vs->epfd, timeout, err);
      process_tx (vs);
      process_rx (vs);
      process_tx (vs); /* it may have stopped on a full control queue */
      refresh_interest (vs);
      reap_dead (vs);
    }
  for (struct conn *c = vs->conns; c; c = c->next)
    conn_kill (c);
  reap_dead (vs);
  hy_vhost_dev_release (&vs->dev);
  return ret;
}

int
hy_vsock_backend_run (const struct hy_vsock_opts *o, hy_error_t *err)
{
  _cleanup_close_ int vfd = o->vhost_fd;
  _cleanup_close_ int lfd = o->uds_fd;
  if (check_opts (o, err) < 0)
    return -1;
  _cleanup_free_ struct vsock *vs = xmalloc0 (sizeof (*vs));
  vs->cid = o->guest_cid;
  vs->uds_path = o->uds_path;
  vs->next_port = FIRST_HOST_PORT;
  _cleanup_close_ int epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (epfd < 0)
    return hy_error_errno (err, "epoll_create1");
  vs->epfd = epfd;
  bool own_path = lfd < 0;
  if (own_path && (lfd = listen_unix (o->uds_path, err)) < 0)
    return -1;
  vs->listener.fd = lfd;
  vs->listener.cb = listener_cb;
  int ret = hy_vm_watch_set (epfd, &vs->listener, EPOLLIN, err);
  if (ret == 0 && vfd < 0)
    {
      vfd = accept_front_end (o->vhost_socket, err);
      if (vfd < 0)
        ret = -1;
    }
  if (ret == 0)
    ret = serve (vs, steal_fd (&vfd), o->verbose, err);
  if (own_path)
    unlink (o->uds_path);
  return ret;
}

/* Close every fd from 3 up but the ones in keep (ascending). */
static void
close_all_but (const int *keep, unsigned n)
{
  unsigned from = 3;
  for (unsigned i = 0; i <= n; i++)
    {
      unsigned to = i < n ? (unsigned) keep[i] : ~0u;
      if (i < n && (keep[i] < 0 || (unsigned) keep[i] < from))
        continue;
      if (to > from && close_range (from, to - 1, 0) < 0 && errno == ENOSYS)
        for (unsigned fd = from; fd < to && fd < 65536; fd++)
          close (fd);
      from = to + 1;
    }
}

/* The child: nothing of the parent's but stdio and its two sockets, no
 * handlers or blocked signals of the parent's. */
static void __attribute__ ((noreturn))
backend_child (const struct hy_vsock_opts *o)
{
  struct sigaction dfl = { .sa_handler = SIG_DFL };
  for (int sig = 1; sig < NSIG; sig++)
    sigaction (sig, &dfl, NULL);
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  int keep[2] = { o->vhost_fd, o->uds_fd };
  if (keep[0] > keep[1])
    keep[0] = o->uds_fd, keep[1] = o->vhost_fd;
  close_all_but (keep, 2);
  prctl (PR_SET_NAME, "hyrun-vsock");
  hy_error_t err = NULL;
  if (hy_vsock_backend_run (o, &err) < 0)
    {
      fprintf (stderr, "hyrun-vhost-vsock: %s\n", err->msg);
      _exit (1);
    }
  _exit (0);
}

pid_t
hy_vsock_backend_spawn (const struct hy_vsock_opts *o, hy_error_t *err)
{
  int ret = check_opts (o, err);
  pid_t pid = ret < 0 ? -1 : fork ();
  if (pid == 0)
    backend_child (o);
  if (ret == 0 && pid < 0)
    hy_error_errno (err, "fork the vsock backend");
  if (o->vhost_fd >= 0)
    close (o->vhost_fd);
  if (o->uds_fd >= 0)
    close (o->uds_fd);
  return pid;
}
