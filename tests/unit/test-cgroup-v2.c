/* The cgroup v2 driver.  This host's cgroup2 tree (hybrid:
 * /sys/fs/cgroup/unified) is taken as a v2-only host: directories,
 * subtree_control, placement, cgroup.freeze, cgroup.kill, cgroup.events,
 * the core cpu.stat, `unified` files and whatever controller it has
 * (hugetlb here) are real.  The writers of the controllers bound to v1
 * here write into a directory of plain files instead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup/cgroup-internal.h"
#include "tests/unit/cgroup-test.h"

static bool
have_v2_tree (void)
{
  return access (TEST_V2_MOUNT "/cgroup.procs", F_OK) == 0;
}

#define REQUIRE_V2_TREE()                                                     \
  do                                                                          \
    if (!have_v2_tree ())                                                     \
      skip ();                                                                \
  while (0)

static char *
read_all (const char *dir, const char *file)
{
  char *text = NULL;
  hy_error_t err = NULL;
  if (hy_cg_read (dir, file, &text, &err) < 0)
    fail_msg ("%s", hy_error_text (err));
  return text;
}

static void
assert_line (const char *dir, const char *file, const char *want)
{
  char *got = read_all (dir, file);
  got[strcspn (got, "\n")] = '\0';
  if (strcmp (got, want) != 0)
    fail_msg ("%s/%s: \"%s\", expected \"%s\"", dir, file, got, want);
  free (got);
}

static bool
root_has (const char *controller)
{
  char *avail = read_all (TEST_V2_MOUNT, "cgroup.controllers");
  bool found = false;
  for (char *save = NULL, *c = strtok_r (avail, " \n", &save); c;
       c = strtok_r (NULL, " \n", &save))
    found |= strcmp (c, controller) == 0;
  free (avail);
  return found;
}

/* ---- directories and placement ---- */

static void
test_create_and_place (void **state)
{
  (void) state;
  REQUIRE_V2_TREE ();
  pid_t pid = test_spawn_sleeper (NULL);
  struct hy_cgroup *cg = test_create_v2 ("place", pid, NULL);
  char *want = xasprintf ("%s/%s/place", TEST_V2_MOUNT, test_base ());
  assert_string_equal (hy_cgroup_dir (cg, ""), want);
  assert_int_equal (hy_cgroup_get_mode (cg), HY_CGROUP_V2);
  char *text = hy_cgroup_to_string (cg);
  char *want_text = xasprintf ("v2;:%s", want);
  assert_string_equal (text, want_text);
  char *procs = read_all (want, "cgroup.procs");
  assert_int_equal (atoi (procs), pid);

  /* the parent hands down what the root has */
  if (root_has ("hugetlb"))
    {
      char *parent = xasprintf ("%s/%s", TEST_V2_MOUNT, test_base ());
      char *sub = read_all (parent, "cgroup.subtree_control");
      assert_non_null (strstr (sub, "hugetlb"));
      assert_non_null (hy_cgroup_dir (cg, "hugetlb"));
      free (sub);
      free (parent);
    }
  test_destroy (cg);
  assert_int_equal (access (want, F_OK), -1);
  assert_true (WIFSIGNALED (test_reap ()));
  free (procs);
  free (text);
  free (want_text);
  free (want);
}

/* v2 mode starts relative paths at the parent of our cgroup. */
static void
test_relative_path (void **state)
{
  (void) state;
  REQUIRE_V2_TREE ();
  struct hy_cgroup_layout *l = test_v2_layout ();
  free (l->mounts[0].own);
  l->mounts[0].own = xasprintf ("/%s/me", test_base ());
  char *rel = xasprintf ("%s/rel", test_base ());
  struct hy_cgroup *cg = NULL;
  hy_error_t err = NULL;
  assert_int_equal (hy_cgroup_create_in (l, rel, "x", 0, NULL, &cg, &err), 0);
  char *want = xasprintf ("%s/%s/%s", TEST_V2_MOUNT, test_base (), rel);
  assert_string_equal (hy_cgroup_dir (cg, "unified"), want);
  assert_int_equal (access (want, F_OK), 0);
  test_destroy (cg);
  hy_cgroup_layout_free (l);
  free (rel);
  free (want);
}

/* ---- resources on the real tree ---- */

