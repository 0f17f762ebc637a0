#include "runtime/vm/ps-table.h"

#include <ctype.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"

#define MAX_COLUMNS 32
#define NAME_WIDTH 8 /* user and group names: longer ones end in '+' */

enum kind
{
  K_PID,
  K_PPID,
  K_UID,
  K_USER,
  K_GID,
  K_GROUP,
  K_COMM,
  K_ARGS,
  K_STAT,
  K_STATE,
  K_TTY,
  K_TIME,
  K_BSDTIME,
  K_ETIME,
  K_STIME,
  K_C,
  K_PCPU,
  K_PMEM,
  K_RSS,
  K_VSZ
};

struct keyword
{
  const char *name;
  enum kind kind;
  const char *header;
  int width;
  bool right;
};

/* procps's names, headers and widths. */
static const struct keyword keywords[] = {
  { "pid", K_PID, "PID", 5, true },
  { "ppid", K_PPID, "PPID", 5, true },
  { "uid", K_UID, "UID", 5, true },
  { "euid", K_UID, "EUID", 5, true },
  { "user", K_USER, "USER", NAME_WIDTH, false },
  { "euser", K_USER, "EUSER", NAME_WIDTH, false },
  { "uname", K_USER, "USER", NAME_WIDTH, false },
  { "gid", K_GID, "GID", 5, true },
  { "egid", K_GID, "EGID", 5, true },
  { "group", K_GROUP, "GROUP", NAME_WIDTH, false },
  { "egroup", K_GROUP, "EGROUP", NAME_WIDTH, false },
  { "comm", K_COMM, "COMMAND", 15, false },
  { "ucomm", K_COMM, "COMMAND", 15, false },
  { "ucmd", K_COMM, "CMD", 15, false },
  { "args", K_ARGS, "COMMAND", 0, false },
  { "command", K_ARGS, "COMMAND", 0, false },
  { "cmd", K_ARGS, "CMD", 0, false },
  { "stat", K_STAT, "STAT", 4, false },
  { "s", K_STATE, "S", 1, false },
  { "state", K_STATE, "S", 1, false },
  { "tty", K_TTY, "TT", 8, false },
  { "tt", K_TTY, "TT", 8, false },
  { "tname", K_TTY, "TTY", 8, false },
  { "time", K_TIME, "TIME", 8, true },
  { "cputime", K_TIME, "TIME", 8, true },
  { "bsdtime", K_BSDTIME, "TIME", 6, true },
  { "etime", K_ETIME, "ELAPSED", 11, true },
  { "stime", K_STIME, "STIME", 5, false },
  { "start_time", K_STIME, "START", 5, false },
  { "start", K_STIME, "START", 5, false },
  { "bsdstart", K_STIME, "START", 6, true },
  { "c", K_C, "C", 2, true },
  { "%cpu", K_PCPU, "%CPU", 4, true },
  { "pcpu", K_PCPU, "%CPU", 4, true },
  { "%mem", K_PMEM, "%MEM", 4, true },
  { "pmem", K_PMEM, "%MEM", 4, true },
  { "rss", K_RSS, "RSS", 5, true },
  { "rsz", K_RSS, "RSZ", 5, true },
  { "vsz", K_VSZ, "VSZ", 6, true },
  { "vsize", K_VSZ, "VSZ", 6, true },
};
#define N_KEYWORDS (sizeof (keywords) / sizeof (keywords[0]))

#define SUPPORTED                                                             \
  "supported: -e -A -a -d -f -o LIST -w, x a u o LIST w, --format LIST"

struct column
{
  const struct keyword *k;
  char *header; /* NULL: the keyword's */
};

struct table
{
  struct column cols[MAX_COLUMNS];
  size_t n;
};

static void
table_release (struct table *t)
{
  for (size_t i = 0; i < t->n; i++)
    free (t->cols[i].header);
  t->n = 0;
}

static const struct keyword *
keyword_find (const char *name, size_t len)
{
  for (size_t i = 0; i < N_KEYWORDS; i++)
    if (strlen (keywords[i].name) == len
        && strncmp (keywords[i].name, name, len) == 0)
      return &keywords[i];
  return NULL;
}

