#include "oci/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"

/* ---- paths and errors ---- */

static void
format_path (const oci_jpath *at, char **buf, size_t *len)
{
  if (at == NULL)
    return;
  format_path (at->parent, buf, len);
  char *piece = at->key ? xasprintf ("%s.%s", *buf, at->key)
                        : xasprintf ("%s[%zu]", *buf, at->index);
  free (*buf);
  *buf = piece;
  *len = strlen (piece);
}

char *
oci_jpath_format (const oci_jpath *at)
{
  char *buf = xstrdup ("");
  size_t len = 0;
  format_path (at, &buf, &len);
  if (len == 0)
    {
      free (buf);
      return xstrdup (".");
    }
  return buf;
}

static int __attribute__ ((format (printf, 3, 0)))
verror (hy_error_t *err, const oci_jpath *at, const char *fmt, va_list ap)
{
  _cleanup_free_ char *path = oci_jpath_format (at);
  _cleanup_free_ char *reason = NULL;
  if (vasprintf (&reason, fmt, ap) < 0)
    reason = NULL;
  return hy_error (err, 0, "%s: %s", path, reason ? reason : "invalid");
}

int
oci_json_error (hy_error_t *err, const oci_jpath *at, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  verror (err, at, fmt, ap);
  va_end (ap);
  return -1;
}

int
oci_json_key_error (hy_error_t *err, const oci_jpath *at, const char *key,
                    const char *fmt, ...)
{
  const oci_jpath child = JPATH_KEY (at, key);
  va_list ap;
  va_start (ap, fmt);
  verror (err, &child, fmt, ap);
  va_end (ap);
  return -1;
}

int
oci_json_parse (const char *text, yajl_val *out, hy_error_t *err)
{
  char why[512] = "";
  yajl_val v = yajl_tree_parse (text, why, sizeof (why));
  if (v == NULL)
    {
      /* yajl's message spans lines and carries a caret; keep one line. */
      for (char *p = why; *p; p++)
        if (*p == '\n' || *p == '\r')
          *p = ' ';
      size_t n = strlen (why);
      while (n > 0 && why[n - 1] == ' ')
        why[--n] = '\0';
      return hy_error (err, 0, "invalid JSON: %s", why[0] ? why : "parse error");
    }
  *out = v;
  return 0;
}

/* ---- getters ---- */

yajl_val
oci_json_member (yajl_val obj, const char *key)
{
  if (!YAJL_IS_OBJECT (obj))
    return NULL;
  /* The last occurrence wins, as in most JSON readers. */
  for (size_t i = obj->u.object.len; i > 0; i--)
    if (strcmp (obj->u.object.keys[i - 1], key) == 0)
      {
        yajl_val v = obj->u.object.values[i - 1];
        return YAJL_IS_NULL (v) ? NULL : v;
      }
  return NULL;
}

int
oci_json_expect_object (yajl_val v, const oci_jpath *at, hy_error_t *err)
{
  if (!YAJL_IS_OBJECT (v))
    return oci_json_error (err, at, "expected an object");
  return 0;
}

int
oci_json_expect_array (yajl_val v, const oci_jpath *at, hy_error_t *err)
{
  if (!YAJL_IS_ARRAY (v))
    return oci_json_error (err, at, "expected an array");
  return 0;
}

/* The member `key`, or an error when it is required and absent.  Returns
 * 1 when found, 0 when absent (and allowed), <0 on error. */
static int
lookup (yajl_val obj, const oci_jpath *at, const char *key, bool required,
        yajl_val *v, hy_error_t *err)
{
  *v = oci_json_member (obj, key);
  if (*v)
    return 1;
  if (required)
    return oci_json_key_error (err, at, key, "missing required field");
  return 0;
}

int
oci_json_object (yajl_val obj, const oci_jpath *at, const char *key,
                 bool required, yajl_val *out, hy_error_t *err)
{
  yajl_val v;
  int r = lookup (obj, at, key, required, &v, err);
  if (r <= 0)
    return r;
  if (!YAJL_IS_OBJECT (v))
    return oci_json_key_error (err, at, key, "expected an object");
  *out = v;
  return 0;
}

int
oci_json_array (yajl_val obj, const oci_jpath *at, const char *key,
                bool required, yajl_val *out, hy_error_t *err)
{
  yajl_val v;
  int r = lookup (obj, at, key, required, &v, err);
  if (r <= 0)
    return r;
  if (!YAJL_IS_ARRAY (v))
    return oci_json_key_error (err, at, key, "expected an array");
  *out = v;
  return 0;
}

