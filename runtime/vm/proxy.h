/* A host process standing for a guest process: the container's init in vm
 * mode (the supervisor, which also runs the machine) or an exec'd process
 * (the exec proxy).  Signals sent to it go to the guest process, its stdio
 * is relayed to the process's streams (or a host pty with a terminal), and
 * it ends with the guest process's status. */
#ifndef HYRUN_VM_PROXY_H
#define HYRUN_VM_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "oci/config.h"
#include "runtime/vm/agent-client.h"
#include "runtime/vm/machine.h"

#define HY_VM_CALL_TIMEOUT_MS 60000
#define HY_VM_CONNECT_TIMEOUT_MS 10000

enum hy_vm_stream
{
  HY_VM_STDIN,
  HY_VM_STDOUT,
  HY_VM_STDERR,
  HY_VM_TTY,
  HY_VM_N_STREAMS
};

struct hy_vm_proxy
{
  const char *id;                 /* "init" or the exec's id */
  struct hy_agent_transport transport;
  bool terminal;
  int sync_fd;                    /* to create/exec until READY, else -1 */
  struct hy_agent_conn *agent;
  struct hy_machine *machine;     /* the supervisor's, else NULL */
  int sigfd;
  int start_efd;                  /* the supervisor: `start` came */
  int stream[HY_VM_N_STREAMS];    /* -1: not used or closed */
  int host[HY_VM_N_STREAMS];      /* our stdio, or the pty slave */
  bool waited;
  int exit_code;
};

void hy_vm_proxy_init (struct hy_vm_proxy *p, const char *id,
                       const char *vsock_path, bool terminal, int sync_fd);
void hy_vm_proxy_release (struct hy_vm_proxy *p);

/* All signals blocked, read from a signalfd. */
int hy_vm_proxy_block_signals (struct hy_vm_proxy *p, hy_error_t *err);

/* Take a control connection (fd), hello read; callbacks set.  Errors as
 * hy_vm_proxy_call_failed's. */
int hy_vm_proxy_open_agent (struct hy_vm_proxy *p, int fd, hy_error_t *err);

/* A host pty: its master goes to create/exec (PTY) and on to the console
 * socket or the foreground relay; the slave, in raw mode, is relayed to
 * the guest's tty stream. */
int hy_vm_proxy_open_console (struct hy_vm_proxy *p,
                              const struct oci_process *process,
                              hy_error_t *err);

/* A call to the agent failed: "vm: <context>: " goes before the error
 * (context may be NULL).  When the agent's connection closed or it did
 * not answer in time, and this proxy runs the machine, the error also
 * says what became of the guest: QEMU's exit, the console's last words.
 * Returns -1. */
int hy_vm_proxy_call_failed (struct hy_vm_proxy *p, const char *context,
                             hy_error_t *err);

/* HY_AGENT_* bits of the streams this process uses. */
unsigned hy_vm_proxy_streams (const struct hy_vm_proxy *p);

/* Attach them, after the agent answered create/exec. */
int hy_vm_proxy_attach_streams (struct hy_vm_proxy *p, hy_error_t *err);

/* The guest's debug lines of a create/exec answer, on to create/exec's
 * log over the sync socket. */
void hy_vm_proxy_forward_debug (const struct hy_vm_proxy *p,
                                const struct hy_agent_response *resp);

/* Send `wait`; its answer ends the relay. */
int hy_vm_proxy_send_wait (struct hy_vm_proxy *p, hy_error_t *err);

/* One round of the loop.  Before start (start_efd watched) only signals,
 * the agent and the machine are watched.  0: go on; 1: `start` came; <0
 * the guest went away (err says how). */
int hy_vm_proxy_loop_once (struct hy_vm_proxy *p, bool before_start,
                           hy_error_t *err);

/* Relay until the process was waited for and its output drained. */
int hy_vm_proxy_relay_until_exit (struct hy_vm_proxy *p, hy_error_t *err);

#endif
