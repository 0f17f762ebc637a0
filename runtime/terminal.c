#include "runtime/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO ('T', 0x41)
#endif

/* ---- the pty ---- */

int
hy_pty_open (int *master, char **slave_path, hy_error_t *err)
{
  _cleanup_close_ int fd = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "open the pty master `/dev/ptmx`");
  if (grantpt (fd) < 0)
    return hy_error_errno (err, "grantpt");
  if (unlockpt (fd) < 0)
    return hy_error_errno (err, "unlockpt");
  if (slave_path)
    {
      char path[PATH_MAX];
      int r = ptsname_r (fd, path, sizeof (path));
      if (r != 0)
        return hy_error (err, r, "ptsname");
      *slave_path = xstrdup (path);
    }
  *master = steal_fd (&fd);
  return 0;
}

int
hy_pty_open_slave (int master, int *slave, hy_error_t *err)
{
  int fd = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd >= 0)
    {
      *slave = fd;
      return 0;
    }
  if (errno != EINVAL && errno != ENOTTY)
    return hy_error_errno (err, "open the pty slave");
  char path[PATH_MAX];
  int r = ptsname_r (master, path, sizeof (path));
  if (r != 0)
    return hy_error (err, r, "ptsname");
  fd = open (path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "open the pty slave `%s`", path);
  *slave = fd;
  return 0;
}

int
hy_pty_set_size (int fd, unsigned rows, unsigned cols, hy_error_t *err)
{
  if (rows > USHRT_MAX || cols > USHRT_MAX)
    return hy_error (err, EINVAL, "console size %ux%u is too large", rows,
                     cols);
  struct winsize ws = { .ws_row = (unsigned short) rows,
                        .ws_col = (unsigned short) cols };
  if (ioctl (fd, TIOCSWINSZ, &ws) < 0)
    return hy_error_errno (err, "set the console size");
  return 0;
}

/* dup2() keeps FD_CLOEXEC when fd is already `target`: clear it then. */
static int
dup_onto (int fd, int target)
{
  if (fd != target)
    return dup2 (fd, target) < 0 ? -1 : 0;
  int flags = fcntl (fd, F_GETFD);
  return flags < 0 ? -1 : fcntl (fd, F_SETFD, flags & ~FD_CLOEXEC);
}

int
hy_terminal_make_controlling (int slave_fd, hy_error_t *err)
{
  if (setsid () < 0)
    {
      int errnum = errno;
      if (getsid (0) != getpid ())
        return hy_error (err, errnum, "setsid");
    }
  if (ioctl (slave_fd, TIOCSCTTY, 0) < 0)
    return hy_error_errno (err, "make the console the controlling terminal");
  for (int target = 0; target <= 2; target++)
    if (dup_onto (slave_fd, target) < 0)
      return hy_error_errno (err, "make the console fd %d", target);
  return 0;
}

/* ---- passing the master ---- */

union fd_control
{
  struct cmsghdr align;
  char buf[CMSG_SPACE (4 * sizeof (int))]; /* room to notice extra fds */
};

static ssize_t
sendmsg_retry (int sock, const struct msghdr *msg)
{
  ssize_t n;
  do
    n = sendmsg (sock, msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n;
}

/* The rest of a payload a stream socket took only in part. */
static int
send_rest (int sock, const char *buf, size_t len, hy_error_t *err)
{
  while (len > 0)
    {
      ssize_t n = send (sock, buf, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return hy_error_errno (err, "send a file descriptor");
      buf += n;
      len -= (size_t) n;
    }
  return 0;
}

int
hy_fd_send (int sock, int fd, const char *name, hy_error_t *err)
{
  size_t len = name ? strlen (name) : 0;
  if (len >= HY_FD_NAME_MAX)
    return hy_error (err, ENAMETOOLONG,
                     "send a file descriptor: the name is too long");
  /* Stream sockets need a byte of payload to carry the fd (Go sends a
   * zero byte the same way). */
  char zero = '\0';
  struct iovec iov = { .iov_base = len ? (void *) name : &zero,
                       .iov_len = len ? len : 1 };
  union fd_control ctl;
  memset (&ctl, 0, sizeof (ctl));
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = ctl.buf,
                        .msg_controllen = CMSG_SPACE (sizeof (int)) };
  struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &fd, sizeof (int));
  ssize_t n = sendmsg_retry (sock, &msg);
  if (n < 0)
    return hy_error_errno (err, "send a file descriptor");
  return send_rest (sock, (const char *) iov.iov_base + n,
                    iov.iov_len - (size_t) n, err);
}

