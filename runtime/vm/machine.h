/* One microVM as the supervisor runs it: <state dir>/vm/ with the 9p
 * share, the vsock back-end (a child process), QEMU (a child), the
 * listening socket the agent's ready connection arrives on, and the logs
 * that explain a guest's death. */
#ifndef HYRUN_VM_MACHINE_H
#define HYRUN_VM_MACHINE_H

#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/annotations.h"
#include "oci/config.h"

struct hy_machine
{
  char *dir;           /* <state dir>/vm */
  char *vsock_path;    /* <dir>/vsock.sock: the hybrid vsock socket */
  int ready_fd;        /* listening on <vsock_path>_1024 */
  int vsock_fd;        /* listening on vsock_path, until the back-end has it */
  pid_t backend_pid;
  int backend_pidfd;
  pid_t qemu_pid;
  int qemu_pidfd;
  uint32_t cpus;
  uint64_t memory;
};

void hy_machine_init (struct hy_machine *m);

/* The container's cgroup holds the whole VM (QEMU, the guest's memory):
 * HY_VM_MIN_MEMORY_LIMIT is the least memory limit one runs in.  A
 * smaller memory limit (`m` may be NULL) is an error naming `field`. */
#define HY_VM_MIN_MEMORY_LIMIT (128LL << 20)
int hy_machine_check_memory (const struct oci_memory *m, const char *field,
                             hy_error_t *err);

/* Make <state_dir>/vm, share the rootfs, start the back-end and QEMU. */
int hy_machine_start (struct hy_machine *m, const char *state_dir,
                      const struct oci_config *c, const char *rootfs,
                      const struct hy_workload_opts *w, hy_error_t *err);

/* The agent's ready connection (accepted, CLOEXEC), or an error saying
 * why the guest never got there: QEMU or the back-end exited (with the
 * tail of the console and QEMU's log) or `timeout_ms` passed. */
int hy_machine_wait_ready (struct hy_machine *m, int timeout_ms, int *conn,
                           hy_error_t *err);

/* The error for a guest that went away (QEMU exited, the back-end died or
 * the agent's connection closed), with what the logs say. */
int hy_machine_died (struct hy_machine *m, const char *what, hy_error_t *err);

/* hy_machine_died for the agent's connection lost: a guest going down
 * closes it, so QEMU gets a moment to exit first and the error says how. */
int hy_machine_agent_lost (struct hy_machine *m, const char *what,
                           hy_error_t *err);

/* hy_machine_died for QEMU or the back-end having exited ("the VM exited
 * <when>"). */
int hy_machine_gone (struct hy_machine *m, const char *when, hy_error_t *err);

/* Kill QEMU and the back-end, reap them, close everything. */
void hy_machine_stop (struct hy_machine *m);

/* The guest kernel and the initramfs: $HYRUN_VM_KERNEL / $HYRUN_VM_INITRD,
 * else <dir of hyrun>/../share/hyrun/{vmlinuz,initramfs.cpio.gz}. */
int hy_machine_find_assets (char **kernel, char **initrd, hy_error_t *err);

#define HY_VM_BOOT_TIMEOUT_MS 30000

/* $HYRUN_VM_BOOT_TIMEOUT_MS (100 .. 600000), else the default. */
int hy_machine_boot_timeout_ms (void);

#endif
