#include "runtime/host-features.h"

#include <ctype.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "oci/annotations.h"
#include "oci/config.h"
#include "runtime/linux/mount-options.h"
#include "version.h"

/* ---- small vector builders ---- */

static char **
strv_from_table (const char *const *names, size_t n)
{
  char **v = xmalloc0 ((n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    v[i] = xstrdup (names[i]);
  return v;
}

static char **
strv_from_null_ended (const char *const *names)
{
  size_t n = 0;
  while (names[n])
    n++;
  return strv_from_table (names, n);
}

static void
strv_append (char ***v, size_t *n, const char *s)
{
  *v = xrealloc (*v, (*n + 2) * sizeof (char *));
  (*v)[(*n)++] = xstrdup (s);
  (*v)[*n] = NULL;
}

/* ---- capabilities ---- */

char **
hy_known_capabilities (void)
{
  char **v = xmalloc0 (sizeof (char *));
  size_t n = 0;
  for (cap_value_t cap = 0; cap < cap_max_bits (); cap++)
    {
      char *name = cap_to_name (cap);
      /* Capabilities newer than libcap come back as bare numbers. */
      if (name && strncmp (name, "cap_", 4) == 0)
        {
          for (char *p = name; *p; p++)
            *p = (char) toupper ((unsigned char) *p);
          strv_append (&v, &n, name);
        }
      cap_free (name);
    }
  return v;
}

/* ---- seccomp ---- */

static long
seccomp_syscall (unsigned op, unsigned flags, void *args)
{
  return syscall (SYS_seccomp, op, flags, args);
}

/* With NULL for the filter, a flag the kernel accepts fails with EFAULT
 * (copying the program) and an unknown one with EINVAL; nothing is
 * installed either way. */
static bool
seccomp_flag_works (unsigned long flag)
{
  unsigned long flags = flag;
#ifdef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
  if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER; /* only valid with it */
#endif
  return seccomp_syscall (SECCOMP_SET_MODE_FILTER, (unsigned) flags, NULL) < 0
         && errno == EFAULT;
}

static bool
seccomp_enabled (void)
{
  return seccomp_flag_works (0);
}

/* How the filter loader (runtime/linux/seccomp.c) applies each flag: the
 * libseccomp attribute it sets.  A flag is supported when the kernel and
 * this libseccomp both take it. */
static const struct
{
  const char *name;
  unsigned long kernel_flag;
  int attr; /* enum scmp_filter_attr, -1 when libseccomp lacks it */
} seccomp_flags[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", 1UL << 0, SCMP_FLTATR_CTL_TSYNC },
  { "SECCOMP_FILTER_FLAG_LOG", 1UL << 1, SCMP_FLTATR_CTL_LOG },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", 1UL << 2, SCMP_FLTATR_CTL_SSB },
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1UL << 5,
    SCMP_FLTATR_CTL_WAITKILL },
#else
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1UL << 5, -1 },
#endif
};

static bool
libseccomp_takes (int attr)
{
  if (attr < 0)
    return false;
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  if (ctx == NULL)
    return false;
  bool ok = seccomp_attr_set (ctx, (enum scmp_filter_attr) attr, 1) == 0;
  seccomp_release (ctx);
  return ok;
}

static char **
supported_seccomp_flags (char *const *known)
{
  char **v = xmalloc0 (sizeof (char *));
  size_t n = 0;
  for (size_t i = 0; known[i]; i++)
    for (size_t j = 0; j < sizeof seccomp_flags / sizeof seccomp_flags[0]; j++)
      if (str_eq (known[i], seccomp_flags[j].name)
          && seccomp_flag_works (seccomp_flags[j].kernel_flag)
          && libseccomp_takes (seccomp_flags[j].attr))
        strv_append (&v, &n, known[i]);
  return v;
}

/* The kernel's return action behind each OCI action. */
static const uint32_t action_ret[OCI_SCMP_ACTIONS] = {
  [OCI_SCMP_KILL] = SECCOMP_RET_KILL_THREAD,
  [OCI_SCMP_KILL_PROCESS] = SECCOMP_RET_KILL_PROCESS,
  [OCI_SCMP_KILL_THREAD] = SECCOMP_RET_KILL_THREAD,
  [OCI_SCMP_TRAP] = SECCOMP_RET_TRAP,
  [OCI_SCMP_ERRNO] = SECCOMP_RET_ERRNO,
  [OCI_SCMP_TRACE] = SECCOMP_RET_TRACE,
  [OCI_SCMP_ALLOW] = SECCOMP_RET_ALLOW,
  [OCI_SCMP_LOG] = SECCOMP_RET_LOG,
  [OCI_SCMP_NOTIFY] = SECCOMP_RET_USER_NOTIF,
};

