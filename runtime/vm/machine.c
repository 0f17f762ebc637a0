#include "runtime/vm/machine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/vm/qemu.h"
#include "runtime/vm/share.h"
#include "runtime/vm/supervisor.h"
#include "runtime/vm/vsock/vsock.h"

#define LOG_TAIL_BYTES 1500
#define MIN_GUEST_MEMORY (64ULL << 20)
#define QEMU_MEMORY_OVERHEAD (96ULL << 20)

void
hy_machine_init (struct hy_machine *m)
{
  *m = (struct hy_machine){ .ready_fd = -1,
                            .vsock_fd = -1,
                            .backend_pidfd = -1,
                            .qemu_pidfd = -1 };
}

/* ---- assets ---- */

static char *
beside_hyrun (const char *name)
{
  char exe[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", exe, sizeof (exe) - 1);
  if (n <= 0)
    return NULL;
  exe[n] = '\0';
  char *slash = strrchr (exe, '/');
  if (slash)
    *slash = '\0';
  return xasprintf ("%s/../share/hyrun/%s", exe, name);
}

static int
find_asset (const char *env, const char *name, const char *what, char **out,
            hy_error_t *err)
{
  const char *given = getenv (env);
  _cleanup_free_ char *path = given && *given ? xstrdup (given)
                                              : beside_hyrun (name);
  if (path == NULL || access (path, R_OK) < 0)
    return hy_error (err, errno ? errno : ENOENT,
                     "vm: no %s at `%s` (build it with scripts/build, or set "
                     "$%s)",
                     what, path ? path : name, env);
  *out = realpath (path, NULL);
  if (*out == NULL)
    return hy_error_errno (err, "vm: resolve `%s`", path);
  return 0;
}

int
hy_machine_find_assets (char **kernel, char **initrd, hy_error_t *err)
{
  if (find_asset ("HYRUN_VM_KERNEL", "vmlinuz", "guest kernel", kernel, err)
      < 0)
    return -1;
  if (find_asset ("HYRUN_VM_INITRD", "initramfs.cpio.gz",
                  "guest agent initramfs", initrd, err)
      < 0)
    {
      free (*kernel);
      *kernel = NULL;
      return -1;
    }
  return 0;
}

/* ---- sizing: the annotations, within the container's cgroup limits ---- */

static void
size_machine (struct hy_machine *m, const struct oci_config *c,
              const struct hy_workload_opts *w)
{
  m->cpus = w && w->vm_cpus ? w->vm_cpus : HY_VM_DEFAULT_CPUS;
  m->memory = w && w->vm_memory ? w->vm_memory : HY_VM_DEFAULT_MEMORY;
  const struct oci_resources *r = c->linux_ ? c->linux_->resources : NULL;
  if (r && r->memory && r->memory->has_limit && r->memory->limit > 0)
    {
      uint64_t limit = (uint64_t) r->memory->limit;
      uint64_t room = limit > QEMU_MEMORY_OVERHEAD + MIN_GUEST_MEMORY
                          ? limit - QEMU_MEMORY_OVERHEAD
                          : MIN_GUEST_MEMORY;
      if (m->memory > room)
        m->memory = room;
    }
  if (r && r->cpu && r->cpu->has_quota && r->cpu->quota > 0
      && r->cpu->has_period && r->cpu->period > 0)
    {
      uint64_t most = ((uint64_t) r->cpu->quota + r->cpu->period - 1)
                      / r->cpu->period;
      if (most >= 1 && m->cpus > most)
        m->cpus = (uint32_t) most;
    }
  m->memory &= ~((1ULL << 20) - 1);
  if (m->memory < MIN_GUEST_MEMORY)
    m->memory = MIN_GUEST_MEMORY;
}

int
hy_machine_check_memory (const struct oci_memory *m, const char *field,
                         hy_error_t *err)
{
  if (m == NULL || !m->has_limit || m->limit <= 0
      || m->limit >= HY_VM_MIN_MEMORY_LIMIT)
    return 0;
  return hy_error (err, 0,
                   "%s: %lld bytes is too little for a VM, which the "
                   "container's cgroup holds whole (QEMU and the guest's "
                   "memory): at least %lld MiB",
                   field, (long long) m->limit, HY_VM_MIN_MEMORY_LIMIT >> 20);
}

/* ---- sockets ---- */

static int
listen_unix (const char *path, hy_error_t *err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof (sa.sun_path))
    return hy_error (err, ENAMETOOLONG,
                     "vm: socket path `%s` is too long (use a shorter --root)",
                     path);
  strcpy (sa.sun_path, path);
  _cleanup_close_ int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *) &sa, sizeof (sa)) < 0
      || listen (fd, 16) < 0)
    return hy_error_errno (err, "vm: listen on `%s`", path);
  return steal_fd (&fd);
}

