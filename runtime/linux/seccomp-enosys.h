/* The -ENOSYS stub runc puts in front of a seccomp filter.
 *
 * A profile names the syscalls its author knew.  A syscall newer than all
 * of them (clone3, faccessat2, ... on an older profile) would get the
 * default action, typically EPERM, and programs that probe a new syscall
 * and fall back on ENOSYS would fail instead.  So, per architecture, a
 * syscall number above the largest one the profile names returns ENOSYS
 * before libseccomp's program runs; everything else goes on to it.
 *
 * As in runc, there is no stub when the default action lets syscalls
 * through (SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_TRACE: a tracer handles
 * new syscalls itself) or already is ENOSYS, and an architecture none of
 * whose syscalls the profile names gets no section.  x86_64 and x32 share
 * AUDIT_ARCH_X86_64 and are told apart by the x32 bit of the number. */
#ifndef HYRUN_LINUX_SECCOMP_ENOSYS_H
#define HYRUN_LINUX_SECCOMP_ENOSYS_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "oci/config.h"

/* One architecture of the filter and the largest syscall number the
 * profile names for it (x32 numbers carry the x32 bit, as libseccomp
 * resolves them). */
struct hy_enosys_arch
{
  uint32_t scmp_arch; /* libseccomp's SCMP_ARCH_* token */
  uint32_t max_nr;
};

/* The architectures the stub covers: `listed` (the resolved
 * linux.seccomp.architectures) plus the native one (always in a libseccomp
 * filter), each with the largest number the profile's syscall names
 * resolve to.  Returns how many, 0 when no stub is wanted (see above);
 * *out malloc'ed (NULL for 0). */
size_t hy_enosys_arches (const struct oci_seccomp *s, const uint32_t *listed,
                         size_t n_listed, struct hy_enosys_arch **out);

/* The stub's instructions; its last one is followed by the filter, which
 * its jumps end at.  *out malloc'ed, *len instructions (0 when n is 0). */
int hy_enosys_stub (const struct hy_enosys_arch *arches, size_t n,
                    struct sock_filter **out, size_t *len, hy_error_t *err);

#endif
