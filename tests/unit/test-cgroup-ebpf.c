/* The v2 device filter: the generated program, run by a small interpreter
 * against a reference of the rule semantics, then loaded by the kernel
 * and enforced on a process in a cgroup of the cgroup2 tree. */
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
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup/cgroup-internal.h"
#include "tests/unit/cgroup-test.h"

#define RULE(allow_, type_, major_, minor_, access_)                          \
  ((struct oci_device_rule){ .allow = (allow_),                               \
                             .type = (type_),                                 \
                             .major = (major_),                               \
                             .minor = (minor_),                               \
                             .has_major = true,                               \
                             .has_minor = true,                               \
                             .access = (access_) })

struct request
{
  char type;
  const char *access;
  uint32_t major, minor;
};

static uint32_t
access_bits (const char *access)
{
  uint32_t bits = 0;
  for (const char *c = access; *c; c++)
    bits |= *c == 'r'   ? BPF_DEVCG_ACC_READ
            : *c == 'w' ? BPF_DEVCG_ACC_WRITE
                        : BPF_DEVCG_ACC_MKNOD;
  return bits;
}

/* The instructions the generator uses, nothing more. */
static int
interpret (const struct bpf_insn *p, size_t n, const struct request *rq)
{
  uint32_t ctx[3]
      = { (access_bits (rq->access) << 16)
              | (rq->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR),
          rq->major, rq->minor };
  uint64_t r[11] = { 0 };
  for (size_t pc = 0; pc < n; pc++)
    {
      const struct bpf_insn *i = &p[pc];
      switch (i->code)
        {
        case BPF_LDX | BPF_W | BPF_MEM:
          assert_int_equal (i->src_reg, 1);
          r[i->dst_reg] = ctx[i->off / 4];
          break;
        case BPF_ALU | BPF_AND | BPF_K:
          r[i->dst_reg] = (uint32_t) r[i->dst_reg] & (uint32_t) i->imm;
          break;
        case BPF_ALU | BPF_RSH | BPF_K:
          r[i->dst_reg] = (uint32_t) r[i->dst_reg] >> i->imm;
          break;
        case BPF_ALU | BPF_MOV | BPF_X:
          r[i->dst_reg] = (uint32_t) r[i->src_reg];
          break;
        case BPF_ALU64 | BPF_MOV | BPF_K:
          r[i->dst_reg] = (uint64_t) (int64_t) i->imm;
          break;
        case BPF_JMP32 | BPF_JNE | BPF_K:
          assert_true (pc + (size_t) i->off + 1 < n);
          if ((uint32_t) r[i->dst_reg] != (uint32_t) i->imm)
            pc += (size_t) i->off;
          break;
        case BPF_JMP32 | BPF_JEQ | BPF_K:
          assert_true (pc + (size_t) i->off + 1 < n);
          if ((uint32_t) r[i->dst_reg] == (uint32_t) i->imm)
            pc += (size_t) i->off;
          break;
        case BPF_JMP32 | BPF_JNE | BPF_X:
          assert_true (pc + (size_t) i->off + 1 < n);
          if ((uint32_t) r[i->dst_reg] != (uint32_t) r[i->src_reg])
            pc += (size_t) i->off;
          break;
        case BPF_JMP | BPF_EXIT:
          return (int) r[0];
        default:
          fail_msg ("unexpected opcode 0x%x at %zu", i->code, pc);
        }
    }
  fail_msg ("the program runs off its end");
  return -1;
}

/* A request against the emulated v1 state, the kernel's way
 * (security/device_cgroup.c: match_exception, match_exception_partial). */
