/* What hyrun puts on the guest kernel's command line for the agent, read
 * from /proc/cmdline when it runs as PID 1 (the kernel keeps words with a
 * dot from init's argv and environment):
 *
 *   hyrun.floor          power off before anything else: the floor of
 *                        tests/bench/vm-bench.sh (kernel boot to init)
 *   hyrun.fault=<point>  a real failure at <point>, for tests/vm/faults.sh
 *                        ($HYRUN_GUEST_FAULT on the host puts it there)
 *
 * A crash is a real one: abort() in PID 1, which the kernel answers with
 * "Attempted to kill init" and a panic.  The hostile points make the agent
 * send what a broken or malicious guest could; the host must cope. */
#include "guest-agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

/* How long after the container's init was released the faults of a
 * running container strike. */
#define RUNNING_FAULT_DELAY_MS 300

static const char *const fault_names[AGENT_FAULTS] = {
  [FAULT_NONE] = "none",
  [FAULT_AGENT_START] = "agent.start",
  [FAULT_AGENT_CREATE] = "agent.create",
  [FAULT_AGENT_RUNNING] = "agent.running",
  [FAULT_KERNEL_PANIC] = "kernel.panic",
  [FAULT_HOSTILE_HELLO] = "hostile.hello",
  [FAULT_HOSTILE_OVERSIZED] = "hostile.oversized",
  [FAULT_HOSTILE_GARBAGE] = "hostile.garbage",
};

static int
parse_fault (const char *name, size_t len, enum agent_fault *out,
             hy_error_t *err)
{
  for (int f = FAULT_NONE + 1; f < AGENT_FAULTS; f++)
    if (strlen (fault_names[f]) == len
        && memcmp (fault_names[f], name, len) == 0)
      {
        *out = (enum agent_fault) f;
        return 0;
      }
  return hy_error (err, EINVAL,
                   "hyrun.fault=%.*s: unknown fault point (agent.start, "
                   "agent.create, agent.running, kernel.panic, "
                   "hostile.hello, hostile.oversized, hostile.garbage)",
                   (int) (len > 64 ? 64 : len), name);
}

/* The words of the command line, space separated, NUL-terminated. */
static int
read_proc_cmdline (char *buf, size_t size, hy_error_t *err)
{
  if (mount ("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)
      < 0)
    return hy_error_errno (err, "mount proc to read the kernel command line");
  int fd = open ("/proc/cmdline", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read (fd, buf, size - 1);
  int saved = errno;
  if (fd >= 0)
    close (fd);
  /* pid1_setup mounts it again, after the root became a mount. */
  umount2 ("/proc", MNT_DETACH);
  if (n < 0)
    {
      errno = saved;
      return hy_error_errno (err, "read /proc/cmdline");
    }
  buf[n] = '\0';
  return 0;
}

int
agent_read_cmdline (struct agent_opts *o, hy_error_t *err)
{
  char line[4096];
  if (read_proc_cmdline (line, sizeof (line), err) < 0)
    return -1;
  for (char *w = line; *w;)
    {
      size_t len = strcspn (w, " \n");
      if (len == strlen ("hyrun.floor") && str_has_prefix (w, "hyrun.floor"))
        pid1_power_off ();
      if (str_has_prefix (w, "hyrun.fault=")
          && parse_fault (w + 12, len - 12, &o->fault, err) < 0)
        return -1;
      w += len;
      w += strspn (w, " \n");
    }
  return 0;
}

__attribute__ ((noreturn)) static void
crash (enum agent_fault f)
{
  agent_log ("injected fault %s: the agent crashes", fault_names[f]);
  abort ();
}

void
fault_crash_at (const struct agent *a, enum agent_fault point)
{
  if (a->o.fault == point)
    crash (point);
}

/* ---- hostile frames ---- */

char *
fault_hello (const struct agent *a, size_t *len)
{
  if (a->o.fault != FAULT_HOSTILE_HELLO)
    return NULL;
  agent_log ("injected fault hostile.hello: a bogus hello");
  static const char bogus[] = "{\"type\":\"hello\",\"version\":\"one\"}";
  *len = sizeof (bogus) - 1;
  return xstrndup (bogus, *len);
}

/* A frame header announcing 4 GiB - 16, and a little of the promised
 * body. */
static void
send_oversized (struct conn *c)
{
  static const unsigned char frame[]
      = { 0xf0, 0xff, 0xff, 0xff, '{', '"', 't', 'y', 'p', 'e', '"', ':' };
  agent_log ("injected fault hostile.oversized: a frame of 4294967280 bytes");
  if (send (c->w.fd, frame, sizeof (frame), MSG_NOSIGNAL) < 0)
    agent_log ("hostile.oversized: send: %s", strerror (errno));
}

bool
fault_on_request (struct conn *c, const struct hy_agent_request *req)
{
  const struct agent *a = c->agent;
  if (req->kind != HY_AGENT_REQ_CREATE)
    return false;
  fault_crash_at (a, FAULT_AGENT_CREATE);
  if (a->o.fault != FAULT_HOSTILE_OVERSIZED)
    return false;
  send_oversized (c);
  return true;
}

/* ---- faults of a running container ---- */

static int
write_text (const char *path, const char *text)
{
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, text, strlen (text)) < 0)
    {
      agent_log ("kernel.panic: write `%s`: %s", path, strerror (errno));
      return -1;
    }
  return 0;
}

