#include "runtime/linux/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/linux/namespaces.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

static const char *const ipc_sysctls[] = {
  "kernel.msgmax", "kernel.msgmnb",          "kernel.msgmni",
  "kernel.sem",    "kernel.shmall",          "kernel.shmmax",
  "kernel.shmmni", "kernel.shm_rmid_forced", NULL,
};

/* The key with '.' separators, for the checks ("net/ipv4/ip_forward"). */
static char *
dotted (const char *key)
{
  char *k = xstrdup (key);
  if (strchr (k, '/'))
    for (char *p = k; *p; p++)
      if (*p == '/')
        *p = '.';
  return k;
}

/* Private and not the namespace this process is already in. */
static bool
ns_is_own (const struct oci_linux *l, enum oci_namespace_type type)
{
  const struct oci_namespace *ns = hy_ns_find (l, type);
  if (ns == NULL)
    return false;
  if (ns->path == NULL)
    return true;
  _cleanup_free_ char *self
      = xasprintf ("/proc/self/ns/%s", hy_ns_proc_name (type));
  struct stat a, b;
  if (stat (ns->path, &a) < 0 || stat (self, &b) < 0)
    return true; /* joining fails later, naming the path */
  return a.st_dev != b.st_dev || a.st_ino != b.st_ino;
}

static int
validate_key (const struct oci_linux *l, const char *key, hy_error_t *err)
{
  _cleanup_free_ char *k = dotted (key);
  if (strv_contains ((char *const *) ipc_sysctls, k)
      || str_has_prefix (k, "fs.mqueue."))
    return ns_is_own (l, OCI_NS_IPC)
               ? 0
               : hy_error (err, EPERM,
                           "sysctl \"%s\" is not allowed in the "
                           "host's ipc namespace",
                           key);
  if (str_has_prefix (k, "net."))
    return ns_is_own (l, OCI_NS_NETWORK)
               ? 0
               : hy_error (err, EPERM,
                           "sysctl \"%s\" is not allowed in the "
                           "host's network namespace",
                           key);
  if (ns_is_own (l, OCI_NS_UTS) && str_eq (k, "kernel.domainname"))
    return 0;
  if (ns_is_own (l, OCI_NS_UTS) && str_eq (k, "kernel.hostname"))
    return hy_error (err, EPERM,
                     "sysctl \"%s\" is not allowed as it "
                     "conflicts with the OCI \"hostname\" field",
                     key);
  return hy_error (err, EPERM,
                   "sysctl \"%s\" is not in a separate kernel "
                   "namespace",
                   key);
}

int
hy_sysctl_validate (const struct oci_config *c, hy_error_t *err)
{
  const struct oci_linux *l = c->linux_;
  for (size_t i = 0; l && i < l->sysctl.len; i++)
    if (validate_key (l, l->sysctl.keys[i], err) < 0)
      return -1;
  return 0;
}

/* The path under /proc/sys; the parser refused empty components, so no
 * ".." can appear, and openat2 keeps it beneath /proc/sys anyway. */
static char *
sysctl_path (const char *key)
{
  char *p = xstrdup (key);
  if (strchr (p, '/') == NULL)
    for (char *q = p; *q; q++)
      if (*q == '.')
        *q = '/';
  return p;
}

static int
write_sysctl (int procsys, const char *key, const char *value, hy_error_t *err)
{
  _cleanup_free_ char *rel = sysctl_path (key);
  struct open_how how = {
    .flags = O_WRONLY | O_TRUNC | O_CLOEXEC,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  _cleanup_close_ int fd
      = (int) syscall (SYS_openat2, procsys, rel, &how, sizeof (how));
  if (fd < 0)
    return hy_error_errno (err, "sysctl \"%s\": open `/proc/sys/%s`", key,
                           rel);
  size_t len = strlen (value);
  ssize_t w = write (fd, value, len);
  if (w < 0)
    return hy_error_errno (err, "sysctl \"%s\": write \"%s\"", key, value);
  if ((size_t) w != len)
    return hy_error (err, EIO, "sysctl \"%s\": short write", key);
  return 0;
}

int
hy_sysctl_apply (const struct oci_config *c, hy_error_t *err)
{
  const struct oci_linux *l = c->linux_;
  if (l == NULL || l->sysctl.len == 0)
    return 0;
  if (hy_sysctl_validate (c, err) < 0)
    return -1;
  _cleanup_close_ int procsys
      = open ("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (procsys < 0)
    return hy_error_errno (err, "open `/proc/sys`");
  for (size_t i = 0; i < l->sysctl.len; i++)
    if (write_sysctl (procsys, l->sysctl.keys[i], l->sysctl.values[i], err)
        < 0)
      return -1;
  return 0;
}

int
hy_uts_validate (const struct oci_config *c, hy_error_t *err)
{
  bool uts = hy_ns_is_private (c->linux_, OCI_NS_UTS);
  if (c->hostname && *c->hostname && !uts)
    return hy_error (err, EPERM,
                     "unable to set hostname without a private "
                     "UTS namespace");
  if (c->domainname && *c->domainname && !uts)
    return hy_error (err, EPERM,
                     "unable to set domainname without a private "
                     "UTS namespace");
  return 0;
}

int
hy_uts_apply (const struct oci_config *c, hy_error_t *err)
{
  if (hy_uts_validate (c, err) < 0)
    return -1;
  if (c->hostname && *c->hostname
      && sethostname (c->hostname, strlen (c->hostname)) < 0)
    return hy_error_errno (err, "sethostname \"%s\"", c->hostname);
  if (c->domainname && *c->domainname
      && setdomainname (c->domainname, strlen (c->domainname)) < 0)
    return hy_error_errno (err, "setdomainname \"%s\"", c->domainname);
  return 0;
}
