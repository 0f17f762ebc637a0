#include "runtime/conf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

#define CONF_MAX_SIZE (1 << 20)

static char *
trim (char *s)
{
  while (isspace ((unsigned char) *s))
    s++;
  size_t n = strlen (s);
  while (n > 0 && isspace ((unsigned char) s[n - 1]))
    s[--n] = '\0';
  return s;
}

struct conf_line
{
  const char *source;
  unsigned lineno;
  const char *key;
  const char *value;
};

static int
set_isolation (const struct conf_line *l, struct hy_conf *out, hy_error_t *err)
{
  if (hy_isolation_from_name (l->value, &out->isolation) < 0)
    return hy_error (err, 0,
                     "%s:%u: %s: unknown value \"%s\" (expected container "
                     "or vm)",
                     l->source, l->lineno, l->key, l->value);
  return 0;
}

static const struct
{
  const char *key;
  int (*set) (const struct conf_line *l, struct hy_conf *out, hy_error_t *err);
} keys[] = {
  { "isolation", set_isolation },
};
#define N_KEYS (sizeof keys / sizeof keys[0])

static int
parse_line (char *line, const char *source, unsigned lineno, bool seen[N_KEYS],
            struct hy_conf *out, hy_error_t *err)
{
  char *hash = strchr (line, '#');
  if (hash)
    *hash = '\0';
  line = trim (line);
  if (*line == '\0')
    return 0;

  char *eq = strchr (line, '=');
  if (eq == NULL)
    return hy_error (err, 0, "%s:%u: expected `key = value`, got \"%s\"",
                     source, lineno, line);
  *eq = '\0';
  struct conf_line l = { source, lineno, trim (line), trim (eq + 1) };
  if (*l.key == '\0')
    return hy_error (err, 0, "%s:%u: missing key before `=`", source, lineno);
  for (size_t i = 0; i < N_KEYS; i++)
    {
      if (!str_eq (keys[i].key, l.key))
        continue;
      if (seen[i])
        return hy_error (err, 0, "%s:%u: %s: set more than once", source,
                         lineno, l.key);
      seen[i] = true;
      if (*l.value == '\0')
        return hy_error (err, 0, "%s:%u: %s: missing value", source, lineno,
                         l.key);
      return keys[i].set (&l, out, err);
    }
  return hy_error (err, 0, "%s:%u: unknown key \"%s\"", source, lineno, l.key);
}

int
hy_conf_parse (const char *text, const char *source, struct hy_conf *out,
               hy_error_t *err)
{
  struct hy_conf conf = { 0 };
  bool seen[N_KEYS] = { false };
  _cleanup_free_ char *copy = xstrdup (text);
  unsigned lineno = 1;
  for (char *line = copy; line; lineno++)
    {
      char *next = strchr (line, '\n');
      if (next)
        *next++ = '\0';
      if (parse_line (line, source, lineno, seen, &conf, err) < 0)
        return -1;
      line = next;
    }
  *out = conf;
  return 0;
}

static const char *
conf_path_from_env (void)
{
  const char *env = getenv (HY_CONF_ENV);
  return env && *env ? env : NULL;
}

const char *
hy_conf_path (void)
{
  const char *env = conf_path_from_env ();
  return env ? env : HY_CONF_DEFAULT_PATH;
}

int
hy_conf_load (struct hy_conf *out, hy_error_t *err)
{
  const char *path = hy_conf_path ();
  bool explicit_path = conf_path_from_env () != NULL;
  if (!explicit_path && access (path, F_OK) < 0 && errno == ENOENT)
    {
      *out = (struct hy_conf){ 0 };
      return 0;
    }
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  if (read_file_at (AT_FDCWD, path, CONF_MAX_SIZE, &text, &len, err) < 0)
    return hy_error_prepend (err, "config file");
  if (strlen (text) != len)
    return hy_error (err, 0, "config file `%s`: contains NUL bytes", path);
  return hy_conf_parse (text, path, out, err);
}
