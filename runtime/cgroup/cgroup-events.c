/* What the kernel counts about a cgroup: statistics and OOM kills. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cgroup/cgroup-internal.h"

static const unsigned stat_ctrls[]
    = { HY_CG_MEMORY, HY_CG_CPU, HY_CG_CPUACCT, HY_CG_PIDS, HY_CG_BLKIO };

int
hy_cgroup_stats (struct hy_cgroup *cg, struct hy_cgroup_stats *out,
                 hy_error_t *err)
{
  memset (out, 0, sizeof (*out));
  for (size_t i = 0; i < cg->n_dirs; i++)
    {
      struct hy_cgroup_dir *d = &cg->dirs[i];
      unsigned mask = 0;
      for (size_t j = 0; j < sizeof (stat_ctrls) / sizeof (stat_ctrls[0]); j++)
        if (hy_cg_serving (cg, stat_ctrls[j]) == d)
          mask |= stat_ctrls[j];
      if (mask && d->drv->stats (d->path, mask, out, err) < 0)
        return -1;
    }
  return 0;
}

static struct hy_cgroup_dir *
memory_dir (struct hy_cgroup *cg, hy_error_t *err)
{
  struct hy_cgroup_dir *d = hy_cg_serving (cg, HY_CG_MEMORY);
  if (d == NULL)
    hy_error (err, EOPNOTSUPP, "the memory controller is not available");
  return d;
}

int
hy_cgroup_oom_watch (struct hy_cgroup *cg, int *fd, hy_error_t *err)
{
  struct hy_cgroup_dir *d = memory_dir (cg, err);
  return d ? d->drv->oom_watch (d->path, fd, err) : -1;
}

int
hy_cgroup_oom_count (struct hy_cgroup *cg, uint64_t *count, hy_error_t *err)
{
  struct hy_cgroup_dir *d = memory_dir (cg, err);
  return d ? d->drv->oom_count (d->path, count, err) : -1;
}

/* Both an eventfd and an inotify fd are drained by reads of 4 KiB. */
int
hy_cgroup_oom_ack (int fd, hy_error_t *err)
{
  char buf[4096];
  for (;;)
    {
      ssize_t r = read (fd, buf, sizeof buf);
      if (r > 0)
        continue;
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0 && errno != EAGAIN)
        return hy_error_errno (err, "read the OOM event fd");
      return 0;
    }
}
