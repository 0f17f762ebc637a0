/* The host side of the vsock traffic test, and a small stand-in for the VM
   supervisor: it binds the backend's host socket, starts hyrun-vhost-vsock
   with one end of a socketpair and that listening socket as inherited fds,
   starts QEMU with the other end as its vhost-user chardev (fd=), then
   drives the guest's test init (test/init.c, hyrun_vsock=1) over vsock and
   checks what happens to the backend when QEMU goes away.

     vsock-host (--backend PATH | --spawn) --uds PATH --cid N
                [--scenario traffic|kill] [--mib N] [--no-wrap] -- QEMU-COMMAND...

   --backend runs the hyrun-vhost-vsock program (--fd, --uds-fd); --spawn
   runs the library in a child with hy_vsock_backend_spawn(), as the
   supervisor does (this program is then linked with libhyvm).

   QEMU-COMMAND must give the VM shared memory (memory-backend-memfd,
   share=on); this program appends the chardev and the vhost-user-vsock
   device.  Results go to stderr, one line each:
     vsock-host: check <name>=ok|FAIL [detail]
     vsock-host: measure <name> <value>
   Exit status 0 when every check passed.  See vsock-test.h for the
   protocol with the guest.  */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/vm/vsock/vsock.h"
#include "vsock-test.h"

#define BACKEND_VHOST_FD 3
#define BACKEND_UDS_FD 4
#define QEMU_VHOST_FD 3
#define MIB (1024ull * 1024)

static const char *uds_path;
static pid_t qemu_pid = -1, backend_pid = -1;
static int ctrl = -1;
static unsigned passed, failed;

static void
out (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs ("vsock-host: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
}

static void
check (const char *name, bool ok, const char *fmt, ...)
{
  char detail[512] = "";
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (detail, sizeof detail, fmt, ap);
  va_end (ap);
  if (ok)
    passed++;
  else
    failed++;
  out ("check %s=%s%s%s", name, ok ? "ok" : "FAIL", *detail ? " " : "",
       detail);
}

static void
kill_children (void)
{
  if (qemu_pid > 0)
    kill (qemu_pid, SIGKILL);
  if (backend_pid > 0)
    kill (backend_pid, SIGKILL);
}

static void __attribute__ ((noreturn))
die (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs ("vsock-host: error: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  kill_children ();
  exit (1);
}

/* ---- host sockets ---- */

static void
sun_of (struct sockaddr_un *sun, unsigned port)
{
  memset (sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  int n = port ? snprintf (sun->sun_path, sizeof sun->sun_path, "%s_%u",
                           uds_path, port)
               : snprintf (sun->sun_path, sizeof sun->sun_path, "%s",
                           uds_path);
  if (n < 0 || (size_t) n >= sizeof sun->sun_path)
    die ("socket path %s too long", uds_path);
}

/* Listen on the backend's socket (port 0) or on <uds>_<port>. */
static int
listen_port (unsigned port)
{
  struct sockaddr_un sun;
  sun_of (&sun, port);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *) &sun, sizeof sun) < 0
      || listen (fd, 16) < 0)
    die ("listen on %s: %s", sun.sun_path, strerror (errno));
  return fd;
}

static void
unlisten_port (int fd, unsigned port)
{
  struct sockaddr_un sun;
  sun_of (&sun, port);
  unlink (sun.sun_path);
  close (fd);
}

static int
accept_within (int lfd, int timeout_ms)
{
  struct pollfd p = { .fd = lfd, .events = POLLIN };
  if (poll (&p, 1, timeout_ms) != 1)
    return -1;
  return accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
}

/* CONNECT to a guest port through the backend; the fd, or -1 with the
   backend's answer (or what happened) in why. */
