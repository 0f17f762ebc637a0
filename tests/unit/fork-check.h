/* Checks that must run in a process of their own (seccomp filters,
 * capabilities, uid changes cannot be undone).  Include after <cmocka.h>.
 *
 *   static void body (void *arg) { CHILD_CHECK (getuid () == 1000); }
 *   ... assert_child_ok (body, NULL);
 *
 * The child reports the first failed check ("file:line: ...") through a
 * pipe and exits 1; the parent turns that, any other exit code or a
 * signal into a cmocka failure.  A child may exit CHILD_SKIP to make the
 * test skipped (the environment lacks something). */
#ifndef HYRUN_TESTS_FORK_CHECK_H
#define HYRUN_TESTS_FORK_CHECK_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"

#define CHILD_SKIP 77

static int child_report_fd = -1;

static void __attribute__ ((noreturn, format (printf, 1, 2)))
child_fail (const char *fmt, ...)
{
  char buf[2048];
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (buf, sizeof (buf), fmt, ap);
  va_end (ap);
  if (n > (int) sizeof (buf) - 1)
    n = (int) sizeof (buf) - 1;
  if (child_report_fd >= 0 && n > 0)
    {
      ssize_t w = write (child_report_fd, buf, (size_t) n);
      (void) w;
    }
  _exit (1);
}

#define CHILD_CHECK(cond)                                                     \
  do                                                                          \
    {                                                                         \
      if (!(cond))                                                            \
        child_fail ("%s:%d: check failed: %s (errno %d)", __FILE__, __LINE__, \
                    #cond, errno);                                            \
    }                                                                         \
  while (0)

#define CHILD_CHECK_EQ(a, b)                                                  \
  do                                                                          \
    {                                                                         \
      long long a_ = (long long) (a), b_ = (long long) (b);                   \
      if (a_ != b_)                                                           \
        child_fail ("%s:%d: %s == %s: %lld (%#llx) != %lld (%#llx)",          \
                    __FILE__, __LINE__, #a, #b, a_, (unsigned long long) a_,  \
                    b_, (unsigned long long) b_);                             \
    }                                                                         \
  while (0)

/* A call returning <0 with *err set. */
#define CHILD_OK(call, errp)                                                  \
  do                                                                          \
    {                                                                         \
      if ((call) < 0)                                                         \
        {                                                                     \
          char *t_ = *(errp) ? hy_error_text (*(errp)) : NULL;                \
          child_fail ("%s:%d: %s: %s", __FILE__, __LINE__, #call,             \
                      t_ ? t_ : "(no error set)");                            \
        }                                                                     \
    }                                                                         \
  while (0)

/* A call expected to fail with an error whose text contains `needle`. */
#define CHILD_FAILS_WITH(call, errp, needle)                                  \
  do                                                                          \
    {                                                                         \
      if ((call) >= 0)                                                        \
        child_fail ("%s:%d: %s: succeeded", __FILE__, __LINE__, #call);       \
      char *t_ = *(errp) ? hy_error_text (*(errp)) : NULL;                    \
      if (t_ == NULL || strstr (t_, (needle)) == NULL)                        \
        child_fail ("%s:%d: %s: error \"%s\" lacks \"%s\"", __FILE__,         \
                    __LINE__, #call, t_ ? t_ : "(none)", (needle));           \
    }                                                                         \
  while (0)

struct child
{
  pid_t pid;
  int report_fd; /* read end */
};

struct child_result
{
  int status;
  char msg[2048];
};

static __attribute__ ((unused)) struct child
child_start (void (*fn) (void *), void *arg)
{
  static const int cmocka_signals[]
      = { SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGSYS };
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    fail_msg ("pipe2: %s", strerror (errno));
  fflush (stdout);
  fflush (stderr);
  pid_t pid = fork ();
  if (pid < 0)
    fail_msg ("fork: %s", strerror (errno));
  if (pid == 0)
    {
      close (p[0]);
      child_report_fd = p[1];
      /* cmocka's handlers would longjmp into the parent's test runner. */
      for (size_t i = 0; i < sizeof (cmocka_signals) / sizeof (int); i++)
        signal (cmocka_signals[i], SIG_DFL);
      struct rlimit no_core = { 0, 0 };
      setrlimit (RLIMIT_CORE, &no_core);
      fn (arg);
      _exit (0);
    }
  close (p[1]);
  return (struct child){ pid, p[0] };
}

static __attribute__ ((unused)) struct child_result
child_finish (struct child c)
{
  struct child_result r;
  memset (&r, 0, sizeof (r));
  size_t len = 0;
  for (;;)
    {
      ssize_t n = read (c.report_fd, r.msg + len, sizeof (r.msg) - 1 - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      len += (size_t) n;
      if (len == sizeof (r.msg) - 1)
        break;
    }
  close (c.report_fd);
  while (waitpid (c.pid, &r.status, 0) < 0)
    if (errno != EINTR)
      fail_msg ("waitpid: %s", strerror (errno));
  return r;
}

static __attribute__ ((unused)) struct child_result
run_child (void (*fn) (void *), void *arg)
{
  return child_finish (child_start (fn, arg));
}

static __attribute__ ((unused)) void
assert_child_result_ok (const struct child_result *r)
{
  if (WIFEXITED (r->status) && WEXITSTATUS (r->status) == CHILD_SKIP)
    skip ();
  if (WIFEXITED (r->status) && WEXITSTATUS (r->status) == 0)
    return;
  if (WIFSIGNALED (r->status))
    fail_msg ("child killed by signal %d (%s) %s", WTERMSIG (r->status),
              strsignal (WTERMSIG (r->status)), r->msg);
  fail_msg ("child exited %d: %s", WEXITSTATUS (r->status),
            r->msg[0] ? r->msg : "(no message)");
}

#define assert_child_ok(fn, arg)                                              \
  do                                                                          \
    {                                                                         \
      struct child_result r_ = run_child ((fn), (arg));                       \
      assert_child_result_ok (&r_);                                           \
    }                                                                         \
  while (0)

/* Whether the child died of `sig` (and reported nothing). */
#define assert_child_killed_by(fn, arg, sig)                                  \
  do                                                                          \
    {                                                                         \
      struct child_result r_ = run_child ((fn), (arg));                       \
      if (!WIFSIGNALED (r_.status) || WTERMSIG (r_.status) != (sig))          \
        {                                                                     \
          if (WIFEXITED (r_.status))                                          \
            fail_msg ("child exited %d, not killed by signal %d: %s",         \
                      WEXITSTATUS (r_.status), (sig), r_.msg);                \
          fail_msg ("child killed by signal %d, not %d: %s",                  \
                    WTERMSIG (r_.status), (sig), r_.msg);                     \
        }                                                                     \
    }                                                                         \
  while (0)

/* The hex mask of "<field>:\t..." in /proc/self/status (CapEff, ...). */
static __attribute__ ((unused)) unsigned long long
proc_status_hex (const char *field)
{
  FILE *f = fopen ("/proc/self/status", "re");
  if (f == NULL)
    return ~0ULL;
  char line[256];
  size_t len = strlen (field);
  unsigned long long v = ~0ULL;
  while (fgets (line, sizeof (line), f))
    if (strncmp (line, field, len) == 0 && line[len] == ':')
      {
        v = strtoull (line + len + 1, NULL, 16);
        break;
      }
  fclose (f);
  return v;
}

#endif
