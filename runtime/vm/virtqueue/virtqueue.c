#include "runtime/vm/virtqueue/virtqueue.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>

void
hy_vq_init (struct hy_vq *vq)
{
  memset (vq, 0, sizeof (*vq));
  vq->call_fd = -1;
}

static void *
map_ring (const struct hy_guest_mem *mem, uint64_t uva, uint64_t len,
          uint64_t align, const char *what, hy_error_t *err)
{
  if (uva % align)
    {
      hy_error (err, EINVAL, "%s ring at 0x%llx is not %llu-byte aligned",
                what, (unsigned long long) uva, (unsigned long long) align);
      return NULL;
    }
  void *p = hy_guest_mem_uva (mem, uva, len);
  if (p == NULL || (uintptr_t) p % align)
    hy_error (err, EFAULT, "%s ring 0x%llx+%llu is outside guest memory",
              what, (unsigned long long) uva, (unsigned long long) len);
  return p;
}

int
hy_vq_setup (struct hy_vq *vq, const struct hy_guest_mem *mem, uint16_t num,
             uint64_t desc_uva, uint64_t avail_uva, uint64_t used_uva,
             hy_error_t *err)
{
  if (num == 0 || (num & (num - 1)) || num > HY_VQ_MAX_SIZE)
    return hy_error (err, EINVAL, "bad queue size %u", num);
  struct hy_vring_desc *desc
      = map_ring (mem, desc_uva, 16ull * num, 16, "descriptor", err);
  if (desc == NULL)
    return -1;
  struct hy_vring_avail *avail
      = map_ring (mem, avail_uva, 6ull + 2ull * num, 2, "available", err);
  if (avail == NULL)
    return -1;
  struct hy_vring_used *used
      = map_ring (mem, used_uva, 6ull + 8ull * num, 4, "used", err);
  if (used == NULL)
    return -1;
  vq->num = num;
  vq->desc = desc;
  vq->avail = avail;
  vq->used = used;
  vq->mem = mem;
  vq->broken = false;
  vq->signalled_valid = false;
  vq->used_idx = le16toh (__atomic_load_n (&used->idx, __ATOMIC_ACQUIRE));
  return 0;
}

bool
hy_vq_ready (const struct hy_vq *vq)
{
  return vq->desc != NULL && !vq->broken;
}

static uint16_t *
used_event (const struct hy_vq *vq)
{
  return &vq->avail->ring[vq->num];
}

static uint16_t *
avail_event (const struct hy_vq *vq)
{
  return (uint16_t *) &vq->used->ring[vq->num];
}

enum walk
{
  WALK_OK,
  WALK_BAD,
};

static enum walk
add_seg (const struct hy_vq *vq, struct hy_vq_chain *c,
         const struct hy_vring_desc *d)
{
  uint64_t addr = le64toh (d->addr);
  uint32_t len = le32toh (d->len);
  bool writable = le16toh (d->flags) & HY_VRING_DESC_F_WRITE;
  if (!writable && c->nin > 0)
    return WALK_BAD; /* readable after writable */
  if (len == 0)
    return WALK_OK;
  if (c->nout + c->nin >= HY_VQ_MAX_SEGS)
    return WALK_BAD;
  uint8_t *p = hy_guest_mem_gpa (vq->mem, addr, len);
  if (p == NULL)
    return WALK_BAD;
  c->seg[c->nout + c->nin] = (struct hy_vq_seg) { .p = p, .len = len };
  if (writable)
    {
      c->nin++;
      c->in_len += len;
    }
  else
    {
      c->nout++;
      c->out_len += len;
    }
  return WALK_OK;
}

/* Walk the chain from `head`; every descriptor is copied out of guest
 * memory before it is looked at, so the guest cannot change it under us. */
static enum walk
walk_chain (const struct hy_vq *vq, uint16_t head, struct hy_vq_chain *c)
{
  const struct hy_vring_desc *table = vq->desc;
  uint32_t size = vq->num, i = head, visited = 0;
  bool in_indirect = false;
  memset (c, 0, offsetof (struct hy_vq_chain, seg));
  c->head = head;
  for (;;)
    {
      struct hy_vring_desc d;
      if (i >= size || ++visited > size)
        return WALK_BAD; /* out of the table, or a loop */
      memcpy (&d, &table[i], sizeof (d));
      uint16_t flags = le16toh (d.flags);
      if (flags & HY_VRING_DESC_F_INDIRECT)
        {
          uint32_t len = le32toh (d.len);
          if (!vq->indirect || in_indirect || (flags & HY_VRING_DESC_F_NEXT)
              || len == 0 || len % sizeof (d) || len / sizeof (d) > 65536)
            return WALK_BAD;
          table = hy_guest_mem_gpa (vq->mem, le64toh (d.addr), len);
          if (table == NULL)
            return WALK_BAD;
          in_indirect = true;
          size = len / sizeof (d);
          i = 0;
          visited = 0;
          continue;
        }
      if (add_seg (vq, c, &d) != WALK_OK)
        return WALK_BAD;
      if (!(flags & HY_VRING_DESC_F_NEXT))
        return WALK_OK;
      i = le16toh (d.next);
    }
}

