/* hyrun list: the containers under --root. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cli/cli.h"
#include "runtime/container.h"
#include "runtime/lifecycle.h"
#include "runtime/log.h"

static const struct option list_options[] = {
  { "format", required_argument, NULL, 'f' },
  { "quiet", no_argument, NULL, 'q' },
  CLI_OPTION_HELP,
  CLI_OPTION_END,
};

/* One row of the listing. */
struct entry
{
  char *id, *pid, *status, *bundle, *created, *owner, *json;
};

static void
entry_release (struct entry *e)
{
  free (e->id);
  free (e->pid);
  free (e->status);
  free (e->bundle);
  free (e->created);
  free (e->owner);
  free (e->json);
}

static int
load_entry (const char *root, const char *id, struct entry *e,
            hy_error_t *err)
{
  struct hy_container c;
  if (hy_container_load (root, id, LOCK_SH, &c, err) < 0)
    return -1;
  enum oci_status st = hy_container_status (&c);
  *e = (struct entry){
    .id = xstrdup (id),
    .pid = xasprintf ("%d", st == OCI_STATUS_STOPPED ? 0 : c.status.pid),
    .status = xstrdup (oci_status_name (st)),
    .bundle = xstrdup (c.status.bundle),
    .created = xstrdup (c.status.created),
    .owner = xstrdup (c.status.owner ? c.status.owner : ""),
    .json = hy_container_state_json (&c, false),
  };
  hy_container_release (&c);
  return 0;
}

static int
by_id (const void *a, const void *b)
{
  return strcmp (((const struct entry *) a)->id,
                 ((const struct entry *) b)->id);
}

/* Every container whose state reads; the others are skipped with a
 * warning, as runc does.  A missing root is an empty list. */
static int
scan_root (const char *root, struct entry **out, size_t *n, hy_error_t *err)
{
  *out = NULL;
  *n = 0;
  _cleanup_closedir_ DIR *dir = opendir (root);
  if (dir == NULL && errno == ENOENT)
    return 0;
  if (dir == NULL)
    return hy_error_errno (err, "open state root `%s`", root);
  struct dirent *de;
  while ((errno = 0, de = readdir (dir)) != NULL)
    {
      if (hy_container_id_validate (de->d_name, NULL) < 0)
        continue;
      struct entry e;
      _cleanup_error_ hy_error_t load_err = NULL;
      if (load_entry (root, de->d_name, &e, &load_err) < 0)
        {
          hy_log_warning ("list: %s", load_err->msg);
          continue;
        }
      *out = xrealloc (*out, (*n + 1) * sizeof (**out));
      (*out)[(*n)++] = e;
    }
  if (errno != 0)
    return hy_error_errno (err, "read state root `%s`", root);
  if (*n > 0) /* qsort's array must not be NULL, even when empty */
    qsort (*out, *n, sizeof (**out), by_id);
  return 0;
}

/* runc's tabwriter: columns at least 12 wide, 3 spaces of padding, the
 * last one unpadded. */
#define COLUMNS 6

static void
entry_cells (const struct entry *e, const char *cells[COLUMNS])
{
  const char *c[COLUMNS]
      = { e->id, e->pid, e->status, e->bundle, e->created, e->owner };
  memcpy (cells, c, sizeof (c));
}

static void
print_row (const char *const cells[COLUMNS], const size_t width[COLUMNS])
{
  for (int c = 0; c < COLUMNS - 1; c++)
    printf ("%-*s", (int) width[c], cells[c]);
  printf ("%s\n", cells[COLUMNS - 1]);
}

static void
print_table (const struct entry *e, size_t n)
{
  const char *const head[COLUMNS]
      = { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" };
  const char *cells[COLUMNS];
  size_t width[COLUMNS];
  for (int c = 0; c < COLUMNS; c++)
    width[c] = strlen (head[c]);
  for (size_t i = 0; i < n; i++)
    {
      entry_cells (&e[i], cells);
      for (int c = 0; c < COLUMNS; c++)
        if (strlen (cells[c]) > width[c])
          width[c] = strlen (cells[c]);
    }
  for (int c = 0; c < COLUMNS; c++)
    width[c] = width[c] + 3 < 12 ? 12 : width[c] + 3;
  print_row (head, width);
  for (size_t i = 0; i < n; i++)
    {
      entry_cells (&e[i], cells);
      print_row (cells, width);
    }
}

static void
print_json (const struct entry *e, size_t n)
{
  if (n == 0)
    {
      puts ("null"); /* what runc prints for no containers */
      return;
    }
  putchar ('[');
  for (size_t i = 0; i < n; i++)
    printf ("%s%s", i ? "," : "", e[i].json);
  puts ("]");
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

  struct entry *entries;
  size_t n;
  if (scan_root (cli->root, &entries, &n, err) < 0)
    return -1;
  if (quiet)
    for (size_t i = 0; i < n; i++)
      puts (entries[i].id);
  else if (json)
    print_json (entries, n);
  else
    print_table (entries, n);
  for (size_t i = 0; i < n; i++)
    entry_release (&entries[i]);
  free (entries);
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
