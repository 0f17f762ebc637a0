/* What hyrun remembers of a container, and the live status derived from it
 * (the OCI statuses creating / created / running / paused / stopped).
 *
 * <root>/<id>/ holds:
 *   status.json  written once by create, after the cgroup exists
 *   init         "<pid> <start time>" of the container's init, written once
 *                when init is ready; absent while creating
 *   exec.fifo    present between create and start
 *   config.json  the validated config, for exec, hooks and delete
 * Each file is created once and never replaced: a replacing rename makes
 * ext4 flush data, which costs milliseconds on every create.  Verbs that
 * change a container hold an exclusive flock on the directory. */
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
#define HY_INIT_FILE "init"

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

/* Write status.json (everything but the pid) / the init file (the pid). */
/* --pid-file: the pid, written atomically; nothing when path is NULL. */
int hy_pid_file_write (const char *path, pid_t pid, hy_error_t *err);

int hy_status_write (int dirfd, const struct hy_status *s, hy_error_t *err);
int hy_status_write_init (int dirfd, const struct hy_status *s,
                          hy_error_t *err);
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
