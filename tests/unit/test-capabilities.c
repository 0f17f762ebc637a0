/* process.capabilities: names to masks, and the five sets applied in
 * forked children, checked against /proc/self/status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "fork-check.h"
#include "runtime/linux/capabilities.h"
#include "runtime/linux/user.h"
#include "runtime/linux/warn.h"

#define NAMES(...) ((char *[]){ __VA_ARGS__, NULL })

/* CAP_CHOWN 0, CAP_KILL 5, CAP_NET_BIND_SERVICE 10, CAP_SYSLOG 34 */
#define BIT(n) (1ULL << (n))

/* ---- warnings ---- */

static char warnings[4096];

static void
collect_warning (const char *msg, void *data)
{
  (void) data;
  size_t len = strlen (warnings);
  snprintf (warnings + len, sizeof (warnings) - len, "%s\n", msg);
}

static int
setup_warnings (void **state)
{
  (void) state;
  warnings[0] = '\0';
  hy_linux_set_warn (collect_warning, NULL);
  return 0;
}

static int
teardown_warnings (void **state)
{
  (void) state;
  hy_linux_set_warn (NULL, NULL);
  return 0;
}

/* ---- names ---- */

static void
test_cap_from_name (void **state)
{
  (void) state;
  hy_error_t err = NULL;
  int cap = -2;
  assert_int_equal (hy_cap_from_name ("CAP_CHOWN", &cap, &err), 0);
  assert_int_equal (cap, 0);
  assert_int_equal (hy_cap_from_name ("CAP_SYS_ADMIN", &cap, &err), 0);
  assert_int_equal (cap, 21);
  assert_int_equal (hy_cap_from_name ("CAP_NET_BIND_SERVICE", &cap, &err), 0);
  assert_int_equal (cap, 10);
  assert_int_equal (hy_cap_from_name ("CAP_HYRUN_FUTURE", &cap, &err), 0);
  assert_int_equal (cap, -1);
  assert_null (err);

  const char *malformed[]
      = { "cap_chown", "CAP_", "CHOWN", "CAP_Chown", "CAP_CHOWN ", "" };
  for (size_t i = 0; i < sizeof (malformed) / sizeof (malformed[0]); i++)
    {
      assert_true (hy_cap_from_name (malformed[i], &cap, &err) < 0);
      char *want = NULL;
      assert_true (
          asprintf (&want, "malformed capability name \"%s\"", malformed[i])
          > 0);
      assert_string_equal (err->msg, want);
      free (want);
      hy_error_release (&err);
    }
}

static void
test_last_cap (void **state)
{
  (void) state;
  /* CAP_CHECKPOINT_RESTORE (40) exists since Linux 5.9. */
  assert_true (hy_cap_last_cap () >= 40);
}

/* ---- resolving ---- */

static void
test_resolve_masks_and_warnings (void **state)
{
  (void) state;
  struct oci_capabilities c = {
    .bounding = NAMES ("CAP_CHOWN", "CAP_HYRUN_FOO", "CAP_KILL"),
    .effective = NAMES ("CAP_HYRUN_FOO", "CAP_KILL"),
    .permitted = NAMES ("CAP_KILL", "CAP_HYRUN_BAR"),
    .inheritable = NAMES ("CAP_NET_BIND_SERVICE"),
    .ambient = NULL,
  };
  struct hy_caps caps;
  hy_error_t err = NULL;
  assert_int_equal (hy_caps_resolve (&c, &caps, &err), 0);
  assert_int_equal (caps.bounding, BIT (0) | BIT (5));
  assert_int_equal (caps.effective, BIT (5));
  assert_int_equal (caps.permitted, BIT (5));
  assert_int_equal (caps.inheritable, BIT (10));
  assert_int_equal (caps.ambient, 0);
  /* One warning naming each unknown capability once. */
  assert_string_equal (warnings, "ignoring unknown capabilities: "
                                 "CAP_HYRUN_FOO, CAP_HYRUN_BAR\n");
}

static void
test_resolve_kernel_unsupported (void **state)
{
  (void) state;
  struct oci_capabilities c = {
    .bounding = NAMES ("CAP_CHOWN", "CAP_NET_BIND_SERVICE"),
    .permitted = NAMES ("CAP_NET_BIND_SERVICE", "CAP_CHOWN"),
  };
  struct hy_caps caps;
  hy_error_t err = NULL;
  /* A kernel whose last capability is CAP_KILL (5). */
  assert_int_equal (hy_caps_resolve_for (&c, 5, &caps, &err), 0);
  assert_int_equal (caps.bounding, BIT (0));
  assert_int_equal (caps.permitted, BIT (0));
  assert_string_equal (warnings, "ignoring kernel-unsupported capabilities: "
                                 "CAP_NET_BIND_SERVICE\n");
}