/* Every fd the message carried, closed unless it is the only one. */
static int
take_single_fd (struct msghdr *msg, int *fd, hy_error_t *err)
{
  size_t count = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (msg); c; c = CMSG_NXTHDR (msg, c))
    {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        continue;
      size_t n = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
      for (size_t i = 0; i < n; i++, count++)
        {
          int received;
          memcpy (&received, CMSG_DATA (c) + i * sizeof (int), sizeof (int));
          if (count == 0)
            *fd = received;
          else
            close (received);
        }
    }
  if (count == 1 && !(msg->msg_flags & MSG_CTRUNC))
    return 0;
  if (count > 0)
    close (*fd);
  return hy_error (err, 0, "receive a file descriptor: expected one, got %s",
                   count ? "more" : "none");
}

int
hy_fd_recv (int sock, int *fd, char **name, hy_error_t *err)
{
  char buf[HY_FD_NAME_MAX];
  struct iovec iov = { .iov_base = buf, .iov_len = sizeof (buf) };
  union fd_control ctl;
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = ctl.buf,
                        .msg_controllen = sizeof (ctl.buf) };
  ssize_t n;
  do
    n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return hy_error_errno (err, "receive a file descriptor");
  if (n == 0)
    return hy_error (err, 0, "receive a file descriptor: connection closed");
  if (take_single_fd (&msg, fd, err) < 0)
    return -1;
  if (name)
    *name = xstrndup (buf, (size_t) n);
  return 0;
}

/* connect() to an AF_UNIX path of any length: a long one is reached
 * through /proc/self/fd/N of an O_PATH fd. */
static int
connect_unix (int sock, const char *path, hy_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  _cleanup_close_ int path_fd = -1;
  if (strlen (path) < sizeof (addr.sun_path))
    strcpy (addr.sun_path, path);
  else
    {
      path_fd = open (path, O_PATH | O_CLOEXEC);
      if (path_fd < 0)
        return hy_error_errno (err, "open `%s`", path);
      snprintf (addr.sun_path, sizeof (addr.sun_path), "/proc/self/fd/%d",
                path_fd);
    }
  int r;
  do
    r = connect (sock, (struct sockaddr *) &addr, sizeof (addr));
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return hy_error_errno (err, "connect");
  return 0;
}

int
hy_console_socket_send (const char *socket_path, int master, hy_error_t *err)
{
  _cleanup_close_ int sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return hy_error_errno (err, "console socket: socket");
  if (connect_unix (sock, socket_path, err) < 0
      || hy_fd_send (sock, master, "/dev/ptmx", err) < 0)
    return hy_error_prepend (err, "console socket `%s`", socket_path);
  return 0;
}

/* ---- the relay ---- */

#define RELAY_BUF 4096

struct hy_tty_relay
{
  int master;
  int in_fd; /* -1 once at its end */
  int out_fd;
  int size_fd; /* the terminal whose size the master follows, or -1 */
  bool raw; /* in_fd was put in raw mode: restore `saved` */
  struct termios saved;
  bool hung_up;
  char in_buf[RELAY_BUF]; /* read from in_fd, not yet written to master */
  size_t in_len;
  size_t in_off;
};

static int
make_raw (struct hy_tty_relay *r, hy_error_t *err)
{
  if (tcgetattr (r->in_fd, &r->saved) < 0)
    return hy_error_errno (err, "get the terminal mode");
  struct termios raw = r->saved;
  cfmakeraw (&raw);
  if (tcsetattr (r->in_fd, TCSANOW, &raw) < 0)
    return hy_error_errno (err, "set the terminal to raw mode");
  r->raw = true;
  return 0;
}

