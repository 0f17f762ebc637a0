#include "runtime/vm/supervisor.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fault.h"
#include "common/util.h"
#include "runtime/hooks.h"
#include "runtime/linux/namespaces.h"
#include "runtime/log.h"
#include "runtime/process.h"
#include "runtime/sync.h"
#include "runtime/vm/proxy.h"
#include "runtime/vm/share.h"

/* ---- host namespaces and files ---- */

const struct oci_linux *
hy_vm_host_linux (const struct oci_linux *l, struct oci_linux *storage,
                  struct oci_namespace ns[HY_VM_HOST_NS_MAX])
{
  size_t n = 0;
  ns[n++] = (struct oci_namespace){ .type = OCI_NS_MOUNT };
  ns[n++] = (struct oci_namespace){ .type = OCI_NS_PID };
  const struct oci_namespace *net = hy_ns_find (l, OCI_NS_NETWORK);
  if (net)
    ns[n++] = *net;
  *storage = (struct oci_linux){ .namespaces = ns, .n_namespaces = n };
  return storage;
}

void
hy_vm_dir_remove (int state_dirfd)
{
  rm_tree_at (state_dirfd, HY_VM_DIR);
}

/* ---- the supervisor ---- */

struct supervisor
{
  struct hy_init_args *a;
  struct hy_machine m;
  struct hy_vm_proxy p;
  char *state; /* the state document for the hooks */
};

/* How long the guest took, for benchmarks: <vm dir>/ready-ms holds the
 * milliseconds from QEMU's start to the agent's ready connection. */
static void
record_ready_time (const struct supervisor *s, const struct timespec *t0)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  long ms = (now.tv_sec - t0->tv_sec) * 1000
            + (now.tv_nsec - t0->tv_nsec) / 1000000;
  _cleanup_free_ char *path = xasprintf ("%s/ready-ms", s->m.dir);
  _cleanup_free_ char *text = xasprintf ("%ld\n", ms);
  _cleanup_error_ hy_error_t ignored = NULL;
  write_file_atomic (path, text, strlen (text), 0644, &ignored);
}

static int
boot (struct supervisor *s, hy_error_t *err)
{
  int conn;
  struct timespec t0;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  if (hy_machine_start (&s->m, s->a->state_dir, s->a->config, s->a->rootfs,
                        s->a->workload, err)
          < 0
      || hy_fault ("vm.start", err) < 0
      || hy_machine_wait_ready (&s->m, hy_machine_boot_timeout_ms (), &conn,
                                err)
             < 0)
    return -1;
  record_ready_time (s, &t0);
  s->p.transport.path = s->m.vsock_path;
  s->p.machine = &s->m;
  return hy_vm_proxy_open_agent (&s->p, conn, err);
}

/* The agent sets the container up; the streams are attached once it has
 * answered (it holds the process until they are).  `wait` goes out with
 * them, off the path from `start` to the process's exit. */
static int
create_in_guest (struct supervisor *s, hy_error_t *err)
{
  struct hy_vm_guest_config g;
  hy_vm_guest_config_init (&g, s->a->config);
  /* state_dir is <root>/<id> */
  const char *slash = strrchr (s->a->state_dir, '/');
  const char *id = slash ? slash + 1 : s->a->state_dir;
  struct hy_agent_request req = { .kind = HY_AGENT_REQ_CREATE,
                                  .container_id = (char *) id,
                                  .config = &g.config,
                                  .streams = hy_vm_proxy_streams (&s->p),
                                  .debug = hy_log_debug_enabled () };
  struct hy_agent_response resp;
  int r = hy_agent_call (s->p.agent, &req, HY_VM_CALL_TIMEOUT_MS, &resp, err);
  hy_vm_guest_config_release (&g);
  if (r < 0)
    return hy_vm_proxy_call_failed (&s->p, "create the container in the guest",
                                    err);
  hy_vm_proxy_forward_debug (&s->p, &resp);
  hy_agent_response_release (&resp);
  if (hy_vm_proxy_attach_streams (&s->p, err) < 0)
    return -1;
  return hy_vm_proxy_send_wait (&s->p, err);
}

/* createContainer hooks run in the rootfs; then back to the directory
 * create ran in, against which relative bind sources resolve (as in
 * container mode). */
