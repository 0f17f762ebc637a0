/* OCI hooks: stdin, argv, environment, exit status, timeout, order.
 *
 * This program is also its own hook: run as `<argv0> hook-dump <dir>` it
 * records what a hook receives into <dir>. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/hooks.h"

#define NAMES(...) ((char *[]){ __VA_ARGS__, NULL })

extern char **environ;

static char self_exe[4096];
static char tmpdir[] = "/tmp/hyrun-test-hooks.XXXXXX";

/* ---- the hook side ---- */

static void
dump_file (const char *dir, const char *name, const char *buf, size_t len)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", dir, name);
  FILE *f = fopen (path, "we");
  if (f == NULL || fwrite (buf, 1, len, f) != len || fclose (f) != 0)
    exit (90);
}

static void
dump_strv (const char *dir, const char *name, char **v)
{
  char buf[8192];
  size_t len = 0;
  for (; *v; v++)
    len += (size_t) snprintf (buf + len, sizeof (buf) - len, "%s|", *v);
  dump_file (dir, name, buf, len);
}

static void
dump_stdin (const char *dir)
{
  char *buf = xmalloc0 (1 << 22);
  size_t len = 0;
  ssize_t n;
  while ((n = read (0, buf + len, (1 << 22) - len)) > 0)
    len += (size_t) n;
  dump_file (dir, "stdin", buf, len);
  free (buf);
}

/* "SigBlk ... SigIgn ..." from /proc/self/status. */
static void
dump_signals (const char *dir)
{
  char line[256], out[512] = "";
  FILE *f = fopen ("/proc/self/status", "re");
  while (f && fgets (line, sizeof (line), f))
    if (strncmp (line, "SigBlk:", 7) == 0 || strncmp (line, "SigIgn:", 7) == 0)
      strncat (out, line, sizeof (out) - strlen (out) - 1);
  if (f)
    fclose (f);
  dump_file (dir, "signals", out, strlen (out));
}

static void
dump_fds (const char *dir)
{
  char out[1024] = "";
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *e;
  while (d && (e = readdir (d)))
    if (e->d_name[0] != '.' && atoi (e->d_name) != dirfd (d))
      {
        strncat (out, e->d_name, sizeof (out) - strlen (out) - 2);
        strcat (out, " ");
      }
  if (d)
    closedir (d);
  dump_file (dir, "fds", out, strlen (out));
}

static int
hook_dump (char **argv)
{
  const char *dir = argv[2];
  dump_stdin (dir);
  dump_strv (dir, "argv", argv);
  dump_strv (dir, "env", environ);
  dump_signals (dir);
  dump_fds (dir);
  return 0;
}

/* ---- helpers ---- */

static char *
slurp (const char *name)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", tmpdir, name);
  char *text = NULL;
  size_t len;
  _cleanup_error_ hy_error_t err = NULL;
  if (read_file_at (AT_FDCWD, path, 1 << 22, &text, &len, &err) < 0)
    fail_msg ("%s", err->msg);
  return text;
}

static char *
tmp_path (const char *name)
{
  return xasprintf ("%s/%s", tmpdir, name);
}

static struct oci_hooks
hooks_of (enum oci_hook_kind kind, struct oci_hook *list, size_t n)
{
  struct oci_hooks h;
  memset (&h, 0, sizeof (h));
  h.list[kind] = list;
  h.count[kind] = n;
  h.present[kind] = true;
  return h;
}

static struct oci_hook
sh_hook (char *script)
{
  char **args = xmalloc0 (4 * sizeof (char *));
  args[0] = xstrdup ("sh");
  args[1] = xstrdup ("-c");
  args[2] = script;
  return (struct oci_hook){ .path = "/bin/sh", .args = args };
}

static void
sh_hook_free (struct oci_hook *h)
{
  free (h->args[0]);
  free (h->args[1]);
  free (h->args[2]);
  free (h->args);
}

/* Run one /bin/sh hook; returns the error text (caller frees) or NULL. */
static char *
run_sh (enum oci_hook_kind kind, char *script, int64_t timeout,
        const char *state)
{
  struct oci_hook hook = sh_hook (script);
  hook.timeout = timeout;
  hook.has_timeout = timeout > 0;
  struct oci_hooks hooks = hooks_of (kind, &hook, 1);
  _cleanup_error_ hy_error_t err = NULL;
  int r = hy_hooks_run (&hooks, kind, state, &err);
  sh_hook_free (&hook);
  if (r < 0)
    {
      assert_non_null (err);
      return hy_error_text (err);
    }
  assert_null (err);
  return NULL;
}

