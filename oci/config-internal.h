/* The section parsers behind oci_config_parse(); one file per section:
 *   config.c            document, root, mounts, hostname, annotations
 *   config-process.c    process (also the exec -p process.json document)
 *   config-hooks.c      hooks
 *   config-linux.c      linux (namespaces, idmaps, devices, sysctl, ...)
 *   config-resources.c  linux.resources
 *   config-seccomp.c    linux.seccomp
 * Each parse_* takes the JSON value of its section (already known to be
 * present and non-null) and the path of that value; each oci_gen_* writes
 * its own key ("process": {...}). */
#ifndef HYRUN_OCI_CONFIG_INTERNAL_H
#define HYRUN_OCI_CONFIG_INTERNAL_H

#include "oci/config.h"

void oci_gen_process (yajl_gen g, const struct oci_process *p);
void oci_process_free (struct oci_process *p);

int oci_parse_hooks (yajl_val v, const oci_jpath *at, struct oci_hooks **out,
                     hy_error_t *err);
void oci_gen_hooks (yajl_gen g, const struct oci_hooks *h);
void oci_hooks_free (struct oci_hooks *h);

int oci_parse_linux (yajl_val v, const oci_jpath *at, struct oci_linux **out,
                     hy_error_t *err);
void oci_gen_linux (yajl_gen g, const struct oci_linux *l);
void oci_linux_free (struct oci_linux *l);

int oci_parse_resources (yajl_val v, const oci_jpath *at,
                         struct oci_resources **out, hy_error_t *err);
void oci_gen_resources (yajl_gen g, const struct oci_resources *r);
void oci_resources_free (struct oci_resources *r);

int oci_parse_seccomp (yajl_val v, const oci_jpath *at,
                       struct oci_seccomp **out, hy_error_t *err);
void oci_gen_seccomp (yajl_gen g, const struct oci_seccomp *s);
void oci_seccomp_free (struct oci_seccomp *s);

#endif
