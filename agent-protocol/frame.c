#include "agent-protocol/frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"

/* The body buffer grows by at most this much beyond what has arrived. */
#define BODY_CHUNK (64u * 1024u)

void
hy_frame_reader_init (struct hy_frame_reader *r)
{
  *r = (struct hy_frame_reader){ 0 };
}

void
hy_frame_reader_release (struct hy_frame_reader *r)
{
  free (r->body);
  hy_frame_reader_init (r);
}

bool
hy_frame_reader_partial (const struct hy_frame_reader *r)
{
  return r->header_got > 0;
}

/* Where the next bytes go and how many the current frame still wants. */
static uint8_t *
next_space (struct hy_frame_reader *r, size_t *n)
{
  if (r->header_got < sizeof (r->header))
    {
      *n = sizeof (r->header) - r->header_got;
      return r->header + r->header_got;
    }
  if (r->body_got == r->body_cap)
    {
      size_t cap = r->body_cap + BODY_CHUNK;
      if (cap > r->body_len)
        cap = r->body_len;
      r->body = xrealloc (r->body, cap + 1);
      r->body_cap = cap;
    }
  *n = r->body_cap - r->body_got;
  return (uint8_t *) r->body + r->body_got;
}

static enum hy_frame_status
header_done (struct hy_frame_reader *r, hy_error_t *err)
{
  uint32_t n = (uint32_t) r->header[0] | (uint32_t) r->header[1] << 8
               | (uint32_t) r->header[2] << 16
               | (uint32_t) r->header[3] << 24;
  if (n == 0 || n > HY_AGENT_MAX_FRAME)
    {
      hy_error (err, EPROTO, "frame length %u out of range (1..%u)", n,
                HY_AGENT_MAX_FRAME);
      return HY_FRAME_ERROR;
    }
  r->body_len = n;
  return HY_FRAME_AGAIN;
}

/* Account n bytes just stored at next_space(). */
static enum hy_frame_status
took (struct hy_frame_reader *r, size_t n, char **body, size_t *len,
      hy_error_t *err)
{
  if (r->header_got < sizeof (r->header))
    {
      r->header_got += n;
      if (r->header_got == sizeof (r->header))
        return header_done (r, err);
      return HY_FRAME_AGAIN;
    }
  r->body_got += n;
  if (r->body_got < r->body_len)
    return HY_FRAME_AGAIN;
  r->body[r->body_len] = '\0';
  *body = r->body;
  *len = r->body_len;
  r->body = NULL;
  r->header_got = r->body_len = r->body_got = r->body_cap = 0;
  return HY_FRAME_DONE;
}

enum hy_frame_status
hy_frame_feed (struct hy_frame_reader *r, const uint8_t **data, size_t *n,
               char **body, size_t *len, hy_error_t *err)
{
  while (*n > 0)
    {
      size_t room;
      uint8_t *dst = next_space (r, &room);
      size_t k = room < *n ? room : *n;
      memcpy (dst, *data, k);
      *data += k;
      *n -= k;
      enum hy_frame_status s = took (r, k, body, len, err);
      if (s != HY_FRAME_AGAIN)
        return s;
    }
  return HY_FRAME_AGAIN;
}

enum hy_frame_status
hy_frame_read (struct hy_frame_reader *r, int fd, char **body, size_t *len,
               hy_error_t *err)
{
  for (;;)
    {
      size_t room;
      uint8_t *dst = next_space (r, &room);
      ssize_t k = read (fd, dst, room);
      if (k < 0 && errno == EINTR)
        continue;
      if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return HY_FRAME_AGAIN;
      /* A peer that closes with our bytes unread resets the connection:
       * between frames, that is a close like any other. */
      if (k < 0 && errno == ECONNRESET)
        k = 0;
      if (k < 0)
        {
          hy_error_errno (err, "read a frame");
          return HY_FRAME_ERROR;
        }
      if (k == 0)
        {
          if (!hy_frame_reader_partial (r))
            return HY_FRAME_EOF;
          hy_error (err, EPROTO, "connection closed inside a frame");
          return HY_FRAME_ERROR;
        }
      enum hy_frame_status s = took (r, (size_t) k, body, len, err);
      if (s != HY_FRAME_AGAIN)
        return s;
    }
}

/* ---- writing ---- */

void
hy_frame_writer_init (struct hy_frame_writer *w)
{
  *w = (struct hy_frame_writer){ 0 };
}

void
hy_frame_writer_release (struct hy_frame_writer *w)
{
  free (w->buf);
  hy_frame_writer_init (w);
}

int
hy_frame_writer_add (struct hy_frame_writer *w, const char *body, size_t len,
                     hy_error_t *err)
{
  if (len == 0 || len > HY_AGENT_MAX_FRAME)
    return hy_error (err, EMSGSIZE, "frame of %zu bytes out of range (1..%u)",
                     len, HY_AGENT_MAX_FRAME);
  if (w->off > 0)
    {
      memmove (w->buf, w->buf + w->off, w->len);
      w->off = 0;
    }
  size_t need = w->len + 4 + len;
  if (need > w->cap)
    {
      w->cap = need > 2 * w->cap ? need : 2 * w->cap;
      w->buf = xrealloc (w->buf, w->cap);
    }
  uint8_t *p = w->buf + w->len;
  p[0] = (uint8_t) len;
  p[1] = (uint8_t) (len >> 8);
  p[2] = (uint8_t) (len >> 16);
  p[3] = (uint8_t) (len >> 24);
  memcpy (p + 4, body, len);
  w->len += 4 + len;
  return 0;
}

static ssize_t
write_some (int fd, const void *buf, size_t n)
{
  ssize_t k = send (fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (k < 0 && errno == ENOTSOCK)
    k = write (fd, buf, n);
  return k;
}

int
hy_frame_writer_flush (struct hy_frame_writer *w, int fd, hy_error_t *err)
{
  while (w->len > 0)
    {
      ssize_t k = write_some (fd, w->buf + w->off, w->len);
      if (k < 0 && errno == EINTR)
        continue;
      if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
      if (k < 0)
        return hy_error_errno (err, "write a frame");
      w->off += (size_t) k;
      w->len -= (size_t) k;
    }
  w->off = 0;
  return 1;
}
