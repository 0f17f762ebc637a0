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
   hyrun_blk=<dev> mounts that ext4 device and reads its file `hello`.  */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

int
main (void)
{
  struct utsname u;
  struct timespec ts;
  const char *how = getenv ("hyrun_exit");
  const char *tag = getenv ("hyrun_9p");
  const char *blk = getenv ("hyrun_blk");

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
