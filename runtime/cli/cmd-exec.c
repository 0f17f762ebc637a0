/* hyrun exec: run a new process in an existing container. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/config-internal.h"
#include "runtime/cli/cli.h"
#include "runtime/container.h"
#include "runtime/exec.h"
#include "runtime/host-features.h"
#include "runtime/lifecycle.h"
#include "runtime/log.h"
#include "runtime/run.h"

#define PROCESS_FILE_MAX (16 << 20)

enum
{
  OPT_CONSOLE_SOCKET = 256,
  OPT_CWD,
  OPT_PID_FILE,
  OPT_PROCESS_LABEL,
  OPT_APPARMOR,
  OPT_NO_NEW_PRIVS,
  OPT_PRESERVE_FDS,
  OPT_CGROUP,
  OPT_IGNORE_PAUSED,
};

static const struct option exec_options[] = {
  { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },
  { "cwd", required_argument, NULL, OPT_CWD },
  { "env", required_argument, NULL, 'e' },
  { "tty", no_argument, NULL, 't' },
  { "user", required_argument, NULL, 'u' },
  { "additional-gids", required_argument, NULL, 'g' },
  { "process", required_argument, NULL, 'p' },
  { "detach", no_argument, NULL, 'd' },
  { "pid-file", required_argument, NULL, OPT_PID_FILE },
  { "process-label", required_argument, NULL, OPT_PROCESS_LABEL },
  { "apparmor", required_argument, NULL, OPT_APPARMOR },
  { "no-new-privs", no_argument, NULL, OPT_NO_NEW_PRIVS },
  { "cap", required_argument, NULL, 'c' },
  { "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS },
  { "cgroup", required_argument, NULL, OPT_CGROUP },
  { "ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED },
  CLI_OPTION_HELP,
  CLI_OPTION_END,
};

struct exec_args
{
  struct oci_process *process; /* from -p */
  char **env, **caps, **cgroups;
  uint32_t *gids;
  size_t n_gids;
  bool has_user, has_gid;
  uint32_t uid, gid;
  const char *cwd, *console_socket, *pid_file, *process_label, *apparmor;
  bool tty, detach, no_new_privs, ignore_paused;
  uint64_t preserve_fds;
};

static void
exec_args_free (struct exec_args *a)
{
  oci_process_free (a->process);
  strv_free (a->env);
  strv_free (a->caps);
  strv_free (a->cgroups);
  free (a->gids);
}

static void
push (char ***v, const char *s)
{
  size_t n = strv_len (*v);
  *v = xrealloc (*v, (n + 2) * sizeof (char *));
  (*v)[n] = xstrdup (s);
  (*v)[n + 1] = NULL;
}

static bool
id32 (const char *s, uint32_t *out)
{
  unsigned long long v;
  if (parse_uint64 (s, &v) < 0 || v >= UINT32_MAX)
    return false;
  *out = (uint32_t) v;
  return true;
}

/* "uid" or "uid:gid", numeric as runc takes them. */
static int
parse_user (struct exec_args *a, const char *s, hy_error_t *err)
{
  _cleanup_free_ char *uid = xstrdup (s);
  char *gid = strchr (uid, ':');
  if (gid)
    *gid++ = '\0';
  if (!id32 (uid, &a->uid) || (gid && !id32 (gid, &a->gid)))
    return cli_bad_value (err, "--user", s, "UID[:GID], numeric");
  a->has_user = true;
  a->has_gid = gid != NULL;
  return 0;
}

static int
add_gid (struct exec_args *a, const char *s, hy_error_t *err)
{
  uint32_t gid;
  if (!id32 (s, &gid))
    return cli_bad_value (err, "--additional-gids", s, "a numeric GID");
  a->gids = xrealloc (a->gids, (a->n_gids + 1) * sizeof *a->gids);
  a->gids[a->n_gids++] = gid;
  return 0;
}

static int
add_cap (struct exec_args *a, const char *s, hy_error_t *err)
{
  _cleanup_strv_ char **known = hy_known_capabilities ();
  if (!strv_contains (known, s))
    return cli_bad_value (err, "--cap", s, "a capability such as CAP_KILL");
  push (&a->caps, s);
  return 0;
}

