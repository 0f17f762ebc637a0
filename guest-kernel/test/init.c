/* Test PID 1 for guest-kernel/test-boot.sh: proves that the hyrun guest
   kernel boots, has what the guest agent needs, and can leave QEMU fast.

   Lines on the console (all start with "hyrun-guest-init: "):
     <release> uptime_ms=<guest CLOCK_BOOTTIME>
     check <name>=ok|FAIL[...]      one per feature
     result ok|FAIL
     exit <how>
   The kernel hands unknown `key=value` words of its command line to init
   as environment: hyrun_exit=reboot|poweroff|halt chooses the way out,
   hyrun_9p=<tag> mounts that 9p share and reads its file `hello`,
   hyrun_blk=<dev> mounts that ext4 device and reads its file `hello`,
   hyrun_vsock=1 runs the guest side of the vsock traffic test: it
   connects to the host (CID 2) port VT_CTRL_PORT and does what the host
   (test/vsock-host.c) says there, see vsock-test.h.  */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "vsock-test.h"

static int failures;

static void
say (const char *fmt, ...)
{
  char buf[512];
  va_list ap;
  int n;

  n = snprintf (buf, sizeof buf, "hyrun-guest-init: ");
  va_start (ap, fmt);
  n += vsnprintf (buf + n, sizeof buf - n - 1, fmt, ap);
  va_end (ap);
  if (n > (int) sizeof buf - 2)
    n = sizeof buf - 2;
  buf[n++] = '\n';
  if (write (1, buf, n) < 0)
    return;
}

static void
check (const char *name, int ok, const char *detail)
{
  if (!ok)
    failures++;
  say ("check %s=%s%s%s", name, ok ? "ok" : "FAIL",
       detail && *detail ? " " : "", detail ? detail : "");
}

static void
open_console (void)
{
  int fd;

  if (fcntl (1, F_GETFD) >= 0)
    return;
  fd = open ("/dev/console", O_RDWR | O_NOCTTY);
  if (fd < 0)
    return;
  dup2 (fd, 0);
  dup2 (fd, 1);
  dup2 (fd, 2);
  if (fd > 2)
    close (fd);
}

static int
mount_at (const char *src, const char *dir, const char *type,
          unsigned long flags, const char *data)
{
  mkdir (dir, 0755);
  return mount (src, dir, type, flags, data);
}

static int
read_small (const char *path, char *buf, size_t size)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    return -1;
  n = read (fd, buf, size - 1);
  close (fd);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
  return 0;
}

