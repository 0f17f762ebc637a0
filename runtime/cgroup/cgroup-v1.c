/* The cgroup v1 driver: one directory per hierarchy, freezer.state,
 * memory.oom_control events. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

/* ---- making the directory ---- */

static bool
is_empty_value (const char *dir, const char *file)
{
  _cleanup_free_ char *v = NULL;
  return hy_cg_read (dir, file, &v, NULL) == 0 && v[strspn (v, " \n")] == 0;
}

/* A new cpuset has no cpus and no mems and refuses tasks until it gets
 * some: copy the parent's, level by level from the top. */
static int
cpuset_copy_parent (const char *dir, const char *file, hy_error_t *err)
{
  if (!is_empty_value (dir, file))
    return 0;
  _cleanup_free_ char *parent = xstrdup (dir);
  *strrchr (parent, '/') = '\0';
  _cleanup_free_ char *value = NULL;
  if (hy_cg_read (parent, file, &value, err) < 0)
    return -1;
  value[strcspn (value, "\n")] = '\0';
  return hy_cg_write (dir, file, value, err);
}

static int
cpuset_init_level (const char *dir, bool leaf, hy_error_t *err)
{
  (void) leaf;
  if (cpuset_copy_parent (dir, "cpuset.cpus", err) < 0
      || cpuset_copy_parent (dir, "cpuset.mems", err) < 0)
    return -1;
  return 0;
}

static int
prepare_v1 (struct hy_cgroup_dir *d, hy_error_t *err)
{
  return hy_cg_mkdir_below (d->mountpoint, d->path,
                            d->ctrls & HY_CG_CPUSET ? cpuset_init_level : NULL,
                            &d->created, err);
}

static unsigned
controllers_v1 (const struct hy_cgroup_dir *d)
{
  return hy_cg_ctrls_parse (d->key, NULL);
}

/* ---- freezer ---- */

#define FREEZE_TRIES 2000

static int
read_state (const char *dir, char **state, hy_error_t *err)
{
  if (hy_cg_read (dir, "freezer.state", state, err) < 0)
    return -1;
  (*state)[strcspn (*state, "\n")] = '\0';
  return 0;
}

/* Tasks in uninterruptible sleep can hold FREEZING; thawing and freezing
 * again now and then lets them move on (runc does the same). */
static int
freeze_v1 (const char *dir, hy_error_t *err)
{
  for (int i = 0; i < FREEZE_TRIES; i++)
    {
      if (i % 50 == 49)
        hy_cg_write_raw (dir, "freezer.state", "THAWED");
      _cleanup_free_ char *state = NULL;
      if (hy_cg_write (dir, "freezer.state", "FROZEN", err) < 0
          || read_state (dir, &state, err) < 0)
        return -1;
      if (strcmp (state, "FROZEN") == 0)
        return 0;
      if (strcmp (state, "FREEZING") != 0)
        {
          hy_cg_write_raw (dir, "freezer.state", "THAWED");
          return hy_error (err, EINVAL, "freeze `%s`: unexpected state %s",
                           dir, state);
        }
      hy_cg_sleep_ms (1);
    }
  hy_cg_write_raw (dir, "freezer.state", "THAWED");
  return hy_error (err, 0, "freeze `%s`: still FREEZING", dir);
}

static int
thaw_v1 (const char *dir, hy_error_t *err)
{
  for (int i = 0; i < FREEZE_TRIES; i++)
    {
      _cleanup_free_ char *state = NULL;
      if (hy_cg_write (dir, "freezer.state", "THAWED", err) < 0
          || read_state (dir, &state, err) < 0)
        return -1;
      if (strcmp (state, "THAWED") == 0)
        return 0;
      hy_cg_sleep_ms (1);
    }
  return hy_error (err, 0, "thaw `%s`: not THAWED", dir);
}

static int
set_frozen_v1 (const char *dir, bool frozen, hy_error_t *err)
{
  return frozen ? freeze_v1 (dir, err) : thaw_v1 (dir, err);
}

static int
is_frozen_v1 (const char *dir, bool *frozen, hy_error_t *err)
{
  for (int i = 0; i < FREEZE_TRIES; i++)
    {
      _cleanup_free_ char *state = NULL;
      if (read_state (dir, &state, err) < 0)
        return -1;
      if (strcmp (state, "FREEZING") != 0)
        {
          *frozen = strcmp (state, "FROZEN") == 0;
          return 0;
        }
      hy_cg_sleep_ms (1);
    }
  return hy_error (err, 0, "read `%s/freezer.state`: still FREEZING", dir);
}

/* ---- OOM ---- */

/* An eventfd registered on memory.oom_control through
 * cgroup.event_control; the kernel also signals it when the cgroup goes. */
static int
oom_watch_v1 (const char *dir, int *fd, hy_error_t *err)
{
  _cleanup_close_ int efd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0)
    return hy_error_errno (err, "eventfd");
  _cleanup_free_ char *control = hy_cg_join (dir, "memory.oom_control");
  _cleanup_close_ int ofd = open (control, O_RDONLY | O_CLOEXEC);
  if (ofd < 0)
    return hy_error_errno (err, "open `%s`", control);
  if (hy_cg_writef (err, dir, "cgroup.event_control", "%d %d", efd, ofd) < 0)
    return -1;
  *fd = steal_fd (&efd);
  return 0;
}

static int
oom_count_v1 (const char *dir, uint64_t *count, hy_error_t *err)
{
  return hy_cg_read_key_u64 (dir, "memory.oom_control", "oom_kill", count,
                             err);
}

const struct hy_cgroup_driver hy_cgroup_driver_v1 = {
  .name = "v1",
  .prepare = prepare_v1,
  .controllers = controllers_v1,
  .apply = hy_cg_apply_v1,
  .freeze = set_frozen_v1,
  .is_frozen = is_frozen_v1,
  .stats = hy_cg_stats_v1,
  .oom_watch = oom_watch_v1,
  .oom_count = oom_count_v1,
};
