/* `hyrun events`: a container's statistics and OOM events as JSON lines,
 * in runc's format ({"type":"stats"|"oom","id":...,"data":...}). */
#ifndef HYRUN_RUNTIME_EVENTS_H
#define HYRUN_RUNTIME_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "runtime/cgroup/cgroup.h"
#include "runtime/lifecycle.h"

/* One "stats" event, runc's types.Stats field names (without newline). */
char *hy_stats_event_json (const char *id, const struct hy_cgroup_stats *s);

/* `once`: print one stats event.  Otherwise print a stats event every
 * interval_ns and an "oom" event whenever the kernel reports one, until
 * the container's init exits.  A stopped container is an error.  The
 * stream drops the container's lock, so that kill and delete proceed. */
int hy_container_events (struct hy_container *c, bool once,
                         uint64_t interval_ns, FILE *out, hy_error_t *err);

#endif