static void
test_hugetlb (void **state)
{
  (void) state;
  REQUIRE_V2_TREE ();
  if (!root_has ("hugetlb"))
    skip ();
  struct oci_hugepage_limit h = { .page_size = "2MB", .limit = 4194304 };
  struct oci_resources res = { .hugepage_limits = &h, .n_hugepage_limits = 1 };
  struct hy_cgroup *cg = test_create_v2 ("hugetlb", 0, &res);
  assert_line (hy_cgroup_dir (cg, "hugetlb"), "hugetlb.2MB.max", "4194304");
  h.page_size = "3MB";
  hy_error_t err = NULL;
  assert_int_equal (hy_cgroup_apply_resources (cg, &res, &err), -1);
  assert_non_null (strstr (err->msg, "hugetlb.3MB.max` \"4194304\""));
  hy_error_release (&err);
  test_destroy (cg);
}

static void
test_unified (void **state)
{
  (void) state;
  REQUIRE_V2_TREE ();
  struct oci_resources res = { .has_unified = true };
  oci_strmap_set (&res.unified, "cgroup.max.descendants", "3");
  oci_strmap_set (&res.unified, "cgroup.max.depth", "2");
  struct hy_cgroup *cg = test_create_v2 ("unified", 0, &res);
  const char *dir = hy_cgroup_dir (cg, "");
  assert_line (dir, "cgroup.max.descendants", "3");
  assert_line (dir, "cgroup.max.depth", "2");
  oci_strmap_free (&res.unified);

  hy_error_t err = NULL;
  oci_strmap_set (&res.unified, "../cgroup.max.depth", "1");
  assert_int_equal (hy_cgroup_apply_resources (cg, &res, &err), -1);
  assert_non_null (strstr (err->msg, "linux.resources.unified: invalid "
                                     "file name \"../cgroup.max.depth\""));
  hy_error_release (&err);
  oci_strmap_free (&res.unified);
  oci_strmap_set (&res.unified, "nosuch.file", "1");
  assert_int_equal (hy_cgroup_apply_resources (cg, &res, &err), -1);
  assert_non_null (strstr (err->msg, "linux.resources.unified: write `"));
  assert_non_null (strstr (err->msg, "/nosuch.file` \"1\""));
  hy_error_release (&err);
  oci_strmap_free (&res.unified);
  test_destroy (cg);
}

/* Controllers this tree lacks are refused by name, not skipped. */
static void
test_missing_controllers (void **state)
{
  (void) state;
  REQUIRE_V2_TREE ();
  struct hy_cgroup *cg = test_create_v2 ("missing", 0, NULL);
  hy_error_t err = NULL;
  if (!root_has ("pids"))
    {
      struct oci_resources res = { .pids_limit = 10, .has_pids = true };
      assert_int_equal (hy_cgroup_apply_resources (cg, &res, &err), -1);
      assert_string_equal (err->msg, "linux.resources.pids: the pids "
                                     "controller is not available");
      hy_error_release (&err);
    }
  if (!root_has ("memory"))
    {
      int fd;
      assert_int_equal (hy_cgroup_oom_watch (cg, &fd, &err), -1);
      assert_non_null (strstr (err->msg, "memory controller"));
      hy_error_release (&err);
    }
  struct oci_network net = { .class_id = 1, .has_class_id = true };
  struct oci_resources res = { .network = &net };
  assert_int_equal (hy_cgroup_apply_resources (cg, &res, &err), -1);
  assert_non_null (strstr (err->msg, "linux.resources.network.classID"));
  hy_error_release (&err);
  test_destroy (cg);
}

/* ---- processes ---- */