static int
add_env (struct exec_args *a, const char *s, hy_error_t *err)
{
  const char *eq = strchr (s, '=');
  if (eq == NULL || eq == s)
    return cli_bad_value (err, "--env", s, "KEY=VALUE");
  push (&a->env, s);
  return 0;
}

static int
load_process (struct exec_args *a, const char *path, hy_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  if (read_file_at (AT_FDCWD, path, PROCESS_FILE_MAX, &text, NULL, err) < 0)
    return hy_error_prepend (err, "--process");
  yajl_val doc = NULL;
  if (oci_json_parse (text, &doc, err) < 0)
    return hy_error_prepend (err, "%s", path);
  oci_process_free (steal_pointer (&a->process));
  int r = oci_parse_process (doc, JPATH_ROOT, &a->process, err);
  yajl_tree_free (doc);
  return r < 0 ? hy_error_prepend (err, "%s", path) : 0;
}

static int
exec_option (struct exec_args *a, int opt, hy_error_t *err)
{
  switch (opt)
    {
    case OPT_CONSOLE_SOCKET:
      a->console_socket = optarg;
      return 0;
    case OPT_CWD:
      if (optarg[0] != '/')
        return cli_bad_value (err, "--cwd", optarg, "an absolute path");
      a->cwd = optarg;
      return 0;
    case 'e':
      return add_env (a, optarg, err);
    case 't':
      a->tty = true;
      return 0;
    case 'u':
      return parse_user (a, optarg, err);
    case 'g':
      return add_gid (a, optarg, err);
    case 'p':
      return load_process (a, optarg, err);
    case 'd':
      a->detach = true;
      return 0;
    case OPT_PID_FILE:
      a->pid_file = optarg;
      return 0;
    case OPT_PROCESS_LABEL:
      a->process_label = optarg;
      return 0;
    case OPT_APPARMOR:
      a->apparmor = optarg;
      return 0;
    case OPT_NO_NEW_PRIVS:
      a->no_new_privs = true;
      return 0;
    case 'c':
      return add_cap (a, optarg, err);
    case OPT_PRESERVE_FDS:
      return cli_parse_uint ("--preserve-fds", optarg, 65536, &a->preserve_fds,
                             err);
    case OPT_CGROUP:
      if (*optarg == '\0')
        return cli_bad_value (err, "--cgroup", optarg,
                              "[<controller>:]<cgroup>");
      push (&a->cgroups, optarg);
      return 0;
    case OPT_IGNORE_PAUSED:
      a->ignore_paused = true;
      return 0;
    }
  return 0;
}

/* runc's rules: "path" alone, or "ctrl[,ctrl]:path" with each controller
 * named once. */
static int
check_cgroups (char **cgroups, hy_error_t *err)
{
  _cleanup_strv_ char **seen = NULL;
  for (size_t i = 0; cgroups && cgroups[i]; i++)
    {
      const char *c = cgroups[i], *colon = strchr (c, ':');
      if (colon == NULL)
        {
          if (strv_len (cgroups) != 1)
            return hy_error (err, 0, "invalid --cgroup argument: %s (missing "
                                     "<controller>: prefix)", c);
          continue;
        }
      _cleanup_free_ char *list = xstrndup (c, (size_t) (colon - c));
      char *save = NULL;
      for (char *ctrl = strtok_r (list, ",", &save); ctrl;
           ctrl = strtok_r (NULL, ",", &save))
        {
          if (strv_contains (seen, ctrl))
            return hy_error (err, 0, "invalid --cgroup argument(s): "
                                     "controller %s specified multiple times",
                             ctrl);
          push (&seen, ctrl);
        }
      if (colon == c || colon[-1] == ',' || strstr (list, ",,"))
        return hy_error (err, 0, "invalid --cgroup argument: %s (empty "
                                 "<controller> prefix)", c);
    }
  return 0;
}

static int
check_status (struct hy_container *c, bool ignore_paused, hy_error_t *err)
{
  switch (hy_container_status (c))
    {
    case OCI_STATUS_STOPPED:
      return hy_error (err, 0, "cannot exec a container that has stopped");
    case OCI_STATUS_PAUSED:
      if (ignore_paused)
        return 0;
      return hy_error (err, 0, "cannot exec in a paused container (use "
                               "--ignore-paused to override)");
    case OCI_STATUS_CREATING:
      return hy_error (err, 0, "cannot exec in container \"%s\": it is "
                               "still being created", c->status.id);
    default:
      return 0;
    }
}

