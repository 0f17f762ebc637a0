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
#include <sys/types.h>

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
  /* The vhost-user socket: an fd already connected to the front-end (one
   * end of a socketpair whose other end is QEMU's `-chardev
   * socket,fd=N`), or else -1 and a path to listen on for one front-end
   * (QEMU's chardev client).  The backend makes a path it listens on
   * itself, and unlinks it once the front-end connected. */
  int vhost_fd;
  const char *vhost_socket;
  /* The host side, see above.  uds_path is always needed: it names the
   * "<uds_path>_<port>" sockets of guest-initiated connections.  uds_fd
   * is -1, or a listening AF_UNIX stream socket already bound to uds_path
   * by the caller: then the caller made the path and unlinks it; with
   * uds_fd -1 the backend binds uds_path itself (replacing a stale socket
   * nobody listens on, refusing a live one) and unlinks it when it
   * returns. */
  int uds_fd;
  const char *uds_path;
  uint64_t guest_cid; /* 3 .. 0xfffffffe */
  bool verbose;       /* log every vhost-user message to stderr */
};

/* Serve until the front-end disconnects (QEMU exited, was killed, or
 * broke the protocol), then close every host connection and return 0;
 * < 0 on setup errors (bad CID, bad fds, sockets).  vhost_fd and uds_fd
 * belong to the backend from the call on: they are closed when it returns,
 * in every case.  It opens all its fds close-on-exec, sets them on the two
 * it is given, and makes uds_fd non-blocking.
 *
 * Embedding: a process running this must not hold QEMU's end of the
 * socketpair, and nobody but QEMU may, else the backend never sees QEMU go
 * away; hy_vsock_backend_spawn() below gets that right.  The backend uses
 * no signals; SIGPIPE cannot reach it (all its socket writes use
 * MSG_NOSIGNAL). */
int hy_vsock_backend_run (const struct hy_vsock_opts *opts, hy_error_t *err);

/* What the VM supervisor calls: check opts (errors come back here), fork a
 * child that closes every fd but 0-2, vhost_fd and uds_fd (so it holds no
 * copy of QEMU's end nor anything else of the parent's), resets signal
 * handlers and mask to the defaults, serves with hy_vsock_backend_run()
 * and _exits 0 when QEMU has gone (1 after a setup error, logged to
 * stderr).  The parent's vhost_fd and uds_fd are closed when this returns,
 * in every case; the parent must also close QEMU's end once QEMU has it.
 * Returns the child's pid (the caller reaps it), or -1. */
pid_t hy_vsock_backend_spawn (const struct hy_vsock_opts *opts,
                              hy_error_t *err);

#endif
