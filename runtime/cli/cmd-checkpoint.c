/* checkpoint / restore: runc has them through CRIU; hyrun does not, and
 * says so (their help still works, as tools probe it). */
#include "runtime/cli/cli.h"

#include <errno.h>

static const struct option no_options[] = {
  CLI_OPTION_HELP,
  CLI_OPTION_END,
};

static int
unsupported_run (struct hy_cli *cli, const struct hy_command *cmd, int argc,
                 char **argv, hy_error_t *err)
{
  (void) cli;
  struct cli_parser p
      = { .cmd = cmd, .argc = argc, .argv = argv, .longopts = no_options };
  int opt, r;
  while ((r = cli_next_option (&p, &opt, err)) > 0)
    ;
  cli_parser_done (&p);
  if (r < 0 || p.help)
    return r;
  return hy_error (err, ENOTSUP,
                   "checkpoint and restore are not supported (no CRIU)");
}

const struct hy_command hy_cmd_checkpoint = {
  .name = "checkpoint",
  .summary = "checkpoint a running container (not supported)",
  .args = "<container-id>",
  .run = unsupported_run,
};

const struct hy_command hy_cmd_restore = {
  .name = "restore",
  .summary = "restore a container from a checkpoint (not supported)",
  .args = "<container-id>",
  .run = unsupported_run,
};
