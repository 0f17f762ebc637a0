#include "runtime/cli/cli.h"

#include <seccomp.h>

#include "version.h"

static const char global_options[]
    = "   --root DIR            root directory for storage of container "
      "state\n"
      "                         (default: /run/hyrun, or "
      "$XDG_RUNTIME_DIR/hyrun without root)\n"
      "   --log FILE            also write the log to FILE\n"
      "   --log-format FORMAT   format of the log file: text (default) or "
      "json\n"
      "   --debug               enable debug logging\n"
      "   --systemd-cgroup      use the systemd cgroup manager (not "
      "supported yet)\n"
      "   --cgroup-manager MGR  cgroupfs (default), systemd or disabled\n"
      "   --rootless VALUE      true, false or auto (default: auto)\n"
      "   --criu PATH           accepted for compatibility, ignored\n"
      "   --help, -h            show help\n"
      "   --version, -v         print the version\n";

void
cli_print_help (FILE *out)
{
  fprintf (out,
           "NAME:\n   hyrun - OCI container runtime, with containers or "
           "microVMs\n\n"
           "USAGE:\n   hyrun [global options] command [command options] "
           "[arguments...]\n\n"
           "VERSION:\n   %s\n\nCOMMANDS:\n",
           HYRUN_VERSION);
  for (size_t i = 0; hy_commands[i]; i++)
    fprintf (out, "   %-10s %s\n", hy_commands[i]->name,
             hy_commands[i]->summary);
  fprintf (out, "   %-10s %s\n", "help",
           "show the help of hyrun or of a "
           "command");
  fprintf (out, "\nGLOBAL OPTIONS:\n%s", global_options);
}

void
cli_print_command_help (const struct hy_command *cmd, FILE *out)
{
  fprintf (out, "NAME:\n   hyrun %s - %s\n\nUSAGE:\n   hyrun %s%s%s%s\n",
           cmd->name, cmd->summary, cmd->name,
           cmd->options ? " [command options]" : "", *cmd->args ? " " : "",
           cmd->args);
  if (cmd->options)
    fprintf (out, "\nOPTIONS:\n%s", cmd->options);
}

void
cli_print_version (FILE *out)
{
  const struct scmp_version *v = seccomp_version ();
  fprintf (out,
           "hyrun version %s\ncommit: %s\nspec: %s\nlibseccomp: %u.%u.%u\n",
           HYRUN_VERSION, HYRUN_COMMIT, HYRUN_OCI_VERSION, v->major, v->minor,
           v->micro);
}
