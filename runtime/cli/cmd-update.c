/* hyrun update: new resource limits for a running container. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/config-internal.h"
#include "runtime/cli/cli.h"
#include "runtime/container.h"
#include "runtime/lifecycle.h"
#include "runtime/update.h"

#define RESOURCES_MAX (1 << 20)

enum
{
  OPT_BLKIO_WEIGHT = 256,
  OPT_CPU_PERIOD,
  OPT_CPU_QUOTA,
  OPT_CPU_RT_PERIOD,
  OPT_CPU_RT_RUNTIME,
  OPT_CPU_SHARE,
  OPT_CPUSET_CPUS,
  OPT_CPUSET_MEMS,
  OPT_KERNEL_MEMORY,
  OPT_KERNEL_MEMORY_TCP,
  OPT_MEMORY,
  OPT_MEMORY_RESERVATION,
  OPT_MEMORY_SWAP,
  OPT_PIDS_LIMIT,
  OPT_L3_CACHE_SCHEMA,
  OPT_MEM_BW_SCHEMA,
};

static const struct option update_options[] = {
  { "resources", required_argument, NULL, 'r' },
  { "blkio-weight", required_argument, NULL, OPT_BLKIO_WEIGHT },
  { "cpu-period", required_argument, NULL, OPT_CPU_PERIOD },
  { "cpu-quota", required_argument, NULL, OPT_CPU_QUOTA },
  { "cpu-rt-period", required_argument, NULL, OPT_CPU_RT_PERIOD },
  { "cpu-rt-runtime", required_argument, NULL, OPT_CPU_RT_RUNTIME },
  { "cpu-share", required_argument, NULL, OPT_CPU_SHARE },
  { "cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS },
  { "cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS },
  { "kernel-memory", required_argument, NULL, OPT_KERNEL_MEMORY },
  { "kernel-memory-tcp", required_argument, NULL, OPT_KERNEL_MEMORY_TCP },
  { "memory", required_argument, NULL, OPT_MEMORY },
  { "memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION },
  { "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
  { "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
  { "l3-cache-schema", required_argument, NULL, OPT_L3_CACHE_SCHEMA },
  { "mem-bw-schema", required_argument, NULL, OPT_MEM_BW_SCHEMA },
  CLI_OPTION_HELP,
  CLI_OPTION_END,
};

/* What the flags ask for; a --resources document replaces all of it. */
struct update_args
{
  const char *resources_file;
  struct oci_resources *flags; /* never NULL */
  const char *l3_cache_schema, *mem_bw_schema;
};

static void
update_args_free (struct update_args *a)
{
  oci_resources_free (a->flags);
}

static struct oci_memory *
memory_of (struct update_args *a)
{
  if (a->flags->memory == NULL)
    a->flags->memory = xmalloc0 (sizeof *a->flags->memory);
  return a->flags->memory;
}

static struct oci_cpu *
cpu_of (struct update_args *a)
{
  if (a->flags->cpu == NULL)
    a->flags->cpu = xmalloc0 (sizeof *a->flags->cpu);
  return a->flags->cpu;
}

static int
set_bytes (const char *flag, int64_t *v, bool *has, hy_error_t *err)
{
  *has = true;
  return cli_parse_bytes (flag, optarg, true, v, err);
}

static int
set_u64 (const char *flag, uint64_t max, uint64_t *v, bool *has,
         hy_error_t *err)
{
  *has = true;
  return cli_parse_uint (flag, optarg, max, v, err);
}

static int
set_i64 (const char *flag, int64_t *v, bool *has, hy_error_t *err)
{
  *has = true;
  return cli_parse_int (flag, optarg, INT64_MIN, INT64_MAX, v, err);
}

static int
set_blkio_weight (struct update_args *a, hy_error_t *err)
{
  uint64_t w;
  if (cli_parse_uint ("--blkio-weight", optarg, UINT16_MAX, &w, err) < 0)
    return -1;
  if (a->flags->block_io == NULL)
    a->flags->block_io = xmalloc0 (sizeof *a->flags->block_io);
  a->flags->block_io->weight = (uint16_t) w;
  a->flags->block_io->has_weight = true;
  return 0;
}

