/* hyrun spec: write runc's default config.json into a bundle. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cli/cli.h"
#include "runtime/default-spec.h"

enum
{
  OPT_ROOTLESS = 256,
};

static const struct option spec_options[] = {
  { "bundle", required_argument, NULL, 'b' },
  { "rootless", no_argument, NULL, OPT_ROOTLESS },
  CLI_OPTION_HELP,
  CLI_OPTION_END,
};

static int
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t w = write (fd, buf, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return -1;
      buf += w;
      len -= (size_t) w;
    }
  return 0;
}

/* O_EXCL: an existing config.json is never overwritten, even by a race. */
static int
write_new_config (const char *bundle, const char *json, hy_error_t *err)
{
  _cleanup_close_ int dirfd = open (bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return hy_error_errno (err, "bundle `%s`", bundle);
  _cleanup_close_ int fd = openat (
      dirfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0 && errno == EEXIST)
    return hy_error (err, 0, "File config.json exists. Remove it first");
  if (fd < 0)
    return hy_error_errno (err, "create `%s/config.json`", bundle);
  if (write_all (fd, json, strlen (json)) < 0 || write_all (fd, "\n", 1) < 0)
    {
      int saved = errno;
      unlinkat (dirfd, "config.json", 0);
      return hy_error (err, saved, "write `%s/config.json`", bundle);
    }
  return 0;
}

static int
spec_run (struct hy_cli *cli, const struct hy_command *cmd, int argc,
          char **argv, hy_error_t *err)
{
  (void) cli;
  struct cli_parser p = { .cmd = cmd,
                          .argc = argc,
                          .argv = argv,
                          .shortopts = "b:",
                          .longopts = spec_options };
  const char *bundle = ".";
  bool rootless = false;
  int opt, r;
  while ((r = cli_next_option (&p, &opt, err)) > 0)
    if (opt == 'b')
      bundle = optarg;
    else
      rootless = true;
  cli_parser_done (&p);
  if (r < 0 || p.help)
    return r;
  if (cli_check_args (cmd, argc - optind, 0, 0, err) < 0)
    return -1;

  _cleanup_config_ struct oci_config *config
      = hy_default_spec (rootless, geteuid (), getegid ());
  _cleanup_free_ char *json = oci_config_to_json (config, true);
  return write_new_config (bundle, json, err);
}

const struct hy_command hy_cmd_spec = {
  .name = "spec",
  .summary = "create a new specification file",
  .args = "",
  .options = "   --bundle DIR, -b DIR  where to write config.json (default: "
             "the current directory)\n"
             "   --rootless            a configuration for a rootless "
             "container\n",
  .run = spec_run,
};
