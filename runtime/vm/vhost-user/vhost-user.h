/* The back-end (slave) side of the vhost-user protocol (QEMU
 * docs/interop/vhost-user.rst) for one virtio device: message framing over
 * a UNIX stream socket with fds passed by SCM_RIGHTS, the shared guest
 * memory table and the vrings.  The device itself plugs in through
 * struct hy_vhost_ops, so vsock and (later) virtio-fs share this code. */
#ifndef HYRUN_VM_VHOST_USER_H
#define HYRUN_VM_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "runtime/vm/virtqueue/guest-mem.h"
#include "runtime/vm/virtqueue/virtqueue.h"
#include "runtime/vm/watch.h"

#define HY_VHOST_MAX_QUEUES 8
#define HY_VHOST_MAX_CONFIG 256
#define HY_VHOST_MAX_PAYLOAD 4096
#define HY_VHOST_MAX_FDS 8

enum hy_vhost_request
{
  HY_VHOST_USER_GET_FEATURES = 1,
  HY_VHOST_USER_SET_FEATURES = 2,
  HY_VHOST_USER_SET_OWNER = 3,
  HY_VHOST_USER_RESET_OWNER = 4,
  HY_VHOST_USER_SET_MEM_TABLE = 5,
  HY_VHOST_USER_SET_LOG_BASE = 6,
  HY_VHOST_USER_SET_LOG_FD = 7,
  HY_VHOST_USER_SET_VRING_NUM = 8,
  HY_VHOST_USER_SET_VRING_ADDR = 9,
  HY_VHOST_USER_SET_VRING_BASE = 10,
  HY_VHOST_USER_GET_VRING_BASE = 11,
  HY_VHOST_USER_SET_VRING_KICK = 12,
  HY_VHOST_USER_SET_VRING_CALL = 13,
  HY_VHOST_USER_SET_VRING_ERR = 14,
  HY_VHOST_USER_GET_PROTOCOL_FEATURES = 15,
  HY_VHOST_USER_SET_PROTOCOL_FEATURES = 16,
  HY_VHOST_USER_GET_QUEUE_NUM = 17,
  HY_VHOST_USER_SET_VRING_ENABLE = 18,
  HY_VHOST_USER_GET_CONFIG = 24,
  HY_VHOST_USER_SET_CONFIG = 25,
  HY_VHOST_USER_RESET_DEVICE = 34,
  HY_VHOST_USER_GET_MAX_MEM_SLOTS = 36,
  HY_VHOST_USER_SET_STATUS = 39,
  HY_VHOST_USER_GET_STATUS = 40,
};

#define HY_VHOST_USER_VERSION 0x1
#define HY_VHOST_USER_FLAG_REPLY (1u << 2)
#define HY_VHOST_USER_FLAG_NEED_REPLY (1u << 3)
#define HY_VHOST_USER_VRING_IDX_MASK 0xffu
#define HY_VHOST_USER_VRING_NOFD (1u << 8)

#define HY_VHOST_USER_F_PROTOCOL_FEATURES 30
#define HY_VHOST_USER_PROTOCOL_F_MQ 0
#define HY_VHOST_USER_PROTOCOL_F_REPLY_ACK 3
#define HY_VHOST_USER_PROTOCOL_F_CONFIG 9
#define HY_VHOST_USER_PROTOCOL_F_RESET_DEVICE 13

struct hy_vhost_msg_hdr
{
  uint32_t request;
  uint32_t flags;
  uint32_t size;
} __attribute__ ((packed));

struct hy_vhost_vring_state
{
  uint32_t index;
  uint32_t num;
};

struct hy_vhost_vring_addr
{
  uint32_t index;
  uint32_t flags;
  uint64_t desc;
  uint64_t used;
  uint64_t avail;
  uint64_t log;
};

struct hy_vhost_mem_region
{
  uint64_t gpa;
  uint64_t size;
  uint64_t uva;
  uint64_t mmap_offset;
};

struct hy_vhost_mem
{
  uint32_t nregions;
  uint32_t padding;
  struct hy_vhost_mem_region regions[];
};

struct hy_vhost_config
{
  uint32_t offset;
  uint32_t size;
  uint32_t flags;
  uint8_t data[];
};

struct hy_vhost_dev;

struct hy_vhost_ops
{
  const char *name;    /* for log lines */
  uint64_t features;   /* virtio features offered (PROTOCOL_FEATURES added) */
  unsigned num_queues; /* at most HY_VHOST_MAX_QUEUES */
  /* Fill buf with config space [offset, offset + len); < 0 if out of it. */
  int (*get_config) (struct hy_vhost_dev *d, uint32_t offset, uint8_t *buf,
                     uint32_t len);
  /* Optional; a device without it has a read-only config space. */
  int (*set_config) (struct hy_vhost_dev *d, uint32_t offset,
                     const uint8_t *buf, uint32_t len);
  /* The guest kicked queue idx, or it just became usable. */
  void (*queue_kicked) (struct hy_vhost_dev *d, unsigned idx);
  /* Optional: queue idx stopped (GET_VRING_BASE). */
  void (*queue_stopped) (struct hy_vhost_dev *d, unsigned idx);
  /* Optional: the front-end reset the device. */
  void (*reset) (struct hy_vhost_dev *d);
};

struct hy_vhost_queue
{
  struct hy_vq vq;
  struct hy_vhost_dev *dev;
  unsigned idx;
  uint16_t num;
  uint64_t desc_uva, avail_uva, used_uva;
  bool addr_set;
  bool started; /* kick fd given, not stopped since */
  bool enabled;
  bool polled;  /* started without a kick fd */
  struct hy_vm_watch kick;
  int err_fd;
};

struct hy_vhost_dev
{
  const struct hy_vhost_ops *ops;
  void *opaque; /* the device's */
  int epfd;
  struct hy_vm_watch sock;
  bool verbose;      /* log every message received */
  bool disconnected; /* the front-end went away or broke the protocol */
  bool owned;
  uint64_t acked_features;
  uint64_t protocol_features;
  struct hy_guest_mem mem;
  struct hy_vhost_queue q[HY_VHOST_MAX_QUEUES];
};

/* Serve the front-end connected on sock_fd (owned from now on) through epfd. */
int hy_vhost_dev_init (struct hy_vhost_dev *d, int epfd, int sock_fd,
                       const struct hy_vhost_ops *ops, void *opaque,
                       hy_error_t *err);
void hy_vhost_dev_release (struct hy_vhost_dev *d);

/* Queue idx if the guest can use it now (started, enabled, rings mapped,
 * not broken), else NULL. */
struct hy_vq *hy_vhost_queue_get (struct hy_vhost_dev *d, unsigned idx);

/* Queues without kick fd: call queue_kicked for them; returns whether there
 * are such queues (the loop must then not sleep long). */
bool hy_vhost_poll (struct hy_vhost_dev *d);

/* Read and handle one message (the socket's watch callback does this). */
int hy_vhost_handle_one (struct hy_vhost_dev *d, hy_error_t *err);

const char *hy_vhost_request_name (uint32_t request);

#endif
