/* The one event loop of a vhost-user backend: every fd it waits on is a
 * struct hy_vm_watch registered in an epoll set with data.ptr = the watch. */
#ifndef HYRUN_VM_WATCH_H
#define HYRUN_VM_WATCH_H

#include <stdint.h>

#include "common/error.h"

struct hy_vm_watch
{
  int fd;
  uint32_t events; /* what is registered, 0: not in the set */
  void (*cb) (struct hy_vm_watch *w, uint32_t events);
};

/* Add, change or remove (events == 0) the watch in epfd. */
int hy_vm_watch_set (int epfd, struct hy_vm_watch *w, uint32_t events,
                     hy_error_t *err);

/* Wait up to timeout_ms (-1: forever) and run the callbacks of what is
 * ready. */
int hy_vm_watch_dispatch (int epfd, int timeout_ms, hy_error_t *err);

#endif