static int
connect_guest (unsigned port, char *why, size_t wlen)
{
  struct sockaddr_un sun;
  sun_of (&sun, 0);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect (fd, (struct sockaddr *) &sun, sizeof sun) < 0)
    {
      snprintf (why, wlen, "connect to %s: %s", uds_path, strerror (errno));
      if (fd >= 0)
        close (fd);
      return -1;
    }
  char line[VT_LINE_MAX];
  int n = snprintf (line, sizeof line, "CONNECT %u\n", port);
  unsigned hostport;
  if (vt_write_all (fd, line, n) < 0
      || vt_read_line (fd, line, sizeof line, 10000) < 0
      || sscanf (line, "OK %u", &hostport) != 1)
    {
      snprintf (why, wlen, "CONNECT %u: no OK line", port);
      close (fd);
      return -1;
    }
  return fd;
}

/* ---- the control connection ---- */

static void
say_guest (const char *fmt, ...)
{
  char line[VT_LINE_MAX];
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (line, sizeof line - 1, fmt, ap);
  va_end (ap);
  line[n++] = '\n';
  if (vt_write_all (ctrl, line, n) < 0)
    die ("control connection: write: %s", strerror (errno));
}

/* The guest's next answer; "" when it did not come within timeout_ms. */
static const char *
hear_guest (int timeout_ms)
{
  static char line[VT_LINE_MAX];
  if (vt_read_line (ctrl, line, sizeof line, timeout_ms) < 0)
    line[0] = '\0';
  return line;
}

/* ---- the backend's memory ---- */

struct rss
{
  long total, anon, shmem; /* kB: VmRSS, RssAnon, RssShmem */
};

static struct rss rss_idle, rss_max;

static struct rss
backend_rss (void)
{
  char path[64], line[256];
  struct rss r = { -1, -1, -1 };
  snprintf (path, sizeof path, "/proc/%d/status", (int) backend_pid);
  FILE *f = fopen (path, "re");
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "VmRSS: %ld kB", &r.total) != 1
        && sscanf (line, "RssAnon: %ld kB", &r.anon) != 1)
      sscanf (line, "RssShmem: %ld kB", &r.shmem);
  if (f)
    fclose (f);
  return r;
}

static void
sample_rss (void)
{
  struct rss r = backend_rss ();
  if (r.total > rss_max.total)
    rss_max.total = r.total;
  if (r.anon > rss_max.anon)
    rss_max.anon = r.anon;
  if (r.shmem > rss_max.shmem)
    rss_max.shmem = r.shmem;
}

/* User + system CPU time the backend used so far. */
static long
backend_cpu_ms (void)
{
  char path[64], buf[1024];
  snprintf (path, sizeof path, "/proc/%d/stat", (int) backend_pid);
  FILE *f = fopen (path, "re");
  size_t n = f ? fread (buf, 1, sizeof buf - 1, f) : 0;
  if (f)
    fclose (f);
  buf[n] = '\0';
  char *p = strrchr (buf, ')');
  unsigned long utime, stime;
  /* After "pid (comm)": state and 10 more fields, then utime stime. */
  if (p == NULL
      || sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                 &utime, &stime) != 2)
    return -1;
  return (utime + stime) * 1000 / sysconf (_SC_CLK_TCK);
}

/* ---- phases: streams moved at once, checked on both ends ---- */

struct phase
{
  const char *name;
  unsigned n;
  struct vt_spec s[VT_MAX_STREAMS];
  const char *rate; /* "g2h" / "h2g": report this direction's MiB/s */
};

static int
open_host_ends (unsigned id, const struct phase *ph, const int *listeners,
                int *fds, char *why, size_t wlen)
{
  for (unsigned i = 0; i < ph->n; i++)
    if (ph->s[i].initiator == 'h')
      {
        fds[i] = connect_guest (ph->s[i].port, why, wlen);
        if (fds[i] < 0)
          return -1;
      }
  for (unsigned i = 0; i < ph->n; i++)
    if (ph->s[i].initiator == 'g')
      {
        fds[i] = accept_within (listeners[i], 30000);
        if (fds[i] < 0)
          {
            snprintf (why, wlen, "phase %u stream %u: no guest connection "
                      "on host port %u", id, i, ph->s[i].port);
            return -1;
          }
      }
  return 0;
}

/* Run one phase; it reports its check unless quiet (then a failure is
   reported, and the result returned). */
