/* A split virtqueue (virtio 1.x, 2.7) living in guest memory, as seen by the
 * device.  Everything in the rings is written by the guest and treated as
 * hostile: indices, descriptor addresses, lengths, chain loops and indirect
 * tables are all checked; a bad chain is dropped (returned with length 0),
 * a bad ring (avail index or head out of range) marks the queue broken. */
#ifndef HYRUN_VM_VIRTQUEUE_H
#define HYRUN_VM_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "runtime/vm/virtqueue/guest-mem.h"

#define HY_VQ_MAX_SIZE 32768
/* Longest chain accepted, direct and indirect descriptors together. */
#define HY_VQ_MAX_SEGS 128

#define HY_VRING_DESC_F_NEXT 1
#define HY_VRING_DESC_F_WRITE 2
#define HY_VRING_DESC_F_INDIRECT 4
#define HY_VRING_USED_F_NO_NOTIFY 1
#define HY_VRING_AVAIL_F_NO_INTERRUPT 1

#define HY_VIRTIO_F_RING_INDIRECT_DESC 28
#define HY_VIRTIO_F_RING_EVENT_IDX 29
#define HY_VIRTIO_F_VERSION_1 32

struct hy_vring_desc
{
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

struct hy_vring_avail
{
  uint16_t flags;
  uint16_t idx;
  uint16_t ring[]; /* num entries, then used_event */
};

struct hy_vring_used_elem
{
  uint32_t id;
  uint32_t len;
};

struct hy_vring_used
{
  uint16_t flags;
  uint16_t idx;
  struct hy_vring_used_elem ring[]; /* num entries, then avail_event */
};

struct hy_vq_seg
{
  uint8_t *p;
  uint32_t len;
};

/* One descriptor chain: the device-readable segments come first (nout),
 * then the device-writable ones (nin). */
struct hy_vq_chain
{
  uint16_t head;
  unsigned nout, nin;
  uint64_t out_len, in_len;
  struct hy_vq_seg seg[HY_VQ_MAX_SEGS];
};

struct hy_vq
{
  uint16_t num;
  uint16_t last_avail; /* next avail entry to take */
  uint16_t used_idx;   /* next used entry to fill */
  uint16_t signalled_used;
  bool signalled_valid;
  bool event_idx;      /* VIRTIO_RING_F_EVENT_IDX negotiated */
  bool indirect;       /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
  bool broken;
  unsigned dropped;    /* bad chains returned unused */
  struct hy_vring_desc *desc;
  struct hy_vring_avail *avail;
  struct hy_vring_used *used;
  const struct hy_guest_mem *mem;
  int call_fd; /* eventfd to signal the guest, -1: none */
};

void hy_vq_init (struct hy_vq *vq);

/* Check num (a power of two up to HY_VQ_MAX_SIZE) and the alignment and
 * placement of the three rings, given as front-end virtual addresses, and
 * point vq at them.  used_idx is taken from the used ring (the front-end
 * may have restarted the queue). */
int hy_vq_setup (struct hy_vq *vq, const struct hy_guest_mem *mem,
                 uint16_t num, uint64_t desc_uva, uint64_t avail_uva,
                 uint64_t used_uva, hy_error_t *err);

bool hy_vq_ready (const struct hy_vq *vq);

/* 1: *c holds the next chain; 0: nothing available; -1: queue broken. */
int hy_vq_pop (struct hy_vq *vq, struct hy_vq_chain *c);

/* Give back the last popped chain unused (it will be popped again). */
void hy_vq_unpop (struct hy_vq *vq);

/* Return a chain to the guest with `written` bytes written into it. */
void hy_vq_push (struct hy_vq *vq, uint16_t head, uint32_t written);

/* Signal the guest if it wants to be (flags or used_event). */
void hy_vq_notify (struct hy_vq *vq);
bool hy_vq_need_notify (struct hy_vq *vq);

/* Copy out of the readable / into the writable part of a chain from byte
 * `off`; return the bytes copied. */
size_t hy_vq_chain_read (const struct hy_vq_chain *c, uint64_t off, void *buf,
                         size_t len);
size_t hy_vq_chain_write (const struct hy_vq_chain *c, uint64_t off,
                          const void *buf, size_t len);

#endif
