/* linux.resources on cgroup v1: one function per group, each writing the
 * files of one hierarchy's directory. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

/* ---- devices ---- */

/* Deny everything, then replay the rules in order: the kernel keeps the
 * exceptions, and a later rule overrides an earlier one. */
static int
devices_v1 (const char *dir, const struct oci_resources *res, hy_error_t *err)
{
  if (hy_cg_write (dir, "devices.deny", "a", err) < 0)
    return -1;
  for (size_t i = 0; i < res->n_devices; i++)
    {
      const struct oci_device_rule *r = &res->devices[i];
      _cleanup_free_ char *line = hy_cg_device_rule_v1 (r);
      if (hy_cg_write (dir, r->allow ? "devices.allow" : "devices.deny", line,
                       err)
          < 0)
        return -1;
    }
  return 0;
}

/* ---- memory ---- */

static int
write_i64 (const char *dir, const char *file, int64_t v, hy_error_t *err)
{
  return hy_cg_writef (err, dir, file, "%" PRId64, v);
}

/* runc's order: when the new memory+swap is above the current memory
 * limit, raise memsw first or the kernel refuses (memsw >= limit). */
static int
memory_and_swap_v1 (const char *dir, const struct oci_memory *m,
                    hy_error_t *err)
{
  int64_t limit = m->has_limit ? m->limit : 0;
  int64_t swap = m->has_swap ? m->swap : 0;
  bool memsw = hy_cg_exists (dir, "memory.memsw.limit_in_bytes");
  if (!memsw)
    swap = 0; /* no swap accounting: nothing to limit */
  if (limit == -1 && swap == 0 && memsw)
    swap = -1;
  uint64_t current = 0;
  if (limit != 0 && swap != 0
      && hy_cg_read_u64 (dir, "memory.limit_in_bytes", &current, err) < 0)
    return -1;
  bool swap_first
      = limit != 0 && swap != 0 && (swap == -1 || current < (uint64_t) swap);
  if (swap_first
      && write_i64 (dir, "memory.memsw.limit_in_bytes", swap, err) < 0)
    return -1;
  if (limit != 0 && write_i64 (dir, "memory.limit_in_bytes", limit, err) < 0)
    return -1;
  if (!swap_first && swap != 0
      && write_i64 (dir, "memory.memsw.limit_in_bytes", swap, err) < 0)
    return -1;
  return 0;
}

/* Kernel memory limits are deprecated (runc 1.1 ignores them): written
 * while the kernel has the files, ignored once it refuses them. */
static int
kernel_memory_v1 (const char *dir, const char *file, int64_t v,
                  hy_error_t *err)
{
  _cleanup_free_ char *value = xasprintf ("%" PRId64, v);
  int r = hy_cg_write_raw (dir, file, value);
  if (r == -ENOENT || r == -EOPNOTSUPP)
    return 0;
  if (r < 0)
    return hy_error (err, -r, "write `%s/%s` \"%s\"", dir, file, value);
  return 0;
}

static int
memory_flags_v1 (const char *dir, const struct oci_memory *m, hy_error_t *err)
{
  if (m->has_swappiness
      && hy_cg_writef (err, dir, "memory.swappiness", "%" PRIu64,
                       m->swappiness)
             < 0)
    return -1;
  if (m->has_disable_oom_killer
      && hy_cg_write (dir, "memory.oom_control",
                      m->disable_oom_killer ? "1" : "0", err)
             < 0)
    return -1;
  if (m->has_use_hierarchy
      && hy_cg_write (dir, "memory.use_hierarchy",
                      m->use_hierarchy ? "1" : "0", err)
             < 0)
    return -1;
  return 0;
}

static int
memory_v1 (const char *dir, const struct oci_resources *res, hy_error_t *err)
{
  const struct oci_memory *m = res->memory;
  if (m->check_before_update
      && (hy_cg_check_usage (dir, "memory.usage_in_bytes",
                             m->has_limit ? m->limit : 0, err)
              < 0
          || hy_cg_check_usage (dir, "memory.memsw.usage_in_bytes",
                                m->has_swap ? m->swap : 0, err)
                 < 0))
    return -1;
  if (memory_and_swap_v1 (dir, m, err) < 0)
    return -1;
  if (m->has_reservation
      && write_i64 (dir, "memory.soft_limit_in_bytes", m->reservation, err)
             < 0)
    return -1;
  if (m->has_kernel
      && kernel_memory_v1 (dir, "memory.kmem.limit_in_bytes", m->kernel, err)
             < 0)
    return -1;
  if (m->has_kernel_tcp
      && kernel_memory_v1 (dir, "memory.kmem.tcp.limit_in_bytes",
                           m->kernel_tcp, err)
             < 0)
    return -1;
  return memory_flags_v1 (dir, m, err);
}

