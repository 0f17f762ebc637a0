/* Per-process settings applied before exec: rlimits, oomScoreAdj,
 * noNewPrivileges, scheduler, ioPriority, personality, execCPUAffinity
 * and user, each in a forked child. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "fork-check.h"
#include "runtime/linux/capabilities.h"
#include "runtime/linux/process-attrs.h"
#include "runtime/linux/rlimits.h"
#include "runtime/linux/sched.h"
#include "runtime/linux/seccomp.h"
#include "runtime/linux/user.h"
#include "runtime/linux/warn.h"

#define NAMES(...) ((char *[]){ __VA_ARGS__, NULL })

/* Lose CAP_SYS_RESOURCE, so that raising limits fails whatever the
 * environment grants. */
static void
drop_sys_resource (void)
{
  cap_t cur = cap_get_proc ();
  cap_value_t v = CAP_SYS_RESOURCE;
  CHILD_CHECK (cap_set_flag (cur, CAP_EFFECTIVE, 1, &v, CAP_CLEAR) == 0);
  CHILD_CHECK (cap_set_proc (cur) == 0);
  cap_free (cur);
}

static char child_warnings[1024];

static void
collect_warning (const char *msg, void *data)
{
  (void) data;
  size_t len = strlen (child_warnings);
  snprintf (child_warnings + len, sizeof (child_warnings) - len, "%s\n", msg);
}

/* ---- rlimits ---- */

static void
rlimits_body (void *arg)
{
  (void) arg;
  struct oci_rlimit limits[] = {
    { .type = "RLIMIT_NOFILE",
      .resource = RLIMIT_NOFILE,
      .soft = 512,
      .hard = 1024 },
    { .type = "RLIMIT_CORE", .resource = RLIMIT_CORE, .soft = 0, .hard = 0 },
    { .type = "RLIMIT_FSIZE",
      .resource = RLIMIT_FSIZE,
      .soft = 1 << 20,
      .hard = 1 << 21 },
  };
  hy_error_t err = NULL;
  CHILD_OK (hy_rlimits_apply (limits, 3, &err), &err);
  struct rlimit r;
  CHILD_CHECK (getrlimit (RLIMIT_NOFILE, &r) == 0);
  CHILD_CHECK_EQ (r.rlim_cur, 512);
  CHILD_CHECK_EQ (r.rlim_max, 1024);
  CHILD_CHECK (getrlimit (RLIMIT_CORE, &r) == 0);
  CHILD_CHECK_EQ (r.rlim_max, 0);
  CHILD_CHECK (getrlimit (RLIMIT_FSIZE, &r) == 0);
  CHILD_CHECK_EQ (r.rlim_cur, 1 << 20);
  CHILD_CHECK_EQ (r.rlim_max, 1 << 21);
}

static void
test_rlimits (void **state)
{
  (void) state;
  assert_child_ok (rlimits_body, NULL);
}

static void
rlimit_raise_hard_body (void *arg)
{
  (void) arg;
  struct oci_rlimit lower = { .type = "RLIMIT_NOFILE",
                              .resource = RLIMIT_NOFILE,
                              .soft = 1024,
                              .hard = 1024 };
  struct oci_rlimit raise = { .type = "RLIMIT_NOFILE",
                              .resource = RLIMIT_NOFILE,
                              .soft = 2048,
                              .hard = 1048576 };
  hy_error_t err = NULL;
  CHILD_OK (hy_rlimits_apply (&lower, 1, &err), &err);
  drop_sys_resource ();
  CHILD_CHECK (hy_rlimits_apply (&raise, 1, &err) < 0);
  char *text = hy_error_text (err);
  if (strcmp (text, "setrlimit RLIMIT_NOFILE (soft 2048, hard 1048576): "
                    "Operation not permitted")
      != 0)
    child_fail ("unexpected error \"%s\"", text);
}

static void
test_rlimit_raising_hard_limit_fails (void **state)
{
  (void) state;
  assert_child_ok (rlimit_raise_hard_body, NULL);
}

static void
test_rlimit_soft_above_hard (void **state)
{
  (void) state;
  struct oci_rlimit bad = { .type = "RLIMIT_STACK",
                            .resource = RLIMIT_STACK,
                            .soft = (uint64_t) RLIM_INFINITY,
                            .hard = 8388608 };
  hy_error_t err = NULL;
  assert_true (hy_rlimits_apply (&bad, 1, &err) < 0);
  char *text = hy_error_text (err);
  assert_string_equal (text, "setrlimit RLIMIT_STACK (soft unlimited, hard "
                             "8388608): Invalid argument");
  free (text);
  hy_error_release (&err);
}