static bool
run_phase (unsigned id, const struct phase *ph, bool quiet)
{
  int listeners[VT_MAX_STREAMS], fds[VT_MAX_STREAMS];
  struct vt_end ends[VT_MAX_STREAMS];
  char why[256] = "", ready[32];
  uint64_t g_bytes = 0, h_bytes = 0;

  for (unsigned i = 0; i < ph->n; i++)
    {
      fds[i] = -1;
      listeners[i] = ph->s[i].initiator == 'g' ? listen_port (ph->s[i].port)
                                               : -1;
    }
  say_guest ("phase %u %u", id, ph->n);
  for (unsigned i = 0; i < ph->n; i++)
    {
      const struct vt_spec *s = &ph->s[i];
      say_guest ("%c %u %llu %llu %u %u %u", s->initiator, s->port,
                 (unsigned long long) s->guest_sends,
                 (unsigned long long) s->host_sends, s->order, s->chunk,
                 s->stall_ms);
      g_bytes += s->guest_sends;
      h_bytes += s->host_sends;
    }
  snprintf (ready, sizeof ready, "ready %u", id);
  const char *answer = hear_guest (30000);
  int ret = strcmp (answer, ready) == 0 ? 0 : -1;
  if (ret < 0)
    snprintf (why, sizeof why, "guest: %s", *answer ? answer : "no answer");
  if (ret == 0)
    ret = open_host_ends (id, ph, listeners, fds, why, sizeof why);
  for (unsigned i = 0; i < ph->n; i++)
    if (listeners[i] >= 0)
      unlisten_port (listeners[i], ph->s[i].port);
  uint64_t t0 = vt_now_ms ();
  for (unsigned i = 0; ret == 0 && i < ph->n; i++)
    vt_end_init (&ends[i], fds[i], ph->s[i].host_sends, vt_seed (id, i, true),
                 ph->s[i].guest_sends, vt_seed (id, i, false),
                 ph->s[i].order == VT_GUEST_FIRST);
  for (unsigned i = 0; ret == 0 && i < ph->n; i++)
    {
      if (ph->s[i].chunk)
        ends[i].chunk = ph->s[i].chunk;
      ends[i].read_from_ms = vt_now_ms () + ph->s[i].stall_ms;
    }
  if (ret == 0)
    ret = vt_pump (ends, ph->n, 300000, sample_rss, why, sizeof why);
  for (unsigned i = 0; i < ph->n; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  char done[32];
  int done_len = snprintf (done, sizeof done, "done %u ", id);
  /* After a failure too, so that the next phase starts in step. */
  while (strncmp (answer, done, done_len) != 0 && *answer)
    answer = hear_guest (ret == 0 ? 300000 : 60000);
  uint64_t ms = vt_now_ms () - t0;
  if (ret == 0 && strcmp (answer + done_len, "ok") != 0)
    {
      ret = -1;
      snprintf (why, sizeof why, "guest: %s", *answer ? answer : "no answer");
    }
  if (ret < 0)
    {
      check (ph->name, false, "(phase %u: %s)", id, why);
      return false;
    }
  if (quiet)
    return true;
  double mib = (g_bytes + h_bytes) / (double) MIB, s = ms ? ms / 1000.0 : 0.001;
  check (ph->name, true, "(%u streams, guest->host %.1f MiB, host->guest "
         "%.1f MiB, %llu ms, %.1f MiB/s)", ph->n, g_bytes / (double) MIB,
         h_bytes / (double) MIB, (unsigned long long) ms, mib / s);
  if (ph->rate)
    out ("measure throughput-%s %.1f MiB/s", ph->rate, mib / s);
  return true;
}

/* ---- closing and refusing ---- */

static void
test_guest_close (unsigned port)
{
  int lfd = listen_port (port);
  say_guest ("gclose %u", port);
  int fd = accept_within (lfd, 30000);
  unlisten_port (lfd, port);
  if (fd < 0)
    {
      check ("guest-close", false, "(no connection)");
      return;
    }
  struct vt_end e;
  char why[256] = "";
  vt_end_init (&e, fd, 0, 0, VT_CLOSE_BYTES, port, false);
  e.shut = true;
  uint64_t t0 = vt_now_ms ();
  int ret = vt_pump (&e, 1, 5000, NULL, why, sizeof why);
  uint64_t t_eof = vt_now_ms ();
  int err = 0;
  while (ret == 0 && err == 0 && vt_now_ms () - t_eof < 5000)
    if (send (fd, "x", 1, MSG_NOSIGNAL) < 0)
      err = errno;
    else
      usleep (10000);
  close (fd);
  const char *answer = hear_guest (10000);
  if (ret < 0)
    check ("guest-close", false, "(%s)", why);
  else if (err != EPIPE && err != ECONNRESET)
    check ("guest-close", false, "(write after EOF: %s)",
           err ? strerror (err) : "still succeeds after 5 s");
  else
    check ("guest-close", strcmp (answer, "done gclose ok") == 0,
           "(host saw the data and EOF in %llu ms, then %s in %llu ms; "
           "guest: %s)", (unsigned long long) (t_eof - t0), strerror (err),
           (unsigned long long) (vt_now_ms () - t_eof), answer);
}

static void
test_host_close (unsigned port)
{
  char why[256] = "", buf[VT_CLOSE_BYTES];
  say_guest ("hclose %u", port);
  const char *answer = hear_guest (30000);
  int fd = strcmp (answer, "ready hclose") == 0
               ? connect_guest (port, why, sizeof why)
               : -1;
  if (fd < 0)
    {
      check ("host-close", false, "(%s)", *why ? why : answer);
      return;
    }
  vt_fill (port, 0, (uint8_t *) buf, sizeof buf);
  vt_write_all (fd, buf, sizeof buf);
  close (fd);
  answer = hear_guest (30000);
  check ("host-close", strncmp (answer, "done hclose ok", 14) == 0,
         "(guest: %s)", answer);
}

/* CONNECT to a guest port nobody listens on: the backend closes us. */
static void
test_connect_refused (unsigned port)
{
  struct sockaddr_un sun;
  sun_of (&sun, 0);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect (fd, (struct sockaddr *) &sun, sizeof sun) < 0)
    die ("connect to %s: %s", uds_path, strerror (errno));
  char line[64];
  int n = snprintf (line, sizeof line, "CONNECT %u\n", port);
  uint64_t t0 = vt_now_ms ();
  vt_write_all (fd, line, n);
  struct pollfd p = { .fd = fd, .events = POLLIN };
  ssize_t r = poll (&p, 1, 5000) == 1 ? read (fd, line, sizeof line) : -2;
  uint64_t ms = vt_now_ms () - t0;
  close (fd);
  check ("connect-refused", r == 0,
         "(CONNECT %u without a guest listener: %s after %llu ms)", port,
         r == 0 ? "closed" : r == -2 ? "still open" : "got bytes",
         (unsigned long long) ms);
}