static int
reference (const struct oci_device_rule *rules, size_t n,
           const struct request *rq)
{
  struct hy_cg_dev_state st;
  hy_cg_devices_emulate (rules, n, &st);
  uint32_t want = access_bits (rq->access);
  int verdict = st.default_allow;
  for (size_t i = 0; i < st.n; i++)
    {
      const struct hy_cg_dev_exception *e = &st.ex[i];
      bool key = e->type == rq->type
                 && (e->major < 0 || (uint32_t) e->major == rq->major)
                 && (e->minor < 0 || (uint32_t) e->minor == rq->minor);
      bool hit = st.default_allow ? (want & e->access) != 0
                                  : (want & ~e->access) == 0;
      if (key && hit)
        verdict = !st.default_allow;
    }
  hy_cg_dev_state_release (&st);
  return verdict;
}

static void
check_against_reference (const struct oci_device_rule *rules, size_t n)
{
  static const char *const accesses[]
      = { "r", "w", "m", "rw", "rm", "wm", "rwm" };
  struct bpf_insn *prog = NULL;
  size_t count = hy_cg_devices_bpf_build (rules, n, &prog);
  for (const char *t = "cb"; *t; t++)
    for (uint32_t major = 0; major < 10; major++)
      for (uint32_t minor = 0; minor < 10; minor++)
        for (size_t a = 0; a < 7; a++)
          {
            struct request rq = { *t, accesses[a], major, minor };
            if (interpret (prog, count, &rq) != reference (rules, n, &rq))
              fail_msg ("%c %u:%u %s: program and rules disagree", *t, major,
                        minor, accesses[a]);
          }
  free (prog);
}

static const struct oci_device_rule typical[] = {
  { .allow = false, .access = "rwm" },
  RULE (true, 'c', 1, 3, "rwm"),
  RULE (true, 'c', 1, 5, "r"),
  RULE (false, 'c', 1, 3, "w"),
  RULE (true, 'b', -1, -1, "m"),
  RULE (true, 'c', 5, -1, "rw"),
  { .allow = true, .type = 'c', .major = 240, .has_major = true },
};
/* the same key twice: the kernel merges the bits */
static const struct oci_device_rule merged[] = { { .allow = false },
                                                 RULE (true, 'c', 1, 3, "r"),
                                                 RULE (true, 'c', 1, 3, "w") };
/* different keys are not merged */
static const struct oci_device_rule unmerged[]
    = { { .allow = false },
        RULE (true, 'c', -1, -1, "r"),
        RULE (true, 'c', 1, 3, "w") };
/* default allow, a few denials, one taken back in part */
static const struct oci_device_rule blacklist[]
    = { { .allow = true, .type = 'a' }, RULE (false, 'c', 1, 3, "w"),
        RULE (false, 'c', -1, -1, "m"), RULE (false, 'c', 1, 5, "rw"),
        RULE (true, 'c', 1, 5, "w"),    RULE (false, 'b', 7, -1, "r") };
/* an "a" rule at the end wins */
static const struct oci_device_rule deny_last[]
    = { RULE (true, 'c', 1, 3, "rwm"), { .allow = false, .type = 'a' } };

#define RULES(a) (a), (sizeof (a) / sizeof ((a)[0]))

static void
test_program_matches_semantics (void **state)
{
  (void) state;
  check_against_reference (RULES (typical));
  check_against_reference (RULES (merged));
  check_against_reference (RULES (unmerged));
  check_against_reference (RULES (blacklist));
  check_against_reference (RULES (deny_last));
  check_against_reference (NULL, 0);
}

static int
verdict (const struct oci_device_rule *rules, size_t n, char type,
         uint32_t major, uint32_t minor, const char *access)
{
  struct bpf_insn *prog = NULL;
  size_t count = hy_cg_devices_bpf_build (rules, n, &prog);
  struct request rq = { type, access, major, minor };
  int v = interpret (prog, count, &rq);
  free (prog);
  return v;
}

