/* The processes of the container, by id: their exit, their waiters,
 * the gate that holds each until it may exec, and the requests about a
 * running process (signal, resize, close_stdin, wait). */
#include "guest-agent/agent.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/terminal.h"

/* ---- the process table ---- */

struct proc *
proc_find (struct agent *a, const char *id)
{
  for (struct proc *p = a->procs; p; p = p->next)
    if (str_eq (p->id, id))
      return p;
  return NULL;
}

struct proc *
proc_new (const char *id, unsigned streams)
{
  struct proc *p = xmalloc0 (sizeof (*p));
  p->id = xstrdup (id);
  p->streams = streams;
  p->pty_master = p->gate_fd = -1;
  for (int i = 0; i < SLOTS; i++)
    p->local_fd[i] = -1;
  return p;
}

void
proc_free (struct proc *p)
{
  for (int i = 0; i < SLOTS; i++)
    {
      if (p->local_fd[i] >= 0)
        close (p->local_fd[i]);
      if (p->stream[i])
        p->stream[i]->proc = NULL;
    }
  if (p->pty_master >= 0)
    close (p->pty_master);
  if (p->gate_fd >= 0)
    close (p->gate_fd);
  while (p->waiters)
    {
      struct waiter *w = p->waiters;
      p->waiters = w->next;
      free (w);
    }
  free (p->id);
  free (p);
}

void
proc_add (struct agent *a, struct proc *p)
{
  p->agent = a;
  p->next = a->procs;
  a->procs = p;
}

static void
proc_remove (struct agent *a, struct proc *p)
{
  for (struct proc **pp = &a->procs; *pp; pp = &(*pp)->next)
    if (*pp == p)
      {
        *pp = p->next;
        break;
      }
  proc_free (p);
}

static bool
outputs_done (const struct proc *p)
{
  return stream_output_done (p->stream[SLOT_STDOUT])
         && stream_output_done (p->stream[SLOT_STDERR])
         && stream_output_done (p->stream[SLOT_TTY]);
}

static void
fill_exit (const struct proc *p, struct hy_agent_response *r)
{
  r->signaled = WIFSIGNALED (p->status);
  r->signal = r->signaled ? WTERMSIG (p->status) : 0;
  r->exit_code = WIFEXITED (p->status) ? WEXITSTATUS (p->status) : 0;
}

static void
answer_waiters (struct proc *p)
{
  while (p->waiters)
    {
      struct waiter *w = p->waiters;
      p->waiters = w->next;
      struct hy_agent_response r = { .seq = w->seq };
      fill_exit (p, &r);
      control_respond (w->conn, HY_AGENT_REQ_WAIT, &r);
      free (w);
    }
}

static void
release_gate (struct proc *p)
{
  if (p->gate_fd < 0 || !p->start_wanted || p->attached != p->streams)
    return;
  /* A process killed meanwhile makes this EPIPE: nothing to do then. */
  if (write (p->gate_fd, "s", 1) < 0 && errno != EPIPE)
    agent_log ("release process \"%s\": %s", p->id, strerror (errno));
  close (p->gate_fd);
  p->gate_fd = -1;
  if (p->is_init)
    fault_container_running (p->agent);
  if (p->start_conn)
    {
      const struct hy_agent_response r = { .seq = p->start_seq };
      control_respond (p->start_conn, HY_AGENT_REQ_START, &r);
      p->start_conn = NULL;
    }
}

void
proc_update (struct proc *p)
{
  if (p == NULL)
    return;
  release_gate (p);
  if (!p->exited || !outputs_done (p) || p->waiters == NULL)
    return;
  answer_waiters (p);
  /* An exec'd process is forgotten once waited for (its id is free
   * again); init stays for the container's life. */
  if (!p->is_init)
    proc_remove (p->agent, p);
}

void
procs_forget_conn (struct agent *a, struct conn *c)
{
  for (struct proc *p = a->procs; p; p = p->next)
    {
      if (p->start_conn == c)
        p->start_conn = NULL;
      for (struct waiter **w = &p->waiters; *w;)
        if ((*w)->conn == c)
          {
            struct waiter *gone = *w;
            *w = gone->next;
            free (gone);
          }
        else
          w = &(*w)->next;
    }
}

static void
proc_exited (struct agent *a, pid_t pid, int status)
{
  for (struct proc *p = a->procs; p; p = p->next)
    if (p->pid == pid && !p->exited)
      {
        p->exited = true;
        p->status = status;
        if (a->o.verbose)
          agent_log ("process \"%s\" (pid %d) exited, status 0x%x", p->id,
                     (int) pid, (unsigned) status);
        /* Nobody will read what is waiting for it. */
        if (p->local_fd[SLOT_STDIN] >= 0)
          {
            close (p->local_fd[SLOT_STDIN]);
            p->local_fd[SLOT_STDIN] = -1;
          }
        proc_update (p);
        return;
      }
}

void
procs_reap (struct agent *a)
{
  for (;;)
    {
      int status;
      pid_t pid = waitpid (-1, &status, WNOHANG);
      if (pid <= 0)
        return;
      proc_exited (a, pid, status);
    }
}

/* ---- the other requests ---- */

static struct proc *
find_or_fail (struct agent *a, const char *id, hy_error_t *err)
{
  struct proc *p = proc_find (a, id);
  if (p == NULL)
    hy_error (err, ESRCH, "no process \"%s\"", id);
  return p;
}

static int
signal_all (struct agent *a, int sig, hy_error_t *err)
{
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  if (container_pids (a, &pids, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (kill (pids[i], sig) < 0 && errno != ESRCH)
      return hy_error_errno (err, "send signal %d to pid %d", sig,
                             (int) pids[i]);
  return 0;
}

int
container_signal (struct agent *a, const char *id, int sig, bool all,
                  hy_error_t *err)
{
  struct proc *p = find_or_fail (a, id, err);
  if (p == NULL)
    return -1;
  if (all)
    return signal_all (a, sig, err);
  if (p->exited)
    return hy_error (err, ESRCH, "process \"%s\" is not running", id);
  if (kill (p->pid, sig) < 0)
    return hy_error_errno (err, "send signal %d to \"%s\"", sig, id);
  return 0;
}

int
container_resize (struct agent *a, const char *id, unsigned rows,
                  unsigned cols, hy_error_t *err)
{
  struct proc *p = find_or_fail (a, id, err);
  if (p == NULL)
    return -1;
  if (p->pty_master < 0)
    return hy_error (err, ENOTTY, "process \"%s\" has no terminal", id);
  return hy_pty_set_size (p->pty_master, rows, cols, err);
}

int
container_close_stdin (struct agent *a, const char *id, hy_error_t *err)
{
  struct proc *p = find_or_fail (a, id, err);
  if (p == NULL)
    return -1;
  if (p->stream[SLOT_STDIN])
    stream_close_input (p->stream[SLOT_STDIN]);
  else if (p->local_fd[SLOT_STDIN] >= 0)
    {
      close (p->local_fd[SLOT_STDIN]);
      p->local_fd[SLOT_STDIN] = -1;
      /* An unattached stdin counts as attached from now: it is at EOF. */
      p->attached |= HY_AGENT_STDIN;
      proc_update (p);
    }
  return 0;
}

int
container_wait (struct agent *a, struct conn *c, uint32_t seq, const char *id,
                hy_error_t *err)
{
  struct proc *p = find_or_fail (a, id, err);
  if (p == NULL)
    return -1;
  struct waiter *w = xmalloc0 (sizeof (*w));
  w->conn = c;
  w->seq = seq;
  w->next = p->waiters;
  p->waiters = w;
  proc_update (p);
  return 0;
}
