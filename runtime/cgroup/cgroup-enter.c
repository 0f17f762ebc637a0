/* Moving processes into the cgroup, or into a sub-cgroup of it (exec
 * --cgroup). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

struct sub_cgroup
{
  char *path;     /* cleaned, relative */
  unsigned ctrls; /* 0: every hierarchy */
  char *named;
};

/* "path" or "ctrl[,ctrl...]:path", as runc exec --cgroup takes it. */
static int
parse_sub (const char *sub, enum hy_cgroup_mode mode, struct sub_cgroup *s,
           hy_error_t *err)
{
  const char *colon = strchr (sub, ':');
  const char *path = colon ? colon + 1 : sub;
  if (colon)
    {
      _cleanup_free_ char *list = xstrndup (sub, (size_t) (colon - sub));
      s->ctrls = hy_cg_ctrls_parse (list, &s->named);
      if (mode == HY_CGROUP_V2)
        return hy_error (err, EINVAL,
                         "sub-cgroup \"%s\": cgroup v2 takes "
                         "no controller names",
                         sub);
      if (s->ctrls == 0 && s->named == NULL)
        return hy_error (err, EINVAL, "sub-cgroup \"%s\": unknown controller",
                         sub);
    }
  while (*path == '/')
    path++;
  s->path = hy_cg_clean_path (path);
  if (s->path == NULL)
    return hy_error (err, EINVAL,
                     "sub-cgroup \"%s\": no path below the "
                     "container's cgroup",
                     sub);
  return 0;
}

/* The sub-cgroup applies to d: when it names no controllers, or one of
 * d's.  Hybrid's placement-only v2 directory takes it only if there. */
static bool
sub_applies (const struct hy_cgroup *cg, const struct hy_cgroup_dir *d,
             const struct sub_cgroup *s)
{
  if (d->v2 && cg->mode == HY_CGROUP_HYBRID)
    return s->ctrls == 0 && s->named == NULL
           && hy_cg_exists (d->path, s->path);
  if (s->ctrls == 0 && s->named == NULL)
    return true;
  return !d->v2 && ((d->ctrls & s->ctrls) || str_eq (d->key, s->named));
}

static int
enter_dirs (struct hy_cgroup *cg, pid_t pid, const struct sub_cgroup *s,
            hy_error_t *err)
{
  for (size_t i = 0; i < cg->n_dirs; i++)
    {
      const struct hy_cgroup_dir *d = &cg->dirs[i];
      _cleanup_free_ char *target = s && sub_applies (cg, d, s)
                                        ? hy_cg_join (d->path, s->path)
                                        : xstrdup (d->path);
      if (hy_cg_writef (err, target, "cgroup.procs", "%d", (int) pid) < 0)
        return -1;
    }
  return 0;
}

int
hy_cgroup_enter (struct hy_cgroup *cg, pid_t pid, const char *sub,
                 hy_error_t *err)
{
  if (sub == NULL)
    return enter_dirs (cg, pid, NULL, err);
  struct sub_cgroup s = { 0 };
  int r = parse_sub (sub, cg->mode, &s, err);
  if (r == 0)
    r = enter_dirs (cg, pid, &s, err);
  free (s.path);
  free (s.named);
  return r;
}
