/* bench-exec: run one command, print "<wall ns> <peak rss KiB> <status>".
 *
 *   bench-exec CMD [ARGS...]
 *
 * The wall time is CLOCK_MONOTONIC from just before fork() to the return of
 * wait4(); the peak RSS is wait4()'s ru_maxrss, which is what GNU time's %M
 * reports: the largest resident set of the command or of any descendant it
 * reaped (for a runtime: itself, its re-executed or cloned helpers and the
 * container's init).  <status> is the exit code, or 128 + signal.  The
 * command's stdin is /dev/null; stdout and stderr are inherited.  The line
 * goes to fd 3 if it is open, else to stdout.
 *
 * Used by tests/bench/run-bench.sh; built with `cc -O2`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: bench-exec CMD [ARGS...]\n");
      return 2;
    }
  int out = fcntl (3, F_GETFD) >= 0 ? 3 : 1;

  long long t0 = now_ns ();
  pid_t pid = fork ();
  if (pid < 0)
    {
      perror ("bench-exec: fork");
      return 2;
    }
  if (pid == 0)
    {
      int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      if (null >= 0)
        dup2 (null, 0);
      if (out == 3)
        close (3);
      execvp (argv[1], argv + 1);
      fprintf (stderr, "bench-exec: %s: %s\n", argv[1], strerror (errno));
      _exit (127);
    }

  int status;
  struct rusage ru;
  pid_t r;
  do
    r = wait4 (pid, &status, 0, &ru);
  while (r < 0 && errno == EINTR);
  long long t1 = now_ns ();
  if (r < 0)
    {
      perror ("bench-exec: wait4");
      return 2;
    }

  int code = WIFEXITED (status) ? WEXITSTATUS (status)
                                : 128 + WTERMSIG (status);
  dprintf (out, "%lld %ld %d\n", t1 - t0, ru.ru_maxrss, code);
  return 0;
}
