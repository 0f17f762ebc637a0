/* The container's cgroup: creation in every hierarchy of the layout, and
 * the routing of each concern to the directory that serves it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

struct hy_cgroup_dir *
hy_cg_serving (const struct hy_cgroup *cg, unsigned bit)
{
  for (int v2 = 0; v2 <= 1; v2++)
    for (size_t i = 0; i < cg->n_dirs; i++)
      if (cg->dirs[i].v2 == v2 && (cg->dirs[i].ctrls & bit))
        return &cg->dirs[i];
  return NULL;
}

struct hy_cgroup_dir *
hy_cg_procs_dir (const struct hy_cgroup *cg)
{
  struct hy_cgroup_dir *d = hy_cg_serving (cg, HY_CG_FREEZER);
  for (size_t i = 0; d == NULL && i < cg->n_dirs; i++)
    if (cg->dirs[i].v2)
      d = &cg->dirs[i];
  return d ? d : cg->n_dirs ? &cg->dirs[0] : NULL;
}

enum hy_cgroup_mode
hy_cgroup_get_mode (const struct hy_cgroup *cg)
{
  return cg->mode;
}

static const struct hy_cgroup_dir *
named_dir (const struct hy_cgroup *cg, const char *name)
{
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (!cg->dirs[i].v2 && str_eq (cg->dirs[i].key, name))
      return &cg->dirs[i];
  return NULL;
}

const char *
hy_cgroup_dir (const struct hy_cgroup *cg, const char *controller)
{
  const struct hy_cgroup_dir *d = NULL;
  if (*controller == '\0' || str_eq (controller, "unified"))
    for (size_t i = 0; d == NULL && i < cg->n_dirs; i++)
      d = cg->dirs[i].v2 ? &cg->dirs[i] : NULL;
  else if (str_has_prefix (controller, "name="))
    d = named_dir (cg, controller);
  else if (hy_cg_ctrl_from_name (controller))
    d = hy_cg_serving (cg, hy_cg_ctrl_from_name (controller));
  return d ? d->path : NULL;
}

void
hy_cgroup_free (struct hy_cgroup *cg)
{
  if (cg == NULL)
    return;
  for (size_t i = 0; i < cg->n_dirs; i++)
    {
      free (cg->dirs[i].key);
      free (cg->dirs[i].path);
      free (cg->dirs[i].mountpoint);
    }
  free (cg->dirs);
  free (cg);
}

/* The cleaned cgroupsPath, "/hyrun/<id>" by default. */
static int
inner_path (const char *cgroups_path, const char *id, char **out,
            hy_error_t *err)
{
  if (cgroups_path == NULL || *cgroups_path == '\0')
    {
      if (id == NULL || *id == '\0' || strchr (id, '/') || str_eq (id, ".")
          || str_eq (id, ".."))
        return hy_error (err, EINVAL,
                         "invalid container id \"%s\" for a "
                         "cgroup name",
                         id ? id : "");
      *out = xasprintf ("/hyrun/%s", id);
      return 0;
    }
  *out = hy_cg_clean_path (cgroups_path);
  if (*out == NULL)
    return hy_error (err, EINVAL,
                     "linux.cgroupsPath \"%s\" names no cgroup of its own",
                     cgroups_path);
  return 0;
}

static int
add_dirs (struct hy_cgroup *cg, const struct hy_cgroup_layout *layout,
          const char *inner, hy_error_t *err)
{
  cg->dirs = xmalloc0 (layout->n * sizeof (*cg->dirs));
  for (size_t i = 0; i < layout->n; i++)
    {
      const struct hy_cgroup_mount *m = &layout->mounts[i];
      char *path = hy_cg_resolve (m, layout->mode, inner, err);
      if (path == NULL)
        return -1;
      cg->dirs[cg->n_dirs++] = (struct hy_cgroup_dir){
        .key = xstrdup (m->key),
        .path = path,
        .mountpoint = xstrdup (m->mountpoint),
        .ctrls = m->ctrls,
        .v2 = m->v2,
        .drv = m->v2 ? &hy_cgroup_driver_v2 : &hy_cgroup_driver_v1,
      };
    }
  return 0;
}

