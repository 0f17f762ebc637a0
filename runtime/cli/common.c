#include "runtime/cli/cli.h"

#include "common/cleanup.h"
#include "runtime/container.h"
#include "runtime/log.h"

int
cli_need_cgroups (const struct hy_cli *cli, hy_error_t *err)
{
  if (cli->cgroup_manager == HY_CGROUP_SYSTEMD)
    return hy_error (err, 0,
                     "systemd cgroup manager is not supported yet (use "
                     "--cgroup-manager cgroupfs)");
  return 0;
}

int
cli_with_container (const struct hy_cli *cli, const struct hy_command *cmd,
                    const char *id, hy_error_t *err)
{
  _cleanup_close_ int dirfd = -1;
  if (hy_container_open (cli->root, id, &dirfd, err) < 0)
    return -1;
  hy_log_debug ("%s: found `%s/%s`", cmd->name, cli->root, id);
  return hy_error (err, 0, "container \"%s\": %s is not implemented yet", id,
                   cmd->name);
}
