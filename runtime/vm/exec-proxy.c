/* `exec` in vm mode: a proxy process for the guest process. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/log.h"
#include "runtime/process.h"
#include "runtime/status.h"
#include "runtime/sync.h"
#include "runtime/vm/proxy.h"
#include "runtime/vm/supervisor.h"

char *
hy_vm_vsock_path (const struct hy_container *c)
{
  return xasprintf ("%s/%s/%s/%s", c->root, c->status.id, HY_VM_DIR,
                    HY_VM_VSOCK_SOCKET);
}

static int
dial_fd (const struct hy_container *c, hy_error_t *err)
{
  _cleanup_free_ char *path = hy_vm_vsock_path (c);
  const struct hy_agent_transport t = { HY_AGENT_VSOCK, path };
  int fd = hy_agent_connect (&t, HY_AGENT_PORT_CONTROL,
                             HY_VM_CONNECT_TIMEOUT_MS, err);
  if (fd < 0)
    return hy_error_prepend (err, "vm: guest agent of \"%s\"", c->status.id);
  return fd;
}

int
hy_vm_dial (const struct hy_container *c, struct hy_agent_conn **out,
            hy_error_t *err)
{
  int fd = dial_fd (c, err);
  if (fd < 0 || hy_agent_conn_open (fd, HY_VM_CONNECT_TIMEOUT_MS, out, err) < 0)
    return hy_error_prepend (err, "vm: guest agent of \"%s\"", c->status.id);
  return 0;
}

static int
exec_in_guest (struct hy_vm_proxy *p, const struct oci_process *process,
               hy_error_t *err)
{
  struct hy_agent_request req = { .kind = HY_AGENT_REQ_EXEC,
                                  .id = (char *) p->id,
                                  .process = (struct oci_process *) process,
                                  .streams = hy_vm_proxy_streams (p),
                                  .debug = hy_log_debug_enabled () };
  struct hy_agent_response resp;
  if (hy_agent_call (p->agent, &req, HY_VM_CALL_TIMEOUT_MS, &resp, err) < 0)
    return -1;
  hy_vm_proxy_forward_debug (p, &resp);
  hy_agent_response_release (&resp);
  return 0;
}

static int
proxy_prepare (struct hy_vm_proxy *p, const struct hy_exec_opts *o,
               hy_error_t *err)
{
  int fd;
  if (hy_vm_proxy_block_signals (p, err) < 0
      || (fd = dial_fd (o->container, err)) < 0
      || hy_vm_proxy_open_agent (p, fd, err) < 0)
    return -1;
  if ((p->terminal && hy_vm_proxy_open_console (p, o->process, err) < 0)
      || exec_in_guest (p, o->process, err) < 0
      || hy_vm_proxy_attach_streams (p, err) < 0)
    return -1;
  return 0;
}

__attribute__ ((noreturn)) static void
exec_proxy (const struct hy_exec_opts *o, int sync_fd)
{
  hy_error_t err = NULL;
  char id[32];
  snprintf (id, sizeof (id), "exec-%d", (int) getpid ());
  _cleanup_free_ char *path = hy_vm_vsock_path (o->container);
  struct hy_vm_proxy p;
  hy_vm_proxy_init (&p, id, path, o->process->terminal, sync_fd);
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  close (o->container->dirfd); /* it carries the container's lock */
  if (proxy_prepare (&p, o, &err) < 0)
    hy_process_fail (sync_fd, err);
  if (hy_vm_proxy_send_wait (&p, &err) < 0
      || prctl (PR_SET_PDEATHSIG, 0) < 0
      || hy_sync_send (sync_fd, HY_SYNC_READY, -1, &err) < 0)
    _exit (255);
  close (sync_fd);
  p.sync_fd = -1;
  if (hy_vm_proxy_relay_until_exit (&p, &err) < 0)
    {
      _cleanup_free_ char *text = hy_error_text (err);
      fprintf (stderr, "hyrun: %s\n", text);
      _exit (255);
    }
  _exit (p.exit_code);
}

static int
serve_proxy (const struct hy_exec_opts *o, int sync_fd, int *master,
             hy_error_t *err)
{
  for (;;)
    {
      struct hy_sync_msg m;
      int fd;
      if (hy_sync_recv (sync_fd, &m, &fd, err) < 0)
        return -1;
      switch (m.type)
        {
        case HY_SYNC_PTY:
          if (hy_sync_take_pty (fd, o->console_socket,
                                o->keep_pty ? master : NULL, err)
              < 0)
            return -1;
          break;
        case HY_SYNC_WARN:
          hy_log_warning ("%s", m.text);
          break;
        case HY_SYNC_DEBUG:
          hy_log_debug ("%s", m.text);
          break;
        case HY_SYNC_READY:
          return 0;
        case HY_SYNC_ERROR:
          return hy_error (err, m.errnum, "%s", m.text);
        default:
          if (fd >= 0)
            close (fd);
          return hy_error (err, EPROTO,
                           "unexpected message %d from the exec proxy",
                           m.type);
        }
    }
}

int
hy_vm_exec (const struct hy_exec_opts *o, struct hy_executed *out,
            hy_error_t *err)
{
  int sv[2];
  if (o->process->args == NULL || o->process->args[0] == NULL)
    return hy_error (err, 0, "exec: no command to run");
  if (o->preserve_fds > 0)
    return hy_error (err, 0, "--preserve-fds: a host file descriptor "
                             "cannot be passed into the container's VM");
  if (o->cgroups && o->cgroups[0])
    return hy_error (err, 0, "--cgroup: the container's processes "
                             "are in its VM's own cgroups, not the host's");
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return hy_error_errno (err, "create the sync socket");
  /* runc's wording, which its suite greps for. */
  hy_log_debug ("nsexec container setup: fork the exec proxy of container "
                "\"%s\" (the process runs in its VM)",
                o->container->status.id);
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (sv[0]);
      close (sv[1]);
      return hy_error_errno (err, "fork the exec proxy");
    }
  if (pid == 0)
    {
      close (sv[0]);
      exec_proxy (o, sv[1]);
    }
  close (sv[1]);
  /* In a paused container the VM is frozen until resume, which must not
   * wait on our lock; delete and kill take it too, and the proxy copes
   * with a VM that goes away. */
  flock (o->container->dirfd, LOCK_UN);
  int master = -1;
  int r = serve_proxy (o, sv[0], &master, err);
  close (sv[0]);
  if (r == 0)
    r = hy_pid_file_write (o->pid_file, pid, err);
  if (r < 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      if (master >= 0)
        close (master);
      return -1;
    }
  *out = (struct hy_executed){ .pid = pid, .pty_master = master };
  return 0;
}