/* What the kernel documents, case by case. */
static void
test_v1_semantics (void **state)
{
  (void) state;
  assert_int_equal (verdict (RULES (typical), 'c', 1, 3, "rw"), 0);
  assert_int_equal (verdict (RULES (typical), 'c', 1, 3, "rm"), 1);
  assert_int_equal (verdict (RULES (typical), 'c', 1, 5, "r"), 1);
  assert_int_equal (verdict (RULES (typical), 'c', 1, 5, "w"), 0);
  assert_int_equal (verdict (RULES (typical), 'b', 8, 0, "m"), 1);
  assert_int_equal (verdict (RULES (typical), 'b', 8, 0, "r"), 0);
  assert_int_equal (verdict (RULES (typical), 'c', 5, 1, "rw"), 1);
  assert_int_equal (verdict (RULES (typical), 'c', 5, 1, "m"), 0);
  assert_int_equal (verdict (RULES (typical), 'c', 240, 9, "rwm"), 1);
  assert_int_equal (verdict (RULES (typical), 'c', 2, 0, "r"), 0);
  assert_int_equal (verdict (RULES (merged), 'c', 1, 3, "rw"), 1);
  assert_int_equal (verdict (RULES (unmerged), 'c', 1, 3, "rw"), 0);
  assert_int_equal (verdict (RULES (unmerged), 'c', 1, 3, "w"), 1);
  assert_int_equal (verdict (RULES (unmerged), 'c', 9, 9, "r"), 1);
  assert_int_equal (verdict (RULES (blacklist), 'c', 1, 3, "r"), 1);
  assert_int_equal (verdict (RULES (blacklist), 'c', 1, 3, "rw"), 0);
  assert_int_equal (verdict (RULES (blacklist), 'c', 2, 2, "m"), 0);
  assert_int_equal (verdict (RULES (blacklist), 'c', 2, 2, "rw"), 1);
  assert_int_equal (verdict (RULES (blacklist), 'c', 1, 5, "w"), 1);
  assert_int_equal (verdict (RULES (blacklist), 'c', 1, 5, "r"), 0);
  assert_int_equal (verdict (RULES (blacklist), 'b', 7, 1, "w"), 1);
  assert_int_equal (verdict (RULES (blacklist), 'b', 7, 1, "rw"), 0);
  assert_int_equal (verdict (RULES (deny_last), 'c', 1, 3, "r"), 0);
  assert_int_equal (verdict (NULL, 0, 'c', 1, 3, "r"), 0);
  const struct oci_device_rule all[] = { { .allow = true } };
  assert_int_equal (verdict (RULES (all), 'b', 8, 0, "rwm"), 1);
}

/* ---- the kernel ---- */

static int
count_attached (const char *dir)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY);
  assert_true (fd >= 0);
  uint32_t ids[8];
  union bpf_attr attr = { 0 };
  attr.query.target_fd = (uint32_t) fd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t) (uintptr_t) ids;
  attr.query.prog_cnt = 8;
  assert_int_equal (syscall (__NR_bpf, BPF_PROG_QUERY, &attr, sizeof attr), 0);
  close (fd);
  return (int) attr.query.prog_cnt;
}

static void
test_kernel_accepts (void **state)
{
  (void) state;
  char *dir = test_v2_dir ("bpf-load");
  assert_int_equal (mkdir (dir, 0755), 0);
  hy_error_t err = NULL;
  const struct oci_device_rule allow_all[] = { { .allow = true } };
  const struct oci_device_rule many[] = {
    { .allow = false },
    RULE (true, 'c', 1, 3, "rwm"),
    RULE (true, 'c', 4294967295LL, 7, "r"),
    RULE (false, 'b', 8, -1, "w"),
  };
  if (hy_cg_devices_bpf_apply (dir, typical, 7, &err) < 0
      || hy_cg_devices_bpf_apply (dir, NULL, 0, &err) < 0
      || hy_cg_devices_bpf_apply (dir, allow_all, 1, &err) < 0
      || hy_cg_devices_bpf_apply (dir, many, 4, &err) < 0)
    fail_msg ("%s", hy_error_text (err));
  /* each apply replaced the previous filter */
  assert_int_equal (count_attached (dir), 1);
  assert_int_equal (rmdir (dir), 0);
  free (dir);
}