int
oci_json_string (yajl_val obj, const oci_jpath *at, const char *key,
                 bool required, char **out, hy_error_t *err)
{
  yajl_val v;
  int r = lookup (obj, at, key, required, &v, err);
  if (r <= 0)
    return r;
  if (!YAJL_IS_STRING (v))
    return oci_json_key_error (err, at, key, "expected a string");
  free (*out);
  *out = xstrdup (YAJL_GET_STRING (v));
  return 0;
}

int
oci_json_bool (yajl_val obj, const oci_jpath *at, const char *key,
               bool required, bool *out, bool *present, hy_error_t *err)
{
  yajl_val v;
  int r = lookup (obj, at, key, required, &v, err);
  if (r <= 0)
    return r;
  if (!YAJL_IS_TRUE (v) && !YAJL_IS_FALSE (v))
    return oci_json_key_error (err, at, key, "expected a boolean");
  *out = YAJL_IS_TRUE (v);
  if (present)
    *present = true;
  return 0;
}

/* The literal text of a JSON number if it is a plain integer. */
static const char *
integer_text (yajl_val v)
{
  if (!YAJL_IS_NUMBER (v))
    return NULL;
  const char *r = v->u.number.r;
  if (r == NULL || strpbrk (r, ".eE"))
    return NULL;
  return r;
}

int
oci_json_int64 (yajl_val obj, const oci_jpath *at, const char *key,
                bool required, int64_t min, int64_t max, int64_t *out,
                bool *present, hy_error_t *err)
{
  yajl_val v;
  int r = lookup (obj, at, key, required, &v, err);
  if (r <= 0)
    return r;
  const char *text = integer_text (v);
  long long n;
  if (text == NULL)
    return oci_json_key_error (err, at, key, "expected an integer");
  if (parse_int64 (text, min, max, &n) < 0)
    return oci_json_key_error (err, at, key,
                               "%s is out of range [%" PRId64 ", %" PRId64 "]",
                               text, min, max);
  *out = n;
  if (present)
    *present = true;
  return 0;
}

int
oci_json_uint64 (yajl_val obj, const oci_jpath *at, const char *key,
                 bool required, uint64_t max, uint64_t *out, bool *present,
                 hy_error_t *err)
{
  yajl_val v;
  int r = lookup (obj, at, key, required, &v, err);
  if (r <= 0)
    return r;
  const char *text = integer_text (v);
  unsigned long long n;
  if (text == NULL)
    return oci_json_key_error (err, at, key, "expected an integer");
  if (parse_uint64 (text, &n) < 0 || n > max)
    return oci_json_key_error (err, at, key,
                               "%s is out of range [0, %" PRIu64 "]", text,
                               max);
  *out = n;
  if (present)
    *present = true;
  return 0;
}

