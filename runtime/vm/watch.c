#include "runtime/vm/watch.h"

#include <errno.h>
#include <sys/epoll.h>

int
hy_vm_watch_set (int epfd, struct hy_vm_watch *w, uint32_t events,
                 hy_error_t *err)
{
  if (events == w->events)
    return 0;
  struct epoll_event ev = { .events = events, .data.ptr = w };
  int op = w->events == 0 ? EPOLL_CTL_ADD
           : events == 0  ? EPOLL_CTL_DEL
                          : EPOLL_CTL_MOD;
  if (epoll_ctl (epfd, op, w->fd, &ev) < 0)
    return hy_error_errno (err, "epoll_ctl fd %d", w->fd);
  w->events = events;
  return 0;
}

int
hy_vm_watch_dispatch (int epfd, int timeout_ms, hy_error_t *err)
{
  struct epoll_event evs[32];
  int n = epoll_wait (epfd, evs, 32, timeout_ms);
  if (n < 0)
    {
      if (errno == EINTR)
        return 0;
      return hy_error_errno (err, "epoll_wait");
    }
  /* A callback may free another ready watch: callbacks only mark such
   * watches dead and free them later, so every pointer here stays valid. */
  for (int i = 0; i < n; i++)
    {
      struct hy_vm_watch *w = evs[i].data.ptr;
      if (w->events)
        w->cb (w, evs[i].events);
    }
  return 0;
}