/* ---- cpu ---- */

/* The kernel clamps cpu.shares silently; say so instead. */
static int
shares_v1 (const char *dir, uint64_t shares, hy_error_t *err)
{
  uint64_t got;
  if (hy_cg_writef (err, dir, "cpu.shares", "%" PRIu64, shares) < 0
      || hy_cg_read_u64 (dir, "cpu.shares", &got, err) < 0)
    return -1;
  if (got != shares)
    return hy_error (err, ERANGE,
                     "write `%s/cpu.shares` \"%" PRIu64
                     "\": the kernel took %" PRIu64 " (range 2-262144)",
                     dir, shares, got);
  return 0;
}

/* A smaller period can be refused (EINVAL) while the old quota is in
 * place; then it is retried after the quota, as runc does. */
static int
quota_period_v1 (const char *dir, const struct oci_cpu *c, hy_error_t *err)
{
  bool quota = c->has_quota && c->quota != 0;
  bool retry_period = false;
  if (c->has_period && c->period != 0)
    {
      _cleanup_free_ char *v = xasprintf ("%" PRIu64, c->period);
      int r = hy_cg_write_raw (dir, "cpu.cfs_period_us", v);
      if (r < 0 && !(r == -EINVAL && quota))
        return hy_error (err, -r, "write `%s/cpu.cfs_period_us` \"%s\"", dir,
                         v);
      retry_period = r < 0;
    }
  if (quota && write_i64 (dir, "cpu.cfs_quota_us", c->quota, err) < 0)
    return -1;
  if (retry_period
      && hy_cg_writef (err, dir, "cpu.cfs_period_us", "%" PRIu64, c->period)
             < 0)
    return -1;
  return 0;
}

static int
cpu_v1 (const char *dir, const struct oci_resources *res, hy_error_t *err)
{
  const struct oci_cpu *c = res->cpu;
  if (c->has_shares && c->shares != 0 && shares_v1 (dir, c->shares, err) < 0)
    return -1;
  if (quota_period_v1 (dir, c, err) < 0)
    return -1;
  if (c->has_burst
      && hy_cg_writef (err, dir, "cpu.cfs_burst_us", "%" PRIu64, c->burst) < 0)
    return -1;
  if (c->has_realtime_period && c->realtime_period != 0
      && hy_cg_writef (err, dir, "cpu.rt_period_us", "%" PRIu64,
                       c->realtime_period)
             < 0)
    return -1;
  if (c->has_realtime_runtime && c->realtime_runtime != 0
      && write_i64 (dir, "cpu.rt_runtime_us", c->realtime_runtime, err) < 0)
    return -1;
  if (c->has_idle && write_i64 (dir, "cpu.idle", c->idle, err) < 0)
    return -1;
  return 0;
}

static int
cpuset_v1 (const char *dir, const struct oci_resources *res, hy_error_t *err)
{
  const struct oci_cpu *c = res->cpu;
  if (c->cpus && hy_cg_write (dir, "cpuset.cpus", c->cpus, err) < 0)
    return -1;
  if (c->mems && hy_cg_write (dir, "cpuset.mems", c->mems, err) < 0)
    return -1;
  return 0;
}

/* ---- blkio ---- */

/* blkio.weight (CFQ) or, on newer kernels, blkio.bfq.weight. */
static const char *
weight_file (const char *dir, const char *cfq, const char *bfq)
{
  return hy_cg_exists (dir, cfq) || !hy_cg_exists (dir, bfq) ? cfq : bfq;
}

static int
weight_devices_v1 (const char *dir, const struct oci_block_io *b,
                   hy_error_t *err)
{
  const char *file
      = weight_file (dir, "blkio.weight_device", "blkio.bfq.weight_device");
  for (size_t i = 0; i < b->n_weight_device; i++)
    {
      const struct oci_weight_device *d = &b->weight_device[i];
      if (d->has_weight
          && hy_cg_writef (err, dir, file, "%" PRId64 ":%" PRId64 " %u",
                           d->major, d->minor, d->weight)
                 < 0)
        return -1;
      if (d->has_leaf_weight
          && hy_cg_writef (err, dir, "blkio.leaf_weight_device",
                           "%" PRId64 ":%" PRId64 " %u", d->major, d->minor,
                           d->leaf_weight)
                 < 0)
        return -1;
    }
  return 0;
}

