#include "oci/state.h"

#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"

static const char *const status_names[] = {
  [OCI_STATUS_CREATING] = "creating", [OCI_STATUS_CREATED] = "created",
  [OCI_STATUS_RUNNING] = "running",   [OCI_STATUS_PAUSED] = "paused",
  [OCI_STATUS_STOPPED] = "stopped",
};

const char *
oci_status_name (enum oci_status s)
{
  return (unsigned) s < sizeof (status_names) / sizeof (status_names[0])
             ? status_names[s]
             : "unknown";
}

static int
status_from_name (const char *s, enum oci_status *out)
{
  for (size_t i = 0; i < sizeof (status_names) / sizeof (status_names[0]);
       i++)
    if (strcmp (s, status_names[i]) == 0)
      {
        *out = (enum oci_status) i;
        return 0;
      }
  return -1;
}

static int
parse_state (yajl_val doc, struct oci_state *s, hy_error_t *err)
{
  _cleanup_free_ char *status = NULL;
  int64_t pid = 0;
  if (oci_json_expect_object (doc, JPATH_ROOT, err) < 0
      || oci_json_string (doc, JPATH_ROOT, "ociVersion", true,
                          &s->oci_version, err) < 0
      || oci_json_string (doc, JPATH_ROOT, "id", true, &s->id, err) < 0
      || oci_json_string (doc, JPATH_ROOT, "status", true, &status, err) < 0
      || oci_json_int64 (doc, JPATH_ROOT, "pid", false, 0, INT32_MAX, &pid,
                         NULL, err) < 0
      || oci_json_string (doc, JPATH_ROOT, "bundle", true, &s->bundle, err)
             < 0
      || oci_json_strmap (doc, JPATH_ROOT, "annotations", &s->annotations,
                          err) < 0)
    return -1;
  if (status_from_name (status, &s->status) < 0)
    return oci_json_key_error (err, JPATH_ROOT, "status",
                               "unknown status \"%s\"", status);
  s->pid = (pid_t) pid;
  return 0;
}

int
oci_state_parse (const char *text, struct oci_state **out, hy_error_t *err)
{
  yajl_val doc = NULL;
  if (oci_json_parse (text, &doc, err) < 0)
    return hy_error_prepend (err, "state");
  struct oci_state *s = xmalloc0 (sizeof (*s));
  int r = parse_state (doc, s, err);
  yajl_tree_free (doc);
  if (r < 0)
    {
      oci_state_free (s);
      return hy_error_prepend (err, "state");
    }
  *out = s;
  return 0;
}

char *
oci_state_to_json (const struct oci_state *s, bool pretty)
{
  yajl_gen g = oci_gen_new (pretty);
  yajl_gen_map_open (g);
  oci_gen_kv_str (g, "ociVersion", s->oci_version);
  oci_gen_kv_str (g, "id", s->id);
  oci_gen_kv_str (g, "status", oci_status_name (s->status));
  if (s->pid > 0)
    oci_gen_kv_int (g, "pid", s->pid);
  oci_gen_kv_str (g, "bundle", s->bundle);
  if (s->annotations.len > 0)
    oci_gen_kv_strmap (g, "annotations", &s->annotations);
  yajl_gen_map_close (g);
  return oci_gen_finish (g, NULL);
}

void
oci_state_free (struct oci_state *s)
{
  if (s == NULL)
    return;
  free (s->oci_version);
  free (s->id);
  free (s->bundle);
  oci_strmap_free (&s->annotations);
  free (s);
}
