/* hyrun list: the containers under --root. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cli/cli.h"
#include "runtime/container.h"
#include "runtime/log.h"

static const struct option list_options[] = {
  { "format", required_argument, NULL, 'f' },
  { "quiet", no_argument, NULL, 'q' },
  CLI_OPTION_HELP,
  CLI_OPTION_END,
};

/* The containers whose state can be read; none can be yet, so entries are
 * only reported.  A missing root is an empty list, and is not created. */
static int
scan_root (const char *root, hy_error_t *err)
{
  _cleanup_closedir_ DIR *dir = opendir (root);
  if (dir == NULL && errno == ENOENT)
    return 0;
  if (dir == NULL)
    return hy_error_errno (err, "open state root `%s`", root);
  struct dirent *de;
  while ((errno = 0, de = readdir (dir)) != NULL)
    {
      if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
        continue;
      if (hy_container_id_validate (de->d_name, NULL) < 0)
        continue;
      hy_log_warning ("list: container \"%s\": reading its state is not "
                      "implemented yet, skipped",
                      de->d_name);
    }
  if (errno != 0)
    return hy_error_errno (err, "read state root `%s`", root);
  return 0;
}

static void
print_table_header (void)
{
  /* runc's tabwriter: columns of at least 12, the last one unpadded. */
  printf ("%-12s%-12s%-12s%-12s%-12s%s\n", "ID", "PID", "STATUS", "BUNDLE",
          "CREATED", "OWNER");
}

static int
list_run (struct hy_cli *cli, const struct hy_command *cmd, int argc,
          char **argv, hy_error_t *err)
{
  struct cli_parser p = { .cmd = cmd,
                          .argc = argc,
                          .argv = argv,
                          .shortopts = "f:q",
                          .longopts = list_options };
  bool json = false, quiet = false;
  int opt, r;
  while ((r = cli_next_option (&p, &opt, err)) > 0)
    if (opt == 'q')
      quiet = true;
    else if (cli_parse_format ("--format", optarg, &json, err) < 0)
      {
        r = -1;
        break;
      }
  cli_parser_done (&p);
  if (r < 0 || p.help)
    return r;
  if (cli_check_args (cmd, argc - optind, 0, 0, err) < 0)
    return -1;

  if (scan_root (cli->root, err) < 0)
    return -1;
  if (quiet)
    return 0;
  if (json)
    puts ("null"); /* what runc prints for no containers */
  else
    print_table_header ();
  return 0;
}

const struct hy_command hy_cmd_list = {
  .name = "list",
  .summary = "list the containers under the state root",
  .args = "",
  .options = "   --format FORMAT, -f FORMAT  table (default) or json\n"
             "   --quiet, -q                 display only container ids\n",
  .run = list_run,
};
