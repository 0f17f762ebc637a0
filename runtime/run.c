#include "runtime/run.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime/lifecycle.h"
#include "runtime/log.h"
#include "runtime/terminal.h"

#define DRAIN_IDLE_MS 100

struct foreground
{
  pid_t init;
  int sigfd;
  struct hy_tty_relay *relay; /* NULL without a terminal */
  bool relaying;              /* the console has not hung up */
  bool exited;
  int exit_code;
};

int
hy_run_block_signals (hy_error_t *err)
{
  sigset_t all;
  sigfillset (&all);
  if (sigprocmask (SIG_BLOCK, &all, NULL) < 0)
    return hy_error_errno (err, "block signals");
  return 0;
}

static int
start_container (const char *root, const char *id, hy_error_t *err)
{
  struct hy_container c;
  if (hy_container_load (root, id, LOCK_EX, &c, err) < 0)
    return -1;
  int r = hy_container_start (&c, err);
  hy_container_release (&c);
  return r;
}

static void
delete_container (const char *root, const char *id)
{
  struct hy_container c;
  _cleanup_error_ hy_error_t err = NULL;
  if (hy_container_load (root, id, LOCK_EX, &c, &err) == 0)
    {
      hy_container_delete (&c, true, &err);
      hy_container_release (&c);
    }
  if (err)
    hy_log_warning ("delete after run: %s", err->msg);
}

static void
reap (struct foreground *f)
{
  int status;
  pid_t pid;
  while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
    if (pid == f->init)
      {
        f->exited = true;
        f->exit_code = WIFEXITED (status) ? WEXITSTATUS (status)
                                          : 128 + WTERMSIG (status);
      }
}

/* SIGCHLD reaps, SIGWINCH resizes the console, the rest go to init. */
static int
on_signal (struct foreground *f, hy_error_t *err)
{
  struct signalfd_siginfo si;
  ssize_t n = read (f->sigfd, &si, sizeof (si));
  if (n != sizeof (si))
    return n < 0 && errno == EAGAIN ? 0
                                    : hy_error_errno (err, "read signalfd");
  if (si.ssi_signo == SIGCHLD)
    reap (f);
  else if (si.ssi_signo == SIGWINCH)
    return f->relay ? hy_tty_relay_resize (f->relay, err) : 0;
  else
    kill (f->init, (int) si.ssi_signo);
  return 0;
}

static int
loop (struct foreground *f, hy_error_t *err)
{
  reap (f); /* init may be gone already */
  while (!f->exited)
    {
      struct pollfd p[HY_TTY_RELAY_NFDS + 1];
      for (int i = 0; i < HY_TTY_RELAY_NFDS; i++)
        p[i] = (struct pollfd){ .fd = -1 };
      if (f->relaying)
        hy_tty_relay_fds (f->relay, p);
      p[HY_TTY_RELAY_NFDS] = (struct pollfd){ .fd = f->sigfd, .events = POLLIN };
      if (poll (p, HY_TTY_RELAY_NFDS + 1, -1) < 0 && errno != EINTR)
        return hy_error_errno (err, "poll");
      if ((p[HY_TTY_RELAY_NFDS].revents & POLLIN) && on_signal (f, err) < 0)
        return -1;
      if (f->relaying)
        {
          int r = hy_tty_relay_handle (f->relay, p, err);
          if (r < 0)
            return -1;
          f->relaying = r == 0;
        }
    }
  if (f->relaying)
    return hy_tty_relay_drain (f->relay, DRAIN_IDLE_MS, err);
  return 0;
}

int
hy_run_wait (pid_t pid, int master, int *exit_code, hy_error_t *err)
{
  struct foreground f = { .init = pid };
  sigset_t all;
  sigfillset (&all);
  f.sigfd = signalfd (-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  if (f.sigfd < 0)
    return hy_error_errno (err, "signalfd");
  int r = 0;
  if (master >= 0)
    {
      r = hy_tty_relay_new (master, STDIN_FILENO, STDOUT_FILENO, &f.relay,
                            err);
      f.relaying = r == 0;
    }
  if (r == 0)
    r = loop (&f, err);
  hy_tty_relay_free (f.relay);
  close (f.sigfd);
  *exit_code = f.exit_code;
  return r;
}

int
hy_run_foreground (const char *root, const char *id,
                   const struct hy_created *created, bool keep,
                   int *exit_code, hy_error_t *err)
{
  _cleanup_close_ int master = created->pty_master;
  /* Processes the container leaves behind are ours to reap. */
  prctl (PR_SET_CHILD_SUBREAPER, 1);
  *exit_code = 0;
  int r = start_container (root, id, err);
  if (r == 0)
    r = hy_run_wait (created->pid, master, exit_code, err);
  else
    kill (created->pid, SIGKILL);
  if (!keep)
    delete_container (root, id);
  return r;
}
