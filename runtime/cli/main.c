/* hyrun: global options, then one command from the table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cli/cli.h"
#include "runtime/container.h"
#include "runtime/linux/warn.h"
#include "runtime/log.h"
#include "version.h"

const struct hy_command *const hy_commands[] = {
  &hy_cmd_checkpoint, &hy_cmd_create, &hy_cmd_delete, &hy_cmd_events,
  &hy_cmd_exec,       &hy_cmd_kill,   &hy_cmd_list,   &hy_cmd_pause,
  &hy_cmd_ps,         &hy_cmd_restore, &hy_cmd_resume, &hy_cmd_run,
  &hy_cmd_spec,       &hy_cmd_start,  &hy_cmd_state,  &hy_cmd_update,
  &hy_cmd_features,   NULL,
};

const struct hy_command *
hy_command_find (const char *name)
{
  for (size_t i = 0; hy_commands[i]; i++)
    if (str_eq (hy_commands[i]->name, name))
      return hy_commands[i];
  return NULL;
}

enum
{
  OPT_ROOT = 256,
  OPT_LOG,
  OPT_LOG_FORMAT,
  OPT_DEBUG,
  OPT_SYSTEMD_CGROUP,
  OPT_CGROUP_MANAGER,
  OPT_ROOTLESS,
  OPT_CRIU,
};

static const struct option global_options[] = {
  { "root", required_argument, NULL, OPT_ROOT },
  { "log", required_argument, NULL, OPT_LOG },
  { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
  { "debug", no_argument, NULL, OPT_DEBUG },
  { "systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP },
  { "cgroup-manager", required_argument, NULL, OPT_CGROUP_MANAGER },
  { "rootless", required_argument, NULL, OPT_ROOTLESS },
  { "criu", required_argument, NULL, OPT_CRIU },
  { "version", no_argument, NULL, 'v' },
  CLI_OPTION_HELP,
  CLI_OPTION_END,
};

struct globals
{
  struct hy_cli cli;
  const char *log_path;
  enum hy_log_format log_format;
  bool version;
  bool help;
};

static int
set_cgroup_manager (struct globals *g, const char *s, hy_error_t *err)
{
  if (str_eq (s, "cgroupfs"))
    g->cli.cgroup_manager = HY_CGROUP_CGROUPFS;
  else if (str_eq (s, "systemd"))
    g->cli.cgroup_manager = HY_CGROUP_SYSTEMD;
  else if (str_eq (s, "disabled"))
    g->cli.cgroup_manager = HY_CGROUP_DISABLED;
  else
    return cli_bad_value (err, "--cgroup-manager", s,
                          "cgroupfs, systemd or disabled");
  return 0;
}

static int
set_rootless (struct globals *g, const char *s, hy_error_t *err)
{
  if (str_eq (s, "auto"))
    g->cli.rootless = HY_ROOTLESS_AUTO;
  else if (str_eq (s, "true"))
    g->cli.rootless = HY_ROOTLESS_TRUE;
  else if (str_eq (s, "false"))
    g->cli.rootless = HY_ROOTLESS_FALSE;
  else
    return cli_bad_value (err, "--rootless", s, "true, false or auto");
  return 0;
}

static int
set_root (struct globals *g, const char *s, hy_error_t *err)
{
  if (*s == '\0')
    return cli_bad_value (err, "--root", s, "a directory");
  free (g->cli.root);
  if (s[0] == '/')
    g->cli.root = xstrdup (s);
  else
    {
      _cleanup_free_ char *cwd = getcwd (NULL, 0);
      if (cwd == NULL)
        return hy_error_errno (err, "--root: getcwd");
      g->cli.root = xasprintf ("%s/%s", cwd, s);
    }
  return 0;
}

static int
global_option (struct globals *g, int opt, hy_error_t *err)
{
  switch (opt)
    {
    case OPT_ROOT:
      return set_root (g, optarg, err);
    case OPT_LOG:
      g->log_path = optarg;
      return 0;
    case OPT_LOG_FORMAT:
      if (hy_log_format_from_name (optarg, &g->log_format) < 0)
        return cli_bad_value (err, "--log-format", optarg, "text or json");
      return 0;
    case OPT_DEBUG:
      g->cli.debug = true;
      return 0;
    case OPT_SYSTEMD_CGROUP:
      g->cli.cgroup_manager = HY_CGROUP_SYSTEMD;
      return 0;
    case OPT_CGROUP_MANAGER:
      return set_cgroup_manager (g, optarg, err);
    case OPT_ROOTLESS:
      return set_rootless (g, optarg, err);
    case OPT_CRIU:
      return 0; /* checkpoint/restore is not implemented */
    case 'v':
      g->version = true;
      return 0;
    default:
      return hy_error (err, 0, "unhandled flag %d", opt);
    }
}

