#include "runtime/events.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/json.h"
#include "runtime/log.h"

/* ---- the stats document ---- */

/* Go's omitempty: zero values are left out. */
static void
gen_uint_nz (yajl_gen g, const char *key, uint64_t v)
{
  if (v)
    oci_gen_kv_uint (g, key, v);
}

static void
gen_cpu (yajl_gen g, const struct hy_cgroup_stats *s)
{
  oci_gen_key (g, "cpu");
  yajl_gen_map_open (g);
  oci_gen_key (g, "usage");
  yajl_gen_map_open (g);
  gen_uint_nz (g, "total", s->cpu_usage_ns);
  oci_gen_kv_uint (g, "kernel", s->cpu_system_ns);
  oci_gen_kv_uint (g, "user", s->cpu_user_ns);
  yajl_gen_map_close (g);
  oci_gen_key (g, "throttling");
  yajl_gen_map_open (g);
  gen_uint_nz (g, "periods", s->cpu_periods);
  gen_uint_nz (g, "throttledPeriods", s->cpu_throttled_periods);
  gen_uint_nz (g, "throttledTime", s->cpu_throttled_ns);
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
}

static void
gen_memory_entry (yajl_gen g, const char *key, uint64_t limit, uint64_t usage,
                  uint64_t max, uint64_t failcnt)
{
  oci_gen_key (g, key);
  yajl_gen_map_open (g);
  oci_gen_kv_uint (g, "limit", limit);
  gen_uint_nz (g, "usage", usage);
  gen_uint_nz (g, "max", max);
  oci_gen_kv_uint (g, "failcnt", failcnt);
  yajl_gen_map_close (g);
}

