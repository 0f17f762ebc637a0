#include "oci/features.h"

#include <stdlib.h>

#include "common/util.h"

static void
gen_strv (yajl_gen g, const char *key, char *const *v)
{
  if (v != NULL)
    oci_gen_kv_strv (g, key, v);
}

static void
gen_bool (yajl_gen g, const char *key, oci_bool b)
{
  if (b != OCI_BOOL_UNSET)
    oci_gen_kv_bool (g, key, b == OCI_BOOL_TRUE);
}

/* {"enabled": b} under `key`, as apparmor, selinux, intelRdt and
 * mountExtensions.idmap are written. */
static void
gen_enabled_section (yajl_gen g, const char *key, oci_bool b)
{
  if (b == OCI_BOOL_UNSET)
    return;
  oci_gen_key (g, key);
  yajl_gen_map_open (g);
  gen_bool (g, "enabled", b);
  yajl_gen_map_close (g);
}

static void
gen_cgroup (yajl_gen g, const struct oci_features_cgroup *c)
{
  oci_gen_key (g, "cgroup");
  yajl_gen_map_open (g);
  gen_bool (g, "v1", c->v1);
  gen_bool (g, "v2", c->v2);
  gen_bool (g, "systemd", c->systemd);
  gen_bool (g, "systemdUser", c->systemd_user);
  gen_bool (g, "rdma", c->rdma);
  yajl_gen_map_close (g);
}

static void
gen_seccomp (yajl_gen g, const struct oci_features_seccomp *s)
{
  oci_gen_key (g, "seccomp");
  yajl_gen_map_open (g);
  gen_bool (g, "enabled", s->enabled);
  gen_strv (g, "actions", s->actions);
  gen_strv (g, "operators", s->operators);
  gen_strv (g, "archs", s->archs);
  gen_strv (g, "knownFlags", s->known_flags);
  gen_strv (g, "supportedFlags", s->supported_flags);
  yajl_gen_map_close (g);
}

static void
gen_mount_extensions (yajl_gen g, oci_bool idmap)
{
  if (idmap == OCI_BOOL_UNSET)
    return;
  oci_gen_key (g, "mountExtensions");
  yajl_gen_map_open (g);
  gen_enabled_section (g, "idmap", idmap);
  yajl_gen_map_close (g);
}

static void
gen_linux (yajl_gen g, const struct oci_features_linux *l)
{
  oci_gen_key (g, "linux");
  yajl_gen_map_open (g);
  gen_strv (g, "namespaces", l->namespaces);
  gen_strv (g, "capabilities", l->capabilities);
  if (l->cgroup)
    gen_cgroup (g, l->cgroup);
  if (l->seccomp)
    gen_seccomp (g, l->seccomp);
  gen_enabled_section (g, "apparmor", l->apparmor);
  gen_enabled_section (g, "selinux", l->selinux);
  gen_enabled_section (g, "intelRdt", l->intel_rdt);
  gen_mount_extensions (g, l->idmap_mounts);
  yajl_gen_map_close (g);
}

char *
oci_features_to_json (const struct oci_features *f, bool pretty)
{
  yajl_gen g = oci_gen_new (pretty);
  yajl_gen_map_open (g);
  if (f->oci_version_min)
    oci_gen_kv_str (g, "ociVersionMin", f->oci_version_min);
  if (f->oci_version_max)
    oci_gen_kv_str (g, "ociVersionMax", f->oci_version_max);
  gen_strv (g, "hooks", f->hooks);
  gen_strv (g, "mountOptions", f->mount_options);
  if (f->linux_)
    gen_linux (g, f->linux_);
  if (f->annotations.len > 0)
    oci_gen_kv_strmap (g, "annotations", &f->annotations);
  gen_strv (g, "potentiallyUnsafeConfigAnnotations",
            f->potentially_unsafe_config_annotations);
  yajl_gen_map_close (g);
  return oci_gen_finish (g, NULL);
}

static void
features_seccomp_free (struct oci_features_seccomp *s)
{
  if (s == NULL)
    return;
  strv_free (s->actions);
  strv_free (s->operators);
  strv_free (s->archs);
  strv_free (s->known_flags);
  strv_free (s->supported_flags);
  free (s);
}

static void
features_linux_free (struct oci_features_linux *l)
{
  if (l == NULL)
    return;
  strv_free (l->namespaces);
  strv_free (l->capabilities);
  free (l->cgroup);
  features_seccomp_free (l->seccomp);
  free (l);
}

void
oci_features_free (struct oci_features *f)
{
  if (f == NULL)
    return;
  free (f->oci_version_min);
  free (f->oci_version_max);
  strv_free (f->hooks);
  strv_free (f->mount_options);
  features_linux_free (f->linux_);
  oci_strmap_free (&f->annotations);
  strv_free (f->potentially_unsafe_config_annotations);
  free (f);
}