/* Parse the global options; argv[*cmd_index] is the command afterwards. */
static int
parse_globals (struct globals *g, int argc, char **argv, int *cmd_index,
               hy_error_t *err)
{
  struct cli_parser p = { .argc = argc,
                          .argv = argv,
                          .shortopts = "v",
                          .longopts = global_options,
                          .in_order = true };
  int opt, r;
  while ((r = cli_next_option (&p, &opt, err)) > 0)
    if (global_option (g, opt, err) < 0)
      {
        r = -1;
        break;
      }
  g->help = p.help;
  *cmd_index = optind;
  cli_parser_done (&p);
  return r;
}

static const char *
base_name (const char *path)
{
  const char *slash = strrchr (path, '/');
  return slash ? slash + 1 : path;
}

static int
run_help (int argc, char **argv, hy_error_t *err)
{
  if (argc < 2)
    {
      cli_print_help (stdout);
      return 0;
    }
  const struct hy_command *cmd = hy_command_find (argv[1]);
  if (cmd == NULL)
    return hy_error (err, 0,
                     "help: unknown command \"%s\" (No help topic for '%s')",
                     argv[1], argv[1]);
  cli_print_command_help (cmd, stdout);
  return 0;
}

static int
dispatch (struct globals *g, int argc, char **argv, hy_error_t *err)
{
  if (g->help)
    return 0;
  if (g->version)
    {
      cli_print_version (stdout);
      return 0;
    }
  if (argc == 0)
    {
      cli_print_help (stdout);
      return 0;
    }
  if (str_eq (argv[0], "help") || str_eq (argv[0], "h"))
    return run_help (argc, argv, err);
  const struct hy_command *cmd = hy_command_find (argv[0]);
  if (cmd == NULL)
    return hy_error (err, 0,
                     "unknown command \"%s\" (No help topic for '%s'; see "
                     "--help)",
                     argv[0], argv[0]);
  hy_log_debug ("hyrun %s (commit %s): %s, root `%s`", HYRUN_VERSION,
                HYRUN_COMMIT, cmd->name, g->cli.root);
  if (cmd->run (&g->cli, cmd, argc, argv, err) < 0)
    return hy_error_prepend (err, "%s", cmd->name);
  return 0;
}

static void
log_linux_warning (const char *msg, void *data)
{
  (void) data;
  hy_log_warning ("%s", msg);
}

int
main (int argc, char **argv)
{
  /* Processes hyrun forks into a container (init before its execve, exec's
   * process) must not let the container open /proc/<pid>/exe and rewrite
   * the runtime binary (CVE-2019-5736): non-dumpable, /proc/<pid> is out
   * of reach without CAP_SYS_PTRACE.  execve makes the workload dumpable
   * again. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  struct globals g
      = { .cli.program = base_name (argv[0] ? argv[0] : "hyrun") };
  _cleanup_error_ hy_error_t err = NULL;
  _cleanup_error_ hy_error_t log_err = NULL;
  int cmd_index = argc;
  cli_set_program (g.cli.program);

  int r = parse_globals (&g, argc, argv, &cmd_index, &err);
  /* Open the log even after a bad flag, so that the error reaches it. */
  if (hy_log_init (g.log_path, g.log_format, g.cli.debug, &log_err) < 0)
    {
      hy_log_fail (&log_err);
      r = -1;
    }
  hy_linux_set_warn (log_linux_warning, NULL);
  if (r == 0 && g.cli.root == NULL)
    g.cli.root = hy_default_root ();
  if (r == 0)
    r = dispatch (&g, argc - cmd_index, argv + cmd_index, &err);
  if (err)
    hy_log_fail (&err);
  free (g.cli.root);
  hy_log_close ();
  if (fflush (stdout) != 0 && r == 0)
    {
      hy_log_error ("write standard output: %s", strerror (errno));
      r = -1;
    }
  if (r < 0)
    return g.cli.fail_code ? g.cli.fail_code : EXIT_FAILURE;
  return g.cli.exit_code;
}
