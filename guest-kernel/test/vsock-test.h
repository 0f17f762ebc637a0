/* The vsock traffic test, the part shared by the guest (test/init.c) and
   the host (test/vsock-host.c): the byte streams both sides generate and
   verify, and the poll loop that moves several streams at once.

   The host drives the test over a control connection the guest opens to
   host port VT_CTRL_PORT; every command is one line, answered by one line:
     phase <id> <n>    then n lines "<g|h> <port> <gsend> <hsend> <order>
                       <chunk> <stall>" (chunk: most bytes per send, 0:
                       VT_CHUNK; stall: ms both receivers wait before
                       their first read, so the sender runs out of credit)
                       n streams moved at the same time; 'g': the guest
                       connects to host port <port>, 'h': the host CONNECTs
                       to guest port <port>.  Answers "ready <id>" once its
                       listeners exist, then "done <id> ok|FAIL <why>".
     gclose <port>     the guest connects, sends VT_CLOSE_BYTES, close()s
     hclose <port>     the guest accepts, reads VT_CLOSE_BYTES, wants EOF,
                       then a write must fail with EPIPE
     grefused <port>   connect to a host port nobody listens on must fail
     hold <port> <n>   open n connections to host port and keep them
     bye               the guest leaves (reboots)
   A stream's bytes are a function of its seed and offset, so the receiver
   checks every byte and that EOF comes exactly after the announced length.
   Order: VT_DUPLEX both sides send at once; VT_GUEST_FIRST the host sends
   only after the guest's EOF (half-close), VT_HOST_FIRST the reverse. */
#ifndef HYRUN_GUEST_KERNEL_VSOCK_TEST_H
#define HYRUN_GUEST_KERNEL_VSOCK_TEST_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define VT_CTRL_PORT 1024
#define VT_MAX_STREAMS 8
#define VT_CLOSE_BYTES 1000
#define VT_CHUNK 65536
#define VT_LINE_MAX 256

enum vt_order
{
  VT_DUPLEX = 0,
  VT_GUEST_FIRST = 1,
  VT_HOST_FIRST = 2,
};

struct vt_spec
{
  char initiator; /* 'g' or 'h' */
  uint32_t port;
  uint64_t guest_sends, host_sends;
  enum vt_order order;
  uint32_t chunk;
  uint32_t stall_ms;
};

/* One end of one stream, as the pump sees it. */
struct vt_end
{
  int fd;
  uint64_t send_len, sent, send_seed;
  size_t chunk; /* most bytes per send */
  uint64_t read_from_ms; /* vt_now_ms () before which nothing is read */
  uint64_t recv_len, received, recv_seed;
  bool send_after_eof; /* the half-close order: send once EOF arrived */
  bool shut, eof;
};

static inline uint64_t
vt_now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static inline uint64_t
vt_seed (unsigned phase, unsigned stream, bool host_to_guest)
{
  return ((uint64_t) phase << 32) | (stream << 1) | host_to_guest;
}

