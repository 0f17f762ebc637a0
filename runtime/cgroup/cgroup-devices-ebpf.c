/* The cgroup v2 device controller is an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup.  We generate it
 * from the state the v1 controller would reach with the same rules
 * (cgroup-devices-emulator.c): one block per exception, which returns the
 * opposite of the default when the request matches it, and the default
 * at the end. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

/* Registers holding the request, loaded once from the context. */
enum
{
  R_TYPE = 2,
  R_ACCESS = 3,
  R_MAJOR = 4,
  R_MINOR = 5
};

struct prog
{
  struct bpf_insn *insns;
  size_t n, cap;
};

static void
emit (struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off,
      int32_t imm)
{
  if (p->n == p->cap)
    {
      p->cap = p->cap ? p->cap * 2 : 64;
      p->insns = xrealloc (p->insns, p->cap * sizeof (*p->insns));
    }
  p->insns[p->n++] = (struct bpf_insn){
    .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm
  };
}

/* access_type is (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*. */
static void
emit_prologue (struct prog *p)
{
  emit (p, BPF_LDX | BPF_W | BPF_MEM, R_TYPE, 1, 0, 0);
  emit (p, BPF_ALU | BPF_AND | BPF_K, R_TYPE, 0, 0, 0xffff);
  emit (p, BPF_LDX | BPF_W | BPF_MEM, R_ACCESS, 1, 0, 0);
  emit (p, BPF_ALU | BPF_RSH | BPF_K, R_ACCESS, 0, 0, 16);
  emit (p, BPF_LDX | BPF_W | BPF_MEM, R_MAJOR, 1, 4, 0);
  emit (p, BPF_LDX | BPF_W | BPF_MEM, R_MINOR, 1, 8, 0);
}

