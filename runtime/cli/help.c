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

/* The name hyrun was invoked by: tools that install it as `runc` (and
 * runc's own test suite) see that name in help and version output. */
static const char *program = "hyrun";

void
cli_set_program (const char *name)
{
  program = name;
}

void
cli_print_help (FILE *out)
{
  fprintf (out,
           "NAME:\n   %s - Open Container Initiative runtime, running each "
           "workload in containers or microVMs\n\n"
           "USAGE:\n   %s [global options] command [command options] "
           "[arguments...]\n\n"
           "VERSION:\n   %s\n\nCOMMANDS:\n",
           program, program, HYRUN_VERSION);
  for (size_t i = 0; hy_commands[i]; i++)
    fprintf (out, "   %-10s %s\n", hy_commands[i]->name,
             hy_commands[i]->summary);
  fprintf (out, "   %-10s %s\n", "help",
           "show the help, or the help of a command");
  fprintf (out, "\nGLOBAL OPTIONS:\n%s", global_options);
}

void
cli_print_command_help (const struct hy_command *cmd, FILE *out)
{
  fprintf (out, "NAME:\n   %s %s - %s\n\nUSAGE:\n   %s %s%s%s%s\n",
           program, cmd->name, cmd->summary, program, cmd->name,
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
           "%s version %s\ncommit: %s\nspec: %s\nlibseccomp: %u.%u.%u\n",
           program, HYRUN_VERSION, HYRUN_COMMIT, HYRUN_OCI_VERSION, v->major, v->minor,
           v->micro);
}
