/* Removing the container's cgroup: whatever still runs there is killed,
 * then every directory goes, deepest first. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

#define EMPTY_TRIES 200
#define EMPTY_WAIT_MS 10

static bool
has_processes (struct hy_cgroup *cg)
{
  struct hy_cgroup_dir *d = hy_cg_procs_dir (cg);
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  hy_error_t ignored = NULL;
  if (d == NULL || access (d->path, F_OK) < 0
      || hy_cg_read_pids (d->path, &pids, &n, &ignored) < 0)
    n = 0;
  hy_error_release (&ignored);
  return n > 0;
}

/* Killed processes leave the cgroup when they have exited; rmdir would
 * see EBUSY until then. */
static int
kill_leftovers (struct hy_cgroup *cg, hy_error_t *err)
{
  for (int i = 0; has_processes (cg); i++)
    {
      if (i == EMPTY_TRIES)
        return hy_error (err, EBUSY, "processes are left in `%s`",
                         hy_cg_procs_dir (cg)->path);
      if (i % 20 == 0 && hy_cgroup_kill_all (cg, SIGKILL, err) < 0)
        return -1;
      hy_cg_sleep_ms (EMPTY_WAIT_MS);
    }
  return 0;
}

int
hy_cgroup_destroy (struct hy_cgroup *cg, hy_error_t *err)
{
  int r = kill_leftovers (cg, err);
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (hy_cg_rmdir_tree (cg->dirs[i].path, err) < 0)
      r = -1;
  return r;
}
