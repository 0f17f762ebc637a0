#include "runtime/vm/qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

static bool
cpu_has_virt_extensions (void)
{
  _cleanup_fclose_ FILE *f = fopen ("/proc/cpuinfo", "re");
  if (f == NULL)
    return false;
  char line[4096];
  while (fgets (line, sizeof (line), f))
    {
      if (!str_has_prefix (line, "flags"))
        continue;
      return strstr (line, " vmx") || strstr (line, " svm");
    }
  return false;
}

const char *
hy_qemu_detect_accel (void)
{
  const char *forced = getenv ("HYRUN_VM_ACCEL");
  if (forced && (str_eq (forced, "kvm") || str_eq (forced, "tcg")))
    return str_eq (forced, "kvm") ? "kvm" : "tcg";
  if (!cpu_has_virt_extensions ())
    return "tcg";
  _cleanup_close_ int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  return fd >= 0 ? "kvm" : "tcg";
}

/* A growing NULL-terminated argv. */
struct argv
{
  char **v;
  size_t n;
};

__attribute__ ((format (printf, 2, 3))) static void
push (struct argv *a, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *s;
  if (vasprintf (&s, fmt, ap) < 0)
    abort ();
  va_end (ap);
  a->v = xrealloc (a->v, (a->n + 2) * sizeof (char *));
  a->v[a->n++] = s;
  a->v[a->n] = NULL;
}

/* The kernel exits QEMU fast through a triple fault (reboot=t with
 * -no-reboot); panic=-1 turns a panic into that too. */
#define GUEST_CMDLINE "console=ttyS0 quiet panic=-1 reboot=t"

char **
hy_qemu_argv (const struct hy_qemu_spec *s)
{
  struct argv a = { 0 };
  push (&a, "%s", s->binary ? s->binary : HY_QEMU_DEFAULT_BINARY);
  push (&a, "-M");
  push (&a, "microvm,acpi=off,memory-backend=mem");
  push (&a, "-accel");
  push (&a, "%s", s->accel);
  push (&a, "-cpu");
  push (&a, "%s", str_eq (s->accel, "kvm") ? "host" : "max");
  push (&a, "-smp");
  push (&a, "%u", s->cpus);
  push (&a, "-m");
  push (&a, "%lluM", (unsigned long long) (s->memory >> 20));
  push (&a, "-object");
  push (&a, "memory-backend-memfd,id=mem,size=%lluM,share=on",
        (unsigned long long) (s->memory >> 20));
  push (&a, "-nodefaults");
  push (&a, "-no-user-config");
  push (&a, "-display");
  push (&a, "none");
  push (&a, "-no-reboot");
  push (&a, "-serial");
  push (&a, "file:%s", s->console_log);
  push (&a, "-kernel");
  push (&a, "%s", s->kernel);
  push (&a, "-initrd");
  push (&a, "%s", s->initrd);
  push (&a, "-append");
  if (s->guest_fault)
    push (&a, GUEST_CMDLINE " hyrun.fault=%s", s->guest_fault);
  else
    push (&a, GUEST_CMDLINE);
  push (&a, "-chardev");
  push (&a, "socket,id=vsock,fd=%d", s->vsock_fd);
  push (&a, "-device");
  push (&a, "vhost-user-vsock-device,chardev=vsock");
  push (&a, "-fsdev");
  push (&a, "local,id=share,path=%s,security_model=passthrough,"
            "multidevs=remap",
        s->share_dir);
  push (&a, "-device");
  push (&a, "virtio-9p-device,fsdev=share,mount_tag=%s", HY_VM_SHARE_TAG);
  return a.v;
}

static __attribute__ ((noreturn)) void
exec_qemu (const struct hy_qemu_spec *s, char **argv, int log_fd)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  int null = open ("/dev/null", O_RDONLY);
  if (null < 0 || dup2 (null, 0) < 0 || dup2 (log_fd, 1) < 0
      || dup2 (log_fd, 2) < 0)
    _exit (127);
  /* Everything but stdio and the vsock socket closes on exec. */
  syscall (SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  int flags = fcntl (s->vsock_fd, F_GETFD);
  if (flags < 0 || fcntl (s->vsock_fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
    _exit (127);
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  execvp (argv[0], argv);
  fprintf (stderr, "exec %s: %s\n", argv[0], strerror (errno));
  _exit (127);
}

int
hy_qemu_spawn (const struct hy_qemu_spec *s, int log_fd, pid_t *pid,
               int *pidfd, hy_error_t *err)
{
  _cleanup_strv_ char **argv = hy_qemu_argv (s);
  pid_t child = fork ();
  if (child < 0)
    return hy_error_errno (err, "fork for %s", argv[0]);
  if (child == 0)
    exec_qemu (s, argv, log_fd);
  *pid = child;
  *pidfd = (int) syscall (SYS_pidfd_open, child, 0);
  if (*pidfd < 0)
    {
      int e = errno;
      kill (child, SIGKILL);
      errno = e;
      return hy_error_errno (err, "pidfd_open of %s", argv[0]);
    }
  fcntl (*pidfd, F_SETFD, FD_CLOEXEC);
  return 0;
}
