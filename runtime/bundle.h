/* An OCI bundle: its directory, its config.json and its root filesystem,
 * loaded and checked before anything is created. */
#ifndef HYRUN_RUNTIME_BUNDLE_H
#define HYRUN_RUNTIME_BUNDLE_H

#include "common/error.h"
#include "oci/annotations.h"
#include "oci/config.h"

struct hy_bundle
{
  char *dir; /* absolute, symlinks resolved */
  char *config_path; /* the config file actually read */
  char *rootfs; /* root.path made absolute */
  struct oci_config *config;
  struct hy_workload_opts opts; /* hyrun's annotations */
};

/* Load `dir` (NULL: the current directory) with its config.json, or
 * `config_file` instead (relative to the bundle, as crun takes -f).
 * Fails naming the file, field or annotation at fault; a root.path that is
 * not a directory reads
 * ".root.path: rootfs `<root.path>`: No such file or directory". */
int hy_bundle_load (const char *dir, const char *config_file,
                    struct hy_bundle **out, hy_error_t *err);

void hy_bundle_free (struct hy_bundle *b);

static inline void
hy_bundle_freep (struct hy_bundle **b)
{
  hy_bundle_free (*b);
}
#define _cleanup_bundle_ __attribute__ ((cleanup (hy_bundle_freep)))

#endif
