/* The `hooks` section of config.json. */
#include <inttypes.h>
#include <stdlib.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/config-internal.h"

const char *const oci_hook_kind_names[OCI_HOOK_KINDS] = {
  [OCI_HOOK_PRESTART] = "prestart",
  [OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
  [OCI_HOOK_CREATE_CONTAINER] = "createContainer",
  [OCI_HOOK_START_CONTAINER] = "startContainer",
  [OCI_HOOK_POSTSTART] = "poststart",
  [OCI_HOOK_POSTSTOP] = "poststop",
};

static void
hooks_freep (struct oci_hooks **h)
{
  oci_hooks_free (*h);
}

static int
parse_hook (yajl_val v, const oci_jpath *at, struct oci_hook *h,
            hy_error_t *err)
{
  if (oci_json_expect_object (v, at, err) < 0
      || oci_json_string (v, at, "path", true, &h->path, err) < 0)
    return -1;
  if (!oci_is_absolute_path (h->path))
    return oci_json_key_error (err, at, "path", "must be an absolute path");
  if (oci_json_strv (v, at, "args", false, &h->args, err) < 0
      || oci_json_strv (v, at, "env", false, &h->env, err) < 0
      || oci_json_int64 (v, at, "timeout", false, INT64_MIN, INT32_MAX,
                         &h->timeout, &h->has_timeout, err)
             < 0)
    return -1;
  if (h->has_timeout && h->timeout <= 0)
    return oci_json_key_error (err, at, "timeout",
                               "must be greater than 0, got %" PRId64,
                               h->timeout);
  return 0;
}

static int
parse_hook_list (yajl_val hooks, const oci_jpath *at, enum oci_hook_kind kind,
                 struct oci_hooks *h, hy_error_t *err)
{
  const char *key = oci_hook_kind_names[kind];
  yajl_val arr = NULL;
  if (oci_json_array (hooks, at, key, false, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, key);
  size_t n = arr->u.array.len;
  /* Owned by h from here on, so a failure part-way frees what was read. */
  h->present[kind] = true;
  h->list[kind] = xmalloc0 (n * sizeof (struct oci_hook));
  h->count[kind] = n;
  for (size_t i = 0; i < n; i++)
    {
      const oci_jpath item = JPATH_INDEX (&here, i);
      if (parse_hook (arr->u.array.values[i], &item, &h->list[kind][i], err)
          < 0)
        return -1;
    }
  return 0;
}

int
oci_parse_hooks (yajl_val v, const oci_jpath *at, struct oci_hooks **out,
                 hy_error_t *err)
{
  if (oci_json_expect_object (v, at, err) < 0)
    return -1;
  __attribute__ ((cleanup (hooks_freep))) struct oci_hooks *h
      = xmalloc0 (sizeof (struct oci_hooks));
  for (int kind = 0; kind < OCI_HOOK_KINDS; kind++)
    if (parse_hook_list (v, at, kind, h, err) < 0)
      return -1;
  *out = steal_pointer (&h);
  return 0;
}

static void
gen_hook (yajl_gen g, const struct oci_hook *h)
{
  yajl_gen_map_open (g);
  oci_gen_kv_str (g, "path", h->path);
  oci_gen_kv_strv (g, "args", h->args);
  oci_gen_kv_strv (g, "env", h->env);
  oci_gen_kv_int_opt (g, "timeout", h->timeout, h->has_timeout);
  yajl_gen_map_close (g);
}

/* Writes the member, key included, as the other config.json sections do. */
void
oci_gen_hooks (yajl_gen g, const struct oci_hooks *h)
{
  oci_gen_key (g, "hooks");
  yajl_gen_map_open (g);
  for (int kind = 0; kind < OCI_HOOK_KINDS; kind++)
    {
      if (!h->present[kind] && h->count[kind] == 0)
        continue;
      oci_gen_key (g, oci_hook_kind_names[kind]);
      yajl_gen_array_open (g);
      for (size_t i = 0; i < h->count[kind]; i++)
        gen_hook (g, &h->list[kind][i]);
      yajl_gen_array_close (g);
    }
  yajl_gen_map_close (g);
}

void
oci_hooks_free (struct oci_hooks *h)
{
  if (h == NULL)
    return;
  for (int kind = 0; kind < OCI_HOOK_KINDS; kind++)
    {
      for (size_t i = 0; i < h->count[kind]; i++)
        {
          struct oci_hook *hook = &h->list[kind][i];
          free (hook->path);
          strv_free (hook->args);
          strv_free (hook->env);
        }
      free (h->list[kind]);
    }
  free (h);
}