static int
cpu_option (struct oci_cpu *cpu, int opt, hy_error_t *err)
{
  switch (opt)
    {
    case OPT_CPU_PERIOD:
      return set_u64 ("--cpu-period", UINT64_MAX, &cpu->period,
                      &cpu->has_period, err);
    case OPT_CPU_QUOTA:
      return set_i64 ("--cpu-quota", &cpu->quota, &cpu->has_quota, err);
    case OPT_CPU_RT_PERIOD:
      return set_u64 ("--cpu-rt-period", UINT64_MAX, &cpu->realtime_period,
                      &cpu->has_realtime_period, err);
    case OPT_CPU_RT_RUNTIME:
      return set_i64 ("--cpu-rt-runtime", &cpu->realtime_runtime,
                      &cpu->has_realtime_runtime, err);
    case OPT_CPU_SHARE:
      return set_u64 ("--cpu-share", UINT64_MAX, &cpu->shares,
                      &cpu->has_shares, err);
    case OPT_CPUSET_CPUS:
      free (cpu->cpus);
      cpu->cpus = xstrdup (optarg);
      return 0;
    case OPT_CPUSET_MEMS:
      free (cpu->mems);
      cpu->mems = xstrdup (optarg);
      return 0;
    }
  return 0;
}

static int
memory_option (struct oci_memory *m, int opt, hy_error_t *err)
{
  switch (opt)
    {
    case OPT_KERNEL_MEMORY:
      return set_bytes ("--kernel-memory", &m->kernel, &m->has_kernel, err);
    case OPT_KERNEL_MEMORY_TCP:
      return set_bytes ("--kernel-memory-tcp", &m->kernel_tcp,
                        &m->has_kernel_tcp, err);
    case OPT_MEMORY:
      return set_bytes ("--memory", &m->limit, &m->has_limit, err);
    case OPT_MEMORY_RESERVATION:
      return set_bytes ("--memory-reservation", &m->reservation,
                        &m->has_reservation, err);
    case OPT_MEMORY_SWAP:
      return set_bytes ("--memory-swap", &m->swap, &m->has_swap, err);
    }
  return 0;
}

static int
update_option (struct update_args *a, int opt, hy_error_t *err)
{
  switch (opt)
    {
    case 'r':
      a->resources_file = optarg;
      return 0;
    case OPT_BLKIO_WEIGHT:
      return set_blkio_weight (a, err);
    case OPT_CPU_PERIOD:
    case OPT_CPU_QUOTA:
    case OPT_CPU_RT_PERIOD:
    case OPT_CPU_RT_RUNTIME:
    case OPT_CPU_SHARE:
    case OPT_CPUSET_CPUS:
    case OPT_CPUSET_MEMS:
      return cpu_option (cpu_of (a), opt, err);
    case OPT_KERNEL_MEMORY:
    case OPT_KERNEL_MEMORY_TCP:
    case OPT_MEMORY:
    case OPT_MEMORY_RESERVATION:
    case OPT_MEMORY_SWAP:
      return memory_option (memory_of (a), opt, err);
    case OPT_PIDS_LIMIT:
      a->flags->has_pids = true;
      return cli_parse_int ("--pids-limit", optarg, -1, INT64_MAX,
                            &a->flags->pids_limit, err);
    case OPT_L3_CACHE_SCHEMA:
      a->l3_cache_schema = optarg;
      return 0;
    case OPT_MEM_BW_SCHEMA:
      a->mem_bw_schema = optarg;
      return 0;
    }
  return 0;
}

static int
read_fd (int fd, char **out, hy_error_t *err)
{
  size_t used = 0, cap = 4096;
  _cleanup_free_ char *buf = xmalloc0 (cap + 1);
  for (;;)
    {
      if (used == cap)
        {
          if (cap >= RESOURCES_MAX)
            return hy_error (err, EFBIG, "larger than %d bytes",
                             RESOURCES_MAX);
          cap *= 2;
          buf = xrealloc (buf, cap + 1);
        }
      ssize_t n = read (fd, buf + used, cap - used);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return hy_error_errno (err, "read");
      if (n == 0)
        break;
      used += (size_t) n;
    }
  buf[used] = '\0';
  *out = steal_pointer (&buf);
  return 0;
}

