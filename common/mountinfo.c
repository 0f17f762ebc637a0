#include "common/mountinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"

#define MOUNTINFO_MAX (64 << 20)

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *
unescape (const char *s)
{
  char *out = xmalloc0 (strlen (s) + 1);
  char *o = out;
  while (*s)
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0'
          && s[2] <= '7' && s[3] >= '0' && s[3] <= '7')
        {
          *o++ = (char) (((s[1] - '0') << 6) | ((s[2] - '0') << 3)
                         | (s[3] - '0'));
          s += 4;
        }
      else
        *o++ = *s++;
    }
  return out;
}

static void
entry_free (struct hy_mountinfo_entry *e)
{
  free (e->root);
  free (e->mount_point);
  free (e->options);
  free (e->optional);
  free (e->fstype);
  free (e->source);
  free (e->super_options);
}

/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root
 * rw,errors=continue" */
static int
parse_line (char *line, struct hy_mountinfo_entry *e)
{
  char *save = NULL;
  char *f[6];
  for (int i = 0; i < 6; i++)
    if ((f[i] = strtok_r (i ? NULL : line, " ", &save)) == NULL)
      return -1;
  if (sscanf (f[0], "%d", &e->id) != 1
      || sscanf (f[1], "%d", &e->parent_id) != 1
      || sscanf (f[2], "%u:%u", &e->major, &e->minor) != 2)
    return -1;

  char *optional = xstrdup ("");
  char *tok;
  while ((tok = strtok_r (NULL, " ", &save)) && strcmp (tok, "-") != 0)
    {
      char *joined = xasprintf ("%s%s%s", optional, *optional ? " " : "", tok);
      free (optional);
      optional = joined;
    }
  char *fstype = tok ? strtok_r (NULL, " ", &save) : NULL;
  char *source = fstype ? strtok_r (NULL, " ", &save) : NULL;
  char *super = source ? strtok_r (NULL, " ", &save) : NULL;
  if (super == NULL)
    {
      free (optional);
      return -1;
    }
  e->root = unescape (f[3]);
  e->mount_point = unescape (f[4]);
  e->options = xstrdup (f[5]);
  e->optional = optional;
  e->fstype = xstrdup (fstype);
  e->source = unescape (source);
  e->super_options = xstrdup (super);
  return 0;
}

int
hy_mountinfo_parse (const char *text, struct hy_mountinfo *out,
                    hy_error_t *err)
{
  *out = (struct hy_mountinfo){ 0 };
  _cleanup_free_ char *copy = xstrdup (text);
  char *save = NULL;
  size_t line_no = 0;
  for (char *line = strtok_r (copy, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      line_no++;
      struct hy_mountinfo_entry e = { 0 };
      if (parse_line (line, &e) < 0)
        {
          hy_mountinfo_free (out);
          return hy_error (err, EINVAL, "line %zu: cannot parse", line_no);
        }
      out->entries = xrealloc (out->entries, (out->n + 1) * sizeof (e));
      out->entries[out->n++] = e;
    }
  return 0;
}

int
hy_mountinfo_read (const char *path, struct hy_mountinfo *out, hy_error_t *err)
{
  if (path == NULL)
    path = "/proc/self/mountinfo";
  *out = (struct hy_mountinfo){ 0 };
  _cleanup_free_ char *text = NULL;
  if (read_file_at (AT_FDCWD, path, MOUNTINFO_MAX, &text, NULL, err) < 0)
    return -1;
  if (hy_mountinfo_parse (text, out, err) < 0)
    return hy_error_prepend (err, "`%s`", path);
  return 0;
}

void
hy_mountinfo_free (struct hy_mountinfo *mi)
{
  for (size_t i = 0; i < mi->n; i++)
    entry_free (&mi->entries[i]);
  free (mi->entries);
  *mi = (struct hy_mountinfo){ 0 };
}

const struct hy_mountinfo_entry *
hy_mountinfo_find (const struct hy_mountinfo *mi, const char *mount_point)
{
  for (size_t i = mi->n; i > 0; i--)
    if (strcmp (mi->entries[i - 1].mount_point, mount_point) == 0)
      return &mi->entries[i - 1];
  return NULL;
}

bool
hy_options_have (const char *options, const char *opt)
{
  size_t len = strlen (opt);
  for (const char *p = options; p && *p;)
    {
      size_t n = strcspn (p, ",");
      if (n == len && strncmp (p, opt, len) == 0)
        return true;
      p += n;
      if (*p == ',')
        p++;
    }
  return false;
}