static void
assert_contains (const char *text, const char *needle)
{
  if (text == NULL || strstr (text, needle) == NULL)
    fail_msg ("\"%s\" lacks \"%s\"", text ? text : "(null)", needle);
}

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Gone or a zombie (waiting for init to reap it). */
static bool
process_gone (pid_t pid)
{
  _cleanup_free_ char *path = xasprintf ("/proc/%d/stat", (int) pid);
  for (int i = 0; i < 100; i++)
    {
      char buf[512] = "";
      FILE *f = fopen (path, "re");
      if (f == NULL)
        return true;
      size_t n = fread (buf, 1, sizeof (buf) - 1, f);
      fclose (f);
      buf[n] = '\0';
      char *paren = strrchr (buf, ')');
      if (paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X'))
        return true;
      usleep (20000);
    }
  return false;
}

static pid_t
read_pid (const char *name)
{
  _cleanup_free_ char *text = slurp (name);
  return (pid_t) atoi (text);
}

/* ---- tests ---- */

static void
test_state_args_env_exact (void **state)
{
  (void) state;
  const char *json = "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":"
                     "\"creating\",\"pid\":42,\"bundle\":\"/b\"}";
  struct oci_hook hook = {
    .path = self_exe,
    .args = NAMES ("argv-zero", "hook-dump", tmpdir, "a b", "", "x=y"),
    .env = NAMES ("FOO=bar baz", "EMPTY=", "PATH=/nowhere"),
  };
  struct oci_hooks hooks = hooks_of (OCI_HOOK_CREATE_RUNTIME, &hook, 1);

  /* The hook must not inherit what the runtime blocked or ignored. */
  sigset_t block, old;
  sigemptyset (&block);
  sigaddset (&block, SIGTERM);
  sigprocmask (SIG_BLOCK, &block, &old);
  struct sigaction ign = { .sa_handler = SIG_IGN }, old_int;
  sigaction (SIGINT, &ign, &old_int);

  _cleanup_error_ hy_error_t err = NULL;
  int r = hy_hooks_run (&hooks, OCI_HOOK_CREATE_RUNTIME, json, &err);
  sigprocmask (SIG_SETMASK, &old, NULL);
  sigaction (SIGINT, &old_int, NULL);
  if (r < 0)
    fail_msg ("%s", err->msg);

  _cleanup_free_ char *in = slurp ("stdin");
  assert_string_equal (in, json);
  _cleanup_free_ char *argv = slurp ("argv");
  _cleanup_free_ char *expected_argv = xasprintf (
      "argv-zero|hook-dump|%s|a b||x=y|", tmpdir);
  assert_string_equal (argv, expected_argv);
  _cleanup_free_ char *env = slurp ("env");
  assert_string_equal (env, "FOO=bar baz|EMPTY=|PATH=/nowhere|");
  _cleanup_free_ char *sig = slurp ("signals");
  assert_string_equal (sig, "SigBlk:\t0000000000000000\n"
                            "SigIgn:\t0000000000000000\n");
  _cleanup_free_ char *fds = slurp ("fds");
  assert_string_equal (fds, "0 1 2 ");
}

static void
test_no_args_no_env (void **state)
{
  (void) state;
  /* Without args the dumper can't be told where to write: use sh, which
   * then reads its script from stdin (the "state"). */
  _cleanup_free_ char *out = tmp_path ("noargs");
  _cleanup_free_ char *script = xasprintf (
      "printf '%%s|' \"$0\" > %s; env >> %s", out, out);
  struct oci_hook hook = { .path = "/bin/sh" };
  struct oci_hooks hooks = hooks_of (OCI_HOOK_PRESTART, &hook, 1);
  _cleanup_error_ hy_error_t err = NULL;
  if (hy_hooks_run (&hooks, OCI_HOOK_PRESTART, script, &err) < 0)
    fail_msg ("%s", err->msg);
  _cleanup_free_ char *got = slurp ("noargs");
  /* dash exports PWD by itself; nothing of ours may be there. */
  assert_true (str_has_prefix (got, "/bin/sh|"));
  assert_null (strstr (got, "HOME="));
  assert_null (strstr (got, "PATH=/usr"));
}

static void
test_exit_status_message (void **state)
{
  (void) state;
  _cleanup_free_ char *text
      = run_sh (OCI_HOOK_PRESTART,
                xstrdup ("echo 'first line'; echo 'bad  thing\nhappened' >&2;"
                         " exit 3"),
                0, "{}");
  assert_string_equal (text, "error running hook #0 (prestart) `/bin/sh`: exit status 3: "
                             "first line bad thing happened");
}

static void
test_exit_status_no_output (void **state)
{
  (void) state;
  _cleanup_free_ char *text
      = run_sh (OCI_HOOK_POSTSTOP, xstrdup ("exit 1"), 0, "{}");
  assert_string_equal (text, "error running hook #0 (poststop) `/bin/sh`: exit status 1");
}

static void
test_killed_by_signal (void **state)
{
  (void) state;
  _cleanup_free_ char *text
      = run_sh (OCI_HOOK_POSTSTART, xstrdup ("echo dying; kill -TERM $$"), 0,
                "{}");
  assert_string_equal (text, "error running hook #0 (poststart) `/bin/sh`: killed by signal "
                             "SIGTERM (terminated): dying");
}

static void
test_output_bounded (void **state)
{
  (void) state;
  /* 200 KB of 'x', then the end marker; only the tail is kept. */
  _cleanup_free_ char *text = run_sh (
      OCI_HOOK_PRESTART,
      xstrdup ("head -c 200000 /dev/zero | tr '\\0' x; echo; echo END >&2;"
               " exit 2"),
      0, "{}");
  assert_contains (text, "exit status 2: ...xxx");
  assert_true (str_has_prefix (text + strlen (text) - 4, " END"));
  assert_true (strlen (text) < HY_HOOK_OUTPUT_MAX + 100);
}

static void
test_timeout_kills_everything (void **state)
{
  (void) state;
  _cleanup_free_ char *pidfile = tmp_path ("hook.pid");
  _cleanup_free_ char *sleepfile = tmp_path ("sleep.pid");
  _cleanup_free_ char *script = xasprintf (
      "echo $$ > %s; sleep 10 & echo $! > %s; echo waiting; wait", pidfile,
      sleepfile);
  double start = now_s ();
  _cleanup_free_ char *text
      = run_sh (OCI_HOOK_CREATE_CONTAINER, steal_pointer (&script), 1, "{}");
  double elapsed = now_s () - start;
  assert_string_equal (text, "error running hook #0 (createContainer) `/bin/sh`: timed out "
                             "after 1 s: waiting");
  if (elapsed < 0.9 || elapsed > 3)
    fail_msg ("took %.2f s", elapsed);
  assert_true (process_gone (read_pid ("hook.pid")));
  assert_true (process_gone (read_pid ("sleep.pid")));
}

static void
test_timeout_not_reached (void **state)
{
  (void) state;
  _cleanup_free_ char *text
      = run_sh (OCI_HOOK_PRESTART, xstrdup ("sleep 0.1"), 5, "{}");
  assert_null (text);
}

static void
test_large_state_unread (void **state)
{
  (void) state;
  size_t len = 1 << 20;
  char *big = xmalloc0 (len + 1);
  memset (big, 'x', len);
  double start = now_s ();
  _cleanup_free_ char *text
      = run_sh (OCI_HOOK_PRESTART, xstrdup ("sleep 0.2; exit 0"), 0, big);
  assert_null (text);
  /* A hook that closes stdin at once. */
  text = run_sh (OCI_HOOK_PRESTART, xstrdup ("exec 0<&-; sleep 0.1"), 0, big);
  assert_null (text);
  assert_true (now_s () - start < 3);
  free (big);
}

static void
test_large_state_read (void **state)
{
  (void) state;
  size_t len = 3 << 20;
  char *big = xmalloc0 (len + 1);
  for (size_t i = 0; i < len; i++)
    big[i] = (char) ('a' + i % 26);
  struct oci_hook hook = {
    .path = self_exe,
    .args = NAMES ("dump", "hook-dump", tmpdir),
  };
  struct oci_hooks hooks = hooks_of (OCI_HOOK_START_CONTAINER, &hook, 1);
  _cleanup_error_ hy_error_t err = NULL;
  if (hy_hooks_run (&hooks, OCI_HOOK_START_CONTAINER, big, &err) < 0)
    fail_msg ("%s", err->msg);
  _cleanup_free_ char *in = slurp ("stdin");
  assert_int_equal (strlen (in), len);
  assert_memory_equal (in, big, len);
  free (big);
}

static void
test_background_child_does_not_block (void **state)
{
  (void) state;
  _cleanup_free_ char *sleepfile = tmp_path ("bg.pid");
  _cleanup_free_ char *script
      = xasprintf ("sleep 5 & echo $! > %s; exit 0", sleepfile);
  double start = now_s ();
  _cleanup_free_ char *text
      = run_sh (OCI_HOOK_POSTSTART, steal_pointer (&script), 0, "{}");
  assert_null (text);
  assert_true (now_s () - start < 2);
  kill (read_pid ("bg.pid"), SIGKILL);
}

static void
test_order_and_first_failure_stops (void **state)
{
  (void) state;
  _cleanup_free_ char *out = tmp_path ("order");
  struct oci_hook list[4];
  const char *steps[] = { "echo one", "echo two", "echo three; exit 7",
                          "echo four" };
  for (int i = 0; i < 4; i++)
    list[i] = sh_hook (xasprintf ("{ %s; } >> %s", steps[i], out));
  struct oci_hooks hooks = hooks_of (OCI_HOOK_PRESTART, list, 4);
  _cleanup_error_ hy_error_t err = NULL;
  assert_int_equal (hy_hooks_run (&hooks, OCI_HOOK_PRESTART, "{}", &err), -1);
  _cleanup_free_ char *text = hy_error_text (err);
  assert_string_equal (text, "error running hook #2 (prestart) `/bin/sh`: exit status 7");
  _cleanup_free_ char *got = slurp ("order");
  assert_string_equal (got, "one\ntwo\nthree\n");
  for (int i = 0; i < 4; i++)
    sh_hook_free (&list[i]);
}

static void
test_missing_binary (void **state)
{
  (void) state;
  struct oci_hook hook = { .path = "/nonexistent/hook-binary" };
  struct oci_hooks hooks = hooks_of (OCI_HOOK_PRESTART, &hook, 1);
  _cleanup_error_ hy_error_t err = NULL;
  assert_int_equal (hy_hooks_run (&hooks, OCI_HOOK_PRESTART, "{}", &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  _cleanup_free_ char *text = hy_error_text (err);
  assert_string_equal (text, "error running hook #0 (prestart) `/nonexistent/hook-binary`: "
                             "exec: No such file or directory");
}

static void
test_not_executable (void **state)
{
  (void) state;
  _cleanup_free_ char *path = tmp_path ("not-exec");
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  assert_true (fd >= 0);
  close (fd);
  struct oci_hook hook = { .path = path };
  struct oci_hooks hooks = hooks_of (OCI_HOOK_POSTSTOP, &hook, 1);
  _cleanup_error_ hy_error_t err = NULL;
  assert_int_equal (hy_hooks_run (&hooks, OCI_HOOK_POSTSTOP, "{}", &err), -1);
  assert_int_equal (err->errnum, EACCES);
  assert_contains (err->msg, path);
}

static void
test_no_hooks_is_noop (void **state)
{
  (void) state;
  _cleanup_error_ hy_error_t err = NULL;
  assert_int_equal (hy_hooks_run (NULL, OCI_HOOK_PRESTART, "{}", &err), 0);
  struct oci_hook failing = { .path = "/nonexistent" };
  struct oci_hooks hooks = hooks_of (OCI_HOOK_POSTSTOP, &failing, 1);
  for (int k = 0; k < OCI_HOOK_KINDS; k++)
    if (k != OCI_HOOK_POSTSTOP)
      assert_int_equal (hy_hooks_run (&hooks, k, "{}", &err), 0);
  struct oci_hooks empty;
  memset (&empty, 0, sizeof (empty));
  empty.present[OCI_HOOK_PRESTART] = true;
  assert_int_equal (hy_hooks_run (&empty, OCI_HOOK_PRESTART, "{}", &err), 0);
  assert_null (err);
}

static void
test_sigpipe_disposition_restored (void **state)
{
  (void) state;
  struct sigaction before, after;
  sigaction (SIGPIPE, NULL, &before);
  _cleanup_free_ char *text
      = run_sh (OCI_HOOK_PRESTART, xstrdup ("exit 0"), 0, "{}");
  assert_null (text);
  sigaction (SIGPIPE, NULL, &after);
  assert_ptr_equal (before.sa_handler, after.sa_handler);
}

static int
setup (void **state)
{
  (void) state;
  ssize_t n = readlink ("/proc/self/exe", self_exe, sizeof (self_exe) - 1);
  if (n <= 0 || mkdtemp (tmpdir) == NULL)
    return -1;
  self_exe[n] = '\0';
  return 0;
}

static int
teardown (void **state)
{
  (void) state;
  _cleanup_free_ char *cmd = xasprintf ("rm -rf '%s'", tmpdir);
  return system (cmd) == 0 ? 0 : -1;
}

int
main (int argc, char **argv)
{
  if (argc >= 3 && strcmp (argv[1], "hook-dump") == 0)
    return hook_dump (argv);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_state_args_env_exact),
    cmocka_unit_test (test_no_args_no_env),
    cmocka_unit_test (test_exit_status_message),
    cmocka_unit_test (test_exit_status_no_output),
    cmocka_unit_test (test_killed_by_signal),
    cmocka_unit_test (test_output_bounded),
    cmocka_unit_test (test_timeout_kills_everything),
    cmocka_unit_test (test_timeout_not_reached),
    cmocka_unit_test (test_large_state_unread),
    cmocka_unit_test (test_large_state_read),
    cmocka_unit_test (test_background_child_does_not_block),
    cmocka_unit_test (test_order_and_first_failure_stops),
    cmocka_unit_test (test_missing_binary),
    cmocka_unit_test (test_not_executable),
    cmocka_unit_test (test_no_hooks_is_noop),
    cmocka_unit_test (test_sigpipe_disposition_restored),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
