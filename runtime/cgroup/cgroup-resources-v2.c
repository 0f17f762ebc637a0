/* linux.resources on cgroup v2, converted as runc does: cpu.weight from
 * shares, cpu.max from quota and period, memory.swap.max = swap - limit,
 * io.weight from the blkio weight, io.max lines, and an eBPF program for
 * the device rules.  Settings v2 has no file for are refused by name,
 * except the hints runc also drops (swappiness, disableOOMKiller,
 * useHierarchy) and the deprecated kernel memory limits. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

static int
devices_v2 (const char *dir, const struct oci_resources *res, hy_error_t *err)
{
  return hy_cg_devices_bpf_apply (dir, res->devices, res->n_devices, err);
}

/* ---- memory ---- */

/* "" for 0 (unset), "max" for -1. */
static char *
limit_value (int64_t v)
{
  return v == 0 ? NULL : v < 0 ? xstrdup ("max") : xasprintf ("%" PRId64, v);
}

/* Without swap accounting there is no memory.swap.max; "max" and "0" then
 * ask for nothing that could be refused. */
static int
swap_v2 (const char *dir, const struct oci_memory *m, hy_error_t *err)
{
  int64_t swap;
  if (hy_cg_swap_v2 (m->swap, m->has_swap, m->limit, m->has_limit, &swap, err)
      < 0)
    return -1;
  _cleanup_free_ char *v = m->has_swap && m->swap > 0 && swap == 0
                               ? xstrdup ("0")
                               : limit_value (swap);
  if (v == NULL)
    return 0;
  int r = hy_cg_write_raw (dir, "memory.swap.max", v);
  if (r == -ENOENT && (str_eq (v, "max") || str_eq (v, "0")))
    return 0;
  if (r < 0)
    return hy_error (err, -r, "write `%s/memory.swap.max` \"%s\"", dir, v);
  return 0;
}

static int
memory_v2 (const char *dir, const struct oci_resources *res, hy_error_t *err)
{
  const struct oci_memory *m = res->memory;
  if (m->check_before_update
      && hy_cg_check_usage (dir, "memory.current", m->has_limit ? m->limit : 0,
                            err)
             < 0)
    return -1;
  if (swap_v2 (dir, m, err) < 0)
    return -1;
  _cleanup_free_ char *max = limit_value (m->has_limit ? m->limit : 0);
  if (max && hy_cg_write (dir, "memory.max", max, err) < 0)
    return -1;
  _cleanup_free_ char *low
      = limit_value (m->has_reservation ? m->reservation : 0);
  if (low && hy_cg_write (dir, "memory.low", low, err) < 0)
    return -1;
  return 0;
}

/* ---- cpu ---- */

static int
unsupported (const char *what, hy_error_t *err)
{
  return hy_error (err, EOPNOTSUPP,
                   "linux.resources.%s: not supported on "
                   "cgroup v2",
                   what);
}

/* A burst above the old quota is refused (EINVAL) until cpu.max is
 * written; then it is written again after it, as runc does. */
static int
cpu_max_v2 (const char *dir, const struct oci_cpu *c, hy_error_t *err)
{
  _cleanup_free_ char *max = hy_cg_cpu_max (c);
  _cleanup_free_ char *burst
      = c->has_burst ? xasprintf ("%" PRIu64, c->burst) : NULL;
  bool retry_burst = false;
  if (burst)
    {
      int r = hy_cg_write_raw (dir, "cpu.max.burst", burst);
      if (r < 0 && !(r == -EINVAL && max))
        return hy_error (err, -r, "write `%s/cpu.max.burst` \"%s\"", dir,
                         burst);
      retry_burst = r < 0;
    }
  if (max && hy_cg_write (dir, "cpu.max", max, err) < 0)
    return -1;
  if (retry_burst && hy_cg_write (dir, "cpu.max.burst", burst, err) < 0)
    return -1;
  return 0;
}

static int
cpu_v2 (const char *dir, const struct oci_resources *res, hy_error_t *err)
{
  const struct oci_cpu *c = res->cpu;
  if ((c->has_realtime_runtime && c->realtime_runtime != 0)
      || (c->has_realtime_period && c->realtime_period != 0))
    return unsupported ("cpu.realtimeRuntime/realtimePeriod", err);
  if (c->has_idle
      && hy_cg_writef (err, dir, "cpu.idle", "%" PRId64, c->idle) < 0)
    return -1;
  uint64_t weight = hy_cg_shares_to_weight (c->has_shares ? c->shares : 0);
  if (weight && hy_cg_writef (err, dir, "cpu.weight", "%" PRIu64, weight) < 0)
    return -1;
  return cpu_max_v2 (dir, c, err);
}

