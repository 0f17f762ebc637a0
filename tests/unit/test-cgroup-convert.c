/* The cgroup code that needs no cgroup: conversions to v2 values, file
 * lines, path cleaning and resolution, mountinfo parsing, the state
 * string. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cgroup/cgroup-internal.h"

static void
expect_str (char *got, const char *want)
{
  if (want == NULL)
    assert_null (got);
  else
    assert_string_equal (got, want);
  free (got);
}

static void
test_shares_to_weight (void **state)
{
  (void) state;
  assert_int_equal (hy_cg_shares_to_weight (0), 0);
  assert_int_equal (hy_cg_shares_to_weight (2), 1);
  assert_int_equal (hy_cg_shares_to_weight (1024), 39);
  assert_int_equal (hy_cg_shares_to_weight (262144), 10000);
  assert_int_equal (hy_cg_shares_to_weight (1), 1);
  assert_int_equal (hy_cg_shares_to_weight (1u << 20), 10000);
  /* 1 + ((shares - 2) * 9999) / 262142 in between */
  assert_int_equal (hy_cg_shares_to_weight (512), 1 + (510 * 9999) / 262142);
}

static void
test_blkio_to_io_weight (void **state)
{
  (void) state;
  assert_int_equal (hy_cg_blkio_to_io_weight (0), 0);
  assert_int_equal (hy_cg_blkio_to_io_weight (10), 1);
  assert_int_equal (hy_cg_blkio_to_io_weight (500), 1 + 490 * 9999 / 990);
  assert_int_equal (hy_cg_blkio_to_io_weight (1000), 10000);
}

static int64_t
swap_ok (int64_t swap, bool has_swap, int64_t limit, bool has_limit)
{
  int64_t out = 12345;
  hy_error_t err = NULL;
  assert_int_equal (
      hy_cg_swap_v2 (swap, has_swap, limit, has_limit, &out, &err), 0);
  return out;
}

static void
swap_bad (int64_t swap, int64_t limit, bool has_limit, const char *needle)
{
  int64_t out;
  hy_error_t err = NULL;
  assert_int_equal (hy_cg_swap_v2 (swap, true, limit, has_limit, &out, &err),
                    -1);
  assert_non_null (strstr (err->msg, needle));
  assert_non_null (strstr (err->msg, "linux.resources.memory.swap"));
  hy_error_release (&err);
}

static void
test_swap_v2 (void **state)
{
  (void) state;
  assert_int_equal (swap_ok (0, false, 0, false), 0);
  assert_int_equal (swap_ok (0, false, -1, true), -1);
  assert_int_equal (swap_ok (-1, true, 1000, true), -1);
  assert_int_equal (swap_ok (3000, true, 1000, true), 2000);
  assert_int_equal (swap_ok (1000, true, 1000, true), 0);
  assert_int_equal (swap_ok (3000, true, -1, true), 3000);
  swap_bad (500, 1000, true, "below the memory limit");
  swap_bad (500, 0, false, "without a memory limit");
}

static void
test_cpu_max (void **state)
{
  (void) state;
  struct oci_cpu c = { 0 };
  expect_str (hy_cg_cpu_max (&c), NULL);
  c = (struct oci_cpu){ .quota = 50000, .has_quota = true };
  expect_str (hy_cg_cpu_max (&c), "50000 100000");
  c.period = 20000;
  c.has_period = true;
  expect_str (hy_cg_cpu_max (&c), "50000 20000");
  c.quota = -1;
  expect_str (hy_cg_cpu_max (&c), "max 20000");
  c = (struct oci_cpu){ .period = 250000, .has_period = true };
  expect_str (hy_cg_cpu_max (&c), "max 250000");
}

