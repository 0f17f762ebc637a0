#include "runtime/cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"

/* ---- getopt_long_only, with hyrun's error messages ---- */

/* The element getopt just looked at, without any "=value". */
static char *
offending_flag (const struct cli_parser *p)
{
  const char *elem
      = optind > 0 && optind <= p->argc ? p->argv[optind - 1] : NULL;
  bool short_elem = elem && optopt != 0 && elem[0] == '-'
                    && elem[1] == optopt && elem[2] == '\0';
  if (elem && elem[0] == '-' && !short_elem)
    return xstrndup (elem, strcspn (elem, "="));
  return xasprintf ("-%c", optopt ? optopt : '?');
}

static const struct option *
find_long (const struct cli_parser *p, const char *flag)
{
  const char *name = flag + strspn (flag, "-");
  for (const struct option *o = p->longopts; o && o->name; o++)
    if (strcmp (o->name, name) == 0)
      return o;
  return NULL;
}

static int
report_bad_option (const struct cli_parser *p, int r, hy_error_t *err)
{
  _cleanup_free_ char *flag = offending_flag (p);
  if (r == ':')
    return hy_error (err, 0, "flag %s needs a value", flag);
  const struct option *o = find_long (p, flag);
  if (o && o->has_arg == no_argument)
    return hy_error (err, 0, "flag %s does not take a value", flag);
  return hy_error (err, 0, "unknown flag \"%s\"", flag);
}

int
cli_next_option (struct cli_parser *p, int *opt, hy_error_t *err)
{
  if (!p->started)
    {
      p->optstring = xasprintf ("%s:h%s", p->in_order ? "+" : "",
                                p->shortopts ? p->shortopts : "");
      optind = 0; /* reinitialize glibc's getopt for this argv */
      opterr = 0;
      p->started = true;
    }
  int r = getopt_long_only (p->argc, p->argv, p->optstring, p->longopts, NULL);
  if (r == -1)
    return 0;
  if (r == '?' || r == ':')
    return report_bad_option (p, r, err);
  if (r == 'h')
    {
      if (p->cmd)
        cli_print_command_help (p->cmd, stdout);
      else
        cli_print_help (stdout);
      p->help = true;
      return 0;
    }
  *opt = r;
  return 1;
}

void
cli_parser_done (struct cli_parser *p)
{
  free (p->optstring);
  p->optstring = NULL;
}

/* ---- positional arguments ---- */

static int
usage_error (const struct hy_command *cmd, const char *what, hy_error_t *err)
{
  return hy_error (err, 0, "%s (usage: hyrun %s%s%s%s)", what, cmd->name,
                   cmd->options ? " [command options]" : "",
                   *cmd->args ? " " : "", cmd->args);
}

int
cli_check_args (const struct hy_command *cmd, int n, int min, int max,
                hy_error_t *err)
{
  _cleanup_free_ char *what = NULL;
  if (max == 0 && n > 0)
    what = xstrdup ("takes no arguments");
  else if (min == max && n != min)
    what = xasprintf ("requires exactly %d argument%s", min,
                      min == 1 ? "" : "s");
  else if (n < min)
    what = xasprintf ("requires at least %d argument%s", min,
                      min == 1 ? "" : "s");
  else if (max >= 0 && n > max)
    what = xasprintf ("requires at most %d argument%s", max,
                      max == 1 ? "" : "s");
  return what ? usage_error (cmd, what, err) : 0;
}

/* ---- flag values ---- */

int
cli_bad_value (hy_error_t *err, const char *flag, const char *value,
               const char *expected)
{
  return hy_error (err, 0, "invalid value \"%s\" for flag %s (expected %s)",
                   value, flag, expected);
}

int
cli_parse_uint (const char *flag, const char *s, uint64_t max, uint64_t *out,
                hy_error_t *err)
{
  unsigned long long v;
  if (parse_uint64 (s, &v) < 0 || v > max)
    {
      _cleanup_free_ char *expected
          = xasprintf ("an integer from 0 to %llu", (unsigned long long) max);
      return cli_bad_value (err, flag, s, expected);
    }
  *out = v;
  return 0;
}

int
cli_parse_int (const char *flag, const char *s, int64_t min, int64_t max,
               int64_t *out, hy_error_t *err)
{
  long long v;
  if (parse_int64 (s, min, max, &v) < 0)
    {
      _cleanup_free_ char *expected = xasprintf (
          "an integer from %lld to %lld", (long long) min, (long long) max);
      return cli_bad_value (err, flag, s, expected);
    }
  *out = v;
  return 0;
}

/* The multiplier of a size suffix (k, m, g, t, p; binary), 0 if none. */
static double
size_unit (const char *u)
{
  static const char units[] = "kmgtp";
  if (*u == '\0')
    return 1;
  const char *at = strchr (units, tolower ((unsigned char) *u));
  if (at == NULL)
    return 0;
  u++;
  if (tolower ((unsigned char) *u) == 'i')
    u++;
  if (tolower ((unsigned char) *u) == 'b')
    u++;
  return *u == '\0' ? ldexp (1, 10 * (int) (at - units + 1)) : 0;
}

int
cli_parse_bytes (const char *flag, const char *s, bool allow_unlimited,
                 int64_t *out, hy_error_t *err)
{
  if (allow_unlimited && str_eq (s, "-1"))
    {
      *out = -1;
      return 0;
    }
  char *end;
  errno = 0;
  double v = (*s >= '0' && *s <= '9') ? strtod (s, &end) : -1;
  if (v >= 0 && errno == 0)
    {
      if (*end == ' ')
        end++;
      double unit = tolower ((unsigned char) *end) == 'b' && end[1] == '\0'
                        ? 1
                        : size_unit (end);
      if (unit > 0 && v * unit < 9.2e18)
        {
          *out = (int64_t) (v * unit);
          return 0;
        }
    }
  return cli_bad_value (err, flag, s,
                        allow_unlimited ? "a size such as 512m, or -1"
                                        : "a size such as 512m");
}

static uint64_t
duration_unit (const char *u, size_t n)
{
  static const struct
  {
    const char *name;
    uint64_t ns;
  } units[] = {
    { "ns", 1 },
    { "us", 1000 },
    { "\xc2\xb5s", 1000 },
    { "ms", 1000000 },
    { "s", 1000000000ULL },
    { "m", 60000000000ULL },
    { "h", 3600000000000ULL },
  };
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strlen (units[i].name) == n && strncmp (u, units[i].name, n) == 0)
      return units[i].ns;
  return 0;
}

int
cli_parse_duration (const char *flag, const char *s, uint64_t *nsec,
                    hy_error_t *err)
{
  double total = 0;
  const char *p = s;
  while (*p)
    {
      char *end;
      if (!(*p >= '0' && *p <= '9') && *p != '.')
        break;
      double v = strtod (p, &end);
      size_t n = strcspn (end, "0123456789.");
      uint64_t unit = duration_unit (end, n);
      if (end == p || unit == 0)
        break;
      total += v * (double) unit;
      p = end + n;
    }
  if (*s == '\0' || *p != '\0' || total < 1 || total > 1e18)
    return cli_bad_value (err, flag, s, "a positive duration such as 5s");
  *nsec = (uint64_t) total;
  return 0;
}

int
cli_parse_format (const char *flag, const char *s, bool *json, hy_error_t *err)
{
  if (str_eq (s, "table") || str_eq (s, "json"))
    {
      *json = str_eq (s, "json");
      return 0;
    }
  return cli_bad_value (err, flag, s, "table or json");
}
