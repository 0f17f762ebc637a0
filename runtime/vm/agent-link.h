/* The host's end of the agent protocol (docs/AGENT-PROTOCOL.md) as the VM
 * supervisor and the CLI verbs use it: a control connection with the
 * hello checked, requests numbered by the link, replies read back with
 * everything the guest sent bounds-checked; stream attachment; the hybrid
 * vsock CONNECT handshake. */
#ifndef HYRUN_VM_AGENT_LINK_H
#define HYRUN_VM_AGENT_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

#define HY_AGENT_PROTOCOL_VERSION 1
#define HY_AGENT_MAX_FRAME (1U << 20)
#define HY_AGENT_CALL_TIMEOUT_MS 60000

struct hy_machine;

struct hy_agent_link
{
  int fd;
  uint32_t last_seq;
  char *kernel; /* from the hello */
};

/* A frame from the agent: a response (seq != 0) or an event. */
struct hy_agent_reply
{
  char *type;
  uint32_t seq;
  char *error;   /* a response's failure, NULL on success */
  int exit_code; /* wait */
  int signal;    /* wait: killed by this signal; else 0 */
  int pid;       /* create, exec */
  char *id;      /* oom */
  char *text;    /* the whole frame, for callers with more to read */
};

void hy_agent_link_init (struct hy_agent_link *l);
void hy_agent_link_close (struct hy_agent_link *l);

/* Take `fd` (a connected control connection) and read the hello. */
int hy_agent_link_open (struct hy_agent_link *l, int fd,
                        const struct hy_machine *m, hy_error_t *err);

/* Connect to guest port `port` through the hybrid vsock socket `uds`. */
int hy_agent_link_connect (const char *uds, uint32_t port, int *fd,
                           hy_error_t *err);

/* A control connection to the agent (port 1024), hello read. */
int hy_agent_link_dial (struct hy_agent_link *l, const char *uds,
                        hy_error_t *err);

/* A stream connection for process `id`, attach frame sent. */
int hy_agent_link_attach (const char *uds, uint32_t port, const char *id,
                          const char *stream, int *fd, hy_error_t *err);

/* Send {"type":<type>,"seq":<n><members>}: `members` is "" or JSON
 * members with a leading comma.  *seq (may be NULL) gets n. */
int hy_agent_link_send (struct hy_agent_link *l, const char *type,
                        const char *members, uint32_t *seq, hy_error_t *err);

/* Read one frame (blocking). */
int hy_agent_link_read (struct hy_agent_link *l, struct hy_agent_reply *r,
                        hy_error_t *err);

/* Send, then read until the response to it (others are dropped). */
int hy_agent_link_call (struct hy_agent_link *l, const char *type,
                        const char *members, struct hy_agent_reply *r,
                        hy_error_t *err);

/* Turn a response's error into err ("<what>: <error>") and release r. */
int hy_agent_reply_check (struct hy_agent_reply *r, const char *what,
                          hy_error_t *err);
void hy_agent_reply_release (struct hy_agent_reply *r);

#endif