/* KEY=VALUE replaces the KEY entry, else comes last (runc: last wins). */
static void
set_env (char ***env, const char *entry)
{
  size_t key_len = (size_t) (strchr (entry, '=') - entry) + 1;
  for (size_t i = 0; *env && (*env)[i]; i++)
    if (strncmp ((*env)[i], entry, key_len) == 0)
      {
        free ((*env)[i]);
        (*env)[i] = xstrdup (entry);
        return;
      }
  push (env, entry);
}

/* runc 1.1.2+: --cap adds to every set but the inheritable one. */
static void
add_caps (struct oci_process *p, char **caps)
{
  if (caps == NULL)
    return;
  if (p->capabilities == NULL)
    p->capabilities = xmalloc0 (sizeof (*p->capabilities));
  struct oci_capabilities *c = p->capabilities;
  for (size_t i = 0; caps[i]; i++)
    {
      push (&c->bounding, caps[i]);
      push (&c->effective, caps[i]);
      push (&c->permitted, caps[i]);
      push (&c->ambient, caps[i]);
    }
}

/* The command line over the container's process, as runc's getProcess. */
static void
apply_flags (struct oci_process *p, const struct exec_args *a, char **args)
{
  strv_free (p->args);
  p->args = strv_dup (args);
  if (a->cwd)
    {
      free (p->cwd);
      p->cwd = xstrdup (a->cwd);
    }
  add_caps (p, a->caps);
  for (size_t i = 0; a->env && a->env[i]; i++)
    set_env (&p->env, a->env[i]);
  p->terminal = a->tty;
  if (a->no_new_privs)
    p->no_new_privileges = p->has_no_new_privileges = true;
  if (a->has_user)
    p->user.uid = a->uid;
  if (a->has_gid)
    p->user.gid = a->gid;
  if (a->n_gids)
    {
      struct oci_user *u = &p->user;
      u->additional_gids = xrealloc (
          u->additional_gids,
          (u->n_additional_gids + a->n_gids) * sizeof (uint32_t));
      memcpy (u->additional_gids + u->n_additional_gids, a->gids,
              a->n_gids * sizeof (uint32_t));
      u->n_additional_gids += a->n_gids;
    }
}

/* -p: the document as given; capabilities and rlimits it lacks are the
 * container's, as runc does. */
static void
complete_process (struct oci_process *p, struct oci_process *base)
{
  if (p->capabilities == NULL)
    p->capabilities = steal_pointer (&base->capabilities);
  if (p->n_rlimits == 0)
    {
      struct oci_rlimit *empty = p->rlimits;
      p->rlimits = steal_pointer (&base->rlimits);
      p->n_rlimits = base->n_rlimits;
      base->rlimits = empty;
      base->n_rlimits = 0;
    }
}

static int
make_process (struct exec_args *a, char **args, const struct oci_config *cfg,
              struct oci_process **out, hy_error_t *err)
{
  if (cfg->process == NULL)
    return hy_error (err, 0, "the container's config has no process");
  /* A copy of the container's process that the flags may change. */
  _cleanup_free_ char *json = oci_process_to_json (cfg->process, false);
  _cleanup_process_ struct oci_process *base = NULL;
  if (oci_process_parse (json, HY_CONFIG_COPY, &base, err) < 0)
    return -1;
  if (a->process)
    {
      complete_process (a->process, base);
      *out = steal_pointer (&a->process);
      return 0;
    }
  apply_flags (base, a, args);
  *out = steal_pointer (&base);
  return 0;
}

static int
check_terminal (const struct exec_args *a, const struct oci_process *p,
                hy_error_t *err)
{
  if (p->terminal && a->detach && a->console_socket == NULL)
    return hy_error (err, 0, "cannot allocate a tty when hyrun detaches "
                             "without --console-socket");
  if (!p->terminal && a->console_socket)
    return hy_error (err, 0, "--console-socket needs a terminal (--tty or "
                             "process.terminal)");
  return 0;
}