int
hy_tty_relay_new (int master, int in_fd, int out_fd,
                  struct hy_tty_relay **out, hy_error_t *err)
{
  struct hy_tty_relay *r = xmalloc0 (sizeof (*r));
  *r = (struct hy_tty_relay){ .master = master, .in_fd = in_fd,
                              .out_fd = out_fd, .size_fd = -1 };
  if (in_fd >= 0 && isatty (in_fd))
    r->size_fd = in_fd;
  else if (isatty (out_fd))
    r->size_fd = out_fd;
  int flags = fcntl (master, F_GETFL);
  if (flags < 0 || fcntl (master, F_SETFL, flags | O_NONBLOCK) < 0)
    {
      free (r);
      return hy_error_errno (err, "set the pty master non-blocking");
    }
  if ((r->size_fd >= 0 && hy_tty_relay_resize (r, err) < 0)
      || (r->size_fd >= 0 && r->size_fd == in_fd && make_raw (r, err) < 0))
    {
      hy_tty_relay_free (r);
      return -1;
    }
  *out = r;
  return 0;
}

void
hy_tty_relay_free (struct hy_tty_relay *r)
{
  if (r == NULL)
    return;
  if (r->raw)
    tcsetattr (r->size_fd, TCSANOW, &r->saved);
  free (r);
}

int
hy_tty_relay_resize (struct hy_tty_relay *r, hy_error_t *err)
{
  struct winsize ws;
  if (r->size_fd < 0)
    return 0;
  if (ioctl (r->size_fd, TIOCGWINSZ, &ws) < 0)
    return hy_error_errno (err, "get the terminal size");
  if (ioctl (r->master, TIOCSWINSZ, &ws) < 0 && errno != EIO)
    return hy_error_errno (err, "set the console size");
  return 0;
}

void
hy_tty_relay_fds (const struct hy_tty_relay *r,
                  struct pollfd fds[HY_TTY_RELAY_NFDS])
{
  bool pending = r->in_off < r->in_len;
  fds[0] = (struct pollfd){ .fd = -1 };
  fds[1] = (struct pollfd){ .fd = -1 };
  if (r->hung_up)
    return;
  if (r->in_fd >= 0 && !pending)
    fds[0] = (struct pollfd){ .fd = r->in_fd, .events = POLLIN };
  fds[1] = (struct pollfd){ .fd = r->master,
                            .events = POLLIN | (pending ? POLLOUT : 0) };
}

/* Blocking write, also to an fd someone made non-blocking. */
static int
write_all (int fd, const char *buf, size_t len, hy_error_t *err)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);
      if (n < 0 && errno == EAGAIN)
        {
          struct pollfd p = { .fd = fd, .events = POLLOUT };
          poll (&p, 1, -1);
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return hy_error_errno (err, "write the console output");
      buf += n;
      len -= (size_t) n;
    }
  return 0;
}

/* Master -> out_fd, until the master has nothing more now. */
static int
copy_output (struct hy_tty_relay *r, hy_error_t *err)
{
  char buf[RELAY_BUF];
  for (int rounds = 0; rounds < 16; rounds++)
    {
      ssize_t n = read (r->master, buf, sizeof (buf));
      if (n > 0 && write_all (r->out_fd, buf, (size_t) n, err) < 0)
        return -1;
      if (n > 0)
        continue;
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return 0;
      if (n == 0 || errno == EIO)
        {
          r->hung_up = true;
          return 0;
        }
      return hy_error_errno (err, "read the console");
    }
  return 0;
}

/* in_fd -> in_buf; its end (or a hung-up terminal) stops the input. */
static int
read_input (struct hy_tty_relay *r, hy_error_t *err)
{
  ssize_t n = read (r->in_fd, r->in_buf, sizeof (r->in_buf));
  if (n > 0)
    {
      r->in_len = (size_t) n;
      r->in_off = 0;
      return 0;
    }
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  if (n < 0 && errno != EIO)
    return hy_error_errno (err, "read the terminal input");
  r->in_fd = -1;
  return 0;
}

/* in_buf -> master, as much as it takes now. */
static int
write_input (struct hy_tty_relay *r, hy_error_t *err)
{
  while (r->in_off < r->in_len)
    {
      ssize_t n = write (r->master, r->in_buf + r->in_off,
                         r->in_len - r->in_off);
      if (n > 0)
        r->in_off += (size_t) n;
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && errno == EAGAIN)
        return 0;
      else if (n < 0 && errno == EIO)
        {
          r->hung_up = true;
          return 0;
        }
      else
        return hy_error_errno (err, "write to the console");
    }
  return 0;
}