/* A child in the cgroup opens two devices and reports. */
static int
child_opens (void)
{
  int null_fd = open ("/dev/null", O_RDWR);
  int zero_fd = open ("/dev/zero", O_RDONLY);
  return (null_fd >= 0 ? 1 : 0) | (zero_fd < 0 && errno == EPERM ? 2 : 0);
}

static void
test_kernel_enforces (void **state)
{
  (void) state;
  int go[2];
  assert_int_equal (pipe (go), 0);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      char c;
      close (go[1]);
      _exit (read (go[0], &c, 1) == 1 ? child_opens () : 99);
    }
  close (go[0]);
  test_track_child (pid);
  const struct oci_device_rule rules[]
      = { { .allow = false, .access = "rwm" }, RULE (true, 'c', 1, 3, "rw") };
  struct oci_resources res = { .devices = (struct oci_device_rule *) rules,
                               .n_devices = 2,
                               .has_devices = true };
  struct hy_cgroup *cg = test_create_v2 ("bpf-enforce", pid, &res);
  assert_int_equal (write (go[1], "x", 1), 1);
  close (go[1]);
  int status = test_reap_pid (pid);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 3); /* null opened, zero EPERM */
  test_destroy (cg);
}

/* ---- the kernel's v1 controller against our filter ---- */

struct node
{
  char type;
  unsigned major, minor;
};

/* Numbers the rule sets above name, and some they do not; majors 240
 * and up are reserved for local use, so nothing opens there. */
static const struct node nodes[]
    = { { 'c', 1, 3 }, { 'c', 1, 5 },   { 'c', 1, 9 },   { 'c', 5, 3 },
        { 'c', 5, 7 }, { 'c', 240, 3 }, { 'c', 241, 9 }, { 'b', 7, 0 },
        { 'b', 7, 1 }, { 'b', 8, 0 },   { 'b', 240, 1 } };
static const char *const ops[] = { "r", "w", "rw", "m" };
#define N_NODES (sizeof nodes / sizeof nodes[0])
#define N_OPS (sizeof ops / sizeof ops[0])

static char node_dir[64];

static bool
make_nodes (void)
{
  strcpy (node_dir, "/tmp/hyrun-test-devXXXXXX");
  struct statvfs st;
  if (mkdtemp (node_dir) == NULL || statvfs (node_dir, &st) < 0
      || (st.f_flag & ST_NODEV))
    return false;
  for (size_t i = 0; i < N_NODES; i++)
    {
      char path[128];
      snprintf (path, sizeof path, "%s/%zu", node_dir, i);
      mode_t type = nodes[i].type == 'b' ? S_IFBLK : S_IFCHR;
      assert_int_equal (
          mknod (path, type | 0600, makedev (nodes[i].major, nodes[i].minor)),
          0);
    }
  return true;
}

static void
remove_nodes (void)
{
  for (size_t i = 0; i < N_NODES; i++)
    {
      char path[128];
      snprintf (path, sizeof path, "%s/%zu", node_dir, i);
      unlink (path);
    }
  rmdir (node_dir);
}

/* 1 unless the device cgroup said EPERM. */
static int
allowed (size_t node, const char *op)
{
  char path[128];
  snprintf (path, sizeof path, "%s/%zu", node_dir, node);
  if (strcmp (op, "m") == 0)
    {
      char fresh[160];
      snprintf (fresh, sizeof fresh, "%s/m%zu", node_dir, node);
      mode_t type = nodes[node].type == 'b' ? S_IFBLK : S_IFCHR;
      if (mknod (fresh, type | 0600,
                 makedev (nodes[node].major, nodes[node].minor))
          == 0)
        return unlink (fresh), 1;
      return errno != EPERM;
    }
  int flags = strcmp (op, "r") == 0   ? O_RDONLY
              : strcmp (op, "w") == 0 ? O_WRONLY
                                      : O_RDWR;
  int fd = open (path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd >= 0)
    return close (fd), 1;
  return errno != EPERM;
}