int
oci_json_strv (yajl_val obj, const oci_jpath *at, const char *key,
               bool required, char ***out, hy_error_t *err)
{
  yajl_val v;
  int r = lookup (obj, at, key, required, &v, err);
  if (r <= 0)
    return r;
  if (!YAJL_IS_ARRAY (v))
    return oci_json_key_error (err, at, key, "expected an array of strings");
  size_t n = v->u.array.len;
  for (size_t i = 0; i < n; i++)
    if (!YAJL_IS_STRING (v->u.array.values[i]))
      {
        const oci_jpath here = JPATH_KEY (at, key);
        const oci_jpath item = JPATH_INDEX (&here, i);
        return oci_json_error (err, &item, "expected a string");
      }
  char **vec = xmalloc0 ((n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    vec[i] = xstrdup (YAJL_GET_STRING (v->u.array.values[i]));
  strv_free (*out);
  *out = vec;
  return 0;
}

/* ---- string maps ---- */

int
oci_json_strmap (yajl_val obj, const oci_jpath *at, const char *key,
                 oci_strmap *out, hy_error_t *err)
{
  yajl_val v;
  if (oci_json_object (obj, at, key, false, &v, err) < 0)
    return -1;
  v = oci_json_member (obj, key);
  if (v == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, key);
  for (size_t i = 0; i < v->u.object.len; i++)
    if (!YAJL_IS_STRING (v->u.object.values[i]))
      return oci_json_key_error (err, &here, v->u.object.keys[i],
                                 "expected a string");
  for (size_t i = 0; i < v->u.object.len; i++)
    oci_strmap_set (out, v->u.object.keys[i],
                    YAJL_GET_STRING (v->u.object.values[i]));
  return 0;
}

const char *
oci_strmap_get (const oci_strmap *m, const char *key)
{
  for (size_t i = 0; i < m->len; i++)
    if (strcmp (m->keys[i], key) == 0)
      return m->values[i];
  return NULL;
}

void
oci_strmap_set (oci_strmap *m, const char *key, const char *value)
{
  for (size_t i = 0; i < m->len; i++)
    if (strcmp (m->keys[i], key) == 0)
      {
        free (m->values[i]);
        m->values[i] = xstrdup (value);
        return;
      }
  m->keys = xrealloc (m->keys, (m->len + 1) * sizeof (char *));
  m->values = xrealloc (m->values, (m->len + 1) * sizeof (char *));
  m->keys[m->len] = xstrdup (key);
  m->values[m->len] = xstrdup (value);
  m->len++;
}

void
oci_strmap_free (oci_strmap *m)
{
  for (size_t i = 0; i < m->len; i++)
    {
      free (m->keys[i]);
      free (m->values[i]);
    }
  free (m->keys);
  free (m->values);
  *m = (oci_strmap){ 0 };
}

/* ---- writing ---- */

yajl_gen
oci_gen_new (bool pretty)
{
  yajl_gen g = yajl_gen_alloc (NULL);
  if (g == NULL)
    abort ();
  yajl_gen_config (g, yajl_gen_beautify, pretty ? 1 : 0);
  yajl_gen_config (g, yajl_gen_indent_string, "  ");
  yajl_gen_config (g, yajl_gen_validate_utf8, 0);
  return g;
}

char *
oci_gen_finish (yajl_gen g, size_t *len)
{
  const unsigned char *buf;
  size_t n;
  yajl_gen_get_buf (g, &buf, &n);
  char *s = xstrndup ((const char *) buf, n);
  /* yajl ends pretty output with a newline; keep documents uniform. */
  while (n > 0 && s[n - 1] == '\n')
    s[--n] = '\0';
  yajl_gen_free (g);
  if (len)
    *len = n;
  return s;
}

void
oci_gen_str (yajl_gen g, const char *s)
{
  yajl_gen_string (g, (const unsigned char *) s, strlen (s));
}

void
oci_gen_key (yajl_gen g, const char *key)
{
  oci_gen_str (g, key);
}

void
oci_gen_kv_str (yajl_gen g, const char *key, const char *value)
{
  if (value == NULL)
    return;
  oci_gen_key (g, key);
  oci_gen_str (g, value);
}

void
oci_gen_kv_bool (yajl_gen g, const char *key, bool value)
{
  oci_gen_key (g, key);
  yajl_gen_bool (g, value);
}

void
oci_gen_kv_int (yajl_gen g, const char *key, int64_t value)
{
  oci_gen_key (g, key);
  yajl_gen_integer (g, value);
}

void
oci_gen_kv_uint (yajl_gen g, const char *key, uint64_t value)
{
  char num[24];
  int n = snprintf (num, sizeof (num), "%" PRIu64, value);
  oci_gen_key (g, key);
  yajl_gen_number (g, num, (size_t) n);
}

void
oci_gen_kv_bool_opt (yajl_gen g, const char *key, bool value, bool present)
{
  if (present)
    oci_gen_kv_bool (g, key, value);
}

void
oci_gen_kv_int_opt (yajl_gen g, const char *key, int64_t value, bool present)
{
  if (present)
    oci_gen_kv_int (g, key, value);
}

void
oci_gen_kv_uint_opt (yajl_gen g, const char *key, uint64_t value,
                     bool present)
{
  if (present)
    oci_gen_kv_uint (g, key, value);
}

void
oci_gen_kv_strv (yajl_gen g, const char *key, char *const *v)
{
  if (v == NULL)
    return;
  oci_gen_key (g, key);
  yajl_gen_array_open (g);
  for (size_t i = 0; v[i]; i++)
    oci_gen_str (g, v[i]);
  yajl_gen_array_close (g);
}

void
oci_gen_kv_strmap (yajl_gen g, const char *key, const oci_strmap *m)
{
  oci_gen_key (g, key);
  yajl_gen_map_open (g);
  for (size_t i = 0; i < m->len; i++)
    {
      oci_gen_key (g, m->keys[i]);
      oci_gen_str (g, m->values[i]);
    }
  yajl_gen_map_close (g);
}