static void
check_filesystems (void)
{
  static const char *const wanted[] = {
    "9p", "virtiofs", "overlay", "ext4", "tmpfs", "devtmpfs", "cgroup2",
    "proc", "sysfs", "fuse", "devpts", "mqueue", NULL
  };
  char buf[4096], name[64], detail[64];
  int fd = open ("/proc/filesystems", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read (fd, buf, sizeof buf - 1);

  if (fd >= 0)
    close (fd);
  buf[n > 0 ? n : 0] = '\0';
  for (int i = 0; wanted[i]; i++)
    {
      /* Lines read "nodev\tname" or "\tname".  */
      snprintf (name, sizeof name, "\t%s\n", wanted[i]);
      snprintf (detail, sizeof detail, "fs-%s", wanted[i]);
      check (detail, strstr (buf, name) != NULL, NULL);
    }
}

static void
check_vsock (void)
{
  int fd = socket (AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  char detail[64] = "";

  if (fd < 0)
    snprintf (detail, sizeof detail, "(socket: %s)", strerror (errno));
  check ("vsock-socket", fd >= 0, detail);
  if (fd >= 0)
    close (fd);
}

static void
check_overlay (void)
{
  int ok = mount_at ("tmpfs", "/ovl", "tmpfs", 0, "size=1m") == 0
    && mkdir ("/ovl/lower", 0755) == 0 && mkdir ("/ovl/upper", 0755) == 0
    && mkdir ("/ovl/work", 0755) == 0 && mkdir ("/ovl/merged", 0755) == 0
    && mount ("overlay", "/ovl/merged", "overlay", 0,
              "lowerdir=/ovl/lower,upperdir=/ovl/upper,workdir=/ovl/work") == 0;
  char detail[64] = "";

  if (!ok)
    snprintf (detail, sizeof detail, "(%s)", strerror (errno));
  check ("overlay-mount", ok, detail);
}

static void
check_file_mount (const char *name, const char *src, const char *type,
                  const char *data)
{
  char dir[64], file[80], content[128], detail[160];
  int ok;

  snprintf (dir, sizeof dir, "/mnt-%s", name);
  snprintf (file, sizeof file, "%s/hello", dir);
  ok = mount_at (src, dir, type, 0, data) == 0
    && read_small (file, content, sizeof content) == 0;
  if (ok)
    snprintf (detail, sizeof detail, "(hello=%s)", content);
  else
    snprintf (detail, sizeof detail, "(%s)", strerror (errno));
  check (name, ok, detail);
}

static void
check_namespaces (void)
{
  static const char *const ns[] = {
    "uts", "ipc", "pid", "net", "user", "cgroup", "time", "mnt", NULL
  };
  char path[64];
  int ok = 1;

  for (int i = 0; ns[i]; i++)
    {
      snprintf (path, sizeof path, "/proc/self/ns/%s", ns[i]);
      if (access (path, F_OK) != 0)
        {
          ok = 0;
          say ("missing namespace %s", ns[i]);
        }
    }
  check ("namespaces", ok, NULL);
}

static void
check_cgroup2 (void)
{
  char buf[256] = "", detail[300];
  int ok = mount_at ("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) == 0
    && read_small ("/sys/fs/cgroup/cgroup.controllers", buf, sizeof buf) == 0
    && strstr (buf, "memory") && strstr (buf, "pids") && strstr (buf, "cpu");

  snprintf (detail, sizeof detail, "(controllers: %s)", buf);
  check ("cgroup2", ok, detail);
}

/* ---- the guest side of the vsock traffic test (vsock-test.h) ---- */

static int
vsock_connect_host (unsigned port)
{
  struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST,
                           .svm_port = port };
  int fd = socket (AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -errno;
  if (connect (fd, (struct sockaddr *) &a, sizeof a) < 0)
    {
      int e = errno;
      close (fd);
      return -e;
    }
  return fd;
}

static int
vsock_listen (unsigned port)
{
  struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
                           .svm_port = port };
  int fd = socket (AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -errno;
  if (bind (fd, (struct sockaddr *) &a, sizeof a) < 0 || listen (fd, 8) < 0)
    {
      int e = errno;
      close (fd);
      return -e;
    }
  return fd;
}

static int
accept_within (int lfd, int timeout_ms)
{
  struct pollfd p = { .fd = lfd, .events = POLLIN };

  if (poll (&p, 1, timeout_ms) != 1)
    return -ETIMEDOUT;
  int fd = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

static void
reply (int ctrl, const char *fmt, ...)
{
  char line[VT_LINE_MAX];
  va_list ap;

  va_start (ap, fmt);
  int n = vsnprintf (line, sizeof line - 1, fmt, ap);
  va_end (ap);
  if (n < 0 || n > (int) sizeof line - 2)
    n = sizeof line - 2;
  say ("vsock %.*s", n, line);
  line[n++] = '\n';
  vt_write_all (ctrl, line, n);
}

static int
parse_spec (const char *line, struct vt_spec *s)
{
  unsigned long long gsend, hsend;
  unsigned order;
  char who;

  if (sscanf (line, "%c %u %llu %llu %u %u %u", &who, &s->port, &gsend,
              &hsend, &order, &s->chunk, &s->stall_ms) != 7
      || (who != 'g' && who != 'h') || order > VT_HOST_FIRST
      || s->chunk > VT_CHUNK)
    return -1;
  s->initiator = who;
  s->guest_sends = gsend;
  s->host_sends = hsend;
  s->order = order;
  return 0;
}

static void
close_all (int *fds, unsigned n)
{
  for (unsigned i = 0; i < n; i++)
    if (fds[i] >= 0)
      close (fds[i]);
}

/* Connect or accept every stream of the phase; -1 with why set. */
static int
open_streams (const struct vt_spec *spec, unsigned n, const int *listeners,
              int *fds, char *why, size_t wlen)
{
  for (unsigned i = 0; i < n; i++)
    if (spec[i].initiator == 'g')
      {
        fds[i] = vsock_connect_host (spec[i].port);
        if (fds[i] < 0)
          {
            snprintf (why, wlen, "stream %u: connect to host port %u: %s", i,
                      spec[i].port, strerror (-fds[i]));
            return -1;
          }
      }
  for (unsigned i = 0; i < n; i++)
    if (spec[i].initiator == 'h')
      {
        fds[i] = accept_within (listeners[i], 30000);
        if (fds[i] < 0)
          {
            snprintf (why, wlen, "stream %u: accept on port %u: %s", i,
                      spec[i].port, strerror (-fds[i]));
            return -1;
          }
      }
  return 0;
}

static void
guest_phase (int ctrl, unsigned id, const struct vt_spec *spec, unsigned n)
{
  int listeners[VT_MAX_STREAMS], fds[VT_MAX_STREAMS];
  struct vt_end ends[VT_MAX_STREAMS];
  char why[160] = "";

  for (unsigned i = 0; i < n; i++)
    {
      fds[i] = -1;
      listeners[i] = spec[i].initiator == 'h' ? vsock_listen (spec[i].port)
                                              : -1;
      if (spec[i].initiator == 'h' && listeners[i] < 0)
        {
          reply (ctrl, "done %u FAIL listen on port %u: %s", id, spec[i].port,
                 strerror (-listeners[i]));
          close_all (listeners, i);
          return;
        }
    }
  reply (ctrl, "ready %u", id);
  int ret = open_streams (spec, n, listeners, fds, why, sizeof why);
  close_all (listeners, n);
  for (unsigned i = 0; ret == 0 && i < n; i++)
    vt_end_init (&ends[i], fds[i], spec[i].guest_sends, vt_seed (id, i, false),
                 spec[i].host_sends, vt_seed (id, i, true),
                 spec[i].order == VT_HOST_FIRST);
  for (unsigned i = 0; ret == 0 && i < n; i++)
    {
      if (spec[i].chunk)
        ends[i].chunk = spec[i].chunk;
      ends[i].read_from_ms = vt_now_ms () + spec[i].stall_ms;
    }
  if (ret == 0)
    ret = vt_pump (ends, n, 300000, NULL, why, sizeof why);
  close_all (fds, n);
  if (ret == 0)
    reply (ctrl, "done %u ok", id);
  else
    reply (ctrl, "done %u FAIL %s", id, why);
}

static void
cmd_phase (int ctrl, unsigned id, unsigned n)
{
  struct vt_spec spec[VT_MAX_STREAMS];
  char line[VT_LINE_MAX];

  if (n == 0 || n > VT_MAX_STREAMS)
    {
      reply (ctrl, "done %u FAIL %u streams", id, n);
      return;
    }
  for (unsigned i = 0; i < n; i++)
    if (vt_read_line (ctrl, line, sizeof line, 10000) < 0
        || parse_spec (line, &spec[i]) < 0)
      {
        reply (ctrl, "done %u FAIL bad stream line %u", id, i);
        return;
      }
  guest_phase (ctrl, id, spec, n);
}

/* Connect, send VT_CLOSE_BYTES and close() without shutdown. */
static void
cmd_gclose (int ctrl, unsigned port)
{
  uint8_t buf[VT_CLOSE_BYTES];
  int fd = vsock_connect_host (port);

  if (fd < 0)
    {
      reply (ctrl, "done gclose FAIL connect: %s", strerror (-fd));
      return;
    }
  vt_fill (port, 0, buf, sizeof buf);
  int ok = vt_write_all (fd, (char *) buf, sizeof buf) == 0;
  close (fd);
  reply (ctrl, ok ? "done gclose ok" : "done gclose FAIL write");
}

/* The host closes after VT_CLOSE_BYTES: EOF, then writing fails. */
static void
cmd_hclose (int ctrl, unsigned port)
{
  int lfd = vsock_listen (port);

  if (lfd < 0)
    {
      reply (ctrl, "done hclose FAIL listen: %s", strerror (-lfd));
      return;
    }
  reply (ctrl, "ready hclose");
  int fd = accept_within (lfd, 30000);
  close (lfd);
  if (fd < 0)
    {
      reply (ctrl, "done hclose FAIL accept: %s", strerror (-fd));
      return;
    }
  struct vt_end e;
  char why[160] = "";
  vt_end_init (&e, fd, 0, 0, VT_CLOSE_BYTES, port, false);
  e.shut = true; /* only receive */
  uint64_t t0 = vt_now_ms ();
  int ret = vt_pump (&e, 1, 10000, NULL, why, sizeof why);
  uint64_t t_eof = vt_now_ms ();
  int err = 0;
  while (ret == 0 && err == 0 && vt_now_ms () - t_eof < 5000)
    {
      if (send (fd, "x", 1, MSG_NOSIGNAL) < 0)
        err = errno;
      else
        usleep (10000);
    }
  close (fd);
  if (ret < 0)
    reply (ctrl, "done hclose FAIL %s", why);
  else if (err != EPIPE)
    reply (ctrl, "done hclose FAIL write after EOF: %s",
           err ? strerror (err) : "still succeeds after 5 s");
  else
    reply (ctrl, "done hclose ok eof_ms=%llu epipe_ms=%llu",
           (unsigned long long) (t_eof - t0),
           (unsigned long long) (vt_now_ms () - t_eof));
}

static void
cmd_grefused (int ctrl, unsigned port)
{
  uint64_t t0 = vt_now_ms ();
  int fd = vsock_connect_host (port);
  unsigned long long ms = vt_now_ms () - t0;

  if (fd >= 0)
    {
      close (fd);
      reply (ctrl, "done grefused FAIL connected");
    }
  else if (fd != -ECONNRESET)
    reply (ctrl, "done grefused FAIL %s after %llu ms", strerror (-fd), ms);
  else
    reply (ctrl, "done grefused ok %llu ms", ms);
}

/* Keep connections open in both directions until QEMU is killed. */
static void
cmd_hold (int ctrl, unsigned host_port, unsigned n, unsigned guest_port)
{
  int lfd = vsock_listen (guest_port);

  if (lfd < 0 || n > VT_MAX_STREAMS)
    {
      reply (ctrl, "done hold FAIL listen or count");
      return;
    }
  for (unsigned i = 0; i < n; i++)
    {
      int fd = vsock_connect_host (host_port);
      if (fd < 0 || vt_write_all (fd, "held\n", 5) < 0)
        {
          reply (ctrl, "done hold FAIL connect %u", i);
          return;
        }
      /* Left open on purpose: QEMU dies with it. */
    }
  reply (ctrl, "ready hold");
}

static void
run_vsock_test (void)
{
  char line[VT_LINE_MAX];
  unsigned a, b, c;
  int ctrl = vsock_connect_host (VT_CTRL_PORT);

  check ("vsock-connect", ctrl >= 0, ctrl < 0 ? strerror (-ctrl) : NULL);
  if (ctrl < 0)
    return;
  while (vt_read_line (ctrl, line, sizeof line, 600000) == 0)
    {
      if (sscanf (line, "phase %u %u", &a, &b) == 2)
        cmd_phase (ctrl, a, b);
      else if (sscanf (line, "gclose %u", &a) == 1)
        cmd_gclose (ctrl, a);
      else if (sscanf (line, "hclose %u", &a) == 1)
        cmd_hclose (ctrl, a);
      else if (sscanf (line, "grefused %u", &a) == 1)
        cmd_grefused (ctrl, a);
      else if (sscanf (line, "hold %u %u %u", &a, &b, &c) == 3)
        cmd_hold (ctrl, a, b, c);
      else if (strcmp (line, "bye") == 0)
        {
          close (ctrl);
          return;
        }
      else
        reply (ctrl, "unknown command");
    }
  check ("vsock-control", 0, "(the host went away without bye)");
  close (ctrl);
}

int
main (void)
{
  struct utsname u;
  struct timespec ts;
  const char *how = getenv ("hyrun_exit");
  const char *tag = getenv ("hyrun_9p");
  const char *blk = getenv ("hyrun_blk");
  const char *vsock = getenv ("hyrun_vsock");

  mount_at ("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  open_console ();
  clock_gettime (CLOCK_BOOTTIME, &ts);
  uname (&u);
  say ("%s uptime_ms=%ld", u.release, ts.tv_sec * 1000 + ts.tv_nsec / 1000000);

  mount_at ("proc", "/proc", "proc", 0, NULL);
  mount_at ("sysfs", "/sys", "sysfs", 0, NULL);
  check_filesystems ();
  check_vsock ();
  check_namespaces ();
  check_cgroup2 ();
  check_overlay ();
  if (tag && *tag)
    {
      char data[128];
      snprintf (data, sizeof data, "trans=virtio,version=9p2000.L");
      check_file_mount ("9p-mount", tag, "9p", data);
    }
  if (blk && *blk)
    check_file_mount ("blk-mount", blk, "ext4", NULL);
  if (vsock && strcmp (vsock, "1") == 0)
    run_vsock_test ();
  say ("result %s", failures ? "FAIL" : "ok");

  if (!how)
    how = "reboot";
  say ("exit %s", how);
  sync ();
  if (strcmp (how, "poweroff") == 0)
    reboot (RB_POWER_OFF);
  else if (strcmp (how, "halt") == 0)
    reboot (RB_HALT_SYSTEM);
  else
    reboot (RB_AUTOBOOT);
  /* Still here: the reboot call failed or halted; PID 1 must not exit.  */
  for (;;)
    pause ();
}
