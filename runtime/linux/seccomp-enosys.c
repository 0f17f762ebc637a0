#include "runtime/linux/seccomp-enosys.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/util.h"

#define X32_SYSCALL_BIT 0x40000000u
#define JUMP_MAX 255

/* ---- which architectures, up to which number ---- */

static bool
wants_stub (const struct oci_seccomp *s)
{
  switch (s->default_action)
    {
    case OCI_SCMP_ALLOW:
    case OCI_SCMP_LOG:
    case OCI_SCMP_TRACE:
      return false;
    case OCI_SCMP_ERRNO:
      return !(s->has_default_errno_ret && s->default_errno_ret == ENOSYS);
    default:
      return true;
    }
}

/* The largest number of a syscall the profile names on `arch`. */
static bool
largest_named (const struct oci_seccomp *s, uint32_t arch, uint32_t *max)
{
  bool found = false;
  for (size_t i = 0; i < s->n_syscalls; i++)
    for (char *const *name = s->syscalls[i].names; name && *name; name++)
      {
        int nr = seccomp_syscall_resolve_name_arch (arch, *name);
        if (nr < 0) /* unknown, or not a syscall of this arch */
          continue;
        if (!found || (uint32_t) nr > *max)
          *max = (uint32_t) nr;
        found = true;
      }
  return found;
}

static void
add_arch (const struct oci_seccomp *s, uint32_t arch,
          struct hy_enosys_arch *out, size_t *n)
{
  for (size_t i = 0; i < *n; i++)
    if (out[i].scmp_arch == arch)
      return;
  uint32_t max;
  if (largest_named (s, arch, &max))
    out[(*n)++] = (struct hy_enosys_arch){ .scmp_arch = arch, .max_nr = max };
}

size_t
hy_enosys_arches (const struct oci_seccomp *s, const uint32_t *listed,
                  size_t n_listed, struct hy_enosys_arch **out)
{
  *out = NULL;
  if (!wants_stub (s))
    return 0;
  struct hy_enosys_arch *arches = xmalloc0 ((n_listed + 1) * sizeof (*arches));
  size_t n = 0;
  add_arch (s, seccomp_arch_native (), arches, &n);
  for (size_t i = 0; i < n_listed; i++)
    add_arch (s, listed[i], arches, &n);
  if (n == 0)
    free (arches);
  else
    *out = arches;
  return n;
}

/* ---- the program ---- */

/* Jump targets: a literal offset (>= 0) or one of the stub's two exits. */
enum
{
  TO_ENOSYS = -1,
  TO_FILTER = -2,
};

struct insn
{
  struct sock_filter f;
  int jt, jf; /* conditional jumps */
  int ja;     /* BPF_JA: its target */
};

struct stub
{
  struct insn *v;
  size_t n;
};

static void
emit (struct stub *b, uint16_t code, uint32_t k, int jt, int jf)
{
  b->v = xrealloc (b->v, (b->n + 1) * sizeof (*b->v));
  b->v[b->n++] = (struct insn){ .f = { .code = code, .k = k },
                                .jt = jt, .jf = jf, .ja = 0 };
}

static void
emit_ja (struct stub *b, int target)
{
  emit (b, BPF_JMP | BPF_JA, 0, 0, 0);
  b->v[b->n - 1].ja = target;
}

/* nr > max: ENOSYS, else the filter. */
static void
emit_limit (struct stub *b, const struct hy_enosys_arch *a)
{
  if (a == NULL)
    emit_ja (b, TO_FILTER);
  else
    emit (b, BPF_JMP | BPF_JGT | BPF_K, a->max_nr, TO_ENOSYS, TO_FILTER);
}

static uint32_t
audit_arch (uint32_t scmp_arch)
{
  return scmp_arch == SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : scmp_arch;
}

static const struct hy_enosys_arch *
find_arch (const struct hy_enosys_arch *arches, size_t n, uint32_t scmp_arch)
{
  for (size_t i = 0; i < n; i++)
    if (arches[i].scmp_arch == scmp_arch)
      return &arches[i];
  return NULL;
}

/* The checks of one AUDIT_ARCH_* value, the syscall number loaded first
 * (A holds the arch until then). */
static void
emit_section_body (struct stub *b, const struct hy_enosys_arch *arches,
                   size_t n, uint32_t audit)
{
  emit (b, BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr), 0,
        0);
  if (audit == AUDIT_ARCH_X86_64)
    {
      /* x32 numbers have the x32 bit: skip the x86_64 limit for them. */
      emit (b, BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 1, 0);
      emit_limit (b, find_arch (arches, n, SCMP_ARCH_X86_64));
      emit_limit (b, find_arch (arches, n, SCMP_ARCH_X32));
      return;
    }
  /* s390 multiplexes syscalls it does not know through number 0. */
  if (audit == AUDIT_ARCH_S390 || audit == AUDIT_ARCH_S390X)
    emit (b, BPF_JMP | BPF_JEQ | BPF_K, 0, TO_ENOSYS, 0);
  emit_limit (b, find_arch (arches, n, audit));
}

static bool
section_done (const struct hy_enosys_arch *arches, size_t i)
{
  for (size_t j = 0; j < i; j++)
    if (audit_arch (arches[j].scmp_arch) == audit_arch (arches[i].scmp_arch))
      return true;
  return false;
}

/* Offsets from instruction i to the stub's exits. */
static int
resolve (struct insn *in, size_t i, size_t enosys_at, hy_error_t *err)
{
  int *fields[] = { &in->jt, &in->jf, &in->ja };
  for (size_t f = 0; f < 3; f++)
    {
      size_t target = *fields[f] == TO_ENOSYS   ? enosys_at
                      : *fields[f] == TO_FILTER ? enosys_at + 1
                                                : i + 1 + (size_t) *fields[f];
      *fields[f] = (int) (target - (i + 1));
    }
  if (in->jt > JUMP_MAX || in->jf > JUMP_MAX)
    return hy_error (err, E2BIG, "seccomp: the -ENOSYS stub is too long");
  in->f.jt = (uint8_t) in->jt;
  in->f.jf = (uint8_t) in->jf;
  if (in->f.code == (BPF_JMP | BPF_JA))
    in->f.k = (uint32_t) in->ja;
  return 0;
}

int
hy_enosys_stub (const struct hy_enosys_arch *arches, size_t n,
                struct sock_filter **out, size_t *len, hy_error_t *err)
{
  *out = NULL;
  *len = 0;
  if (n == 0)
    return 0;
  struct stub b = { 0 };
  emit (&b, BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, arch), 0,
        0);
  for (size_t i = 0; i < n; i++)
    {
      if (section_done (arches, i))
        continue;
      uint32_t audit = audit_arch (arches[i].scmp_arch);
      size_t check = b.n;
      emit (&b, BPF_JMP | BPF_JEQ | BPF_K, audit, 0, 0);
      emit_section_body (&b, arches, n, audit);
      b.v[check].jf = (int) (b.n - check - 1); /* other arch: next section */
    }
  emit_ja (&b, TO_FILTER);
  emit (&b, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS, 0, 0);
  struct sock_filter *prog = xmalloc0 (b.n * sizeof (*prog));
  for (size_t i = 0; i < b.n; i++)
    {
      if (resolve (&b.v[i], i, b.n - 1, err) < 0)
        {
          free (prog);
          free (b.v);
          return -1;
        }
      prog[i] = b.v[i].f;
    }
  *out = prog;
  *len = b.n;
  free (b.v);
  return 0;
}
