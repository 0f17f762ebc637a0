/* Which linux.resources groups a config asks for, and the directory that
 * applies each: the one serving the group's controller, with its
 * driver's writer. */
#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

static bool
want_devices (const struct oci_resources *r)
{
  return r->has_devices;
}

static bool
want_memory (const struct oci_resources *r)
{
  const struct oci_memory *m = r->memory;
  return m
         && (m->has_limit || m->has_reservation || m->has_swap || m->has_kernel
             || m->has_kernel_tcp || m->has_swappiness
             || m->has_disable_oom_killer || m->has_use_hierarchy);
}

static bool
want_cpu (const struct oci_resources *r)
{
  const struct oci_cpu *c = r->cpu;
  return c
         && (c->has_shares || c->has_quota || c->has_burst || c->has_period
             || c->has_realtime_runtime || c->has_realtime_period
             || c->has_idle);
}

static bool
want_cpuset (const struct oci_resources *r)
{
  return r->cpu && (r->cpu->cpus || r->cpu->mems);
}

static bool
want_blkio (const struct oci_resources *r)
{
  const struct oci_block_io *b = r->block_io;
  return b
         && (b->has_weight || b->has_leaf_weight || b->n_weight_device
             || b->n_throttle_read_bps || b->n_throttle_write_bps
             || b->n_throttle_read_iops || b->n_throttle_write_iops);
}

static bool
want_hugetlb (const struct oci_resources *r)
{
  return r->n_hugepage_limits > 0;
}

static bool
want_net_cls (const struct oci_resources *r)
{
  return r->network && r->network->has_class_id;
}

static bool
want_net_prio (const struct oci_resources *r)
{
  return r->network && r->network->n_priorities > 0;
}

static bool
want_pids (const struct oci_resources *r)
{
  return r->has_pids;
}

static bool
want_rdma (const struct oci_resources *r)
{
  return r->n_rdma > 0;
}

static const struct
{
  enum hy_cg_group group;
  unsigned ctrl;
  const char *field;
  bool (*wanted) (const struct oci_resources *r);
} groups[] = {
  { HY_CG_RES_DEVICES, HY_CG_DEVICES, "devices", want_devices },
  { HY_CG_RES_MEMORY, HY_CG_MEMORY, "memory", want_memory },
  { HY_CG_RES_CPUSET, HY_CG_CPUSET, "cpu.cpus/mems", want_cpuset },
  { HY_CG_RES_CPU, HY_CG_CPU, "cpu", want_cpu },
  { HY_CG_RES_BLKIO, HY_CG_BLKIO, "blockIO", want_blkio },
  { HY_CG_RES_HUGETLB, HY_CG_HUGETLB, "hugepageLimits", want_hugetlb },
  { HY_CG_RES_NET_CLS, HY_CG_NET_CLS, "network.classID", want_net_cls },
  { HY_CG_RES_NET_PRIO, HY_CG_NET_PRIO, "network.priorities", want_net_prio },
  { HY_CG_RES_PIDS, HY_CG_PIDS, "pids", want_pids },
  { HY_CG_RES_RDMA, HY_CG_RDMA, "rdma", want_rdma },
};

static struct hy_cgroup_dir *
v2_dir (const struct hy_cgroup *cg)
{
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (cg->dirs[i].v2)
      return &cg->dirs[i];
  return NULL;
}

static bool
unified_key_valid (const char *key)
{
  return *key && strchr (key, '/') == NULL && strcmp (key, ".") != 0
         && strcmp (key, "..") != 0;
}

/* linux.resources.unified: file names in the v2 directory, written last
 * so that they override the converted values, as runc does. */
static int
apply_unified (struct hy_cgroup *cg, const struct oci_resources *res,
               hy_error_t *err)
{
  if (res->unified.len == 0)
    return 0;
  struct hy_cgroup_dir *d = v2_dir (cg);
  if (cg->mode != HY_CGROUP_V2 || d == NULL)
    return hy_error (err, EOPNOTSUPP,
                     "invalid configuration: linux.resources.unified: needs "
                     "cgroup v2 (this host is %s)",
                     hy_cgroup_mode_name (cg->mode));
  for (size_t i = 0; i < res->unified.len; i++)
    {
      const char *key = res->unified.keys[i];
      if (!unified_key_valid (key))
        return hy_error (err, EINVAL,
                         "linux.resources.unified: invalid file name \"%s\"",
                         key);
      if (hy_cg_write_lines (d->path, key, res->unified.values[i], err) < 0)
        return hy_error_prepend (err, "linux.resources.unified");
    }
  return 0;
}

int
hy_cgroup_apply_resources (struct hy_cgroup *cg,
                           const struct oci_resources *res, hy_error_t *err)
{
  if (res == NULL)
    return 0;
  if (res->unified.len && cg->mode != HY_CGROUP_V2)
    return apply_unified (cg, res, err); /* the error, before any write */
  for (size_t i = 0; i < sizeof (groups) / sizeof (groups[0]); i++)
    {
      if (!groups[i].wanted (res))
        continue;
      struct hy_cgroup_dir *d = hy_cg_serving (cg, groups[i].ctrl);
      if (d == NULL)
        return hy_error (err, EOPNOTSUPP,
                         "linux.resources.%s: the %s controller is not "
                         "available",
                         groups[i].field, hy_cg_ctrl_name (groups[i].ctrl));
      if (d->drv->apply[groups[i].group](d->path, res, err) < 0)
        return -1;
    }
  return apply_unified (cg, res, err);
}