/* Fork a child that waits for `go`, then tries everything. */
static pid_t
spawn_prober (int go[2], int results[2])
{
  assert_int_equal (pipe (go), 0);
  assert_int_equal (pipe (results), 0);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      char c;
      unsigned char v[N_NODES * N_OPS];
      if (read (go[0], &c, 1) != 1)
        _exit (1);
      for (size_t i = 0; i < N_NODES; i++)
        for (size_t j = 0; j < N_OPS; j++)
          v[i * N_OPS + j] = (unsigned char) allowed (i, ops[j]);
      _exit (write (results[1], v, sizeof v) == sizeof v ? 0 : 1);
    }
  close (go[0]);
  close (results[1]);
  test_track_child (pid);
  return pid;
}

static void
probe (bool v2, const char *name, const struct oci_device_rule *rules,
       size_t n, unsigned char *v)
{
  int go[2], results[2];
  pid_t pid = spawn_prober (go, results);
  struct oci_resources res = { .devices = (struct oci_device_rule *) rules,
                               .n_devices = n,
                               .has_devices = true };
  struct hy_cgroup *cg = NULL;
  if (v2)
    cg = test_create_v2 (name, pid, &res);
  else
    {
      char *path = test_abs_path (name);
      hy_error_t err = NULL;
      if (hy_cgroup_create (path, "x", pid, &res, &cg, &err) < 0)
        fail_msg ("create: %s", hy_error_text (err));
      free (path);
    }
  assert_int_equal (write (go[1], "x", 1), 1);
  close (go[1]);
  assert_int_equal (read (results[0], v, N_NODES * N_OPS), N_NODES * N_OPS);
  close (results[0]);
  assert_int_equal (test_reap (), 0);
  test_destroy (cg);
}

static void
differential (const char *set, const struct oci_device_rule *rules, size_t n)
{
  unsigned char v1[N_NODES * N_OPS], v2[N_NODES * N_OPS];
  char name[64];
  snprintf (name, sizeof name, "v1-%s", set);
  probe (false, name, rules, n, v1);
  snprintf (name, sizeof name, "v2-%s", set);
  probe (true, name, rules, n, v2);
  for (size_t i = 0; i < N_NODES; i++)
    for (size_t j = 0; j < N_OPS; j++)
      {
        const struct node *d = &nodes[i];
        int want = verdict (rules, n, d->type, d->major, d->minor, ops[j]);
        if (v1[i * N_OPS + j] != want || v2[i * N_OPS + j] != want)
          fail_msg ("%s: %c %u:%u %s: v1 %d, eBPF %d, expected %d", set,
                    d->type, d->major, d->minor, ops[j], v1[i * N_OPS + j],
                    v2[i * N_OPS + j], want);
      }
}

/* The same rules through the hybrid host's v1 devices controller and
 * through our eBPF filter: every device and access gets the same
 * answer. */
static void
test_same_as_v1_kernel (void **state)
{
  (void) state;
  enum hy_cgroup_mode mode;
  hy_error_t err = NULL;
  assert_int_equal (hy_cgroup_detect (&mode, &err), 0);
  if (mode != HY_CGROUP_HYBRID || !make_nodes ())
    {
      remove_nodes ();
      skip ();
    }
  differential ("typical", RULES (typical));
  differential ("merged", RULES (merged));
  differential ("unmerged", RULES (unmerged));
  differential ("blacklist", RULES (blacklist));
  differential ("deny-last", RULES (deny_last));
  remove_nodes ();
}

static int
cleanup_all (void **state)
{
  if (node_dir[0])
    remove_nodes ();
  return test_cleanup (state);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_program_matches_semantics),
    cmocka_unit_test (test_v1_semantics),
    cmocka_unit_test_teardown (test_kernel_accepts, test_cleanup),
    cmocka_unit_test_teardown (test_kernel_enforces, test_cleanup),
    cmocka_unit_test_teardown (test_same_as_v1_kernel, cleanup_all),
  };
  return cmocka_run_group_tests (tests, NULL, test_cleanup);
}
