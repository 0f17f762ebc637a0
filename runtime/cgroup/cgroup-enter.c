/* Moving processes into the cgroup, or into a sub-cgroup of it (exec
 * --cgroup). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

struct sub_cgroup
{
  char *path;     /* cleaned, relative; "" is the container's cgroup */
  unsigned ctrls; /* 0: every hierarchy */
  char *named;
};

char *
hy_cg_sub_path (const char *path)
{
  size_t len = strlen (path);
  char *out = xmalloc0 (len + 1);
  size_t o = 0;
  for (const char *p = path; *p;)
    {
      size_t n = strcspn (p, "/");
      if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          if (o == 0)
            {
              free (out);
              return NULL;
            }
          while (o > 0 && out[--o] != '/')
            ;
        }
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
  return out;
}

/* Every name of a "ctrl[,ctrl...]" list must be a controller or a named
 * hierarchy ("name=systemd"). */
static int
parse_controllers (const char *list, struct sub_cgroup *s, hy_error_t *err)
{
  _cleanup_free_ char *copy = xstrdup (list);
  char *save = NULL;
  for (char *tok = strtok_r (copy, ",", &save); tok;
       tok = strtok_r (NULL, ",", &save))
    if (!hy_cg_ctrl_from_name (tok) && !str_has_prefix (tok, "name="))
      return hy_error (err, EINVAL, "unknown controller \"%s\"", tok);
  s->ctrls = hy_cg_ctrls_parse (list, &s->named);
  if (s->ctrls == 0 && s->named == NULL)
    return hy_error (err, EINVAL, "no controller named");
  return 0;
}

/* "path" or "ctrl[,ctrl...]:path", as runc exec --cgroup takes it. */
static int
parse_sub (const char *sub, enum hy_cgroup_mode mode, struct sub_cgroup *s,
           hy_error_t *err)
{
  const char *colon = strchr (sub, ':');
  const char *path = colon ? colon + 1 : sub;
  if (colon && mode == HY_CGROUP_V2)
    return hy_error (err, EINVAL,
                     "sub-cgroup \"%s\": cgroup v2 takes no controller names",
                     sub);
  if (colon)
    {
      _cleanup_free_ char *list = xstrndup (sub, (size_t) (colon - sub));
      if (parse_controllers (list, s, err) < 0)
        return hy_error_prepend (err, "sub-cgroup \"%s\"", sub);
    }
  s->path = hy_cg_sub_path (path);
  if (s->path == NULL) /* runc's wording */
    return hy_error (err, EINVAL,
                     "%s is not a sub cgroup path (it leads out of the "
                     "container's cgroup)",
                     path);
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
enter_dir (const char *dir, const char *sub, pid_t pid, hy_error_t *err)
{
  _cleanup_free_ char *target
      = *sub ? hy_cg_join (dir, sub) : xstrdup (dir);
  char value[32];
  snprintf (value, sizeof value, "%d", (int) pid);
  int r = hy_cg_write_raw (target, "cgroup.procs", value);
  if (r == -ENOENT && *sub) /* runc's wording, which its suite checks */
    return hy_error (err, 0,
                     "sub-cgroup \"%s\" does not exist: adding pid %d to "
                     "%s/cgroup.procs: no such file or directory",
                     sub, (int) pid, target);
  if (r < 0)
    return hy_error (err, -r, "write `%s/cgroup.procs` \"%s\"", target,
                     value);
  return 0;
}

/* Each directory goes to the first sub-cgroup that applies to it, else
 * stays the container's own. */
static int
enter_dirs (struct hy_cgroup *cg, pid_t pid, const struct sub_cgroup *subs,
            size_t n_subs, hy_error_t *err)
{
  for (size_t i = 0; i < cg->n_dirs; i++)
    {
      const struct hy_cgroup_dir *d = &cg->dirs[i];
      const struct sub_cgroup *s = NULL;
      for (size_t j = 0; j < n_subs && s == NULL; j++)
        if (sub_applies (cg, d, &subs[j]))
          s = &subs[j];
      if (enter_dir (d->path, s ? s->path : "", pid, err) < 0)
        return -1;
    }
  return 0;
}

int
hy_cgroup_enter_subs (struct hy_cgroup *cg, pid_t pid, char *const *subs,
                      hy_error_t *err)
{
  size_t n = strv_len (subs);
  struct sub_cgroup *s = xmalloc0 ((n + 1) * sizeof (*s));
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++)
    r = parse_sub (subs[i], cg->mode, &s[i], err);
  if (r == 0)
    r = enter_dirs (cg, pid, s, n, err);
  for (size_t i = 0; i < n; i++)
    {
      free (s[i].path);
      free (s[i].named);
    }
  free (s);
  return r;
}

int
hy_cgroup_enter (struct hy_cgroup *cg, pid_t pid, const char *sub,
                 hy_error_t *err)
{
  char *subs[] = { (char *) sub, NULL };
  return hy_cgroup_enter_subs (cg, pid, sub ? subs : NULL, err);
}

int
hy_cgroup_open_procs (struct hy_cgroup *cg, int **fds, size_t *n,
                      hy_error_t *err)
{
  int *opened = xmalloc0 ((cg->n_dirs + 1) * sizeof (int));
  for (size_t i = 0; i < cg->n_dirs; i++)
    {
      _cleanup_free_ char *path
          = hy_cg_join (cg->dirs[i].path, "cgroup.procs");
      opened[i] = open (path, O_WRONLY | O_CLOEXEC);
      if (opened[i] < 0)
        {
          hy_error_errno (err, "open `%s`", path);
          hy_cgroup_close_procs (opened, i);
          return -1;
        }
    }
  *fds = opened;
  *n = cg->n_dirs;
  return 0;
}

void
hy_cgroup_close_procs (int *fds, size_t n)
{
  for (size_t i = 0; fds && i < n; i++)
    close (fds[i]);
  free (fds);
}

int
hy_cgroup_enter_self (const int *fds, size_t n, hy_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    if (write (fds[i], "0", 1) != 1)
      return hy_error_errno (err, "join the container's cgroup (hierarchy %zu)",
                             i);
  return 0;
}
