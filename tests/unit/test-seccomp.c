/* linux.seccomp as a libseccomp filter: every filter is loaded in a forked
 * child, which checks what the filtered syscalls return. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"
#include "fork-check.h"
#include "oci/json.h"
#include "runtime/linux/seccomp-enosys.h"
#include "runtime/linux/seccomp.h"
#include "version.h"

#define NAMES(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGS(...) ((struct oci_seccomp_arg[]){ __VA_ARGS__ })

static struct oci_seccomp_syscall
rule (char **names, enum oci_seccomp_action action)
{
  return (struct oci_seccomp_syscall){ .names = names, .action = action };
}

static struct oci_seccomp_syscall
rule_errno (char **names, uint32_t errno_ret)
{
  return (struct oci_seccomp_syscall){ .names = names,
                                       .action = OCI_SCMP_ERRNO,
                                       .errno_ret = errno_ret,
                                       .has_errno_ret = true };
}

/* Build and load in the calling (child) process. */
static void
child_load (const struct oci_seccomp *s, int *notify_fd)
{
  hy_error_t err = NULL;
  struct hy_seccomp *f = NULL;
  CHILD_OK (hy_seccomp_build (s, &f, &err), &err);
  CHILD_OK (hy_seccomp_load (f, notify_fd, &err), &err);
  hy_seccomp_free (f);
}

static char *
build_error (const struct oci_seccomp *s)
{
  hy_error_t err = NULL;
  struct hy_seccomp *f = NULL;
  if (hy_seccomp_build (s, &f, &err) == 0)
    {
      hy_seccomp_free (f);
      return NULL;
    }
  char *text = hy_error_text (err);
  hy_error_release (&err);
  return text;
}

static void
assert_build_fails_with (const struct oci_seccomp *s, const char *needle)
{
  char *text = build_error (s);
  if (text == NULL)
    fail_msg ("building the filter succeeded; expected \"%s\"", needle);
  if (strstr (text, needle) == NULL)
    fail_msg ("error \"%s\" lacks \"%s\"", text, needle);
  free (text);
}

/* ---- errno actions ---- */

