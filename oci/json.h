/* Reading a yajl tree into the OCI model with errors that name the JSON
 * path, and writing the model back with yajl_gen.
 *
 * A path is a chain of oci_jpath nodes on the caller's stack, formatted
 * only when an error is reported:
 *
 *   const oci_jpath proc = JPATH_KEY (root, "process");
 *   ... oci_json_string (obj, &proc, "cwd", true, &p->cwd, err) ...
 *   -> ".process.cwd: expected a string"
 *
 * Every getter returns 0 when the key is absent and not required (leaving
 * *out untouched), 0 with *out set when present and valid, <0 with *err
 * naming the path otherwise.  `null` counts as absent.
 */
#ifndef HYRUN_OCI_JSON_H
#define HYRUN_OCI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "common/error.h"

typedef struct oci_jpath
{
  const struct oci_jpath *parent;
  const char *key; /* member name, or NULL for an array index */
  size_t index;
} oci_jpath;

#define JPATH_ROOT ((const oci_jpath *) NULL)
#define JPATH_KEY(parent_, key_) \
  ((oci_jpath){ .parent = (parent_), .key = (key_), .index = 0 })
#define JPATH_INDEX(parent_, i_) \
  ((oci_jpath){ .parent = (parent_), .key = NULL, .index = (i_) })

/* ".process.rlimits[2].type"; the root alone is ".". Caller frees. */
char *oci_jpath_format (const oci_jpath *at);

/* Report "<path>: <reason>" (the reason printf-style); returns -1. */
int oci_json_error (hy_error_t *err, const oci_jpath *at, const char *fmt,
                    ...) __attribute__ ((format (printf, 3, 4)));

/* Report "<path>.<key>: <reason>"; returns -1. */
int oci_json_key_error (hy_error_t *err, const oci_jpath *at, const char *key,
                        const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

/* Parse a whole document; errors read "invalid JSON: <yajl's words>". */
int oci_json_parse (const char *text, yajl_val *out, hy_error_t *err);

/* The member `key` of object `obj` (NULL when absent or null). */
yajl_val oci_json_member (yajl_val obj, const char *key);

/* Require `v` (found at `at`) to be an object / array. */
int oci_json_expect_object (yajl_val v, const oci_jpath *at, hy_error_t *err);
int oci_json_expect_array (yajl_val v, const oci_jpath *at, hy_error_t *err);

/* Members of `obj`, checked by type; `at` is the path of obj. */
int oci_json_object (yajl_val obj, const oci_jpath *at, const char *key,
                     bool required, yajl_val *out, hy_error_t *err);
int oci_json_array (yajl_val obj, const oci_jpath *at, const char *key,
                    bool required, yajl_val *out, hy_error_t *err);
int oci_json_string (yajl_val obj, const oci_jpath *at, const char *key,
                     bool required, char **out, hy_error_t *err);
int oci_json_bool (yajl_val obj, const oci_jpath *at, const char *key,
                   bool required, bool *out, bool *present, hy_error_t *err);
/* Integers in [min, max]; JSON fractions and exponents are rejected. */
int oci_json_int64 (yajl_val obj, const oci_jpath *at, const char *key,
                    bool required, int64_t min, int64_t max, int64_t *out,
                    bool *present, hy_error_t *err);
int oci_json_uint64 (yajl_val obj, const oci_jpath *at, const char *key,
                     bool required, uint64_t max, uint64_t *out,
                     bool *present, hy_error_t *err);
/* An array of strings as a NULL-terminated vector (empty array -> vector
 * with no elements, absent -> *out untouched). */
int oci_json_strv (yajl_val obj, const oci_jpath *at, const char *key,
                   bool required, char ***out, hy_error_t *err);

/* An object whose values are all strings (annotations, sysctl, unified). */
typedef struct oci_strmap
{
  size_t len;
  char **keys;
  char **values;
} oci_strmap;

int oci_json_strmap (yajl_val obj, const oci_jpath *at, const char *key,
                     oci_strmap *out, hy_error_t *err);
const char *oci_strmap_get (const oci_strmap *m, const char *key);
void oci_strmap_set (oci_strmap *m, const char *key, const char *value);
void oci_strmap_free (oci_strmap *m);

/* ---- writing ---- */

/* A generator configured for the indentation OCI tools use. */
yajl_gen oci_gen_new (bool pretty);
/* Take the generated text (NUL-terminated, caller frees) and free g. */
char *oci_gen_finish (yajl_gen g, size_t *len);

void oci_gen_key (yajl_gen g, const char *key);
void oci_gen_str (yajl_gen g, const char *s);
/* "key": value; the *_opt variants write nothing for NULL / !present. */
void oci_gen_kv_str (yajl_gen g, const char *key, const char *value);
void oci_gen_kv_bool (yajl_gen g, const char *key, bool value);
void oci_gen_kv_int (yajl_gen g, const char *key, int64_t value);
void oci_gen_kv_uint (yajl_gen g, const char *key, uint64_t value);
void oci_gen_kv_bool_opt (yajl_gen g, const char *key, bool value,
                          bool present);
void oci_gen_kv_int_opt (yajl_gen g, const char *key, int64_t value,
                         bool present);
void oci_gen_kv_uint_opt (yajl_gen g, const char *key, uint64_t value,
                          bool present);
void oci_gen_kv_strv (yajl_gen g, const char *key, char *const *v);
void oci_gen_kv_strmap (yajl_gen g, const char *key, const oci_strmap *m);

#endif
