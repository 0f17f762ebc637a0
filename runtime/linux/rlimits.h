/* process.rlimits: setrlimit(2) for each entry, in order. */
#ifndef HYRUN_LINUX_RLIMITS_H
#define HYRUN_LINUX_RLIMITS_H

#include <stddef.h>

#include "common/error.h"
#include "oci/config.h"

/* Errors name the limit and the values, with the errno text:
 *   setrlimit RLIMIT_NOFILE (soft 2048, hard 1048576): Operation not permitted
 * (raising a hard limit needs CAP_SYS_RESOURCE). */
int hy_rlimits_apply (const struct oci_rlimit *rlimits, size_t n,
                      hy_error_t *err);

#endif
