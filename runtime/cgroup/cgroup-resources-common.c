/* The resource writers that are the same on cgroup v1 and v2. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "common/cleanup.h"
#include "runtime/cgroup/cgroup-internal.h"

int
hy_cg_check_usage (const char *dir, const char *file, int64_t limit,
                   hy_error_t *err)
{
  uint64_t usage;
  if (limit <= 0 || hy_cg_read_u64 (dir, file, &usage, NULL) < 0)
    return 0;
  if ((uint64_t) limit <= usage)
    return hy_error (err, EBUSY,
                     "linux.resources.memory: rejecting limit %" PRId64
                     " at or below the usage %" PRIu64 " in `%s/%s`",
                     limit, usage, dir, file);
  return 0;
}

int
hy_cg_pids_apply (const char *dir, const struct oci_resources *res,
                  hy_error_t *err)
{
  _cleanup_free_ char *v = hy_cg_pids_max (res->pids_limit);
  return hy_cg_write (dir, "pids.max", v, err);
}

int
hy_cg_rdma_apply (const char *dir, const struct oci_resources *res,
                  hy_error_t *err)
{
  for (size_t i = 0; i < res->n_rdma; i++)
    {
      _cleanup_free_ char *line = hy_cg_rdma_line (&res->rdma[i]);
      if (hy_cg_write (dir, "rdma.max", line, err) < 0)
        return -1;
    }
  return 0;
}
