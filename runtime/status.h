/* What hyrun remembers of a container: <root>/<id>/status.json, written by
 * create and read by every other verb, and the live status derived from it
 * (the OCI statuses creating / created / running / paused / stopped).
 *
 * The directory <root>/<id>/ also holds exec.fifo (present between create
 * and start) and config.json (the validated config, for exec, hooks and
 * delete). Verbs that change a container hold an exclusive flock on the
 * directory. */
#ifndef HYRUN_RUNTIME_STATUS_H
#define HYRUN_RUNTIME_STATUS_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/annotations.h"
#include "oci/state.h"

#define HY_STATUS_FILE "status.json"
#define HY_EXEC_FIFO "exec.fifo"
#define HY_CONFIG_COPY "config.json"

struct hy_status
{
  char *id;
  pid_t pid;                     /* the container's init; 0 while creating */
  unsigned long long pid_start;  /* its start time, against pid reuse */
  char *bundle;
  char *rootfs;
  char *created;                 /* RFC 3339 with nanoseconds, UTC */
  char *owner;
  enum hy_isolation isolation;
  char *cgroup;                  /* hy_cgroup_to_string(), NULL without */
  bool detached;                 /* no hyrun process waits on init */
};

int hy_status_write (int dirfd, const struct hy_status *s, hy_error_t *err);
int hy_status_read (int dirfd, struct hy_status *s, hy_error_t *err);
void hy_status_release (struct hy_status *s);

/* Start time of a live (non-zombie) process, or 0 when it is gone. */
unsigned long long hy_process_start_time (pid_t pid);

/* Whether s->pid is still the process create started. */
bool hy_status_init_alive (const struct hy_status *s);

/* The OCI status now.  `frozen` says whether the cgroup is frozen. */
enum oci_status hy_status_current (int dirfd, const struct hy_status *s,
                                   bool frozen);

/* The OCI state document of the container (ociVersion, id, status, pid,
 * bundle, annotations) plus runc's rootfs, created and owner. */
char *hy_status_state_json (const struct hy_status *s, enum oci_status st,
                            const oci_strmap *annotations, bool pretty);

/* Open <root>/<id> for reading and lock it (LOCK_EX or LOCK_SH). */
int hy_status_lock (const char *root, const char *id, int how, int *dirfd,
                    hy_error_t *err);

#endif