static void
test_freeze_kill_stats (void **state)
{
  (void) state;
  REQUIRE_V2_TREE ();
  volatile uint64_t *counter
      = mmap (NULL, sizeof (uint64_t), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  assert_true (counter != MAP_FAILED);
  pid_t pid = test_spawn_sleeper (counter);
  struct hy_cgroup *cg = test_create_v2 ("freeze", pid, NULL);
  const char *dir = hy_cgroup_dir (cg, "");
  hy_error_t err = NULL;
  bool frozen = true;

  assert_int_equal (hy_cgroup_freeze (cg, true, &err), 0);
  assert_int_equal (hy_cgroup_is_frozen (cg, &frozen, &err), 0);
  assert_true (frozen);
  char *events = read_all (dir, "cgroup.events");
  assert_non_null (strstr (events, "frozen 1"));
  free (events);
  uint64_t before = *counter;
  usleep (100000);
  assert_int_equal (*counter, before);
  assert_int_equal (hy_cgroup_freeze (cg, false, &err), 0);
  assert_int_equal (hy_cgroup_is_frozen (cg, &frozen, &err), 0);
  assert_false (frozen);
  for (int i = 0; i < 200 && *counter == before; i++)
    usleep (5000);
  assert_true (*counter > before);

  struct hy_cgroup_stats st;
  assert_int_equal (hy_cgroup_stats (cg, &st, &err), 0);
  assert_true (st.cpu_usage_ns > 0); /* the core cpu.stat */

  /* a second process in a sub-cgroup: listed, and killed with the rest */
  char *inner = hy_cg_join (dir, "inner");
  assert_int_equal (mkdir (inner, 0755), 0);
  pid_t second = test_spawn_sleeper (NULL);
  assert_int_equal (hy_cgroup_enter (cg, second, "inner", &err), 0);
  assert_int_equal (hy_cgroup_enter (cg, second, "cpu:inner", &err), -1);
  assert_non_null (strstr (err->msg, "takes no controller names"));
  hy_error_release (&err);
  pid_t *pids = NULL;
  size_t n = 0;
  assert_int_equal (hy_cgroup_pids (cg, &pids, &n, &err), 0);
  assert_int_equal (n, 2);
  free (pids);

  if (hy_cgroup_kill_all (cg, SIGTERM, &err) < 0)
    fail_msg ("%s", hy_error_text (err));
  assert_int_equal (WTERMSIG (test_reap_pid (pid)), SIGTERM);
  assert_int_equal (WTERMSIG (test_reap_pid (second)), SIGTERM);
  assert_int_equal (hy_cgroup_is_frozen (cg, &frozen, &err), 0);
  assert_false (frozen);

  pid = test_spawn_sleeper (NULL);
  assert_int_equal (hy_cgroup_enter (cg, pid, NULL, &err), 0);
  assert_int_equal (hy_cgroup_kill_all (cg, SIGKILL, &err),
                    0); /* cgroup.kill */
  assert_int_equal (WTERMSIG (test_reap ()), SIGKILL);
  test_destroy (cg);
  assert_int_equal (access (inner, F_OK), -1);
  free (inner);
  munmap ((void *) counter, sizeof (uint64_t));
}

/* ---- the v2 writers on plain files ---- */

static char fake[64];

static const char *const fake_files[]
    = { "cpu.weight", "cpu.max",    "cpu.max.burst",   "cpu.idle",
        "memory.max", "memory.low", "memory.swap.max", "io.weight",
        "io.max",     "pids.max",   "cpuset.cpus",     "cpuset.mems",
        "rdma.max",   NULL };

static void
make_fake_dir (void)
{
  strcpy (fake, "/tmp/hyrun-test-v2-XXXXXX");
  assert_non_null (mkdtemp (fake));
  for (size_t i = 0; fake_files[i]; i++)
    {
      char *path = hy_cg_join (fake, fake_files[i]);
      int fd = open (path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
      assert_true (fd >= 0);
      close (fd);
      free (path);
    }
}

static int
remove_fake_dir (void **state)
{
  if (fake[0])
    {
      char *cmd = xasprintf ("rm -rf '%s'", fake);
      if (system (cmd) != 0)
        fprintf (stderr, "cleanup: %s failed\n", cmd);
      free (cmd);
      fake[0] = '\0';
    }
  return test_cleanup (state);
}

static void
apply_v2 (enum hy_cg_group g, const struct oci_resources *res)
{
  hy_error_t err = NULL;
  if (hy_cg_apply_v2[g](fake, res, &err) < 0)
    fail_msg ("%s", hy_error_text (err));
}

static void
test_v2_writers (void **state)
{
  (void) state;
  make_fake_dir ();
  struct oci_cpu cpu = { .shares = 1024,
                         .has_shares = true,
                         .quota = 50000,
                         .has_quota = true,
                         .burst = 1000,
                         .has_burst = true,
                         .idle = 1,
                         .has_idle = true,
                         .cpus = "0-1",
                         .mems = "0" };
  struct oci_memory mem = { .limit = 1 << 30,
                            .has_limit = true,
                            .swap = 3 << 29,
                            .has_swap = true,
                            .reservation = 1 << 29,
                            .has_reservation = true,
                            .swappiness = 10,
                            .has_swappiness = true };
  struct oci_throttle_device wbps
      = { .major = 8, .minor = 0, .rate = 2097152 };
  struct oci_block_io io = { .weight = 500,
                             .has_weight = true,
                             .throttle_write_bps = &wbps,
                             .n_throttle_write_bps = 1 };
  struct oci_rdma rdma
      = { .device = "mlx5_1", .hca_objects = 7, .has_hca_objects = true };
  struct oci_resources res = { .cpu = &cpu,
                               .memory = &mem,
                               .block_io = &io,
                               .pids_limit = -1,
                               .has_pids = true,
                               .rdma = &rdma,
                               .n_rdma = 1 };
  apply_v2 (HY_CG_RES_CPU, &res);
  apply_v2 (HY_CG_RES_CPUSET, &res);
  apply_v2 (HY_CG_RES_MEMORY, &res);
  apply_v2 (HY_CG_RES_BLKIO, &res);
  apply_v2 (HY_CG_RES_PIDS, &res);
  apply_v2 (HY_CG_RES_RDMA, &res);
  assert_line (fake, "cpu.weight", "39");
  assert_line (fake, "cpu.max", "50000 100000");
  assert_line (fake, "cpu.max.burst", "1000");
  assert_line (fake, "cpu.idle", "1");
  assert_line (fake, "cpuset.cpus", "0-1");
  assert_line (fake, "cpuset.mems", "0");
  assert_line (fake, "memory.max", "1073741824");
  assert_line (fake, "memory.swap.max", "536870912"); /* swap - limit */
  assert_line (fake, "memory.low", "536870912");
  assert_line (fake, "io.weight", "4950"); /* 1 + 490 * 9999 / 990 */
  assert_line (fake, "io.max", "8:0 wbps=2097152");
  assert_line (fake, "pids.max", "max");
  assert_line (fake, "rdma.max", "mlx5_1 hca_object=7");
}

static void
test_v2_refusals (void **state)
{
  (void) state;
  make_fake_dir ();
  hy_error_t err = NULL;
  struct oci_cpu rt
      = { .realtime_runtime = 1000, .has_realtime_runtime = true };
  struct oci_resources res = { .cpu = &rt };
  assert_int_equal (hy_cg_apply_v2[HY_CG_RES_CPU](fake, &res, &err), -1);
  assert_non_null (strstr (err->msg, "not supported on cgroup v2"));
  hy_error_release (&err);
  struct oci_memory swap_only = { .swap = 1000, .has_swap = true };
  res = (struct oci_resources){ .memory = &swap_only };
  assert_int_equal (hy_cg_apply_v2[HY_CG_RES_MEMORY](fake, &res, &err), -1);
  assert_non_null (strstr (err->msg, "without a memory limit"));
  hy_error_release (&err);
  /* unlimited memory takes swap with it; the file is there */
  struct oci_memory unlimited = { .limit = -1, .has_limit = true };
  res = (struct oci_resources){ .memory = &unlimited };
  assert_int_equal (hy_cg_apply_v2[HY_CG_RES_MEMORY](fake, &res, &err), 0);
  assert_line (fake, "memory.max", "max");
  assert_line (fake, "memory.swap.max", "max");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_teardown (test_create_and_place, test_cleanup),
    cmocka_unit_test_teardown (test_relative_path, test_cleanup),
    cmocka_unit_test_teardown (test_hugetlb, test_cleanup),
    cmocka_unit_test_teardown (test_unified, test_cleanup),
    cmocka_unit_test_teardown (test_missing_controllers, test_cleanup),
    cmocka_unit_test_teardown (test_freeze_kill_stats, test_cleanup),
    cmocka_unit_test_teardown (test_v2_writers, remove_fake_dir),
    cmocka_unit_test_teardown (test_v2_refusals, remove_fake_dir),
  };
  return cmocka_run_group_tests (tests, NULL, test_cleanup);
}