/* A real kernel panic with the agent alive: panic_on_oom=2 makes even a
 * cgroup's OOM panic the kernel, and a child fills a 4 MiB cgroup. */
static void
panic_the_kernel (void)
{
  static const char cg[] = "/sys/fs/cgroup/hyrun-fault";
  agent_log ("injected fault kernel.panic: panic_on_oom=2 and an OOM");
  if (write_text ("/proc/sys/vm/panic_on_oom", "2") < 0
      || (mkdir (cg, 0755) < 0 && errno != EEXIST)
      || write_text ("/sys/fs/cgroup/hyrun-fault/memory.max", "4M") < 0)
    return;
  pid_t pid = fork ();
  if (pid != 0)
    return;
  if (write_text ("/sys/fs/cgroup/hyrun-fault/cgroup.procs", "0") < 0)
    _exit (1);
  for (;;)
    {
      char *p = malloc (1 << 20);
      if (p)
        memset (p, 1, 1 << 20);
    }
}

static void
garbage_on_ready (struct agent *a)
{
  static const char garbage[] = "\xff\xfe not JSON \x01\x02";
  agent_log ("injected fault hostile.garbage: a frame that is not JSON");
  control_event (a, garbage, sizeof (garbage) - 1);
}

static void
on_fault_timer (struct hy_vm_watch *w, uint32_t events)
{
  (void) events;
  struct agent *a = container_of (w, struct agent, fault_timer);
  agent_watch (a, w, 0);
  close (w->fd);
  w->fd = -1;
  switch (a->o.fault)
    {
    case FAULT_AGENT_RUNNING:
      crash (a->o.fault);
    case FAULT_KERNEL_PANIC:
      panic_the_kernel ();
      break;
    case FAULT_HOSTILE_GARBAGE:
      garbage_on_ready (a);
      break;
    default:
      break;
    }
}

void
fault_container_running (struct agent *a)
{
  if (a->o.fault != FAULT_AGENT_RUNNING && a->o.fault != FAULT_KERNEL_PANIC
      && a->o.fault != FAULT_HOSTILE_GARBAGE)
    return;
  int fd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  const struct itimerspec once
      = { .it_value = { 0, RUNNING_FAULT_DELAY_MS * 1000000L } };
  if (fd < 0 || timerfd_settime (fd, 0, &once, NULL) < 0)
    {
      agent_log ("fault %s: timer: %s", fault_names[a->o.fault],
                 strerror (errno));
      if (fd >= 0)
        close (fd);
      return;
    }
  a->fault_timer = (struct hy_vm_watch){ .fd = fd, .cb = on_fault_timer };
  agent_watch (a, &a->fault_timer, EPOLLIN);
}
