#include "runtime/sync.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "oci/config.h"
#include "runtime/linux/seccomp.h"
#include "runtime/terminal.h"

static int
send_msg (int sock, const struct hy_sync_msg *m, int fd)
{
  struct iovec iov = { .iov_base = (void *) m, .iov_len = sizeof (*m) };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (fd >= 0)
    {
      memset (&control, 0, sizeof (control));
      mh.msg_control = control.buf;
      mh.msg_controllen = sizeof (control.buf);
      struct cmsghdr *c = CMSG_FIRSTHDR (&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (c), &fd, sizeof (int));
    }
  ssize_t r;
  do
    r = sendmsg (sock, &mh, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -1 : 0;
}

int
hy_sync_send (int sock, enum hy_sync_type type, int fd, hy_error_t *err)
{
  return hy_sync_send_text_fd (sock, type, "", fd, err);
}

int
hy_sync_send_text_fd (int sock, enum hy_sync_type type, const char *text,
                      int fd, hy_error_t *err)
{
  struct hy_sync_msg m = { .type = type };
  if (strlen (text) >= sizeof (m.text))
    return hy_error (err, E2BIG, "a sync message too long for the socket");
  strcpy (m.text, text);
  if (send_msg (sock, &m, fd) == 0)
    return 0;
  if (errno != EPIPE && errno != ECONNRESET)
    return hy_error_errno (err, "send to the sync socket");
  /* The other side is gone: what it said last explains why. */
  struct hy_sync_msg last;
  int last_fd;
  if (hy_sync_recv (sock, &last, &last_fd, err) < 0)
    return -1;
  if (last_fd >= 0)
    close (last_fd);
  if (last.type == HY_SYNC_ERROR)
    return hy_error (err, last.errnum, "%s", last.text);
  return hy_error (err, EPIPE, "the other side of the sync socket is gone");
}

void
hy_sync_send_error (int sock, const hy_error_t e)
{
  struct hy_sync_msg m = { .type = HY_SYNC_ERROR };
  snprintf (m.text, sizeof (m.text), "%s", e ? e->msg : "unknown error");
  m.errnum = e ? e->errnum : 0;
  send_msg (sock, &m, -1);
}

void
hy_sync_send_text (int sock, enum hy_sync_type type, const char *text)
{
  struct hy_sync_msg m = { .type = type };
  snprintf (m.text, sizeof (m.text), "%s", text);
  send_msg (sock, &m, -1);
}

int
hy_sync_recv (int sock, struct hy_sync_msg *m, int *fd, hy_error_t *err)
{
  int r = hy_sync_recv_or_eof (sock, m, fd, err);
  if (r == 0)
    return hy_error (err, 0, "the container's init exited during setup");
  return r < 0 ? -1 : 0;
}

int
hy_sync_recv_or_eof (int sock, struct hy_sync_msg *m, int *fd,
                     hy_error_t *err)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = m, .iov_len = sizeof (*m) };
  struct msghdr mh = { .msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = control.buf,
                       .msg_controllen = sizeof (control.buf) };
  *fd = -1;
  ssize_t r;
  int resets = 0;
  /* A peer that exits with our last message unread makes the kernel report
   * ECONNRESET once; what it sent before is still queued behind it. */
  do
    r = recvmsg (sock, &mh, MSG_CMSG_CLOEXEC);
  while (r < 0 && (errno == EINTR || (errno == ECONNRESET && !resets++)));
  if (r < 0)
    return hy_error_errno (err, "receive from the sync socket");
  if (r == 0)
    return 0;
  if ((size_t) r != sizeof (*m))
    return hy_error (err, EPROTO, "short message on the sync socket");
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&mh); c; c = CMSG_NXTHDR (&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      memcpy (fd, CMSG_DATA (c), sizeof (int));
  m->text[HY_SYNC_TEXT_MAX - 1] = '\0';
  return 1;
}

int
hy_sync_expect (int sock, enum hy_sync_type type, hy_error_t *err)
{
  struct hy_sync_msg m;
  int fd;
  if (hy_sync_recv (sock, &m, &fd, err) < 0)
    return -1;
  if (fd >= 0)
    close (fd);
  if (m.type == HY_SYNC_ERROR)
    return hy_error (err, m.errnum, "%s", m.text);
  if (m.type != (int) type)
    return hy_error (err, EPROTO, "unexpected message %d on the sync socket",
                     m.type);
  return 0;
}

int
hy_sync_take_pty (int fd, const char *console_socket, int *keep,
                  hy_error_t *err)
{
  _cleanup_close_ int master = fd;
  if (console_socket)
    return hy_console_socket_send (console_socket, master, err);
  if (keep && *keep < 0)
    {
      *keep = steal_fd (&master);
      return 0;
    }
  return hy_error (err, 0, "a terminal needs --console-socket when hyrun "
                           "detaches");
}

int
hy_sync_take_seccomp (int sock, int fd, const struct oci_seccomp *s,
                      const char *state_json, hy_error_t *err)
{
  _cleanup_close_ int notify_fd = fd;
  if (hy_seccomp_send_listener (s->listener_path, notify_fd, state_json,
                                s->listener_metadata, err) < 0)
    return -1;
  return hy_sync_send (sock, HY_SYNC_SECCOMP_DONE, -1, err);
}
