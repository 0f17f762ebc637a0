/* `hyrun ps`: the processes of a container, as runc lists them. */
#ifndef HYRUN_RUNTIME_PS_H
#define HYRUN_RUNTIME_PS_H

#include <stdio.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/lifecycle.h"

/* Every process of the container's cgroup (host pids, *pids malloc'ed).
 * A stopped container whose cgroup is gone has none, as in runc. */
int hy_container_pids (struct hy_container *c, pid_t **pids, size_t *n,
                       hy_error_t *err);

/* "[12,13]", or "null" for none (Go's encoding of runc's nil slice). */
char *hy_ps_json (const pid_t *pids, size_t n);

/* Run the host's ps with `args` (NULL or empty: "-ef") and write its
 * header and the lines whose PID column is one of `pids` to `out`. */
int hy_ps_table (const pid_t *pids, size_t n, char *const *args, FILE *out,
                 hy_error_t *err);

#endif
