/* OOM events: the container's cgroup2 memory.events counts `oom_kill`,
 * processes of the cgroup killed by any OOM killer (the guest's global
 * one included).  kernfs marks the file changed with POLLPRI; the fd is
 * read again from the start to rearm it. */
#include "guest-agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

static int
read_oom_kills (int fd, uint64_t *out)
{
  char buf[1024];
  ssize_t n = pread (fd, buf, sizeof (buf) - 1, 0);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  const char *v = strstr (buf, "oom_kill ");
  *out = v ? strtoull (v + 9, NULL, 10) : 0;
  return 0;
}

static void
on_memory_events (struct hy_vm_watch *w, uint32_t events)
{
  (void) events;
  struct agent *a = container_of (w, struct agent, oom);
  uint64_t kills = 0;
  if (read_oom_kills (w->fd, &kills) < 0 || kills <= a->oom_kills)
    return;
  a->oom_kills = kills;
  agent_log ("the container had a process killed for memory (oom_kill %llu)",
             (unsigned long long) kills);
  size_t len;
  _cleanup_free_ char *body = hy_agent_oom_encode ("init", &len);
  control_event (a, body, len);
}

int
oom_watch (struct agent *a, hy_error_t *err)
{
  if (a->o.cgroup == NULL)
    return 0;
  _cleanup_free_ char *path = xasprintf ("%s/memory.events", a->o.cgroup);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      /* A cgroup without the memory controller: no OOM events. */
      if (errno == ENOENT)
        return 0;
      return hy_error_errno (err, "open `%s`", path);
    }
  if (read_oom_kills (fd, &a->oom_kills) < 0)
    return hy_error_errno (err, "read `%s`", path);
  a->oom = (struct hy_vm_watch){ .fd = steal_fd (&fd),
                                 .cb = on_memory_events };
  agent_watch (a, &a->oom, EPOLLPRI);
  return 0;
}