/* ---- the vsock back-end, a child of the supervisor ---- */

/* The back-end takes its end of the vhost-user socketpair and the hybrid
 * socket (both closed here whatever happens). */
static int
start_backend (struct hy_machine *m, int vhost_fd, hy_error_t *err)
{
  struct hy_vsock_opts o = { .vhost_fd = vhost_fd,
                             .uds_fd = m->vsock_fd,
                             .uds_path = m->vsock_path,
                             .guest_cid = HY_VM_GUEST_CID };
  m->vsock_fd = -1;
  m->backend_pid = hy_vsock_backend_spawn (&o, err);
  if (m->backend_pid < 0)
    {
      m->backend_pid = 0;
      return hy_error_prepend (err, "vm: vsock back-end");
    }
  m->backend_pidfd = (int) syscall (SYS_pidfd_open, m->backend_pid, 0);
  if (m->backend_pidfd < 0)
    return hy_error_errno (err, "vm: pidfd_open of the vsock back-end");
  return 0;
}

static int
open_log (const struct hy_machine *m, const char *name, hy_error_t *err)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", m->dir, name);
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
                 0600);
  if (fd < 0)
    return hy_error_errno (err, "vm: create `%s`", path);
  return fd;
}

/* $HYRUN_GUEST_FAULT: a fault the guest agent injects (tests); one word
 * of the kernel command line. */