/* The linux.resources object of config.json, from a file or stdin ("-"). */
static int
load_resources (const char *path, struct oci_resources **out, hy_error_t *err)
{
  bool is_stdin = str_eq (path, "-");
  const char *name = is_stdin ? "<stdin>" : path;
  _cleanup_free_ char *text = NULL;
  int r = is_stdin
              ? read_fd (STDIN_FILENO, &text, err)
              : read_file_at (AT_FDCWD, path, RESOURCES_MAX, &text, NULL, err);
  if (r < 0)
    return hy_error_prepend (err, "--resources `%s`", name);
  yajl_val doc = NULL;
  if (oci_json_parse (text, &doc, err) < 0)
    return hy_error_prepend (err, "%s", name);
  r = oci_parse_resources (doc, JPATH_ROOT, out, err);
  yajl_tree_free (doc);
  return r < 0 ? hy_error_prepend (err, "%s", name) : 0;
}

/* hyrun has no Intel RDT support; runc's words when the host has none. */
static int
check_intel_rdt (const struct update_args *a, hy_error_t *err)
{
  bool rdt = access ("/sys/fs/resctrl/info", F_OK) == 0;
  if (a->l3_cache_schema)
    return hy_error (err, 0, rdt ? "--l3-cache-schema: Intel RDT is not "
                                   "supported yet"
                                 : "Intel RDT/CAT: l3 cache schema is not "
                                   "enabled");
  if (a->mem_bw_schema)
    return hy_error (err, 0, rdt ? "--mem-bw-schema: Intel RDT is not "
                                   "supported yet"
                                 : "Intel RDT/MBA: memory bandwidth schema "
                                   "is not enabled");
  return 0;
}

static int
update_run (struct hy_cli *cli, const struct hy_command *cmd, int argc,
            char **argv, hy_error_t *err)
{
  struct cli_parser p = { .cmd = cmd,
                          .argc = argc,
                          .argv = argv,
                          .shortopts = "r:",
                          .longopts = update_options };
  __attribute__ ((cleanup (update_args_free))) struct update_args a
      = { .flags = xmalloc0 (sizeof (struct oci_resources)) };
  int opt, r;
  while ((r = cli_next_option (&p, &opt, err)) > 0)
    if (update_option (&a, opt, err) < 0)
      {
        r = -1;
        break;
      }
  cli_parser_done (&p);
  if (r < 0 || p.help)
    return r;
  if (cli_check_args (cmd, argc - optind, 1, 1, err) < 0
      || hy_container_id_validate (argv[optind], err) < 0)
    return -1;
  if (a.resources_file)
    {
      /* As runc: with a document, the other flags are ignored. */
      oci_resources_free (a.flags);
      a.flags = NULL;
      if (load_resources (a.resources_file, &a.flags, err) < 0)
        return -1;
    }
  if (cli_need_cgroups (cli, err) < 0)
    return -1;
  struct hy_container c;
  if (hy_container_load (cli->root, argv[optind], LOCK_EX, &c, err) < 0)
    return -1;
  r = check_intel_rdt (&a, err) < 0 ? -1
                                     : hy_container_update (&c, a.flags, err);
  hy_container_release (&c);
  return r;
}

const struct hy_command hy_cmd_update = {
  .name = "update",
  .summary = "update the resource limits of a container",
  .args = "<container-id>",
  .options
  = "   --resources FILE, -r FILE   linux.resources as JSON, '-' for stdin; "
    "the other flags\n"
    "                               are then ignored\n"
    "   --blkio-weight N            block IO weight (10 to 1000)\n"
    "   --cpu-period USEC           CPU CFS period\n"
    "   --cpu-quota USEC            CPU CFS quota\n"
    "   --cpu-rt-period USEC        CPU realtime period\n"
    "   --cpu-rt-runtime USEC       CPU realtime runtime\n"
    "   --cpu-share N               CPU shares\n"
    "   --cpuset-cpus LIST          CPUs to use\n"
    "   --cpuset-mems LIST          memory nodes to use\n"
    "   --kernel-memory SIZE        kernel memory limit (cgroup v1)\n"
    "   --kernel-memory-tcp SIZE    kernel TCP buffer limit (cgroup v1)\n"
    "   --memory SIZE               memory limit\n"
    "   --memory-reservation SIZE   memory soft limit\n"
    "   --memory-swap SIZE          memory + swap limit, -1 for unlimited\n"
    "   --pids-limit N              maximum number of pids\n"
    "   --l3-cache-schema SCHEMA    Intel RDT/CAT L3 cache schema\n"
    "   --mem-bw-schema SCHEMA      Intel RDT/MBA memory bandwidth schema\n",
  .run = update_run,
};
