/* A test front-end playing QEMU's part against hyrun's vhost-user
 * back-ends: a memfd as guest memory, the vhost-user messages, and a tiny
 * virtio driver that places descriptor chains in the rings. */
#ifndef HYRUN_TESTS_VHOST_FRONT_H
#define HYRUN_TESTS_VHOST_FRONT_H

#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/vm/vhost-user/vhost-user.h"
#include "runtime/vm/virtqueue/virtqueue.h"

#define FE_MEM_SIZE (8u << 20)
#define FE_UVA_BASE 0x7f1200000000ull /* the "front-end's" address of gpa 0 */
#define FE_QSIZE 64
#define FE_RING(q) (0x10000u * (q))
#define FE_DATA(q, i) (0x100000u + 0x200000u * (q) + 0x8000u * (i))
#define FE_DATA_SIZE 0x8000u

struct fe_queue
{
  struct hy_vring_desc *desc;
  struct hy_vring_avail *avail;
  struct hy_vring_used *used;
  uint16_t avail_idx, used_seen;
  unsigned next_desc;
  int kick, call;
};

struct front
{
  int sock;
  int memfd;
  uint8_t *mem;
  struct fe_queue q[3];
};

static inline int
fe_send (struct front *fe, uint32_t req, uint32_t flags, const void *payload,
         uint32_t size, const int *fds, unsigned nfds)
{
  struct hy_vhost_msg_hdr hdr = { req, HY_VHOST_USER_VERSION | flags, size };
  uint8_t buf[sizeof (hdr) + HY_VHOST_MAX_PAYLOAD];
  memcpy (buf, &hdr, sizeof (hdr));
  if (size)
    memcpy (buf + sizeof (hdr), payload, size);
  struct iovec iov = { buf, sizeof (hdr) + size };
  union
  {
    char b[CMSG_SPACE (sizeof (int) * 8)];
    struct cmsghdr align;
  } ctl;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (nfds)
    {
      memset (&ctl, 0, sizeof (ctl));
      mh.msg_control = ctl.b;
      mh.msg_controllen = CMSG_SPACE (sizeof (int) * nfds);
      struct cmsghdr *c = CMSG_FIRSTHDR (&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int) * nfds);
      memcpy (CMSG_DATA (c), fds, sizeof (int) * nfds);
    }
  return sendmsg (fe->sock, &mh, MSG_NOSIGNAL) == (ssize_t) iov.iov_len ? 0
                                                                       : -1;
}

/* Read one reply; returns its payload size or -1. */
static inline int
fe_recv (struct front *fe, uint32_t req, void *payload, size_t max)
{
  struct pollfd p = { fe->sock, POLLIN, 0 };
  if (poll (&p, 1, 5000) != 1)
    return -1;
  struct hy_vhost_msg_hdr hdr;
  if (recv (fe->sock, &hdr, sizeof (hdr), MSG_WAITALL) != sizeof (hdr))
    return -1;
  if (hdr.request != req
      || hdr.flags != (HY_VHOST_USER_VERSION | HY_VHOST_USER_FLAG_REPLY)
      || hdr.size > max)
    return -1;
  if (hdr.size
      && recv (fe->sock, payload, hdr.size, MSG_WAITALL) != (ssize_t) hdr.size)
    return -1;
  return hdr.size;
}

static inline int
fe_get_u64 (struct front *fe, uint32_t req, uint64_t *v)
{
  if (fe_send (fe, req, 0, NULL, 0, NULL, 0) < 0)
    return -1;
  return fe_recv (fe, req, v, sizeof (*v)) == sizeof (*v) ? 0 : -1;
}

/* Send with NEED_REPLY and return the ack value (0 = success), -1 on
 * transport errors. */
static inline long long
fe_call (struct front *fe, uint32_t req, const void *payload, uint32_t size,
         const int *fds, unsigned nfds)
{
  if (fe_send (fe, req, HY_VHOST_USER_FLAG_NEED_REPLY, payload, size, fds,
               nfds)
      < 0)
    return -1;
  uint64_t v;
  if (fe_recv (fe, req, &v, sizeof (v)) != sizeof (v))
    return -1;
  return (long long) v;
}

static inline int
fe_mem_init (struct front *fe)
{
  fe->memfd = memfd_create ("guest-mem", MFD_CLOEXEC);
  if (fe->memfd < 0 || ftruncate (fe->memfd, FE_MEM_SIZE) < 0)
    return -1;
  fe->mem = mmap (NULL, FE_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                  fe->memfd, 0);
  if (fe->mem == MAP_FAILED)
    return -1;
  for (unsigned q = 0; q < 3; q++)
    {
      struct fe_queue *fq = &fe->q[q];
      fq->desc = (void *) (fe->mem + FE_RING (q));
      fq->avail = (void *) (fe->mem + FE_RING (q) + 0x1000);
      fq->used = (void *) (fe->mem + FE_RING (q) + 0x2000);
      fq->kick = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
      fq->call = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    }
  return 0;
}

/* Mem table with one region, gpa 0 = FE_UVA_BASE, from memfd offset 0. */
static inline long long
fe_set_mem_table (struct front *fe, uint64_t size, uint64_t offset)
{
  struct
  {
    struct hy_vhost_mem m;
    struct hy_vhost_mem_region r[1];
  } t = { { 1, 0 }, { { 0, size, FE_UVA_BASE, offset } } };
  return fe_call (fe, HY_VHOST_USER_SET_MEM_TABLE, &t, sizeof (t),
                  &fe->memfd, 1);
}

