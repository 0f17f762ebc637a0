#include "runtime/vm/vhost-user/vhost-user.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"

#define OFFERED_PROTOCOL_FEATURES                                              \
  ((1ull << HY_VHOST_USER_PROTOCOL_F_REPLY_ACK)                               \
   | (1ull << HY_VHOST_USER_PROTOCOL_F_CONFIG)                                \
   | (1ull << HY_VHOST_USER_PROTOCOL_F_RESET_DEVICE))

struct msg
{
  struct hy_vhost_msg_hdr hdr;
  union
  {
    uint64_t u64;
    struct hy_vhost_vring_state state;
    struct hy_vhost_vring_addr addr;
    struct hy_vhost_mem mem;
    struct hy_vhost_config config;
    uint8_t bytes[HY_VHOST_MAX_PAYLOAD];
  } p;
  int fds[HY_VHOST_MAX_FDS];
  unsigned nfds;
};

static const char *const request_names[] = {
  [HY_VHOST_USER_GET_FEATURES] = "GET_FEATURES",
  [HY_VHOST_USER_SET_FEATURES] = "SET_FEATURES",
  [HY_VHOST_USER_SET_OWNER] = "SET_OWNER",
  [HY_VHOST_USER_RESET_OWNER] = "RESET_OWNER",
  [HY_VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
  [HY_VHOST_USER_SET_LOG_BASE] = "SET_LOG_BASE",
  [HY_VHOST_USER_SET_LOG_FD] = "SET_LOG_FD",
  [HY_VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
  [HY_VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
  [HY_VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
  [HY_VHOST_USER_GET_VRING_BASE] = "GET_VRING_BASE",
  [HY_VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
  [HY_VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
  [HY_VHOST_USER_SET_VRING_ERR] = "SET_VRING_ERR",
  [HY_VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
  [HY_VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
  [HY_VHOST_USER_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
  [HY_VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
  [HY_VHOST_USER_GET_CONFIG] = "GET_CONFIG",
  [HY_VHOST_USER_SET_CONFIG] = "SET_CONFIG",
  [HY_VHOST_USER_RESET_DEVICE] = "RESET_DEVICE",
  [HY_VHOST_USER_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
  [HY_VHOST_USER_SET_STATUS] = "SET_STATUS",
  [HY_VHOST_USER_GET_STATUS] = "GET_STATUS",
};

const char *
hy_vhost_request_name (uint32_t request)
{
  if (request < sizeof (request_names) / sizeof (request_names[0])
      && request_names[request])
    return request_names[request];
  return "UNKNOWN";
}

static void
vlog (struct hy_vhost_dev *d, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
vlog (struct hy_vhost_dev *d, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fprintf (stderr, "%s: ", d->ops->name ? d->ops->name : "vhost-user");
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
}

static void
close_fds (struct msg *m)
{
  for (unsigned i = 0; i < m->nfds; i++)
    if (m->fds[i] >= 0)
      close (m->fds[i]);
  m->nfds = 0;
}

static int
take_fd (struct msg *m, unsigned i)
{
  int fd = m->fds[i];
  m->fds[i] = -1;
  return fd;
}

/* The header comes with the fds; the payload follows on the stream. */
static int
read_msg (int sock, struct msg *m, hy_error_t *err)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int) * HY_VHOST_MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = &m->hdr, .iov_len = sizeof (m->hdr) };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = control.buf,
                       .msg_controllen = sizeof (control.buf) };
  m->nfds = 0;
  ssize_t r;
  do
    r = recvmsg (sock, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return hy_error_errno (err, "read vhost-user message");
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&mh); c; c = CMSG_NXTHDR (&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      {
        size_t n = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
        for (size_t i = 0; i < n && m->nfds < HY_VHOST_MAX_FDS; i++)
          memcpy (&m->fds[m->nfds++], CMSG_DATA (c) + i * sizeof (int),
                  sizeof (int));
      }
  if (r == 0)
    return hy_error (err, ECONNRESET, "front-end closed the connection");
  if (mh.msg_flags & MSG_CTRUNC)
    return hy_error (err, EMSGSIZE, "too many fds in a vhost-user message");
  if ((size_t) r != sizeof (m->hdr))
    return hy_error (err, EPROTO, "short vhost-user header");
  if ((m->hdr.flags & 0x3) != HY_VHOST_USER_VERSION)
    return hy_error (err, EPROTO, "vhost-user version %u unsupported",
                     m->hdr.flags & 0x3);
  if (m->hdr.size > HY_VHOST_MAX_PAYLOAD)
    return hy_error (err, EMSGSIZE, "vhost-user payload of %u bytes",
                     m->hdr.size);
  size_t got = 0;
  while (got < m->hdr.size)
    {
      r = recv (sock, m->p.bytes + got, m->hdr.size - got, MSG_WAITALL);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return hy_error (err, r < 0 ? errno : ECONNRESET,
                         "read vhost-user payload");
      got += r;
    }
  return 0;
}

static int
send_reply (struct hy_vhost_dev *d, uint32_t request, const void *payload,
            uint32_t size, hy_error_t *err)
{
  struct hy_vhost_msg_hdr hdr = {
    .request = request,
    .flags = HY_VHOST_USER_VERSION | HY_VHOST_USER_FLAG_REPLY,
    .size = size,
  };
  struct iovec iov[2] = { { &hdr, sizeof (hdr) },
                          { (void *) payload, size } };
  struct msghdr mh = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
  ssize_t r;
  do
    r = sendmsg (d->sock.fd, &mh, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r != (ssize_t) (sizeof (hdr) + size))
    return hy_error (err, r < 0 ? errno : EPIPE, "send vhost-user reply");
  return 0;
}

static int
reply_u64 (struct hy_vhost_dev *d, uint32_t request, uint64_t v,
           hy_error_t *err)
{
  return send_reply (d, request, &v, sizeof (v), err);
}

/* ---- queues ---- */

static void
kick_cb (struct hy_vm_watch *w, uint32_t events)
{
  struct hy_vhost_queue *q
      = (struct hy_vhost_queue *) ((char *) w
                                   - offsetof (struct hy_vhost_queue, kick));
  (void) events;
  eventfd_t v;
  if (eventfd_read (w->fd, &v) < 0 && errno == EAGAIN)
    return;
  if (hy_vhost_queue_get (q->dev, q->idx))
    q->dev->ops->queue_kicked (q->dev, q->idx);
}

struct hy_vq *
hy_vhost_queue_get (struct hy_vhost_dev *d, unsigned idx)
{
  if (idx >= d->ops->num_queues)
    return NULL;
  struct hy_vhost_queue *q = &d->q[idx];
  if (!q->started || !q->enabled || !hy_vq_ready (&q->vq))
    return NULL;
  return &q->vq;
}

static void
drop_kick (struct hy_vhost_dev *d, struct hy_vhost_queue *q)
{
  if (q->kick.fd >= 0)
    {
      hy_vm_watch_set (d->epfd, &q->kick, 0, NULL);
      close (q->kick.fd);
      q->kick.fd = -1;
    }
}

/* Map the rings if everything they need is known. */
static void
map_queue (struct hy_vhost_dev *d, struct hy_vhost_queue *q)
{
  q->vq.desc = NULL;
  if (!q->addr_set || d->mem.n == 0)
    return;
  _cleanup_error_ hy_error_t e = NULL;
  if (hy_vq_setup (&q->vq, &d->mem, q->num, q->desc_uva, q->avail_uva,
                   q->used_uva, &e) < 0)
    vlog (d, "queue %u: %s", q->idx, e->msg);
}

static void
maybe_start (struct hy_vhost_dev *d, struct hy_vhost_queue *q)
{
  if (hy_vhost_queue_get (d, q->idx))
    d->ops->queue_kicked (d, q->idx);
}

static void
reset_queue (struct hy_vhost_dev *d, struct hy_vhost_queue *q)
{
  drop_kick (d, q);
  if (q->vq.call_fd >= 0)
    close (q->vq.call_fd);
  if (q->err_fd >= 0)
    close (q->err_fd);
  unsigned idx = q->idx;
  memset (q, 0, sizeof (*q));
  hy_vq_init (&q->vq);
  q->dev = d;
  q->idx = idx;
  q->kick.fd = -1;
  q->kick.cb = kick_cb;
  q->err_fd = -1;
  q->num = 256;
}

static void
reset_device (struct hy_vhost_dev *d)
{
  for (unsigned i = 0; i < HY_VHOST_MAX_QUEUES; i++)
    reset_queue (d, &d->q[i]);
  hy_guest_mem_release (&d->mem);
  /* The protocol features belong to the session, not the device. */
  d->acked_features = 0;
  if (d->ops->reset)
    d->ops->reset (d);
}

static bool
has_feature (uint64_t features, unsigned bit)
{
  return features & (1ull << bit);
}

/* ---- requests ---- */

static int
want_size (const struct msg *m, size_t size, hy_error_t *err)
{
  if (m->hdr.size != size)
    return hy_error (err, EPROTO, "%s: payload of %u bytes, expected %zu",
                     hy_vhost_request_name (m->hdr.request), m->hdr.size,
                     size);
  return 0;
}

static struct hy_vhost_queue *
queue_of (struct hy_vhost_dev *d, uint32_t idx, hy_error_t *err)
{
  if (idx >= d->ops->num_queues)
    {
      hy_error (err, EINVAL, "queue %u does not exist", idx);
      return NULL;
    }
  return &d->q[idx];
}

static int
set_mem_table (struct hy_vhost_dev *d, struct msg *m, hy_error_t *err)
{
  if (m->hdr.size < sizeof (struct hy_vhost_mem))
    return hy_error (err, EPROTO, "SET_MEM_TABLE: payload too short");
  uint32_t n = m->p.mem.nregions;
  if (n == 0 || n > HY_GUEST_MEM_MAX_REGIONS)
    return hy_error (err, EINVAL, "SET_MEM_TABLE: %u regions", n);
  if (m->hdr.size != sizeof (struct hy_vhost_mem)
                         + n * sizeof (struct hy_vhost_mem_region))
    return hy_error (err, EPROTO, "SET_MEM_TABLE: payload of %u bytes for "
                     "%u regions", m->hdr.size, n);
  if (m->nfds != n)
    return hy_error (err, EINVAL, "SET_MEM_TABLE: %u fds for %u regions",
                     m->nfds, n);
  struct hy_guest_mem mem = { 0 };
  for (uint32_t i = 0; i < n; i++)
    {
      const struct hy_vhost_mem_region *r = &m->p.mem.regions[i];
      if (hy_guest_mem_add_fd (&mem, m->fds[i], r->gpa, r->size, r->uva,
                               r->mmap_offset, err) < 0)
        {
          hy_guest_mem_release (&mem);
          return hy_error_prepend (err, "SET_MEM_TABLE: region %u", i);
        }
    }
  close_fds (m); /* the mappings keep the memory */
  hy_guest_mem_release (&d->mem);
  d->mem = mem;
  for (unsigned i = 0; i < d->ops->num_queues; i++)
    {
      map_queue (d, &d->q[i]);
      maybe_start (d, &d->q[i]);
    }
  return 0;
}

static int
set_vring_fd (struct hy_vhost_dev *d, struct msg *m, hy_error_t *err)
{
  if (want_size (m, sizeof (uint64_t), err) < 0)
    return -1;
  uint64_t v = m->p.u64;
  struct hy_vhost_queue *q
      = queue_of (d, v & HY_VHOST_USER_VRING_IDX_MASK, err);
  if (q == NULL)
    return -1;
  bool nofd = v & HY_VHOST_USER_VRING_NOFD;
  if (nofd ? m->nfds != 0 : m->nfds != 1)
    return hy_error (err, EINVAL, "%s: %u fds with flags 0x%llx",
                     hy_vhost_request_name (m->hdr.request), m->nfds,
                     (unsigned long long) v);
  int fd = nofd ? -1 : take_fd (m, 0);
  switch (m->hdr.request)
    {
    case HY_VHOST_USER_SET_VRING_KICK:
      drop_kick (d, q);
      q->kick.fd = fd;
      q->polled = nofd;
      if (fd >= 0 && hy_vm_watch_set (d->epfd, &q->kick, EPOLLIN, err) < 0)
        return -1;
      q->started = true;
      if (!has_feature (d->acked_features, HY_VHOST_USER_F_PROTOCOL_FEATURES))
        q->enabled = true;
      map_queue (d, q);
      maybe_start (d, q);
      break;
    case HY_VHOST_USER_SET_VRING_CALL:
      if (q->vq.call_fd >= 0)
        close (q->vq.call_fd);
      q->vq.call_fd = fd;
      break;
    default:
      if (q->err_fd >= 0)
        close (q->err_fd);
      q->err_fd = fd;
      break;
    }
  return 0;
}

static int
get_config (struct hy_vhost_dev *d, struct msg *m, hy_error_t *err)
{
  if (m->hdr.size < sizeof (struct hy_vhost_config)
      || m->p.config.size > HY_VHOST_MAX_CONFIG
      || m->hdr.size != sizeof (struct hy_vhost_config) + m->p.config.size)
    return hy_error (err, EPROTO, "GET_CONFIG: bad payload size");
  uint32_t size = m->p.config.size;
  if (d->ops->get_config == NULL
      || d->ops->get_config (d, m->p.config.offset, m->p.config.data, size)
             < 0)
    {
      vlog (d, "GET_CONFIG: offset %u size %u refused", m->p.config.offset,
            size);
      /* A reply without the data tells the front-end it failed. */
      return send_reply (d, m->hdr.request, &m->p.config,
                         sizeof (struct hy_vhost_config), err);
    }
  return send_reply (d, m->hdr.request, &m->p.config, m->hdr.size, err);
}

static int
set_config (struct hy_vhost_dev *d, struct msg *m, hy_error_t *err)
{
  if (m->hdr.size < sizeof (struct hy_vhost_config)
      || m->p.config.size > HY_VHOST_MAX_CONFIG
      || m->hdr.size != sizeof (struct hy_vhost_config) + m->p.config.size)
    return hy_error (err, EPROTO, "SET_CONFIG: bad payload size");
  if (d->ops->set_config == NULL
      || d->ops->set_config (d, m->p.config.offset, m->p.config.data,
                             m->p.config.size)
             < 0)
    return hy_error (err, EPERM, "SET_CONFIG: config space is read-only");
  return 0;
}

/* Returns < 0 with *fatal set when the connection cannot go on. */
static int
dispatch (struct hy_vhost_dev *d, struct msg *m, bool *replied,
          hy_error_t *err)
{
  struct hy_vhost_queue *q;
  uint64_t offered = d->ops->features
                     | (1ull << HY_VHOST_USER_F_PROTOCOL_FEATURES);
  switch (m->hdr.request)
    {
    case HY_VHOST_USER_GET_FEATURES:
      *replied = true;
      return reply_u64 (d, m->hdr.request, offered, err);
    case HY_VHOST_USER_SET_FEATURES:
      if (want_size (m, 8, err) < 0)
        return -1;
      if (m->p.u64 & ~offered)
        return hy_error (err, EINVAL, "SET_FEATURES: 0x%llx not offered",
                         (unsigned long long) (m->p.u64 & ~offered));
      d->acked_features = m->p.u64;
      for (unsigned i = 0; i < HY_VHOST_MAX_QUEUES; i++)
        {
          d->q[i].vq.event_idx
              = has_feature (m->p.u64, HY_VIRTIO_F_RING_EVENT_IDX);
          d->q[i].vq.indirect
              = has_feature (m->p.u64, HY_VIRTIO_F_RING_INDIRECT_DESC);
        }
      return 0;
    case HY_VHOST_USER_GET_PROTOCOL_FEATURES:
      *replied = true;
      return reply_u64 (d, m->hdr.request, OFFERED_PROTOCOL_FEATURES, err);
    case HY_VHOST_USER_SET_PROTOCOL_FEATURES:
      if (want_size (m, 8, err) < 0)
        return -1;
      if (m->p.u64 & ~OFFERED_PROTOCOL_FEATURES)
        return hy_error (err, EINVAL, "SET_PROTOCOL_FEATURES: 0x%llx not "
                         "offered", (unsigned long long) m->p.u64);
      d->protocol_features = m->p.u64;
      return 0;
    case HY_VHOST_USER_GET_QUEUE_NUM:
      *replied = true;
      return reply_u64 (d, m->hdr.request, d->ops->num_queues, err);
    case HY_VHOST_USER_SET_OWNER:
      d->owned = true;
      return 0;
    case HY_VHOST_USER_RESET_OWNER:
    case HY_VHOST_USER_RESET_DEVICE:
      reset_device (d);
      return 0;
    case HY_VHOST_USER_SET_MEM_TABLE:
      return set_mem_table (d, m, err);
    case HY_VHOST_USER_SET_VRING_NUM:
      if (want_size (m, sizeof (m->p.state), err) < 0
          || (q = queue_of (d, m->p.state.index, err)) == NULL)
        return -1;
      if (m->p.state.num == 0 || m->p.state.num > HY_VQ_MAX_SIZE
          || (m->p.state.num & (m->p.state.num - 1)))
        return hy_error (err, EINVAL, "SET_VRING_NUM: bad size %u",
                         m->p.state.num);
      q->num = m->p.state.num;
      return 0;
    case HY_VHOST_USER_SET_VRING_ADDR:
      if (want_size (m, sizeof (m->p.addr), err) < 0
          || (q = queue_of (d, m->p.addr.index, err)) == NULL)
        return -1;
      if (m->p.addr.flags & 1)
        return hy_error (err, ENOTSUP, "SET_VRING_ADDR: dirty logging is "
                         "not supported");
      q->desc_uva = m->p.addr.desc;
      q->avail_uva = m->p.addr.avail;
      q->used_uva = m->p.addr.used;
      q->addr_set = true;
      map_queue (d, q);
      maybe_start (d, q);
      return 0;
    case HY_VHOST_USER_SET_VRING_BASE:
      if (want_size (m, sizeof (m->p.state), err) < 0
          || (q = queue_of (d, m->p.state.index, err)) == NULL)
        return -1;
      if (m->p.state.num > 0xffff)
        return hy_error (err, EINVAL, "SET_VRING_BASE: bad index %u",
                         m->p.state.num);
      q->vq.last_avail = m->p.state.num;
      return 0;
    case HY_VHOST_USER_GET_VRING_BASE:
      if (want_size (m, sizeof (m->p.state), err) < 0
          || (q = queue_of (d, m->p.state.index, err)) == NULL)
        return -1;
      q->started = false;
      drop_kick (d, q);
      if (d->ops->queue_stopped)
        d->ops->queue_stopped (d, q->idx);
      m->p.state.num = q->vq.last_avail;
      *replied = true;
      return send_reply (d, m->hdr.request, &m->p.state,
                         sizeof (m->p.state), err);
    case HY_VHOST_USER_SET_VRING_KICK:
    case HY_VHOST_USER_SET_VRING_CALL:
    case HY_VHOST_USER_SET_VRING_ERR:
      return set_vring_fd (d, m, err);
    case HY_VHOST_USER_SET_VRING_ENABLE:
      if (want_size (m, sizeof (m->p.state), err) < 0
          || (q = queue_of (d, m->p.state.index, err)) == NULL)
        return -1;
      if (!has_feature (d->acked_features, HY_VHOST_USER_F_PROTOCOL_FEATURES))
        return hy_error (err, EPROTO, "SET_VRING_ENABLE without "
                         "VHOST_USER_F_PROTOCOL_FEATURES");
      q->enabled = m->p.state.num != 0;
      maybe_start (d, q);
      return 0;
    case HY_VHOST_USER_GET_CONFIG:
      *replied = true;
      return get_config (d, m, err);
    case HY_VHOST_USER_SET_CONFIG:
      return set_config (d, m, err);
    default:
      return hy_error (err, ENOTSUP, "request %u (%s) not supported",
                       m->hdr.request, hy_vhost_request_name (m->hdr.request));
    }
}

static bool
is_fatal (const hy_error_t e)
{
  return e->errnum == EPROTO || e->errnum == ECONNRESET || e->errnum == EPIPE
         || e->errnum == EMSGSIZE;
}

int
hy_vhost_handle_one (struct hy_vhost_dev *d, hy_error_t *err)
{
  struct msg m;
  for (unsigned i = 0; i < HY_VHOST_MAX_FDS; i++)
    m.fds[i] = -1;
  int ret = read_msg (d->sock.fd, &m, err);
  if (ret == 0)
    {
      if (d->verbose && m.hdr.size == sizeof (uint64_t))
        vlog (d, "%s (flags 0x%x, 0x%llx, %u fds)",
              hy_vhost_request_name (m.hdr.request), m.hdr.flags,
              (unsigned long long) m.p.u64, m.nfds);
      else if (d->verbose)
        vlog (d, "%s (flags 0x%x, %u bytes, %u fds)",
              hy_vhost_request_name (m.hdr.request), m.hdr.flags, m.hdr.size,
              m.nfds);
      bool replied = false;
      _cleanup_error_ hy_error_t e = NULL;
      ret = dispatch (d, &m, &replied, &e);
      if (ret < 0)
        vlog (d, "%s", e->msg);
      bool ack = !replied && (m.hdr.flags & HY_VHOST_USER_FLAG_NEED_REPLY)
                 && has_feature (d->protocol_features,
                                 HY_VHOST_USER_PROTOCOL_F_REPLY_ACK);
      if (ret < 0 && is_fatal (e))
        {
          *err = e;
          e = NULL;
        }
      else
        {
          if (ack && reply_u64 (d, m.hdr.request, ret < 0 ? 1 : 0, err) < 0)
            ret = -1;
          else
            ret = 0;
        }
    }
  close_fds (&m);
  if (ret < 0)
    d->disconnected = true;
  return ret;
}

static void
sock_cb (struct hy_vm_watch *w, uint32_t events)
{
  struct hy_vhost_dev *d
      = (struct hy_vhost_dev *) ((char *) w
                                 - offsetof (struct hy_vhost_dev, sock));
  (void) events;
  _cleanup_error_ hy_error_t e = NULL;
  if (hy_vhost_handle_one (d, &e) < 0)
    {
      if (e->errnum != ECONNRESET)
        vlog (d, "%s", e->msg);
      hy_vm_watch_set (d->epfd, &d->sock, 0, NULL);
    }
}

int
hy_vhost_dev_init (struct hy_vhost_dev *d, int epfd, int sock_fd,
                   const struct hy_vhost_ops *ops, void *opaque,
                   hy_error_t *err)
{
  memset (d, 0, sizeof (*d));
  d->ops = ops;
  d->opaque = opaque;
  d->epfd = epfd;
  d->sock.fd = sock_fd;
  d->sock.cb = sock_cb;
  for (unsigned i = 0; i < HY_VHOST_MAX_QUEUES; i++)
    {
      d->q[i].idx = i;
      d->q[i].vq.call_fd = -1;
      d->q[i].kick.fd = -1;
      d->q[i].err_fd = -1;
      reset_queue (d, &d->q[i]);
    }
  if (ops->num_queues == 0 || ops->num_queues > HY_VHOST_MAX_QUEUES)
    return hy_error (err, EINVAL, "%u queues", ops->num_queues);
  return hy_vm_watch_set (epfd, &d->sock, EPOLLIN, err);
}

void
hy_vhost_dev_release (struct hy_vhost_dev *d)
{
  for (unsigned i = 0; i < HY_VHOST_MAX_QUEUES; i++)
    reset_queue (d, &d->q[i]);
  hy_guest_mem_release (&d->mem);
  if (d->sock.fd >= 0)
    {
      hy_vm_watch_set (d->epfd, &d->sock, 0, NULL);
      close (d->sock.fd);
      d->sock.fd = -1;
    }
}

bool
hy_vhost_poll (struct hy_vhost_dev *d)
{
  bool any = false;
  for (unsigned i = 0; i < d->ops->num_queues; i++)
    if (d->q[i].polled && hy_vhost_queue_get (d, i))
      {
        any = true;
        d->ops->queue_kicked (d, i);
      }
  return any;
}
