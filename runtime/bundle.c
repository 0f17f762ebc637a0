#include "runtime/bundle.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/util.h"

static char *
join (const char *dir, const char *path)
{
  if (path[0] == '/')
    return xstrdup (path);
  return xasprintf ("%s/%s", dir, path);
}

static int
resolve_dir (const char *dir, char **out, hy_error_t *err)
{
  const char *name = dir ? dir : ".";
  _cleanup_free_ char *abs = realpath (name, NULL);
  struct stat st;
  if (abs == NULL || stat (abs, &st) < 0)
    return hy_error_errno (err, "bundle `%s`", name);
  if (!S_ISDIR (st.st_mode))
    return hy_error (err, ENOTDIR, "bundle `%s`", name);
  *out = steal_pointer (&abs);
  return 0;
}

static int
check_rootfs (struct hy_bundle *b, hy_error_t *err)
{
  const struct oci_root *root = b->config->root;
  if (root == NULL || root->path == NULL)
    return hy_error (err, 0, "%s: .root.path: required", b->config_path);
  b->rootfs = join (b->dir, root->path);
  struct stat st;
  if (stat (b->rootfs, &st) < 0)
    return hy_error_errno (err, ".root.path: rootfs `%s`", root->path);
  if (!S_ISDIR (st.st_mode))
    return hy_error (err, ENOTDIR, ".root.path: rootfs `%s`", root->path);
  return 0;
}

int
hy_bundle_load (const char *dir, const char *config_file,
                struct hy_bundle **out, hy_error_t *err)
{
  _cleanup_bundle_ struct hy_bundle *b = xmalloc0 (sizeof *b);

  if (resolve_dir (dir, &b->dir, err) < 0)
    return -1;
  b->config_path = join (b->dir, config_file ? config_file : "config.json");
  if (oci_config_load_file (b->config_path, &b->config, err) < 0)
    return -1;
  if (check_rootfs (b, err) < 0)
    return -1;
  if (hy_workload_opts_parse (&b->config->annotations, &b->opts, err) < 0)
    return hy_error_prepend (err, "%s", b->config_path);
  *out = steal_pointer (&b);
  return 0;
}

void
hy_bundle_free (struct hy_bundle *b)
{
  if (b == NULL)
    return;
  free (b->dir);
  free (b->config_path);
  free (b->rootfs);
  oci_config_free (b->config);
  free (b);
}
