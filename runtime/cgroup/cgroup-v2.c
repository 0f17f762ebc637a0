/* The cgroup v2 driver: one directory in the unified tree, controllers
 * enabled from the top through cgroup.subtree_control, cgroup.freeze with
 * cgroup.events, memory.events watched with inotify. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

/* ---- making the directory ---- */

/* "+cpu +memory ..." for what `dir` may hand down; NULL when nothing. */
static char *
enable_line (const char *dir)
{
  _cleanup_free_ char *avail = NULL;
  if (hy_cg_read (dir, "cgroup.controllers", &avail, NULL) < 0)
    return NULL;
  char *line = xstrdup (""), *save = NULL;
  for (char *c = strtok_r (avail, " \n", &save); c;
       c = strtok_r (NULL, " \n", &save))
    {
      char *next = xasprintf ("%s%s+%s", line, *line ? " " : "", c);
      free (line);
      line = next;
    }
  if (*line == '\0')
    {
      free (line);
      return NULL;
    }
  return line;
}

/* Every level above the container's enables all it has, as runc does.
 * Best effort: a level with processes of its own cannot, and then the
 * controllers are missing below, which hy_cgroup_apply_resources()
 * reports if the config needs them. */
static int
enable_level (const char *dir, bool leaf, hy_error_t *err)
{
  (void) err;
  _cleanup_free_ char *line = leaf ? NULL : enable_line (dir);
  if (line == NULL
      || hy_cg_write_raw (dir, "cgroup.subtree_control", line) == 0)
    return 0;
  char *save = NULL;
  for (char *c = strtok_r (line, " ", &save); c;
       c = strtok_r (NULL, " ", &save))
    hy_cg_write_raw (dir, "cgroup.subtree_control", c);
  return 0;
}

static int
prepare_v2 (struct hy_cgroup_dir *d, hy_error_t *err)
{
  return hy_cg_mkdir_below (d->mountpoint, d->path, enable_level, &d->created,
                            err);
}

/* cgroup.controllers, plus what every v2 directory has: cgroup.freeze,
 * the core cpu.stat and the eBPF device filter. */
static unsigned
controllers_v2 (const struct hy_cgroup_dir *d)
{
  unsigned mask = HY_CG_DEVICES;
  _cleanup_free_ char *avail = NULL;
  if (hy_cg_read (d->path, "cgroup.controllers", &avail, NULL) == 0)
    {
      char *save = NULL;
      for (char *c = strtok_r (avail, " \n", &save); c;
           c = strtok_r (NULL, " \n", &save))
        mask |= hy_cg_ctrl_from_name (c);
    }
  if (hy_cg_exists (d->path, "cgroup.freeze"))
    mask |= HY_CG_FREEZER;
  if (hy_cg_exists (d->path, "cpu.stat"))
    mask |= HY_CG_CPUACCT;
  return mask;
}

/* ---- freezer ---- */

#define FREEZE_TIMEOUT_MS 10000

/* Whether cgroup.events shows the state wanted.  Thawing also counts as
 * done once the cgroup is empty: when its last tasks exit while it is
 * being thawed, the kernel can leave "frozen 1" behind on an empty
 * cgroup whose cgroup.freeze is 0. */
static int
events_reached (int fd, const char *dir, bool want, bool *reached,
                hy_error_t *err)
{
  char buf[512];
  ssize_t r = pread (fd, buf, sizeof buf - 1, 0);
  if (r < 0)
    return hy_error_errno (err, "read `%s/cgroup.events`", dir);
  buf[r] = '\0';
  bool frozen = hy_cg_text_key_u64 (buf, "frozen") == 1;
  bool populated = hy_cg_text_key_u64 (buf, "populated") == 1;
  *reached = frozen == want || (!want && !populated);
  return 0;
}

/* cgroup.events changes raise POLLPRI; poll with a timeout anyway so a
 * missed wakeup only costs a few milliseconds. */
static int
wait_frozen (const char *dir, bool want, hy_error_t *err)
{
  _cleanup_free_ char *path = hy_cg_join (dir, "cgroup.events");
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "open `%s`", path);
  for (int waited = 0; waited < FREEZE_TIMEOUT_MS; waited += 10)
    {
      bool reached;
      if (events_reached (fd, dir, want, &reached, err) < 0)
        return -1;
      if (reached)
        return 0;
      struct pollfd p = { .fd = fd, .events = POLLPRI };
      poll (&p, 1, 10);
    }
  return hy_error (err, 0,
                   "%s `%s`: cgroup.events never said "
                   "\"frozen %d\"",
                   want ? "freeze" : "thaw", dir, want);
}

static int
set_frozen_v2 (const char *dir, bool frozen, hy_error_t *err)
{
  if (hy_cg_write (dir, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
    return -1;
  if (wait_frozen (dir, frozen, err) < 0)
    {
      if (frozen)
        hy_cg_write_raw (dir, "cgroup.freeze", "0");
      return -1;
    }
  return 0;
}

/* Frozen when asked to be (cgroup.freeze, as runc reads it) and the
 * kernel says so. */
static int
is_frozen_v2 (const char *dir, bool *frozen, hy_error_t *err)
{
  uint64_t asked, state;
  if (hy_cg_read_u64 (dir, "cgroup.freeze", &asked, err) < 0
      || hy_cg_read_key_u64 (dir, "cgroup.events", "frozen", &state, err) < 0)
    return -1;
  *frozen = asked == 1 && state == 1;
  return 0;
}

/* ---- OOM ---- */

static int
oom_watch_v2 (const char *dir, int *fd, hy_error_t *err)
{
  _cleanup_close_ int ifd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  if (ifd < 0)
    return hy_error_errno (err, "inotify_init1");
  _cleanup_free_ char *events = hy_cg_join (dir, "memory.events");
  if (inotify_add_watch (ifd, events, IN_MODIFY | IN_DELETE_SELF) < 0)
    return hy_error_errno (err, "watch `%s`", events);
  *fd = steal_fd (&ifd);
  return 0;
}

static int
oom_count_v2 (const char *dir, uint64_t *count, hy_error_t *err)
{
  return hy_cg_read_key_u64 (dir, "memory.events", "oom_kill", count, err);
}

const struct hy_cgroup_driver hy_cgroup_driver_v2 = {
  .name = "v2",
  .prepare = prepare_v2,
  .controllers = controllers_v2,
  .apply = hy_cg_apply_v2,
  .freeze = set_frozen_v2,
  .is_frozen = is_frozen_v2,
  .stats = hy_cg_stats_v2,
  .oom_watch = oom_watch_v2,
  .oom_count = oom_count_v2,
};
