/* Small parsing helpers shared by config-linux.c, config-resources.c and
 * config-seccomp.c. */
#ifndef HYRUN_OCI_CONFIG_LINUX_UTIL_H
#define HYRUN_OCI_CONFIG_LINUX_UTIL_H

#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/config-internal.h"

#define N_ELEMENTS(a) (sizeof (a) / sizeof ((a)[0]))

/* The index of `s` in the first n entries of `names` (which may also end
 * early with NULL), or -1. */
static inline int
oci_name_index (const char *const *names, size_t n, const char *s)
{
  for (size_t i = 0; i < n && names[i]; i++)
    if (strcmp (names[i], s) == 0)
      return (int) i;
  return -1;
}

/* The string member `key`, which must be one of `names`; `what` names the
 * kind of value in the error ("unknown namespace type \"foo\""). */
static inline int
oci_json_enum (yajl_val obj, const oci_jpath *at, const char *key,
               bool required, const char *const *names, size_t n,
               const char *what, int *out, bool *present, hy_error_t *err)
{
  _cleanup_free_ char *s = NULL;
  if (oci_json_string (obj, at, key, required, &s, err) < 0)
    return -1;
  if (s == NULL)
    return 0;
  int i = oci_name_index (names, n, s);
  if (i < 0)
    return oci_json_key_error (err, at, key, "unknown %s \"%s\"", what, s);
  *out = i;
  if (present)
    *present = true;
  return 0;
}

/* Fail unless the (present) member `key` of the object at `at` is an
 * absolute path. */
static inline int
oci_check_absolute (const char *path, const oci_jpath *at, const char *key,
                    hy_error_t *err)
{
  if (path && !oci_is_absolute_path (path))
    return oci_json_key_error (err, at, key,
                               "must be an absolute path, got \"%s\"", path);
  return 0;
}

typedef int (*oci_item_parser) (yajl_val item, const oci_jpath *at, void *out,
                                hy_error_t *err);

/* The optional array of objects `key` into a zeroed array of `size`-byte
 * items, each filled by `parse`.  *items and *n are set before the first
 * item is read, so on failure the caller's structure owns (and frees) what
 * was read so far. */
static inline int
oci_parse_object_array (yajl_val obj, const oci_jpath *at, const char *key,
                        size_t size, oci_item_parser parse, void **items,
                        size_t *n, hy_error_t *err)
{
  yajl_val arr = NULL;
  if (oci_json_array (obj, at, key, false, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, key);
  size_t len = arr->u.array.len;
  *items = xmalloc0 (len * size);
  *n = len;
  for (size_t i = 0; i < len; i++)
    {
      const oci_jpath item = JPATH_INDEX (&here, i);
      yajl_val v = arr->u.array.values[i];
      if (oci_json_expect_object (v, &item, err) < 0
          || parse (v, &item, (char *) *items + i * size, err) < 0)
        return -1;
    }
  return 0;
}

/* oci_parse_object_array() into a typed (pointer, count) pair. */
#define OCI_PARSE_OBJECT_ARRAY(obj, at, key, field, count, parse, err)        \
  ({                                                                          \
    void *items_ = NULL;                                                      \
    int r_ = oci_parse_object_array ((obj), (at), (key), sizeof (*(field)),   \
                                     (parse), &items_, &(count), (err));      \
    if (items_)                                                               \
      (field) = items_;                                                       \
    r_;                                                                       \
  })

#endif