static uint64_t
add_saturating (uint64_t a, uint64_t b)
{
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* runc reports swap as memory + swap, what cgroup v1's memsw counts. */
static void
gen_memory (yajl_gen g, const struct hy_cgroup_stats *s)
{
  oci_gen_key (g, "memory");
  yajl_gen_map_open (g);
  gen_memory_entry (g, "usage", s->memory_limit, s->memory_usage,
                    s->memory_max_usage, s->memory_failcnt);
  uint64_t swap_limit = s->swap_limit == UINT64_MAX
                            ? UINT64_MAX
                            : add_saturating (s->swap_limit, s->memory_limit);
  gen_memory_entry (g, "swap", swap_limit,
                    add_saturating (s->swap_usage, s->memory_usage), 0, 0);
  yajl_gen_map_close (g);
}

static void
gen_pids (yajl_gen g, const struct hy_cgroup_stats *s)
{
  oci_gen_key (g, "pids");
  yajl_gen_map_open (g);
  gen_uint_nz (g, "current", s->pids_current);
  /* "max" is no limit, which runc reports as 0 (left out) */
  gen_uint_nz (g, "limit", s->pids_limit == UINT64_MAX ? 0 : s->pids_limit);
  yajl_gen_map_close (g);
}

static void
gen_blkio_entry (yajl_gen g, const char *op, uint64_t value)
{
  yajl_gen_map_open (g);
  oci_gen_kv_str (g, "op", op);
  gen_uint_nz (g, "value", value);
  yajl_gen_map_close (g);
}

/* Summed over the devices: the entries carry no major:minor. */
static void
gen_blkio (yajl_gen g, const struct hy_cgroup_stats *s)
{
  oci_gen_key (g, "blkio");
  yajl_gen_map_open (g);
  if (s->blkio_read_bytes || s->blkio_write_bytes)
    {
      oci_gen_key (g, "ioServiceBytesRecursive");
      yajl_gen_array_open (g);
      gen_blkio_entry (g, "Read", s->blkio_read_bytes);
      gen_blkio_entry (g, "Write", s->blkio_write_bytes);
      gen_blkio_entry (g, "Total",
                       add_saturating (s->blkio_read_bytes,
                                       s->blkio_write_bytes));
      yajl_gen_array_close (g);
    }
  yajl_gen_map_close (g);
}

static char *
event_json (const char *type, const char *id, const struct hy_cgroup_stats *s)
{
  yajl_gen g = oci_gen_new (false);
  yajl_gen_map_open (g);
  oci_gen_kv_str (g, "type", type);
  oci_gen_kv_str (g, "id", id);
  if (s)
    {
      oci_gen_key (g, "data");
      yajl_gen_map_open (g);
      gen_cpu (g, s);
      gen_memory (g, s);
      gen_pids (g, s);
      gen_blkio (g, s);
      oci_gen_key (g, "hugetlb");
      yajl_gen_map_open (g);
      yajl_gen_map_close (g);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
  return oci_gen_finish (g, NULL);
}

char *
hy_stats_event_json (const char *id, const struct hy_cgroup_stats *s)
{
  return event_json ("stats", id, s);
}

static int
emit (FILE *out, const char *line, hy_error_t *err)
{
  if (fprintf (out, "%s\n", line) < 0 || fflush (out) != 0)
    return hy_error_errno (err, "write the event");
  return 0;
}

static int
emit_stats (struct hy_container *c, FILE *out, hy_error_t *err)
{
  struct hy_cgroup_stats s;
  if (hy_cgroup_stats (c->cgroup, &s, err) < 0)
    return hy_error_prepend (err, "stats of container \"%s\"", c->status.id);
  _cleanup_free_ char *line = hy_stats_event_json (c->status.id, &s);
  return emit (out, line, err);
}

/* ---- the stream ---- */

struct stream
{
  struct hy_container *c;
  FILE *out;
  int timer, oom, init;
  uint64_t ooms; /* OOM kills counted so far */
  bool oom_v1;   /* every notification of the v1 eventfd is an OOM */
};

static void
stream_close (struct stream *s)
{
  if (s->timer >= 0)
    close (s->timer);
  if (s->oom >= 0)
    close (s->oom);
  if (s->init >= 0)
    close (s->init);
}

static int
open_timer (uint64_t interval_ns, int *fd, hy_error_t *err)
{
  *fd = timerfd_create (CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (*fd < 0)
    return hy_error_errno (err, "timerfd_create");
  struct timespec ts = { .tv_sec = (time_t) (interval_ns / 1000000000u),
                         .tv_nsec = (long) (interval_ns % 1000000000u) };
  struct itimerspec its = { .it_interval = ts, .it_value = ts };
  if (timerfd_settime (*fd, 0, &its, NULL) < 0)
    return hy_error_errno (err, "timerfd_settime");
  return 0;
}

/* Without a memory controller there are no OOM events to watch, and
 * the stats still flow. */
static void
open_oom_watch (struct stream *s)
{
  _cleanup_error_ hy_error_t ignored = NULL;
  if (hy_cgroup_oom_watch (s->c->cgroup, &s->oom, &ignored) < 0
      || hy_cgroup_oom_count (s->c->cgroup, &s->ooms, &ignored) < 0)
    {
      hy_log_debug ("events: no OOM notifications: %s", ignored->msg);
      if (s->oom >= 0)
        close (s->oom);
      s->oom = -1;
      return;
    }
  s->oom_v1 = hy_cgroup_get_mode (s->c->cgroup) != HY_CGROUP_V2;
}

static int
open_init (struct stream *s, hy_error_t *err)
{
  s->init = (int) syscall (SYS_pidfd_open, s->c->status.pid, 0);
  if (s->init < 0 && errno != ESRCH)
    return hy_error_errno (err, "pidfd_open %d", (int) s->c->status.pid);
  return 0;
}

static bool
memory_dir_exists (struct stream *s)
{
  const char *dir = hy_cgroup_dir (s->c->cgroup, "memory");
  return dir && access (dir, F_OK) == 0;
}

/* Whether an OOM happened since the last look.  v2's inotify also fires
 * for the other counters of memory.events, so the oom_kill count decides
 * there; the v1 eventfd fires for OOMs only, and once more when the
 * cgroup is removed. */
static bool
oom_happened (struct stream *s, bool notified)
{
  uint64_t count = 0;
  _cleanup_error_ hy_error_t ignored = NULL;
  bool counted = hy_cgroup_oom_count (s->c->cgroup, &count, &ignored) == 0
                 && count > s->ooms;
  if (counted)
    s->ooms = count;
  return counted || (notified && s->oom_v1 && memory_dir_exists (s));
}

static int
on_oom (struct stream *s, hy_error_t *err)
{
  if (hy_cgroup_oom_ack (s->oom, err) < 0)
    return -1;
  if (!oom_happened (s, true))
    {
      if (s->oom_v1 && !memory_dir_exists (s))
        {
          close (s->oom); /* the cgroup is gone: nothing more to hear */
          s->oom = -1;
        }
      return 0;
    }
  _cleanup_free_ char *line = event_json ("oom", s->c->status.id, NULL);
  return emit (s->out, line, err);
}

static int
on_tick (struct stream *s, hy_error_t *err)
{
  uint64_t expirations;
  if (read (s->timer, &expirations, sizeof expirations) < 0
      && errno != EAGAIN)
    return hy_error_errno (err, "read the timerfd");
  _cleanup_error_ hy_error_t stats_err = NULL;
  if (emit_stats (s->c, s->out, &stats_err) < 0)
    {
      if (stats_err->errnum == EPIPE)
        return hy_error (err, EPIPE, "write the event");
      /* as runc: log it and try again next time */
      hy_log_warning ("%s", stats_err->msg);
    }
  return 0;
}

/* init is gone: the kernel may still have an OOM kill to tell, when
 * init itself was the victim. */
static int
on_init_exit (struct stream *s, hy_error_t *err)
{
  if (s->oom < 0 || !oom_happened (s, false))
    return 0;
  _cleanup_free_ char *line = event_json ("oom", s->c->status.id, NULL);
  return emit (s->out, line, err);
}

static int
run_stream (struct stream *s, hy_error_t *err)
{
  for (;;)
    {
      if (s->init < 0 || !hy_status_init_alive (&s->c->status))
        return on_init_exit (s, err);
      struct pollfd p[3] = { { .fd = s->timer, .events = POLLIN },
                             { .fd = s->oom, .events = POLLIN },
                             { .fd = s->init, .events = POLLIN } };
      if (poll (p, 3, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return hy_error_errno (err, "poll");
        }
      if (p[1].revents && on_oom (s, err) < 0)
        return -1;
      if (p[2].revents)
        return on_init_exit (s, err);
      if (p[0].revents && on_tick (s, err) < 0)
        return -1;
    }
}

int
hy_container_events (struct hy_container *c, bool once, uint64_t interval_ns,
                     FILE *out, hy_error_t *err)
{
  enum oci_status st = hy_container_status (c);
  if (st == OCI_STATUS_STOPPED || st == OCI_STATUS_CREATING)
    return hy_error (err, 0, "container \"%s\" is not running",
                     c->status.id);
  if (c->cgroup == NULL)
    return hy_error (err, 0, "container \"%s\" has no cgroup",
                     c->status.id);
  if (once)
    return emit_stats (c, out, err);
  struct stream s = { .c = c, .out = out, .timer = -1, .oom = -1,
                      .init = -1 };
  int r = -1;
  if (open_timer (interval_ns, &s.timer, err) == 0 && open_init (&s, err) == 0)
    {
      open_oom_watch (&s);
      flock (c->dirfd, LOCK_UN);
      r = run_stream (&s, err);
    }
  stream_close (&s);
  return r;
}
