/* The config.json `hyrun spec` writes: the same document as `runc spec`
 * (runc 1.1), with hostname "hyrun" and hyrun's OCI version. */
#ifndef HYRUN_RUNTIME_DEFAULT_SPEC_H
#define HYRUN_RUNTIME_DEFAULT_SPEC_H

#include <stdbool.h>
#include <sys/types.h>

#include "oci/config.h"

/* `rootless` maps root in a new user namespace to uid / gid (runc spec
 * --rootless: no network namespace, /sys bind-mounted, no device rules). */
struct oci_config *hy_default_spec (bool rootless, uid_t uid, gid_t gid);

#endif