static void
test_resolve_malformed_is_an_error (void **state)
{
  (void) state;
  struct oci_capabilities c = {
    .bounding = NAMES ("CAP_CHOWN"),
    .permitted = NAMES ("CAP_CHOWN", "chown"),
  };
  struct hy_caps caps;
  hy_error_t err = NULL;
  assert_true (hy_caps_resolve (&c, &caps, &err) < 0);
  assert_string_equal (err->msg, "capabilities: permitted: malformed "
                                 "capability name \"chown\"");
  hy_error_release (&err);
}

/* ---- applying ---- */

static const struct oci_capabilities web_caps = {
  .bounding = NAMES ("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"),
  .effective = NAMES ("CAP_CHOWN", "CAP_NET_BIND_SERVICE"),
  .permitted = NAMES ("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"),
  .inheritable = NAMES ("CAP_NET_BIND_SERVICE"),
  .ambient = NAMES ("CAP_NET_BIND_SERVICE"),
};

static void
check_web_caps (void)
{
  CHILD_CHECK_EQ (proc_status_hex ("CapBnd"), BIT (0) | BIT (5) | BIT (10));
  CHILD_CHECK_EQ (proc_status_hex ("CapEff"), BIT (0) | BIT (10));
  CHILD_CHECK_EQ (proc_status_hex ("CapPrm"), BIT (0) | BIT (5) | BIT (10));
  CHILD_CHECK_EQ (proc_status_hex ("CapInh"), BIT (10));
  CHILD_CHECK_EQ (proc_status_hex ("CapAmb"), BIT (10));
}

static void
apply_as_root_body (void *arg)
{
  (void) arg;
  hy_error_t err = NULL;
  struct hy_caps caps;
  CHILD_OK (hy_caps_resolve (&web_caps, &caps, &err), &err);
  CHILD_OK (hy_caps_apply (&caps, &err), &err);
  check_web_caps ();
  CHILD_CHECK_EQ (prctl (PR_GET_KEEPCAPS, 0, 0, 0, 0), 0);
}

static void
test_apply_as_root (void **state)
{
  (void) state;
  assert_child_ok (apply_as_root_body, NULL);
}

static void
apply_after_setuid_body (void *arg)
{
  (void) arg;
  hy_error_t err = NULL;
  struct hy_caps caps;
  struct oci_user user = { .uid = 1000, .gid = 1000 };
  CHILD_OK (hy_caps_resolve (&web_caps, &caps, &err), &err);
  CHILD_OK (hy_caps_prepare_keep (&err), &err);
  CHILD_OK (hy_user_apply (&user, &err), &err);
  /* setresuid away from 0 empties the effective set, keeps the rest. */
  CHILD_CHECK_EQ (proc_status_hex ("CapEff"), 0);
  CHILD_CHECK (proc_status_hex ("CapPrm") != 0);
  CHILD_OK (hy_caps_apply (&caps, &err), &err);
  CHILD_CHECK_EQ (getuid (), 1000);
  CHILD_CHECK_EQ (geteuid (), 1000);
  check_web_caps ();
}

static void
test_apply_after_setuid (void **state)
{
  (void) state;
  assert_child_ok (apply_after_setuid_body, NULL);
}

/* Without PR_SET_KEEPCAPS the permitted set is gone after setresuid,
 * CAP_SETPCAP with it. */
static void
setuid_without_keep_body (void *arg)
{
  (void) arg;
  hy_error_t err = NULL;
  struct hy_caps caps;
  struct oci_user user = { .uid = 1000, .gid = 1000 };
  CHILD_OK (hy_caps_resolve (&web_caps, &caps, &err), &err);
  CHILD_OK (hy_user_apply (&user, &err), &err);
  CHILD_FAILS_WITH (hy_caps_apply (&caps, &err), &err,
                    "capabilities: drop CAP_DAC_OVERRIDE from the bounding "
                    "set (needs CAP_SETPCAP): Operation not permitted");
}

static void
test_setuid_without_keep_fails (void **state)
{
  (void) state;
  assert_child_ok (setuid_without_keep_body, NULL);
}

