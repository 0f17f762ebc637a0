/* Statistics from the v1 hierarchies. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

static int
memory_v1 (const char *dir, struct hy_cgroup_stats *out, hy_error_t *err)
{
  if (hy_cg_read_u64 (dir, "memory.usage_in_bytes", &out->memory_usage, err)
          < 0
      || hy_cg_read_u64 (dir, "memory.limit_in_bytes", &out->memory_limit, err)
             < 0
      || hy_cg_read_u64 (dir, "memory.max_usage_in_bytes",
                         &out->memory_max_usage, err)
             < 0
      || hy_cg_read_u64 (dir, "memory.failcnt", &out->memory_failcnt, err) < 0
      || hy_cg_read_key_u64 (dir, "memory.oom_control", "oom_kill",
                             &out->oom_kills, err)
             < 0)
    return -1;
  uint64_t memsw, memsw_limit;
  if (hy_cg_exists (dir, "memory.memsw.usage_in_bytes"))
    {
      if (hy_cg_read_u64 (dir, "memory.memsw.usage_in_bytes", &memsw, err) < 0
          || hy_cg_read_u64 (dir, "memory.memsw.limit_in_bytes", &memsw_limit,
                             err) < 0)
        return -1;
      out->swap_usage
          = memsw > out->memory_usage ? memsw - out->memory_usage : 0;
      out->swap_limit = memsw_limit > out->memory_limit
                            ? memsw_limit - out->memory_limit
                            : 0;
    }
  return 0;
}

/* cpuacct.stat counts USER_HZ ticks. */
static int
cpuacct_v1 (const char *dir, struct hy_cgroup_stats *out, hy_error_t *err)
{
  _cleanup_free_ char *stat = NULL;
  if (hy_cg_read_u64 (dir, "cpuacct.usage", &out->cpu_usage_ns, err) < 0
      || hy_cg_read (dir, "cpuacct.stat", &stat, err) < 0)
    return -1;
  long hz = sysconf (_SC_CLK_TCK);
  uint64_t ns_per_tick = 1000000000ull / (uint64_t) (hz > 0 ? hz : 100);
  out->cpu_user_ns = hy_cg_text_key_u64 (stat, "user") * ns_per_tick;
  out->cpu_system_ns = hy_cg_text_key_u64 (stat, "system") * ns_per_tick;
  return 0;
}

static int
cpu_v1 (const char *dir, struct hy_cgroup_stats *out, hy_error_t *err)
{
  _cleanup_free_ char *stat = NULL;
  if (hy_cg_read (dir, "cpu.stat", &stat, err) < 0)
    return -1;
  out->cpu_periods = hy_cg_text_key_u64 (stat, "nr_periods");
  out->cpu_throttled_periods = hy_cg_text_key_u64 (stat, "nr_throttled");
  out->cpu_throttled_ns = hy_cg_text_key_u64 (stat, "throttled_time");
  return 0;
}

static int
pids_v1 (const char *dir, struct hy_cgroup_stats *out, hy_error_t *err)
{
  if (hy_cg_read_u64 (dir, "pids.current", &out->pids_current, err) < 0
      || hy_cg_read_u64 (dir, "pids.max", &out->pids_limit, err) < 0)
    return -1;
  return 0;
}

/* "8:0 Read 4096" lines; the "Total" lines are skipped. */
static void
sum_io_service_bytes (const char *text, struct hy_cgroup_stats *out)
{
  for (const char *line = text; line && *line;)
    {
      char op[16];
      unsigned long long v;
      if (sscanf (line, "%*u:%*u %15s %llu", op, &v) == 2)
        {
          if (strcmp (op, "Read") == 0)
            out->blkio_read_bytes += v;
          else if (strcmp (op, "Write") == 0)
            out->blkio_write_bytes += v;
        }
      line = strchr (line, '\n');
      if (line)
        line++;
    }
}

static int
blkio_v1 (const char *dir, struct hy_cgroup_stats *out, hy_error_t *err)
{
  const char *file = hy_cg_exists (dir, "blkio.io_service_bytes_recursive")
                         ? "blkio.io_service_bytes_recursive"
                         : "blkio.throttle.io_service_bytes_recursive";
  _cleanup_free_ char *text = NULL;
  if (hy_cg_read (dir, file, &text, err) < 0)
    return -1;
  sum_io_service_bytes (text, out);
  return 0;
}

int
hy_cg_stats_v1 (const char *dir, unsigned ctrls, struct hy_cgroup_stats *out,
                hy_error_t *err)
{
  if ((ctrls & HY_CG_MEMORY) && memory_v1 (dir, out, err) < 0)
    return -1;
  if ((ctrls & HY_CG_CPUACCT) && cpuacct_v1 (dir, out, err) < 0)
    return -1;
  if ((ctrls & HY_CG_CPU) && cpu_v1 (dir, out, err) < 0)
    return -1;
  if ((ctrls & HY_CG_PIDS) && pids_v1 (dir, out, err) < 0)
    return -1;
  if ((ctrls & HY_CG_BLKIO) && blkio_v1 (dir, out, err) < 0)
    return -1;
  return 0;
}