static void
test_guest_refused (unsigned port)
{
  say_guest ("grefused %u", port);
  const char *answer = hear_guest (30000);
  check ("guest-connect-refused", strncmp (answer, "done grefused ok", 16) == 0,
         "(guest: %s)", answer);
}

/* ---- fds: QEMU and the backend hold only what they were given ---- */

static ino_t
inode_of (int fd)
{
  struct stat st;
  return fstat (fd, &st) == 0 ? st.st_ino : 0;
}

/* Whether process pid has an fd on socket inode ino. */
static bool
holds_socket (pid_t pid, ino_t ino)
{
  char dir[64], link[PATH_MAX], target[64], want[64];
  snprintf (dir, sizeof dir, "/proc/%d/fd", (int) pid);
  snprintf (want, sizeof want, "socket:[%llu]", (unsigned long long) ino);
  DIR *d = opendir (dir);
  bool found = false;
  struct dirent *de;
  while (d && !found && (de = readdir (d)))
    {
      snprintf (link, sizeof link, "%s/%s", dir, de->d_name);
      ssize_t n = readlink (link, target, sizeof target - 1);
      if (n > 0)
        {
          target[n] = '\0';
          found = strcmp (target, want) == 0;
        }
    }
  if (d)
    closedir (d);
  return found;
}