static void
errno_rules_body (void *arg)
{
  (void) arg;
  struct oci_seccomp_syscall calls[] = {
    rule (NAMES ("getcwd"), OCI_SCMP_ERRNO),
    rule_errno (NAMES ("mkdir", "mkdirat"), 42),
  };
  struct oci_seccomp s = { .default_action = OCI_SCMP_ALLOW,
                           .syscalls = calls,
                           .n_syscalls = 2 };
  char buf[PATH_MAX];
  CHILD_CHECK (getcwd (buf, sizeof (buf)) != NULL);
  child_load (&s, NULL);
  errno = 0;
  CHILD_CHECK (getcwd (buf, sizeof (buf)) == NULL);
  CHILD_CHECK_EQ (errno, EPERM);
  errno = 0;
  CHILD_CHECK_EQ (mkdir ("/nonexistent/hyrun-test", 0700), -1);
  CHILD_CHECK_EQ (errno, 42);
  CHILD_CHECK (getpid () > 0);
  /* noNewPrivileges is the runtime's business, not the filter's. */
  CHILD_CHECK_EQ (prctl (PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
}

static void
test_errno_rules (void **state)
{
  (void) state;
  assert_child_ok (errno_rules_body, NULL);
}

/* Everything not allowed fails with defaultErrnoRet. */
static void
default_errno_body (void *arg)
{
  (void) arg;
  struct oci_seccomp_syscall calls[] = {
    rule (NAMES ("exit_group", "exit", "write", "rt_sigreturn"),
          OCI_SCMP_ALLOW),
  };
  struct oci_seccomp s = { .default_action = OCI_SCMP_ERRNO,
                           .default_errno_ret = 38,
                           .has_default_errno_ret = true,
                           .syscalls = calls,
                           .n_syscalls = 1 };
  child_load (&s, NULL);
  errno = 0;
  long rc = syscall (SYS_getppid);
  CHILD_CHECK_EQ (rc, -1);
  CHILD_CHECK_EQ (errno, 38);
  /* Straight out: an ASan build's _exit() would run the leak checker,
   * whose syscalls this filter refuses. */
  syscall (SYS_exit_group, 0);
}

static void
test_default_errno_ret (void **state)
{
  (void) state;
  assert_child_ok (default_errno_body, NULL);
}

/* ---- argument conditions ---- */

static void
arg_conditions_body (void *arg)
{
  (void) arg;
  struct oci_seccomp_syscall calls[] = {
    /* personality(0xffffffff) queries and is allowed; anything else is
     * refused. */
    { .names = NAMES ("personality"),
      .action = OCI_SCMP_ERRNO,
      .args
      = ARGS ({ .index = 0, .value = 0xffffffff, .op = OCI_SCMP_CMP_NE }),
      .n_args = 1 },
    /* Two conditions on one argument: either matches. */
    { .names = NAMES ("prctl"),
      .action = OCI_SCMP_ERRNO,
      .errno_ret = 43,
      .has_errno_ret = true,
      .args
      = ARGS ({ .index = 0, .value = PR_GET_DUMPABLE, .op = OCI_SCMP_CMP_EQ },
              { .index = 0, .value = PR_GET_KEEPCAPS, .op = OCI_SCMP_CMP_EQ }),
      .n_args = 2 },
    /* Conditions on two arguments: both must match. */
    { .names = NAMES ("prctl"),
      .action = OCI_SCMP_ERRNO,
      .errno_ret = 44,
      .has_errno_ret = true,
      .args
      = ARGS ({ .index = 0, .value = PR_CAPBSET_READ, .op = OCI_SCMP_CMP_EQ },
              { .index = 1, .value = 5, .op = OCI_SCMP_CMP_GE }),
      .n_args = 2 },
    /* MASKED_EQ: value is the mask, valueTwo the datum, as in runc;
     * (option & 0xfe) == 0x14 matches options 20, 21 and 0x115. */
    { .names = NAMES ("prctl"),
      .action = OCI_SCMP_ERRNO,
      .errno_ret = 45,
      .has_errno_ret = true,
      .args = ARGS ({ .index = 0,
                      .value = 0xfe,
                      .value_two = 0x14,
                      .has_value_two = true,
                      .op = OCI_SCMP_CMP_MASKED_EQ }),
      .n_args = 1 },
  };
  struct oci_seccomp s = { .default_action = OCI_SCMP_ALLOW,
                           .syscalls = calls,
                           .n_syscalls = 4 };
  child_load (&s, NULL);

  errno = 0;
  CHILD_CHECK (personality (0xffffffff) >= 0);
  errno = 0;
  CHILD_CHECK_EQ (personality (PER_LINUX), -1);
  CHILD_CHECK_EQ (errno, EPERM);

  errno = 0;
  CHILD_CHECK_EQ (prctl (PR_GET_DUMPABLE, 0, 0, 0, 0), -1);
  CHILD_CHECK_EQ (errno, 43);
  errno = 0;
  CHILD_CHECK_EQ (prctl (PR_GET_KEEPCAPS, 0, 0, 0, 0), -1);
  CHILD_CHECK_EQ (errno, 43);
  CHILD_CHECK (prctl (PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) >= 0);

  errno = 0;
  CHILD_CHECK_EQ (prctl (PR_CAPBSET_READ, 5, 0, 0, 0), -1);
  CHILD_CHECK_EQ (errno, 44);
  CHILD_CHECK (prctl (PR_CAPBSET_READ, 4, 0, 0, 0) >= 0);

  errno = 0;
  CHILD_CHECK_EQ (prctl (PR_GET_SECCOMP, 0, 0, 0, 0), -1); /* 21 */
  CHILD_CHECK_EQ (errno, 45);
  errno = 0;
  CHILD_CHECK_EQ (prctl (0x115, 0, 0, 0, 0), -1);
  CHILD_CHECK_EQ (errno, 45);
  char name[16];
  CHILD_CHECK (prctl (PR_GET_NAME, name, 0, 0, 0) == 0); /* 16 */
}

static void
test_arg_conditions (void **state)
{
  (void) state;
  assert_child_ok (arg_conditions_body, NULL);
}

/* ---- unknown names, skipped rules ---- */

static void
unknown_names_body (void *arg)
{
  (void) arg;
  struct oci_seccomp_syscall calls[] = {
    rule_errno (NAMES ("hyrun_no_such_syscall", "getcwd"), 46),
    rule_errno (NAMES ("hyrun_no_such_syscall_either"), 47),
    /* Same as the default: libseccomp refuses it, runc drops it. */
    rule (NAMES ("getpid"), OCI_SCMP_ALLOW),
  };
  struct oci_seccomp s = { .default_action = OCI_SCMP_ALLOW,
                           .syscalls = calls,
                           .n_syscalls = 3 };
  child_load (&s, NULL);
  char buf[PATH_MAX];
  errno = 0;
  CHILD_CHECK (getcwd (buf, sizeof (buf)) == NULL);
  CHILD_CHECK_EQ (errno, 46);
  CHILD_CHECK (getpid () > 0);
}

static void
test_unknown_names_ignored (void **state)
{
  (void) state;
  assert_child_ok (unknown_names_body, NULL);
}

/* ---- killing actions ---- */

static void
kill_body (void *arg)
{
  enum oci_seccomp_action action = *(enum oci_seccomp_action *) arg;
  struct oci_seccomp_syscall calls[] = { rule (NAMES ("getcwd"), action) };
  struct oci_seccomp s = { .default_action = OCI_SCMP_ALLOW,
                           .syscalls = calls,
                           .n_syscalls = 1 };
  child_load (&s, NULL);
  char buf[PATH_MAX];
  if (getcwd (buf, sizeof (buf)) == NULL)
    child_fail ("getcwd failed with errno %d instead of killing", errno);
  child_fail ("getcwd succeeded instead of killing");
}

static void
test_kill_actions (void **state)
{
  (void) state;
  enum oci_seccomp_action actions[]
      = { OCI_SCMP_KILL_PROCESS, OCI_SCMP_KILL_THREAD, OCI_SCMP_KILL,
          OCI_SCMP_TRAP };
  for (size_t i = 0; i < sizeof (actions) / sizeof (actions[0]); i++)
    assert_child_killed_by (kill_body, &actions[i], SIGSYS);
}

static volatile sig_atomic_t trapped_syscall = -1;

static void
on_sigsys (int sig, siginfo_t *info, void *ctx)
{
  (void) sig;
  (void) ctx;
  if (info->si_code == 1 /* SYS_SECCOMP */)
    trapped_syscall = info->si_syscall;
}

static void
trap_body (void *arg)
{
  (void) arg;
  struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
  CHILD_CHECK (sigaction (SIGSYS, &sa, NULL) == 0);
  struct oci_seccomp_syscall calls[]
      = { rule (NAMES ("getcwd"), OCI_SCMP_TRAP) };
  struct oci_seccomp s = { .default_action = OCI_SCMP_ALLOW,
                           .syscalls = calls,
                           .n_syscalls = 1 };
  child_load (&s, NULL);
  long rc = syscall (SYS_getcwd, NULL, 0);
  (void) rc;
  CHILD_CHECK_EQ (trapped_syscall, SYS_getcwd);
}

static void
test_trap_signals (void **state)
{
  (void) state;
  assert_child_ok (trap_body, NULL);
}

/* ---- the -ENOSYS stub ---- */

#define FAKE_SYSCALL 1000
#define X32_BIT 0x40000000L

/* An i386 syscall from this 64-bit process (the kernel's IA32 entry);
 * returns -errno. */
static long
syscall_i386 (long nr)
{
#ifdef __x86_64__
  long ret;
  __asm__ volatile ("int $0x80" : "=a"(ret) : "a"(nr) : "memory");
  return ret;
#else
  (void) nr;
  return -ENOSYS;
#endif
}

static long
errno_of (long rc)
{
  return rc == -1 ? -errno : rc;
}

/* A syscall above every one the profile names is ENOSYS, whatever the
 * default action; one below them takes the default. */
static void
enosys_body (void *arg)
{
  enum oci_seccomp_action *default_action = arg;
  struct oci_seccomp_syscall calls[] = {
    rule (NAMES ("exit_group", "exit", "write", "rt_sigreturn", "getppid"),
          OCI_SCMP_ALLOW),
    rule (NAMES ("mkdirat"), OCI_SCMP_ERRNO),
  };
  struct oci_seccomp s = {
    .default_action = *default_action,
    .architectures
    = NAMES ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"),
    .syscalls = calls,
    .n_syscalls = 2,
  };
  child_load (&s, NULL);
  CHILD_CHECK_EQ (errno_of (syscall (FAKE_SYSCALL, 0, 0, 0)), -ENOSYS);
  CHILD_CHECK (syscall (SYS_getppid) > 0);
#ifdef __x86_64__
  /* i386: mkdirat is 296, getppid 64 there */
  CHILD_CHECK_EQ (syscall_i386 (FAKE_SYSCALL), -ENOSYS);
  CHILD_CHECK (syscall_i386 (64) > 0);
  /* x32 numbers carry the x32 bit; the kernel need not run x32 for the
   * filter to see them */
  CHILD_CHECK_EQ (errno_of (syscall (X32_BIT | FAKE_SYSCALL)), -ENOSYS);
#endif
  if (*default_action == OCI_SCMP_ERRNO)
    {
      /* getcwd (79) is below mkdirat (258): the default, EPERM */
      CHILD_CHECK_EQ (errno_of (syscall (SYS_getcwd, NULL, 0)), -EPERM);
#ifdef __x86_64__
      CHILD_CHECK_EQ (syscall_i386 (183 /* getcwd */), -EPERM);
      CHILD_CHECK_EQ (errno_of (syscall (X32_BIT | SYS_getcwd, NULL, 0)),
                      -EPERM);
#endif
    }
  syscall (SYS_exit_group, 0);
}

static void
test_enosys_stub (void **state)
{
  (void) state;
  enum oci_seccomp_action errno_default = OCI_SCMP_ERRNO;
  assert_child_ok (enosys_body, &errno_default);
  enum oci_seccomp_action kill_default = OCI_SCMP_KILL_PROCESS;
  assert_child_ok (enosys_body, &kill_default);
}

/* Which profiles get a stub, and up to which number. */
static void
test_enosys_arches (void **state)
{
  (void) state;
  struct oci_seccomp_syscall calls[] = {
    rule (NAMES ("read", "bogus_syscall"), OCI_SCMP_ALLOW),
    rule (NAMES ("openat2"), OCI_SCMP_ERRNO),
  };
  struct oci_seccomp s = { .default_action = OCI_SCMP_ERRNO,
                           .syscalls = calls,
                           .n_syscalls = 2 };
  uint32_t listed[] = { SCMP_ARCH_X86_64, SCMP_ARCH_X32 };
  struct hy_enosys_arch *a = NULL;
  size_t n = hy_enosys_arches (&s, listed, 2, &a);
  assert_int_equal (n, 2);
  assert_int_equal (a[0].scmp_arch, seccomp_arch_native ());
  assert_int_equal (a[0].max_nr,
                    seccomp_syscall_resolve_name_arch (a[0].scmp_arch,
                                                       "openat2"));
  assert_int_equal (a[1].scmp_arch, SCMP_ARCH_X32);
  assert_int_equal (a[1].max_nr, 0x40000000u | 437);
  free (a);

  /* none when the default lets syscalls through or is ENOSYS already */
  enum oci_seccomp_action passing[]
      = { OCI_SCMP_ALLOW, OCI_SCMP_LOG, OCI_SCMP_TRACE };
  for (size_t i = 0; i < 3; i++)
    {
      s.default_action = passing[i];
      assert_int_equal (hy_enosys_arches (&s, listed, 2, &a), 0);
      assert_null (a);
    }
  s.default_action = OCI_SCMP_ERRNO;
  s.default_errno_ret = ENOSYS;
  s.has_default_errno_ret = true;
  assert_int_equal (hy_enosys_arches (&s, listed, 2, &a), 0);
  /* nor for a profile that names no syscall */
  s.has_default_errno_ret = false;
  s.n_syscalls = 0;
  assert_int_equal (hy_enosys_arches (&s, listed, 2, &a), 0);
}

/* No tracer attached: SCMP_ACT_TRACE fails the call with ENOSYS; LOG
 * lets it through. */
static void
trace_log_body (void *arg)
{
  (void) arg;
  struct oci_seccomp_syscall calls[] = {
    { .names = NAMES ("getcwd"),
      .action = OCI_SCMP_TRACE,
      .errno_ret = 42,
      .has_errno_ret = true },
    rule (NAMES ("getppid"), OCI_SCMP_LOG),
  };
  struct oci_seccomp s = { .default_action = OCI_SCMP_ALLOW,
                           .syscalls = calls,
                           .n_syscalls = 2 };
  pid_t ppid = getppid ();
  child_load (&s, NULL);
  char buf[PATH_MAX];
  errno = 0;
  CHILD_CHECK (getcwd (buf, sizeof (buf)) == NULL);
  CHILD_CHECK_EQ (errno, ENOSYS);
  CHILD_CHECK_EQ (getppid (), ppid);
}

static void
test_trace_and_log (void **state)
{
  (void) state;
  assert_child_ok (trace_log_body, NULL);
}

/* ---- flags, architectures ---- */

static void *
thread_getcwd (void *arg)
{
  (void) arg;
  char buf[PATH_MAX];
  errno = 0;
  if (getcwd (buf, sizeof (buf)) != NULL)
    return (void *) (intptr_t) -1;
  return (void *) (intptr_t) errno;
}

static pthread_barrier_t tsync_barrier;

static void *
thread_wait_then_getcwd (void *arg)
{
  pthread_barrier_wait (&tsync_barrier);
  return thread_getcwd (arg);
}

static void
flags_body (void *arg)
{
  (void) arg;
  struct oci_seccomp_syscall calls[] = { rule_errno (NAMES ("getcwd"), 48) };
  struct oci_seccomp s = {
    .default_action = OCI_SCMP_ALLOW,
    .flags = NAMES ("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                    "SECCOMP_FILTER_FLAG_SPEC_ALLOW"),
    .architectures
    = NAMES ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"),
    .syscalls = calls,
    .n_syscalls = 1,
  };
  /* TSYNC: a thread started before the load gets the filter too. */
  pthread_t t;
  CHILD_CHECK (pthread_barrier_init (&tsync_barrier, NULL, 2) == 0);
  CHILD_CHECK (pthread_create (&t, NULL, thread_wait_then_getcwd, NULL) == 0);
  child_load (&s, NULL);
  pthread_barrier_wait (&tsync_barrier);
  void *ret;
  CHILD_CHECK (pthread_join (t, &ret) == 0);
  CHILD_CHECK_EQ ((intptr_t) ret, 48);
}

static void
test_flags_and_arches (void **state)
{
  (void) state;
  assert_child_ok (flags_body, NULL);
}

static void
test_bad_flags_name_the_flag (void **state)
{
  (void) state;
  struct oci_seccomp s = { .default_action = OCI_SCMP_ALLOW };
  s.flags = NAMES ("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
#if SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR < 6
  assert_build_fails_with (
      &s, "seccomp: flag SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not "
          "supported by libseccomp 2.5");
#endif
  s.flags = NAMES ("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_FOO");
  assert_build_fails_with (
      &s, "seccomp: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"");
}

static void
test_bad_architecture (void **state)
{
  (void) state;
  struct oci_seccomp s
      = { .default_action = OCI_SCMP_ALLOW,
          .architectures = NAMES ("SCMP_ARCH_X86_64", "SCMP_ARCH_PDP11") };
  assert_build_fails_with (&s, "seccomp: architecture \"SCMP_ARCH_PDP11\" "
                               "is not known to libseccomp");
}

static void
test_errno_ret_needs_errno_action (void **state)
{
  (void) state;
  struct oci_seccomp_syscall calls[] = {
    rule (NAMES ("getcwd"), OCI_SCMP_ERRNO),
    { .names = NAMES ("mkdir"),
      .action = OCI_SCMP_KILL_PROCESS,
      .errno_ret = 1,
      .has_errno_ret = true },
  };
  struct oci_seccomp s = { .default_action = OCI_SCMP_ALLOW,
                           .syscalls = calls,
                           .n_syscalls = 2 };
  assert_build_fails_with (&s, "seccomp: syscalls[1]: errnoRet 1 given with "
                               "SCMP_ACT_KILL_PROCESS");
  struct oci_seccomp d = { .default_action = OCI_SCMP_ALLOW,
                           .default_errno_ret = 1,
                           .has_default_errno_ret = true };
  assert_build_fails_with (&d, "seccomp: defaultAction: errnoRet 1");
}

static void
test_bad_arg_index (void **state)
{
  (void) state;
  struct oci_seccomp_syscall calls[] = {
    { .names = NAMES ("getcwd"),
      .action = OCI_SCMP_ERRNO,
      .args = ARGS ({ .index = 6, .op = OCI_SCMP_CMP_EQ }),
      .n_args = 1 },
  };
  struct oci_seccomp s = { .default_action = OCI_SCMP_ALLOW,
                           .syscalls = calls,
                           .n_syscalls = 1 };
  assert_build_fails_with (&s, "seccomp: syscalls[0]: args[0]: index 6 out "
                               "of range 0-5");
}

/* ---- SCMP_ACT_NOTIFY and the seccomp agent ---- */

struct notify_ctx
{
  char sock_path[108];
};

static void
notify_child (void *arg)
{
  struct notify_ctx *ctx = arg;
  struct oci_seccomp_syscall calls[]
      = { rule (NAMES ("mkdir", "mkdirat"), OCI_SCMP_NOTIFY) };
  struct oci_seccomp s = { .default_action = OCI_SCMP_ALLOW,
                           .listener_path = ctx->sock_path,
                           .syscalls = calls,
                           .n_syscalls = 1 };
  int fd = -1;
  child_load (&s, &fd);
  CHILD_CHECK (fd >= 0);
  char *state = xasprintf ("{\"ociVersion\":\"1.2.0\",\"id\":\"ctr1\","
                           "\"status\":\"creating\",\"pid\":%d,"
                           "\"bundle\":\"/b\",\"annotations\":{\"k\":\"v\"}}",
                           (int) getpid ());
  hy_error_t err = NULL;
  CHILD_OK (hy_seccomp_send_listener (ctx->sock_path, fd, state,
                                      "MKNOD=/dev/null", &err),
            &err);
  free (state);
  close (fd);
  errno = 0;
  CHILD_CHECK_EQ (mkdir ("/nonexistent/hyrun-notify", 0700), -1);
  CHILD_CHECK_EQ (errno, ENOMEDIUM);
}

static int
listen_unix (const char *path)
{
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true (fd >= 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  strcpy (addr.sun_path, path);
  assert_int_equal (bind (fd, (struct sockaddr *) &addr, sizeof (addr)), 0);
  assert_int_equal (listen (fd, 1), 0);
  return fd;
}

/* Wait for `fd` to be readable; fail when the child ends first. */
static void
wait_readable (int fd, struct child c)
{
  struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
                         { .fd = c.report_fd, .events = POLLIN } };
  int n = poll (p, 2, 10000);
  if (n == 0)
    fail_msg ("timed out waiting for the child");
  if (!(p[0].revents & POLLIN))
    {
      struct child_result r = child_finish (c);
      assert_child_result_ok (&r);
      fail_msg ("child ended before the listener was used");
    }
}

/* Read the whole message; the one fd comes with the first part. */
static char *
receive_state (int conn, int *seccomp_fd)
{
  static char buf[65536];
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = buf, .iov_len = sizeof (buf) - 1 };
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof (control.buf) };
  ssize_t n = recvmsg (conn, &msg, MSG_CMSG_CLOEXEC);
  assert_true (n > 0);
  struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg);
  assert_non_null (cmsg);
  assert_int_equal (cmsg->cmsg_level, SOL_SOCKET);
  assert_int_equal (cmsg->cmsg_type, SCM_RIGHTS);
  assert_int_equal (cmsg->cmsg_len, CMSG_LEN (sizeof (int)));
  memcpy (seccomp_fd, CMSG_DATA (cmsg), sizeof (int));
  size_t len = (size_t) n;
  while ((n = read (conn, buf + len, sizeof (buf) - 1 - len)) > 0)
    len += (size_t) n;
  buf[len] = '\0';
  return buf;
}

static void
check_state_document (const char *text, pid_t pid)
{
  yajl_val doc = NULL;
  hy_error_t err = NULL;
  if (oci_json_parse (text, &doc, &err) < 0)
    fail_msg ("%s: %s", text, err->msg);
  const char *version_path[] = { "ociVersion", NULL };
  const char *fds_path[] = { "fds", NULL };
  const char *pid_path[] = { "pid", NULL };
  const char *meta_path[] = { "metadata", NULL };
  const char *id_path[] = { "state", "id", NULL };
  const char *status_path[] = { "state", "status", NULL };
  const char *ann_path[] = { "state", "annotations", "k", NULL };
  assert_string_equal (
      YAJL_GET_STRING (yajl_tree_get (doc, version_path, yajl_t_string)),
      HYRUN_OCI_VERSION);
  yajl_val fds = yajl_tree_get (doc, fds_path, yajl_t_array);
  assert_non_null (fds);
  assert_int_equal (fds->u.array.len, 1);
  assert_string_equal (YAJL_GET_STRING (fds->u.array.values[0]), "seccompFd");
  yajl_val p = yajl_tree_get (doc, pid_path, yajl_t_number);
  assert_non_null (p);
  assert_int_equal (YAJL_GET_INTEGER (p), pid);
  assert_string_equal (
      YAJL_GET_STRING (yajl_tree_get (doc, meta_path, yajl_t_string)),
      "MKNOD=/dev/null");
  assert_string_equal (
      YAJL_GET_STRING (yajl_tree_get (doc, id_path, yajl_t_string)), "ctr1");
  assert_string_equal (
      YAJL_GET_STRING (yajl_tree_get (doc, status_path, yajl_t_string)),
      "creating");
  assert_string_equal (
      YAJL_GET_STRING (yajl_tree_get (doc, ann_path, yajl_t_string)), "v");
  yajl_tree_free (doc);
}

static void
answer_one_notification (int fd, struct child c)
{
  struct seccomp_notif *req = NULL;
  struct seccomp_notif_resp *resp = NULL;
  seccomp_api_get (); /* libseccomp detects the kernel's support here */
  assert_int_equal (seccomp_notify_alloc (&req, &resp), 0);
  wait_readable (fd, c);
  assert_int_equal (seccomp_notify_receive (fd, req), 0);
  assert_int_equal (req->pid, c.pid);
  int nr = req->data.nr;
  assert_true (nr == seccomp_syscall_resolve_name ("mkdir")
               || nr == seccomp_syscall_resolve_name ("mkdirat"));
  resp->id = req->id;
  resp->error = -ENOMEDIUM;
  resp->val = 0;
  resp->flags = 0;
  assert_int_equal (seccomp_notify_respond (fd, resp), 0);
  seccomp_notify_free (req, resp);
}

static void
test_notify_listener (void **state)
{
  (void) state;
  char dir[] = "/tmp/hyrun-seccomp-XXXXXX";
  assert_non_null (mkdtemp (dir));
  struct notify_ctx ctx;
  snprintf (ctx.sock_path, sizeof (ctx.sock_path), "%s/agent.sock", dir);
  int lfd = listen_unix (ctx.sock_path);

  struct child c = child_start (notify_child, &ctx);
  wait_readable (lfd, c);
  int conn = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
  assert_true (conn >= 0);
  int seccomp_fd = -1;
  char *doc = receive_state (conn, &seccomp_fd);
  close (conn);
  check_state_document (doc, c.pid);
  answer_one_notification (seccomp_fd, c);
  struct child_result r = child_finish (c);
  close (seccomp_fd);
  close (lfd);
  unlink (ctx.sock_path);
  rmdir (dir);
  assert_child_result_ok (&r);
}

static void
test_notify_needs_fd_taker (void **state)
{
  (void) state;
  struct oci_seccomp_syscall calls[]
      = { rule (NAMES ("mkdir"), OCI_SCMP_NOTIFY) };
  struct oci_seccomp s = { .default_action = OCI_SCMP_ALLOW,
                           .syscalls = calls,
                           .n_syscalls = 1 };
  struct hy_seccomp *f = NULL;
  hy_error_t err = NULL;
  assert_int_equal (hy_seccomp_build (&s, &f, &err), 0);
  assert_true (hy_seccomp_uses_notify (f));
  /* Refused before anything is loaded, so this process stays clean. */
  assert_true (hy_seccomp_load (f, NULL, &err) < 0);
  assert_non_null (strstr (err->msg, "listener fd"));
  hy_error_release (&err);
  hy_seccomp_free (f);

  struct oci_seccomp plain = { .default_action = OCI_SCMP_ALLOW };
  assert_int_equal (hy_seccomp_build (&plain, &f, &err), 0);
  assert_false (hy_seccomp_uses_notify (f));
  hy_seccomp_free (f);
}

static void
test_send_listener_errors (void **state)
{
  (void) state;
  hy_error_t err = NULL;
  assert_true (hy_seccomp_send_listener ("/nonexistent/agent.sock", 0,
                                         "{\"pid\":1}", NULL, &err)
               < 0);
  char *text = hy_error_text (err);
  assert_non_null (strstr (text, "connect to seccomp listener "
                                 "`/nonexistent/agent.sock`"));
  free (text);
  hy_error_release (&err);

  assert_true (hy_seccomp_send_listener ("/nonexistent/agent.sock", 0,
                                         "{\"id\":\"x\"}", NULL, &err)
               < 0);
  assert_non_null (strstr (err->msg, "container state"));
  assert_non_null (strstr (err->msg, "pid"));
  hy_error_release (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_errno_rules),
    cmocka_unit_test (test_default_errno_ret),
    cmocka_unit_test (test_arg_conditions),
    cmocka_unit_test (test_unknown_names_ignored),
    cmocka_unit_test (test_kill_actions),
    cmocka_unit_test (test_trap_signals),
    cmocka_unit_test (test_trace_and_log),
    cmocka_unit_test (test_enosys_stub),
    cmocka_unit_test (test_enosys_arches),
    cmocka_unit_test (test_flags_and_arches),
    cmocka_unit_test (test_bad_flags_name_the_flag),
    cmocka_unit_test (test_bad_architecture),
    cmocka_unit_test (test_errno_ret_needs_errno_action),
    cmocka_unit_test (test_bad_arg_index),
    cmocka_unit_test (test_notify_listener),
    cmocka_unit_test (test_notify_needs_fd_taker),
    cmocka_unit_test (test_send_listener_errors),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
