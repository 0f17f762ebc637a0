/* The cgroup layer on this host's real cgroups (v1 or hybrid; the v2
 * paths run in test-cgroup-v2.c): creation with a live child, the values
 * in the files, listing, freezing, killing, statistics, OOM events,
 * updates, paths, errors and removal.  Everything lives under
 * hyrun-test-<pid> and is removed by the teardown, failed or not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#define MiB (1024 * 1024)

static bool
host_has_v1 (void)
{
  enum hy_cgroup_mode mode;
  hy_error_t err = NULL;
  if (hy_cgroup_detect (&mode, &err) < 0)
    fail_msg ("%s", hy_error_text (err));
  return mode != HY_CGROUP_V2;
}

#define REQUIRE_V1()                                                          \
  do                                                                          \
    if (!host_has_v1 ())                                                      \
      skip ();                                                                \
  while (0)

/* The first line of <dir>/<file> (caller frees). */
static char *
read_line (const char *dir, const char *file)
{
  char *text = NULL;
  hy_error_t err = NULL;
  if (hy_cg_read (dir, file, &text, &err) < 0)
    fail_msg ("%s", hy_error_text (err));
  text[strcspn (text, "\n")] = '\0';
  return text;
}

static void
assert_file (const struct hy_cgroup *cg, const char *ctrl, const char *file,
             const char *want)
{
  const char *dir = hy_cgroup_dir (cg, ctrl);
  if (dir == NULL)
    fail_msg ("no %s directory", ctrl);
  char *got = read_line (dir, file);
  if (strcmp (got, want) != 0)
    fail_msg ("%s/%s: \"%s\", expected \"%s\"", dir, file, got, want);
  free (got);
}

static bool
procs_has (const char *dir, pid_t pid)
{
  hy_error_t err = NULL;
  pid_t *pids = NULL;
  size_t n = 0;
  if (hy_cg_read_pids (dir, &pids, &n, &err) < 0)
    fail_msg ("%s", hy_error_text (err));
  bool found = false;
  for (size_t i = 0; i < n; i++)
    found |= pids[i] == pid;
  free (pids);
  return found;
}

static struct hy_cgroup *
create_at (const char *path, pid_t pid, const struct oci_resources *res)
{
  struct hy_cgroup *cg = NULL;
  hy_error_t err = NULL;
  if (hy_cgroup_create (path, "unused", pid, res, &cg, &err) < 0)
    fail_msg ("create %s: %s", path, hy_error_text (err));
  return cg;
}

static struct hy_cgroup *
create_named (const char *name, pid_t pid, const struct oci_resources *res)
{
  char *path = test_abs_path (name);
  struct hy_cgroup *cg = create_at (path, pid, res);
  free (path);
  return cg;
}

/* ---- detection ---- */

