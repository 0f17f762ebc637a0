/* Scheduling of the container process: process.scheduler
 * (sched_setattr(2)), process.ioPriority (ioprio_set(2)) and
 * process.execCPUAffinity (sched_setaffinity(2)). */
#ifndef HYRUN_LINUX_SCHED_H
#define HYRUN_LINUX_SCHED_H

#include <sched.h>
#include <stddef.h>

#include "common/error.h"
#include "oci/config.h"

/* The spec has no utilization clamp values: with SCHED_FLAG_UTIL_CLAMP_*
 * the clamps are the neutral 0 and 1024. */
int hy_scheduler_apply (const struct oci_scheduler *s, hy_error_t *err);

int hy_io_priority_apply (const struct oci_io_priority *io, hy_error_t *err);

/* "0-3,7" (numbers and ascending ranges, comma-separated, no spaces) into
 * a CPU_ALLOC()ed set of *setsize bytes (CPU_*_S macros); the caller
 * CPU_FREE()s it.  "" yields *set = NULL and *setsize = 0. */
int hy_cpu_list_parse (const char *list, cpu_set_t **set, size_t *setsize,
                       hy_error_t *err);

/* Pin the calling process to `list` (execCPUAffinity.initial before
 * joining the cgroup, .final after it); NULL or "" leaves it alone. */
int hy_cpu_affinity_apply (const char *list, hy_error_t *err);

#endif
