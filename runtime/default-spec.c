#include "runtime/default-spec.h"

#include <sys/resource.h>

#include "common/util.h"
#include "version.h"

static const char *const default_caps[]
    = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };

static const char *const default_env[]
    = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "TERM=xterm", NULL };

static const char *const masked_paths[] = {
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/sys/firmware",
  "/proc/scsi",
  NULL,
};

static const char *const readonly_paths[]
    = { "/proc/bus",           "/proc/fs", "/proc/irq", "/proc/sys",
        "/proc/sysrq-trigger", NULL };

static char **
strv (const char *const *v)
{
  return strv_dup ((char *const *) v);
}

static struct oci_process *
default_process (void)
{
  struct oci_process *p = xmalloc0 (sizeof *p);
  p->terminal = true;
  p->has_user = true; /* uid 0, gid 0, written out */
  p->args = strv ((const char *const[]){ "sh", NULL });
  p->env = strv (default_env);
  p->cwd = xstrdup ("/");
  p->capabilities = xmalloc0 (sizeof *p->capabilities);
  p->capabilities->bounding = strv (default_caps);
  p->capabilities->effective = strv (default_caps);
  p->capabilities->permitted = strv (default_caps);
  p->capabilities->ambient = strv (default_caps);
  p->rlimits = xmalloc0 (sizeof *p->rlimits);
  p->rlimits[0] = (struct oci_rlimit){ .type = xstrdup ("RLIMIT_NOFILE"),
                                       .resource = RLIMIT_NOFILE,
                                       .soft = 1024,
                                       .hard = 1024 };
  p->n_rlimits = 1;
  p->no_new_privileges = true;
  return p;
}

struct mount_template
{
  const char *destination, *type, *source;
  const char *const *options;
};

static const struct mount_template default_mounts[] = {
  { "/proc", "proc", "proc", NULL },
  { "/dev", "tmpfs", "tmpfs",
    (const char *const[]){ "nosuid", "strictatime", "mode=755", "size=65536k",
                           NULL } },
  { "/dev/pts", "devpts", "devpts",
    (const char *const[]){ "nosuid", "noexec", "newinstance", "ptmxmode=0666",
                           "mode=0620", "gid=5", NULL } },
  { "/dev/shm", "tmpfs", "shm",
    (const char *const[]){ "nosuid", "noexec", "nodev", "mode=1777",
                           "size=65536k", NULL } },
  { "/dev/mqueue", "mqueue", "mqueue",
    (const char *const[]){ "nosuid", "noexec", "nodev", NULL } },
  { "/sys", "sysfs", "sysfs",
    (const char *const[]){ "nosuid", "noexec", "nodev", "ro", NULL } },
  { "/sys/fs/cgroup", "cgroup", "cgroup",
    (const char *const[]){ "nosuid", "noexec", "nodev", "relatime", "ro",
                           NULL } },
};
#define N_DEFAULT_MOUNTS (sizeof default_mounts / sizeof default_mounts[0])

/* Without privileges over the host's devpts group and sysfs, a rootless
 * container drops gid=5 and bind-mounts /sys instead. */
static const char *const rootless_devpts_options[] = {
  "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL
};
static const struct mount_template rootless_sys
    = { "/sys", "none", "/sys",
        (const char *const[]){ "rbind", "nosuid", "noexec", "nodev", "ro",
                               NULL } };

static void
fill_mount (struct oci_mount *m, const struct mount_template *t)
{
  m->destination = xstrdup (t->destination);
  m->type = xstrdup (t->type);
  m->source = xstrdup (t->source);
  m->options = t->options ? strv (t->options) : NULL;
}

static void
default_mounts_into (struct oci_config *c, bool rootless)
{
  c->mounts = xmalloc0 (N_DEFAULT_MOUNTS * sizeof *c->mounts);
  c->n_mounts = N_DEFAULT_MOUNTS;
  c->has_mounts = true;
  for (size_t i = 0; i < N_DEFAULT_MOUNTS; i++)
    {
      struct mount_template t = default_mounts[i];
      if (rootless && str_eq (t.destination, "/dev/pts"))
        t.options = rootless_devpts_options;
      if (rootless && str_eq (t.destination, "/sys"))
        t = rootless_sys;
      fill_mount (&c->mounts[i], &t);
    }
}

static void
add_namespace (struct oci_linux *l, enum oci_namespace_type type)
{
  l->namespaces = xrealloc (l->namespaces,
                            (l->n_namespaces + 1) * sizeof *l->namespaces);
  l->namespaces[l->n_namespaces++] = (struct oci_namespace){ .type = type };
}

static struct oci_idmap *
single_idmap (uint32_t host_id)
{
  struct oci_idmap *m = xmalloc0 (sizeof *m);
  *m = (struct oci_idmap){ .container_id = 0, .host_id = host_id, .size = 1 };
  return m;
}

static struct oci_linux *
default_linux (bool rootless, uid_t uid, gid_t gid)
{
  struct oci_linux *l = xmalloc0 (sizeof *l);
  add_namespace (l, OCI_NS_PID);
  if (!rootless)
    add_namespace (l, OCI_NS_NETWORK);
  add_namespace (l, OCI_NS_IPC);
  add_namespace (l, OCI_NS_UTS);
  add_namespace (l, OCI_NS_MOUNT);
  if (rootless)
    {
      add_namespace (l, OCI_NS_USER);
      l->uid_mappings = single_idmap (uid);
      l->n_uid_mappings = 1;
      l->gid_mappings = single_idmap (gid);
      l->n_gid_mappings = 1;
    }
  else
    {
      l->resources = xmalloc0 (sizeof *l->resources);
      l->resources->devices = xmalloc0 (sizeof *l->resources->devices);
      l->resources->devices[0]
          = (struct oci_device_rule){ .allow = false,
                                      .access = xstrdup ("rwm") };
      l->resources->n_devices = 1;
      l->resources->has_devices = true;
    }
  l->masked_paths = strv (masked_paths);
  l->readonly_paths = strv (readonly_paths);
  return l;
}

struct oci_config *
hy_default_spec (bool rootless, uid_t uid, gid_t gid)
{
  struct oci_config *c = xmalloc0 (sizeof *c);
  c->oci_version = xstrdup (HYRUN_OCI_VERSION);
  c->process = default_process ();
  c->root = xmalloc0 (sizeof *c->root);
  c->root->path = xstrdup ("rootfs");
  c->root->readonly = true;
  c->hostname = xstrdup ("hyrun");
  default_mounts_into (c, rootless);
  c->linux_ = default_linux (rootless, uid, gid);
  return c;
}
