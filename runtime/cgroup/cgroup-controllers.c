/* Controller names and the bits the cgroup code uses for them. */
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

static const struct
{
  const char *name;
  unsigned bit;
} controllers[] = {
  { "cpu", HY_CG_CPU },
  { "cpuacct", HY_CG_CPUACCT },
  { "cpuset", HY_CG_CPUSET },
  { "memory", HY_CG_MEMORY },
  { "devices", HY_CG_DEVICES },
  { "freezer", HY_CG_FREEZER },
  { "blkio", HY_CG_BLKIO },
  { "io", HY_CG_BLKIO },
  { "pids", HY_CG_PIDS },
  { "net_cls", HY_CG_NET_CLS },
  { "net_prio", HY_CG_NET_PRIO },
  { "hugetlb", HY_CG_HUGETLB },
  { "perf_event", HY_CG_PERF_EVENT },
  { "rdma", HY_CG_RDMA },
  { "misc", HY_CG_MISC },
};

unsigned
hy_cg_ctrl_from_name (const char *name)
{
  for (size_t i = 0; i < sizeof (controllers) / sizeof (controllers[0]); i++)
    if (strcmp (controllers[i].name, name) == 0)
      return controllers[i].bit;
  return 0;
}

const char *
hy_cg_ctrl_name (unsigned bit)
{
  for (size_t i = 0; i < sizeof (controllers) / sizeof (controllers[0]); i++)
    if (controllers[i].bit == bit)
      return controllers[i].name;
  return "?";
}

unsigned
hy_cg_ctrls_parse (const char *list, char **named)
{
  _cleanup_free_ char *copy = xstrdup (list);
  unsigned mask = 0;
  char *save = NULL;
  if (named)
    *named = NULL;
  for (char *tok = strtok_r (copy, ",", &save); tok;
       tok = strtok_r (NULL, ",", &save))
    {
      if (str_has_prefix (tok, "name=") && named && *named == NULL)
        *named = xstrdup (tok);
      mask |= hy_cg_ctrl_from_name (tok);
    }
  return mask;
}
