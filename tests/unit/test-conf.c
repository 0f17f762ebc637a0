/* /etc/hyrun/hyrun.conf: the parser and the loader's file handling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/conf.h"

static int
parse (const char *text, struct hy_conf *c, hy_error_t *err)
{
  return hy_conf_parse (text, "test.conf", c, err);
}

static void
expect_ok (const char *text, enum hy_isolation isolation)
{
  struct hy_conf c;
  hy_error_t err = NULL;
  if (parse (text, &c, &err) < 0)
    fail_msg ("\"%s\": unexpected error \"%s\"", text, err->msg);
  assert_int_equal (c.isolation, isolation);
}

static void
expect_error (const char *text, const char *needle)
{
  struct hy_conf c = { .isolation = HY_ISOLATION_VM };
  hy_error_t err = NULL;
  assert_int_equal (parse (text, &c, &err), -1);
  assert_non_null (err);
  if (strstr (err->msg, needle) == NULL)
    fail_msg ("error \"%s\" lacks \"%s\"", err->msg, needle);
  /* A failed parse leaves the output alone. */
  assert_int_equal (c.isolation, HY_ISOLATION_VM);
  hy_error_release (&err);
}

static void
test_empty (void **state)
{
  (void) state;
  expect_ok ("", HY_ISOLATION_UNSET);
  expect_ok ("\n\n   \n\t\n", HY_ISOLATION_UNSET);
  expect_ok ("# only a comment\n  # indented\n", HY_ISOLATION_UNSET);
}

static void
test_isolation (void **state)
{
  (void) state;
  expect_ok ("isolation = vm\n", HY_ISOLATION_VM);
  expect_ok ("isolation=container", HY_ISOLATION_CONTAINER);
  expect_ok ("  isolation\t=\tvm  \n", HY_ISOLATION_VM);
  expect_ok ("isolation = vm # the default for this host\n", HY_ISOLATION_VM);
  expect_ok ("# header\n\nisolation = container\n# trailer",
             HY_ISOLATION_CONTAINER);
  expect_ok ("isolation = vm\r\n", HY_ISOLATION_VM);
}

static void
test_errors_name_line_and_key (void **state)
{
  (void) state;
  expect_error ("isolation = vm\nfoo = bar\n",
                "test.conf:2: unknown key \"foo\"");
  expect_error ("# c\n\n\nisolation = vms\n",
                "test.conf:4: isolation: unknown value \"vms\"");
  expect_error ("isolation = VM\n", "test.conf:1: isolation: unknown value");
  expect_error ("isolation\n", "test.conf:1: expected `key = value`");
  expect_error ("isolation =\n", "test.conf:1: isolation: missing value");
  expect_error (" = vm\n", "test.conf:1: missing key");
  expect_error ("isolation = vm\nisolation = container\n",
                "test.conf:2: isolation: set more than once");
  expect_error ("Isolation = vm\n", "unknown key \"Isolation\"");
}

static char *
write_temp (const char *text)
{
  char *path = strdup ("/tmp/test-conf-XXXXXX");
  int fd = mkstemp (path);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
  close (fd);
  return path;
}

static void
test_load_from_env (void **state)
{
  (void) state;
  char *path = write_temp ("isolation = vm\n");
  setenv (HY_CONF_ENV, path, 1);
  assert_string_equal (hy_conf_path (), path);
  struct hy_conf c;
  hy_error_t err = NULL;
  assert_int_equal (hy_conf_load (&c, &err), 0);
  assert_int_equal (c.isolation, HY_ISOLATION_VM);
  unlink (path);
  free (path);
  unsetenv (HY_CONF_ENV);
}

static void
test_load_errors_name_the_file (void **state)
{
  (void) state;
  char *path = write_temp ("\nbogus = 1\n");
  setenv (HY_CONF_ENV, path, 1);
  struct hy_conf c;
  hy_error_t err = NULL;
  assert_int_equal (hy_conf_load (&c, &err), -1);
  char *needle = NULL;
  assert_true (asprintf (&needle, "%s:2: unknown key \"bogus\"", path) > 0);
  if (strstr (err->msg, needle) == NULL)
    fail_msg ("error \"%s\" lacks \"%s\"", err->msg, needle);
  hy_error_release (&err);
  free (needle);
  unlink (path);

  /* A file named explicitly must exist. */
  assert_int_equal (hy_conf_load (&c, &err), -1);
  assert_non_null (strstr (err->msg, path));
  hy_error_release (&err);
  free (path);
  unsetenv (HY_CONF_ENV);
}

static void
test_default_path (void **state)
{
  (void) state;
  unsetenv (HY_CONF_ENV);
  assert_string_equal (hy_conf_path (), HY_CONF_DEFAULT_PATH);
  setenv (HY_CONF_ENV, "", 1);
  assert_string_equal (hy_conf_path (), HY_CONF_DEFAULT_PATH);
  unsetenv (HY_CONF_ENV);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_empty),
    cmocka_unit_test (test_isolation),
    cmocka_unit_test (test_errors_name_line_and_key),
    cmocka_unit_test (test_load_from_env),
    cmocka_unit_test (test_load_errors_name_the_file),
    cmocka_unit_test (test_default_path),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
