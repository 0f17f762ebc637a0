/* The container's init, container mode: the child that create clones.  It
 * sets the container up from the inside (namespaces joined, rootfs,
 * console, process attributes, seccomp), reports READY over the sync
 * socket, blocks on exec.fifo until `start`, and execs the process.  It
 * never returns: on failure it sends the error to create and exits. */
#ifndef HYRUN_RUNTIME_INIT_H
#define HYRUN_RUNTIME_INIT_H

#include <stdbool.h>

#include "oci/annotations.h"
#include "oci/config.h"
#include "runtime/linux/capabilities.h"
#include "runtime/linux/namespaces.h"
#include "runtime/linux/seccomp.h"

struct hy_init_args
{
  const struct oci_config *config;
  const char *rootfs;          /* absolute host path */
  bool no_pivot;
  bool no_new_keyring;
  unsigned preserve_fds;
  int sync_fd;                 /* init's end of the socketpair */
  int fifo_fd;                 /* O_PATH of exec.fifo */
  int start_fd;                /* >= 0: a pipe's read end instead of the
                                  fifo; start is one byte (guest agent) */
  struct hy_ns_fds ns;         /* namespaces to join (not pid/time) */
  bool new_userns;
  struct hy_caps caps;         /* resolved by create */
  struct hy_seccomp *seccomp;  /* built by create; NULL without */
  int *cgroup_fds;             /* cgroup.procs to join, opened by create */
  size_t n_cgroup_fds;
  int *source_fds;             /* per config mount: its bind source, sent
                                  by create (MOUNT_SOURCE), or -1; init's */
  const char *state_dir;       /* absolute <root>/<id> */
  bool vm;                     /* become the VM supervisor (runtime/vm/) */
  const struct hy_workload_opts *workload; /* vm: cpus, memory */
};

__attribute__ ((noreturn)) void hy_init_run (struct hy_init_args *a);

/* ---- the steps the VM supervisor shares ---- */

/* Into the cgroup, GO from create, the namespaces joined. */
int hy_init_enter (struct hy_init_args *a, hy_error_t *err);

/* create runs prestart and createRuntime hooks; *state is the state
 * document for createContainer hooks (caller frees). */
int hy_init_runtime_hooks (const struct hy_init_args *a, char **state,
                           hy_error_t *err);

/* Block until `start` opens exec.fifo for reading. */
int hy_init_wait_for_start (const struct hy_init_args *a, hy_error_t *err);

#endif
