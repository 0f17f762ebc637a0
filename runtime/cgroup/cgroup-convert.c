/* Pure conversions from the runtime-spec values to what cgroup files
 * take, as runc writes them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

uint64_t
hy_cg_shares_to_weight (uint64_t shares)
{
  if (shares == 0)
    return 0;
  if (shares <= 2)
    return 1;
  if (shares >= 262144)
    return 10000;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t
hy_cg_blkio_to_io_weight (uint64_t weight)
{
  if (weight == 0)
    return 0;
  if (weight <= 10)
    return 1;
  if (weight >= 1000)
    return 10000;
  return 1 + (weight - 10) * 9999 / 990;
}

int
hy_cg_swap_v2 (int64_t swap, bool has_swap, int64_t limit, bool has_limit,
               int64_t *out, hy_error_t *err)
{
  if (!has_swap)
    swap = 0;
  if (!has_limit)
    limit = 0;
  if (limit == -1 && swap == 0)
    *out = -1; /* "unlimited memory" means unlimited swap too, as on v1 */
  else if (swap == -1 || swap == 0 || limit == -1)
    *out = swap;
  else if (limit == 0)
    return hy_error (err, EINVAL,
                     "linux.resources.memory.swap: cannot set "
                     "a swap limit without a memory limit");
  else if (swap < limit)
    return hy_error (err, EINVAL,
                     "linux.resources.memory.swap: %" PRId64
                     " is below the memory limit %" PRId64
                     " (swap is memory+swap)",
                     swap, limit);
  else
    *out = swap - limit;
  return 0;
}

char *
hy_cg_cpu_max (const struct oci_cpu *cpu)
{
  bool quota = cpu->has_quota && cpu->quota != 0;
  bool period = cpu->has_period && cpu->period != 0;
  if (!quota && !period)
    return NULL;
  uint64_t p = period ? cpu->period : 100000;
  if (quota && cpu->quota > 0)
    return xasprintf ("%" PRId64 " %" PRIu64, cpu->quota, p);
  return xasprintf ("max %" PRIu64, p);
}

char *
hy_cg_io_max_line (const struct oci_throttle_device *d, const char *key)
{
  return xasprintf ("%" PRId64 ":%" PRId64 " %s=%" PRIu64, d->major, d->minor,
                    key, d->rate);
}

static void
format_number (char *buf, size_t size, int64_t n, bool has)
{
  if (!has || n < 0)
    snprintf (buf, size, "*");
  else
    snprintf (buf, size, "%" PRId64, n);
}

char *
hy_cg_device_rule_v1 (const struct oci_device_rule *r)
{
  if (r->type == 0 || r->type == 'a')
    return xstrdup ("a");
  char major[24], minor[24];
  format_number (major, sizeof major, r->major, r->has_major);
  format_number (minor, sizeof minor, r->minor, r->has_minor);
  char access[4] = "", *a = access;
  for (const char *c = "rwm"; *c; c++)
    if (r->access == NULL || *r->access == '\0' || strchr (r->access, *c))
      *a++ = *c;
  *a = '\0';
  return xasprintf ("%c %s:%s %s", r->type, major, minor, access);
}

char *
hy_cg_rdma_line (const struct oci_rdma *r)
{
  char handles[32] = "", objects[32] = "";
  if (r->has_hca_handles)
    snprintf (handles, sizeof handles, " hca_handle=%" PRIu32, r->hca_handles);
  if (r->has_hca_objects)
    snprintf (objects, sizeof objects, " hca_object=%" PRIu32, r->hca_objects);
  return xasprintf ("%s%s%s", r->device, handles, objects);
}

char *
hy_cg_pids_max (int64_t limit)
{
  return limit > 0 ? xasprintf ("%" PRId64, limit) : xstrdup ("max");
}