static void
test_detect (void **state)
{
  (void) state;
  enum hy_cgroup_mode mode;
  hy_error_t err = NULL;
  assert_int_equal (hy_cgroup_detect (&mode, &err), 0);
  bool v2_root = access ("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
  bool unified = access ("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0;
  assert_int_equal (mode, v2_root   ? HY_CGROUP_V2
                          : unified ? HY_CGROUP_HYBRID
                                    : HY_CGROUP_V1);
}

/* ---- creation with every v1 resource this host has ---- */

static struct oci_memory memory = {
  .limit = 64 * MiB,
  .has_limit = true,
  .reservation = 32 * MiB,
  .has_reservation = true,
  .swap = 128 * MiB,
  .has_swap = true,
  .kernel_tcp = 16 * MiB,
  .has_kernel_tcp = true,
  .swappiness = 10,
  .has_swappiness = true,
  .use_hierarchy = true,
  .has_use_hierarchy = true,
};
static struct oci_cpu cpu = {
  .shares = 512,
  .has_shares = true,
  .quota = 50000,
  .has_quota = true,
  .period = 100000,
  .has_period = true,
  .burst = 1000,
  .has_burst = true,
  .cpus = "0",
  .mems = "0",
};
static struct oci_device_rule devices[] = {
  { .allow = false, .access = "rwm" },
  { .allow = true,
    .type = 'c',
    .major = 1,
    .minor = 3,
    .has_major = true,
    .has_minor = true,
    .access = "rwm" },
  { .allow = true,
    .type = 'c',
    .major = 1,
    .minor = 5,
    .has_major = true,
    .has_minor = true,
    .access = "r" },
};
static struct oci_throttle_device vda_read
    = { .major = 254, .minor = 0, .rate = 1048576 };
static struct oci_block_io blkio
    = { .throttle_read_bps = &vda_read, .n_throttle_read_bps = 1 };
static struct oci_hugepage_limit huge_2m = { .page_size = "2MB", .limit = 0 };

static struct oci_resources
full_resources (void)
{
  struct oci_resources res = {
    .devices = devices,
    .n_devices = 3,
    .has_devices = true,
    .memory = &memory,
    .cpu = &cpu,
    .pids_limit = 50,
    .has_pids = true,
  };
  if (access ("/sys/block/vda/dev", F_OK) == 0)
    res.block_io = &blkio;
  return res;
}

static void
check_full_values (const struct hy_cgroup *cg)
{
  assert_file (cg, "memory", "memory.limit_in_bytes", "67108864");
  assert_file (cg, "memory", "memory.soft_limit_in_bytes", "33554432");
  if (hy_cg_exists (hy_cgroup_dir (cg, "memory"),
                    "memory.memsw.limit_in_bytes"))
    assert_file (cg, "memory", "memory.memsw.limit_in_bytes", "134217728");
  assert_file (cg, "memory", "memory.kmem.tcp.limit_in_bytes", "16777216");
  assert_file (cg, "memory", "memory.swappiness", "10");
  assert_file (cg, "pids", "pids.max", "50");
  assert_file (cg, "cpu", "cpu.shares", "512");
  assert_file (cg, "cpu", "cpu.cfs_quota_us", "50000");
  assert_file (cg, "cpu", "cpu.cfs_period_us", "100000");
  assert_file (cg, "cpu", "cpu.cfs_burst_us", "1000");
  assert_file (cg, "cpuset", "cpuset.cpus", "0");
  assert_file (cg, "cpuset", "cpuset.mems", "0");
  char *list = NULL;
  hy_error_t err = NULL;
  assert_int_equal (
      hy_cg_read (hy_cgroup_dir (cg, "devices"), "devices.list", &list, &err),
      0);
  assert_string_equal (list, "c 1:3 rwm\nc 1:5 r\n");
  free (list);
  if (access ("/sys/block/vda/dev", F_OK) == 0)
    assert_file (cg, "blkio", "blkio.throttle.read_bps_device",
                 "254:0 1048576");
}

static void
test_create_applies_and_places (void **state)
{
  (void) state;
  REQUIRE_V1 ();
  pid_t pid = test_spawn_sleeper (NULL);
  struct oci_resources res = full_resources ();
  struct hy_cgroup *cg = create_named ("full", pid, &res);
  check_full_values (cg);
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (!procs_has (cg->dirs[i].path, pid))
      fail_msg ("%d is not in %s", (int) pid, cg->dirs[i].path);
  if (cg->mode == HY_CGROUP_HYBRID)
    assert_non_null (strstr (hy_cgroup_dir (cg, "unified"),
                             "/sys/fs/cgroup/unified/hyrun-test-"));
  pid_t *pids = NULL;
  size_t n = 0;
  hy_error_t err = NULL;
  assert_int_equal (hy_cgroup_pids (cg, &pids, &n, &err), 0);
  assert_int_equal (n, 1);
  assert_int_equal (pids[0], pid);
  free (pids);
  test_destroy (cg);
  assert_true (WIFSIGNALED (test_reap ())); /* destroy killed it */
}

/* hugetlb is not a v1 hierarchy on some hybrid hosts but a controller of
 * their cgroup2 tree: then it is applied there. */
static void
test_hugetlb (void **state)
{
  (void) state;
  REQUIRE_V1 ();
  struct oci_resources res
      = { .hugepage_limits = &huge_2m, .n_hugepage_limits = 1 };
  struct hy_cgroup *cg = NULL;
  hy_error_t err = NULL;
  char *path = test_abs_path ("huge");
  int r = hy_cgroup_create (path, "x", 0, &res, &cg, &err);
  free (path);
  if (r < 0)
    {
      assert_non_null (strstr (err->msg, "linux.resources.hugepageLimits"));
      hy_error_release (&err);
      return;
    }
  const char *dir = hy_cgroup_dir (cg, "hugetlb");
  assert_non_null (dir);
  char *v = read_line (dir, hy_cg_exists (dir, "hugetlb.2MB.max")
                                ? "hugetlb.2MB.max"
                                : "hugetlb.2MB.limit_in_bytes");
  assert_string_equal (v, "0");
  free (v);
  test_destroy (cg);
}

/* A realtime budget needs one in the parent first (docker's
 * --cpu-rt-runtime on the daemon does that for its parent). */
static void
test_realtime (void **state)
{
  (void) state;
  REQUIRE_V1 ();
  char *parent = xasprintf ("/sys/fs/cgroup/cpu/%s", test_base ());
  if (access ("/sys/fs/cgroup/cpu/cpu.rt_runtime_us", F_OK) < 0)
    skip ();
  mkdir (parent, 0755);
  assert_int_equal (hy_cg_write (parent, "cpu.rt_runtime_us", "20000", NULL),
                    0);
  struct oci_cpu rt = { .realtime_period = 500000,
                        .has_realtime_period = true,
                        .realtime_runtime = 10000,
                        .has_realtime_runtime = true };
  struct oci_resources res = { .cpu = &rt };
  struct hy_cgroup *cg = create_named ("rt", 0, &res);
  assert_file (cg, "cpu", "cpu.rt_period_us", "500000");
  assert_file (cg, "cpu", "cpu.rt_runtime_us", "10000");
  test_destroy (cg);
  free (parent);
}

/* ---- the state string ---- */

static void
test_string_round_trip (void **state)
{
  (void) state;
  REQUIRE_V1 ();
  struct hy_cgroup *cg = create_named ("string", 0, NULL);
  char *text = hy_cgroup_to_string (cg);
  struct hy_cgroup *back = NULL;
  hy_error_t err = NULL;
  assert_int_equal (hy_cgroup_load (text, &back, &err), 0);
  assert_int_equal (back->n_dirs, cg->n_dirs);
  for (size_t i = 0; i < cg->n_dirs; i++)
    {
      assert_string_equal (back->dirs[i].path, cg->dirs[i].path);
      assert_int_equal (back->dirs[i].ctrls, cg->dirs[i].ctrls);
    }
  free (text);
  hy_cgroup_free (cg);
  test_destroy (back);
}

/* ---- freezer ---- */

static char
proc_state (pid_t pid)
{
  char path[64], buf[512];
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  FILE *f = fopen (path, "r");
  assert_non_null (f);
  size_t n = fread (buf, 1, sizeof buf - 1, f);
  fclose (f);
  buf[n] = '\0';
  char *paren = strrchr (buf, ')');
  assert_non_null (paren);
  return paren[2];
}

static void
test_freeze_thaw (void **state)
{
  (void) state;
  REQUIRE_V1 ();
  volatile uint64_t *counter
      = mmap (NULL, sizeof (uint64_t), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  assert_true (counter != MAP_FAILED);
  pid_t pid = test_spawn_sleeper (counter);
  struct hy_cgroup *cg = create_named ("freeze", pid, NULL);
  hy_error_t err = NULL;
  bool frozen = true;
  assert_int_equal (hy_cgroup_is_frozen (cg, &frozen, &err), 0);
  assert_false (frozen);

  assert_int_equal (hy_cgroup_freeze (cg, true, &err), 0);
  assert_int_equal (hy_cgroup_is_frozen (cg, &frozen, &err), 0);
  assert_true (frozen);
  if (cg->mode != HY_CGROUP_V2)
    assert_file (cg, "freezer", "freezer.state", "FROZEN");
  /* the v1 freezer parks tasks uninterruptibly ('T' on old kernels) */
  char st = proc_state (pid);
  if (st != 'D' && st != 'T')
    fail_msg ("frozen child %d is in state %c", (int) pid, st);
  uint64_t before = *counter;
  usleep (100000);
  assert_int_equal (*counter, before);

  assert_int_equal (hy_cgroup_freeze (cg, false, &err), 0);
  assert_int_equal (hy_cgroup_is_frozen (cg, &frozen, &err), 0);
  assert_false (frozen);
  for (int i = 0; i < 200 && *counter == before; i++)
    usleep (5000);
  assert_true (*counter > before);

  /* deleting a paused container: destroy kills through the freezer */
  assert_int_equal (hy_cgroup_freeze (cg, true, &err), 0);
  test_destroy (cg);
  assert_int_equal (WTERMSIG (test_reap ()), SIGKILL);
  munmap ((void *) counter, sizeof (uint64_t));
}

/* A cgroup someone left frozen is refused before anything is made. */
static void
test_refuses_frozen (void **state)
{
  (void) state;
  REQUIRE_V1 ();
  char *parent = xasprintf ("/sys/fs/cgroup/freezer/%s", test_base ());
  char *frozen = xasprintf ("%s/frozen", parent);
  assert_int_equal (mkdir (parent, 0755), 0);
  assert_int_equal (mkdir (frozen, 0755), 0);
  hy_error_t err = NULL;
  assert_int_equal (hy_cg_write (frozen, "freezer.state", "FROZEN", &err), 0);
  char *path = test_abs_path ("frozen");
  struct hy_cgroup *cg = NULL;
  assert_int_equal (hy_cgroup_create (path, "x", 0, NULL, &cg, &err), -1);
  assert_non_null (strstr (err->msg, "container's cgroup unexpectedly frozen"));
  assert_non_null (strstr (err->msg, frozen));
  hy_error_release (&err);
  /* untouched: still there, still frozen, and no other hierarchy has it */
  char *state_text = read_line (frozen, "freezer.state");
  assert_string_equal (state_text, "FROZEN");
  char *memory_dir = xasprintf ("/sys/fs/cgroup/memory%s", path);
  assert_int_equal (access (memory_dir, F_OK), -1);
  /* thawed, it is taken */
  assert_int_equal (hy_cg_write (frozen, "freezer.state", "THAWED", &err), 0);
  cg = create_at (path, 0, NULL);
  test_destroy (cg);
  free (memory_dir);
  free (state_text);
  free (path);
  free (frozen);
  free (parent);
}

/* ---- signals ---- */

static void
test_kill_all (void **state)
{
  (void) state;
  REQUIRE_V1 ();
  pid_t pid = test_spawn_sleeper (NULL);
  struct hy_cgroup *cg = create_named ("kill", pid, NULL);
  hy_error_t err = NULL;
  assert_int_equal (hy_cgroup_kill_all (cg, SIGTERM, &err), 0);
  int status = test_reap ();
  assert_true (WIFSIGNALED (status));
  assert_int_equal (WTERMSIG (status), SIGTERM);
  /* the freezer was thawed again */
  bool frozen = true;
  assert_int_equal (hy_cgroup_is_frozen (cg, &frozen, &err), 0);
  assert_false (frozen);

  pid = test_spawn_sleeper (NULL);
  assert_int_equal (hy_cgroup_enter (cg, pid, NULL, &err), 0);
  assert_int_equal (hy_cgroup_kill_all (cg, SIGKILL, &err), 0);
  status = test_reap ();
  assert_int_equal (WTERMSIG (status), SIGKILL);
  test_destroy (cg);
}

/* ---- statistics ---- */

/* A child that touches 8 MiB once it is in its cgroup (told by a pipe),
 * so that the memory controller charges it there. */
static pid_t
spawn_toucher (int *go_fd, size_t touch)
{
  int go[2];
  assert_int_equal (pipe (go), 0);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      char c;
      close (go[1]);
      if (read (go[0], &c, 1) != 1)
        _exit (1);
      char *p = mmap (NULL, touch, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED)
        _exit (2);
      for (size_t i = 0; i < touch; i += 4096)
        p[i] = 1;
      for (;;)
        pause ();
    }
  close (go[0]);
  test_track_child (pid);
  *go_fd = go[1];
  return pid;
}

static void
test_stats (void **state)
{
  (void) state;
  REQUIRE_V1 ();
  int go;
  pid_t pid = spawn_toucher (&go, 8 * MiB);
  struct oci_resources res
      = { .memory = &memory, .pids_limit = 50, .has_pids = true };
  struct hy_cgroup *cg = create_named ("stats", pid, &res);
  assert_int_equal (write (go, "x", 1), 1);
  close (go);
  struct hy_cgroup_stats st;
  hy_error_t err = NULL;
  for (int i = 0; i < 200; i++)
    {
      if (hy_cgroup_stats (cg, &st, &err) < 0)
        fail_msg ("%s", hy_error_text (err));
      if (st.memory_usage >= 8 * MiB && st.cpu_usage_ns > 0)
        break;
      usleep (10000);
    }
  assert_true (st.memory_usage >= 8 * MiB);
  assert_true (st.memory_max_usage >= st.memory_usage);
  assert_int_equal (st.memory_limit, 64 * MiB);
  assert_true (st.cpu_usage_ns > 0);
  assert_int_equal (st.pids_current, 1);
  assert_int_equal (st.pids_limit, 50);
  assert_int_equal (st.oom_kills, 0);
  test_destroy (cg);
  test_reap ();
}

/* ---- OOM ---- */

static void
test_oom_events (void **state)
{
  (void) state;
  REQUIRE_V1 ();
  int go;
  pid_t pid = spawn_toucher (&go, 256 * MiB);
  struct oci_memory small = {
    .limit = 16 * MiB, .has_limit = true, .swap = 16 * MiB, .has_swap = true
  };
  struct oci_resources res = { .memory = &small };
  struct hy_cgroup *cg = create_named ("oom", pid, &res);
  int fd = -1;
  uint64_t count = 99;
  hy_error_t err = NULL;
  if (hy_cgroup_oom_watch (cg, &fd, &err) < 0)
    fail_msg ("%s", hy_error_text (err));
  assert_int_equal (hy_cgroup_oom_count (cg, &count, &err), 0);
  assert_int_equal (count, 0);
  struct pollfd p = { .fd = fd, .events = POLLIN };
  assert_int_equal (poll (&p, 1, 0), 0); /* nothing yet */

  assert_int_equal (write (go, "x", 1), 1);
  close (go);
  assert_int_equal (poll (&p, 1, 10000), 1);
  int status = test_reap ();
  assert_true (WIFSIGNALED (status));
  assert_int_equal (WTERMSIG (status), SIGKILL);
  assert_int_equal (hy_cgroup_oom_count (cg, &count, &err), 0);
  assert_true (count >= 1);
  assert_int_equal (hy_cgroup_oom_ack (fd, &err), 0);
  assert_int_equal (poll (&p, 1, 0), 0);
  struct hy_cgroup_stats st;
  assert_int_equal (hy_cgroup_stats (cg, &st, &err), 0);
  assert_true (st.oom_kills >= 1);
  close (fd);
  test_destroy (cg);
}

/* ---- update ---- */

static void
test_update (void **state)
{
  (void) state;
  REQUIRE_V1 ();
  pid_t pid = test_spawn_sleeper (NULL);
  struct oci_resources res = full_resources ();
  struct hy_cgroup *cg = create_named ("update", pid, &res);
  /* raising memory above the old memory+swap needs memsw written first */
  struct oci_memory more = {
    .limit = 256 * MiB, .has_limit = true, .swap = 512 * MiB, .has_swap = true
  };
  struct oci_cpu unlimited = { .quota = -1,
                               .has_quota = true,
                               .period = 50000,
                               .has_period = true,
                               .cpus = "0" };
  struct oci_resources update = {
    .memory = &more, .cpu = &unlimited, .pids_limit = 0, .has_pids = true
  };
  hy_error_t err = NULL;
  if (hy_cgroup_apply_resources (cg, &update, &err) < 0)
    fail_msg ("%s", hy_error_text (err));
  assert_file (cg, "memory", "memory.limit_in_bytes", "268435456");
  if (hy_cg_exists (hy_cgroup_dir (cg, "memory"),
                    "memory.memsw.limit_in_bytes"))
    assert_file (cg, "memory", "memory.memsw.limit_in_bytes", "536870912");
  assert_file (cg, "cpu", "cpu.cfs_quota_us", "-1");
  assert_file (cg, "cpu", "cpu.cfs_period_us", "50000");
  assert_file (cg, "pids", "pids.max", "max");
  assert_file (cg, "cpu", "cpu.shares", "512"); /* untouched */

  struct oci_cpu idle = { .idle = 1, .has_idle = true };
  struct oci_resources idle_res = { .cpu = &idle };
  if (hy_cg_exists (hy_cgroup_dir (cg, "cpu"), "cpu.idle"))
    {
      assert_int_equal (hy_cgroup_apply_resources (cg, &idle_res, &err), 0);
      assert_file (cg, "cpu", "cpu.idle", "1");
    }
  test_destroy (cg);
  test_reap ();
}

/* ---- paths ---- */

/* Our cgroup in the hierarchy holding `ctrl` ("" for cgroup2), from
 * /proc/self/cgroup read here. */
static char *
own_cgroup (const char *ctrl)
{
  FILE *f = fopen ("/proc/self/cgroup", "r");
  char line[1024];
  char *found = NULL;
  while (found == NULL && fgets (line, sizeof line, f))
    {
      line[strcspn (line, "\n")] = '\0';
      char *list = strchr (line, ':') + 1;
      char *path = strchr (list, ':');
      *path++ = '\0';
      char *tok, *save = NULL;
      if (*ctrl == '\0' && *list == '\0')
        found = xstrdup (path);
      for (tok = strtok_r (list, ",", &save); tok && *ctrl;
           tok = strtok_r (NULL, ",", &save))
        if (strcmp (tok, ctrl) == 0)
          found = xstrdup (path);
    }
  fclose (f);
  assert_non_null (found);
  return found;
}

static void
assert_relative_dir (const struct hy_cgroup *cg, const char *ctrl,
                     const char *mount, const char *rel)
{
  char *own = own_cgroup (ctrl);
  char *want = xasprintf ("%s%s/%s", mount, strcmp (own, "/") ? own : "", rel);
  assert_string_equal (hy_cgroup_dir (cg, *ctrl ? ctrl : "unified"), want);
  struct stat st;
  assert_int_equal (stat (want, &st), 0);
  free (own);
  free (want);
}

/* runc: relative paths start at our own cgroup in each hierarchy (the
 * memory one of this process may be deep below the others). */
static void
test_relative_and_absolute (void **state)
{
  (void) state;
  REQUIRE_V1 ();
  char *rel = xasprintf ("%s/rel", test_base ());
  char *dotted = xasprintf ("../../%s/./rel", test_base ());
  struct hy_cgroup *cg = create_at (dotted, 0, NULL);
  assert_relative_dir (cg, "memory", "/sys/fs/cgroup/memory", rel);
  assert_relative_dir (cg, "pids", "/sys/fs/cgroup/pids", rel);
  if (cg->mode == HY_CGROUP_HYBRID)
    assert_relative_dir (cg, "", "/sys/fs/cgroup/unified", rel);
  test_destroy (cg);

  char *abs = xasprintf ("/%s/abs", test_base ());
  cg = create_at (abs, 0, NULL);
  char *want = xasprintf ("/sys/fs/cgroup/memory%s", abs);
  assert_string_equal (hy_cgroup_dir (cg, "memory"), want);
  test_destroy (cg);
  free (want);
  free (abs);
  free (rel);
  free (dotted);
}

static void
test_default_path (void **state)
{
  (void) state;
  REQUIRE_V1 ();
  char *id = xasprintf ("%s-default", test_base ());
  struct hy_cgroup *cg = NULL;
  hy_error_t err = NULL;
  assert_int_equal (hy_cgroup_create (NULL, id, 0, NULL, &cg, &err), 0);
  char *want = xasprintf ("/sys/fs/cgroup/pids/hyrun/%s", id);
  assert_string_equal (hy_cgroup_dir (cg, "pids"), want);
  test_destroy (cg);
  assert_int_equal (access (want, F_OK), -1);
  free (want);
  assert_int_equal (hy_cgroup_create (NULL, "a/b", 0, NULL, &cg, &err), -1);
  assert_non_null (strstr (err->msg, "invalid container id"));
  hy_error_release (&err);
  assert_int_equal (hy_cgroup_create ("a/../..", "x", 0, NULL, &cg, &err), -1);
  assert_non_null (strstr (err->msg, "linux.cgroupsPath"));
  hy_error_release (&err);
  free (id);
}

/* ---- errors ---- */

static void
expect_create_error (const char *name, const struct oci_resources *res,
                     const char *needle, const char *needle2)
{
  char *path = test_abs_path (name);
  struct hy_cgroup *cg = NULL;
  hy_error_t err = NULL;
  assert_int_equal (hy_cgroup_create (path, "x", 0, res, &cg, &err), -1);
  char *text = hy_error_text (err);
  if (strstr (text, needle) == NULL
      || (needle2 && strstr (text, needle2) == NULL))
    fail_msg ("error \"%s\" lacks \"%s\" or \"%s\"", text, needle, needle2);
  free (text);
  hy_error_release (&err);
  /* the failed creation left nothing behind */
  char *dir = xasprintf ("/sys/fs/cgroup/pids%s", path);
  assert_int_equal (access (dir, F_OK), -1);
  free (dir);
  free (path);
}

static void
test_bad_values (void **state)
{
  (void) state;
  REQUIRE_V1 ();
  struct oci_cpu bad_cpus = { .cpus = "999-1000" };
  struct oci_resources res = { .cpu = &bad_cpus };
  expect_create_error ("bad-cpus", &res, "cpuset.cpus` \"999-1000\": ", NULL);
  /* no realtime budget in the parent to take from */
  struct oci_cpu rt
      = { .realtime_runtime = 10000, .has_realtime_runtime = true };
  res = (struct oci_resources){ .cpu = &rt };
  expect_create_error ("bad-rt", &res,
                       "cpu.rt_runtime_us` \"10000\": Invalid argument", NULL);
  struct oci_cpu bad_shares = { .shares = 1u << 20, .has_shares = true };
  res = (struct oci_resources){ .cpu = &bad_shares };
  expect_create_error ("bad-shares", &res, "cpu.shares", "range 2-262144");
  oci_strmap unified = { 0 };
  oci_strmap_set (&unified, "memory.high", "1000000");
  res = (struct oci_resources){ .unified = unified, .has_unified = true };
  expect_create_error ("bad-unified", &res, "linux.resources.unified",
                       "needs cgroup v2");
  oci_strmap_free (&unified);
  struct oci_network net = { .class_id = 0x100001, .has_class_id = true };
  res = (struct oci_resources){ .network = &net };
  char *dir = test_abs_path ("net");
  struct hy_cgroup *cg = NULL;
  hy_error_t err = NULL;
  if (hy_cgroup_create (dir, "x", 0, &res, &cg, &err) == 0)
    {
      assert_file (cg, "net_cls", "net_cls.classid", "1048577");
      test_destroy (cg);
    }
  else
    {
      assert_non_null (strstr (err->msg, "linux.resources.network.classID: "
                                         "the net_cls controller is not "
                                         "available"));
      hy_error_release (&err);
    }
  free (dir);
}

/* Lowering the limit below what the child uses: EBUSY from the kernel,
 * reported with the file and the value. */
static void
test_update_error_names_file (void **state)
{
  (void) state;
  REQUIRE_V1 ();
  int go;
  pid_t pid = spawn_toucher (&go, 4 * MiB);
  struct hy_cgroup *cg = create_named ("busy", pid, NULL);
  assert_int_equal (write (go, "x", 1), 1);
  close (go);
  struct hy_cgroup_stats st = { 0 };
  hy_error_t err = NULL;
  for (int i = 0; i < 200 && st.memory_usage < 4 * MiB; i++)
    {
      assert_int_equal (hy_cgroup_stats (cg, &st, &err), 0);
      usleep (10000);
    }
  struct oci_memory tiny = { .limit = 1, .has_limit = true };
  struct oci_resources res = { .memory = &tiny };
  assert_int_equal (hy_cgroup_apply_resources (cg, &res, &err), -1);
  char *text = hy_error_text (err);
  char *want = xasprintf ("write `%s/memory.limit_in_bytes` \"1\": Device "
                          "or resource busy",
                          hy_cgroup_dir (cg, "memory"));
  assert_string_equal (text, want);
  free (want);
  free (text);
  hy_error_release (&err);

  tiny.check_before_update = true;
  tiny.limit = 2 * MiB;
  assert_int_equal (hy_cgroup_apply_resources (cg, &res, &err), -1);
  assert_non_null (strstr (err->msg, "at or below the usage"));
  hy_error_release (&err);
  test_destroy (cg);
  test_reap ();
}

/* ---- exec --cgroup ---- */

static void
make_sub (const struct hy_cgroup *cg, const char *sub)
{
  for (size_t i = 0; i < cg->n_dirs; i++)
    {
      char *dir = hy_cg_join (cg->dirs[i].path, sub);
      assert_int_equal (mkdir (dir, 0755), 0);
      if (cg->dirs[i].ctrls & HY_CG_CPUSET)
        {
          assert_int_equal (hy_cg_write (dir, "cpuset.cpus", "0", NULL), 0);
          assert_int_equal (hy_cg_write (dir, "cpuset.mems", "0", NULL), 0);
        }
      free (dir);
    }
}

static void
test_enter_sub_cgroup (void **state)
{
  (void) state;
  REQUIRE_V1 ();
  pid_t first = test_spawn_sleeper (NULL);
  struct hy_cgroup *cg = create_named ("sub", first, NULL);
  make_sub (cg, "inner");
  pid_t second = test_spawn_sleeper (NULL);
  hy_error_t err = NULL;
  assert_int_equal (hy_cgroup_enter (cg, second, "cpu:inner", &err), 0);
  char *cpu_inner = hy_cg_join (hy_cgroup_dir (cg, "cpu"), "inner");
  assert_true (procs_has (cpu_inner, second));
  char *mem_inner = hy_cg_join (hy_cgroup_dir (cg, "memory"), "inner");
  assert_false (procs_has (mem_inner, second));

  assert_int_equal (hy_cgroup_enter (cg, second, "/inner", &err), 0);
  assert_true (procs_has (mem_inner, second));
  pid_t *pids = NULL;
  size_t n = 0;
  assert_int_equal (hy_cgroup_pids (cg, &pids, &n, &err), 0);
  assert_int_equal (n, 2); /* listing descends into inner */
  free (pids);

  assert_int_equal (hy_cgroup_enter (cg, second, "missing", &err), -1);
  assert_non_null (strstr (err->msg, "missing/cgroup.procs: no such file"));
  hy_error_release (&err);
  assert_int_equal (hy_cgroup_enter (cg, second, "cpu:missing", &err), -1);
  assert_non_null (strstr (err->msg, "sub-cgroup \"missing\" does not exist"));
  hy_error_release (&err);
  assert_int_equal (hy_cgroup_enter (cg, second, "bogus:inner", &err), -1);
  assert_non_null (strstr (err->msg, "unknown controller \"bogus\""));
  hy_error_release (&err);
  assert_int_equal (hy_cgroup_enter (cg, second, "cpu,bogus:inner", &err), -1);
  assert_non_null (strstr (err->msg, "unknown controller \"bogus\""));
  hy_error_release (&err);
  assert_int_equal (hy_cgroup_enter (cg, second, "inner/../..", &err), -1);
  assert_non_null (strstr (err->msg, "inner/../.. is not a sub cgroup path"));
  hy_error_release (&err);
  /* "/" is the container's cgroup itself */
  assert_int_equal (hy_cgroup_enter (cg, second, "/", &err), 0);
  assert_false (procs_has (mem_inner, second));
  assert_true (procs_has (hy_cgroup_dir (cg, "memory"), second));

  /* destroy kills both and removes inner too */
  test_destroy (cg);
  assert_int_equal (WTERMSIG (test_reap_pid (second)), SIGKILL);
  assert_int_equal (access (cpu_inner, F_OK), -1);
  free (cpu_inner);
  free (mem_inner);
  assert_int_equal (WTERMSIG (test_reap_pid (first)), SIGKILL);
}

static void
check_sub_path (const char *in, const char *want)
{
  char *got = hy_cg_sub_path (in);
  if (want == NULL && got != NULL)
    fail_msg ("\"%s\" -> \"%s\", expected none", in, got);
  if (want != NULL && (got == NULL || strcmp (got, want) != 0))
    fail_msg ("\"%s\" -> \"%s\", expected \"%s\"", in, got ? got : "(none)",
              want);
  free (got);
}

static void
test_sub_path (void **state)
{
  (void) state;
  check_sub_path ("", "");
  check_sub_path ("/", "");
  check_sub_path ("a", "a");
  check_sub_path ("/a//b/./", "a/b");
  check_sub_path ("a/..", "");
  check_sub_path ("a/b/../c", "a/c");
  check_sub_path ("..", NULL);
  check_sub_path ("/..", NULL);
  check_sub_path ("a/../..", NULL);
  check_sub_path ("a/../../a", NULL);
}

/* ---- removal ---- */

static void
test_destroy_removes_everything (void **state)
{
  (void) state;
  REQUIRE_V1 ();
  pid_t pid = test_spawn_sleeper (NULL);
  struct oci_resources res = full_resources ();
  struct hy_cgroup *cg = create_named ("destroy", pid, &res);
  make_sub (cg, "nested");
  char **dirs = xmalloc0 ((cg->n_dirs + 1) * sizeof (char *));
  for (size_t i = 0; i < cg->n_dirs; i++)
    dirs[i] = xstrdup (cg->dirs[i].path);
  hy_error_t err = NULL;
  assert_int_equal (hy_cgroup_destroy (cg, &err), 0);
  assert_int_equal (WTERMSIG (test_reap ()), SIGKILL);
  for (size_t i = 0; dirs[i]; i++)
    if (access (dirs[i], F_OK) == 0)
      fail_msg ("%s is still there", dirs[i]);
  /* again: directories already gone are fine */
  assert_int_equal (hy_cgroup_destroy (cg, &err), 0);
  hy_cgroup_free (cg);
  strv_free (dirs);
}

/* ---- teardown ---- */

/* Also the /hyrun parent test_default_path may have made, when empty. */
static int
cleanup_all (void **state)
{
  test_cleanup (state);
  const char *mounts[]
      = { "cpu",     "cpuacct", "cpuset", "memory",  "devices",
          "freezer", "blkio",   "pids",   "systemd", "unified" };
  for (size_t i = 0; i < sizeof mounts / sizeof mounts[0]; i++)
    {
      char *dir = xasprintf ("/sys/fs/cgroup/%s/hyrun", mounts[i]);
      char *mine = xasprintf ("%s/%s-default", dir, test_base ());
      test_rmdir_quiet (mine);
      rmdir (dir);
      free (mine);
      free (dir);
    }
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_detect),
    cmocka_unit_test_teardown (test_create_applies_and_places, cleanup_all),
    cmocka_unit_test_teardown (test_hugetlb, cleanup_all),
    cmocka_unit_test_teardown (test_realtime, cleanup_all),
    cmocka_unit_test_teardown (test_string_round_trip, cleanup_all),
    cmocka_unit_test_teardown (test_freeze_thaw, cleanup_all),
    cmocka_unit_test_teardown (test_refuses_frozen, cleanup_all),
    cmocka_unit_test_teardown (test_kill_all, cleanup_all),
    cmocka_unit_test_teardown (test_stats, cleanup_all),
    cmocka_unit_test_teardown (test_oom_events, cleanup_all),
    cmocka_unit_test_teardown (test_update, cleanup_all),
    cmocka_unit_test_teardown (test_relative_and_absolute, cleanup_all),
    cmocka_unit_test_teardown (test_default_path, cleanup_all),
    cmocka_unit_test_teardown (test_bad_values, cleanup_all),
    cmocka_unit_test_teardown (test_update_error_names_file, cleanup_all),
    cmocka_unit_test_teardown (test_enter_sub_cgroup, cleanup_all),
    cmocka_unit_test (test_sub_path),
    cmocka_unit_test_teardown (test_destroy_removes_everything, cleanup_all),
  };
  return cmocka_run_group_tests (tests, NULL, cleanup_all);
}