static int
create_container_hooks (struct supervisor *s, hy_error_t *err)
{
  _cleanup_close_ int cwd = open (".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cwd < 0)
    return hy_error_errno (err, "open the working directory");
  if (chdir (s->a->rootfs) < 0)
    return hy_error_errno (err, "chdir to the rootfs `%s`", s->a->rootfs);
  if (hy_hooks_run (s->a->config->hooks, OCI_HOOK_CREATE_CONTAINER, s->state,
                    err) < 0)
    return -1;
  if (fchdir (cwd) < 0)
    return hy_error_errno (err, "return to the working directory");
  return 0;
}

/* Everything before READY: errors go to create, which undoes it all. */
static int
prepare (struct supervisor *s, hy_error_t *err)
{
  const struct oci_config *c = s->a->config;
  if (hy_vm_proxy_block_signals (&s->p, err) < 0 || hy_init_enter (s->a, err) < 0
      || hy_init_runtime_hooks (s->a, &s->state, err) < 0
      || create_container_hooks (s, err) < 0
      || (s->p.terminal
          && hy_vm_proxy_open_console (&s->p, c->process, err) < 0)
      || boot (s, err) < 0 || create_in_guest (s, err) < 0
      || hy_fault ("vm.create", err) < 0)
    return -1;
  return 0;
}

/* ---- waiting for `start` without blocking the loop ---- */

static void *
fifo_waiter (void *arg)
{
  struct supervisor *s = arg;
  _cleanup_error_ hy_error_t err = NULL;
  uint64_t one = 1;
  if (hy_init_wait_for_start (s->a, &err) == 0)
    (void) !write (s->p.start_efd, &one, sizeof (one));
  return NULL;
}

static int
watch_for_start (struct supervisor *s, hy_error_t *err)
{
  s->p.start_efd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s->p.start_efd < 0)
    return hy_error_errno (err, "eventfd");
  pthread_t t;
  int e = pthread_create (&t, NULL, fifo_waiter, s);
  if (e != 0)
    return hy_error (err, e, "start a thread");
  pthread_detach (t);
  return 0;
}

/* The startContainer hooks run in the guest, in the container, as its
 * init's last step before execve. */
static int
start_in_guest (struct supervisor *s, hy_error_t *err)
{
  struct hy_agent_request req = { .kind = HY_AGENT_REQ_START };
  struct hy_agent_response resp;
  if (hy_agent_call (s->p.agent, &req, HY_VM_CALL_TIMEOUT_MS, &resp, err) < 0)
    return hy_vm_proxy_call_failed (&s->p, "start the container in the guest",
                                    err);
  hy_agent_response_release (&resp);
  return 0;
}

/* From READY on: wait for start, start, relay until the process exited
 * (a process killed before start ends it too). */
static int
run (struct supervisor *s, hy_error_t *err)
{
  int r;
  if (watch_for_start (s, err) < 0)
    return -1;
  while ((r = hy_vm_proxy_loop_once (&s->p, true, err)) == 0 && !s->p.waited)
    ;
  if (r < 0 || (!s->p.waited && start_in_guest (s, err) < 0))
    return -1;
  return hy_vm_proxy_relay_until_exit (&s->p, err);
}

__attribute__ ((noreturn)) static void
finish (struct supervisor *s, int code)
{
  hy_machine_stop (&s->m);
  _exit (code);
}

void
hy_vm_supervise (struct hy_init_args *a)
{
  hy_error_t err = NULL;
  struct supervisor s = { .a = a };
  hy_machine_init (&s.m);
  hy_vm_proxy_init (&s.p, "init", NULL, a->config->process->terminal,
                    a->sync_fd);
  hy_process_forward_warnings (&a->sync_fd);
  if (prepare (&s, &err) < 0)
    {
      hy_machine_stop (&s.m);
      hy_process_fail (a->sync_fd, err);
    }
  /* From here create may exit: its death must not take us along. */
  if (prctl (PR_SET_PDEATHSIG, 0) < 0
      || hy_sync_send (a->sync_fd, HY_SYNC_READY, -1, &err) < 0)
    finish (&s, 255);
  close (a->sync_fd);
  a->sync_fd = s.p.sync_fd = -1;
  if (run (&s, &err) < 0)
    {
      /* To --log and to the container's stderr. */
      hy_log_fail (&err);
      finish (&s, 255);
    }
  finish (&s, s.p.exit_code);
}
