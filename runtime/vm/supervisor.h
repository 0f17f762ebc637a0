/* The VM supervisor: in vm mode the container's init does not exec the
 * workload; after the host-side setup shared with container mode (cgroup,
 * namespaces, runtime hooks) it becomes this process, which
 *
 *   1. shares the rootfs and bind-mount sources over 9p (share.h),
 *   2. starts hyrun's vhost-user-vsock back-end (a child) and QEMU (qemu.h)
 *      inside the container's cgroup and namespaces,
 *   3. waits for the agent's ready connection, attaches the stdio streams,
 *      asks the agent to create the container (docs/AGENT-PROTOCOL.md),
 *   4. reports READY to create, waits for `start` on exec.fifo (while
 *      watching the guest), runs startContainer hooks, starts the process,
 *   5. relays stdio and signals until the process exits, kills the VM and
 *      exits with the process's status (128 + n for a signal).
 *
 * It stays the container's pid (`state`, `kill`), so every verb works on
 * it as on a container-mode init.  Its files live in <state dir>/vm/ and
 * go with the state dir. */
#ifndef HYRUN_VM_SUPERVISOR_H
#define HYRUN_VM_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>

#include "oci/config.h"
#include "runtime/exec.h"
#include "runtime/init.h"
#include "runtime/lifecycle.h"
#include "runtime/vm/agent-client.h"

/* <state dir>/vm and what is in it */
#define HY_VM_DIR "vm"
#define HY_VM_VSOCK_SOCKET "vsock.sock"
#define HY_VM_CONSOLE_LOG "console.log"
#define HY_VM_QEMU_LOG "qemu.log"
#define HY_VM_SHARE "share"
#define HY_VM_AGENT_PORT 1024
#define HY_VM_STREAM_PORT 1025

/* The namespaces made or joined on the host for a VM: a new mount and pid
 * namespace, and the config's network namespace (so QEMU's network lands
 * where the user put it).  The others are made in the guest.  `l` may be
 * NULL; storage is given by the caller. */
#define HY_VM_HOST_NS_MAX 3
const struct oci_linux *
hy_vm_host_linux (const struct oci_linux *l, struct oci_linux *storage,
                  struct oci_namespace ns[HY_VM_HOST_NS_MAX]);

__attribute__ ((noreturn)) void hy_vm_supervise (struct hy_init_args *a);

/* exec in vm mode: a proxy process (hyrun's child, out->pid) dials the
 * agent, attaches the streams, has the agent run the process in the
 * container, then relays stdio and signals and exits with the guest
 * process's status, so that `exec`'s foreground loop, --detach and
 * --pid-file work as in container mode. */
int hy_vm_exec (const struct hy_exec_opts *o, struct hy_executed *out,
                hy_error_t *err);

/* kill --all with a signal other than SIGKILL: the agent signals every
 * process of the container (the host's cgroup also holds QEMU). */
int hy_vm_signal_all (struct hy_container *c, int sig, hy_error_t *err);

/* `ps`: the container's processes as the guest sees them (out->processes;
 * hy_agent_response_release). */
int hy_vm_ps (struct hy_container *c, struct hy_agent_response *out,
              hy_error_t *err);

/* A control connection to a running VM's agent, hello read. */
int hy_vm_dial (const struct hy_container *c, struct hy_agent_conn **out,
                hy_error_t *err);

/* <root>/<id>/vm/vsock.sock */
char *hy_vm_vsock_path (const struct hy_container *c);

/* Remove <state dir>/vm (dirfd: the state dir) without following
 * symlinks or crossing mount points. */
void hy_vm_dir_remove (int state_dirfd);

#endif
