/* From linux.cgroupsPath to one directory per hierarchy, with runc's
 * cgroupfs semantics (libcontainer/cgroups: path.Inner, fs.subsysPath,
 * fs2.defaultDirPath). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

char *
hy_cg_clean_path (const char *path)
{
  size_t len = strlen (path);
  char *out = xmalloc0 (len + 2);
  size_t o = 0;
  for (const char *p = path; *p;)
    {
      size_t n = strcspn (p, "/");
      if (n == 2 && p[0] == '.' && p[1] == '.')
        while (o > 0 && out[--o] != '/')
          ; /* drop the last component, never above the start */
      else if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (o > 0)
            out[o++] = '/';
          memcpy (out + o, p, n);
          o += n;
        }
      p += n + (p[n] == '/');
    }
  out[o] = '\0';
  if (o == 0)
    {
      free (out);
      return NULL;
    }
  if (path[0] != '/')
    return out;
  char *abs = xasprintf ("/%s", out);
  free (out);
  return abs;
}

/* a + "/" + b without doubled or trailing slashes ("/" + "" is "/"). */
static char *
path_join (const char *a, const char *b)
{
  size_t la = strlen (a);
  while (la > 0 && a[la - 1] == '/')
    la--;
  while (*b == '/')
    b++;
  if (*b == '\0')
    return la ? xstrndup (a, la) : xstrdup ("/");
  return xasprintf ("%.*s/%s", (int) la, a, b);
}

/* Our own cgroup relative to the mount's root. */
static int
own_below_root (const struct hy_cgroup_mount *m, char **out, hy_error_t *err)
{
  size_t lr = strlen (m->root);
  while (lr > 0 && m->root[lr - 1] == '/')
    lr--;
  if (strncmp (m->own, m->root, lr) != 0
      || (m->own[lr] != '/' && m->own[lr] != '\0'))
    return hy_error (err, EINVAL,
                     "our cgroup `%s` lies outside the mount `%s` (root `%s`)",
                     m->own, m->mountpoint, m->root);
  *out = xstrdup (m->own[lr] ? m->own + lr : "/");
  return 0;
}

/* In v2 mode runc starts relative paths at the parent of our cgroup: ours
 * usually has processes, so it cannot enable controllers for children. */
static void
to_parent (char *path)
{
  char *slash = strrchr (path, '/');
  if (slash)
    slash[slash == path ? 1 : 0] = '\0';
}

char *
hy_cg_resolve (const struct hy_cgroup_mount *m, enum hy_cgroup_mode mode,
               const char *inner, hy_error_t *err)
{
  if (inner[0] == '/')
    return path_join (m->mountpoint, inner);
  _cleanup_free_ char *own = NULL;
  if (own_below_root (m, &own, err) < 0)
    return NULL;
  if (mode == HY_CGROUP_V2 && m->v2)
    to_parent (own);
  _cleanup_free_ char *base = path_join (m->mountpoint, own);
  return path_join (base, inner);
}
