/* What the guest sees of the host: one directory exported over virtio-9p
 * (mount tag HY_VM_SHARE_TAG), mounted by the agent at
 * HY_VM_GUEST_SHARE:
 *
 *   rootfs/       the bundle's rootfs (bound, recursively)
 *   mounts/<n>    the source of the n-th mount of config.json when it is a
 *                 bind mount (a directory or a file, bound)
 *
 * The binds are made in the supervisor's own mount namespace (after "/" is
 * made a slave), so the host never sees them and they vanish with it.
 * The config the agent gets is rewritten to match (docs/AGENT-PROTOCOL.md):
 * root.path and bind sources point into the share; namespace paths,
 * cgroupsPath and resources but the device rules are dropped (they are the
 * host's; the device rules are the container's /dev), and so are
 * the hooks the host runs: only startContainer hooks stay, which run in
 * the container, in the guest. */
#ifndef HYRUN_VM_SHARE_H
#define HYRUN_VM_SHARE_H

#include <stdbool.h>

#include "common/error.h"
#include "oci/config.h"

#define HY_VM_GUEST_SHARE "/run/hyrun/share"

/* Make `share_dir` (which must not exist yet) with the binds above. */
int hy_vm_share_prepare (const struct oci_config *c, const char *rootfs,
                         const char *share_dir, hy_error_t *err);

/* The config the agent gets with `create`: a shallow copy of the host's
 * with the members above replaced (valid while `c` is). */
struct hy_vm_guest_config
{
  struct oci_config config;
  struct oci_root root;
  struct oci_linux linux_;
  struct oci_resources resources;
  struct oci_hooks hooks;
  struct oci_mount *mounts;
  struct oci_namespace *namespaces;
  char **sources;
  size_t n_mounts;
};

void hy_vm_guest_config_init (struct hy_vm_guest_config *g,
                              const struct oci_config *c);
void hy_vm_guest_config_release (struct hy_vm_guest_config *g);

#endif
