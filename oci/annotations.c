#include "oci/annotations.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define VM_MEMORY_MIN (64ull << 20)
#define VM_MEMORY_MAX (1ull << 40)
#define VM_CPUS_MAX 255

const char *
hy_isolation_name (enum hy_isolation i)
{
  switch (i)
    {
    case HY_ISOLATION_CONTAINER:
      return "container";
    case HY_ISOLATION_VM:
      return "vm";
    default:
      return "unset";
    }
}

int
hy_isolation_from_name (const char *s, enum hy_isolation *out)
{
  if (str_eq (s, "container"))
    *out = HY_ISOLATION_CONTAINER;
  else if (str_eq (s, "vm"))
    *out = HY_ISOLATION_VM;
  else
    return -1;
  return 0;
}

/* "512M", "1G", "268435456": a size in bytes with an optional binary unit. */
static int
parse_size (const char *s, uint64_t *out)
{
  char *end;
  if (s[0] < '0' || s[0] > '9')
    return -1;
  unsigned long long v = strtoull (s, &end, 10);
  unsigned shift = 0;
  switch (*end)
    {
    case '\0':
      break;
    case 'k': case 'K':
      shift = 10;
      break;
    case 'm': case 'M':
      shift = 20;
      break;
    case 'g': case 'G':
      shift = 30;
      break;
    default:
      return -1;
    }
  if (*end && end[1] != '\0' && strcmp (end + 1, "i") && strcmp (end + 1, "iB")
      && strcmp (end + 1, "B"))
    return -1;
  if (v > (VM_MEMORY_MAX >> shift))
    return -1;
  *out = (uint64_t) v << shift;
  return 0;
}

static int
annotation_error (hy_error_t *err, const char *key, const char *value,
                  const char *expected)
{
  return hy_error (err, 0, "annotation %s: invalid value \"%s\" (expected %s)",
                   key, value, expected);
}

static int
parse_isolation (const oci_strmap *a, enum hy_isolation *out,
                 hy_error_t *err)
{
  const char *value = oci_strmap_get (a, HY_ANNOTATION_ISOLATION);
  const char *handler = oci_strmap_get (a, HY_ANNOTATION_CRUN_HANDLER);
  enum hy_isolation from_handler = HY_ISOLATION_UNSET;

  if (handler && *handler)
    {
      if (!str_eq (handler, "krun"))
        return annotation_error (err, HY_ANNOTATION_CRUN_HANDLER, handler,
                                 "krun");
      from_handler = HY_ISOLATION_VM;
    }
  if (value == NULL)
    {
      *out = from_handler;
      return 0;
    }
  if (hy_isolation_from_name (value, out) < 0)
    return annotation_error (err, HY_ANNOTATION_ISOLATION, value,
                             "container or vm");
  if (from_handler != HY_ISOLATION_UNSET && *out != from_handler)
    return hy_error (err, 0,
                     "annotation %s=%s contradicts %s=%s", 
                     HY_ANNOTATION_ISOLATION, value,
                     HY_ANNOTATION_CRUN_HANDLER, handler);
  return 0;
}

static int
parse_vm_sizing (const oci_strmap *a, struct hy_workload_opts *o,
                 hy_error_t *err)
{
  const char *cpus = oci_strmap_get (a, HY_ANNOTATION_VM_CPUS);
  const char *memory = oci_strmap_get (a, HY_ANNOTATION_VM_MEMORY);
  if (cpus)
    {
      long long n;
      if (parse_int64 (cpus, 1, VM_CPUS_MAX, &n) < 0)
        return annotation_error (err, HY_ANNOTATION_VM_CPUS, cpus,
                                 "an integer from 1 to 255");
      o->vm_cpus = (uint32_t) n;
    }
  if (memory)
    {
      uint64_t bytes;
      if (parse_size (memory, &bytes) < 0 || bytes < VM_MEMORY_MIN)
        return annotation_error (err, HY_ANNOTATION_VM_MEMORY, memory,
                                 "a size such as 512M, at least 64M");
      o->vm_memory = bytes;
    }
  return 0;
}

static int
reject_unknown (const oci_strmap *a, hy_error_t *err)
{
  static const char *const known[]
      = { HY_ANNOTATION_ISOLATION, HY_ANNOTATION_VM_CPUS,
          HY_ANNOTATION_VM_MEMORY, NULL };
  for (size_t i = 0; i < a->len; i++)
    if (str_has_prefix (a->keys[i], "io.hyrun.")
        && !strv_contains ((char *const *) known, a->keys[i]))
      return hy_error (err, 0, "annotation %s: unknown hyrun annotation",
                       a->keys[i]);
  return 0;
}

int
hy_workload_opts_parse (const oci_strmap *annotations,
                        struct hy_workload_opts *out, hy_error_t *err)
{
  struct hy_workload_opts o = { 0 };
  if (reject_unknown (annotations, err) < 0
      || parse_isolation (annotations, &o.isolation, err) < 0
      || parse_vm_sizing (annotations, &o, err) < 0)
    return -1;
  *out = o;
  return 0;
}

enum hy_isolation
hy_isolation_resolve (enum hy_isolation from_annotations,
                      const char *program_name,
                      enum hy_isolation configured_default)
{
  if (from_annotations != HY_ISOLATION_UNSET)
    return from_annotations;
  if (str_eq (program_name, "hyrun-vm"))
    return HY_ISOLATION_VM;
  if (configured_default != HY_ISOLATION_UNSET)
    return configured_default;
  return HY_ISOLATION_CONTAINER;
}
