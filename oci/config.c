/* config.json: the document, root, mounts, hostname and annotations; the
 * other sections live in config-<section>.c. */
#include "oci/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/config-internal.h"

#define CONFIG_MAX_SIZE (16u << 20)

bool
oci_is_absolute_path (const char *p)
{
  return p && p[0] == '/';
}

/* ---- id mappings (linux.uidMappings and mounts[].uidMappings) ---- */

static int
parse_idmap (yajl_val v, const oci_jpath *at, struct oci_idmap *m,
             hy_error_t *err)
{
  uint64_t container_id = 0, host_id = 0, size = 0;
  if (oci_json_expect_object (v, at, err) < 0
      || oci_json_uint64 (v, at, "containerID", true, UINT32_MAX,
                          &container_id, NULL, err) < 0
      || oci_json_uint64 (v, at, "hostID", true, UINT32_MAX, &host_id, NULL,
                          err) < 0
      || oci_json_uint64 (v, at, "size", true, UINT32_MAX, &size, NULL, err)
             < 0)
    return -1;
  if (size == 0)
    return oci_json_key_error (err, at, "size", "must be greater than 0");
  *m = (struct oci_idmap){ (uint32_t) container_id, (uint32_t) host_id,
                           (uint32_t) size };
  return 0;
}

