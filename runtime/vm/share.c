#include "runtime/vm/share.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/linux/mounts.h"
#include "runtime/linux/rootfs.h"

/* A mount point like the source: a directory, or an empty file. */
static int
make_mount_point (const char *source, const char *target, hy_error_t *err)
{
  struct stat st;
  if (stat (source, &st) < 0)
    return hy_error_errno (err, "stat `%s`", source);
  if (S_ISDIR (st.st_mode))
    {
      if (mkdir (target, 0755) < 0)
        return hy_error_errno (err, "mkdir `%s`", target);
      return 0;
    }
  int fd = open (target, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    return hy_error_errno (err, "create `%s`", target);
  close (fd);
  return 0;
}

static int
bind_into_share (const char *source, const char *target, hy_error_t *err)
{
  if (make_mount_point (source, target, err) < 0)
    return -1;
  if (mount (source, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return hy_error_errno (err, "bind `%s` into the VM share", source);
  return 0;
}

static int
mkdir_in (const char *dir, const char *name, hy_error_t *err)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", dir, name);
  if (mkdir (path, 0711) < 0 || chmod (path, 0711) < 0)
    return hy_error_errno (err, "mkdir `%s`", path);
  return 0;
}

int
hy_vm_share_prepare (const struct oci_config *c, const char *rootfs,
                     const char *share_dir, hy_error_t *err)
{
  if (hy_rootfs_set_propagation (NULL, err) < 0)
    return -1;
  /* 0711: the share is the guest's 9p root, which a container with a user
   * namespace crosses as a non-root uid; vm/ above it keeps host users
   * out. */
  if (mkdir (share_dir, 0711) < 0 || chmod (share_dir, 0711) < 0)
    return hy_error_errno (err, "mkdir `%s`", share_dir);
  if (mkdir_in (share_dir, "mounts", err) < 0)
    return -1;
  _cleanup_free_ char *root = xasprintf ("%s/rootfs", share_dir);
  if (bind_into_share (rootfs, root, err) < 0)
    return hy_error_prepend (err, "rootfs");
  for (size_t i = 0; i < c->n_mounts; i++)
    {
      const struct oci_mount *m = &c->mounts[i];
      if (!hy_mount_is_bind (m) || m->source == NULL)
        continue;
      _cleanup_free_ char *target = xasprintf ("%s/mounts/%zu", share_dir, i);
      if (bind_into_share (m->source, target, err) < 0)
        return hy_error_prepend (err, "mount `%s`", m->destination);
    }
  return 0;
}

/* ---- the guest's config.json ---- */

void
hy_vm_guest_config_init (struct hy_vm_guest_config *g,
                         const struct oci_config *c)
{
  *g = (struct hy_vm_guest_config){ .config = *c, .n_mounts = c->n_mounts };
  g->root = (struct oci_root){ .path = HY_VM_GUEST_SHARE "/rootfs",
                               .readonly = c->root && c->root->readonly };
  g->config.root = &g->root;
  g->config.hooks = NULL;
  const struct oci_hooks *h = c->hooks;
  if (h && h->count[OCI_HOOK_START_CONTAINER] > 0)
    {
      g->hooks.list[OCI_HOOK_START_CONTAINER]
          = h->list[OCI_HOOK_START_CONTAINER];
      g->hooks.count[OCI_HOOK_START_CONTAINER]
          = h->count[OCI_HOOK_START_CONTAINER];
      g->hooks.present[OCI_HOOK_START_CONTAINER] = true;
      g->config.hooks = &g->hooks;
    }
  g->mounts = xmalloc0 ((c->n_mounts + 1) * sizeof (*g->mounts));
  g->sources = xmalloc0 ((c->n_mounts + 1) * sizeof (char *));
  for (size_t i = 0; i < c->n_mounts; i++)
    {
      g->mounts[i] = c->mounts[i];
      if (!hy_mount_is_bind (&c->mounts[i]) || c->mounts[i].source == NULL)
        continue;
      g->sources[i] = xasprintf ("%s/mounts/%zu", HY_VM_GUEST_SHARE, i);
      g->mounts[i].source = g->sources[i];
    }
  g->config.mounts = g->mounts;
  if (c->linux_ == NULL)
    return;
  g->linux_ = *c->linux_;
  g->linux_.cgroups_path = NULL;
  g->linux_.resources = NULL;
  const struct oci_resources *r = c->linux_->resources;
  if (r && r->n_devices > 0)
    {
      g->resources = (struct oci_resources){ .devices = r->devices,
                                             .n_devices = r->n_devices,
                                             .has_devices = true };
      g->linux_.resources = &g->resources;
    }
  g->namespaces = xmalloc0 ((g->linux_.n_namespaces + 1)
                            * sizeof (*g->namespaces));
  for (size_t i = 0; i < g->linux_.n_namespaces; i++)
    g->namespaces[i]
        = (struct oci_namespace){ .type = c->linux_->namespaces[i].type };
  g->linux_.namespaces = g->namespaces;
  g->config.linux_ = &g->linux_;
}

void
hy_vm_guest_config_release (struct hy_vm_guest_config *g)
{
  for (size_t i = 0; i < g->n_mounts; i++)
    free (g->sources[i]);
  free (g->sources);
  free (g->mounts);
  free (g->namespaces);
}
