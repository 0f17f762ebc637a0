/* The `linux` section of config.json, except linux.resources
 * (config-resources.c) and linux.seccomp (config-seccomp.c). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/config-internal.h"
#include "oci/config-linux-util.h"

const char *const oci_namespace_names[OCI_NS_TYPES] = {
  [OCI_NS_PID] = "pid",       [OCI_NS_NETWORK] = "network",
  [OCI_NS_MOUNT] = "mount",   [OCI_NS_IPC] = "ipc",
  [OCI_NS_UTS] = "uts",       [OCI_NS_USER] = "user",
  [OCI_NS_CGROUP] = "cgroup", [OCI_NS_TIME] = "time",
};

static const char *const propagation_names[]
    = { "",       "private", "rprivate",   "slave",       "rslave",
        "shared", "rshared", "unbindable", "runbindable", NULL };

static const char *const personality_domains[] = { "LINUX", "LINUX32", NULL };

static void
linux_freep (struct oci_linux **l)
{
  oci_linux_free (*l);
}

/* ---- namespaces ---- */

static int
parse_namespace (yajl_val v, const oci_jpath *at, void *out, hy_error_t *err)
{
  struct oci_namespace *ns = out;
  int type = 0;
  if (oci_json_enum (v, at, "type", true, oci_namespace_names, OCI_NS_TYPES,
                     "namespace type", &type, NULL, err)
          < 0
      || oci_json_string (v, at, "path", false, &ns->path, err) < 0
      || oci_check_absolute (ns->path, at, "path", err) < 0)
    return -1;
  ns->type = type;
  return 0;
}

static int
check_namespace_duplicates (const struct oci_linux *l, const oci_jpath *at,
                            hy_error_t *err)
{
  const oci_jpath arr = JPATH_KEY (at, "namespaces");
  for (size_t i = 0; i < l->n_namespaces; i++)
    for (size_t j = 0; j < i; j++)
      if (l->namespaces[i].type == l->namespaces[j].type)
        {
          const oci_jpath item = JPATH_INDEX (&arr, i);
          return oci_json_key_error (
              err, &item, "type", "duplicate namespace type \"%s\"",
              oci_namespace_names[l->namespaces[i].type]);
        }
  return 0;
}

static int
parse_namespaces (yajl_val obj, const oci_jpath *at, struct oci_linux *l,
                  hy_error_t *err)
{
  if (OCI_PARSE_OBJECT_ARRAY (obj, at, "namespaces", l->namespaces,
                              l->n_namespaces, parse_namespace, err)
      < 0)
    return -1;
  return check_namespace_duplicates (l, at, err);
}

/* ---- id mappings ---- */

static int
parse_idmaps (yajl_val obj, const oci_jpath *at, struct oci_linux *l,
              hy_error_t *err)
{
  if (oci_parse_idmaps (obj, at, "uidMappings", &l->uid_mappings,
                        &l->n_uid_mappings, err)
          < 0
      || oci_parse_idmaps (obj, at, "gidMappings", &l->gid_mappings,
                           &l->n_gid_mappings, err)
             < 0)
    return -1;
  return 0;
}

/* ---- timeOffsets ---- */

static int
parse_time_offset (yajl_val v, const oci_jpath *at, struct oci_time_offset *t,
                   hy_error_t *err)
{
  uint64_t nanosecs = 0;
  *t = (struct oci_time_offset){ .present = true };
  if (oci_json_expect_object (v, at, err) < 0
      || oci_json_int64 (v, at, "secs", false, INT64_MIN, INT64_MAX, &t->secs,
                         &t->has_secs, err)
             < 0
      || oci_json_uint64 (v, at, "nanosecs", false, 999999999, &nanosecs,
                          &t->has_nanosecs, err)
             < 0)
    return -1;
  t->nanosecs = (uint32_t) nanosecs;
  return 0;
}

