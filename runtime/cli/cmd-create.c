/* hyrun create / run: load and check the bundle, choose the isolation. */
#include <stdlib.h>
#include <sys/file.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/bundle.h"
#include "runtime/cli/cli.h"
#include "runtime/conf.h"
#include "runtime/container.h"
#include "runtime/create.h"
#include "runtime/lifecycle.h"
#include "runtime/run.h"
#include "runtime/log.h"
#include "runtime/vm/machine.h"

enum
{
  OPT_CONSOLE_SOCKET = 256,
  OPT_PID_FILE,
  OPT_NO_PIVOT,
  OPT_NO_NEW_KEYRING,
  OPT_PRESERVE_FDS,
  OPT_KEEP,
  OPT_NO_SUBREAPER,
};

/* clang-format off */
#define CREATE_OPTIONS                                                  \
  { "bundle", required_argument, NULL, 'b' },                           \
  { "config", required_argument, NULL, 'f' },                           \
  { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },    \
  { "pid-file", required_argument, NULL, OPT_PID_FILE },                \
  { "no-pivot", no_argument, NULL, OPT_NO_PIVOT },                      \
  { "no-new-keyring", no_argument, NULL, OPT_NO_NEW_KEYRING },          \
  { "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS },        \
  CLI_OPTION_HELP
/* clang-format on */

static const struct option create_options[] = {
  CREATE_OPTIONS,
  CLI_OPTION_END,
};

static const struct option run_options[] = {
  CREATE_OPTIONS,
  { "detach", no_argument, NULL, 'd' },
  { "keep", no_argument, NULL, OPT_KEEP },
  { "no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER },
  CLI_OPTION_END,
};

struct create_args
{
  const char *bundle;
  const char *config;
  const char *console_socket;
  const char *pid_file;
  bool no_pivot, no_new_keyring, detach, keep, no_subreaper;
  uint64_t preserve_fds;
};

static int
create_option (struct create_args *a, int opt, hy_error_t *err)
{
  switch (opt)
    {
    case 'b':
      a->bundle = optarg;
      break;
    case 'f':
      a->config = optarg;
      break;
    case OPT_CONSOLE_SOCKET:
      a->console_socket = optarg;
      break;
    case OPT_PID_FILE:
      a->pid_file = optarg;
      break;
    case OPT_NO_PIVOT:
      a->no_pivot = true;
      break;
    case OPT_NO_NEW_KEYRING:
      a->no_new_keyring = true;
      break;
    case OPT_PRESERVE_FDS:
      return cli_parse_uint ("--preserve-fds", optarg, 65536, &a->preserve_fds,
                             err);
    case 'd':
      a->detach = true;
      break;
    case OPT_KEEP:
      a->keep = true;
      break;
    case OPT_NO_SUBREAPER:
      a->no_subreaper = true;
      break;
    }
  return 0;
}

static int
check_new_id (const struct hy_cli *cli, const char *id, hy_error_t *err)
{
  bool exists;
  if (hy_container_exists (cli->root, id, &exists, err) < 0)
    return -1;
  if (exists)
    return hy_error (err, 0, "container \"%s\" already exists", id);
  return 0;
}

static int
resolve_isolation (const struct hy_cli *cli, const struct hy_bundle *b,
                   enum hy_isolation *out, hy_error_t *err)
{
  struct hy_conf conf;
  if (hy_conf_load (&conf, err) < 0)
    return -1;
  *out
      = hy_isolation_resolve (b->opts.isolation, cli->program, conf.isolation);
  hy_log_debug ("isolation %s (annotation: %s, program: %s, %s: %s)",
                hy_isolation_name (*out),
                hy_isolation_name (b->opts.isolation), cli->program,
                hy_conf_path (), hy_isolation_name (conf.isolation));
  return 0;
}

static int create_container (struct hy_cli *cli, const struct create_args *a,
                             bool is_run, const char *id,
                             const struct hy_bundle *b,
                             enum hy_isolation isolation, hy_error_t *err);
static int check_vm_assets (hy_error_t *err);

static int
create_run (struct hy_cli *cli, const struct hy_command *cmd, int argc,
            char **argv, hy_error_t *err)
{
  bool is_run = cmd == &hy_cmd_run;
  struct cli_parser p = { .cmd = cmd,
                          .argc = argc,
                          .argv = argv,
                          .shortopts = is_run ? "b:f:d" : "b:f:",
                          .longopts = is_run ? run_options : create_options };
  struct create_args a = { 0 };
  int opt, r;
  while ((r = cli_next_option (&p, &opt, err)) > 0)
    if (create_option (&a, opt, err) < 0)
      {
        r = -1;
        break;
      }
  cli_parser_done (&p);
  if (r < 0 || p.help)
    return r;
  if (cli_check_args (cmd, argc - optind, 1, 1, err) < 0)
    return -1;
  const char *id = argv[optind];

  if (hy_container_id_validate (id, err) < 0 || cli_need_cgroups (cli, err) < 0
      || check_new_id (cli, id, err) < 0)
    return -1;

  _cleanup_bundle_ struct hy_bundle *b = NULL;
  if (hy_bundle_load (a.bundle, a.config, &b, err) < 0)
    return -1;
  hy_log_debug ("%s: bundle `%s`, config `%s`, rootfs `%s`", cmd->name, b->dir,
                b->config_path, b->rootfs);
  enum hy_isolation isolation;
  if (resolve_isolation (cli, b, &isolation, err) < 0
      || (isolation == HY_ISOLATION_VM && check_vm_assets (err) < 0))
    return -1;
  return create_container (cli, &a, is_run, id, b, isolation, err);
}

/* A missing guest kernel is reported before anything is made. */
static int
check_vm_assets (hy_error_t *err)
{
  _cleanup_free_ char *kernel = NULL;
  _cleanup_free_ char *initrd = NULL;
  return hy_machine_find_assets (&kernel, &initrd, err);
}

static int
check_terminal (const struct create_args *a, const struct hy_bundle *b,
                bool detached, hy_error_t *err)
{
  const struct oci_process *p = b->config->process;
  bool terminal = p && p->terminal;
  if (terminal && detached && a->console_socket == NULL)
    return hy_error (err, 0, "cannot allocate a tty when hyrun detaches "
                             "without --console-socket");
  if (!terminal && a->console_socket)
    return hy_error (err, 0, "--console-socket needs process.terminal "
                             "set to true");
  return 0;
}

static int
start_detached (const struct hy_cli *cli, const char *id, hy_error_t *err)
{
  struct hy_container c;
  if (hy_container_load (cli->root, id, LOCK_EX, &c, err) < 0)
    return -1;
  int r = hy_container_start (&c, err);
  hy_container_release (&c);
  return r;
}

static int
create_container (struct hy_cli *cli, const struct create_args *a,
                  bool is_run, const char *id, const struct hy_bundle *b,
                  enum hy_isolation isolation, hy_error_t *err)
{
  bool detached = !is_run || a->detach;
  struct hy_create_opts o = {
    .root = cli->root,
    .id = id,
    .bundle = b,
    .isolation = isolation,
    .console_socket = a->console_socket,
    .pid_file = a->pid_file,
    .no_pivot = a->no_pivot,
    .no_new_keyring = a->no_new_keyring,
    .no_cgroup = cli->cgroup_manager == HY_CGROUP_DISABLED,
    .preserve_fds = (unsigned) a->preserve_fds,
    .keep_pty = !detached && a->console_socket == NULL,
    .detached = detached,
  };
  struct hy_created created;
  if (check_terminal (a, b, detached, err) < 0
      || (!detached && hy_run_block_signals (err) < 0)
      || hy_container_create (&o, &created, err) < 0)
    return -1;
  if (!is_run)
    return 0;
  if (detached)
    return start_detached (cli, id, err);
  return hy_run_foreground (cli->root, id, &created, a->keep,
                            &cli->exit_code, err);
}

#define CREATE_HELP                                                           \
  "   --bundle DIR, -b DIR    the bundle directory (default: the current "    \
  "directory)\n"                                                              \
  "   --config FILE, -f FILE  the configuration file (default: "              \
  "config.json in the bundle)\n"                                              \
  "   --console-socket PATH   AF_UNIX socket that receives the console's "    \
  "pseudoterminal\n"                                                          \
  "   --pid-file FILE         write the process id to FILE\n"                 \
  "   --no-pivot              do not use pivot_root to jail the process\n"    \
  "   --no-new-keyring        do not create a new session keyring\n"          \
  "   --preserve-fds N        pass N additional file descriptors to the "     \
  "container\n"

const struct hy_command hy_cmd_create = {
  .name = "create",
  .summary = "create a container",
  .args = "<container-id>",
  .options = CREATE_HELP,
  .run = create_run,
};

const struct hy_command hy_cmd_run = {
  .name = "run",
  .summary = "create and run a container",
  .args = "<container-id>",
  .options = CREATE_HELP /* and run's own: */
  "   --detach, -d            detach from the container's process\n"
  "   --keep                  do not delete the container after it exits\n"
  "   --no-subreaper          do not reap reparented processes\n",
  .run = create_run,
};