/* ---- oomScoreAdj, noNewPrivileges ---- */

static int
read_oom_score_adj (void)
{
  FILE *f = fopen ("/proc/self/oom_score_adj", "re");
  int v = -10000;
  if (f)
    {
      if (fscanf (f, "%d", &v) != 1)
        v = -10000;
      fclose (f);
    }
  return v;
}

static void
oom_body (void *arg)
{
  (void) arg;
  struct oci_process p = { .oom_score_adj = 500, .has_oom_score_adj = true };
  hy_error_t err = NULL;
  CHILD_OK (hy_oom_score_adj_apply (&p, &err), &err);
  CHILD_CHECK_EQ (read_oom_score_adj (), 500);
  /* Absent: untouched. */
  struct oci_process none = { .oom_score_adj = 100 };
  CHILD_OK (hy_oom_score_adj_apply (&none, &err), &err);
  CHILD_CHECK_EQ (read_oom_score_adj (), 500);
  /* Lowering needs CAP_SYS_RESOURCE. */
  drop_sys_resource ();
  struct oci_process lower
      = { .oom_score_adj = -500, .has_oom_score_adj = true };
  CHILD_FAILS_WITH (hy_oom_score_adj_apply (&lower, &err), &err,
                    "set oom_score_adj to -500 (lowering it needs "
                    "CAP_SYS_RESOURCE): Permission denied");
}

static void
test_oom_score_adj (void **state)
{
  (void) state;
  assert_child_ok (oom_body, NULL);
}

