/* The duties of the guest's PID 1 before it serves: its own filesystems
 * and the host's share, and the way out of the VM.
 *
 * The initramfs is the kernel's rootfs, the one mount pivot_root can never
 * move away from.  So the agent first makes its root a bind mount of
 * itself (what switch_root does with a new root): then the container's
 * pivot_root works as on a host. */
#include "guest-agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

/* cache=mmap: the page cache serves mapped files only (programs and
 * libraries at exec, shared writable maps, which cache=none refuses);
 * reads, writes and lookups still ask the host, which may change the
 * rootfs and the bind mounts under the guest. */
#define NINEP_OPTIONS "trans=virtio,version=9p2000.L,msize=512000,cache=mmap"

static int
mount_at (const char *source, const char *dir, const char *type,
          unsigned long flags, const char *data, hy_error_t *err)
{
  if (mkdir_parents (dir, 0755, err) < 0)
    return -1;
  if (mount (source, dir, type, flags, data) < 0 && errno != EBUSY)
    return hy_error_errno (err, "mount %s on `%s`", type, dir);
  return 0;
}

static int
root_as_mount (hy_error_t *err)
{
  if (mkdir ("/.root", 0700) < 0 && errno != EEXIST)
    return hy_error_errno (err, "mkdir /.root");
  if (mount ("/", "/.root", NULL, MS_BIND | MS_REC, NULL) < 0)
    return hy_error_errno (err, "bind / on /.root");
  if (chdir ("/.root") < 0 || mount ("/.root", "/", NULL, MS_MOVE, NULL) < 0
      || chroot (".") < 0 || chdir ("/") < 0)
    return hy_error_errno (err, "make the root a mount of its own");
  rmdir ("/.root");
  return 0;
}

/* The kernel gives init /dev/console as stdio when the initramfs has it;
 * ours may not: open it from devtmpfs. */
static void
console_stdio (void)
{
  if (fcntl (0, F_GETFD) >= 0 && fcntl (1, F_GETFD) >= 0
      && fcntl (2, F_GETFD) >= 0)
    return;
  int fd = open ("/dev/console", O_RDWR | O_NOCTTY);
  if (fd < 0)
    fd = open ("/dev/null", O_RDWR);
  for (int i = 0; i < 3 && fd >= 0; i++)
    if (fcntl (i, F_GETFD) < 0)
      dup2 (fd, i);
  if (fd > 2)
    close (fd);
}

/* The controllers the container's cgroup gets (each on its own: one the
 * kernel lacks must not cost the others). */
static void
enable_controllers (void)
{
  static const char *const wanted[] = { "+memory", "+pids", "+cpu", "+io",
                                        "+cpuset" };
  int fd = open ("/sys/fs/cgroup/cgroup.subtree_control",
                 O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  for (size_t i = 0; i < sizeof (wanted) / sizeof (wanted[0]); i++)
    if (write (fd, wanted[i], strlen (wanted[i])) < 0)
      agent_log ("cgroup controller %s: %s", wanted[i] + 1,
                 strerror (errno));
  close (fd);
}

static int
setup_cgroup (const char *cgroup, hy_error_t *err)
{
  if (mount_at ("cgroup2", "/sys/fs/cgroup", "cgroup2",
                MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0)
    return -1;
  enable_controllers ();
  if (cgroup && mkdir (cgroup, 0755) < 0 && errno != EEXIST)
    return hy_error_errno (err, "mkdir `%s`", cgroup);
  return 0;
}

int
pid1_setup (const struct agent_opts *o, hy_error_t *err)
{
  if (root_as_mount (err) < 0)
    return -1;
  if (mount_at ("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", err)
      < 0)
    return -1;
  console_stdio ();
  const unsigned long safe = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (mount_at ("proc", "/proc", "proc", safe, NULL, err) < 0
      || mount_at ("sysfs", "/sys", "sysfs", safe, NULL, err) < 0
      || mount_at ("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV,
                   "mode=0755", err) < 0
      || mount_at ("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                   "newinstance,ptmxmode=0666,mode=0620,gid=5", err) < 0
      || mount_at ("tmpfs", "/dev/shm", "tmpfs", safe, "mode=1777", err) < 0
      || setup_cgroup (o->cgroup, err) < 0)
    return -1;
  return 0;
}

void
pid1_mount_share (const struct agent_opts *o)
{
  /* Without the share there is no rootfs, but the host still learns why
   * from the agent: go on serving. */
  hy_error_t err = NULL;
  if (mount_at ("hyrun", o->share, "9p", MS_NOSUID | MS_NODEV,
                NINEP_OPTIONS, &err) < 0)
    agent_log_error ("the host's share", &err);
}

void
pid1_power_off (void)
{
  sync ();
  /* With the kernel's reboot=t and QEMU's -no-reboot this ends QEMU. */
  reboot (RB_AUTOBOOT);
  _exit (1);
}