static int
add_column (struct table *t, const char *name, size_t len,
            const char *header, hy_error_t *err)
{
  const struct keyword *k = keyword_find (name, len);
  if (k == NULL)
    return hy_error (err, 0,
                     "unknown or unsupported format keyword \"%.*s\" "
                     "for a container in a VM",
                     (int) len, name);
  if (t->n == MAX_COLUMNS)
    return hy_error (err, 0, "more than %d columns", MAX_COLUMNS);
  t->cols[t->n++]
      = (struct column){ .k = k, .header = header ? xstrdup (header) : NULL };
  return 0;
}

/* "pid,user comm" or "pid,comm=NAME": as procps, a header given with '='
 * takes the rest of the list. */
static int
add_format (struct table *t, const char *list, hy_error_t *err)
{
  const char *p = list;
  for (;;)
    {
      p += strspn (p, ", ");
      if (*p == '\0')
        return 0;
      size_t len = strcspn (p, ", =");
      if (p[len] == '=')
        return add_column (t, p, len, p + len + 1, err);
      if (add_column (t, p, len, NULL, err) < 0)
        return -1;
      p += len;
    }
}

static int
add_keywords (struct table *t, const char *const *names, hy_error_t *err)
{
  for (size_t i = 0; names[i]; i++)
    if (add_format (t, names[i], err) < 0)
      return -1;
  return 0;
}

/* ---- options ---- */

struct options
{
  bool full; /* -f */
  bool bsd;  /* x, a */
  bool user; /* u */
};

/* The list of an `o` option: the rest of its argument, else the next. */
static int
take_list (char *const *args, size_t *i, const char *rest, struct table *t,
           hy_error_t *err)
{
  if (*rest != '\0')
    return add_format (t, rest, err);
  if (args[*i + 1] == NULL)
    return hy_error (err, 0, "`%s` needs a format list", args[*i]);
  (*i)++;
  return add_format (t, args[*i], err);
}

static int
unsupported (const char *arg, char letter, bool unix_style, hy_error_t *err)
{
  return hy_error (err, 0,
                   "option `%s%c` (in `%s`) is not supported for a "
                   "container in a VM, whose processes are in the guest "
                   "(" SUPPORTED ")",
                   unix_style ? "-" : "", letter, arg);
}

static int
parse_letters (char *const *args, size_t *i, struct options *o,
               struct table *t, hy_error_t *err)
{
  const char *arg = args[*i];
  bool unix_style = arg[0] == '-';
  for (const char *c = arg + unix_style; *c; c++)
    {
      if (*c == 'o')
        return take_list (args, i, c + 1, t, err);
      if (*c == 'w' || (unix_style && strchr ("eAad", *c)))
        continue;
      if (*c == 'x' || (!unix_style && *c == 'a'))
        o->bsd = true;
      else if (unix_style && *c == 'f')
        o->full = true;
      else if (!unix_style && *c == 'u')
        o->user = true;
      else
        return unsupported (arg, *c, unix_style, err);
    }
  return 0;
}

static int
parse_args (char *const *args, struct options *o, struct table *t,
            hy_error_t *err)
{
  for (size_t i = 0; args && args[i]; i++)
    {
      const char *arg = args[i];
      if (str_eq (arg, "--format"))
        {
          if (args[i + 1] == NULL)
            return hy_error (err, 0, "`--format` needs a list");
          if (add_format (t, args[++i], err) < 0)
            return -1;
        }
      else if (strncmp (arg, "--format=", 9) == 0)
        {
          if (add_format (t, arg + 9, err) < 0)
            return -1;
        }
      else if (strncmp (arg, "--", 2) == 0 || str_eq (arg, "-"))
        return hy_error (err, 0,
                         "option `%s` is not supported for a container "
                         "in a VM (" SUPPORTED ")",
                         arg);
      else if (parse_letters (args, &i, o, t, err) < 0)
        return -1;
    }
  return 0;
}