static void
nnp_body (void *arg)
{
  (void) arg;
  hy_error_t err = NULL;
  struct oci_process off = { .no_new_privileges = false };
  CHILD_OK (hy_no_new_privs_apply (&off, &err), &err);
  CHILD_CHECK_EQ (prctl (PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
  struct oci_process on
      = { .no_new_privileges = true, .has_no_new_privileges = true };
  CHILD_OK (hy_no_new_privs_apply (&on, &err), &err);
  CHILD_CHECK_EQ (prctl (PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
}

static void
test_no_new_privileges (void **state)
{
  (void) state;
  assert_child_ok (nnp_body, NULL);
}

/* ---- scheduler ---- */

struct sched_attr_check
{
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

static void
scheduler_body (void *arg)
{
  (void) arg;
  struct oci_scheduler s = { .policy = "SCHED_BATCH",
                             .nice = 5,
                             .has_nice = true,
                             .flags = NAMES ("SCHED_FLAG_RESET_ON_FORK") };
  hy_error_t err = NULL;
  CHILD_OK (hy_scheduler_apply (&s, &err), &err);
  struct sched_attr_check a;
  memset (&a, 0, sizeof (a));
  CHILD_CHECK (syscall (SYS_sched_getattr, 0, &a, sizeof (a), 0) == 0);
  CHILD_CHECK_EQ (a.sched_policy, SCHED_BATCH);
  CHILD_CHECK_EQ (a.sched_nice, 5);
  CHILD_CHECK_EQ (a.sched_flags & 0x01, 0x01);
  CHILD_CHECK_EQ (sched_getscheduler (0), SCHED_BATCH | SCHED_RESET_ON_FORK);
  CHILD_CHECK_EQ (getpriority (PRIO_PROCESS, 0), 5);

  struct oci_scheduler idle = { .policy = "SCHED_IDLE" };
  CHILD_OK (hy_scheduler_apply (&idle, &err), &err);
  CHILD_CHECK_EQ (sched_getscheduler (0), SCHED_IDLE);
}

static void
test_scheduler (void **state)
{
  (void) state;
  assert_child_ok (scheduler_body, NULL);
}

static void
test_scheduler_errors (void **state)
{
  (void) state;
  hy_error_t err = NULL;
  struct oci_scheduler unknown = { .policy = "SCHED_FOO" };
  assert_true (hy_scheduler_apply (&unknown, &err) < 0);
  assert_string_equal (err->msg, "unknown scheduler policy \"SCHED_FOO\"");
  hy_error_release (&err);

  struct oci_scheduler flag
      = { .policy = "SCHED_OTHER", .flags = NAMES ("SCHED_FLAG_FOO") };
  assert_true (hy_scheduler_apply (&flag, &err) < 0);
  assert_string_equal (err->msg, "unknown scheduler flag \"SCHED_FLAG_FOO\"");
  hy_error_release (&err);

  /* The kernel refuses runtime > deadline. */
  struct oci_scheduler dl = { .policy = "SCHED_DEADLINE",
                              .runtime = 2000000,
                              .deadline = 1000000,
                              .period = 1000000,
                              .has_runtime = true,
                              .has_deadline = true,
                              .has_period = true };
  assert_true (hy_scheduler_apply (&dl, &err) < 0);
  char *text = hy_error_text (err);
  assert_string_equal (text, "sched_setattr SCHED_DEADLINE (nice 0, priority "
                             "0, flags 0, runtime 2000000, deadline 1000000, "
                             "period 1000000): Invalid argument");
  free (text);
  hy_error_release (&err);
}

/* ---- I/O priority ---- */

static void
ioprio_body (void *arg)
{
  (void) arg;
  struct
  {
    const char *klass;
    int prio;
    long want;
  } cases[] = {
    { "IOPRIO_CLASS_BE", 4, (2 << 13) | 4 },
    { "IOPRIO_CLASS_RT", 1, (1 << 13) | 1 },
    { "IOPRIO_CLASS_IDLE", 0, 3 << 13 },
  };
  hy_error_t err = NULL;
  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      struct oci_io_priority io
          = { .klass = (char *) cases[i].klass, .priority = cases[i].prio };
      CHILD_OK (hy_io_priority_apply (&io, &err), &err);
      CHILD_CHECK_EQ (syscall (SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0),
                      cases[i].want);
    }
}

static void
test_io_priority (void **state)
{
  (void) state;
  assert_child_ok (ioprio_body, NULL);
}

static void
test_io_priority_errors (void **state)
{
  (void) state;
  hy_error_t err = NULL;
  struct oci_io_priority range = { .klass = "IOPRIO_CLASS_BE", .priority = 8 };
  assert_true (hy_io_priority_apply (&range, &err) < 0);
  assert_string_equal (err->msg, "I/O priority 8 out of range 0-7");
  hy_error_release (&err);
  struct oci_io_priority klass = { .klass = "IOPRIO_CLASS_X", .priority = 0 };
  assert_true (hy_io_priority_apply (&klass, &err) < 0);
  assert_string_equal (err->msg,
                       "unknown I/O priority class \"IOPRIO_CLASS_X\"");
  hy_error_release (&err);
}

/* ---- personality ---- */

static void
personality_body (void *arg)
{
  (void) arg;
  hy_error_t err = NULL;
  struct oci_personality p32 = { .domain = "LINUX32" };
  CHILD_OK (hy_personality_apply (&p32, &err), &err);
  CHILD_CHECK_EQ (personality (0xffffffff), PER_LINUX32);

  hy_linux_set_warn (collect_warning, NULL);
  struct oci_personality p
      = { .domain = "LINUX",
          .flags = NAMES ("ADDR_NO_RANDOMIZE", "HYRUN_FOO") };
  CHILD_OK (hy_personality_apply (&p, &err), &err);
  CHILD_CHECK_EQ (personality (0xffffffff), PER_LINUX | ADDR_NO_RANDOMIZE);
  if (strcmp (child_warnings,
              "ignoring unknown personality flag \"HYRUN_FOO\"\n")
      != 0)
    child_fail ("unexpected warnings \"%s\"", child_warnings);
}

static void
test_personality (void **state)
{
  (void) state;
  assert_child_ok (personality_body, NULL);
}

/* ---- CPU lists and affinity ---- */

static void
test_cpu_list_parse (void **state)
{
  (void) state;
  hy_error_t err = NULL;
  cpu_set_t *set = NULL;
  size_t size = 0;
  assert_int_equal (hy_cpu_list_parse ("0-3,7,9-9", &set, &size, &err), 0);
  assert_int_equal (CPU_COUNT_S (size, set), 6);
  for (int cpu = 0; cpu < 12; cpu++)
    assert_int_equal (CPU_ISSET_S (cpu, size, set) != 0,
                      cpu <= 3 || cpu == 7 || cpu == 9);
  CPU_FREE (set);

  assert_int_equal (hy_cpu_list_parse ("4095", &set, &size, &err), 0);
  assert_true (size * 8 >= 4096);
  assert_int_equal (CPU_COUNT_S (size, set), 1);
  assert_true (CPU_ISSET_S (4095, size, set));
  CPU_FREE (set);

  assert_int_equal (hy_cpu_list_parse ("", &set, &size, &err), 0);
  assert_null (set);
  assert_int_equal (size, 0);
}

static void
test_cpu_list_errors (void **state)
{
  (void) state;
  struct
  {
    const char *list;
    const char *msg;
  } cases[] = {
    { "3-1", "invalid CPU list \"3-1\": range 3-1 is descending" },
    { "1,", "invalid CPU list \"1,\": expected a number at offset 2" },
    { "a", "invalid CPU list \"a\": expected a number at offset 0" },
    { "1 2", "invalid CPU list \"1 2\": unexpected ' ' at offset 1" },
    { "0-", "invalid CPU list \"0-\": expected a number at offset 2" },
    { "99999999", "invalid CPU list \"99999999\": CPU number above 4194304" },
  };
  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      hy_error_t err = NULL;
      cpu_set_t *set = (cpu_set_t *) &err; /* must be reset */
      size_t size = 1;
      assert_true (hy_cpu_list_parse (cases[i].list, &set, &size, &err) < 0);
      assert_null (set);
      assert_string_equal (err->msg, cases[i].msg);
      hy_error_release (&err);
    }
}

static void
affinity_body (void *arg)
{
  (void) arg;
  cpu_set_t cur;
  CHILD_CHECK (sched_getaffinity (0, sizeof (cur), &cur) == 0);
  int first = -1, count = CPU_COUNT (&cur);
  for (int cpu = 0; cpu < CPU_SETSIZE && first < 0; cpu++)
    if (CPU_ISSET (cpu, &cur))
      first = cpu;
  CHILD_CHECK (first >= 0);

  hy_error_t err = NULL;
  char list[16];
  snprintf (list, sizeof (list), "%d", first);
  CHILD_OK (hy_cpu_affinity_apply (list, &err), &err);
  cpu_set_t now;
  CHILD_CHECK (sched_getaffinity (0, sizeof (now), &now) == 0);
  CHILD_CHECK_EQ (CPU_COUNT (&now), 1);
  CHILD_CHECK (CPU_ISSET (first, &now));

  /* "" leaves it alone. */
  CHILD_OK (hy_cpu_affinity_apply ("", &err), &err);
  CHILD_CHECK (sched_getaffinity (0, sizeof (now), &now) == 0);
  CHILD_CHECK_EQ (CPU_COUNT (&now), 1);
  (void) count;

  /* No such CPU. */
  CHILD_FAILS_WITH (hy_cpu_affinity_apply ("4194303", &err), &err,
                    "sched_setaffinity \"4194303\": Invalid argument");
}

static void
test_cpu_affinity (void **state)
{
  (void) state;
  assert_child_ok (affinity_body, NULL);
}

/* ---- user ---- */

static void
user_body (void *arg)
{
  (void) arg;
  uint32_t gids[] = { 10, 20 };
  struct oci_user u = { .uid = 1000,
                        .gid = 1001,
                        .umask = 027,
                        .has_umask = true,
                        .additional_gids = gids,
                        .n_additional_gids = 2 };
  hy_error_t err = NULL;
  CHILD_OK (hy_user_apply (&u, &err), &err);
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  CHILD_CHECK (getresuid (&ru, &eu, &su) == 0);
  CHILD_CHECK_EQ (ru, 1000);
  CHILD_CHECK_EQ (eu, 1000);
  CHILD_CHECK_EQ (su, 1000);
  CHILD_CHECK (getresgid (&rg, &eg, &sg) == 0);
  CHILD_CHECK_EQ (rg, 1001);
  CHILD_CHECK_EQ (eg, 1001);
  CHILD_CHECK_EQ (sg, 1001);
  gid_t groups[8];
  CHILD_CHECK_EQ (getgroups (8, groups), 2);
  CHILD_CHECK_EQ (groups[0], 10);
  CHILD_CHECK_EQ (groups[1], 20);
  CHILD_CHECK_EQ (umask (0), 027);
}

static void
test_user (void **state)
{
  (void) state;
  assert_child_ok (user_body, NULL);
}

/* No additionalGids: the runtime's groups are cleared; umask 0022. */
static void
user_defaults_body (void *arg)
{
  (void) arg;
  gid_t extra[] = { 4, 27 };
  CHILD_CHECK (setgroups (2, extra) == 0);
  umask (077);
  struct oci_user u = { .uid = 0, .gid = 0 };
  hy_error_t err = NULL;
  CHILD_OK (hy_user_apply (&u, &err), &err);
  CHILD_CHECK_EQ (getgroups (0, NULL), 0);
  CHILD_CHECK_EQ (umask (0), 022);
}

static void
test_user_defaults (void **state)
{
  (void) state;
  assert_child_ok (user_defaults_body, NULL);
}

static int
write_proc (const char *path, const char *text)
{
  FILE *f = fopen (path, "we");
  if (f == NULL)
    return -1;
  int ok = fputs (text, f) >= 0;
  return fclose (f) == 0 && ok ? 0 : -1;
}

/* In a user namespace with setgroups denied, additionalGids cannot be
 * set: a warning, not an error. */
static void
user_setgroups_denied_body (void *arg)
{
  (void) arg;
  if (unshare (CLONE_NEWUSER) < 0)
    _exit (CHILD_SKIP);
  CHILD_CHECK (write_proc ("/proc/self/setgroups", "deny") == 0);
  CHILD_CHECK (write_proc ("/proc/self/uid_map", "0 0 1") == 0);
  CHILD_CHECK (write_proc ("/proc/self/gid_map", "0 0 1") == 0);
  hy_linux_set_warn (collect_warning, NULL);
  uint32_t gids[] = { 10, 20 };
  struct oci_user u = { .additional_gids = gids, .n_additional_gids = 2 };
  hy_error_t err = NULL;
  CHILD_OK (hy_user_apply (&u, &err), &err);
  if (strcmp (child_warnings, "setgroups is denied in this user namespace: "
                              "additionalGids 10, 20 not set\n")
      != 0)
    child_fail ("unexpected warnings \"%s\"", child_warnings);
  CHILD_CHECK_EQ (getuid (), 0);
}

static void
test_user_setgroups_denied (void **state)
{
  (void) state;
  assert_child_ok (user_setgroups_denied_body, NULL);
}

static void
user_error_body (void *arg)
{
  (void) arg;
  struct oci_user u = { .uid = 1000, .gid = 1000 };
  hy_error_t err = NULL;
  CHILD_OK (hy_user_apply (&u, &err), &err);
  /* No way back to root. */
  struct oci_user root = { .uid = 0, .gid = 0 };
  CHILD_FAILS_WITH (hy_user_apply (&root, &err), &err,
                    "setgroups []: Operation not permitted");
}

static void
test_user_errors (void **state)
{
  (void) state;
  assert_child_ok (user_error_body, NULL);
}

/* ---- the parsed model ---- */

/* tests/data/config-full.json through the real parser: everything these
 * modules take from it resolves without touching this process. */
static void
test_full_config_resolves (void **state)
{
  (void) state;
  struct oci_config *c = NULL;
  hy_error_t err = NULL;
  if (oci_config_load_file (TEST_DATA_DIR "/config-full.json", &c, &err) < 0)
    fail_msg ("%s", err->msg);
  const struct oci_process *p = c->process;

  struct hy_caps caps;
  if (hy_caps_resolve (p->capabilities, &caps, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (caps.bounding, (1ULL << 29) | (1ULL << 5) | (1ULL << 10));
  assert_int_equal (caps.ambient, 1ULL << 10);

  struct hy_seccomp *f = NULL;
  if (hy_seccomp_build (c->linux_->seccomp, &f, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_true (hy_seccomp_uses_notify (f));
  hy_seccomp_free (f);

  assert_int_equal (p->n_rlimits, 2);
  assert_int_equal (p->rlimits[1].resource, RLIMIT_NOFILE);
  cpu_set_t *set = NULL;
  size_t size = 0;
  if (hy_cpu_list_parse (p->exec_cpu_affinity->final, &set, &size, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (CPU_COUNT_S (size, set), 3);
  CPU_FREE (set);
  oci_config_free (c);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_rlimits),
    cmocka_unit_test (test_rlimit_raising_hard_limit_fails),
    cmocka_unit_test (test_rlimit_soft_above_hard),
    cmocka_unit_test (test_oom_score_adj),
    cmocka_unit_test (test_no_new_privileges),
    cmocka_unit_test (test_scheduler),
    cmocka_unit_test (test_scheduler_errors),
    cmocka_unit_test (test_io_priority),
    cmocka_unit_test (test_io_priority_errors),
    cmocka_unit_test (test_personality),
    cmocka_unit_test (test_cpu_list_parse),
    cmocka_unit_test (test_cpu_list_errors),
    cmocka_unit_test (test_cpu_affinity),
    cmocka_unit_test (test_user),
    cmocka_unit_test (test_user_defaults),
    cmocka_unit_test (test_user_setgroups_denied),
    cmocka_unit_test (test_user_errors),
    cmocka_unit_test (test_full_config_resolves),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