static inline uint64_t
vt_mix (uint64_t x)
{
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* The stream's bytes [off, off + len). */
static inline void
vt_fill (uint64_t seed, uint64_t off, uint8_t *buf, size_t len)
{
  for (size_t i = 0; i < len;)
    {
      uint64_t pos = off + i;
      uint64_t word = vt_mix (seed ^ ((pos / 8) * 0x9e3779b97f4a7c15ull));
      unsigned skip = pos % 8;
      size_t n = 8 - skip < len - i ? 8 - skip : len - i;
      for (size_t k = 0; k < n; k++)
        buf[i + k] = word >> (8 * (skip + k));
      i += n;
    }
}

static inline void
vt_end_init (struct vt_end *e, int fd, uint64_t send_len, uint64_t send_seed,
             uint64_t recv_len, uint64_t recv_seed, bool send_after_eof)
{
  memset (e, 0, sizeof (*e));
  e->chunk = VT_CHUNK;
  e->fd = fd;
  e->send_len = send_len;
  e->send_seed = send_seed;
  e->recv_len = recv_len;
  e->recv_seed = recv_seed;
  e->send_after_eof = send_after_eof;
}

static inline bool
vt_end_done (const struct vt_end *e)
{
  return e->shut && e->eof;
}

static inline int
vt_fail (char *why, size_t len, const char *fmt, unsigned i, uint64_t a)
{
  int saved = errno;
  int n = snprintf (why, len, fmt, i, (unsigned long long) a);
  if (strstr (fmt, "failed") && n >= 0 && (size_t) n < len)
    snprintf (why + n, len - n, ": %s", strerror (saved));
  return -1;
}

static inline int
vt_send_some (struct vt_end *e, unsigned i, char *why, size_t wlen)
{
  static uint8_t buf[VT_CHUNK];
  if (e->sent < e->send_len)
    {
      size_t n = e->send_len - e->sent < e->chunk ? e->send_len - e->sent
                                                   : e->chunk;
      vt_fill (e->send_seed, e->sent, buf, n);
      ssize_t w = send (e->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
      if (w < 0)
        return vt_fail (why, wlen, "stream %u: send at byte %llu failed",
                        i, e->sent);
      e->sent += w;
      if (e->sent < e->send_len)
        return 0;
    }
  if (shutdown (e->fd, SHUT_WR) < 0)
    return vt_fail (why, wlen, "stream %u: shutdown after %llu bytes failed",
                    i, e->sent);
  e->shut = true;
  return 0;
}

static inline int
vt_recv_some (struct vt_end *e, unsigned i, char *why, size_t wlen)
{
  static uint8_t buf[VT_CHUNK], want[VT_CHUNK];
  ssize_t r = recv (e->fd, buf, sizeof (buf), MSG_DONTWAIT);
  if (r < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  if (r < 0)
    return vt_fail (why, wlen, "stream %u: recv at byte %llu failed", i,
                    e->received);
  if (r == 0)
    {
      if (e->received != e->recv_len)
        return vt_fail (why, wlen, "stream %u: EOF after %llu bytes", i,
                        e->received);
      e->eof = true;
      return 0;
    }
  if ((uint64_t) r > e->recv_len - e->received)
    return vt_fail (why, wlen, "stream %u: more than announced at %llu", i,
                    e->received);
  vt_fill (e->recv_seed, e->received, want, r);
  if (memcmp (buf, want, r) != 0)
    {
      size_t k = 0;
      while (buf[k] == want[k])
        k++;
      return vt_fail (why, wlen, "stream %u: wrong byte at offset %llu", i,
                      e->received + k);
    }
  e->received += r;
  return 0;
}

/* Move every stream to its end: all sent and shut down, EOF received
   after exactly the announced bytes.  `tick` (may be NULL) runs about
   every 100 ms.  0, or -1 with the reason in why. */
static inline int
vt_pump (struct vt_end *ends, unsigned n, int timeout_ms,
         void (*tick) (void), char *why, size_t wlen)
{
  uint64_t deadline = vt_now_ms () + timeout_ms;
  for (;;)
    {
      struct pollfd p[VT_MAX_STREAMS];
      unsigned open = 0;
      for (unsigned i = 0; i < n; i++)
        {
          struct vt_end *e = &ends[i];
          bool may_send = !e->shut && (!e->send_after_eof || e->eof);
          bool may_read = !e->eof && vt_now_ms () >= e->read_from_ms;
          p[i] = (struct pollfd) { .fd = e->fd,
                                   .events = (may_read ? POLLIN : 0)
                                             | (may_send ? POLLOUT : 0) };
          open += !vt_end_done (e);
        }
      if (open == 0)
        return 0;
      uint64_t now = vt_now_ms ();
      if (now >= deadline)
        {
          for (unsigned i = 0; i < n; i++)
            if (!vt_end_done (&ends[i]))
              {
                snprintf (why, wlen, "stream %u: timeout, sent %llu/%llu "
                          "received %llu/%llu", i,
                          (unsigned long long) ends[i].sent,
                          (unsigned long long) ends[i].send_len,
                          (unsigned long long) ends[i].received,
                          (unsigned long long) ends[i].recv_len);
                break;
              }
          return -1;
        }
      int wait = deadline - now < 100 ? (int) (deadline - now) : 100;
      if (poll (p, n, wait) < 0 && errno != EINTR)
        return vt_fail (why, wlen, "poll of %u streams failed (errno %llu)",
                        n, errno);
      if (tick)
        tick ();
      for (unsigned i = 0; i < n; i++)
        {
          if ((p[i].revents & (POLLIN | POLLHUP | POLLERR))
              && (p[i].events & POLLIN)
              && vt_recv_some (&ends[i], i, why, wlen) < 0)
            return -1;
          bool may_send = !ends[i].shut
                          && (!ends[i].send_after_eof || ends[i].eof);
          if (may_send && (p[i].revents & (POLLOUT | POLLERR))
              && vt_send_some (&ends[i], i, why, wlen) < 0)
            return -1;
        }
    }
}

/* Read one line (without its newline) within timeout_ms. */
static inline int
vt_read_line (int fd, char *line, size_t size, int timeout_ms)
{
  size_t len = 0;
  uint64_t deadline = vt_now_ms () + timeout_ms;
  while (len + 1 < size)
    {
      uint64_t now = vt_now_ms ();
      struct pollfd p = { .fd = fd, .events = POLLIN };
      if (now >= deadline || poll (&p, 1, deadline - now) <= 0)
        return -1;
      char ch;
      ssize_t r = read (fd, &ch, 1);
      if (r <= 0)
        return -1;
      if (ch == '\n')
        {
          line[len] = '\0';
          return 0;
        }
      line[len++] = ch;
    }
  return -1;
}

static inline int
vt_write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t w = send (fd, buf, len, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return -1;
      buf += w;
      len -= w;
    }
  return 0;
}

#endif
