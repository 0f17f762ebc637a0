/* process.user: the identity the container process runs as. */
#ifndef HYRUN_LINUX_USER_H
#define HYRUN_LINUX_USER_H

#include "common/error.h"
#include "oci/config.h"

/* setgroups(additionalGids) (none when absent: the runtime's own groups
 * must not leak in), setresgid(gid), setresuid(uid), then umask (0022
 * unless given).  In a user namespace whose /proc/self/setgroups is
 * "deny", setgroups is skipped, with a warning when additionalGids were
 * asked for.  To keep capabilities across the uid change, call
 * hy_caps_prepare_keep() first and hy_caps_apply() after. */
int hy_user_apply (const struct oci_user *u, hy_error_t *err);

#endif
