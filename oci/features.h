/* The runtime-spec features document (features.md): what a runtime
 * implements, printed by `hyrun features`.
 *
 * Same conventions as config.h: strings and vectors are owned and NULL
 * when absent (an empty vector is written as []), sections are NULL when
 * absent, and optional booleans are tri-state so that "unknown" is not
 * written.  The model has no side effects; the runtime fills it in. */
#ifndef HYRUN_OCI_FEATURES_H
#define HYRUN_OCI_FEATURES_H

#include <stdbool.h>

#include "oci/json.h"

typedef enum
{
  OCI_BOOL_UNSET = 0, /* not written */
  OCI_BOOL_FALSE,
  OCI_BOOL_TRUE,
} oci_bool;

static inline oci_bool
oci_bool_of (bool b)
{
  return b ? OCI_BOOL_TRUE : OCI_BOOL_FALSE;
}

struct oci_features_cgroup
{
  oci_bool v1, v2, systemd, systemd_user, rdma;
};

struct oci_features_seccomp
{
  oci_bool enabled;
  char **actions;
  char **operators;
  char **archs;
  char **known_flags;
  char **supported_flags;
};

struct oci_features_linux
{
  char **namespaces;
  char **capabilities;
  struct oci_features_cgroup *cgroup;
  struct oci_features_seccomp *seccomp;
  oci_bool apparmor; /* written as {"enabled": ...}, omitted when unset */
  oci_bool selinux;
  oci_bool intel_rdt;
  oci_bool idmap_mounts; /* mountExtensions.idmap.enabled */
};

struct oci_features
{
  char *oci_version_min;
  char *oci_version_max;
  char **hooks;
  char **mount_options;
  struct oci_features_linux *linux_;
  oci_strmap annotations; /* written when it has entries */
  char **potentially_unsafe_config_annotations;
};

/* Serialize (two-space indent when pretty).  Caller frees. */
char *oci_features_to_json (const struct oci_features *f, bool pretty);

void oci_features_free (struct oci_features *f);

static inline void
oci_features_freep (struct oci_features **f)
{
  oci_features_free (*f);
}
#define _cleanup_features_ __attribute__ ((cleanup (oci_features_freep)))

#endif
