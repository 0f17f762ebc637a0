/* Verbs on an existing container: start, state, kill, delete, pause,
 * resume, ps, events.  They check their arguments, then look the
 * container up in --root. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"

#include "common/util.h"
#include "runtime/cli/cli.h"
#include "runtime/container.h"
#include "runtime/create.h"
#include "runtime/events.h"
#include "runtime/lifecycle.h"
#include "runtime/log.h"
#include "runtime/ps.h"
#include "runtime/signals.h"
#include "runtime/vm/ps-table.h"
#include "runtime/vm/supervisor.h"

enum
{
  OPT_STATS = 256,
  OPT_INTERVAL,
};

static const struct option no_options[] = {
  CLI_OPTION_HELP,
  CLI_OPTION_END,
};

typedef int (*container_action) (struct hy_container *c, void *arg,
                                 hy_error_t *err);

/* Load and lock the container, act on it, release it. */
static int
with_container (const struct hy_cli *cli, const char *id, int lock,
                container_action act, void *arg, hy_error_t *err)
{
  struct hy_container c;
  if (hy_container_load (cli->root, id, lock, &c, err) < 0)
    return -1;
  int r = act (&c, arg, err);
  hy_container_release (&c);
  return r;
}

/* Parse the options of a verb that has none, then take <container-id>. */
static int
simple_verb (struct hy_cli *cli, const struct hy_command *cmd, int argc,
             char **argv, bool cgroups, const char **id, hy_error_t *err)
{
  struct cli_parser p
      = { .cmd = cmd, .argc = argc, .argv = argv, .longopts = no_options };
  int opt, r;
  while ((r = cli_next_option (&p, &opt, err)) > 0)
    ;
  cli_parser_done (&p);
  if (r < 0 || p.help)
    return r < 0 ? r : 1;
  if (cli_check_args (cmd, argc - optind, 1, 1, err) < 0
      || hy_container_id_validate (argv[optind], err) < 0
      || (cgroups && cli_need_cgroups (cli, err) < 0))
    return -1;
  *id = argv[optind];
  return 0;
}

static int
print_state (struct hy_container *c, void *arg, hy_error_t *err)
{
  (void) arg;
  (void) err;
  _cleanup_free_ char *json = hy_container_state_json (c, true);
  printf ("%s\n", json);
  return 0;
}

static int
start_action (struct hy_container *c, void *arg, hy_error_t *err)
{
  (void) arg;
  return hy_container_start (c, err);
}

static int
pause_action (struct hy_container *c, void *arg, hy_error_t *err)
{
  return hy_container_pause (c, *(bool *) arg, err);
}

static int
start_state_run (struct hy_cli *cli, const struct hy_command *cmd, int argc,
                 char **argv, hy_error_t *err)
{
  const char *id;
  int r = simple_verb (cli, cmd, argc, argv, false, &id, err);
  if (r != 0)
    return r < 0 ? r : 0;
  bool is_state = cmd == &hy_cmd_state;
  return with_container (cli, id, is_state ? LOCK_SH : LOCK_EX,
                         is_state ? print_state : start_action, NULL, err);
}

static int
pause_resume_run (struct hy_cli *cli, const struct hy_command *cmd, int argc,
                  char **argv, hy_error_t *err)
{
  const char *id;
  int r = simple_verb (cli, cmd, argc, argv, true, &id, err);
  if (r != 0)
    return r < 0 ? r : 0;
  bool pause = cmd == &hy_cmd_pause;
  return with_container (cli, id, LOCK_EX, pause_action, &pause, err);
}

/* ---- kill ---- */

static const struct option kill_options[] = {
  { "all", no_argument, NULL, 'a' },
  CLI_OPTION_HELP,
  CLI_OPTION_END,
};

struct kill_args
{
  int signo;
  bool all;
};

static int
kill_action (struct hy_container *c, void *arg, hy_error_t *err)
{
  const struct kill_args *k = arg;
  return hy_container_kill (c, k->signo, k->all, err);
}

