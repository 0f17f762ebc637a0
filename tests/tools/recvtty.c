/* recvtty: the receiving end of a runtime's --console-socket, for tests.

   A C equivalent of runc's contrib/cmd/recvtty, with its command line, so
   that runc's integration suite can drive it:

     recvtty [--mode single|null] [--pid-file FILE] [--no-stdin] SOCKET

   It listens on the AF_UNIX stream socket SOCKET.  Each connection carries
   one message whose data is the terminal's name and whose SCM_RIGHTS
   control message is the pseudo-terminal master.

   single (the default): accept one connection, stop listening, clear ONLCR
     on the master, then copy the master to stdout and, unless --no-stdin,
     stdin to the master, until the terminal is hung up.
   null: accept any number of connections and read every master into the
     void until its terminal is hung up; runs until killed.  Killing
     recvtty closes the masters, which hangs up the containers' terminals.

   Build: gcc -O2 -Wall -Wextra -Werror -Wshadow -o recvtty recvtty.c  */

#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

/* The longest terminal name runc sends (libcontainer/utils MaxNameLen).  */
#define MAX_NAME_LEN 4096

static const char usage_text[] =
  "usage: recvtty [--mode single|null] [--pid-file FILE] [--no-stdin] SOCKET\n"
  "\n"
  "Receives the pseudo-terminal masters a runtime sends to its\n"
  "--console-socket.\n"
  "  -m, --mode single  one terminal, wired to recvtty's stdio (default)\n"
  "  -m, --mode null    any number of terminals, their output discarded\n"
  "      --pid-file F   write recvtty's pid to F\n"
  "      --no-stdin     single mode: do not copy stdin to the terminal\n";

static void __attribute__ ((noreturn, format (printf, 1, 2)))
die (const char *fmt, ...)
{
  va_list ap;

  fputs ("[recvtty] fatal error: ", stderr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  exit (EXIT_FAILURE);
}

static void
write_pid_file (const char *path)
{
  FILE *f = fopen (path, "w");

  if (f == NULL)
    die ("open %s: %s", path, strerror (errno));
  fprintf (f, "%d\n", (int) getpid ());
  if (fclose (f) != 0)
    die ("write %s: %s", path, strerror (errno));
}

static int
listen_unix (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof addr.sun_path)
    die ("listen unix %s: path too long", path);
  strcpy (addr.sun_path, path);

  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die ("socket: %s", strerror (errno));
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    die ("listen unix %s: bind: %s", path, strerror (errno));
  if (listen (fd, SOMAXCONN) < 0)
    die ("listen unix %s: %s", path, strerror (errno));
  return fd;
}

/* Receive the one file descriptor of the connection CONN, as runc's
   utils.RecvFd does: one message, one SCM_RIGHTS, exactly one fd.
   Returns it, or -1 with a message in ERRBUF.  */
static int
recv_fd (int conn, char *errbuf, size_t errlen)
{
  static char name[MAX_NAME_LEN];
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = name, .iov_len = sizeof name };
  struct msghdr msg = {
    .msg_iov = &iov,
    .msg_iovlen = 1,
    .msg_control = control.buf,
    .msg_controllen = sizeof control.buf,
  };
  struct cmsghdr *cmsg;
  ssize_t n;
  int fd;

  do
    n = recvmsg (conn, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      snprintf (errbuf, errlen, "recvmsg: %s", strerror (errno));
      return -1;
    }

  cmsg = CMSG_FIRSTHDR (&msg);
  if (n >= MAX_NAME_LEN || (msg.msg_flags & MSG_CTRUNC) || cmsg == NULL
      || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS
      || cmsg->cmsg_len != CMSG_LEN (sizeof (int)))
    {
      snprintf (errbuf, errlen,
                "recvfd: incorrect number of bytes read (n=%zd oobn=%zu)",
                n, (size_t) msg.msg_controllen);
      /* Do not leak what did arrive.  */
      for (; cmsg != NULL; cmsg = CMSG_NXTHDR (&msg, cmsg))
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
          {
            size_t k, nfds = (cmsg->cmsg_len - CMSG_LEN (0)) / sizeof (int);

            for (k = 0; k < nfds; k++)
              {
                memcpy (&fd, CMSG_DATA (cmsg) + k * sizeof (int), sizeof fd);
                close (fd);
              }
          }
      return -1;
    }
  memcpy (&fd, CMSG_DATA (cmsg), sizeof fd);
  return fd;
}

static int
accept_conn (int listener)
{
  int conn;

  do
    conn = accept4 (listener, NULL, NULL, SOCK_CLOEXEC);
  while (conn < 0 && (errno == EINTR || errno == ECONNABORTED));
  return conn;
}

/* Write all of BUF to FD.  Returns 0, or -1 with errno.  */
static int
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t w = write (fd, buf, len);

      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      buf += w;
      len -= (size_t) w;
    }
  return 0;
}

