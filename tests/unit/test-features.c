/* The features document: its serialization (oci/features.c) and what the
 * runtime puts in it (runtime/host-features.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "common/util.h"
#include "oci/features.h"
#include "runtime/host-features.h"

static yajl_val
to_tree (const struct oci_features *f, bool pretty)
{
  char *json = oci_features_to_json (f, pretty);
  char errbuf[256];
  yajl_val v = yajl_tree_parse (json, errbuf, sizeof errbuf);
  if (v == NULL)
    fail_msg ("invalid JSON (%s): %s", errbuf, json);
  free (json);
  return v;
}

static yajl_val
at (yajl_val v, const char *const *path)
{
  return yajl_tree_get (v, (const char **) path, yajl_t_any);
}
#define AT(v, ...) at ((v), (const char *const[]){ __VA_ARGS__, NULL })

static bool
array_has (yajl_val arr, const char *s)
{
  assert_true (YAJL_IS_ARRAY (arr));
  for (size_t i = 0; i < arr->u.array.len; i++)
    if (str_eq (YAJL_GET_STRING (arr->u.array.values[i]), s))
      return true;
  return false;
}

static char **
strv_of (const char *const *v)
{
  return strv_dup ((char *const *) v);
}

static void
test_empty_document (void **state)
{
  (void) state;
  struct oci_features *f = xmalloc0 (sizeof *f);
  char *json = oci_features_to_json (f, false);
  assert_string_equal (json, "{}");
  free (json);
  oci_features_free (f);
}

static void
test_fields_and_types (void **state)
{
  (void) state;
  struct oci_features *f = xmalloc0 (sizeof *f);
  f->oci_version_min = xstrdup ("1.0.0");
  f->oci_version_max = xstrdup ("1.2.0");
  f->hooks = strv_of ((const char *const[]){ "prestart", "poststop", NULL });
  f->mount_options = strv_of ((const char *const[]){ "ro", NULL });
  f->linux_ = xmalloc0 (sizeof *f->linux_);
  f->linux_->namespaces = strv_of ((const char *const[]){ "pid", NULL });
  f->linux_->capabilities = xmalloc0 (sizeof (char *)); /* [] */
  f->linux_->cgroup = xmalloc0 (sizeof *f->linux_->cgroup);
  f->linux_->cgroup->v2 = OCI_BOOL_TRUE;
  f->linux_->cgroup->systemd = OCI_BOOL_FALSE;
  f->linux_->seccomp = xmalloc0 (sizeof *f->linux_->seccomp);
  f->linux_->seccomp->enabled = OCI_BOOL_TRUE;
  f->linux_->seccomp->actions
      = strv_of ((const char *const[]){ "SCMP_ACT_ALLOW", NULL });
  f->linux_->apparmor = OCI_BOOL_FALSE;
  f->linux_->idmap_mounts = OCI_BOOL_TRUE;
  oci_strmap_set (&f->annotations, "io.hyrun.isolation", "container,vm");
  f->potentially_unsafe_config_annotations = xmalloc0 (sizeof (char *));

  yajl_val v = to_tree (f, true);
  assert_string_equal (YAJL_GET_STRING (AT (v, "ociVersionMin")), "1.0.0");
  assert_string_equal (YAJL_GET_STRING (AT (v, "ociVersionMax")), "1.2.0");
  assert_int_equal (AT (v, "hooks")->u.array.len, 2);
  assert_true (array_has (AT (v, "mountOptions"), "ro"));
  assert_true (array_has (AT (v, "linux", "namespaces"), "pid"));
  /* An empty vector is written as [], a NULL one not at all. */
  assert_true (YAJL_IS_ARRAY (AT (v, "linux", "capabilities")));
  assert_int_equal (AT (v, "linux", "capabilities")->u.array.len, 0);
  assert_true (YAJL_IS_ARRAY (AT (v, "potentiallyUnsafeConfigAnnotations")));
  assert_null (AT (v, "linux", "seccomp", "operators"));
  /* Tri-state booleans: unset ones are left out. */
  assert_true (YAJL_IS_TRUE (AT (v, "linux", "cgroup", "v2")));
  assert_true (YAJL_IS_FALSE (AT (v, "linux", "cgroup", "systemd")));
  assert_null (AT (v, "linux", "cgroup", "v1"));
  assert_null (AT (v, "linux", "cgroup", "rdma"));
  assert_true (YAJL_IS_TRUE (AT (v, "linux", "seccomp", "enabled")));
  assert_true (YAJL_IS_FALSE (AT (v, "linux", "apparmor", "enabled")));
  assert_null (AT (v, "linux", "selinux"));
  assert_null (AT (v, "linux", "intelRdt"));
  assert_true (
      YAJL_IS_TRUE (AT (v, "linux", "mountExtensions", "idmap", "enabled")));
  assert_string_equal (
      YAJL_GET_STRING (AT (v, "annotations", "io.hyrun.isolation")),
      "container,vm");
  yajl_tree_free (v);
  oci_features_free (f);
}

static void
test_no_annotations_not_written (void **state)
{
  (void) state;
  struct oci_features *f = xmalloc0 (sizeof *f);
  f->linux_ = xmalloc0 (sizeof *f->linux_);
  yajl_val v = to_tree (f, false);
  assert_null (AT (v, "annotations"));
  assert_true (YAJL_IS_OBJECT (AT (v, "linux")));
  assert_int_equal (AT (v, "linux")->u.object.len, 0);
  yajl_tree_free (v);
  oci_features_free (f);
}

