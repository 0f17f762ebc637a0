/* process.capabilities applied with libcap and prctl(2).
 *
 * Two steps, like seccomp: hy_caps_resolve() turns the names into masks
 * (no side effects, so the parent can do it where warnings reach the log);
 * hy_caps_apply() installs them in the calling process.
 *
 * A name that is not CAP_[A-Z0-9_]+ is an error.  A well-formed name that
 * libcap does not know, or a capability the running kernel does not have,
 * is ignored with a warning (hy_linux_warn), as runc 1.1 does.
 *
 * Changing user: call hy_caps_prepare_keep() before setresuid() so that
 * the permitted set survives the switch away from uid 0, then
 * hy_caps_apply() after it.  A NULL process.capabilities means "leave the
 * capabilities alone": do not call these at all. */
#ifndef HYRUN_LINUX_CAPABILITIES_H
#define HYRUN_LINUX_CAPABILITIES_H

#include <stdint.h>

#include "common/error.h"
#include "oci/config.h"

/* Bit n stands for capability n. */
struct hy_caps
{
  uint64_t bounding;
  uint64_t effective;
  uint64_t permitted;
  uint64_t inheritable;
  uint64_t ambient;
};

/* "CAP_SYS_ADMIN" -> 21.  *out is -1 for a well-formed name libcap does
 * not know; a malformed name is an error. */
int hy_cap_from_name (const char *name, int *out, hy_error_t *err);

/* The highest capability the running kernel knows
 * (/proc/sys/kernel/cap_last_cap). */
int hy_cap_last_cap (void);

int hy_caps_resolve (const struct oci_capabilities *c, struct hy_caps *out,
                     hy_error_t *err);

/* Same, for a kernel whose last capability is `last_cap`. */
int hy_caps_resolve_for (const struct oci_capabilities *c, int last_cap,
                         struct hy_caps *out, hy_error_t *err);

/* PR_SET_KEEPCAPS: keep the permitted set across the coming setresuid(). */
int hy_caps_prepare_keep (hy_error_t *err);

/* Drop from the bounding set every capability not in caps->bounding, set
 * the effective, permitted and inheritable sets, then raise the ambient
 * ones; finally clear PR_SET_KEEPCAPS.  Works before and after a
 * setresuid() prepared with hy_caps_prepare_keep().
 *
 * Errors name the capability: one to be permitted that this process does
 * not hold, one effective but not permitted, one inheritable but not in
 * the bounding set.  An ambient capability that is not both permitted and
 * inheritable is skipped with a warning, as runc and crun do. */
int hy_caps_apply (const struct hy_caps *caps, hy_error_t *err);

#endif
