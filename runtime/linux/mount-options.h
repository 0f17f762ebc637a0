/* OCI mount options ("ro", "rbind", "nosuid", "rshared", "mode=755", ...)
 * turned into what mount(2) and mount_setattr(2) take.  No side effects. */
#ifndef HYRUN_LINUX_MOUNT_OPTIONS_H
#define HYRUN_LINUX_MOUNT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct hy_mount_options
{
  unsigned long flags;       /* MS_* for mount(2), incl. MS_BIND|MS_REC */
  unsigned long clear;       /* MS_* that an option explicitly turned off */
  unsigned long propagation; /* MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE [|MS_REC] */
  uint64_t attr_set;         /* MOUNT_ATTR_* applied recursively ("rro", "rnosuid") */
  uint64_t attr_clr;
  bool idmap, ridmap, tmpcopyup;
  char *data;                /* filesystem options joined by ',' ("mode=755") */
};

int hy_mount_options_parse (char *const *options,
                            struct hy_mount_options *out, hy_error_t *err);
void hy_mount_options_release (struct hy_mount_options *o);

/* The i-th option name the parser knows, NULL past the last (for
 * `hyrun features`). */
const char *hy_mount_option_name (size_t i);

#endif