int
hy_vq_pop (struct hy_vq *vq, struct hy_vq_chain *c)
{
  if (!hy_vq_ready (vq))
    return -1;
  for (;;)
    {
      uint16_t avail_idx
          = le16toh (__atomic_load_n (&vq->avail->idx, __ATOMIC_ACQUIRE));
      uint16_t pending = avail_idx - vq->last_avail;
      if (pending > vq->num)
        {
          vq->broken = true;
          return -1;
        }
      if (pending == 0)
        {
          if (!vq->event_idx)
            return 0;
          /* Ask for a kick at the next entry, then look again so that an
           * entry added meanwhile is not missed. */
          __atomic_store_n (avail_event (vq), htole16 (vq->last_avail),
                            __ATOMIC_SEQ_CST);
          __atomic_thread_fence (__ATOMIC_SEQ_CST);
          avail_idx
              = le16toh (__atomic_load_n (&vq->avail->idx, __ATOMIC_ACQUIRE));
          if (avail_idx == vq->last_avail)
            return 0;
          continue;
        }
      uint16_t head = le16toh (__atomic_load_n (
          &vq->avail->ring[vq->last_avail % vq->num], __ATOMIC_RELAXED));
      if (head >= vq->num)
        {
          vq->broken = true;
          return -1;
        }
      vq->last_avail++;
      if (vq->event_idx)
        __atomic_store_n (avail_event (vq), htole16 (vq->last_avail),
                          __ATOMIC_RELAXED);
      if (walk_chain (vq, head, c) == WALK_OK)
        return 1;
      vq->dropped++;
      hy_vq_push (vq, head, 0);
    }
}

void
hy_vq_unpop (struct hy_vq *vq)
{
  vq->last_avail--;
}

void
hy_vq_push (struct hy_vq *vq, uint16_t head, uint32_t written)
{
  struct hy_vring_used_elem *e = &vq->used->ring[vq->used_idx % vq->num];
  __atomic_store_n (&e->id, htole32 (head), __ATOMIC_RELAXED);
  __atomic_store_n (&e->len, htole32 (written), __ATOMIC_RELAXED);
  vq->used_idx++;
  __atomic_store_n (&vq->used->idx, htole16 (vq->used_idx), __ATOMIC_RELEASE);
}

bool
hy_vq_need_notify (struct hy_vq *vq)
{
  if (vq->desc == NULL)
    return false;
  __atomic_thread_fence (__ATOMIC_SEQ_CST);
  if (!vq->event_idx)
    return !(le16toh (__atomic_load_n (&vq->avail->flags, __ATOMIC_RELAXED))
             & HY_VRING_AVAIL_F_NO_INTERRUPT);
  uint16_t old = vq->signalled_used, new = vq->used_idx;
  bool valid = vq->signalled_valid;
  vq->signalled_used = new;
  vq->signalled_valid = true;
  if (!valid)
    return true;
  uint16_t event = le16toh (__atomic_load_n (used_event (vq), __ATOMIC_RELAXED));
  return (uint16_t) (new - event - 1) < (uint16_t) (new - old);
}

void
hy_vq_notify (struct hy_vq *vq)
{
  if (hy_vq_need_notify (vq) && vq->call_fd >= 0)
    eventfd_write (vq->call_fd, 1);
}

size_t
hy_vq_chain_read (const struct hy_vq_chain *c, uint64_t off, void *buf,
                  size_t len)
{
  size_t done = 0;
  for (unsigned i = 0; i < c->nout && done < len; i++)
    {
      const struct hy_vq_seg *s = &c->seg[i];
      if (off >= s->len)
        {
          off -= s->len;
          continue;
        }
      size_t n = s->len - off;
      if (n > len - done)
        n = len - done;
      memcpy ((uint8_t *) buf + done, s->p + off, n);
      done += n;
      off = 0;
    }
  return done;
}

size_t
hy_vq_chain_write (const struct hy_vq_chain *c, uint64_t off, const void *buf,
                   size_t len)
{
  size_t done = 0;
  for (unsigned i = c->nout; i < c->nout + c->nin && done < len; i++)
    {
      const struct hy_vq_seg *s = &c->seg[i];
      if (off >= s->len)
        {
          off -= s->len;
          continue;
        }
      size_t n = s->len - off;
      if (n > len - done)
        n = len - done;
      memcpy (s->p + off, (const uint8_t *) buf + done, n);
      done += n;
      off = 0;
    }
  return done;
}
