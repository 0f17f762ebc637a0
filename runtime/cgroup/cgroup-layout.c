/* Which cgroup hierarchies this host has, where they are mounted and where
 * we sit in each: statfs picks the mode (as runc and crun do),
 * /proc/self/mountinfo the mount points, /proc/self/cgroup our own
 * cgroups (relative cgroupsPaths start there). */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>

#include "common/cleanup.h"
#include "common/mountinfo.h"
#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define HYBRID_MOUNTPOINT CGROUP_ROOT "/unified"

const char *
hy_cgroup_mode_name (enum hy_cgroup_mode mode)
{
  switch (mode)
    {
    case HY_CGROUP_V1:
      return "v1";
    case HY_CGROUP_V2:
      return "v2";
    case HY_CGROUP_HYBRID:
      return "hybrid";
    }
  return "?";
}

static bool
is_cgroup2 (const char *path)
{
  struct statfs st;
  return statfs (path, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

int
hy_cgroup_detect (enum hy_cgroup_mode *out, hy_error_t *err)
{
  struct statfs st;
  if (statfs (CGROUP_ROOT, &st) < 0)
    return hy_error_errno (err, "statfs `%s`", CGROUP_ROOT);
  if (st.f_type == CGROUP2_SUPER_MAGIC)
    *out = HY_CGROUP_V2;
  else if (is_cgroup2 (HYBRID_MOUNTPOINT))
    *out = HY_CGROUP_HYBRID;
  else
    *out = HY_CGROUP_V1;
  return 0;
}

/* Our cgroup in the hierarchy with these controllers ("/" when the
 * file does not say). */
static char *
own_cgroup (const char *self_cgroup, unsigned ctrls, const char *named,
            bool v2)
{
  _cleanup_free_ char *copy = xstrdup (self_cgroup);
  char *save = NULL;
  for (char *line = strtok_r (copy, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      char *list = strchr (line, ':');
      char *path = list ? strchr (list + 1, ':') : NULL;
      if (path == NULL)
        continue;
      *path++ = '\0';
      *list++ = '\0';
      if (v2 && str_eq (line, "0") && *list == '\0')
        return xstrdup (path);
      _cleanup_free_ char *line_named = NULL;
      if (!v2 && *list && hy_cg_ctrls_parse (list, &line_named) == ctrls
          && (named ? str_eq (named, line_named) : line_named == NULL))
        return xstrdup (path);
    }
  return xstrdup ("/");
}

/* "cpu,cpuacct" or "name=systemd" from the super options. */
static char *
v1_key (const char *super_opts)
{
  _cleanup_free_ char *copy = xstrdup (super_opts);
  char *key = xstrdup (""), *save = NULL;
  for (char *tok = strtok_r (copy, ",", &save); tok;
       tok = strtok_r (NULL, ",", &save))
    if (hy_cg_ctrl_from_name (tok) || str_has_prefix (tok, "name="))
      {
        char *next = xasprintf ("%s%s%s", key, *key ? "," : "", tok);
        free (key);
        key = next;
      }
  return key;
}

static struct hy_cgroup_mount *
find_mount (struct hy_cgroup_layout *l, const char *key, bool v2)
{
  for (size_t i = 0; i < l->n; i++)
    if (l->mounts[i].v2 == v2 && str_eq (l->mounts[i].key, key))
      return &l->mounts[i];
  return NULL;
}

static void
release_mount (struct hy_cgroup_mount *m)
{
  free (m->key);
  free (m->mountpoint);
  free (m->root);
  free (m->own);
}

/* The standard place of the mode's cgroup2 mount. */
static bool
standard_v2 (enum hy_cgroup_mode mode, const char *mountpoint)
{
  return strcmp (mountpoint,
                 mode == HY_CGROUP_V2 ? CGROUP_ROOT : HYBRID_MOUNTPOINT)
         == 0;
}

/* One mount per hierarchy: the first seen (bind mounts repeat them),
 * except that a cgroup2 mount at the standard place wins. */
static void
add_mount (struct hy_cgroup_layout *l, const struct hy_mountinfo_entry *m,
           const char *self_cgroup, bool v2)
{
  _cleanup_free_ char *key = v2 ? xstrdup ("") : v1_key (m->super_options);
  _cleanup_free_ char *mountpoint = xstrdup (m->mount_point);
  if (!v2 && *key == '\0')
    return;
  struct hy_cgroup_mount *slot = find_mount (l, key, v2);
  if (slot && !(v2 && standard_v2 (l->mode, mountpoint)))
    return;
  if (slot)
    release_mount (slot);
  else
    {
      l->mounts = xrealloc (l->mounts, (l->n + 1) * sizeof (*l->mounts));
      slot = &l->mounts[l->n++];
    }
  _cleanup_free_ char *named = NULL;
  unsigned ctrls = v2 ? 0 : hy_cg_ctrls_parse (key, &named);
  *slot = (struct hy_cgroup_mount){
    .key = steal_pointer (&key),
    .mountpoint = steal_pointer (&mountpoint),
    .root = xstrdup (m->root),
    .own = own_cgroup (self_cgroup, ctrls, named, v2),
    .ctrls = ctrls,
    .v2 = v2,
  };
}

static void
add_entry (struct hy_cgroup_layout *l, const struct hy_mountinfo_entry *m,
           const char *self_cgroup)
{
  if (strcmp (m->fstype, "cgroup") == 0 && l->mode != HY_CGROUP_V2)
    add_mount (l, m, self_cgroup, false);
  else if (strcmp (m->fstype, "cgroup2") == 0 && l->mode != HY_CGROUP_V1)
    add_mount (l, m, self_cgroup, true);
}

static int
check_layout (const struct hy_cgroup_layout *l, hy_error_t *err)
{
  bool v1 = false, v2 = false;
  for (size_t i = 0; i < l->n; i++)
    *(l->mounts[i].v2 ? &v2 : &v1) = true;
  if (l->mode != HY_CGROUP_V2 && !v1)
    return hy_error (err, ENOENT, "no cgroup v1 hierarchy is mounted");
  if (l->mode != HY_CGROUP_V1 && !v2)
    return hy_error (err, ENOENT, "no cgroup2 file system is mounted");
  return 0;
}

int
hy_cgroup_layout_parse (enum hy_cgroup_mode mode, const char *mountinfo,
                        const char *self_cgroup, struct hy_cgroup_layout **out,
                        hy_error_t *err)
{
  struct hy_mountinfo mi;
  if (hy_mountinfo_parse (mountinfo, &mi, err) < 0)
    return hy_error_prepend (err, "mountinfo");
  struct hy_cgroup_layout *l = xmalloc0 (sizeof (*l));
  l->mode = mode;
  for (size_t i = 0; i < mi.n; i++)
    add_entry (l, &mi.entries[i], self_cgroup);
  hy_mountinfo_free (&mi);
  if (check_layout (l, err) < 0)
    {
      hy_cgroup_layout_free (l);
      return -1;
    }
  *out = l;
  return 0;
}

int
hy_cgroup_layout_detect (struct hy_cgroup_layout **out, hy_error_t *err)
{
  enum hy_cgroup_mode mode;
  _cleanup_free_ char *mountinfo = NULL, *self_cgroup = NULL;
  if (hy_cgroup_detect (&mode, err) < 0
      || read_file_at (AT_FDCWD, "/proc/self/mountinfo", 16u << 20, &mountinfo,
                       NULL, err)
             < 0
      || read_file_at (AT_FDCWD, "/proc/self/cgroup", 1u << 20, &self_cgroup,
                       NULL, err)
             < 0)
    return -1;
  return hy_cgroup_layout_parse (mode, mountinfo, self_cgroup, out, err);
}

void
hy_cgroup_layout_free (struct hy_cgroup_layout *l)
{
  if (l == NULL)
    return;
  for (size_t i = 0; i < l->n; i++)
    release_mount (&l->mounts[i]);
  free (l->mounts);
  free (l);
}