static void
handle_single (const char *path, bool no_stdin)
{
  char errbuf[256], buf[16384];
  struct termios tio;
  struct pollfd pfd[2];
  bool stdin_open = !no_stdin;
  int listener, conn, master;

  listener = listen_unix (path);
  conn = accept_conn (listener);
  if (conn < 0)
    die ("accept: %s", strerror (errno));
  /* One reader of stdin only; let another instance take the path over.  */
  close (listener);
  unlink (path);

  master = recv_fd (conn, errbuf, sizeof errbuf);
  if (master < 0)
    die ("%s", errbuf);
  close (conn);

  if (tcgetattr (master, &tio) < 0)
    die ("tcgetattr: %s", strerror (errno));
  tio.c_oflag &= ~(tcflag_t) ONLCR;
  if (tcsetattr (master, TCSANOW, &tio) < 0)
    die ("tcsetattr: %s", strerror (errno));

  for (;;)
    {
      ssize_t n;

      pfd[0] = (struct pollfd) { .fd = master, .events = POLLIN };
      pfd[1] = (struct pollfd) { .fd = stdin_open ? STDIN_FILENO : -1,
                                 .events = POLLIN };
      if (poll (pfd, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          die ("poll: %s", strerror (errno));
        }

      if (pfd[0].revents)
        {
          n = read (master, buf, sizeof buf);
          if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
          /* EIO: the last holder of the terminal's slave side is gone.  */
          if (n < 0 && errno != EIO)
            die ("read %s: %s", "terminal", strerror (errno));
          if (n <= 0)
            break;
          if (write_all (STDOUT_FILENO, buf, (size_t) n) < 0)
            die ("write stdout: %s", strerror (errno));
        }

      if (pfd[1].fd >= 0 && pfd[1].revents)
        {
          n = read (STDIN_FILENO, buf, sizeof buf);
          if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
          if (n <= 0)
            stdin_open = false;
          else if (write_all (master, buf, (size_t) n) < 0)
            die ("write terminal: %s", strerror (errno));
        }
    }
  close (master);
}

/* The null mode's poll set: the listener, connections that have not yet
   sent their terminal, and terminals being drained.  */
struct watch
{
  struct pollfd *pfd;
  bool *is_master;
  size_t len, cap;
};

static void
watch_add (struct watch *w, int fd, bool is_master)
{
  if (w->len == w->cap)
    {
      w->cap = w->cap ? 2 * w->cap : 16;
      w->pfd = realloc (w->pfd, w->cap * sizeof *w->pfd);
      w->is_master = realloc (w->is_master, w->cap * sizeof *w->is_master);
      if (w->pfd == NULL || w->is_master == NULL)
        die ("out of memory");
    }
  w->pfd[w->len] = (struct pollfd) { .fd = fd, .events = POLLIN };
  w->is_master[w->len] = is_master;
  w->len++;
}

static void
watch_remove (struct watch *w, size_t i)
{
  close (w->pfd[i].fd);
  w->len--;
  w->pfd[i] = w->pfd[w->len];
  w->is_master[i] = w->is_master[w->len];
}

static void
handle_null (const char *path)
{
  struct watch w = { 0 };
  char errbuf[256], buf[16384];

  watch_add (&w, listen_unix (path), false);
  for (;;)
    {
      size_t i;

      if (poll (w.pfd, w.len, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          die ("poll: %s", strerror (errno));
        }

      /* Backwards, so that watch_remove's swap does not skip an entry.  */
      for (i = w.len; i-- > 1;)
        {
          int master;
          ssize_t n;

          if (w.pfd[i].revents == 0)
            continue;
          if (w.is_master[i])
            {
              n = read (w.pfd[i].fd, buf, sizeof buf);
              if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
              if (n <= 0)
                watch_remove (&w, i);
              continue;
            }
          /* A connection: its one message carries the master.  */
          master = recv_fd (w.pfd[i].fd, errbuf, sizeof errbuf);
          watch_remove (&w, i);
          if (master >= 0)
            watch_add (&w, master, true);
        }

      if (w.pfd[0].revents)
        {
          int conn = accept_conn (w.pfd[0].fd);

          if (conn < 0)
            die ("accept: %s", strerror (errno));
          watch_add (&w, conn, false);
        }
    }
}

int
main (int argc, char **argv)
{
  static const struct option options[] = {
    { "mode", required_argument, NULL, 'm' },
    { "pid-file", required_argument, NULL, 'p' },
    { "no-stdin", no_argument, NULL, 'n' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *mode = "single", *pid_file = NULL;
  bool no_stdin = false;
  int c;

  /* runc's recvtty takes Go-style flags: -mode and --mode alike, and
     options only before the socket path ("+").  */
  while ((c = getopt_long_only (argc, argv, "+m:h", options, NULL)) != -1)
    switch (c)
      {
      case 'm':
        mode = optarg;
        break;
      case 'p':
        pid_file = optarg;
        break;
      case 'n':
        no_stdin = true;
        break;
      case 'h':
        fputs (usage_text, stdout);
        return EXIT_SUCCESS;
      default:
        fputs (usage_text, stderr);
        return 2;
      }
  if (argc - optind != 1)
    die ("need to specify a single socket path");

  /* A terminal hung up under a write must not kill us.  */
  signal (SIGPIPE, SIG_IGN);

  /* Keep nothing but stdio of what the shell handed down: the suite starts
     us in the background, and bats waits for every holder of its output
     (fd 3) to close it, so a test failing before it kills us would
     otherwise hang its whole file.  */
  close_range (3, ~0U, 0);

  if (pid_file != NULL && *pid_file != '\0')
    write_pid_file (pid_file);

  if (strcmp (mode, "single") == 0)
    handle_single (argv[optind], no_stdin);
  else if (strcmp (mode, "null") == 0)
    handle_null (argv[optind]);
  else
    die ("need to select a valid mode: %s", mode);
  return EXIT_SUCCESS;
}