int
oci_parse_idmaps (yajl_val obj, const oci_jpath *at, const char *key,
                  struct oci_idmap **out, size_t *n, hy_error_t *err)
{
  yajl_val arr = NULL;
  if (oci_json_array (obj, at, key, false, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, key);
  size_t len = arr->u.array.len;
  _cleanup_free_ struct oci_idmap *maps
      = xmalloc0 (len * sizeof (struct oci_idmap));
  for (size_t i = 0; i < len; i++)
    {
      const oci_jpath item = JPATH_INDEX (&here, i);
      if (parse_idmap (arr->u.array.values[i], &item, &maps[i], err) < 0)
        return -1;
    }
  free (*out);
  *out = steal_pointer (&maps);
  *n = len;
  return 0;
}

void
oci_gen_idmaps (yajl_gen g, const char *key, const struct oci_idmap *m,
                size_t n)
{
  if (m == NULL)
    return;
  oci_gen_key (g, key);
  yajl_gen_array_open (g);
  for (size_t i = 0; i < n; i++)
    {
      yajl_gen_map_open (g);
      oci_gen_kv_uint (g, "containerID", m[i].container_id);
      oci_gen_kv_uint (g, "hostID", m[i].host_id);
      oci_gen_kv_uint (g, "size", m[i].size);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
}

/* ---- root ---- */

static int
parse_root (yajl_val doc, struct oci_config *c, hy_error_t *err)
{
  const oci_jpath at = JPATH_KEY (JPATH_ROOT, "root");
  yajl_val v = NULL;
  if (oci_json_object (doc, JPATH_ROOT, "root", true, &v, err) < 0)
    return -1;
  c->root = xmalloc0 (sizeof (*c->root));
  if (oci_json_string (v, &at, "path", true, &c->root->path, err) < 0
      || oci_json_bool (v, &at, "readonly", false, &c->root->readonly, NULL,
                        err) < 0)
    return -1;
  if (c->root->path[0] == '\0')
    return oci_json_key_error (err, &at, "path", "must not be empty");
  return 0;
}

/* ---- mounts ---- */

static int
parse_mount (yajl_val v, const oci_jpath *at, struct oci_mount *m,
             hy_error_t *err)
{
  if (oci_json_expect_object (v, at, err) < 0
      || oci_json_string (v, at, "destination", true, &m->destination, err)
             < 0
      || oci_json_string (v, at, "source", false, &m->source, err) < 0
      || oci_json_string (v, at, "type", false, &m->type, err) < 0
      || oci_json_strv (v, at, "options", false, &m->options, err) < 0
      || oci_parse_idmaps (v, at, "uidMappings", &m->uid_mappings,
                           &m->n_uid_mappings, err) < 0
      || oci_parse_idmaps (v, at, "gidMappings", &m->gid_mappings,
                           &m->n_gid_mappings, err) < 0)
    return -1;
  if (m->destination[0] == '\0')
    return oci_json_key_error (err, at, "destination", "must not be empty");
  return 0;
}

static int
parse_mounts (yajl_val doc, struct oci_config *c, hy_error_t *err)
{
  const oci_jpath at = JPATH_KEY (JPATH_ROOT, "mounts");
  yajl_val arr = NULL;
  if (oci_json_array (doc, JPATH_ROOT, "mounts", false, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  c->has_mounts = true;
  c->n_mounts = arr->u.array.len;
  c->mounts = xmalloc0 (c->n_mounts * sizeof (struct oci_mount));
  for (size_t i = 0; i < c->n_mounts; i++)
    {
      const oci_jpath item = JPATH_INDEX (&at, i);
      if (parse_mount (arr->u.array.values[i], &item, &c->mounts[i], err) < 0)
        return -1;
    }
  return 0;
}

static void
mount_free (struct oci_mount *m)
{
  free (m->destination);
  free (m->source);
  free (m->type);
  strv_free (m->options);
  free (m->uid_mappings);
  free (m->gid_mappings);
}

/* ---- document ---- */

static int
parse_oci_version (yajl_val doc, struct oci_config *c, hy_error_t *err)
{
  if (oci_json_string (doc, JPATH_ROOT, "ociVersion", true, &c->oci_version,
                       err) < 0)
    return -1;
  /* Any 1.x document is understood; 2.x would be a different contract. */
  if (strncmp (c->oci_version, "1.", 2) != 0)
    return oci_json_key_error (err, JPATH_ROOT, "ociVersion",
                               "unsupported version \"%s\" (expected 1.x)",
                               c->oci_version);
  return 0;
}

static int
parse_annotations (yajl_val doc, struct oci_config *c, hy_error_t *err)
{
  if (oci_json_strmap (doc, JPATH_ROOT, "annotations", &c->annotations, err)
      < 0)
    return -1;
  c->has_annotations = oci_json_member (doc, "annotations") != NULL;
  const oci_jpath at = JPATH_KEY (JPATH_ROOT, "annotations");
  if (oci_strmap_get (&c->annotations, ""))
    return oci_json_error (err, &at, "keys must not be empty");
  return 0;
}

static int
parse_section (yajl_val doc, const char *key, void *out,
               int (*parse) (yajl_val, const oci_jpath *, void *,
                             hy_error_t *),
               hy_error_t *err)
{
  yajl_val v = oci_json_member (doc, key);
  if (v == NULL)
    return 0;
  const oci_jpath at = JPATH_KEY (JPATH_ROOT, key);
  if (oci_json_expect_object (v, &at, err) < 0)
    return -1;
  return parse (v, &at, out, err);
}

/* Adapters from the typed section parsers to parse_section's shape. */
#define SECTION_PARSER(fn, type)                                              \
  static int fn##_any (yajl_val v, const oci_jpath *at, void *out,            \
                       hy_error_t *err)                                       \
  {                                                                           \
    return fn (v, at, (type **) out, err);                                    \
  }
SECTION_PARSER (oci_parse_process, struct oci_process)
SECTION_PARSER (oci_parse_hooks, struct oci_hooks)
SECTION_PARSER (oci_parse_linux, struct oci_linux)

static int
parse_document (yajl_val doc, struct oci_config *c, hy_error_t *err)
{
  if (oci_json_expect_object (doc, JPATH_ROOT, err) < 0)
    return -1;
  if (parse_oci_version (doc, c, err) < 0 || parse_root (doc, c, err) < 0
      || parse_mounts (doc, c, err) < 0
      || parse_section (doc, "process", &c->process, oci_parse_process_any,
                        err) < 0
      || oci_json_string (doc, JPATH_ROOT, "hostname", false, &c->hostname,
                          err) < 0
      || oci_json_string (doc, JPATH_ROOT, "domainname", false,
                          &c->domainname, err) < 0
      || parse_section (doc, "hooks", &c->hooks, oci_parse_hooks_any, err) < 0
      || parse_annotations (doc, c, err) < 0
      || parse_section (doc, "linux", &c->linux_, oci_parse_linux_any, err)
             < 0)
    return -1;
  return 0;
}

int
oci_config_from_tree (yajl_val doc, const char *source,
                      struct oci_config **out, hy_error_t *err)
{
  struct oci_config *c = xmalloc0 (sizeof (*c));
  if (parse_document (doc, c, err) < 0)
    {
      oci_config_free (c);
      return hy_error_prepend (err, "%s", source);
    }
  *out = c;
  return 0;
}

int
oci_config_parse (const char *text, const char *source,
                  struct oci_config **out, hy_error_t *err)
{
  yajl_val doc = NULL;
  if (oci_json_parse (text, &doc, err) < 0)
    return hy_error_prepend (err, "%s", source);
  int r = oci_config_from_tree (doc, source, out, err);
  yajl_tree_free (doc);
  return r;
}

int
oci_config_load_file (const char *path, struct oci_config **out,
                      hy_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  if (read_file_at (AT_FDCWD, path, CONFIG_MAX_SIZE, &text, NULL, err) < 0)
    return -1;
  return oci_config_parse (text, path, out, err);
}

/* ---- writing ---- */

static void
gen_root (yajl_gen g, const struct oci_root *r)
{
  oci_gen_key (g, "root");
  yajl_gen_map_open (g);
  oci_gen_kv_str (g, "path", r->path);
  if (r->readonly)
    oci_gen_kv_bool (g, "readonly", true);
  yajl_gen_map_close (g);
}

static void
gen_mounts (yajl_gen g, const struct oci_config *c)
{
  if (!c->has_mounts)
    return;
  oci_gen_key (g, "mounts");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < c->n_mounts; i++)
    {
      const struct oci_mount *m = &c->mounts[i];
      yajl_gen_map_open (g);
      oci_gen_kv_str (g, "destination", m->destination);
      oci_gen_kv_str (g, "type", m->type);
      oci_gen_kv_str (g, "source", m->source);
      oci_gen_kv_strv (g, "options", m->options);
      oci_gen_idmaps (g, "uidMappings", m->uid_mappings, m->n_uid_mappings);
      oci_gen_idmaps (g, "gidMappings", m->gid_mappings, m->n_gid_mappings);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
}

void
oci_gen_config (yajl_gen g, const struct oci_config *c)
{
  yajl_gen_map_open (g);
  oci_gen_kv_str (g, "ociVersion", c->oci_version);
  if (c->process)
    oci_gen_process (g, c->process);
  if (c->root)
    gen_root (g, c->root);
  oci_gen_kv_str (g, "hostname", c->hostname);
  oci_gen_kv_str (g, "domainname", c->domainname);
  gen_mounts (g, c);
  if (c->hooks)
    oci_gen_hooks (g, c->hooks);
  if (c->has_annotations)
    oci_gen_kv_strmap (g, "annotations", &c->annotations);
  if (c->linux_)
    oci_gen_linux (g, c->linux_);
  yajl_gen_map_close (g);
}

char *
oci_config_to_json (const struct oci_config *c, bool pretty)
{
  yajl_gen g = oci_gen_new (pretty);
  oci_gen_config (g, c);
  return oci_gen_finish (g, NULL);
}

void
oci_config_free (struct oci_config *c)
{
  if (c == NULL)
    return;
  free (c->oci_version);
  if (c->root)
    free (c->root->path);
  free (c->root);
  for (size_t i = 0; i < c->n_mounts; i++)
    mount_free (&c->mounts[i]);
  free (c->mounts);
  oci_process_free (c->process);
  free (c->hostname);
  free (c->domainname);
  oci_hooks_free (c->hooks);
  oci_strmap_free (&c->annotations);
  oci_linux_free (c->linux_);
  free (c);
}
