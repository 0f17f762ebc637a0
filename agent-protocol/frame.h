/* Framing of the guest agent protocol (docs/AGENT-PROTOCOL.md): a 4-byte
 * little-endian length N, then N bytes of JSON, 1 <= N <= 1 MiB.
 *
 * The reader is incremental so that an epoll loop can feed it from a
 * non-blocking fd: it reads no further than the frame it is working on
 * and keeps partial frames between calls.  It grows its buffer as bytes
 * arrive, so a peer announcing 1 MiB and sending nothing costs nothing.
 * The writer is a queue flushed as the fd takes it. */
#ifndef HYRUN_AGENT_PROTOCOL_FRAME_H
#define HYRUN_AGENT_PROTOCOL_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define HY_AGENT_MAX_FRAME (1024u * 1024u)

enum hy_frame_status
{
  HY_FRAME_ERROR = -1, /* *err says why; the connection is unusable */
  HY_FRAME_AGAIN = 0,  /* the fd has nothing more now (EAGAIN) */
  HY_FRAME_DONE = 1,   /* a whole frame was read */
  HY_FRAME_EOF = 2,    /* the peer closed (or reset) between two frames */
};

struct hy_frame_reader
{
  uint8_t header[4];
  size_t header_got;
  char *body;
  size_t body_len; /* announced */
  size_t body_got;
  size_t body_cap;
};

void hy_frame_reader_init (struct hy_frame_reader *r);
void hy_frame_reader_release (struct hy_frame_reader *r);

/* Whether a frame has been started but not finished. */
bool hy_frame_reader_partial (const struct hy_frame_reader *r);

/* Read from fd until a frame is complete or the fd would block.  On
 * HY_FRAME_DONE, *body (NUL-terminated, caller frees) and *len hold it.
 * A length out of 1..HY_AGENT_MAX_FRAME and a close inside a frame are
 * errors. */
enum hy_frame_status hy_frame_read (struct hy_frame_reader *r, int fd,
                                    char **body, size_t *len,
                                    hy_error_t *err);

/* Feed bytes already read (tests, or a caller with its own buffer): like
 * hy_frame_read, consuming from *data / *n what it uses. */
enum hy_frame_status hy_frame_feed (struct hy_frame_reader *r,
                                    const uint8_t **data, size_t *n,
                                    char **body, size_t *len,
                                    hy_error_t *err);

struct hy_frame_writer
{
  uint8_t *buf;
  size_t len; /* bytes queued, from buf[off] */
  size_t off;
  size_t cap;
};

void hy_frame_writer_init (struct hy_frame_writer *w);
void hy_frame_writer_release (struct hy_frame_writer *w);

/* Queue one frame.  Bodies of 0 or more than HY_AGENT_MAX_FRAME bytes are
 * refused (a bug of the caller, but reported as an error). */
int hy_frame_writer_add (struct hy_frame_writer *w, const char *body,
                         size_t len, hy_error_t *err);

/* Write what fd takes: 1 once the queue is empty, 0 when fd would block
 * with bytes left, HY_FRAME_ERROR on a write error (EPIPE included). */
int hy_frame_writer_flush (struct hy_frame_writer *w, int fd,
                           hy_error_t *err);

static inline size_t
hy_frame_writer_pending (const struct hy_frame_writer *w)
{
  return w->len;
}

#endif