static int
exec_in_container (struct hy_cli *cli, struct exec_args *a, const char *id,
                   char **args, hy_error_t *err)
{
  struct hy_container c;
  _cleanup_process_ struct oci_process *p = NULL;
  struct hy_executed done = { .pid = -1, .pty_master = -1 };
  if (hy_container_load (cli->root, id, LOCK_SH, &c, err) < 0)
    return -1;
  if (a->apparmor || a->process_label)
    hy_log_debug ("exec: --apparmor and --process-label are ignored");
  struct hy_exec_opts o = {
    .container = &c,
    .cgroups = a->cgroups,
    .console_socket = a->console_socket,
    .pid_file = a->pid_file,
    .preserve_fds = (unsigned) a->preserve_fds,
    .keep_pty = !a->detach && a->console_socket == NULL,
  };
  int r = -1;
  if (check_status (&c, a->ignore_paused, err) == 0
      && make_process (a, args, c.config, &p, err) == 0
      && check_terminal (a, p, err) == 0
      && (a->detach || hy_run_block_signals (err) == 0))
    {
      o.process = p;
      r = hy_container_exec (&o, &done, err);
    }
  /* Waiting must not hold the lock: kill and delete take it. */
  hy_container_release (&c);
  if (r < 0 || a->detach)
    return r;
  r = hy_run_wait (done.pid, done.pty_master, &cli->exit_code, err);
  if (done.pty_master >= 0)
    close (done.pty_master);
  return r;
}

static int
exec_run (struct hy_cli *cli, const struct hy_command *cmd, int argc,
          char **argv, hy_error_t *err)
{
  /* runc exits 255 when exec itself fails, so that callers can tell that
   * from the process's own exit status. */
  cli->fail_code = 255;
  struct cli_parser p = { .cmd = cmd,
                          .argc = argc,
                          .argv = argv,
                          .shortopts = "e:tu:g:p:dc:",
                          .longopts = exec_options,
                          .in_order = true };
  __attribute__ ((cleanup (exec_args_free))) struct exec_args a = { 0 };
  int opt, r;
  while ((r = cli_next_option (&p, &opt, err)) > 0)
    if (exec_option (&a, opt, err) < 0)
      {
        r = -1;
        break;
      }
  cli_parser_done (&p);
  if (r < 0 || p.help)
    return r;
  if (cli_check_args (cmd, argc - optind, 1, -1, err) < 0)
    return -1;
  if (a.process == NULL && argc - optind < 2)
    return hy_error (err, 0,
                     "a command to run is required after the "
                     "container id (or --process FILE)");
  if (hy_container_id_validate (argv[optind], err) < 0
      || check_cgroups (a.cgroups, err) < 0)
    return -1;
  return exec_in_container (cli, &a, argv[optind], argv + optind + 1, err);
}
const struct hy_command hy_cmd_exec = {
  .name = "exec",
  .summary = "execute a new process inside a container",
  .args = "<container-id> <command> [command options]",
  .options
  = "   --process FILE, -p FILE      the process.json to run (then no "
    "command)\n"
    "   --tty, -t                    allocate a pseudo-TTY\n"
    "   --detach, -d                 detach from the process\n"
    "   --pid-file FILE              write the process id to FILE\n"
    "   --env KEY=VALUE, -e ...      set an environment variable "
    "(repeatable)\n"
    "   --cwd DIR                    working directory in the container\n"
    "   --user UID[:GID], -u ...     run as this user\n"
    "   --additional-gids GID, -g .. additional group (repeatable)\n"
    "   --cap CAP, -c CAP            add a capability (repeatable)\n"
    "   --no-new-privs               set no_new_privs for the process\n"
    "   --preserve-fds N             pass N additional file descriptors\n"
    "   --console-socket PATH        AF_UNIX socket that receives the "
    "pseudoterminal\n"
    "   --ignore-paused              allow exec in a paused container\n"
    "   --cgroup [CTRL:]PATH         run in this sub-cgroup (repeatable)\n"
    "   --process-label LABEL        the SELinux label of the process\n"
    "   --apparmor PROFILE           the AppArmor profile of the process\n",
  .run = exec_run,
};