static int
parse_time_offsets (yajl_val obj, const oci_jpath *at, struct oci_linux *l,
                    hy_error_t *err)
{
  yajl_val offsets = NULL;
  if (oci_json_object (obj, at, "timeOffsets", false, &offsets, err) < 0)
    return -1;
  if (offsets == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "timeOffsets");
  for (size_t i = 0; i < offsets->u.object.len; i++)
    {
      const char *clock = offsets->u.object.keys[i];
      yajl_val v = offsets->u.object.values[i];
      const oci_jpath item = JPATH_KEY (&here, clock);
      struct oci_time_offset *t
          = str_eq (clock, "monotonic")  ? &l->time_monotonic
            : str_eq (clock, "boottime") ? &l->time_boottime
                                         : NULL;
      if (t == NULL)
        return oci_json_error (err, &item,
                               "unknown clock (expected monotonic or "
                               "boottime)");
      if (!YAJL_IS_NULL (v) && parse_time_offset (v, &item, t, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- devices ---- */

static int
parse_device_type (yajl_val v, const oci_jpath *at, struct oci_device *d,
                   hy_error_t *err)
{
  _cleanup_free_ char *type = NULL;
  if (oci_json_string (v, at, "type", true, &type, err) < 0)
    return -1;
  if (strlen (type) != 1 || strchr ("cbup", type[0]) == NULL)
    return oci_json_key_error (err, at, "type",
                               "unknown device type \"%s\" (expected c, b, "
                               "u or p)",
                               type);
  d->type = type[0];
  return 0;
}

static int
parse_device (yajl_val v, const oci_jpath *at, void *out, hy_error_t *err)
{
  struct oci_device *d = out;
  uint64_t mode = 0, uid = 0, gid = 0;
  if (parse_device_type (v, at, d, err) < 0
      || oci_json_string (v, at, "path", true, &d->path, err) < 0
      || oci_check_absolute (d->path, at, "path", err) < 0)
    return -1;
  bool numbered = d->type != 'p';
  if (oci_json_int64 (v, at, "major", numbered, 0, UINT32_MAX, &d->major,
                      &d->has_major, err)
          < 0
      || oci_json_int64 (v, at, "minor", numbered, 0, UINT32_MAX, &d->minor,
                         &d->has_minor, err)
             < 0
      || oci_json_uint64 (v, at, "fileMode", false, 07777, &mode,
                          &d->has_file_mode, err)
             < 0
      || oci_json_uint64 (v, at, "uid", false, UINT32_MAX, &uid, &d->has_uid,
                          err)
             < 0
      || oci_json_uint64 (v, at, "gid", false, UINT32_MAX, &gid, &d->has_gid,
                          err)
             < 0)
    return -1;
  d->file_mode = (uint32_t) mode;
  d->uid = (uint32_t) uid;
  d->gid = (uint32_t) gid;
  return 0;
}

static int
parse_devices (yajl_val obj, const oci_jpath *at, struct oci_linux *l,
               hy_error_t *err)
{
  return OCI_PARSE_OBJECT_ARRAY (obj, at, "devices", l->devices, l->n_devices,
                                 parse_device, err);
}

/* ---- strings and string lists ---- */

static int
parse_strings (yajl_val obj, const oci_jpath *at, struct oci_linux *l,
               hy_error_t *err)
{
  int propagation = 0;
  bool has_propagation = false;
  if (oci_json_string (obj, at, "cgroupsPath", false, &l->cgroups_path, err)
          < 0
      || oci_json_string (obj, at, "mountLabel", false, &l->mount_label, err)
             < 0
      || oci_json_enum (obj, at, "rootfsPropagation", false, propagation_names,
                        N_ELEMENTS (propagation_names), "rootfs propagation",
                        &propagation, &has_propagation, err)
             < 0)
    return -1;
  if (has_propagation)
    l->rootfs_propagation = xstrdup (propagation_names[propagation]);
  return 0;
}

static int
parse_absolute_paths (yajl_val obj, const oci_jpath *at, const char *key,
                      char ***out, hy_error_t *err)
{
  if (oci_json_strv (obj, at, key, false, out, err) < 0)
    return -1;
  const oci_jpath here = JPATH_KEY (at, key);
  for (size_t i = 0; *out && (*out)[i]; i++)
    if (!oci_is_absolute_path ((*out)[i]))
      {
        const oci_jpath item = JPATH_INDEX (&here, i);
        return oci_json_error (
            err, &item, "must be an absolute path, got \"%s\"", (*out)[i]);
      }
  return 0;
}

static int
parse_masked_readonly (yajl_val obj, const oci_jpath *at, struct oci_linux *l,
                       hy_error_t *err)
{
  if (parse_absolute_paths (obj, at, "maskedPaths", &l->masked_paths, err) < 0
      || parse_absolute_paths (obj, at, "readonlyPaths", &l->readonly_paths,
                               err)
             < 0)
    return -1;
  return 0;
}

/* ---- sysctl ---- */

/* "net.ipv4.ip_forward" or "net/ipv4/ip_forward": the name becomes a path
 * under /proc/sys, so empty components (and with them "..") are refused. */
static bool
sysctl_name_valid (const char *name)
{
  if (*name == '\0')
    return false;
  for (const char *p = name; *p; p++)
    {
      bool sep = *p == '.' || *p == '/';
      bool prev_sep = p == name || p[-1] == '.' || p[-1] == '/';
      if (sep && prev_sep)
        return false;
    }
  char last = name[strlen (name) - 1];
  return last != '.' && last != '/';
}

static int
parse_sysctl (yajl_val obj, const oci_jpath *at, struct oci_linux *l,
              hy_error_t *err)
{
  if (oci_json_strmap (obj, at, "sysctl", &l->sysctl, err) < 0)
    return -1;
  l->has_sysctl = oci_json_member (obj, "sysctl") != NULL;
  for (size_t i = 0; i < l->sysctl.len; i++)
    if (!sysctl_name_valid (l->sysctl.keys[i]))
      return oci_json_key_error (err, at, "sysctl", "invalid name \"%s\"",
                                 l->sysctl.keys[i]);
  return 0;
}

/* ---- resources and seccomp (their own files) ---- */

static int
parse_resources (yajl_val obj, const oci_jpath *at, struct oci_linux *l,
                 hy_error_t *err)
{
  yajl_val v = NULL;
  if (oci_json_object (obj, at, "resources", false, &v, err) < 0)
    return -1;
  const oci_jpath here = JPATH_KEY (at, "resources");
  return v ? oci_parse_resources (v, &here, &l->resources, err) : 0;
}

static int
parse_seccomp (yajl_val obj, const oci_jpath *at, struct oci_linux *l,
               hy_error_t *err)
{
  yajl_val v = NULL;
  if (oci_json_object (obj, at, "seccomp", false, &v, err) < 0)
    return -1;
  const oci_jpath here = JPATH_KEY (at, "seccomp");
  return v ? oci_parse_seccomp (v, &here, &l->seccomp, err) : 0;
}

/* ---- intelRdt ---- */

/* closID names a directory under the resctrl mount. */
static int
check_clos_id (const char *id, const oci_jpath *at, hy_error_t *err)
{
  if (id
      && (*id == '\0' || strchr (id, '/') || str_eq (id, ".")
          || str_eq (id, "..")))
    return oci_json_key_error (err, at, "closID",
                               "invalid class of service \"%s\"", id);
  return 0;
}

static int
parse_intel_rdt (yajl_val obj, const oci_jpath *at, struct oci_linux *l,
                 hy_error_t *err)
{
  yajl_val v = NULL;
  if (oci_json_object (obj, at, "intelRdt", false, &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "intelRdt");
  struct oci_intel_rdt *r = l->intel_rdt = xmalloc0 (sizeof (*r));
  if (oci_json_string (v, &here, "closID", false, &r->clos_id, err) < 0
      || check_clos_id (r->clos_id, &here, err) < 0
      || oci_json_string (v, &here, "l3CacheSchema", false,
                          &r->l3_cache_schema, err)
             < 0
      || oci_json_string (v, &here, "memBwSchema", false, &r->mem_bw_schema,
                          err)
             < 0
      || oci_json_bool (v, &here, "enableCMT", false, &r->enable_cmt,
                        &r->has_enable_cmt, err)
             < 0
      || oci_json_bool (v, &here, "enableMBM", false, &r->enable_mbm,
                        &r->has_enable_mbm, err)
             < 0)
    return -1;
  return 0;
}

/* ---- personality ---- */

static int
parse_personality (yajl_val obj, const oci_jpath *at, struct oci_linux *l,
                   hy_error_t *err)
{
  yajl_val v = NULL;
  if (oci_json_object (obj, at, "personality", false, &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "personality");
  struct oci_personality *p = l->personality = xmalloc0 (sizeof (*p));
  int domain = 0;
  if (oci_json_enum (v, &here, "domain", true, personality_domains,
                     N_ELEMENTS (personality_domains), "execution domain",
                     &domain, NULL, err)
          < 0
      || oci_json_strv (v, &here, "flags", false, &p->flags, err) < 0)
    return -1;
  p->domain = xstrdup (personality_domains[domain]);
  return 0;
}

/* ---- netDevices ---- */

/* The kernel's rule for interface names (dev_valid_name). */
static bool
ifname_valid (const char *name)
{
  size_t len = strlen (name);
  if (len == 0 || len >= 16 || str_eq (name, ".") || str_eq (name, ".."))
    return false;
  for (const char *p = name; *p; p++)
    if (*p == '/' || *p == ':' || isspace ((unsigned char) *p))
      return false;
  return true;
}

static int
parse_net_device (yajl_val v, const oci_jpath *at, struct oci_net_device *d,
                  hy_error_t *err)
{
  if (!ifname_valid (d->host_name))
    return oci_json_error (err, at, "invalid network device name");
  if (oci_json_expect_object (v, at, err) < 0
      || oci_json_string (v, at, "name", false, &d->name, err) < 0)
    return -1;
  if (d->name && !ifname_valid (d->name))
    return oci_json_key_error (err, at, "name",
                               "invalid network device name \"%s\"", d->name);
  return 0;
}

static const char *
net_device_final_name (const struct oci_net_device *d)
{
  return d->name ? d->name : d->host_name;
}

static int
check_net_device_duplicates (const struct oci_linux *l, const oci_jpath *at,
                             hy_error_t *err)
{
  for (size_t i = 0; i < l->n_net_devices; i++)
    for (size_t j = 0; j < i; j++)
      if (str_eq (net_device_final_name (&l->net_devices[i]),
                  net_device_final_name (&l->net_devices[j])))
        {
          const oci_jpath item = JPATH_KEY (at, l->net_devices[i].host_name);
          return oci_json_error (err, &item,
                                 "another device is also named \"%s\" in "
                                 "the container",
                                 net_device_final_name (&l->net_devices[i]));
        }
  return 0;
}

static int
parse_net_devices (yajl_val obj, const oci_jpath *at, struct oci_linux *l,
                   hy_error_t *err)
{
  yajl_val v = NULL;
  if (oci_json_object (obj, at, "netDevices", false, &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "netDevices");
  size_t n = v->u.object.len;
  l->net_devices = xmalloc0 (n * sizeof (struct oci_net_device));
  l->n_net_devices = n;
  for (size_t i = 0; i < n; i++)
    {
      struct oci_net_device *d = &l->net_devices[i];
      const oci_jpath item = JPATH_KEY (&here, v->u.object.keys[i]);
      d->host_name = xstrdup (v->u.object.keys[i]);
      if (parse_net_device (v->u.object.values[i], &item, d, err) < 0)
        return -1;
    }
  return check_net_device_duplicates (l, &here, err);
}

/* ---- the section ---- */

typedef int (*linux_parser) (yajl_val obj, const oci_jpath *at,
                             struct oci_linux *l, hy_error_t *err);

static const linux_parser linux_parsers[] = {
  parse_namespaces,      parse_idmaps,      parse_time_offsets,
  parse_devices,         parse_strings,     parse_resources,
  parse_intel_rdt,       parse_sysctl,      parse_seccomp,
  parse_masked_readonly, parse_personality, parse_net_devices,
};

int
oci_parse_linux (yajl_val v, const oci_jpath *at, struct oci_linux **out,
                 hy_error_t *err)
{
  if (oci_json_expect_object (v, at, err) < 0)
    return -1;
  __attribute__ ((cleanup (linux_freep))) struct oci_linux *l
      = xmalloc0 (sizeof (struct oci_linux));
  for (size_t i = 0; i < N_ELEMENTS (linux_parsers); i++)
    if (linux_parsers[i](v, at, l, err) < 0)
      return -1;
  *out = steal_pointer (&l);
  return 0;
}

/* ---- writing ---- */

static void
gen_namespaces (yajl_gen g, const struct oci_linux *l)
{
  if (l->namespaces == NULL)
    return;
  oci_gen_key (g, "namespaces");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < l->n_namespaces; i++)
    {
      yajl_gen_map_open (g);
      oci_gen_kv_str (g, "type", oci_namespace_names[l->namespaces[i].type]);
      oci_gen_kv_str (g, "path", l->namespaces[i].path);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
}

static void
gen_time_offset (yajl_gen g, const char *clock,
                 const struct oci_time_offset *t)
{
  if (!t->present)
    return;
  oci_gen_key (g, clock);
  yajl_gen_map_open (g);
  oci_gen_kv_int_opt (g, "secs", t->secs, t->has_secs);
  oci_gen_kv_uint_opt (g, "nanosecs", t->nanosecs, t->has_nanosecs);
  yajl_gen_map_close (g);
}

static void
gen_time_offsets (yajl_gen g, const struct oci_linux *l)
{
  if (!l->time_monotonic.present && !l->time_boottime.present)
    return;
  oci_gen_key (g, "timeOffsets");
  yajl_gen_map_open (g);
  gen_time_offset (g, "monotonic", &l->time_monotonic);
  gen_time_offset (g, "boottime", &l->time_boottime);
  yajl_gen_map_close (g);
}

static void
gen_device (yajl_gen g, const struct oci_device *d)
{
  const char type[2] = { d->type, '\0' };
  yajl_gen_map_open (g);
  oci_gen_kv_str (g, "type", type);
  oci_gen_kv_str (g, "path", d->path);
  oci_gen_kv_int_opt (g, "major", d->major, d->has_major);
  oci_gen_kv_int_opt (g, "minor", d->minor, d->has_minor);
  oci_gen_kv_uint_opt (g, "fileMode", d->file_mode, d->has_file_mode);
  oci_gen_kv_uint_opt (g, "uid", d->uid, d->has_uid);
  oci_gen_kv_uint_opt (g, "gid", d->gid, d->has_gid);
  yajl_gen_map_close (g);
}

static void
gen_devices (yajl_gen g, const struct oci_linux *l)
{
  if (l->devices == NULL)
    return;
  oci_gen_key (g, "devices");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < l->n_devices; i++)
    gen_device (g, &l->devices[i]);
  yajl_gen_array_close (g);
}

static void
gen_intel_rdt (yajl_gen g, const struct oci_intel_rdt *r)
{
  if (r == NULL)
    return;
  oci_gen_key (g, "intelRdt");
  yajl_gen_map_open (g);
  oci_gen_kv_str (g, "closID", r->clos_id);
  oci_gen_kv_str (g, "l3CacheSchema", r->l3_cache_schema);
  oci_gen_kv_str (g, "memBwSchema", r->mem_bw_schema);
  oci_gen_kv_bool_opt (g, "enableCMT", r->enable_cmt,
                       r->enable_cmt || r->has_enable_cmt);
  oci_gen_kv_bool_opt (g, "enableMBM", r->enable_mbm,
                       r->enable_mbm || r->has_enable_mbm);
  yajl_gen_map_close (g);
}

static void
gen_personality (yajl_gen g, const struct oci_personality *p)
{
  if (p == NULL)
    return;
  oci_gen_key (g, "personality");
  yajl_gen_map_open (g);
  oci_gen_kv_str (g, "domain", p->domain);
  oci_gen_kv_strv (g, "flags", p->flags);
  yajl_gen_map_close (g);
}

static void
gen_net_devices (yajl_gen g, const struct oci_linux *l)
{
  if (l->net_devices == NULL)
    return;
  oci_gen_key (g, "netDevices");
  yajl_gen_map_open (g);
  for (size_t i = 0; i < l->n_net_devices; i++)
    {
      oci_gen_key (g, l->net_devices[i].host_name);
      yajl_gen_map_open (g);
      oci_gen_kv_str (g, "name", l->net_devices[i].name);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
}

void
oci_gen_linux (yajl_gen g, const struct oci_linux *l)
{
  oci_gen_key (g, "linux");
  yajl_gen_map_open (g);
  gen_namespaces (g, l);
  oci_gen_idmaps (g, "uidMappings", l->uid_mappings, l->n_uid_mappings);
  oci_gen_idmaps (g, "gidMappings", l->gid_mappings, l->n_gid_mappings);
  gen_time_offsets (g, l);
  gen_devices (g, l);
  gen_net_devices (g, l);
  oci_gen_kv_str (g, "cgroupsPath", l->cgroups_path);
  if (l->resources)
    oci_gen_resources (g, l->resources);
  gen_intel_rdt (g, l->intel_rdt);
  if (l->has_sysctl || l->sysctl.len > 0)
    oci_gen_kv_strmap (g, "sysctl", &l->sysctl);
  if (l->seccomp)
    oci_gen_seccomp (g, l->seccomp);
  oci_gen_kv_str (g, "rootfsPropagation", l->rootfs_propagation);
  oci_gen_kv_strv (g, "maskedPaths", l->masked_paths);
  oci_gen_kv_strv (g, "readonlyPaths", l->readonly_paths);
  oci_gen_kv_str (g, "mountLabel", l->mount_label);
  gen_personality (g, l->personality);
  yajl_gen_map_close (g);
}

/* ---- freeing ---- */

static void
intel_rdt_free (struct oci_intel_rdt *r)
{
  if (r == NULL)
    return;
  free (r->clos_id);
  free (r->l3_cache_schema);
  free (r->mem_bw_schema);
  free (r);
}

static void
personality_free (struct oci_personality *p)
{
  if (p == NULL)
    return;
  free (p->domain);
  strv_free (p->flags);
  free (p);
}

static void
linux_arrays_free (struct oci_linux *l)
{
  for (size_t i = 0; i < l->n_namespaces; i++)
    free (l->namespaces[i].path);
  free (l->namespaces);
  for (size_t i = 0; i < l->n_devices; i++)
    free (l->devices[i].path);
  free (l->devices);
  for (size_t i = 0; i < l->n_net_devices; i++)
    {
      free (l->net_devices[i].host_name);
      free (l->net_devices[i].name);
    }
  free (l->net_devices);
  free (l->uid_mappings);
  free (l->gid_mappings);
}

void
oci_linux_free (struct oci_linux *l)
{
  if (l == NULL)
    return;
  linux_arrays_free (l);
  free (l->cgroups_path);
  oci_resources_free (l->resources);
  intel_rdt_free (l->intel_rdt);
  oci_strmap_free (&l->sysctl);
  oci_seccomp_free (l->seccomp);
  free (l->rootfs_propagation);
  strv_free (l->masked_paths);
  strv_free (l->readonly_paths);
  free (l->mount_label);
  personality_free (l->personality);
  free (l);
}