static int
choose_columns (char *const *args, struct table *t, hy_error_t *err)
{
  static const char *const unix_default[] = { "pid", "tname", "time", "cmd",
                                              NULL };
  static const char *const unix_full[]
      = { "user=UID", "pid",   "ppid", "c",
          "stime",    "tname", "time", "cmd", NULL };
  static const char *const bsd_default[]
      = { "pid", "tname", "stat", "bsdtime", "args", NULL };
  static const char *const bsd_user[]
      = { "user", "pid",   "%cpu", "%mem",    "vsz",  "rss",
          "tname", "stat", "start", "bsdtime", "args", NULL };
  struct options o = { .full = args == NULL || args[0] == NULL };
  if (parse_args (args, &o, t, err) < 0)
    return -1;
  if (t->n > 0)
    return 0;
  if (o.user)
    return add_keywords (t, bsd_user, err);
  if (o.full)
    return add_keywords (t, unix_full, err);
  return add_keywords (t, o.bsd ? bsd_default : unix_default, err);
}

/* ---- cells ---- */

static char *
name_or_number (const char *name, unsigned id, bool truncate)
{
  if (name == NULL)
    return xasprintf ("%u", id);
  if (truncate && strlen (name) > NAME_WIDTH)
    return xasprintf ("%.*s+", NAME_WIDTH - 1, name);
  return xstrdup (name);
}

static char *
user_name (uint32_t uid, bool truncate)
{
  struct passwd pw, *found = NULL;
  char buf[4096];
  getpwuid_r (uid, &pw, buf, sizeof (buf), &found);
  return name_or_number (found ? found->pw_name : NULL, uid, truncate);
}

static char *
group_name (uint32_t gid, bool truncate)
{
  struct group gr, *found = NULL;
  char buf[4096];
  getgrgid_r (gid, &gr, buf, sizeof (buf), &found);
  return name_or_number (found ? found->gr_name : NULL, gid, truncate);
}

/* [DD-]HH:MM:SS */
static char *
unix_time (uint64_t ms)
{
  uint64_t s = ms / 1000;
  if (s >= 86400)
    return xasprintf ("%llu-%02llu:%02llu:%02llu",
                      (unsigned long long) (s / 86400),
                      (unsigned long long) (s / 3600 % 24),
                      (unsigned long long) (s / 60 % 60),
                      (unsigned long long) (s % 60));
  return xasprintf ("%02llu:%02llu:%02llu", (unsigned long long) (s / 3600),
                    (unsigned long long) (s / 60 % 60),
                    (unsigned long long) (s % 60));
}

/* [[DD-]HH:]MM:SS */
static char *
elapsed_time (uint64_t ms)
{
  uint64_t s = ms / 1000;
  if (s >= 3600)
    return unix_time (ms);
  return xasprintf ("%02llu:%02llu", (unsigned long long) (s / 60),
                    (unsigned long long) (s % 60));
}

/* When it started: the time of day within a day, else month and day, else
 * the year. */
static char *
start_time (uint64_t elapsed_ms, time_t now)
{
  time_t age = (time_t) (elapsed_ms / 1000);
  time_t started = now - age;
  struct tm t, today;
  char buf[32];
  localtime_r (&started, &t);
  localtime_r (&now, &today);
  if (age < 86400)
    strftime (buf, sizeof (buf), "%H:%M", &t);
  else if (t.tm_year == today.tm_year)
    strftime (buf, sizeof (buf), "%b%d", &t);
  else
    strftime (buf, sizeof (buf), "%Y", &t);
  return xstrdup (buf);
}

/* Per mille of `part` in `whole`, as "12.3"; procps caps %CPU at 999.9. */
static char *
tenths (uint64_t part, uint64_t whole)
{
  uint64_t pm = whole ? part * 1000 / whole : 0;
  if (pm > 9999)
    pm = 9999;
  return xasprintf ("%llu.%llu", (unsigned long long) (pm / 10),
                    (unsigned long long) (pm % 10));
}

static char *
command (const struct hy_agent_ps_entry *e)
{
  if (e->cmd && *e->cmd)
    return xstrdup (e->cmd);
  return xasprintf ("[%s]", e->comm ? e->comm : "?");
}

/* The executable's name, from the command line when the agent sent none. */
static char *
comm_of (const struct hy_agent_ps_entry *e)
{
  if (e->comm)
    return xstrdup (e->comm);
  const char *cmd = e->cmd ? e->cmd : "?";
  size_t len = strcspn (cmd, " ");
  const char *slash = memrchr (cmd, '/', len);
  const char *name = slash ? slash + 1 : cmd;
  return xstrndup (name, len - (size_t) (name - cmd));
}