static bool
action_avail (uint32_t ret)
{
  return seccomp_syscall (SECCOMP_GET_ACTION_AVAIL, 0, &ret) == 0;
}

/* SECCOMP_GET_ACTION_AVAIL came with Linux 4.14; before it, only the
 * actions seccomp had from the start exist. */
static bool
seccomp_action_works (enum oci_seccomp_action a)
{
  if (action_avail (SECCOMP_RET_ALLOW))
    return action_avail (action_ret[a]);
  return a == OCI_SCMP_KILL || a == OCI_SCMP_KILL_THREAD || a == OCI_SCMP_TRAP
         || a == OCI_SCMP_ERRNO || a == OCI_SCMP_TRACE || a == OCI_SCMP_ALLOW;
}

static struct oci_features_seccomp *
seccomp_features (void)
{
  struct oci_features_seccomp *s = xmalloc0 (sizeof *s);
  bool enabled = seccomp_enabled ();
  s->enabled = oci_bool_of (enabled);
  s->actions = xmalloc0 (sizeof (char *));
  size_t n = 0;
  for (int a = 0; enabled && a < OCI_SCMP_ACTIONS; a++)
    if (seccomp_action_works ((enum oci_seccomp_action) a))
      strv_append (&s->actions, &n, oci_seccomp_action_names[a]);
  s->operators = strv_from_table (oci_seccomp_op_names, OCI_SCMP_OPS);
  s->archs = strv_from_null_ended (oci_seccomp_arch_names);
  s->known_flags = strv_from_null_ended (oci_seccomp_flag_names);
  s->supported_flags = enabled ? supported_seccomp_flags (s->known_flags)
                               : xmalloc0 (sizeof (char *));
  return s;
}

/* ---- mounts ---- */

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Exactly what the mount option parser accepts, sorted as runc lists
 * them. */
static char **
mount_options (void)
{
  char **v = xmalloc0 (sizeof (char *));
  size_t n = 0;
  for (const char *name; (name = hy_mount_option_name (n)) != NULL;)
    strv_append (&v, &n, name);
  qsort (v, n, sizeof (char *), compare_names);
  return v;
}

/* mount_setattr(2) (Linux 5.12) is what idmapped mounts need; a bad fd
 * makes the probe harmless. */
static bool
idmap_mounts_supported (void)
{
#ifdef SYS_mount_setattr
  long r = syscall (SYS_mount_setattr, -1, "", 0, NULL, (size_t) 0);
  return !(r < 0 && (errno == ENOSYS || errno == EPERM));
#else
  return false;
#endif
}

/* ---- the document ---- */

static struct oci_features_linux *
linux_features (void)
{
  struct oci_features_linux *l = xmalloc0 (sizeof *l);
  l->namespaces = strv_from_table (oci_namespace_names, OCI_NS_TYPES);
  l->capabilities = hy_known_capabilities ();
  l->cgroup = xmalloc0 (sizeof *l->cgroup);
  *l->cgroup = (struct oci_features_cgroup){
    .v1 = OCI_BOOL_TRUE,
    .v2 = OCI_BOOL_TRUE,
    .systemd = OCI_BOOL_FALSE,
    .systemd_user = OCI_BOOL_FALSE,
    .rdma = OCI_BOOL_FALSE,
  };
  l->seccomp = seccomp_features ();
  l->apparmor = OCI_BOOL_FALSE;
  l->selinux = OCI_BOOL_FALSE;
  l->intel_rdt = OCI_BOOL_FALSE;
  l->idmap_mounts = oci_bool_of (idmap_mounts_supported ());
  return l;
}

struct oci_features *
hy_host_features (void)
{
  struct oci_features *f = xmalloc0 (sizeof *f);
  f->oci_version_min = xstrdup (HY_FEATURES_OCI_VERSION_MIN);
  f->oci_version_max = xstrdup (HYRUN_OCI_VERSION);
  f->hooks = strv_from_table (oci_hook_kind_names, OCI_HOOK_KINDS);
  f->mount_options = mount_options ();
  f->linux_ = linux_features ();
  oci_strmap_set (&f->annotations, HY_ANNOTATION_FEATURES_VERSION,
                  HYRUN_VERSION);
  oci_strmap_set (&f->annotations, HY_ANNOTATION_FEATURES_COMMIT,
                  HYRUN_COMMIT);
  oci_strmap_set (&f->annotations, HY_ANNOTATION_ISOLATION, "container,vm");
  f->potentially_unsafe_config_annotations = xmalloc0 (sizeof (char *));
  return f;
}
