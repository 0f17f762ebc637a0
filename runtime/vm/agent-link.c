#include "runtime/vm/agent-link.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/json.h"

#define CONNECT_TIMEOUT_MS 10000
#define MAX_STRING 4096

void
hy_agent_link_init (struct hy_agent_link *l)
{
  *l = (struct hy_agent_link){ .fd = -1 };
}

void
hy_agent_link_close (struct hy_agent_link *l)
{
  if (l->fd >= 0)
    close (l->fd);
  free (l->kernel);
  hy_agent_link_init (l);
}

/* ---- bytes ---- */

static int
wait_readable (int fd, int timeout_ms, hy_error_t *err)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  int n;
  do
    n = poll (&p, 1, timeout_ms);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return hy_error_errno (err, "poll");
  if (n == 0)
    return hy_error (err, ETIMEDOUT, "no answer after %d ms", timeout_ms);
  return 0;
}

static int
read_exact (int fd, void *buf, size_t len, int timeout_ms, hy_error_t *err)
{
  char *p = buf;
  while (len > 0)
    {
      if (wait_readable (fd, timeout_ms, err) < 0)
        return -1;
      ssize_t n = read (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return hy_error_errno (err, "read");
      if (n == 0)
        return hy_error (err, ECONNRESET, "connection closed");
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

static int
write_exact (int fd, const void *buf, size_t len, hy_error_t *err)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return hy_error_errno (err, "write to the guest agent");
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

/* ---- frames ---- */

static int
send_frame (int fd, const char *json, hy_error_t *err)
{
  size_t len = strlen (json);
  if (len == 0 || len > HY_AGENT_MAX_FRAME)
    return hy_error (err, EMSGSIZE, "agent request of %zu bytes", len);
  unsigned char hdr[4] = { len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff,
                           (len >> 24) & 0xff };
  if (write_exact (fd, hdr, 4, err) < 0)
    return -1;
  return write_exact (fd, json, len, err);
}

static int
read_frame (int fd, int timeout_ms, char **out, hy_error_t *err)
{
  unsigned char hdr[4];
  if (read_exact (fd, hdr, 4, timeout_ms, err) < 0)
    return -1;
  uint32_t len = (uint32_t) hdr[0] | (uint32_t) hdr[1] << 8
                 | (uint32_t) hdr[2] << 16 | (uint32_t) hdr[3] << 24;
  if (len == 0 || len > HY_AGENT_MAX_FRAME)
    return hy_error (err, EPROTO, "protocol error: frame of %u bytes", len);
  _cleanup_free_ char *buf = xmalloc0 (len + 1);
  if (read_exact (fd, buf, len, timeout_ms, err) < 0)
    return -1;
  if (memchr (buf, '\0', len))
    return hy_error (err, EPROTO, "protocol error: NUL in a frame");
  *out = steal_pointer (&buf);
  return 0;
}

/* ---- replies ---- */

static int
bounded_string (yajl_val doc, const char *key, char **out, hy_error_t *err)
{
  if (oci_json_string (doc, JPATH_ROOT, key, false, out, err) < 0)
    return -1;
  if (*out && strlen (*out) > MAX_STRING)
    (*out)[MAX_STRING] = '\0';
  return 0;
}

static int
parse_reply (char *text, struct hy_agent_reply *r, hy_error_t *err)
{
  *r = (struct hy_agent_reply){ .text = text };
  yajl_val doc = NULL;
  int64_t v;
  bool present;
  int ret = -1;
  if (oci_json_parse (text, &doc, err) < 0
      || oci_json_expect_object (doc, JPATH_ROOT, err) < 0
      || oci_json_string (doc, JPATH_ROOT, "type", true, &r->type, err) < 0
      || bounded_string (doc, "error", &r->error, err) < 0
      || bounded_string (doc, "id", &r->id, err) < 0)
    goto out;
  if (oci_json_int64 (doc, JPATH_ROOT, "seq", false, 0, UINT32_MAX, &v,
                      &present, err)
      < 0)
    goto out;
  r->seq = present ? (uint32_t) v : 0;
  if (oci_json_int64 (doc, JPATH_ROOT, "exit_code", false, 0, 255, &v,
                      &present, err)
      < 0)
    goto out;
  r->exit_code = present ? (int) v : 0;
  if (oci_json_int64 (doc, JPATH_ROOT, "signal", false, 1, 64, &v, &present,
                      err)
      < 0)
    goto out;
  r->signal = present ? (int) v : 0;
  if (oci_json_int64 (doc, JPATH_ROOT, "pid", false, 1, INT32_MAX, &v,
                      &present, err)
      < 0)
    goto out;
  r->pid = present ? (int) v : 0;
  ret = 0;
out:
  yajl_tree_free (doc);
  if (ret < 0)
    {
      r->text = NULL;
      hy_agent_reply_release (r);
      free (text);
      hy_error_prepend (err, "protocol error");
    }
  return ret;
}

void
hy_agent_reply_release (struct hy_agent_reply *r)
{
  free (r->type);
  free (r->error);
  free (r->id);
  free (r->text);
  *r = (struct hy_agent_reply){ 0 };
}

int
hy_agent_reply_check (struct hy_agent_reply *r, const char *what,
                      hy_error_t *err)
{
  int ret = 0;
  if (r->error)
    ret = hy_error (err, 0, "%s: %s", what, r->error);
  hy_agent_reply_release (r);
  return ret;
}

int
hy_agent_link_read (struct hy_agent_link *l, struct hy_agent_reply *r,
                    hy_error_t *err)
{
  char *text;
  if (read_frame (l->fd, HY_AGENT_CALL_TIMEOUT_MS, &text, err) < 0)
    return -1;
  return parse_reply (text, r, err);
}

/* ---- connections ---- */

static int
check_hello (struct hy_agent_link *l, hy_error_t *err)
{
  struct hy_agent_reply r;
  char *text;
  if (read_frame (l->fd, CONNECT_TIMEOUT_MS, &text, err) < 0
      || parse_reply (text, &r, err) < 0)
    return hy_error_prepend (err, "guest agent hello");
  _cleanup_free_ char *kernel = NULL;
  int64_t version = 0;
  bool present;
  yajl_val doc = NULL;
  _cleanup_error_ hy_error_t ignored = NULL;
  if (oci_json_parse (r.text, &doc, &ignored) == 0)
    {
      oci_json_int64 (doc, JPATH_ROOT, "version", false, 0, INT32_MAX,
                      &version, &present, &ignored);
      bounded_string (doc, "kernel", &kernel, &ignored);
      yajl_tree_free (doc);
    }
  bool hello = str_eq (r.type, "hello");
  hy_agent_reply_release (&r);
  if (!hello)
    return hy_error (err, EPROTO, "guest agent: expected hello");
  if (version != HY_AGENT_PROTOCOL_VERSION)
    return hy_error (err, EPROTO,
                     "guest agent speaks protocol version %lld, hyrun %d",
                     (long long) version, HY_AGENT_PROTOCOL_VERSION);
  l->kernel = steal_pointer (&kernel);
  return 0;
}

int
hy_agent_link_open (struct hy_agent_link *l, int fd,
                    const struct hy_machine *m, hy_error_t *err)
{
  (void) m;
  l->fd = fd;
  return check_hello (l, err);
}

static int
read_line (int fd, char *buf, size_t size, hy_error_t *err)
{
  size_t n = 0;
  while (n + 1 < size)
    {
      if (read_exact (fd, buf + n, 1, CONNECT_TIMEOUT_MS, err) < 0)
        return -1;
      if (buf[n] == '\n')
        {
          buf[n] = '\0';
          return 0;
        }
      n++;
    }
  return hy_error (err, EPROTO, "line too long");
}

int
hy_agent_link_connect (const char *uds, uint32_t port, int *fd,
                       hy_error_t *err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen (uds) >= sizeof (sa.sun_path))
    return hy_error (err, ENAMETOOLONG, "socket path `%s` too long", uds);
  strcpy (sa.sun_path, uds);
  _cleanup_close_ int s = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || connect (s, (struct sockaddr *) &sa, sizeof (sa)) < 0)
    return hy_error_errno (err, "connect to `%s`", uds);
  char line[64];
  snprintf (line, sizeof (line), "CONNECT %u\n", port);
  if (write_exact (s, line, strlen (line), err) < 0
      || read_line (s, line, sizeof (line), err) < 0)
    return hy_error_prepend (err, "vsock port %u", port);
  if (!str_has_prefix (line, "OK "))
    return hy_error (err, ECONNREFUSED, "vsock port %u: refused", port);
  *fd = steal_fd (&s);
  return 0;
}

int
hy_agent_link_dial (struct hy_agent_link *l, const char *uds, hy_error_t *err)
{
  int fd;
  if (hy_agent_link_connect (uds, 1024, &fd, err) < 0)
    return -1;
  return hy_agent_link_open (l, fd, NULL, err);
}

int
hy_agent_link_attach (const char *uds, uint32_t port, const char *id,
                      const char *stream, int *fd, hy_error_t *err)
{
  _cleanup_close_ int s = -1;
  if (hy_agent_link_connect (uds, port, &s, err) < 0)
    return hy_error_prepend (err, "attach %s of %s", stream, id);
  _cleanup_free_ char *frame = xasprintf (
      "{\"type\":\"attach\",\"id\":\"%s\",\"stream\":\"%s\"}", id, stream);
  if (send_frame (s, frame, err) < 0)
    return -1;
  *fd = steal_fd (&s);
  return 0;
}

/* ---- requests ---- */

int
hy_agent_link_send (struct hy_agent_link *l, const char *type,
                    const char *members, uint32_t *seq, hy_error_t *err)
{
  uint32_t n = ++l->last_seq;
  _cleanup_free_ char *frame
      = xasprintf ("{\"type\":\"%s\",\"seq\":%u%s}", type, n, members);
  if (send_frame (l->fd, frame, err) < 0)
    return -1;
  if (seq)
    *seq = n;
  return 0;
}

int
hy_agent_link_call (struct hy_agent_link *l, const char *type,
                    const char *members, struct hy_agent_reply *r,
                    hy_error_t *err)
{
  uint32_t seq;
  if (hy_agent_link_send (l, type, members, &seq, err) < 0)
    return -1;
  for (;;)
    {
      if (hy_agent_link_read (l, r, err) < 0)
        return hy_error_prepend (err, "guest agent: %s", type);
      if (str_eq (r->type, "response") && r->seq == seq)
        return 0;
      hy_agent_reply_release (r);
    }
}