static void
test_file_lines (void **state)
{
  (void) state;
  struct oci_throttle_device t = { .major = 8, .minor = 16, .rate = 1048576 };
  expect_str (hy_cg_io_max_line (&t, "rbps"), "8:16 rbps=1048576");
  expect_str (hy_cg_io_max_line (&t, "wiops"), "8:16 wiops=1048576");

  struct oci_device_rule all = { .allow = false, .access = "rwm" };
  expect_str (hy_cg_device_rule_v1 (&all), "a");
  struct oci_device_rule null_dev = { .allow = true,
                                      .type = 'c',
                                      .major = 1,
                                      .minor = 3,
                                      .has_major = true,
                                      .has_minor = true,
                                      .access = "rw" };
  expect_str (hy_cg_device_rule_v1 (&null_dev), "c 1:3 rw");
  /* the kernel takes r, w and m only; runc ignores the rest */
  struct oci_device_rule kmsg = { .type = 'c', .major = 1, .minor = 11,
                                  .has_major = true, .has_minor = true,
                                  .access = "mwar" };
  expect_str (hy_cg_device_rule_v1 (&kmsg), "c 1:11 rwm");
  struct oci_device_rule any_block
      = { .allow = true, .type = 'b', .major = -1, .has_major = true };
  expect_str (hy_cg_device_rule_v1 (&any_block), "b *:* rwm");

  struct oci_rdma r
      = { .device = "mlx5_0", .hca_handles = 2, .has_hca_handles = true };
  expect_str (hy_cg_rdma_line (&r), "mlx5_0 hca_handle=2");
  r.hca_objects = 100;
  r.has_hca_objects = true;
  expect_str (hy_cg_rdma_line (&r), "mlx5_0 hca_handle=2 hca_object=100");

  expect_str (hy_cg_pids_max (0), "max");
  expect_str (hy_cg_pids_max (-1), "max");
  expect_str (hy_cg_pids_max (42), "42");
}

static void
test_clean_path (void **state)
{
  (void) state;
  expect_str (hy_cg_clean_path ("/a/b"), "/a/b");
  expect_str (hy_cg_clean_path ("/a//b/./c/"), "/a/b/c");
  expect_str (hy_cg_clean_path ("/a/../../b"), "/b");
  expect_str (hy_cg_clean_path ("a/b"), "a/b");
  expect_str (hy_cg_clean_path ("../../a"), "a");
  expect_str (hy_cg_clean_path ("a/../../b/.."), NULL);
  expect_str (hy_cg_clean_path ("/"), NULL);
  expect_str (hy_cg_clean_path ("."), NULL);
  expect_str (hy_cg_clean_path ("system.slice:docker:x"),
              "system.slice:docker:x");
}

static void
resolve_is (const struct hy_cgroup_mount *m, enum hy_cgroup_mode mode,
            const char *inner, const char *want)
{
  hy_error_t err = NULL;
  char *got = hy_cg_resolve (m, mode, inner, &err);
  if (want == NULL)
    {
      assert_null (got);
      assert_non_null (strstr (err->msg, "outside the mount"));
      hy_error_release (&err);
      return;
    }
  expect_str (got, want);
}

static void
test_resolve (void **state)
{
  (void) state;
  struct hy_cgroup_mount mem = { .key = "memory",
                                 .mountpoint = "/sys/fs/cgroup/memory",
                                 .root = "/",
                                 .own = "/user/1000",
                                 .ctrls = HY_CG_MEMORY };
  resolve_is (&mem, HY_CGROUP_V1, "/hyrun/c1",
              "/sys/fs/cgroup/memory/hyrun/c1");
  resolve_is (&mem, HY_CGROUP_V1, "c1", "/sys/fs/cgroup/memory/user/1000/c1");
  /* a mount of a subtree (containers): own paths are relative to it */
  mem.root = "/user";
  resolve_is (&mem, HY_CGROUP_V1, "c1", "/sys/fs/cgroup/memory/1000/c1");
  mem.root = "/other";
  resolve_is (&mem, HY_CGROUP_V1, "c1", NULL);

  struct hy_cgroup_mount v2 = { .key = "",
                                .mountpoint = "/sys/fs/cgroup",
                                .root = "/",
                                .own = "/user.slice/s1",
                                .v2 = true };
  /* v2 mode starts at the parent of our cgroup, hybrid at ours */
  resolve_is (&v2, HY_CGROUP_V2, "c1", "/sys/fs/cgroup/user.slice/c1");
  v2.mountpoint = "/sys/fs/cgroup/unified";
  resolve_is (&v2, HY_CGROUP_HYBRID, "c1",
              "/sys/fs/cgroup/unified/user.slice/s1/c1");
  v2.own = "/";
  resolve_is (&v2, HY_CGROUP_V2, "c1", "/sys/fs/cgroup/unified/c1");
}

