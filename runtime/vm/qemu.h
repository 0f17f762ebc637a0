/* Launching the VMM: QEMU's `microvm` machine, virtio-mmio devices only,
 * our kernel and the agent's initramfs loaded directly, guest memory a
 * shared memfd (vhost-user back-ends map it), the vsock device served by
 * hyrun's own vhost-user back-end, the rootfs shared over virtio-9p.
 * The accelerator is the only difference between hosts: kvm where the
 * CPU has vmx/svm and /dev/kvm opens, tcg otherwise. */
#ifndef HYRUN_VM_QEMU_H
#define HYRUN_VM_QEMU_H

#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

#define HY_QEMU_DEFAULT_BINARY "qemu-system-x86_64"
#define HY_VM_DEFAULT_CPUS 1
#define HY_VM_DEFAULT_MEMORY (256ULL << 20)
#define HY_VM_GUEST_CID 3
#define HY_VM_SHARE_TAG "hyrun"

struct hy_qemu_spec
{
  const char *binary;     /* NULL: HY_QEMU_DEFAULT_BINARY from PATH */
  const char *accel;      /* "kvm" or "tcg" */
  const char *kernel;
  const char *initrd;
  uint32_t cpus;
  uint64_t memory;        /* bytes, a multiple of 1 MiB */
  int vsock_fd;           /* connected vhost-user socket, passed on */
  const char *share_dir;  /* exported read-write over 9p */
  const char *console_log; /* the guest's serial console goes here */
  const char *guest_fault; /* NULL, or hyrun.fault=<it> for the agent */
};

/* "kvm" when $HYRUN_VM_ACCEL says so or the CPU has vmx/svm and /dev/kvm
 * can be opened read-write; "tcg" otherwise ($HYRUN_VM_ACCEL=tcg forces). */
const char *hy_qemu_detect_accel (void);

/* The full command line (a NULL-terminated strv). */
char **hy_qemu_argv (const struct hy_qemu_spec *s);

/* Start QEMU with stdin on /dev/null and stdout+stderr on `log_fd`; only
 * fds 0-2 and the vsock fd survive the exec.  QEMU gets SIGKILL when the
 * caller dies.  *pidfd is a pidfd of it (CLOEXEC). */
int hy_qemu_spawn (const struct hy_qemu_spec *s, int log_fd, pid_t *pid,
                   int *pidfd, hy_error_t *err);

#endif