static void
emit_return (struct prog *p, int verdict)
{
  emit (p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, verdict);
  emit (p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* The exception's conditions; each jump's offset is patched to the next
 * block once the block's length is known (BPF offsets count from the
 * instruction after the jump). */
static void
emit_exception (struct prog *p, const struct hy_cg_dev_exception *e,
                bool default_allow)
{
  size_t start = p->n;
  const uint32_t all
      = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
  emit (p, BPF_JMP32 | BPF_JNE | BPF_K, R_TYPE, 0, 0,
        e->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  if (e->major >= 0)
    emit (p, BPF_JMP32 | BPF_JNE | BPF_K, R_MAJOR, 0, 0, (int32_t) e->major);
  if (e->minor >= 0)
    emit (p, BPF_JMP32 | BPF_JNE | BPF_K, R_MINOR, 0, 0, (int32_t) e->minor);
  if ((e->access & all) != all)
    {
      emit (p, BPF_ALU | BPF_MOV | BPF_X, 1, R_ACCESS, 0, 0);
      emit (p, BPF_ALU | BPF_AND | BPF_K, 1, 0, 0, (int32_t) e->access);
      if (default_allow) /* refused when any requested bit is listed */
        emit (p, BPF_JMP32 | BPF_JEQ | BPF_K, 1, 0, 0, 0);
      else /* granted when all of them are */
        emit (p, BPF_JMP32 | BPF_JNE | BPF_X, 1, R_ACCESS, 0, 0);
    }
  emit_return (p, default_allow ? 0 : 1);
  for (size_t i = start; i < p->n; i++)
    if (BPF_CLASS (p->insns[i].code) == BPF_JMP32)
      p->insns[i].off = (int16_t) (p->n - i - 1);
}

size_t
hy_cg_devices_bpf_build (const struct oci_device_rule *rules, size_t n,
                         struct bpf_insn **out)
{
  struct hy_cg_dev_state state;
  hy_cg_devices_emulate (rules, n, &state);
  struct prog p = { 0 };
  emit_prologue (&p);
  for (size_t i = 0; i < state.n; i++)
    emit_exception (&p, &state.ex[i], state.default_allow);
  emit_return (&p, state.default_allow ? 1 : 0);
  hy_cg_dev_state_release (&state);
  *out = p.insns;
  return p.n;
}

static int
sys_bpf (int cmd, union bpf_attr *attr)
{
  return (int) syscall (__NR_bpf, cmd, attr, sizeof (*attr));
}

static int
prog_load (const struct bpf_insn *insns, size_t n, char *log, size_t size)
{
  union bpf_attr attr = { 0 };
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t) (uintptr_t) insns;
  attr.insn_cnt = (uint32_t) n;
  attr.license = (uint64_t) (uintptr_t) "GPL";
  attr.log_buf = (uint64_t) (uintptr_t) log;
  attr.log_size = (uint32_t) size;
  attr.log_level = log ? 1 : 0;
  return sys_bpf (BPF_PROG_LOAD, &attr);
}

/* Without a verifier log first: a long one fails the load with ENOSPC;
 * the log is only fetched to explain a refusal. */
static int
load_program (const struct bpf_insn *insns, size_t n, int *fd, hy_error_t *err)
{
  *fd = prog_load (insns, n, NULL, 0);
  if (*fd >= 0)
    return 0;
  int saved = errno;
  _cleanup_free_ char *log = xmalloc0 (65536);
  int again = prog_load (insns, n, log, 65536);
  if (again >= 0)
    close (again);
  return hy_error (err, saved,
                   "load the eBPF device filter (%zu instructions)%s%.300s", n,
                   log[0] ? ": " : "", log);
}

/* The programs attached to the cgroup now (*ids malloc'ed). */
static int
query_programs (int dirfd, const char *dir, uint32_t **ids, uint32_t *n,
                hy_error_t *err)
{
  for (uint32_t cap = 16;; cap *= 4)
    {
      _cleanup_free_ uint32_t *buf = xmalloc0 (cap * sizeof (uint32_t));
      union bpf_attr attr = { 0 };
      attr.query.target_fd = (uint32_t) dirfd;
      attr.query.attach_type = BPF_CGROUP_DEVICE;
      attr.query.prog_ids = (uint64_t) (uintptr_t) buf;
      attr.query.prog_cnt = cap;
      if (sys_bpf (BPF_PROG_QUERY, &attr) == 0)
        {
          *n = attr.query.prog_cnt;
          *ids = steal_pointer (&buf);
          return 0;
        }
      if (errno != ENOSPC)
        return hy_error_errno (err, "query the device filters of `%s`", dir);
    }
}

static int
attach_program (int dirfd, int progfd, const char *dir, hy_error_t *err)
{
  union bpf_attr attr = { 0 };
  attr.target_fd = (uint32_t) dirfd;
  attr.attach_bpf_fd = (uint32_t) progfd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf (BPF_PROG_ATTACH, &attr) < 0)
    return hy_error_errno (err, "attach the device filter to `%s`", dir);
  return 0;
}

static int
detach_program (int dirfd, uint32_t id, const char *dir, hy_error_t *err)
{
  union bpf_attr attr = { 0 };
  attr.prog_id = id;
  _cleanup_close_ int progfd = sys_bpf (BPF_PROG_GET_FD_BY_ID, &attr);
  if (progfd < 0)
    return errno == ENOENT ? 0
                           : hy_error_errno (err, "open device filter %u", id);
  memset (&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t) dirfd;
  attr.attach_bpf_fd = (uint32_t) progfd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  if (sys_bpf (BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
    return hy_error_errno (err, "detach device filter %u from `%s`", id, dir);
  return 0;
}

/* Attach the new filter before detaching the old ones, so that there is
 * never a moment without one. */
int
hy_cg_devices_bpf_apply (const char *dir, const struct oci_device_rule *rules,
                         size_t n, hy_error_t *err)
{
  _cleanup_free_ struct bpf_insn *insns = NULL;
  size_t count = hy_cg_devices_bpf_build (rules, n, &insns);
  _cleanup_close_ int dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return hy_error_errno (err, "open `%s`", dir);
  _cleanup_close_ int progfd = -1;
  _cleanup_free_ uint32_t *old = NULL;
  uint32_t n_old = 0;
  if (query_programs (dirfd, dir, &old, &n_old, err) < 0
      || load_program (insns, count, &progfd, err) < 0
      || attach_program (dirfd, progfd, dir, err) < 0)
    return -1;
  for (uint32_t i = 0; i < n_old; i++)
    if (detach_program (dirfd, old[i], dir, err) < 0)
      return -1;
  return 0;
}
