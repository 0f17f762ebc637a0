#include "runtime/update.h"

#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/config-internal.h"
#include "runtime/log.h"
#include "runtime/status.h"
#include "runtime/vm/machine.h"

#define SWAP(a, b)                                                            \
  do                                                                          \
    {                                                                         \
      __typeof__ (a) tmp_ = (a);                                              \
      (a) = (b);                                                              \
      (b) = tmp_;                                                             \
    }                                                                         \
  while (0)

/* A scalar the update sets replaces the stored one. */
#define TAKE(dst, src, f)                                                     \
  do                                                                          \
    if ((src)->has_##f)                                                       \
      {                                                                       \
        (dst)->f = (src)->f;                                                  \
        (dst)->has_##f = true;                                                \
      }                                                                       \
  while (0)

/* A list the update gives replaces the stored one (swapped, so that the
 * old one is freed with the update). */
#define TAKE_LIST(dst, src, f)                                                \
  do                                                                          \
    if ((src)->f)                                                             \
      {                                                                       \
        SWAP ((dst)->f, (src)->f);                                            \
        SWAP ((dst)->n_##f, (src)->n_##f);                                    \
      }                                                                       \
  while (0)

#define TAKE_STR(dst, src, f)                                                 \
  do                                                                          \
    if ((src)->f)                                                             \
      SWAP ((dst)->f, (src)->f);                                              \
  while (0)

static void *
ensure (void **p, size_t size)
{
  if (*p == NULL)
    *p = xmalloc0 (size);
  return *p;
}
#define ENSURE(p) ((__typeof__ (p)) ensure ((void **) &(p), sizeof (*(p))))

static void
merge_memory (struct oci_memory *d, const struct oci_memory *s)
{
  TAKE (d, s, limit);
  TAKE (d, s, reservation);
  TAKE (d, s, swap);
  TAKE (d, s, kernel);
  TAKE (d, s, kernel_tcp);
  TAKE (d, s, swappiness);
  TAKE (d, s, disable_oom_killer);
  TAKE (d, s, use_hierarchy);
  TAKE (d, s, check_before_update);
}

static void
merge_cpu (struct oci_cpu *d, struct oci_cpu *s)
{
  TAKE (d, s, shares);
  TAKE (d, s, quota);
  TAKE (d, s, burst);
  TAKE (d, s, period);
  TAKE (d, s, realtime_runtime);
  TAKE (d, s, realtime_period);
  TAKE (d, s, idle);
  TAKE_STR (d, s, cpus);
  TAKE_STR (d, s, mems);
}

static void
merge_block_io (struct oci_block_io *d, struct oci_block_io *s)
{
  TAKE (d, s, weight);
  TAKE (d, s, leaf_weight);
  TAKE_LIST (d, s, weight_device);
  TAKE_LIST (d, s, throttle_read_bps);
  TAKE_LIST (d, s, throttle_write_bps);
  TAKE_LIST (d, s, throttle_read_iops);
  TAKE_LIST (d, s, throttle_write_iops);
}

static void
merge_network (struct oci_network *d, struct oci_network *s)
{
  TAKE (d, s, class_id);
  TAKE_LIST (d, s, priorities);
}

/* Everything but devices, which update leaves alone. */
static void
merge_resources (struct oci_resources *d, struct oci_resources *s)
{
  if (s->memory)
    merge_memory (ENSURE (d->memory), s->memory);
  if (s->cpu)
    merge_cpu (ENSURE (d->cpu), s->cpu);
  if (s->block_io)
    merge_block_io (ENSURE (d->block_io), s->block_io);
  if (s->network)
    merge_network (ENSURE (d->network), s->network);
  TAKE_LIST (d, s, hugepage_limits);
  TAKE_LIST (d, s, rdma);
  if (s->has_pids)
    {
      d->has_pids = true;
      d->pids_limit = s->pids_limit;
    }
  for (size_t i = 0; i < s->unified.len; i++)
    oci_strmap_set (&d->unified, s->unified.keys[i], s->unified.values[i]);
  d->has_unified |= s->has_unified;
}

/* runc's reading of an update: 0 means "unchanged" for the pids limit;
 * a quota or period given alone keeps the other's stored value (cgroup v2
 * writes both in cpu.max); devices are never updated. */
static void
normalize (struct oci_resources *res, const struct oci_resources *stored)
{
  if (res->has_devices)
    hy_log_debug ("update: linux.resources.devices is ignored, as in runc");
  res->has_devices = false;
  if (res->has_pids && res->pids_limit == 0)
    res->has_pids = false;
  struct oci_cpu *c = res->cpu;
  const struct oci_cpu *old = stored ? stored->cpu : NULL;
  if (c == NULL || old == NULL || c->has_quota == c->has_period)
    return;
  if (!c->has_period && old->has_period)
    {
      c->period = old->period;
      c->has_period = true;
    }
  if (!c->has_quota && old->has_quota)
    {
      c->quota = old->quota;
      c->has_quota = true;
    }
}

static int
write_config_copy (struct hy_container *c, hy_error_t *err)
{
  _cleanup_free_ char *json = oci_config_to_json (c->config, false);
  _cleanup_free_ char *path
      = xasprintf ("/proc/self/fd/%d/%s", c->dirfd, HY_CONFIG_COPY);
  if (write_file_atomic (path, json, strlen (json), 0600, err) < 0)
    return hy_error_prepend (err, "record the new resources");
  return 0;
}

int
hy_container_update (struct hy_container *c, struct oci_resources *res,
                     hy_error_t *err)
{
  enum oci_status st = hy_container_status (c);
  if (st == OCI_STATUS_STOPPED || st == OCI_STATUS_CREATING)
    return hy_error (err, 0, "container \"%s\" is not running",
                     c->status.id);
  if (c->cgroup == NULL)
    return hy_error (err, 0, "container \"%s\" has no cgroup to update",
                     c->status.id);
  if (c->status.isolation == HY_ISOLATION_VM
      && hy_machine_check_memory (res->memory, "memory limit", err) < 0)
    return hy_error_prepend (err, "container \"%s\"", c->status.id);
  struct oci_linux *linux_ = ENSURE (c->config->linux_);
  normalize (res, linux_->resources);
  if (hy_cgroup_apply_resources (c->cgroup, res, err) < 0)
    return hy_error_prepend (err, "container \"%s\"", c->status.id);
  merge_resources (ENSURE (linux_->resources), res);
  return write_config_copy (c, err);
}