static int
kill_run (struct hy_cli *cli, const struct hy_command *cmd, int argc,
          char **argv, hy_error_t *err)
{
  struct cli_parser p = { .cmd = cmd,
                          .argc = argc,
                          .argv = argv,
                          .shortopts = "a",
                          .longopts = kill_options };
  bool all = false;
  int opt, r;
  while ((r = cli_next_option (&p, &opt, err)) > 0)
    all = true;
  cli_parser_done (&p);
  if (r < 0 || p.help)
    return r;
  if (cli_check_args (cmd, argc - optind, 1, 2, err) < 0)
    return -1;
  const char *id = argv[optind];
  const char *name = argc - optind == 2 ? argv[optind + 1] : "SIGTERM";
  int signo;
  if (hy_signal_parse (name, &signo, err) < 0)
    return -1;
  if (hy_container_id_validate (id, err) < 0)
    return -1;
  hy_log_debug ("kill: signal %d to %s", signo,
                all ? "all processes" : "init");
  struct kill_args k = { signo, all };
  return with_container (cli, id, LOCK_EX, kill_action, &k, err);
}

/* ---- delete ---- */

static const struct option delete_options[] = {
  { "force", no_argument, NULL, 'f' },
  CLI_OPTION_HELP,
  CLI_OPTION_END,
};

static int
delete_action (struct hy_container *c, void *arg, hy_error_t *err)
{
  return hy_container_delete (c, *(bool *) arg, err);
}

static bool
half_made (const char *root, const char *id)
{
  _cleanup_free_ char *status = xasprintf ("%s/%s/%s", root, id,
                                           HY_STATUS_FILE);
  return access (status, F_OK) < 0 && errno == ENOENT;
}

static int
delete_run (struct hy_cli *cli, const struct hy_command *cmd, int argc,
            char **argv, hy_error_t *err)
{
  struct cli_parser p = { .cmd = cmd,
                          .argc = argc,
                          .argv = argv,
                          .shortopts = "f",
                          .longopts = delete_options };
  bool force = false;
  int opt, r;
  while ((r = cli_next_option (&p, &opt, err)) > 0)
    force = true;
  cli_parser_done (&p);
  if (r < 0 || p.help)
    return r;
  if (cli_check_args (cmd, argc - optind, 1, 1, err) < 0)
    return -1;
  const char *id = argv[optind];
  bool exists;
  if (hy_container_exists (cli->root, id, &exists, err) < 0)
    return -1;
  /* As runc: deleting a container that is already gone is not an error
   * when forced, so that cleanup paths stay idempotent. */
  if (!exists && force)
    {
      hy_log_debug ("delete: container \"%s\" does not exist", id);
      return 0;
    }
  if (with_container (cli, id, LOCK_EX, delete_action, &force, err) == 0)
    return 0;
  if (!force || !half_made (cli->root, id))
    return -1;
  /* A create killed before status.json: nothing else can exist yet. */
  hy_log_warning ("delete: %s; removing the half-made state directory",
                  (*err)->msg);
  hy_error_release (err);
  hy_state_dir_remove (cli->root, id);
  return 0;
}

/* ---- ps ---- */

static const struct option ps_options[] = {
  { "format", required_argument, NULL, 'f' },
  CLI_OPTION_HELP,
  CLI_OPTION_END,
};

struct ps_args
{
  bool json;
  char **ps_args; /* for the host's ps; NULL-ended, maybe empty */
};

/* The guest's processes, as the host's ps would show them there. */
static int
vm_ps (struct hy_container *c, const struct ps_args *a, hy_error_t *err)
{
  struct hy_agent_response r;
  if (hy_vm_ps (c, &r, err) < 0)
    return -1;
  int ret = 0;
  if (a->json)
    {
      printf ("[");
      for (size_t i = 0; i < r.n_processes; i++)
        printf ("%s%d", i ? "," : "", r.processes[i].pid);
      printf ("]\n");
    }
  else
    ret = hy_vm_ps_table (&r, a->ps_args, time (NULL), stdout, err);
  hy_agent_response_release (&r);
  return ret;
}

static int
ps_action (struct hy_container *c, void *arg, hy_error_t *err)
{
  const struct ps_args *a = arg;
  if (c->status.isolation == HY_ISOLATION_VM
      && hy_container_status (c) != OCI_STATUS_STOPPED)
    return vm_ps (c, a, err);
  _cleanup_free_ pid_t *pids = NULL;
  size_t n;
  if (hy_container_pids (c, &pids, &n, err) < 0)
    return -1;
  if (!a->json)
    return hy_ps_table (pids, n, a->ps_args, stdout, err);
  _cleanup_free_ char *json = hy_ps_json (pids, n);
  printf ("%s\n", json);
  return 0;
}

