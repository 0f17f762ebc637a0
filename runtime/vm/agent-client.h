/* The host's side of the guest agent protocol (docs/AGENT-PROTOCOL.md):
 * what the VM supervisor and `hyrun exec/kill/ps` use to talk to
 * hyrun-agent.
 *
 * A transport is only "how to get a connected fd": through
 * hyrun-vhost-vsock's hybrid socket in a VM, or the agent's AF_UNIX
 * sockets in a directory in test mode.  A control connection
 * (hy_agent_conn) starts with the agent's hello and then carries requests
 * and responses, either one blocking call at a time (hy_agent_call) or
 * driven from the caller's epoll loop (hy_agent_send + hy_agent_conn_handle
 * with callbacks), or both on the same connection.  Everything the guest
 * sends is checked; a bad frame is "guest agent: protocol error: ...". */
#ifndef HYRUN_VM_AGENT_CLIENT_H
#define HYRUN_VM_AGENT_CLIENT_H

#include <stdint.h>

#include "agent-protocol/message.h"
#include "common/error.h"

enum hy_agent_transport_kind
{
  HY_AGENT_VSOCK,    /* path: the backend's socket, <vm>/vsock.sock */
  HY_AGENT_UNIX_DIR, /* path: the test-mode agent's --transport unix:DIR */
};

struct hy_agent_transport
{
  enum hy_agent_transport_kind kind;
  const char *path;
};

/* A connected fd to the guest's `port` (blocking, close-on-exec).  Over
 * vsock: "CONNECT <port>\n" answered by "OK <n>\n" within timeout_ms. */
int hy_agent_connect (const struct hy_agent_transport *t, uint32_t port,
                      int timeout_ms, hy_error_t *err);

/* Listen where the agent's ready connection comes (<vm>/vsock.sock_1024,
 * DIR/host_1024); do it before the guest boots. */
int hy_agent_listen_ready (const struct hy_agent_transport *t,
                           hy_error_t *err);

/* Accept the ready connection within timeout_ms (-1: no limit). */
int hy_agent_accept_ready (int listen_fd, int timeout_ms, hy_error_t *err);

/* ---- control connections ---- */

struct hy_agent_conn;

/* Take over a connected fd (closed on failure too), read the hello within
 * timeout_ms and check its version. */
int hy_agent_conn_open (int fd, int timeout_ms, struct hy_agent_conn **out,
                        hy_error_t *err);
void hy_agent_conn_free (struct hy_agent_conn *c);

/* The guest's `uname -r`, from the hello. */
const char *hy_agent_conn_kernel (const struct hy_agent_conn *c);

/* Send `req` (req->seq is set here) and wait up to timeout_ms (-1: no
 * limit) for its response.  The agent's error comes back as *err with
 * its text unchanged; on success *resp holds the response's members
 * (hy_agent_response_release).  Responses to other requests and events
 * arriving meanwhile go to the callbacks. */
int hy_agent_call (struct hy_agent_conn *c, struct hy_agent_request *req,
                   int timeout_ms, struct hy_agent_response *resp,
                   hy_error_t *err);

/* ---- the event-driven form ---- */

/* A response to a request sent with hy_agent_send; r->error set when the
 * agent reports one. */
typedef void (*hy_agent_response_cb) (void *data,
                                      enum hy_agent_request_kind kind,
                                      const struct hy_agent_response *r);
typedef void (*hy_agent_event_cb) (void *data, const struct hy_agent_event *e);

void hy_agent_conn_set_callbacks (struct hy_agent_conn *c,
                                  hy_agent_response_cb on_response,
                                  hy_agent_event_cb on_event, void *data);

/* Queue `req` (req->seq is set here); hy_agent_conn_handle writes it. */
int hy_agent_send (struct hy_agent_conn *c, struct hy_agent_request *req,
                   hy_error_t *err);

/* The fd to watch and the events to wait for: EPOLLIN, and EPOLLOUT while
 * requests wait to be written (the same bits as POLLIN/POLLOUT). */
int hy_agent_conn_fd (const struct hy_agent_conn *c);
uint32_t hy_agent_conn_events (const struct hy_agent_conn *c);

/* Act on `events` (epoll or poll bits): write what is queued, read what
 * came and run the callbacks.  Returns 0 to go on, 1 when the agent
 * closed the connection, <0 on a protocol or I/O error. */
int hy_agent_conn_handle (struct hy_agent_conn *c, uint32_t events,
                          hy_error_t *err);

/* ---- streams ---- */

/* Connect to the stream port and attach to `stream` (one HY_AGENT_* bit)
 * of process `id`; the returned fd carries the raw bytes. */
int hy_agent_attach (const struct hy_agent_transport *t, const char *id,
                     unsigned stream, int timeout_ms, hy_error_t *err);

#endif