static char *
cell (enum kind k, const struct hy_agent_ps_entry *e, uint64_t mem_total,
      time_t now, bool truncate_names)
{
  switch (k)
    {
    case K_PID:
      return xasprintf ("%d", e->pid);
    case K_PPID:
      return xasprintf ("%d", e->ppid);
    case K_UID:
      return xasprintf ("%u", e->uid);
    case K_USER:
      return user_name (e->uid, truncate_names);
    case K_GID:
      return xasprintf ("%u", e->gid);
    case K_GROUP:
      return group_name (e->gid, truncate_names);
    case K_COMM:
      return comm_of (e);
    case K_ARGS:
      return command (e);
    case K_STAT:
      return e->stat ? xstrdup (e->stat) : xasprintf ("%c", e->state);
    case K_STATE:
      return xasprintf ("%c", e->state);
    case K_TTY:
      return xstrdup (e->tty ? e->tty : "?");
    case K_TIME:
      return unix_time (e->cpu_ms);
    case K_BSDTIME:
      return xasprintf ("%llu:%02llu",
                        (unsigned long long) (e->cpu_ms / 60000),
                        (unsigned long long) (e->cpu_ms / 1000 % 60));
    case K_ETIME:
      return elapsed_time (e->elapsed_ms);
    case K_STIME:
      return start_time (e->elapsed_ms, now);
    case K_C:
      {
        uint64_t c = e->elapsed_ms ? e->cpu_ms * 100 / e->elapsed_ms : 0;
        return xasprintf ("%llu", (unsigned long long) (c > 99 ? 99 : c));
      }
    case K_PCPU:
      return tenths (e->cpu_ms, e->elapsed_ms);
    case K_PMEM:
      return tenths (e->rss_kb * 1024, mem_total);
    case K_RSS:
      return xasprintf ("%llu", (unsigned long long) e->rss_kb);
    case K_VSZ:
      return xasprintf ("%llu", (unsigned long long) e->vsz_kb);
    }
  return xstrdup ("?");
}

/* What the guest sent reaches a terminal: nothing but printable ASCII. */
static void
make_printable (char *s)
{
  for (; *s; s++)
    if (!isprint ((unsigned char) *s))
      *s = '?';
}

/* ---- the table ---- */

static void
print_row (const struct table *t, char **cells, const int *width, FILE *out)
{
  for (size_t c = 0; c < t->n; c++)
    {
      bool last = c + 1 == t->n;
      const char *sep = c ? " " : "";
      if (t->cols[c].k->right)
        fprintf (out, "%s%*s", sep, width[c], cells[c]);
      else if (last)
        fprintf (out, "%s%s", sep, cells[c]);
      else
        fprintf (out, "%s%-*s", sep, width[c], cells[c]);
    }
  fputc ('\n', out);
}

static void
free_cells (char **cells, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (cells[i]);
}

int
hy_vm_ps_table (const struct hy_agent_response *r, char *const *args,
                time_t now, FILE *out, hy_error_t *err)
{
  struct table t = { .n = 0 };
  if (choose_columns (args, &t, err) < 0)
    {
      table_release (&t);
      return -1;
    }
  size_t rows = r->n_processes + 1, n = t.n;
  _cleanup_free_ char **cells = xmalloc0 (rows * n * sizeof (char *));
  int width[MAX_COLUMNS];
  for (size_t c = 0; c < n; c++)
    {
      const struct keyword *k = t.cols[c].k;
      cells[c] = xstrdup (t.cols[c].header ? t.cols[c].header : k->header);
      width[c] = k->width;
      for (size_t i = 1; i < rows; i++)
        {
          char *v = cell (k->kind, &r->processes[i - 1], r->mem_total, now,
                          c + 1 < n);
          make_printable (v);
          cells[i * n + c] = v;
        }
      for (size_t i = 0; i < rows; i++)
        if ((int) strlen (cells[i * n + c]) > width[c])
          width[c] = (int) strlen (cells[i * n + c]);
    }
  for (size_t i = 0; i < rows; i++)
    print_row (&t, &cells[i * n], width, out);
  free_cells (cells, rows * n);
  table_release (&t);
  return 0;
}