/* Drop CAP_SYSLOG (34) from this process first, then ask for it. */
static void
missing_permitted_body (void *arg)
{
  (void) arg;
  cap_t cur = cap_get_proc ();
  cap_value_t syslog = CAP_SYSLOG;
  CHILD_CHECK (cap_set_flag (cur, CAP_EFFECTIVE, 1, &syslog, CAP_CLEAR) == 0);
  CHILD_CHECK (cap_set_flag (cur, CAP_PERMITTED, 1, &syslog, CAP_CLEAR) == 0);
  CHILD_CHECK (cap_set_proc (cur) == 0);
  cap_free (cur);

  struct oci_capabilities c = {
    .bounding = NAMES ("CAP_CHOWN", "CAP_SYSLOG"),
    .effective = NAMES ("CAP_CHOWN"),
    .permitted = NAMES ("CAP_CHOWN", "CAP_SYSLOG"),
  };
  hy_error_t err = NULL;
  struct hy_caps caps;
  CHILD_OK (hy_caps_resolve (&c, &caps, &err), &err);
  CHILD_FAILS_WITH (hy_caps_apply (&caps, &err), &err,
                    "capabilities: cannot add CAP_SYSLOG to the permitted "
                    "set: the runtime does not hold it: Operation not "
                    "permitted");
}

static void
test_missing_permitted_cap_is_named (void **state)
{
  (void) state;
  assert_child_ok (missing_permitted_body, NULL);
}

static void
inconsistent_sets_body (void *arg)
{
  int which = *(int *) arg;
  char *chown_kill[] = { "CAP_CHOWN", "CAP_KILL", NULL };
  char *chown[] = { "CAP_CHOWN", NULL };
  char *setuid_[] = { "CAP_SETUID", NULL };
  char *setgid_[] = { "CAP_SETGID", NULL };
  struct oci_capabilities c = { .bounding = chown_kill,
                                .permitted = chown_kill,
                                .inheritable = chown };
  static const char *const want[] = {
    "CAP_SETUID is in the effective set but not in the permitted set",
    "CAP_SETGID is in the inheritable set but not in the bounding set",
  };
  if (which == 0)
    c.effective = setuid_;
  else
    c.inheritable = setgid_;
  hy_error_t err = NULL;
  struct hy_caps caps;
  CHILD_OK (hy_caps_resolve (&c, &caps, &err), &err);
  CHILD_FAILS_WITH (hy_caps_apply (&caps, &err), &err, want[which]);
}

static void
test_inconsistent_sets_are_named (void **state)
{
  (void) state;
  for (int which = 0; which < 2; which++)
    assert_child_ok (inconsistent_sets_body, &which);
}

/* runc and crun skip an ambient capability the kernel cannot raise. */
static void
unraisable_ambient_body (void *arg)
{
  (void) arg;
  char *chown_kill[] = { "CAP_CHOWN", "CAP_KILL", NULL };
  char *chown[] = { "CAP_CHOWN", NULL };
  char *both[] = { "CAP_KILL", "CAP_CHOWN", NULL };
  struct oci_capabilities c = { .bounding = chown_kill,
                                .permitted = chown_kill,
                                .inheritable = chown,
                                .ambient = both };
  warnings[0] = '\0';
  hy_linux_set_warn (collect_warning, NULL);
  hy_error_t err = NULL;
  struct hy_caps caps;
  CHILD_OK (hy_caps_resolve (&c, &caps, &err), &err);
  CHILD_OK (hy_caps_apply (&caps, &err), &err);
  CHILD_CHECK_EQ (proc_status_hex ("CapAmb"), BIT (0));
  if (warnings[0] != '\0')
    child_fail ("unexpected warnings \"%s\"", warnings);
}

static void
test_unraisable_ambient_is_skipped (void **state)
{
  (void) state;
  assert_child_ok (unraisable_ambient_body, NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_cap_from_name),
    cmocka_unit_test (test_last_cap),
    cmocka_unit_test_setup_teardown (test_resolve_masks_and_warnings,
                                     setup_warnings, teardown_warnings),
    cmocka_unit_test_setup_teardown (test_resolve_kernel_unsupported,
                                     setup_warnings, teardown_warnings),
    cmocka_unit_test (test_resolve_malformed_is_an_error),
    cmocka_unit_test (test_apply_as_root),
    cmocka_unit_test (test_apply_after_setuid),
    cmocka_unit_test (test_setuid_without_keep_fails),
    cmocka_unit_test (test_missing_permitted_cap_is_named),
    cmocka_unit_test (test_inconsistent_sets_are_named),
    cmocka_unit_test (test_unraisable_ambient_is_skipped),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
