/* Verbs on an existing container (container mode): load it from --root,
 * and start, kill, pause, resume, delete it or report its state. */
#ifndef HYRUN_RUNTIME_LIFECYCLE_H
#define HYRUN_RUNTIME_LIFECYCLE_H

#include <stdbool.h>
#include <sys/file.h>

#include "common/error.h"
#include "oci/config.h"
#include "runtime/cgroup/cgroup.h"
#include "runtime/status.h"

struct hy_container
{
  char *root;
  int dirfd;                /* <root>/<id>, locked */
  struct hy_status status;
  struct oci_config *config; /* the copy create stored */
  struct hy_cgroup *cgroup;  /* NULL without one */
};

/* Load and lock (LOCK_EX for verbs that change it, LOCK_SH to look). */
int hy_container_load (const char *root, const char *id, int lock,
                       struct hy_container *c, hy_error_t *err);
void hy_container_release (struct hy_container *c);

enum oci_status hy_container_status (struct hy_container *c);

/* The OCI state document, as `hyrun state` prints it. */
char *hy_container_state_json (struct hy_container *c, bool pretty);

/* Release init from exec.fifo; poststart hooks follow (failures warn). */
int hy_container_start (struct hy_container *c, hy_error_t *err);

int hy_container_kill (struct hy_container *c, int sig, bool all,
                       hy_error_t *err);

int hy_container_pause (struct hy_container *c, bool pause, hy_error_t *err);

/* Stop what is left (only with force unless stopped), remove the cgroup,
 * run the poststop hooks and remove the state directory. */
int hy_container_delete (struct hy_container *c, bool force,
                         hy_error_t *err);

#endif