/* This host's layout, cpu and cpuacct co-mounted as on most distros, a
 * bind mount repeating a hierarchy, and an escaped mount point. */
static const char mountinfo_hybrid[]
    = "23 1 0:21 / /sys rw - sysfs sysfs rw\n"
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup "
      "rw,cpu,cpuacct\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup "
      "rw,memory\n"
      "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
      "rw,xattr,name=systemd\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 "
      "rw,nsdelegate\n"
      "90 1 0:32 /sub /mnt/mem\\040x rw - cgroup cgroup rw,memory\n"
      "91 1 0:38 / /mnt/other2 rw - cgroup2 cgroup2 rw\n";

static const char self_cgroup[] = "12:memory:/process_api/abc\n"
                                  "3:cpu,cpuacct:/\n"
                                  "1:name=systemd:/init.scope\n"
                                  "0::/user.slice\n";

static const struct hy_cgroup_mount *
find_mount (const struct hy_cgroup_layout *l, const char *key)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcmp (l->mounts[i].key, key) == 0)
      return &l->mounts[i];
  fail_msg ("no mount %s", key);
  return NULL;
}

static void
test_layout_hybrid (void **state)
{
  (void) state;
  struct hy_cgroup_layout *l = NULL;
  hy_error_t err = NULL;
  assert_int_equal (hy_cgroup_layout_parse (HY_CGROUP_HYBRID, mountinfo_hybrid,
                                            self_cgroup, &l, &err),
                    0);
  assert_int_equal (l->n, 4);
  const struct hy_cgroup_mount *cpu = find_mount (l, "cpu,cpuacct");
  assert_string_equal (cpu->mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
  assert_int_equal (cpu->ctrls, HY_CG_CPU | HY_CG_CPUACCT);
  assert_string_equal (cpu->own, "/");
  const struct hy_cgroup_mount *mem = find_mount (l, "memory");
  assert_string_equal (mem->mountpoint, "/sys/fs/cgroup/memory");
  assert_string_equal (mem->own, "/process_api/abc");
  const struct hy_cgroup_mount *sd = find_mount (l, "name=systemd");
  assert_int_equal (sd->ctrls, 0);
  assert_string_equal (sd->own, "/init.scope");
  const struct hy_cgroup_mount *v2 = find_mount (l, "");
  assert_true (v2->v2);
  assert_string_equal (v2->mountpoint, "/sys/fs/cgroup/unified");
  assert_string_equal (v2->own, "/user.slice");
  hy_cgroup_layout_free (l);
}

static void
test_layout_modes (void **state)
{
  (void) state;
  struct hy_cgroup_layout *l = NULL;
  hy_error_t err = NULL;
  assert_int_equal (hy_cgroup_layout_parse (HY_CGROUP_V1, mountinfo_hybrid,
                                            self_cgroup, &l, &err),
                    0);
  assert_int_equal (l->n, 3); /* no cgroup2 in v1 mode */
  hy_cgroup_layout_free (l);

  const char v2_only[] = "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 "
                         "rw\n";
  assert_int_equal (
      hy_cgroup_layout_parse (HY_CGROUP_V2, v2_only, "0::/a/b\n", &l, &err),
      0);
  assert_int_equal (l->n, 1);
  assert_string_equal (l->mounts[0].mountpoint, "/sys/fs/cgroup");
  assert_string_equal (l->mounts[0].own, "/a/b");
  hy_cgroup_layout_free (l);

  /* the standard cgroup2 mount wins over one seen before */
  const char two_v2[]
      = "91 1 0:38 / /mnt/other2 rw - cgroup2 cgroup2 rw\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
  assert_int_equal (
      hy_cgroup_layout_parse (HY_CGROUP_HYBRID, two_v2, "0::/\n", &l, &err),
      0);
  assert_int_equal (l->n, 2);
  assert_string_equal (find_mount (l, "")->mountpoint,
                       "/sys/fs/cgroup/unified");
  hy_cgroup_layout_free (l);

  /* an escaped mount point, and no hierarchy at all */
  const char odd[] = "90 1 0:32 /sub /mnt/mem\\040x rw - cgroup cgroup "
                     "rw,memory\n";
  assert_int_equal (hy_cgroup_layout_parse (HY_CGROUP_V1, odd, "", &l, &err),
                    0);
  assert_string_equal (l->mounts[0].mountpoint, "/mnt/mem x");
  assert_string_equal (l->mounts[0].root, "/sub");
  hy_cgroup_layout_free (l);
  assert_int_equal (hy_cgroup_layout_parse (HY_CGROUP_V2, odd, "", &l, &err),
                    -1);
  assert_non_null (strstr (err->msg, "no cgroup2"));
  hy_error_release (&err);
}

static void
test_detect (void **state)
{
  (void) state;
  enum hy_cgroup_mode mode;
  hy_error_t err = NULL;
  assert_int_equal (hy_cgroup_detect (&mode, &err), 0);
  assert_string_not_equal (hy_cgroup_mode_name (mode), "?");
}

static void
test_escape (void **state)
{
  (void) state;
  char *e = hy_cg_escape ("/a;b%c");
  assert_string_equal (e, "/a%3Bb%25c");
  expect_str (hy_cg_unescape (e, strlen (e)), "/a;b%c");
  free (e);
  expect_str (hy_cg_unescape ("/a%3", 4), NULL);
  expect_str (hy_cg_unescape ("/a%zz", 5), NULL);
}

static void
test_string_round_trip (void **state)
{
  (void) state;
  const char *text = "hybrid;cpu,cpuacct:/nonexistent/cpu/x;memory:/"
                     "nonexistent/mem/x%3By;:/nonexistent/unified/x";
  struct hy_cgroup *cg = NULL;
  hy_error_t err = NULL;
  assert_int_equal (hy_cgroup_load (text, &cg, &err), 0);
  assert_int_equal (hy_cgroup_get_mode (cg), HY_CGROUP_HYBRID);
  assert_string_equal (hy_cgroup_dir (cg, "cpuacct"), "/nonexistent/cpu/x");
  assert_string_equal (hy_cgroup_dir (cg, "memory"), "/nonexistent/mem/x;y");
  assert_string_equal (hy_cgroup_dir (cg, ""), "/nonexistent/unified/x");
  assert_null (hy_cgroup_dir (cg, "pids"));
  char *again = hy_cgroup_to_string (cg);
  assert_string_equal (again, text);
  free (again);
  hy_cgroup_free (cg);

  const char *bad[]
      = { "", "v3;cpu:/x", "v1", "v1;cpu", "v1;cpu:rel", "v1;cpu:/x%4" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      assert_int_equal (hy_cgroup_load (bad[i], &cg, &err), -1);
      assert_non_null (strstr (err->msg, "invalid cgroup state"));
      hy_error_release (&err);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_shares_to_weight),
    cmocka_unit_test (test_blkio_to_io_weight),
    cmocka_unit_test (test_swap_v2),
    cmocka_unit_test (test_cpu_max),
    cmocka_unit_test (test_file_lines),
    cmocka_unit_test (test_clean_path),
    cmocka_unit_test (test_resolve),
    cmocka_unit_test (test_layout_hybrid),
    cmocka_unit_test (test_layout_modes),
    cmocka_unit_test (test_detect),
    cmocka_unit_test (test_escape),
    cmocka_unit_test (test_string_round_trip),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