struct inodes
{
  ino_t qemu_end, backend_end, uds_listener, ctrl_listener;
};

static void
check_fd_isolation (const struct inodes *in)
{
  bool q_own = holds_socket (qemu_pid, in->qemu_end);
  bool b_own = holds_socket (backend_pid, in->backend_end);
  bool b_uds = holds_socket (backend_pid, in->uds_listener);
  bool q_foreign = holds_socket (qemu_pid, in->backend_end)
                   || holds_socket (qemu_pid, in->uds_listener)
                   || holds_socket (qemu_pid, in->ctrl_listener);
  bool b_foreign = holds_socket (backend_pid, in->qemu_end)
                   || holds_socket (backend_pid, in->ctrl_listener);
  check ("fd-isolation", q_own && b_own && b_uds && !q_foreign && !b_foreign,
         "(qemu holds its end: %s, backend holds its end and the uds: %s, "
         "qemu holds a backend/host fd: %s, backend holds qemu's end or a "
         "host fd: %s)", q_own ? "yes" : "no", b_own && b_uds ? "yes" : "no",
         q_foreign ? "YES" : "no", b_foreign ? "YES" : "no");
}

/* ---- processes ---- */

static void
pass_fds (const int *fds, const int *targets, unsigned n)
{
  int high[4];
  for (unsigned i = 0; i < n; i++)
    if ((high[i] = fcntl (fds[i], F_DUPFD_CLOEXEC, 100)) < 0)
      _exit (126);
  for (unsigned i = 0; i < n; i++)
    if (dup2 (high[i], targets[i]) < 0)
      _exit (126);
}

static pid_t
spawn (char **argv, const int *fds, const int *targets, unsigned n)
{
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork: %s", strerror (errno));
  if (pid == 0)
    {
      pass_fds (fds, targets, n);
      execvp (argv[0], argv);
      fprintf (stderr, "vsock-host: exec %s: %s\n", argv[0], strerror (errno));
      _exit (127);
    }
  return pid;
}

/* Wait up to timeout_ms for pid; its status, or -1 (still running). */
static int
reap_within (pid_t pid, int timeout_ms, uint64_t *ms)
{
  uint64_t t0 = vt_now_ms ();
  int status;
  for (;;)
    {
      pid_t r = waitpid (pid, &status, WNOHANG);
      *ms = vt_now_ms () - t0;
      if (r == pid)
        return status;
      if (r < 0 || *ms >= (uint64_t) timeout_ms)
        return -1;
      usleep (2000);
    }
}

static const char *
status_text (int status)
{
  static char buf[64];
  if (status == -1)
    return "still running";
  if (WIFEXITED (status))
    snprintf (buf, sizeof buf, "exit %d", WEXITSTATUS (status));
  else
    snprintf (buf, sizeof buf, "signal %d", WTERMSIG (status));
  return buf;
}

/* After QEMU is gone: the backend returns 0 promptly, and the backend's
   socket, which this program made, is still there. */
static void
check_backend_exit (void)
{
  uint64_t ms;
  int status = reap_within (backend_pid, 5000, &ms);
  if (status != -1)
    backend_pid = -1;
  check ("backend-exit", status != -1 && WIFEXITED (status)
                             && WEXITSTATUS (status) == 0,
         "(%s %llu ms after qemu was gone)", status_text (status),
         (unsigned long long) ms);
  out ("measure backend-exit-ms %llu", (unsigned long long) ms);
  struct stat st;
  bool kept = lstat (uds_path, &st) == 0 && S_ISSOCK (st.st_mode);
  check ("uds-left-to-owner", kept,
         "(the socket the supervisor bound is %s after the backend exited)",
         kept ? "still there" : "GONE");
  unlink (uds_path);
}