static int
cpuset_v2 (const char *dir, const struct oci_resources *res, hy_error_t *err)
{
  const struct oci_cpu *c = res->cpu;
  if (c->cpus && hy_cg_write (dir, "cpuset.cpus", c->cpus, err) < 0)
    return -1;
  if (c->mems && hy_cg_write (dir, "cpuset.mems", c->mems, err) < 0)
    return -1;
  return 0;
}

/* ---- io ---- */

/* BFQ takes blkio's own scale in io.bfq.weight; io.weight is 1-10000. */
static int
weight_v2 (const char *dir, const char *device, uint16_t weight,
           hy_error_t *err)
{
  bool bfq = hy_cg_exists (dir, "io.bfq.weight");
  uint64_t w = bfq ? weight : hy_cg_blkio_to_io_weight (weight);
  return hy_cg_writef (err, dir, bfq ? "io.bfq.weight" : "io.weight",
                       "%s%s%" PRIu64, device ? device : "", device ? " " : "",
                       w);
}

static int
io_max_v2 (const char *dir, const char *key,
           const struct oci_throttle_device *d, size_t n, hy_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_free_ char *line = hy_cg_io_max_line (&d[i], key);
      if (hy_cg_write (dir, "io.max", line, err) < 0)
        return -1;
    }
  return 0;
}

static int
io_weights_v2 (const char *dir, const struct oci_block_io *b, hy_error_t *err)
{
  if (b->has_leaf_weight)
    return unsupported ("blockIO.leafWeight", err);
  if (b->has_weight && weight_v2 (dir, NULL, b->weight, err) < 0)
    return -1;
  for (size_t i = 0; i < b->n_weight_device; i++)
    {
      const struct oci_weight_device *d = &b->weight_device[i];
      if (d->has_leaf_weight)
        return unsupported ("blockIO.weightDevice.leafWeight", err);
      _cleanup_free_ char *dev
          = xasprintf ("%" PRId64 ":%" PRId64, d->major, d->minor);
      if (d->has_weight && weight_v2 (dir, dev, d->weight, err) < 0)
        return -1;
    }
  return 0;
}

static int
io_v2 (const char *dir, const struct oci_resources *res, hy_error_t *err)
{
  const struct oci_block_io *b = res->block_io;
  return io_weights_v2 (dir, b, err) < 0
                 || io_max_v2 (dir, "rbps", b->throttle_read_bps,
                               b->n_throttle_read_bps, err)
                        < 0
                 || io_max_v2 (dir, "wbps", b->throttle_write_bps,
                               b->n_throttle_write_bps, err)
                        < 0
                 || io_max_v2 (dir, "riops", b->throttle_read_iops,
                               b->n_throttle_read_iops, err)
                        < 0
                 || io_max_v2 (dir, "wiops", b->throttle_write_iops,
                               b->n_throttle_write_iops, err)
                        < 0
             ? -1
             : 0;
}

/* ---- hugetlb, network ---- */

static int
hugetlb_v2 (const char *dir, const struct oci_resources *res, hy_error_t *err)
{
  for (size_t i = 0; i < res->n_hugepage_limits; i++)
    {
      const struct oci_hugepage_limit *h = &res->hugepage_limits[i];
      _cleanup_free_ char *file = xasprintf ("hugetlb.%s.max", h->page_size);
      _cleanup_free_ char *rsvd
          = xasprintf ("hugetlb.%s.rsvd.max", h->page_size);
      if (hy_cg_writef (err, dir, file, "%" PRIu64, h->limit) < 0)
        return -1;
      if (hy_cg_exists (dir, rsvd)
          && hy_cg_writef (err, dir, rsvd, "%" PRIu64, h->limit) < 0)
        return -1;
    }
  return 0;
}

static int
network_v2 (const char *dir, const struct oci_resources *res, hy_error_t *err)
{
  (void) dir;
  (void) res;
  return unsupported ("network", err);
}

const hy_cg_apply_fn hy_cg_apply_v2[HY_CG_RES_GROUPS] = {
  [HY_CG_RES_DEVICES] = devices_v2,
  [HY_CG_RES_MEMORY] = memory_v2,
  [HY_CG_RES_CPU] = cpu_v2,
  [HY_CG_RES_CPUSET] = cpuset_v2,
  [HY_CG_RES_BLKIO] = io_v2,
  [HY_CG_RES_HUGETLB] = hugetlb_v2,
  [HY_CG_RES_NET_CLS] = network_v2,
  [HY_CG_RES_NET_PRIO] = network_v2,
  [HY_CG_RES_PIDS] = hy_cg_pids_apply,
  [HY_CG_RES_RDMA] = hy_cg_rdma_apply,
};
