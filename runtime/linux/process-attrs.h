/* Small per-process settings applied just before exec:
 * process.oomScoreAdj, process.noNewPrivileges and linux.personality.
 * Each does nothing when its setting is absent. */
#ifndef HYRUN_LINUX_PROCESS_ATTRS_H
#define HYRUN_LINUX_PROCESS_ATTRS_H

#include "common/error.h"
#include "oci/config.h"

/* Writes /proc/self/oom_score_adj; lowering it below the current value
 * needs CAP_SYS_RESOURCE, and the error says so. */
int hy_oom_score_adj_apply (const struct oci_process *p, hy_error_t *err);

/* PR_SET_NO_NEW_PRIVS when noNewPrivileges is true. */
int hy_no_new_privs_apply (const struct oci_process *p, hy_error_t *err);

/* personality(2): domain LINUX -> PER_LINUX, LINUX32 -> PER_LINUX32, plus
 * the flags of personality(2) ("ADDR_NO_RANDOMIZE", ...); unknown flags
 * are ignored with a warning (the spec defines none). */
int hy_personality_apply (const struct oci_personality *p, hy_error_t *err);

#endif
