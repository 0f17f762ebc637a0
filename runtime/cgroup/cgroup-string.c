/* The cgroup as one line for the state file, and back:
 *   hybrid;cpu:/sys/fs/cgroup/cpu/hyrun/c1;...;:/sys/fs/cgroup/unified/hyrun/c1
 * with '%' and ';' in directories written %25 and %3B. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

char *
hy_cg_escape (const char *s)
{
  char *out = xmalloc0 (strlen (s) * 3 + 1), *o = out;
  for (; *s; s++)
    if (*s == '%' || *s == ';')
      o += sprintf (o, "%%%02X", (unsigned char) *s);
    else
      *o++ = *s;
  return out;
}

static int
hex (char c)
{
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                : -1;
}

/* NULL for a malformed escape. */
char *
hy_cg_unescape (const char *s, size_t len)
{
  _cleanup_free_ char *out = xmalloc0 (len + 1);
  char *o = out;
  for (size_t i = 0; i < len; i++)
    {
      if (s[i] != '%')
        {
          *o++ = s[i];
          continue;
        }
      int hi = i + 2 < len ? hex (s[i + 1]) : -1;
      int lo = i + 2 < len ? hex (s[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return NULL;
      *o++ = (char) (hi * 16 + lo);
      i += 2;
    }
  return steal_pointer (&out);
}

char *
hy_cgroup_to_string (const struct hy_cgroup *cg)
{
  char *s = xstrdup (hy_cgroup_mode_name (cg->mode));
  for (size_t i = 0; i < cg->n_dirs; i++)
    {
      _cleanup_free_ char *path = hy_cg_escape (cg->dirs[i].path);
      char *next = xasprintf ("%s;%s:%s", s, cg->dirs[i].key, path);
      free (s);
      s = next;
    }
  return s;
}

static int
parse_mode (const char *s, size_t len, enum hy_cgroup_mode *mode)
{
  static const enum hy_cgroup_mode modes[]
      = { HY_CGROUP_V1, HY_CGROUP_V2, HY_CGROUP_HYBRID };
  for (size_t i = 0; i < 3; i++)
    {
      const char *name = hy_cgroup_mode_name (modes[i]);
      if (strlen (name) == len && strncmp (s, name, len) == 0)
        {
          *mode = modes[i];
          return 0;
        }
    }
  return -1;
}

/* "<key>:<dir>" */
static int
parse_dir (const char *s, size_t len, struct hy_cgroup_dir *d)
{
  const char *colon = memchr (s, ':', len);
  if (colon == NULL)
    return -1;
  d->key = xstrndup (s, (size_t) (colon - s));
  d->path = hy_cg_unescape (colon + 1, len - (size_t) (colon + 1 - s));
  if (d->path == NULL || d->path[0] != '/')
    return -1;
  d->v2 = d->key[0] == '\0';
  d->drv = d->v2 ? &hy_cgroup_driver_v2 : &hy_cgroup_driver_v1;
  d->ctrls = d->drv->controllers (d);
  return 0;
}

static int
parse_string (const char *text, struct hy_cgroup *cg)
{
  size_t len = strcspn (text, ";");
  if (parse_mode (text, len, &cg->mode) < 0)
    return -1;
  for (const char *p = text + len; *p == ';';)
    {
      p++;
      len = strcspn (p, ";");
      cg->dirs = xrealloc (cg->dirs, (cg->n_dirs + 1) * sizeof (*cg->dirs));
      memset (&cg->dirs[cg->n_dirs], 0, sizeof (*cg->dirs));
      if (parse_dir (p, len, &cg->dirs[cg->n_dirs++]) < 0)
        return -1;
      p += len;
    }
  return cg->n_dirs > 0 ? 0 : -1;
}

int
hy_cgroup_load (const char *text, struct hy_cgroup **out, hy_error_t *err)
{
  struct hy_cgroup *cg = xmalloc0 (sizeof (*cg));
  if (parse_string (text, cg) < 0)
    {
      hy_cgroup_free (cg);
      return hy_error (err, EINVAL, "invalid cgroup state \"%s\"", text);
    }
  *out = cg;
  return 0;
}