/* Every host end the backend held must read EOF now. */
static void
check_host_ends_closed (const int *fds, unsigned n)
{
  unsigned closed = 0;
  for (unsigned i = 0; i < n; i++)
    {
      char buf[4096];
      struct pollfd p = { .fd = fds[i], .events = POLLIN };
      ssize_t r = 1;
      while (r > 0 && poll (&p, 1, 2000) == 1)
        r = read (fds[i], buf, sizeof buf);
      closed += r == 0 || (r < 0 && errno == ECONNRESET);
      close (fds[i]);
    }
  check ("host-ends-closed", closed == n,
         "(%u of %u host connections see EOF after the kill)", closed, n);
}

/* The backend program, given its two sockets as inherited fds. */
static void
exec_backend (const char *backend, int vhost_fd, int uds_fd, const char *cid)
{
  char fdarg[16], udsarg[16];
  snprintf (fdarg, sizeof fdarg, "%d", BACKEND_VHOST_FD);
  snprintf (udsarg, sizeof udsarg, "%d", BACKEND_UDS_FD);
  char *argv[] = { (char *) backend, "--fd", fdarg, "--uds-fd", udsarg,
                   "--uds", (char *) uds_path, "--cid", (char *) cid, NULL };
  int fds[] = { vhost_fd, uds_fd };
  int targets[] = { BACKEND_VHOST_FD, BACKEND_UDS_FD };
  backend_pid = spawn (argv, fds, targets, 2);
}

/* The library, as the supervisor runs it: hy_vsock_backend_spawn(). */
static void
spawn_backend (int vhost_fd, int uds_fd, const char *cid)
{
  struct hy_vsock_opts o = { .vhost_fd = dup (vhost_fd),
                             .uds_fd = dup (uds_fd),
                             .uds_path = uds_path,
                             .guest_cid = strtoull (cid, NULL, 10) };
  hy_error_t err = NULL;
  backend_pid = hy_vsock_backend_spawn (&o, &err);
  if (backend_pid < 0)
    die ("hy_vsock_backend_spawn: %s", err->msg);
}

/* Many short connections in both directions: the backend ends with the
   fds it started with. */
static unsigned
backend_fd_count (void)
{
  char dir[64];
  snprintf (dir, sizeof dir, "/proc/%d/fd", (int) backend_pid);
  DIR *d = opendir (dir);
  unsigned n = 0;
  while (d && readdir (d))
    n++;
  if (d)
    closedir (d);
  return n - 2;
}

static void
test_churn (unsigned *id)
{
  struct phase ph = { "connection-churn", 8, { { 0 } }, NULL };
  for (unsigned i = 0; i < 8; i++)
    ph.s[i] = (struct vt_spec) { i % 2 ? 'h' : 'g', (i % 2 ? 2150 : 1150) + i,
                                 1000 + i, 2000 + i, i % 3, 0, 0 };
  unsigned before = backend_fd_count (), rounds = 25, done = 0;
  while (done < rounds && run_phase ((*id)++, &ph, true))
    done++;
  usleep (300000); /* the last RSTs */
  unsigned after = backend_fd_count ();
  check (ph.name, done == rounds && after == before,
         "(%u connections in %u rounds; backend fds before %u, after %u)",
         done * 8, done, before, after);
}

/* ---- scenarios ---- */