int
hy_tty_relay_handle (struct hy_tty_relay *r,
                     const struct pollfd fds[HY_TTY_RELAY_NFDS],
                     hy_error_t *err)
{
  if (fds[1].fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
      && copy_output (r, err) < 0)
    return -1;
  if (fds[0].fd >= 0 && fds[0].revents && read_input (r, err) < 0)
    return -1;
  if (!r->hung_up && r->in_off < r->in_len && write_input (r, err) < 0)
    return -1;
  return r->hung_up ? 1 : 0;
}

int
hy_tty_relay_drain (struct hy_tty_relay *r, int idle_ms, hy_error_t *err)
{
  while (!r->hung_up)
    {
      struct pollfd p = { .fd = r->master, .events = POLLIN };
      int n = poll (&p, 1, idle_ms);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return hy_error_errno (err, "poll the console");
      if (n == 0)
        return 0;
      if (copy_output (r, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- the blocking loop ---- */

/* Not reaped; pidfd is -1 where pidfds are missing. */
static bool
child_exited (pid_t child, int pidfd, short pidfd_revents)
{
  if (pidfd >= 0)
    return pidfd_revents & POLLIN;
  siginfo_t info = { .si_pid = 0 };
  if (waitid (P_PID, (id_t) child, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
    return errno == ECHILD;
  return info.si_pid != 0;
}

static void
drain_signalfd (int sigfd)
{
  struct signalfd_siginfo si;
  while (read (sigfd, &si, sizeof (si)) == sizeof (si))
    ;
}

struct relay_loop
{
  struct hy_tty_relay *relay;
  pid_t child;
  int sigfd;
  int pidfd;
};

/* 1 when over. */
static int
relay_step (struct relay_loop *l, hy_error_t *err)
{
  struct pollfd fds[HY_TTY_RELAY_NFDS + 2];
  hy_tty_relay_fds (l->relay, fds);
  fds[HY_TTY_RELAY_NFDS] = (struct pollfd){ .fd = l->sigfd, .events = POLLIN };
  fds[HY_TTY_RELAY_NFDS + 1]
      = (struct pollfd){ .fd = l->pidfd, .events = POLLIN };
  int timeout = l->child > 0 && l->pidfd < 0 ? 50 : -1;
  if (poll (fds, HY_TTY_RELAY_NFDS + 2, timeout) < 0)
    return errno == EINTR ? 0 : hy_error_errno (err, "poll the console");
  if (fds[HY_TTY_RELAY_NFDS].revents)
    {
      drain_signalfd (l->sigfd);
      if (hy_tty_relay_resize (l->relay, err) < 0)
        return -1;
    }
  int r = hy_tty_relay_handle (l->relay, fds, err);
  if (r != 0)
    return r;
  if (l->child > 0
      && child_exited (l->child, l->pidfd,
                       fds[HY_TTY_RELAY_NFDS + 1].revents))
    return hy_tty_relay_drain (l->relay, 100, err) < 0 ? -1 : 1;
  return 0;
}

int
hy_tty_relay_run (int master, int in_fd, int out_fd, pid_t child,
                  hy_error_t *err)
{
  _cleanup_tty_relay_ struct hy_tty_relay *relay = NULL;
  if (hy_tty_relay_new (master, in_fd, out_fd, &relay, err) < 0)
    return -1;
  sigset_t winch, saved_mask;
  sigemptyset (&winch);
  sigaddset (&winch, SIGWINCH);
  if (sigprocmask (SIG_BLOCK, &winch, &saved_mask) < 0)
    return hy_error_errno (err, "block SIGWINCH");
  _cleanup_close_ int sigfd
      = signalfd (-1, &winch, SFD_CLOEXEC | SFD_NONBLOCK);
  _cleanup_close_ int pidfd
      = child > 0 ? (int) syscall (SYS_pidfd_open, child, 0) : -1;
  struct relay_loop loop
      = { .relay = relay, .child = child, .sigfd = sigfd, .pidfd = pidfd };
  int r = sigfd < 0 ? hy_error_errno (err, "signalfd") : 0;
  while (r == 0)
    r = relay_step (&loop, err);
  sigprocmask (SIG_SETMASK, &saved_mask, NULL);
  return r < 0 ? -1 : 0;
}
