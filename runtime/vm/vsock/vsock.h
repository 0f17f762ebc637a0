/* hyrun's vhost-user virtio-vsock device, with Firecracker's hybrid
 * AF_UNIX mapping of vsock onto the host:
 *   - a host program connects to the UNIX socket `uds_path`, writes
 *     "CONNECT <port>\n", reads "OK <hostport>\n" once the guest accepted,
 *     then the stream is the guest's vsock port <port>;
 *   - a guest connection to host (CID 2) port N is connected to the UNIX
 *     socket "<uds_path>_N".
 * Guest-to-host bytes wait in a per-connection buffer of HY_VSOCK_BUF_ALLOC
 * bytes (the credit the guest gets); host-to-guest bytes are read from the
 * UNIX socket only as far as the guest's credit allows. */
#ifndef HYRUN_VM_VSOCK_H
#define HYRUN_VM_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

#define HY_VSOCK_HOST_CID 2
#define HY_VSOCK_BUF_ALLOC (256 * 1024)
#define HY_VSOCK_MAX_PKT (64 * 1024)

enum
{
  HY_VSOCK_QUEUE_RX = 0,
  HY_VSOCK_QUEUE_TX = 1,
  HY_VSOCK_QUEUE_EVENT = 2,
};

enum hy_vsock_op
{
  HY_VSOCK_OP_INVALID = 0,
  HY_VSOCK_OP_REQUEST = 1,
  HY_VSOCK_OP_RESPONSE = 2,
  HY_VSOCK_OP_RST = 3,
  HY_VSOCK_OP_SHUTDOWN = 4,
  HY_VSOCK_OP_RW = 5,
  HY_VSOCK_OP_CREDIT_UPDATE = 6,
  HY_VSOCK_OP_CREDIT_REQUEST = 7,
};

#define HY_VSOCK_TYPE_STREAM 1
#define HY_VSOCK_SHUTDOWN_RCV 1
#define HY_VSOCK_SHUTDOWN_SEND 2

/* struct virtio_vsock_hdr, little-endian on the wire. */
struct hy_vsock_hdr
{
  uint64_t src_cid;
  uint64_t dst_cid;
  uint32_t src_port;
  uint32_t dst_port;
  uint32_t len;
  uint16_t type;
  uint16_t op;
  uint32_t flags;
  uint32_t buf_alloc;
  uint32_t fwd_cnt;
} __attribute__ ((packed));

struct hy_vsock_opts
{
  /* The vhost-user socket: an fd already connected to the front-end, or
   * else a path to listen on for one front-end (QEMU's chardev client). */
  int vhost_fd;
  const char *vhost_socket;
  const char *uds_path; /* host side, see above */
  uint64_t guest_cid;   /* 3 .. 0xfffffffe */
  bool verbose;         /* log every vhost-user message to stderr */
};

/* Serve until the front-end disconnects.  Returns 0 then, < 0 on setup
 * errors (bad CID, sockets). */
int hy_vsock_backend_run (const struct hy_vsock_opts *opts, hy_error_t *err);

#endif
