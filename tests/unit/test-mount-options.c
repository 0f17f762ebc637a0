/* OCI mount options to mount(2) flags, propagation and mount_setattr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/mount.h>

#include "runtime/linux/mount-options.h"

static struct hy_mount_options
parse (char *const *opts)
{
  struct hy_mount_options o;
  hy_error_t err = NULL;
  if (hy_mount_options_parse (opts, &o, &err) < 0)
    fail_msg ("%s", err->msg);
  return o;
}

static void
test_flags_and_data (void **state)
{
  (void) state;
  char *opts[] = { "nosuid", "strictatime", "mode=755", "size=65536k", "ro",
                   NULL };
  struct hy_mount_options o = parse (opts);
  assert_int_equal (o.flags, MS_NOSUID | MS_STRICTATIME | MS_RDONLY);
  assert_string_equal (o.data, "mode=755,size=65536k");
  assert_int_equal (o.propagation, 0);
  hy_mount_options_release (&o);
}

static void
test_later_option_wins (void **state)
{
  (void) state;
  char *opts[] = { "ro", "rw", "nodev", "dev", "exec", NULL };
  struct hy_mount_options o = parse (opts);
  assert_int_equal (o.flags & (MS_RDONLY | MS_NODEV | MS_NOEXEC), 0);
  assert_true (o.clear & MS_RDONLY);
  assert_null (o.data);
  hy_mount_options_release (&o);
}

static void
test_bind_and_propagation (void **state)
{
  (void) state;
  char *opts[] = { "rbind", "rslave", NULL };
  struct hy_mount_options o = parse (opts);
  assert_int_equal (o.flags, MS_BIND | MS_REC);
  assert_int_equal (o.propagation, MS_SLAVE | MS_REC);
  char *opts2[] = { "bind", "private", NULL };
  o = parse (opts2);
  assert_int_equal (o.flags, MS_BIND);
  assert_int_equal (o.propagation, MS_PRIVATE);
}

static void
test_recursive_attributes (void **state)
{
  (void) state;
  char *opts[] = { "rbind", "rro", "rnosuid", "rnoatime", "rrelatime", NULL };
  struct hy_mount_options o = parse (opts);
  assert_int_equal (o.attr_set,
                    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_RELATIME);
  assert_true (o.attr_clr & MOUNT_ATTR__ATIME);
  assert_int_equal (o.flags & MS_RDONLY, 0); /* rro is not ro */
}

static void
test_special_options (void **state)
{
  (void) state;
  char *opts[] = { "idmap", "tmpcopyup", NULL };
  struct hy_mount_options o = parse (opts);
  assert_true (o.idmap);
  assert_false (o.ridmap);
  assert_true (o.tmpcopyup);
  assert_null (o.data);
}

static void
test_empty_option_rejected (void **state)
{
  (void) state;
  char *opts[] = { "ro", "", NULL };
  struct hy_mount_options o;
  hy_error_t err = NULL;
  assert_int_equal (hy_mount_options_parse (opts, &o, &err), -1);
  assert_non_null (strstr (err->msg, "mount option 1 is empty"));
  hy_error_release (&err);
}

static void
test_names_listed (void **state)
{
  (void) state;
  size_t n = 0;
  int seen_rro = 0;
  for (const char *name; (name = hy_mount_option_name (n)); n++)
    seen_rro |= strcmp (name, "rro") == 0;
  assert_true (n > 50);
  assert_true (seen_rro);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_flags_and_data),
    cmocka_unit_test (test_later_option_wins),
    cmocka_unit_test (test_bind_and_propagation),
    cmocka_unit_test (test_recursive_attributes),
    cmocka_unit_test (test_special_options),
    cmocka_unit_test (test_empty_option_rejected),
    cmocka_unit_test (test_names_listed),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