static inline int
fe_setup_queue (struct front *fe, unsigned q)
{
  struct hy_vhost_vring_state st = { q, FE_QSIZE };
  struct hy_vhost_vring_state base = { q, 0 };
  struct hy_vhost_vring_addr a = {
    .index = q,
    .desc = FE_UVA_BASE + FE_RING (q),
    .avail = FE_UVA_BASE + FE_RING (q) + 0x1000,
    .used = FE_UVA_BASE + FE_RING (q) + 0x2000,
  };
  uint64_t idx = q;
  struct hy_vhost_vring_state en = { q, 1 };
  if (fe_call (fe, HY_VHOST_USER_SET_VRING_NUM, &st, sizeof (st), NULL, 0)
      || fe_call (fe, HY_VHOST_USER_SET_VRING_BASE, &base, sizeof (base),
                  NULL, 0)
      || fe_call (fe, HY_VHOST_USER_SET_VRING_ADDR, &a, sizeof (a), NULL, 0)
      || fe_call (fe, HY_VHOST_USER_SET_VRING_CALL, &idx, 8, &fe->q[q].call,
                  1)
      || fe_call (fe, HY_VHOST_USER_SET_VRING_KICK, &idx, 8, &fe->q[q].kick,
                  1)
      || fe_call (fe, HY_VHOST_USER_SET_VRING_ENABLE, &en, sizeof (en), NULL,
                  0))
    return -1;
  return 0;
}

/* The whole start-up, as QEMU does it when the driver sets DRIVER_OK. */
static inline int
fe_handshake (struct front *fe, unsigned nqueues, uint64_t extra_features)
{
  uint64_t f, pf;
  if (fe_get_u64 (fe, HY_VHOST_USER_GET_FEATURES, &f) < 0
      || !(f & (1ull << HY_VHOST_USER_F_PROTOCOL_FEATURES))
      || fe_get_u64 (fe, HY_VHOST_USER_GET_PROTOCOL_FEATURES, &pf) < 0
      || !(pf & (1ull << HY_VHOST_USER_PROTOCOL_F_REPLY_ACK)))
    return -1;
  pf = (1ull << HY_VHOST_USER_PROTOCOL_F_REPLY_ACK)
       | (1ull << HY_VHOST_USER_PROTOCOL_F_CONFIG);
  if (fe_send (fe, HY_VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, 8, NULL, 0)
      || fe_call (fe, HY_VHOST_USER_SET_OWNER, NULL, 0, NULL, 0))
    return -1;
  uint64_t acked = (1ull << HY_VIRTIO_F_VERSION_1)
                   | (1ull << HY_VHOST_USER_F_PROTOCOL_FEATURES)
                   | extra_features;
  if (fe_call (fe, HY_VHOST_USER_SET_FEATURES, &acked, 8, NULL, 0)
      || fe_set_mem_table (fe, FE_MEM_SIZE, 0))
    return -1;
  for (unsigned q = 0; q < nqueues; q++)
    if (fe_setup_queue (fe, q) < 0)
      return -1;
  return 0;
}

/* ---- the driver ---- */

static inline uint64_t
fe_gpa (struct front *fe, const void *p)
{
  return (const uint8_t *) p - fe->mem;
}

/* Place a chain of n descriptors given by (gpa, len, flags) and make it
 * available; returns the head.  The caller sets NEXT/next itself when
 * `link` is false (hostile chains). */
static inline uint16_t
fe_add_chain (struct front *fe, unsigned q, const struct hy_vring_desc *d,
              unsigned n, int link)
{
  struct fe_queue *fq = &fe->q[q];
  uint16_t head = fq->next_desc % FE_QSIZE;
  for (unsigned i = 0; i < n; i++)
    {
      uint16_t slot = (head + i) % FE_QSIZE;
      fq->desc[slot] = d[i];
      if (link && i + 1 < n)
        {
          fq->desc[slot].flags |= HY_VRING_DESC_F_NEXT;
          fq->desc[slot].next = (slot + 1) % FE_QSIZE;
        }
    }
  fq->next_desc += n;
  fq->avail->ring[fq->avail_idx % FE_QSIZE] = head;
  __atomic_store_n (&fq->avail->idx, ++fq->avail_idx, __ATOMIC_RELEASE);
  return head;
}

static inline void
fe_kick (struct front *fe, unsigned q)
{
  eventfd_write (fe->q[q].kick, 1);
}

/* Wait for the next used entry of queue q. */
static inline int
fe_wait_used (struct front *fe, unsigned q, struct hy_vring_used_elem *e,
              int timeout_ms)
{
  struct fe_queue *fq = &fe->q[q];
  *e = (struct hy_vring_used_elem) { 0xffff, 0 };
  for (int waited = 0; waited <= timeout_ms; waited += 10)
    {
      uint16_t idx = __atomic_load_n (&fq->used->idx, __ATOMIC_ACQUIRE);
      if (idx != fq->used_seen)
        {
          *e = fq->used->ring[fq->used_seen++ % FE_QSIZE];
          return 0;
        }
      struct pollfd p = { fq->call, POLLIN, 0 };
      if (poll (&p, 1, 10) == 1)
        {
          eventfd_t v;
          eventfd_read (fq->call, &v);
        }
    }
  return -1;
}

#endif
