/* Walking cgroup directories: making them with their parents, removing
 * them with their descendants, listing their processes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

/* How long rmdir keeps retrying while exiting processes hold a cgroup. */
#define RMDIR_TRIES 200
#define RMDIR_WAIT_MS 10

int
hy_cg_mkdir_below (const char *from, const char *path,
                   int (*at_level) (const char *dir, bool leaf,
                                    hy_error_t *err),
                   bool *created, hy_error_t *err)
{
  size_t lf = strlen (from);
  if (strncmp (path, from, lf) != 0 || (path[lf] != '/' && path[lf] != '\0'))
    return hy_error (err, EINVAL, "`%s` is not below `%s`", path, from);
  *created = false;
  if (at_level && at_level (from, path[lf] == '\0', err) < 0)
    return -1;
  _cleanup_free_ char *cur = xstrdup (path);
  for (size_t i = lf + 1; path[i - 1] != '\0'; i++)
    {
      if (path[i] != '/' && path[i] != '\0')
        continue;
      cur[i] = '\0';
      *created = mkdir (cur, 0755) == 0;
      if (!*created && errno != EEXIST)
        return hy_error_errno (err, "mkdir `%s`", cur);
      if (at_level && at_level (cur, path[i] == '\0', err) < 0)
        return -1;
      cur[i] = path[i];
    }
  return 0;
}

static int
rmdir_retrying (const char *dir, hy_error_t *err)
{
  for (int i = 0;; i++)
    {
      if (rmdir (dir) == 0 || errno == ENOENT)
        return 0;
      if (errno != EBUSY || i == RMDIR_TRIES)
        return hy_error_errno (err, "rmdir `%s`", dir);
      hy_cg_sleep_ms (RMDIR_WAIT_MS);
    }
}

int
hy_cg_rmdir_tree (const char *dir, hy_error_t *err)
{
  _cleanup_closedir_ DIR *d = opendir (dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : hy_error_errno (err, "open `%s`", dir);
  struct dirent *e;
  while ((e = readdir (d)))
    {
      if (e->d_type != DT_DIR || str_eq (e->d_name, ".")
          || str_eq (e->d_name, ".."))
        continue;
      _cleanup_free_ char *sub = hy_cg_join (dir, e->d_name);
      if (hy_cg_rmdir_tree (sub, err) < 0)
        return -1;
    }
  return rmdir_retrying (dir, err);
}

static void
append_pids (const char *text, pid_t **pids, size_t *n)
{
  for (const char *p = text; *p;)
    {
      char *end;
      long v = strtol (p, &end, 10);
      if (end == p)
        break;
      *pids = xrealloc (*pids, (*n + 1) * sizeof (pid_t));
      (*pids)[(*n)++] = (pid_t) v;
      p = end + strspn (end, "\n");
    }
}

static int
collect_pids (const char *dir, pid_t **pids, size_t *n, hy_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  if (hy_cg_read (dir, "cgroup.procs", &text, err) < 0)
    return -1;
  append_pids (text, pids, n);
  _cleanup_closedir_ DIR *d = opendir (dir);
  if (d == NULL)
    return hy_error_errno (err, "open `%s`", dir);
  struct dirent *e;
  while ((e = readdir (d)))
    {
      if (e->d_type != DT_DIR || str_eq (e->d_name, ".")
          || str_eq (e->d_name, ".."))
        continue;
      _cleanup_free_ char *sub = hy_cg_join (dir, e->d_name);
      if (collect_pids (sub, pids, n, err) < 0)
        return -1;
    }
  return 0;
}

int
hy_cg_read_pids (const char *dir, pid_t **pids, size_t *n, hy_error_t *err)
{
  *pids = NULL;
  *n = 0;
  if (collect_pids (dir, pids, n, err) < 0)
    {
      free (*pids);
      *pids = NULL;
      *n = 0;
      return -1;
    }
  return 0;
}
