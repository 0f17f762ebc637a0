/* The hyrun command line: global state, the command table and the option
 * parsing every command shares.
 *
 * Options are taken as runc (urfave/cli) takes them: `--opt value`,
 * `--opt=value` and the single-dash `-opt` forms all work
 * (getopt_long_only).  Commands that pass arguments through (exec, ps)
 * stop at the first non-option; the others accept options anywhere. */
#ifndef HYRUN_RUNTIME_CLI_H
#define HYRUN_RUNTIME_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"

enum hy_cgroup_manager
{
  HY_CGROUP_CGROUPFS,
  HY_CGROUP_SYSTEMD,
  HY_CGROUP_DISABLED,
};

enum hy_rootless
{
  HY_ROOTLESS_AUTO,
  HY_ROOTLESS_TRUE,
  HY_ROOTLESS_FALSE,
};

/* What the global options set. */
struct hy_cli
{
  const char *program; /* basename of argv[0]: "hyrun", "hyrun-vm" */
  char *root; /* absolute */
  enum hy_cgroup_manager cgroup_manager;
  enum hy_rootless rootless;
  bool debug;
  int exit_code; /* of a successful command: run passes the container's */
  int fail_code; /* of a failed one when not 1: exec's is 255, as runc's */
};

struct hy_command;
typedef int (*hy_command_fn) (struct hy_cli *cli, const struct hy_command *cmd,
                              int argc, char **argv, hy_error_t *err);

struct hy_command
{
  const char *name;
  const char *summary;
  const char *args; /* positional arguments in the usage line */
  const char *options; /* help text of the options, NULL for none */
  hy_command_fn run;
};

extern const struct hy_command hy_cmd_create, hy_cmd_run, hy_cmd_start,
    hy_cmd_state, hy_cmd_kill, hy_cmd_delete, hy_cmd_list, hy_cmd_ps,
    hy_cmd_exec, hy_cmd_pause, hy_cmd_resume, hy_cmd_update, hy_cmd_events,
    hy_cmd_spec, hy_cmd_features, hy_cmd_checkpoint, hy_cmd_restore;

/* Every command's table, in help order. */
extern const struct hy_command *const hy_commands[];
const struct hy_command *hy_command_find (const char *name);

/* ---- help (help.c) ---- */

void cli_set_program (const char *name);
void cli_print_help (FILE *out);
void cli_print_command_help (const struct hy_command *cmd, FILE *out);
void cli_print_version (FILE *out);

/* ---- option parsing (args.c) ---- */

/* clang-format off */
#define CLI_OPTION_HELP { "help", no_argument, NULL, 'h' }
#define CLI_OPTION_END { NULL, 0, NULL, 0 }
/* clang-format on */

struct cli_parser
{
  const struct hy_command *cmd; /* NULL for the global options */
  int argc;
  char **argv;
  const char *shortopts; /* without the leading "+:" */
  const struct option *longopts;
  bool in_order; /* stop at the first non-option */
  bool help; /* -h / --help was given and the help printed */
  bool started;
  char *optstring;
};

/* Next option into *opt: 1, or 0 at the end (then optind is the first
 * argument), or <0 naming the bad flag.  -h / --help print the help and
 * end the parse with p->help set. */
int cli_next_option (struct cli_parser *p, int *opt, hy_error_t *err);
void cli_parser_done (struct cli_parser *p);

/* "<cmd>: requires exactly 1 argument" and friends; max < 0: no limit. */
int cli_check_args (const struct hy_command *cmd, int n, int min, int max,
                    hy_error_t *err);

int cli_bad_value (hy_error_t *err, const char *flag, const char *value,
                   const char *expected);

/* Numeric flag values; errors name the flag. */
int cli_parse_uint (const char *flag, const char *s, uint64_t max,
                    uint64_t *out, hy_error_t *err);
int cli_parse_int (const char *flag, const char *s, int64_t min, int64_t max,
                   int64_t *out, hy_error_t *err);
/* Byte sizes as runc takes them: "1024", "512k", "1.5g", "2MiB"; "-1"
 * where allow_unlimited. */
int cli_parse_bytes (const char *flag, const char *s, bool allow_unlimited,
                     int64_t *out, hy_error_t *err);
/* Go durations: "5s", "100ms", "1m30s". */
int cli_parse_duration (const char *flag, const char *s, uint64_t *nsec,
                        hy_error_t *err);

/* "table" / "json" for --format. */
int cli_parse_format (const char *flag, const char *s, bool *json,
                      hy_error_t *err);

/* ---- shared steps of the commands ---- */

/* Commands that touch cgroups fail early under the systemd manager. */
int cli_need_cgroups (const struct hy_cli *cli, hy_error_t *err);

/* Look the container up; today there is no way to create one, so a found
 * container can only be reported as not manageable yet. */
int cli_with_container (const struct hy_cli *cli, const struct hy_command *cmd,
                        const char *id, hy_error_t *err);

#endif