static int
guest_fault (const char **out, hy_error_t *err)
{
  const char *f = getenv ("HYRUN_GUEST_FAULT");
  *out = NULL;
  if (f == NULL || *f == '\0')
    return 0;
  size_t n = strlen (f);
  if (n > 64 || strspn (f, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
    return hy_error (err, EINVAL, "vm: $HYRUN_GUEST_FAULT: \"%.64s\" is not "
                                  "a fault point ([a-z0-9._-], up to 64)",
                     f);
  *out = f;
  return 0;
}

static int
start_qemu (struct hy_machine *m, int vhost_fd, hy_error_t *err)
{
  _cleanup_free_ char *kernel = NULL;
  _cleanup_free_ char *initrd = NULL;
  const char *fault;
  if (hy_machine_find_assets (&kernel, &initrd, err) < 0
      || guest_fault (&fault, err) < 0)
    return -1;
  _cleanup_free_ char *share = xasprintf ("%s/%s", m->dir, HY_VM_SHARE);
  _cleanup_free_ char *console
      = xasprintf ("%s/%s", m->dir, HY_VM_CONSOLE_LOG);
  _cleanup_close_ int log = open_log (m, HY_VM_QEMU_LOG, err);
  if (log < 0)
    return -1;
  const struct hy_qemu_spec spec = {
    .binary = getenv ("HYRUN_QEMU"),
    .accel = hy_qemu_detect_accel (),
    .kernel = kernel,
    .initrd = initrd,
    .cpus = m->cpus,
    .memory = m->memory,
    .vsock_fd = vhost_fd,
    .share_dir = share,
    .console_log = console,
    .guest_fault = fault,
  };
  return hy_qemu_spawn (&spec, log, &m->qemu_pid, &m->qemu_pidfd, err);
}

int
hy_machine_start (struct hy_machine *m, const char *state_dir,
                  const struct oci_config *c, const char *rootfs,
                  const struct hy_workload_opts *w, hy_error_t *err)
{
  size_machine (m, c, w);
  m->dir = xasprintf ("%s/%s", state_dir, HY_VM_DIR);
  m->vsock_path = xasprintf ("%s/%s", m->dir, HY_VM_VSOCK_SOCKET);
  if (mkdir (m->dir, 0700) < 0)
    return hy_error_errno (err, "vm: mkdir `%s`", m->dir);
  _cleanup_free_ char *share = xasprintf ("%s/%s", m->dir, HY_VM_SHARE);
  _cleanup_free_ char *ready
      = xasprintf ("%s_%d", m->vsock_path, HY_VM_AGENT_PORT);
  if (hy_vm_share_prepare (c, rootfs, share, err) < 0)
    return hy_error_prepend (err, "vm");
  /* Relative bind sources are bound: from here nothing, QEMU included,
   * may keep create's directory busy. */
  if (chdir ("/") < 0)
    return hy_error_errno (err, "vm: chdir to /");
  m->ready_fd = listen_unix (ready, err);
  if (m->ready_fd < 0)
    return -1;
  m->vsock_fd = listen_unix (m->vsock_path, err);
  if (m->vsock_fd < 0)
    return -1;
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return hy_error_errno (err, "vm: socketpair for vhost-user");
  int r = start_backend (m, sv[0], err);
  if (r == 0)
    r = start_qemu (m, sv[1], err);
  /* Only QEMU may hold its end, else the back-end never sees it go. */
  close (sv[1]);
  return r;
}

/* ---- why a guest died ---- */

/* How far back a kernel panic is looked for in the console. */
#define PANIC_SEARCH_BYTES (64 * 1024)
#define PANIC_LINE "Kernel panic - not syncing"

/* One line for the log: printable ASCII, newlines as " | ". */
static char *
one_line (const char *buf, size_t n)
{
  char *out = xmalloc0 (n * 3 + 1), *o = out;
  for (size_t i = 0; i < n; i++)
    {
      unsigned char ch = (unsigned char) buf[i];
      if (ch == '\n')
        {
          if (o > out && i + 1 < n)
            o = stpcpy (o, " | ");
        }
      else if (ch >= 0x20 && ch < 0x7f)
        *o++ = (char) ch;
    }
  *o = '\0';
  return out;
}

/* A kernel panic's call trace and registers say nothing to a user: the
 * text ends with the panic's line when there is one. */
static size_t
end_at_panic (const char *buf, size_t n)
{
  const char *last = NULL;
  const char *p = buf;
  while ((p = memmem (p, n - (size_t) (p - buf), PANIC_LINE,
                      strlen (PANIC_LINE))))
    last = p++;
  if (last == NULL)
    return n;
  const char *nl = memchr (last, '\n', n - (size_t) (last - buf));
  return nl ? (size_t) (nl - buf) : n;
}

/* The last LOG_TAIL_BYTES of a log (of the console: up to its panic), as
 * one line. */
static char *
log_tail (const struct hy_machine *m, const char *name)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", m->dir, name);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  off_t size = lseek (fd, 0, SEEK_END);
  off_t from = size > PANIC_SEARCH_BYTES ? size - PANIC_SEARCH_BYTES : 0;
  _cleanup_free_ char *buf = xmalloc0 (PANIC_SEARCH_BYTES + 1);
  ssize_t n = pread (fd, buf, PANIC_SEARCH_BYTES, from);
  if (n <= 0)
    return NULL;
  size_t end = end_at_panic (buf, (size_t) n);
  size_t start = end > LOG_TAIL_BYTES ? end - LOG_TAIL_BYTES : 0;
  return one_line (buf + start, end - start);
}

static bool
qemu_status (struct hy_machine *m, int *status)
{
  if (m->qemu_pid <= 0)
    return false;
  pid_t r = waitpid (m->qemu_pid, status, WNOHANG);
  if (r != m->qemu_pid)
    return false;
  m->qemu_pid = 0;
  return true;
}

int
hy_machine_died (struct hy_machine *m, const char *what, hy_error_t *err)
{
  _cleanup_free_ char *console = log_tail (m, HY_VM_CONSOLE_LOG);
  _cleanup_free_ char *qemu = log_tail (m, HY_VM_QEMU_LOG);
  int status;
  _cleanup_free_ char *how = NULL;
  if (qemu_status (m, &status))
    how = WIFSIGNALED (status)
              ? xasprintf ("QEMU was killed by signal %d", WTERMSIG (status))
              : xasprintf ("QEMU exited with status %d", WEXITSTATUS (status));
  return hy_error (err, 0, "vm: %s%s%s%s%s%s%s%s", what, how ? " (" : "",
                   how ? how : "", how ? ")" : "",
                   console && *console ? "; guest console: " : "",
                   console ? console : "",
                   qemu && *qemu ? "; QEMU: " : "", qemu ? qemu : "");
}

static bool
qemu_exits_within (const struct hy_machine *m, int ms)
{
  struct pollfd p = { .fd = m->qemu_pidfd, .events = POLLIN };
  return m->qemu_pidfd < 0 || poll (&p, 1, ms) > 0;
}

int
hy_machine_agent_lost (struct hy_machine *m, const char *what,
                       hy_error_t *err)
{
  qemu_exits_within (m, 1000);
  return hy_machine_died (m, what, err);
}

int
hy_machine_gone (struct hy_machine *m, const char *when, hy_error_t *err)
{
  /* The back-end follows QEMU out at once; QEMU's exit says more. */
  bool qemu_gone = qemu_exits_within (m, 2000);
  char what[128];
  snprintf (what, sizeof (what), "%s%s%s",
            qemu_gone ? "the VM exited" : "the vsock back-end exited",
            *when ? " " : "", when);
  return hy_machine_died (m, what, err);
}

static int
elapsed_ms (const struct timespec *since)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  return (int) ((now.tv_sec - since->tv_sec) * 1000
                + (now.tv_nsec - since->tv_nsec) / 1000000);
}

