/* Verbs that ask the guest agent: `ps`, and `kill --all` with a signal
 * other than KILL (the host cgroup also holds QEMU). */
#include <signal.h>
#include <stdlib.h>

#include "common/cleanup.h"
#include "runtime/vm/proxy.h"
#include "runtime/vm/supervisor.h"

int
hy_vm_signal_all (struct hy_container *c, int sig, hy_error_t *err)
{
  struct hy_agent_conn *conn;
  if (hy_vm_dial (c, &conn, err) < 0)
    return -1;
  struct hy_agent_request req = { .kind = HY_AGENT_REQ_SIGNAL,
                                  .id = "init",
                                  .signal = sig,
                                  .all = true };
  struct hy_agent_response resp;
  int r = hy_agent_call (conn, &req, HY_VM_CALL_TIMEOUT_MS, &resp, err);
  if (r == 0)
    hy_agent_response_release (&resp);
  hy_agent_conn_free (conn);
  return r;
}

int
hy_vm_ps (struct hy_container *c, struct hy_agent_response *out,
          hy_error_t *err)
{
  struct hy_agent_conn *conn;
  if (hy_vm_dial (c, &conn, err) < 0)
    return -1;
  struct hy_agent_request req = { .kind = HY_AGENT_REQ_PS };
  int r = hy_agent_call (conn, &req, HY_VM_CALL_TIMEOUT_MS, out, err);
  hy_agent_conn_free (conn);
  return r;
}