static int
ps_run (struct hy_cli *cli, const struct hy_command *cmd, int argc,
        char **argv, hy_error_t *err)
{
  struct cli_parser p = { .cmd = cmd,
                          .argc = argc,
                          .argv = argv,
                          .shortopts = "f:",
                          .longopts = ps_options,
                          .in_order = true };
  bool json = false;
  int opt, r;
  while ((r = cli_next_option (&p, &opt, err)) > 0)
    if (cli_parse_format ("--format", optarg, &json, err) < 0)
      {
        r = -1;
        break;
      }
  cli_parser_done (&p);
  if (r < 0 || p.help)
    return r;
  if (cli_check_args (cmd, argc - optind, 1, -1, err) < 0
      || hy_container_id_validate (argv[optind], err) < 0
      || cli_need_cgroups (cli, err) < 0)
    return -1;
  hy_log_debug ("ps: %s output", json ? "json" : "table");
  struct ps_args a = { json, argv + optind + 1 };
  return with_container (cli, argv[optind], LOCK_SH, ps_action, &a, err);
}

/* ---- events ---- */

static const struct option events_options[] = {
  { "stats", no_argument, NULL, OPT_STATS },
  { "interval", required_argument, NULL, OPT_INTERVAL },
  CLI_OPTION_HELP,
  CLI_OPTION_END,
};

struct events_args
{
  bool stats;
  uint64_t interval_ns;
};

static int
events_action (struct hy_container *c, void *arg, hy_error_t *err)
{
  const struct events_args *a = arg;
  return hy_container_events (c, a->stats, a->interval_ns, stdout, err);
}

static int
events_run (struct hy_cli *cli, const struct hy_command *cmd, int argc,
            char **argv, hy_error_t *err)
{
  struct cli_parser p
      = { .cmd = cmd, .argc = argc, .argv = argv, .longopts = events_options };
  bool stats = false;
  uint64_t interval_ns = 5000000000ULL;
  int opt, r;
  while ((r = cli_next_option (&p, &opt, err)) > 0)
    if (opt == OPT_STATS)
      stats = true;
    else if (cli_parse_duration ("--interval", optarg, &interval_ns, err) < 0)
      {
        r = -1;
        break;
      }
  cli_parser_done (&p);
  if (r < 0 || p.help)
    return r;
  if (cli_check_args (cmd, argc - optind, 1, 1, err) < 0
      || hy_container_id_validate (argv[optind], err) < 0
      || cli_need_cgroups (cli, err) < 0)
    return -1;
  hy_log_debug ("events: %s every %llu ns", stats ? "stats once" : "stream",
                (unsigned long long) interval_ns);
  struct events_args a = { stats, interval_ns };
  return with_container (cli, argv[optind], LOCK_SH, events_action, &a, err);
}

/* ---- the table entries ---- */

const struct hy_command hy_cmd_start = {
  .name = "start",
  .summary = "start the user process of a created container",
  .args = "<container-id>",
  .run = start_state_run,
};

const struct hy_command hy_cmd_state = {
  .name = "state",
  .summary = "output the state of a container",
  .args = "<container-id>",
  .run = start_state_run,
};

const struct hy_command hy_cmd_pause = {
  .name = "pause",
  .summary = "suspend all processes of a container",
  .args = "<container-id>",
  .run = pause_resume_run,
};

const struct hy_command hy_cmd_resume = {
  .name = "resume",
  .summary = "resume the processes of a paused container",
  .args = "<container-id>",
  .run = pause_resume_run,
};

const struct hy_command hy_cmd_kill = {
  .name = "kill",
  .summary = "send a signal (default: SIGTERM) to the container's init "
             "process",
  .args = "<container-id> [signal]",
  .options = "   --all, -a  send the signal to all processes of the "
             "container\n",
  .run = kill_run,
};

const struct hy_command hy_cmd_delete = {
  .name = "delete",
  .summary = "delete the resources held by a container",
  .args = "<container-id>",
  .options = "   --force, -f  kill the container first if it still runs; "
             "succeed if it is gone\n",
  .run = delete_run,
};

const struct hy_command hy_cmd_ps = {
  .name = "ps",
  .summary = "list the processes running inside a container",
  .args = "<container-id> [ps options]",
  .options = "   --format FORMAT, -f FORMAT  table (default) or json\n",
  .run = ps_run,
};

const struct hy_command hy_cmd_events = {
  .name = "events",
  .summary = "display container events and resource usage statistics",
  .args = "<container-id>",
  .options = "   --stats          display the container's stats once, then "
             "exit\n"
             "   --interval DUR   the stats collection interval (default: "
             "5s)\n",
  .run = events_run,
};