static void
traffic (uint64_t mib, bool with_wrap)
{
  uint64_t big = mib * MIB, half = big / 2;
  const struct phase phases[] = {
    { "bulk-guest-to-host", 1, { { 'g', 1100, big, 0, VT_DUPLEX, 0, 0 } },
      "g2h" },
    { "bulk-host-to-guest", 1, { { 'h', 2100, 0, big, VT_DUPLEX, 0, 0 } },
      "h2g" },
    { "bulk-both-ways", 2,
      { { 'g', 1101, half, half, VT_DUPLEX, 0, 0 },
        { 'h', 2101, half, half, VT_DUPLEX, 0, 0 } }, NULL },
    { "half-close-guest-first", 2,
      { { 'g', 1102, MIB, MIB, VT_GUEST_FIRST, 0, 0 },
        { 'h', 2102, MIB, MIB, VT_GUEST_FIRST, 0, 0 } }, NULL },
    { "half-close-host-first", 2,
      { { 'g', 1103, MIB, MIB, VT_HOST_FIRST, 0, 0 },
        { 'h', 2103, MIB, MIB, VT_HOST_FIRST, 0, 0 } }, NULL },
    { "credit-stall", 2,
      { { 'g', 1104, 2 * MIB, 0, VT_DUPLEX, 0, 1000 },
        { 'h', 2104, 0, 2 * MIB, VT_DUPLEX, 0, 1000 } }, NULL },
    { "concurrent-8", 8,
      { { 'g', 1110, MIB, MIB, VT_DUPLEX, 0, 0 },
        { 'h', 2110, MIB, MIB, VT_DUPLEX, 0, 0 },
        { 'g', 1111, MIB, 0, VT_DUPLEX, 0, 0 },
        { 'h', 2111, 0, MIB, VT_DUPLEX, 0, 0 },
        { 'g', 1112, 0, MIB, VT_GUEST_FIRST, 0, 0 },
        { 'h', 2112, MIB, 0, VT_HOST_FIRST, 0, 0 },
        { 'g', 1113, 3 * MIB / 2, 7, VT_DUPLEX, 0, 0 },
        { 'h', 2113, 5, 3 * MIB / 2, VT_DUPLEX, 0, 0 } }, NULL },
  };
  /* Past 65536 chains on each queue, so the 16-bit ring indexes wrap:
     the guest's rx buffers hold 4 KiB, and each small send is a packet. */
  const struct phase wrap[] = {
    { "ring-wrap-rx", 1, { { 'h', 2140, 0, 260 * MIB, VT_DUPLEX, 0, 0 } },
      NULL },
    { "ring-wrap-tx", 1, { { 'g', 1140, 70000 * 32, 0, VT_DUPLEX, 32, 0 } },
      NULL },
  };
  unsigned id = 1;
  for (unsigned i = 0; i < sizeof phases / sizeof phases[0]; i++)
    run_phase (id++, &phases[i], false);
  for (unsigned i = 0; with_wrap && i < sizeof wrap / sizeof wrap[0]; i++)
    run_phase (id++, &wrap[i], false);
  test_churn (&id);
  test_guest_close (1120);
  test_host_close (2120);
  test_connect_refused (2999);
  test_guest_refused (1999);
  out ("measure backend-cpu-ms %ld (for all of the above)", backend_cpu_ms ());
  say_guest ("bye");
  uint64_t ms;
  int status = reap_within (qemu_pid, 20000, &ms);
  if (status != -1)
    qemu_pid = -1;
  check ("qemu-exit", status != -1 && WIFEXITED (status)
                          && WEXITSTATUS (status) == 0,
         "(the guest rebooted: %s)", status_text (status));
  check_backend_exit ();
}

