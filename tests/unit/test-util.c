/* common/util: mkdir_parents and the number parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

static void
test_mkdir_parents (void **state)
{
  (void) state;
  char base[] = "/tmp/hyrun-util-XXXXXX";
  assert_non_null (mkdtemp (base));
  _cleanup_free_ char *deep = xasprintf ("%s/a/b/c/", base);
  hy_error_t err = NULL;
  assert_int_equal (mkdir_parents (deep, 0700, &err), 0);
  struct stat st;
  assert_int_equal (stat (deep, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_int_equal (mkdir_parents (deep, 0700, &err), 0); /* exists: fine */

  _cleanup_free_ char *file = xasprintf ("%s/a/file", base);
  FILE *f = fopen (file, "w");
  assert_non_null (f);
  fclose (f);
  _cleanup_free_ char *under_file = xasprintf ("%s/x", file);
  assert_int_equal (mkdir_parents (under_file, 0700, &err), -1);
  assert_non_null (strstr (err->msg, under_file));
  hy_error_release (&err);

  _cleanup_free_ char *cmd = xasprintf ("rm -rf %s", base);
  assert_int_equal (system (cmd), 0);
}

static void
test_parse_numbers (void **state)
{
  (void) state;
  long long v;
  unsigned long long u;
  assert_int_equal (parse_int64 ("-5", -10, 10, &v), 0);
  assert_int_equal (v, -5);
  assert_int_equal (parse_int64 ("11", -10, 10, &v), -1);
  assert_int_equal (parse_int64 ("1x", -10, 10, &v), -1);
  assert_int_equal (parse_int64 ("", -10, 10, &v), -1);
  assert_int_equal (parse_uint64 ("18446744073709551615", &u), 0);
  assert_true (u == UINT64_MAX);
  assert_int_equal (parse_uint64 ("-1", &u), -1);
  assert_int_equal (parse_uint64 ("18446744073709551616", &u), -1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_mkdir_parents),
    cmocka_unit_test (test_parse_numbers),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