static int
prepare_dirs (struct hy_cgroup *cg, hy_error_t *err)
{
  for (size_t i = 0; i < cg->n_dirs; i++)
    {
      struct hy_cgroup_dir *d = &cg->dirs[i];
      if (d->drv->prepare (d, err) < 0)
        return -1;
      d->ctrls = d->drv->controllers (d);
    }
  return 0;
}

/* The directory whose freezer state a cgroup that already exists has: the
 * v1 freezer's, else the cgroup2 one. */
static const struct hy_cgroup_dir *
existing_freezer_dir (const struct hy_cgroup *cg)
{
  const struct hy_cgroup_dir *d = NULL;
  for (size_t i = 0; d == NULL && i < cg->n_dirs; i++)
    if (!cg->dirs[i].v2 && (cg->dirs[i].ctrls & HY_CG_FREEZER))
      d = &cg->dirs[i];
  for (size_t i = 0; d == NULL && i < cg->n_dirs; i++)
    if (cg->dirs[i].v2)
      d = &cg->dirs[i];
  if (d == NULL || !hy_cg_exists (d->path, d->v2 ? "cgroup.freeze"
                                                  : "freezer.state"))
    return NULL;
  return d;
}

/* A cgroup left frozen would freeze init as it joins, and create with it;
 * runc refuses it before touching anything. */
static int
refuse_frozen (const struct hy_cgroup *cg, hy_error_t *err)
{
  const struct hy_cgroup_dir *d = existing_freezer_dir (cg);
  bool frozen = false;
  if (d == NULL)
    return 0;
  if (d->drv->is_frozen (d->path, &frozen, err) < 0)
    return hy_error_prepend (err, "the cgroup's freezer state");
  if (frozen)
    return hy_error (err, EBUSY,
                     "container's cgroup unexpectedly frozen (`%s`)", d->path);
  return 0;
}

/* Undo a failed creation: the leaves we made, when they are empty (the
 * caller deals with a process it could not finish moving). */
static void
rollback (struct hy_cgroup *cg)
{
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (cg->dirs[i].created)
      rmdir (cg->dirs[i].path);
}

int
hy_cgroup_create_in (const struct hy_cgroup_layout *layout,
                     const char *cgroups_path, const char *id, pid_t pid,
                     const struct oci_resources *res, struct hy_cgroup **out,
                     hy_error_t *err)
{
  _cleanup_free_ char *inner = NULL;
  if (inner_path (cgroups_path, id, &inner, err) < 0)
    return -1;
  struct hy_cgroup *cg = xmalloc0 (sizeof (*cg));
  cg->mode = layout->mode;
  if (add_dirs (cg, layout, inner, err) < 0 || refuse_frozen (cg, err) < 0)
    {
      hy_cgroup_free (cg);
      return -1;
    }
  if (prepare_dirs (cg, err) < 0
      || hy_cgroup_apply_resources (cg, res, err) < 0
      || (pid > 0 && hy_cgroup_enter (cg, pid, NULL, err) < 0))
    {
      rollback (cg);
      hy_cgroup_free (cg);
      return -1;
    }
  *out = cg;
  return 0;
}

int
hy_cgroup_create (const char *cgroups_path, const char *id, pid_t pid,
                  const struct oci_resources *res, struct hy_cgroup **out,
                  hy_error_t *err)
{
  struct hy_cgroup_layout *layout = NULL;
  if (hy_cgroup_layout_detect (&layout, err) < 0)
    return -1;
  int r = hy_cgroup_create_in (layout, cgroups_path, id, pid, res, out, err);
  hy_cgroup_layout_free (layout);
  return r;
}