int
hy_machine_boot_timeout_ms (void)
{
  const char *s = getenv ("HYRUN_VM_BOOT_TIMEOUT_MS");
  long long v;
  if (s && parse_int64 (s, 100, 600000, &v) == 0)
    return (int) v;
  return HY_VM_BOOT_TIMEOUT_MS;
}

int
hy_machine_wait_ready (struct hy_machine *m, int timeout_ms, int *conn,
                       hy_error_t *err)
{
  struct timespec start;
  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;)
    {
      int left = timeout_ms - elapsed_ms (&start);
      if (left <= 0)
        {
          char what[80];
          snprintf (what, sizeof (what),
                    "the guest agent was not ready after %d ms", timeout_ms);
          return hy_machine_died (m, what, err);
        }
      struct pollfd p[] = { { .fd = m->ready_fd, .events = POLLIN },
                            { .fd = m->qemu_pidfd, .events = POLLIN },
                            { .fd = m->backend_pidfd, .events = POLLIN } };
      int n = poll (p, 3, left);
      if (n < 0 && errno != EINTR)
        return hy_error_errno (err, "vm: poll");
      if (n <= 0)
        continue;
      if (p[1].revents || p[2].revents)
        return hy_machine_gone (m, "before its agent was ready", err);
      *conn = accept4 (m->ready_fd, NULL, NULL, SOCK_CLOEXEC);
      if (*conn >= 0)
        return 0;
      if (errno != EINTR && errno != EAGAIN)
        return hy_error_errno (err, "vm: accept the agent's connection");
    }
}

static void
kill_and_reap (pid_t *pid, int *pidfd)
{
  if (*pid > 0)
    {
      kill (*pid, SIGKILL);
      waitpid (*pid, NULL, 0);
    }
  *pid = 0;
  if (*pidfd >= 0)
    close (*pidfd);
  *pidfd = -1;
}

void
hy_machine_stop (struct hy_machine *m)
{
  kill_and_reap (&m->qemu_pid, &m->qemu_pidfd);
  kill_and_reap (&m->backend_pid, &m->backend_pidfd);
  if (m->ready_fd >= 0)
    close (m->ready_fd);
  if (m->vsock_fd >= 0)
    close (m->vsock_fd);
  m->ready_fd = m->vsock_fd = -1;
  free (m->dir);
  free (m->vsock_path);
  m->dir = m->vsock_path = NULL;
}
