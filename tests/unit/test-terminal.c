/* The console: pty, controlling terminal, fd passing, console socket and
 * the foreground relay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "fork-check.h"
#include "runtime/terminal.h"

static char tmpdir[] = "/tmp/hyrun-test-terminal.XXXXXX";

/* ---- helpers ---- */

#define OK(call)                                                              \
  do                                                                          \
    {                                                                         \
      _cleanup_error_ hy_error_t e_ = NULL;                                   \
      hy_error_t *err_ = &e_;                                                 \
      if ((call) < 0)                                                         \
        fail_msg ("%s: %s", #call, e_ ? e_->msg : "(no error)");              \
    }                                                                         \
  while (0)
#define ERR err_

static void
get_size (int fd, unsigned *rows, unsigned *cols)
{
  struct winsize ws;
  assert_int_equal (ioctl (fd, TIOCGWINSZ, &ws), 0);
  *rows = ws.ws_row;
  *cols = ws.ws_col;
}

/* Everything until EOF or EIO (a pty master whose slaves are closed). */
static char *
read_until_end (int fd)
{
  size_t cap = 1 << 16, len = 0;
  char *buf = xmalloc0 (cap + 1);
  for (;;)
    {
      if (len == cap)
        {
          cap *= 2;
          buf = xrealloc (buf, cap + 1);
        }
      ssize_t n = read (fd, buf + len, cap - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      len += (size_t) n;
    }
  buf[len] = '\0';
  return buf;
}

static void
write_str (int fd, const char *s)
{
  assert_int_equal (write (fd, s, strlen (s)), (ssize_t) strlen (s));
}

static void
read_exact (int fd, const char *expected)
{
  char buf[256] = "";
  size_t len = strlen (expected), got = 0;
  while (got < len)
    {
      ssize_t n = read (fd, buf + got, len - got);
      assert_true (n > 0);
      got += (size_t) n;
    }
  assert_string_equal (buf, expected);
}

static void
assert_contains (const char *text, const char *needle)
{
  if (text == NULL || strstr (text, needle) == NULL)
    fail_msg ("\"%s\" lacks \"%s\"", text ? text : "(null)", needle);
}

static void
assert_cloexec (int fd)
{
  assert_true (fcntl (fd, F_GETFD) & FD_CLOEXEC);
}

/* ---- the pty ---- */

static void
test_pty_open_and_size (void **state)
{
  (void) state;
  _cleanup_close_ int master = -1, slave = -1;
  _cleanup_free_ char *path = NULL;
  OK (hy_pty_open (&master, &path, ERR));
  assert_true (str_has_prefix (path, "/dev/pts/"));
  assert_cloexec (master);
  OK (hy_pty_set_size (master, 24, 80, ERR));
  OK (hy_pty_open_slave (master, &slave, ERR));
  assert_cloexec (slave);
  unsigned rows, cols;
  get_size (slave, &rows, &cols);
  assert_int_equal (rows, 24);
  assert_int_equal (cols, 80);
  /* The slave found by path is the same terminal. */
  _cleanup_close_ int by_path = open (path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  assert_true (by_path >= 0);
  OK (hy_pty_set_size (by_path, 50, 132, ERR));
  get_size (master, &rows, &cols);
  assert_int_equal (rows, 50);
  assert_int_equal (cols, 132);
}

static void
test_pty_open_without_path (void **state)
{
  (void) state;
  int master = -1;
  OK (hy_pty_open (&master, NULL, ERR));
  assert_true (isatty (master));
  close (master);
}

static void
test_pty_size_errors (void **state)
{
  (void) state;
  _cleanup_error_ hy_error_t err = NULL;
  _cleanup_close_ int master = -1;
  OK (hy_pty_open (&master, NULL, ERR));
  assert_int_equal (hy_pty_set_size (master, 70000, 80, &err), -1);
  assert_contains (err->msg, "70000x80");
  hy_error_release (&err);
  int p[2];
  assert_int_equal (pipe (p), 0);
  assert_int_equal (hy_pty_set_size (p[0], 24, 80, &err), -1);
  assert_int_equal (err->errnum, ENOTTY);
  close (p[0]);
  close (p[1]);
}

/* ---- the controlling terminal ---- */

static const char *console_path;

static void
controlling_body (void *arg)
{
  int slave = *(int *) arg;
  hy_error_t err = NULL;
  CHILD_OK (hy_terminal_make_controlling (slave, &err), &err);
  CHILD_CHECK (getsid (0) == getpid ());
  CHILD_CHECK (tcgetsid (0) == getpid ());
  CHILD_CHECK (tcgetpgrp (1) == getpgrp ());
  for (int fd = 0; fd <= 2; fd++)
    {
      CHILD_CHECK (str_eq (ttyname (fd), console_path));
      CHILD_CHECK ((fcntl (fd, F_GETFD) & FD_CLOEXEC) == 0);
    }
  /* /dev/tty is this terminal now. */
  int tty = open ("/dev/tty", O_RDWR | O_CLOEXEC);
  CHILD_CHECK (tty >= 0);
  close (tty);
  close (slave);
  CHILD_CHECK (write (1, "hello", 5) == 5);
  CHILD_CHECK (write (2, " world", 6) == 6);
}

static void
test_make_controlling (void **state)
{
  (void) state;
  _cleanup_close_ int master = -1;
  _cleanup_free_ char *path = NULL;
  int slave = -1;
  OK (hy_pty_open (&master, &path, ERR));
  OK (hy_pty_open_slave (master, &slave, ERR));
  console_path = path;
  struct child c = child_start (controlling_body, &slave);
  close (slave);
  _cleanup_free_ char *out = read_until_end (master);
  struct child_result r = child_finish (c);
  assert_child_result_ok (&r);
  assert_string_equal (out, "hello world");
}

/* The slave as fd 0 already: it must lose close-on-exec. */
static void
slave_is_stdin_body (void *arg)
{
  int slave = *(int *) arg;
  hy_error_t err = NULL;
  CHILD_CHECK (dup3 (slave, 0, O_CLOEXEC) == 0);
  close (slave);
  CHILD_OK (hy_terminal_make_controlling (0, &err), &err);
  CHILD_CHECK ((fcntl (0, F_GETFD) & FD_CLOEXEC) == 0);
  CHILD_CHECK (str_eq (ttyname (2), console_path));
}

static void
test_make_controlling_from_fd0 (void **state)
{
  (void) state;
  _cleanup_close_ int master = -1;
  _cleanup_free_ char *path = NULL;
  int slave = -1;
  OK (hy_pty_open (&master, &path, ERR));
  OK (hy_pty_open_slave (master, &slave, ERR));
  console_path = path;
  struct child c = child_start (slave_is_stdin_body, &slave);
  close (slave);
  struct child_result r = child_finish (c);
  assert_child_result_ok (&r);
}

/* ---- fd passing ---- */

static void
socket_pair (int sv[2])
{
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    0);
}

static void
test_fd_send_recv (void **state)
{
  (void) state;
  int sv[2], p[2];
  socket_pair (sv);
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  OK (hy_fd_send (sv[0], p[1], "my pipe", ERR));
  close (p[1]);
  int fd = -1;
  _cleanup_free_ char *name = NULL;
  OK (hy_fd_recv (sv[1], &fd, &name, ERR));
  assert_string_equal (name, "my pipe");
  assert_cloexec (fd);
  write_str (fd, "through");
  close (fd);
  _cleanup_free_ char *got = read_until_end (p[0]);
  assert_string_equal (got, "through");
  close (p[0]);
  close (sv[0]);
  close (sv[1]);
}

static void
test_fd_send_recv_without_name (void **state)
{
  (void) state;
  int sv[2];
  socket_pair (sv);
  OK (hy_fd_send (sv[0], 0, NULL, ERR));
  int fd = -1;
  _cleanup_free_ char *name = NULL;
  OK (hy_fd_recv (sv[1], &fd, &name, ERR));
  assert_string_equal (name, "");
  close (fd);
  /* name may be NULL on the receiving side too. */
  OK (hy_fd_send (sv[0], 0, "x", ERR));
  OK (hy_fd_recv (sv[1], &fd, NULL, ERR));
  close (fd);
  close (sv[0]);
  close (sv[1]);
}

static void
test_fd_recv_errors (void **state)
{
  (void) state;
  int sv[2];
  socket_pair (sv);
  int fd = -1;
  _cleanup_error_ hy_error_t err = NULL;
  /* Data without an fd. */
  write_str (sv[0], "no fd");
  assert_int_equal (hy_fd_recv (sv[1], &fd, NULL, &err), -1);
  assert_string_equal (err->msg,
                       "receive a file descriptor: expected one, got none");
  hy_error_release (&err);
  /* The peer went away. */
  close (sv[0]);
  assert_int_equal (hy_fd_recv (sv[1], &fd, NULL, &err), -1);
  assert_string_equal (err->msg,
                       "receive a file descriptor: connection closed");
  hy_error_release (&err);
  close (sv[1]);
  /* A name runc would refuse. */
  socket_pair (sv);
  char *long_name = xmalloc0 (HY_FD_NAME_MAX + 1);
  memset (long_name, 'n', HY_FD_NAME_MAX);
  assert_int_equal (hy_fd_send (sv[0], 0, long_name, &err), -1);
  assert_int_equal (err->errnum, ENAMETOOLONG);
  free (long_name);
  close (sv[0]);
  close (sv[1]);
}

/* ---- the console socket ---- */

static int
listen_at (const char *path)
{
  int sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true (sock >= 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  assert_true (strlen (path) < sizeof (addr.sun_path));
  strcpy (addr.sun_path, path);
  assert_int_equal (bind (sock, (struct sockaddr *) &addr, sizeof (addr)), 0);
  assert_int_equal (listen (sock, 1), 0);
  return sock;
}

/* What recvtty/containerd do: accept, receive the master, use it. */
static void
check_console_socket (const char *socket_path, const char *listen_path)
{
  _cleanup_close_ int server = listen_at (listen_path);
  _cleanup_close_ int master = -1, slave = -1;
  _cleanup_free_ char *slave_path = NULL;
  OK (hy_pty_open (&master, &slave_path, ERR));
  OK (hy_console_socket_send (socket_path, master, ERR));
  OK (hy_pty_open_slave (master, &slave, ERR));
  close (steal_fd (&master));

  _cleanup_close_ int conn = accept4 (server, NULL, NULL, SOCK_CLOEXEC);
  assert_true (conn >= 0);
  _cleanup_close_ int received = -1;
  _cleanup_free_ char *name = NULL;
  OK (hy_fd_recv (conn, &received, &name, ERR));
  assert_string_equal (name, "/dev/ptmx");
  char pts[64];
  assert_int_equal (ptsname_r (received, pts, sizeof (pts)), 0);
  assert_string_equal (pts, slave_path);

  write_str (received, "ping\n");
  read_exact (slave, "ping\n");
  write_str (slave, "pong");
  /* The slave echoes what came in: "ping\r\n", then "pong". */
  read_exact (received, "ping\r\npong");
}

static void
test_console_socket (void **state)
{
  (void) state;
  _cleanup_free_ char *path = xasprintf ("%s/console.sock", tmpdir);
  check_console_socket (path, path);
}

/* Longer than sun_path: reached through /proc/self/fd. */
static void
test_console_socket_long_path (void **state)
{
  (void) state;
  _cleanup_free_ char *dir = xasprintf ("%s/%0150d", tmpdir, 0);
  assert_int_equal (mkdir (dir, 0700), 0);
  _cleanup_free_ char *long_path = xasprintf ("%s/console.sock", dir);
  _cleanup_free_ char *cwd = get_current_dir_name ();
  assert_int_equal (chdir (dir), 0);
  check_console_socket (long_path, "console.sock");
  assert_int_equal (chdir (cwd), 0);
}

static void
test_console_socket_missing (void **state)
{
  (void) state;
  _cleanup_close_ int master = -1;
  _cleanup_free_ char *path = xasprintf ("%s/nobody-listens", tmpdir);
  _cleanup_error_ hy_error_t err = NULL;
  OK (hy_pty_open (&master, NULL, ERR));
  assert_int_equal (hy_console_socket_send (path, master, &err), -1);
  _cleanup_free_ char *text = hy_error_text (err);
  _cleanup_free_ char *expected = xasprintf (
      "console socket `%s`: connect: No such file or directory", path);
  assert_string_equal (text, expected);
}

/* ---- the relay ---- */

/* The container: reads lines from its terminal and answers each. */
static void
echo_body (void *arg)
{
  int slave = *(int *) arg;
  hy_error_t err = NULL;
  CHILD_OK (hy_terminal_make_controlling (slave, &err), &err);
  close (slave);
  char line[4096];
  for (;;)
    {
      ssize_t n = read (0, line, sizeof (line) - 1);
      CHILD_CHECK (n > 0);
      line[n] = '\0';
      if (strcmp (line, "END\n") == 0)
        break;
      char answer[4200];
      int len = snprintf (answer, sizeof (answer), "got: %s", line);
      CHILD_CHECK (write (1, answer, (size_t) len) == len);
    }
}

/* Relay `input` (through a pipe) to an echoing child; its output lands in
 * a file, returned.  Without pass_child the relay ends on the master's
 * hangup. */
static char *
run_relay (const char *input, bool pass_child)
{
  _cleanup_close_ int master = -1;
  int slave = -1;
  OK (hy_pty_open (&master, NULL, ERR));
  OK (hy_pty_open_slave (master, &slave, ERR));
  struct child c = child_start (echo_body, &slave);
  close (slave);

  int in[2];
  assert_int_equal (pipe2 (in, O_CLOEXEC), 0);
  _cleanup_free_ char *out_path = xasprintf ("%s/relay.out", tmpdir);
  _cleanup_close_ int out
      = open (out_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true (out >= 0);
  /* The input is in the pipe before the relay starts: a file would do,
   * but a pipe is what a shell gives. */
  size_t len = strlen (input);
  assert_true (len < 60000);
  assert_int_equal (write (in[1], input, len), (ssize_t) len);
  close (in[1]);

  OK (hy_tty_relay_run (master, in[0], out, pass_child ? c.pid : 0, ERR));
  close (in[0]);
  struct child_result r = child_finish (c);
  assert_child_result_ok (&r);
  assert_int_equal (lseek (out, 0, SEEK_SET), 0);
  return read_until_end (out);
}

static void
test_relay_until_child_exits (void **state)
{
  (void) state;
  _cleanup_free_ char *out = run_relay ("hello\nworld\nEND\n", true);
  assert_contains (out, "got: hello\r\n");
  assert_contains (out, "got: world\r\n");
  assert_true (strstr (out, "got: hello") < strstr (out, "got: world"));
}

static void
test_relay_until_hangup (void **state)
{
  (void) state;
  _cleanup_free_ char *out = run_relay ("one\nEND\n", false);
  assert_contains (out, "got: one\r\n");
}

/* More than the pty and pipe buffers, both ways: the relay must keep
 * reading output while input is pending. */
static void
test_relay_bulk (void **state)
{
  (void) state;
  size_t lines = 800;
  char *input = xmalloc0 (lines * 64 + 8);
  size_t len = 0;
  for (size_t i = 0; i < lines; i++)
    len += (size_t) sprintf (input + len, "line %05zu %s\n", i,
                             "abcdefghijklmnopqrstuvwxyz0123456789");
  strcpy (input + len, "END\n");
  _cleanup_free_ char *out = run_relay (input, true);
  for (size_t i = 0; i < lines; i += 97)
    {
      char expected[128];
      snprintf (expected, sizeof (expected), "got: line %05zu ", i);
      assert_contains (out, expected);
    }
  assert_contains (out, "got: line 00799 "
                        "abcdefghijklmnopqrstuvwxyz0123456789\r\n");
  free (input);
}

/* A terminal on the runtime side: raw while relaying, restored after;
 * its size is the container's. */
static void
test_relay_terminal_mode_and_size (void **state)
{
  (void) state;
  _cleanup_close_ int user_master = -1, user_tty = -1, master = -1;
  OK (hy_pty_open (&user_master, NULL, ERR));
  OK (hy_pty_open_slave (user_master, &user_tty, ERR));
  OK (hy_pty_open (&master, NULL, ERR));
  OK (hy_pty_set_size (user_tty, 30, 100, ERR));
  struct termios before, during, after;
  assert_int_equal (tcgetattr (user_tty, &before), 0);
  assert_true (before.c_lflag & ICANON);

  struct hy_tty_relay *relay = NULL;
  OK (hy_tty_relay_new (master, user_tty, user_tty, &relay, ERR));
  assert_int_equal (tcgetattr (user_tty, &during), 0);
  assert_false (during.c_lflag & (ICANON | ECHO | ISIG));
  assert_false (during.c_oflag & OPOST);
  unsigned rows, cols;
  get_size (master, &rows, &cols);
  assert_int_equal (rows, 30);
  assert_int_equal (cols, 100);

  OK (hy_pty_set_size (user_tty, 40, 120, ERR));
  OK (hy_tty_relay_resize (relay, ERR));
  get_size (master, &rows, &cols);
  assert_int_equal (rows, 40);
  assert_int_equal (cols, 120);

  hy_tty_relay_free (relay);
  assert_int_equal (tcgetattr (user_tty, &after), 0);
  assert_int_equal (after.c_iflag, before.c_iflag);
  assert_int_equal (after.c_oflag, before.c_oflag);
  assert_int_equal (after.c_cflag, before.c_cflag);
  assert_int_equal (after.c_lflag, before.c_lflag);
  assert_memory_equal (after.c_cc, before.c_cc, sizeof (before.c_cc));
}

/* The caller's own poll loop, with the relay's fds among its own. */
static void
test_relay_in_caller_loop (void **state)
{
  (void) state;
  _cleanup_close_ int master = -1;
  int slave = -1;
  OK (hy_pty_open (&master, NULL, ERR));
  OK (hy_pty_open_slave (master, &slave, ERR));
  int in[2], out[2];
  assert_int_equal (pipe2 (in, O_CLOEXEC), 0);
  assert_int_equal (pipe2 (out, O_CLOEXEC), 0);
  _cleanup_tty_relay_ struct hy_tty_relay *relay = NULL;
  OK (hy_tty_relay_new (master, in[0], out[1], &relay, ERR));

  write_str (in[1], "typed\n");
  close (in[1]);
  bool echoed = false;
  while (!echoed)
    {
      struct pollfd fds[HY_TTY_RELAY_NFDS + 1];
      hy_tty_relay_fds (relay, fds);
      fds[HY_TTY_RELAY_NFDS]
          = (struct pollfd){ .fd = slave, .events = POLLIN };
      assert_true (poll (fds, HY_TTY_RELAY_NFDS + 1, 5000) > 0);
      int r;
      OK (r = hy_tty_relay_handle (relay, fds, ERR));
      assert_int_equal (r, 0);
      if (fds[HY_TTY_RELAY_NFDS].revents & POLLIN)
        {
          read_exact (slave, "typed\n");
          echoed = true;
        }
    }
  /* The slave's echo reaches out[]; the slave's close ends the relay. */
  close (slave);
  struct pollfd fds[HY_TTY_RELAY_NFDS];
  int r = 0;
  while (r == 0)
    {
      hy_tty_relay_fds (relay, fds);
      assert_true (poll (fds, HY_TTY_RELAY_NFDS, 5000) > 0);
      OK (r = hy_tty_relay_handle (relay, fds, ERR));
    }
  assert_int_equal (r, 1);
  hy_tty_relay_fds (relay, fds);
  assert_int_equal (fds[0].fd, -1);
  assert_int_equal (fds[1].fd, -1);
  close (out[1]);
  _cleanup_free_ char *got = read_until_end (out[0]);
  assert_string_equal (got, "typed\r\n");
  close (in[0]);
  close (out[0]);
}

struct winch_case
{
  int master; /* the container's console */
  int slave;
  int user_tty; /* the runtime's terminal */
};

static void
winch_relay_body (void *arg)
{
  struct winch_case *w = arg;
  hy_error_t err = NULL;
  close (w->slave);
  CHILD_OK (hy_tty_relay_run (w->master, w->user_tty, w->user_tty, 0, &err),
            &err);
}

/* SIGWINCH to the blocking relay copies the new size. */
static void
test_relay_run_follows_sigwinch (void **state)
{
  (void) state;
  _cleanup_close_ int user_master = -1;
  struct winch_case w;
  OK (hy_pty_open (&user_master, NULL, ERR));
  OK (hy_pty_open_slave (user_master, &w.user_tty, ERR));
  OK (hy_pty_open (&w.master, NULL, ERR));
  OK (hy_pty_open_slave (w.master, &w.slave, ERR));
  OK (hy_pty_set_size (w.user_tty, 25, 81, ERR));
  struct child c = child_start (winch_relay_body, &w);
  unsigned rows = 0, cols = 0;
  /* The relay has started once it copied the first size. */
  for (int i = 0; i < 250 && rows != 25; i++, usleep (20000))
    get_size (w.slave, &rows, &cols);
  assert_int_equal (rows, 25);

  OK (hy_pty_set_size (w.user_tty, 33, 99, ERR));
  for (int i = 0; i < 250 && rows != 33; i++)
    {
      kill (c.pid, SIGWINCH);
      usleep (20000);
      get_size (w.slave, &rows, &cols);
    }
  assert_int_equal (rows, 33);
  assert_int_equal (cols, 99);

  close (w.slave);
  struct child_result r = child_finish (c);
  assert_child_result_ok (&r);
  close (w.master);
  close (w.user_tty);
}

static int
setup (void **state)
{
  (void) state;
  return mkdtemp (tmpdir) ? 0 : -1;
}

static int
teardown (void **state)
{
  (void) state;
  _cleanup_free_ char *cmd = xasprintf ("rm -rf '%s'", tmpdir);
  return system (cmd) == 0 ? 0 : -1;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_pty_open_and_size),
    cmocka_unit_test (test_pty_open_without_path),
    cmocka_unit_test (test_pty_size_errors),
    cmocka_unit_test (test_make_controlling),
    cmocka_unit_test (test_make_controlling_from_fd0),
    cmocka_unit_test (test_fd_send_recv),
    cmocka_unit_test (test_fd_send_recv_without_name),
    cmocka_unit_test (test_fd_recv_errors),
    cmocka_unit_test (test_console_socket),
    cmocka_unit_test (test_console_socket_long_path),
    cmocka_unit_test (test_console_socket_missing),
    cmocka_unit_test (test_relay_until_child_exits),
    cmocka_unit_test (test_relay_until_hangup),
    cmocka_unit_test (test_relay_bulk),
    cmocka_unit_test (test_relay_terminal_mode_and_size),
    cmocka_unit_test (test_relay_in_caller_loop),
    cmocka_unit_test (test_relay_run_follows_sigwinch),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
