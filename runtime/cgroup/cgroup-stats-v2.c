/* Statistics from the v2 directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

/* A file that older kernels lack reads 0. */
static int
read_optional (const char *dir, const char *file, uint64_t *out,
               hy_error_t *err)
{
  if (!hy_cg_exists (dir, file))
    return 0;
  return hy_cg_read_u64 (dir, file, out, err);
}

static int
memory_v2 (const char *dir, struct hy_cgroup_stats *out, hy_error_t *err)
{
  _cleanup_free_ char *events = NULL;
  if (hy_cg_read_u64 (dir, "memory.current", &out->memory_usage, err) < 0
      || hy_cg_read_u64 (dir, "memory.max", &out->memory_limit, err) < 0
      || read_optional (dir, "memory.peak", &out->memory_max_usage, err) < 0
      || read_optional (dir, "memory.swap.current", &out->swap_usage, err) < 0
      || read_optional (dir, "memory.swap.max", &out->swap_limit, err) < 0
      || hy_cg_read (dir, "memory.events", &events, err) < 0)
    return -1;
  out->memory_failcnt = hy_cg_text_key_u64 (events, "max");
  out->oom_kills = hy_cg_text_key_u64 (events, "oom_kill");
  return 0;
}

/* cpu.stat has the usage always (HY_CG_CPUACCT) and the throttling
 * with the cpu controller only. */
static int
cpu_v2 (const char *dir, unsigned ctrls, struct hy_cgroup_stats *out,
        hy_error_t *err)
{
  _cleanup_free_ char *stat = NULL;
  if (hy_cg_read (dir, "cpu.stat", &stat, err) < 0)
    return -1;
  if (ctrls & HY_CG_CPUACCT)
    {
      out->cpu_usage_ns = hy_cg_text_key_u64 (stat, "usage_usec") * 1000;
      out->cpu_user_ns = hy_cg_text_key_u64 (stat, "user_usec") * 1000;
      out->cpu_system_ns = hy_cg_text_key_u64 (stat, "system_usec") * 1000;
    }
  if (ctrls & HY_CG_CPU)
    {
      out->cpu_periods = hy_cg_text_key_u64 (stat, "nr_periods");
      out->cpu_throttled_periods = hy_cg_text_key_u64 (stat, "nr_throttled");
      out->cpu_throttled_ns
          = hy_cg_text_key_u64 (stat, "throttled_usec") * 1000;
    }
  return 0;
}

static int
pids_v2 (const char *dir, struct hy_cgroup_stats *out, hy_error_t *err)
{
  if (hy_cg_read_u64 (dir, "pids.current", &out->pids_current, err) < 0
      || hy_cg_read_u64 (dir, "pids.max", &out->pids_limit, err) < 0)
    return -1;
  return 0;
}

/* "8:0 rbytes=1 wbytes=2 rios=3 ..." lines. */
static void
sum_io_stat (const char *text, struct hy_cgroup_stats *out)
{
  for (const char *p = text; (p = strstr (p, "bytes="));)
    {
      char kind = p > text ? p[-1] : 0;
      unsigned long long v = strtoull (p + 6, NULL, 10);
      if (kind == 'r')
        out->blkio_read_bytes += v;
      else if (kind == 'w')
        out->blkio_write_bytes += v;
      p += 6;
    }
}

static int
io_v2 (const char *dir, struct hy_cgroup_stats *out, hy_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  if (hy_cg_read (dir, "io.stat", &text, err) < 0)
    return -1;
  sum_io_stat (text, out);
  return 0;
}

int
hy_cg_stats_v2 (const char *dir, unsigned ctrls, struct hy_cgroup_stats *out,
                hy_error_t *err)
{
  if ((ctrls & HY_CG_MEMORY) && memory_v2 (dir, out, err) < 0)
    return -1;
  if ((ctrls & (HY_CG_CPU | HY_CG_CPUACCT))
      && cpu_v2 (dir, ctrls, out, err) < 0)
    return -1;
  if ((ctrls & HY_CG_PIDS) && pids_v2 (dir, out, err) < 0)
    return -1;
  if ((ctrls & HY_CG_BLKIO) && io_v2 (dir, out, err) < 0)
    return -1;
  return 0;
}
