/* The processes of a cgroup: listing, freezing, signalling. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "common/cleanup.h"
#include "runtime/cgroup/cgroup-internal.h"

int
hy_cgroup_pids (struct hy_cgroup *cg, pid_t **pids, size_t *n, hy_error_t *err)
{
  struct hy_cgroup_dir *d = hy_cg_procs_dir (cg);
  if (d == NULL)
    return hy_error (err, ENOENT, "the cgroup has no directory");
  return hy_cg_read_pids (d->path, pids, n, err);
}

static struct hy_cgroup_dir *
freezer_dir (struct hy_cgroup *cg, hy_error_t *err)
{
  struct hy_cgroup_dir *d = hy_cg_serving (cg, HY_CG_FREEZER);
  if (d == NULL)
    hy_error (err, EOPNOTSUPP, "no freezer is available for the cgroup");
  return d;
}

int
hy_cgroup_freeze (struct hy_cgroup *cg, bool frozen, hy_error_t *err)
{
  struct hy_cgroup_dir *d = freezer_dir (cg, err);
  return d ? d->drv->freeze (d->path, frozen, err) : -1;
}

int
hy_cgroup_is_frozen (struct hy_cgroup *cg, bool *frozen, hy_error_t *err)
{
  struct hy_cgroup_dir *d = freezer_dir (cg, err);
  return d ? d->drv->is_frozen (d->path, frozen, err) : -1;
}

/* cgroup.kill (Linux 5.14) kills the whole subtree at once.  Not in
 * hybrid mode: there the v1 hierarchies are what holds the container. */
static bool
kill_via_cgroup_kill (struct hy_cgroup *cg)
{
  struct hy_cgroup_dir *d = hy_cg_procs_dir (cg);
  return cg->mode == HY_CGROUP_V2 && d && d->v2
         && hy_cg_write_raw (d->path, "cgroup.kill", "1") == 0;
}

static int
signal_each (struct hy_cgroup *cg, int sig, hy_error_t *err)
{
  _cleanup_free_ pid_t *pids = NULL;
  size_t n;
  if (hy_cgroup_pids (cg, &pids, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (kill (pids[i], sig) < 0 && errno != ESRCH)
      return hy_error_errno (err, "kill %d", (int) pids[i]);
  return 0;
}

/* Frozen, nobody can fork a process we would miss. */
int
hy_cgroup_kill_all (struct hy_cgroup *cg, int sig, hy_error_t *err)
{
  if (sig == SIGKILL && kill_via_cgroup_kill (cg))
    return 0;
  struct hy_cgroup_dir *f = hy_cg_serving (cg, HY_CG_FREEZER);
  hy_error_t ignored = NULL;
  bool frozen = f && f->drv->freeze (f->path, true, &ignored) == 0;
  hy_error_release (&ignored);
  int r = signal_each (cg, sig, err);
  if (frozen && f->drv->freeze (f->path, false, r < 0 ? NULL : err) < 0)
    return -1;
  return r;
}
