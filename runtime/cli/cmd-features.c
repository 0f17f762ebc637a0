/* hyrun features: the runtime-spec features document of this host. */
#include <stdio.h>

#include "common/cleanup.h"
#include "runtime/cli/cli.h"
#include "runtime/host-features.h"

static const struct option features_options[] = {
  CLI_OPTION_HELP,
  CLI_OPTION_END,
};

static int
features_run (struct hy_cli *cli, const struct hy_command *cmd, int argc,
              char **argv, hy_error_t *err)
{
  (void) cli;
  struct cli_parser p = {
    .cmd = cmd, .argc = argc, .argv = argv, .longopts = features_options
  };
  int opt, r;
  while ((r = cli_next_option (&p, &opt, err)) > 0)
    ;
  cli_parser_done (&p);
  if (r < 0 || p.help)
    return r;
  if (cli_check_args (cmd, argc - optind, 0, 0, err) < 0)
    return -1;

  _cleanup_features_ struct oci_features *f = hy_host_features ();
  _cleanup_free_ char *json = oci_features_to_json (f, true);
  printf ("%s\n", json);
  return 0;
}

const struct hy_command hy_cmd_features = {
  .name = "features",
  .summary = "show the enabled features",
  .args = "",
  .options = NULL,
  .run = features_run,
};
