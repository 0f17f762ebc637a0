/* `hyrun update`: new resource limits for a live container. */
#ifndef HYRUN_RUNTIME_UPDATE_H
#define HYRUN_RUNTIME_UPDATE_H

#include "common/error.h"
#include "oci/config.h"
#include "runtime/lifecycle.h"

/* Apply the resources that `res` sets (what it leaves out, and zero
 * limits, stay as they are, as in runc) to the container's cgroup, then
 * record them in its config copy so that later verbs see them.  As runc,
 * a stopped container is an error and devices are not updated.  `res`
 * is consumed: it is left holding the values it replaced, for the
 * caller to free. */
int hy_container_update (struct hy_container *c, struct oci_resources *res,
                         hy_error_t *err);

#endif
