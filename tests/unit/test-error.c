/* The error model: first error wins, context is prepended, errno kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"

static int
failing_open (hy_error_t *err)
{
  errno = ENOENT;
  return hy_error_errno (err, "open `%s`", "/x");
}

static void
test_errno_and_context (void **state)
{
  (void) state;
  _cleanup_error_ hy_error_t err = NULL;
  assert_int_equal (failing_open (&err), -1);
  assert_int_equal (hy_error_prepend (&err, "load bundle `%s`", "b"), -1);
  assert_int_equal (err->errnum, ENOENT);
  assert_string_equal (err->msg, "load bundle `b`: open `/x`");
  _cleanup_free_ char *text = hy_error_text (err);
  assert_string_equal (text, "load bundle `b`: open `/x`: No such file or directory");
}

static void
test_first_error_wins (void **state)
{
  (void) state;
  hy_error_t err = NULL;
  hy_error (&err, 0, "first");
  hy_error (&err, EIO, "second");
  assert_string_equal (err->msg, "first");
  assert_int_equal (err->errnum, 0);
  _cleanup_free_ char *text = hy_error_text (err);
  assert_string_equal (text, "first");
  hy_error_release (&err);
  assert_null (err);
  hy_error_release (&err); /* releasing twice is harmless */
}

static void
test_null_sink (void **state)
{
  (void) state;
  assert_int_equal (hy_error (NULL, EIO, "nobody listens"), -1);
  assert_int_equal (hy_error_prepend (NULL, "ctx"), -1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_errno_and_context),
    cmocka_unit_test (test_first_error_wins),
    cmocka_unit_test (test_null_sink),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