static int
throttle_v1 (const char *dir, const char *file,
             const struct oci_throttle_device *d, size_t n, hy_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    if (hy_cg_writef (err, dir, file, "%" PRId64 ":%" PRId64 " %" PRIu64,
                      d[i].major, d[i].minor, d[i].rate)
        < 0)
      return -1;
  return 0;
}

static int
blkio_v1 (const char *dir, const struct oci_resources *res, hy_error_t *err)
{
  const struct oci_block_io *b = res->block_io;
  if (b->has_weight
      && hy_cg_writef (err, dir,
                       weight_file (dir, "blkio.weight", "blkio.bfq.weight"),
                       "%u", b->weight)
             < 0)
    return -1;
  if (b->has_leaf_weight
      && hy_cg_writef (err, dir, "blkio.leaf_weight", "%u", b->leaf_weight)
             < 0)
    return -1;
  return weight_devices_v1 (dir, b, err) < 0
                 || throttle_v1 (dir, "blkio.throttle.read_bps_device",
                                 b->throttle_read_bps, b->n_throttle_read_bps,
                                 err)
                        < 0
                 || throttle_v1 (dir, "blkio.throttle.write_bps_device",
                                 b->throttle_write_bps,
                                 b->n_throttle_write_bps, err)
                        < 0
                 || throttle_v1 (dir, "blkio.throttle.read_iops_device",
                                 b->throttle_read_iops,
                                 b->n_throttle_read_iops, err)
                        < 0
                 || throttle_v1 (dir, "blkio.throttle.write_iops_device",
                                 b->throttle_write_iops,
                                 b->n_throttle_write_iops, err)
                        < 0
             ? -1
             : 0;
}

/* ---- hugetlb, network ---- */

static int
hugetlb_v1 (const char *dir, const struct oci_resources *res, hy_error_t *err)
{
  for (size_t i = 0; i < res->n_hugepage_limits; i++)
    {
      const struct oci_hugepage_limit *h = &res->hugepage_limits[i];
      _cleanup_free_ char *file
          = xasprintf ("hugetlb.%s.limit_in_bytes", h->page_size);
      _cleanup_free_ char *rsvd
          = xasprintf ("hugetlb.%s.rsvd.limit_in_bytes", h->page_size);
      if (hy_cg_writef (err, dir, file, "%" PRIu64, h->limit) < 0)
        return -1;
      if (hy_cg_exists (dir, rsvd)
          && hy_cg_writef (err, dir, rsvd, "%" PRIu64, h->limit) < 0)
        return -1;
    }
  return 0;
}

static int
net_cls_v1 (const char *dir, const struct oci_resources *res, hy_error_t *err)
{
  return hy_cg_writef (err, dir, "net_cls.classid", "%" PRIu32,
                       res->network->class_id);
}

static int
net_prio_v1 (const char *dir, const struct oci_resources *res, hy_error_t *err)
{
  const struct oci_network *n = res->network;
  for (size_t i = 0; i < n->n_priorities; i++)
    if (hy_cg_writef (err, dir, "net_prio.ifpriomap", "%s %" PRIu32,
                      n->priorities[i].name, n->priorities[i].priority)
        < 0)
      return -1;
  return 0;
}

const hy_cg_apply_fn hy_cg_apply_v1[HY_CG_RES_GROUPS] = {
  [HY_CG_RES_DEVICES] = devices_v1,
  [HY_CG_RES_MEMORY] = memory_v1,
  [HY_CG_RES_CPU] = cpu_v1,
  [HY_CG_RES_CPUSET] = cpuset_v1,
  [HY_CG_RES_BLKIO] = blkio_v1,
  [HY_CG_RES_HUGETLB] = hugetlb_v1,
  [HY_CG_RES_NET_CLS] = net_cls_v1,
  [HY_CG_RES_NET_PRIO] = net_prio_v1,
  [HY_CG_RES_PIDS] = hy_cg_pids_apply,
  [HY_CG_RES_RDMA] = hy_cg_rdma_apply,
};