static void
kill_during_connections (void)
{
  int fds[VT_MAX_STREAMS], n = 0;
  char why[256] = "";
  int lfd = listen_port (1130);
  say_guest ("hold 1130 2 2130");
  const char *answer = hear_guest (30000);
  bool ok = strcmp (answer, "ready hold") == 0;
  for (int i = 0; ok && i < 2; i++)
    {
      char line[16];
      fds[n] = accept_within (lfd, 10000);
      ok = fds[n] >= 0 && vt_read_line (fds[n], line, sizeof line, 10000) == 0;
      n += fds[n] >= 0;
    }
  unlisten_port (lfd, 1130);
  for (int i = 0; ok && i < 2; i++)
    {
      fds[n] = connect_guest (2130, why, sizeof why);
      ok = fds[n] >= 0;
      n += fds[n] >= 0;
    }
  /* One host end with data on its way that the guest never reads. */
  static char junk[65536];
  for (int i = 0; ok && i < 64; i++)
    if (send (fds[n - 1], junk, sizeof junk, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
      break;
  check ("hold-connections", ok, "(%d open; %s)", n, *why ? why : answer);
  usleep (200000);
  kill (qemu_pid, SIGKILL);
  uint64_t ms;
  reap_within (qemu_pid, 5000, &ms);
  qemu_pid = -1;
  check_backend_exit ();
  check_host_ends_closed (fds, n);
}

static void
usage (void)
{
  fputs ("usage: vsock-host (--backend PATH | --spawn) --uds PATH --cid N "
         "[--scenario traffic|kill] [--mib N] [--no-wrap] -- QEMU-COMMAND...\n",
         stderr);
  exit (2);
}

int
main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "backend", required_argument, NULL, 'b' },
    { "uds", required_argument, NULL, 'u' },
    { "cid", required_argument, NULL, 'c' },
    { "scenario", required_argument, NULL, 's' },
    { "mib", required_argument, NULL, 'm' },
    { "no-wrap", no_argument, NULL, 'w' },
    { "spawn", no_argument, NULL, 'S' },
    { NULL, 0, NULL, 0 },
  };
  const char *backend = NULL, *cid = NULL, *scenario = "traffic";
  uint64_t mib = 16;
  bool with_wrap = true, spawn_mode = false;
  int o;
  while ((o = getopt_long (argc, argv, "", opts, NULL)) != -1)
    switch (o)
      {
      case 'b': backend = optarg; break;
      case 'u': uds_path = optarg; break;
      case 'c': cid = optarg; break;
      case 's': scenario = optarg; break;
      case 'm': mib = strtoull (optarg, NULL, 10); break;
      case 'w': with_wrap = false; break;
      case 'S': spawn_mode = true; break;
      default: usage ();
      }
  if ((backend == NULL) != spawn_mode || !uds_path || !cid || optind >= argc
      || mib == 0
      || (strcmp (scenario, "traffic") && strcmp (scenario, "kill")))
    usage ();

  /* What the supervisor does: its socket exists before anything starts. */
  int uds_fd = listen_port (0);
  int ctrl_lfd = listen_port (VT_CTRL_PORT);
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    die ("socketpair: %s", strerror (errno));
  struct inodes in = { inode_of (sv[0]), inode_of (sv[1]), inode_of (uds_fd),
                       inode_of (ctrl_lfd) };

  if (backend)
    exec_backend (backend, sv[1], uds_fd, cid);
  else
    spawn_backend (sv[1], uds_fd, cid);

  int qargc = argc - optind;
  char **qargv = calloc (qargc + 5, sizeof *qargv);
  char chardev[64];
  snprintf (chardev, sizeof chardev, "socket,id=hyvsock,fd=%d", QEMU_VHOST_FD);
  memcpy (qargv, argv + optind, qargc * sizeof *qargv);
  qargv[qargc++] = "-chardev";
  qargv[qargc++] = chardev;
  qargv[qargc++] = "-device";
  qargv[qargc++] = "vhost-user-vsock-device,chardev=hyvsock";
  uint64_t t_start = vt_now_ms ();
  int qfds[] = { sv[0] }, qtargets[] = { QEMU_VHOST_FD };
  qemu_pid = spawn (qargv, qfds, qtargets, 1);
  /* Neither end stays here, or the backend would not see QEMU go. */
  close (sv[0]);
  close (sv[1]);
  close (uds_fd);

  ctrl = accept_within (ctrl_lfd, 60000);
  uint64_t t_first = vt_now_ms ();
  unlisten_port (ctrl_lfd, VT_CTRL_PORT);
  check ("first-connection", ctrl >= 0,
         "(guest connected to host port %d %llu ms after qemu started)",
         VT_CTRL_PORT, (unsigned long long) (t_first - t_start));
  if (ctrl < 0)
    die ("the guest never connected");
  out ("measure first-connection-ms %llu",
       (unsigned long long) (t_first - t_start));
  check_fd_isolation (&in);
  rss_idle = rss_max = backend_rss ();

  if (strcmp (scenario, "traffic") == 0)
    traffic (mib, with_wrap);
  else
    kill_during_connections ();
  out ("measure backend-rss-kb idle %ld (anon %ld, shared guest memory %ld) "
       "max %ld (anon %ld, shared guest memory %ld)", rss_idle.total,
       rss_idle.anon, rss_idle.shmem, rss_max.total, rss_max.anon,
       rss_max.shmem);
  kill_children ();
  out ("%u checks passed, %u failed", passed, failed);
  return failed ? 1 : 0;
}