/* ---- the host's document ---- */

static void
test_host_document (void **state)
{
  (void) state;
  struct oci_features *f = hy_host_features ();
  yajl_val v = to_tree (f, true);

  assert_string_equal (YAJL_GET_STRING (AT (v, "ociVersionMin")), "1.0.0");
  assert_string_equal (YAJL_GET_STRING (AT (v, "ociVersionMax")), "1.2.0");
  static const char *const hooks[]
      = { "prestart",       "createRuntime", "createContainer",
          "startContainer", "poststart",     "poststop" };
  for (size_t i = 0; i < 6; i++)
    assert_true (array_has (AT (v, "hooks"), hooks[i]));
  assert_int_equal (AT (v, "linux", "namespaces")->u.array.len, 8);
  assert_true (array_has (AT (v, "linux", "namespaces"), "time"));
  assert_true (array_has (AT (v, "linux", "namespaces"), "cgroup"));

  yajl_val caps = AT (v, "linux", "capabilities");
  assert_true (caps->u.array.len >= 38); /* up to CAP_AUDIT_READ at least */
  assert_true (array_has (caps, "CAP_CHOWN"));
  assert_true (array_has (caps, "CAP_SYS_ADMIN"));
  for (size_t i = 0; i < caps->u.array.len; i++)
    {
      const char *c = YAJL_GET_STRING (caps->u.array.values[i]);
      assert_true (str_has_prefix (c, "CAP_"));
      for (const char *p = c; *p; p++)
        assert_false (*p >= 'a' && *p <= 'z');
    }

  yajl_val seccomp = AT (v, "linux", "seccomp");
  assert_true (YAJL_IS_TRUE (AT (seccomp, "enabled"))
               || YAJL_IS_FALSE (AT (seccomp, "enabled")));
  assert_true (array_has (AT (seccomp, "operators"), "SCMP_CMP_MASKED_EQ"));
  assert_true (array_has (AT (seccomp, "archs"), "SCMP_ARCH_X86_64"));
  yajl_val known = AT (seccomp, "knownFlags");
  yajl_val supported = AT (seccomp, "supportedFlags");
  for (size_t i = 0; i < supported->u.array.len; i++)
    assert_true (
        array_has (known, YAJL_GET_STRING (supported->u.array.values[i])));
  if (YAJL_IS_TRUE (AT (seccomp, "enabled")))
    assert_true (array_has (AT (seccomp, "actions"), "SCMP_ACT_ALLOW"));

  assert_true (YAJL_IS_TRUE (AT (v, "linux", "cgroup", "v2")));
  assert_true (YAJL_IS_FALSE (AT (v, "linux", "cgroup", "systemd")));
  assert_true (YAJL_IS_FALSE (AT (v, "linux", "apparmor", "enabled")));
  assert_true (YAJL_IS_FALSE (AT (v, "linux", "selinux", "enabled")));
  assert_true (YAJL_IS_FALSE (AT (v, "linux", "intelRdt", "enabled")));
  yajl_val idmap = AT (v, "linux", "mountExtensions", "idmap", "enabled");
  assert_true (YAJL_IS_TRUE (idmap) || YAJL_IS_FALSE (idmap));

  assert_string_equal (
      YAJL_GET_STRING (AT (v, "annotations", "io.hyrun.isolation")),
      "container,vm");
  assert_non_null (
      YAJL_GET_STRING (AT (v, "annotations", "io.hyrun.version")));
  assert_non_null (YAJL_GET_STRING (AT (v, "annotations", "io.hyrun.commit")));
  assert_int_equal (AT (v, "potentiallyUnsafeConfigAnnotations")->u.array.len,
                    0);
  yajl_tree_free (v);
  oci_features_free (f);
}

/* Every mount option runc 1.1 lists, plus idmapped mounts. */
static void
test_host_mount_options (void **state)
{
  (void) state;
  static const char expected[]
      = "async atime bind defaults dev diratime dirsync exec iversion "
        "lazytime loud mand noatime nodev nodiratime noexec noiversion "
        "nolazytime nomand norelatime nostrictatime nosuid nosymfollow "
        "private ratime rbind rdev rdiratime relatime remount rexec rnoatime "
        "rnodev rnodiratime rnoexec rnorelatime rnostrictatime rnosuid "
        "rnosymfollow ro rprivate rrelatime rro rrw rshared rslave "
        "rstrictatime rsuid runbindable rw shared silent slave strictatime "
        "suid sync tmpcopyup unbindable idmap ridmap";
  struct oci_features *f = hy_host_features ();
  char *names = xstrdup (expected), *save = NULL;
  for (char *n = strtok_r (names, " ", &save); n;
       n = strtok_r (NULL, " ", &save))
    if (!strv_contains (f->mount_options, n))
      fail_msg ("mountOptions lacks \"%s\"", n);
  free (names);
  /* Sorted, without duplicates. */
  for (size_t i = 1; f->mount_options[i]; i++)
    assert_true (strcmp (f->mount_options[i - 1], f->mount_options[i]) < 0);
  oci_features_free (f);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_empty_document),
    cmocka_unit_test (test_fields_and_types),
    cmocka_unit_test (test_no_annotations_not_written),
    cmocka_unit_test (test_host_document),
    cmocka_unit_test (test_host_mount_options),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
