/* hyrun's own annotations in config.json, read without side effects.
 *
 *   io.hyrun.isolation   "container" | "vm"
 *   run.oci.handler      "krun" means vm (crun's spelling)
 *   io.hyrun.vm.cpus     1..255 vCPUs              (vm mode)
 *   io.hyrun.vm.memory   bytes, or with K/M/G suffix (vm mode, >= 64M)
 *
 * Any other io.hyrun.* key is rejected so that a typo does not silently
 * fall back to a default. */
#ifndef HYRUN_OCI_ANNOTATIONS_H
#define HYRUN_OCI_ANNOTATIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "oci/json.h"

#define HY_ANNOTATION_ISOLATION "io.hyrun.isolation"
#define HY_ANNOTATION_VM_CPUS "io.hyrun.vm.cpus"
#define HY_ANNOTATION_VM_MEMORY "io.hyrun.vm.memory"
#define HY_ANNOTATION_CRUN_HANDLER "run.oci.handler"

enum hy_isolation
{
  HY_ISOLATION_UNSET = 0,
  HY_ISOLATION_CONTAINER,
  HY_ISOLATION_VM,
};

const char *hy_isolation_name (enum hy_isolation i);
/* "container" / "vm"; returns <0 (without touching err) for other text. */
int hy_isolation_from_name (const char *s, enum hy_isolation *out);

struct hy_workload_opts
{
  enum hy_isolation isolation; /* UNSET when no annotation asks */
  uint32_t vm_cpus;            /* 0 when not given */
  uint64_t vm_memory;          /* bytes; 0 when not given */
};

/* Read hyrun's annotations; errors name the annotation, e.g.
 * `annotation io.hyrun.isolation: invalid value "vms" (expected container or vm)`. */
int hy_workload_opts_parse (const oci_strmap *annotations,
                            struct hy_workload_opts *out, hy_error_t *err);

/* The isolation a workload runs with: the annotation, else the program
 * name ("hyrun-vm" means vm), else the configured default, else container. */
enum hy_isolation hy_isolation_resolve (enum hy_isolation from_annotations,
                                        const char *program_name,
                                        enum hy_isolation configured_default);

#endif
