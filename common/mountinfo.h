/* /proc/<pid>/mountinfo as data: what is mounted where, with which
 * per-mount and superblock options and propagation. */
#ifndef HYRUN_COMMON_MOUNTINFO_H
#define HYRUN_COMMON_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct hy_mountinfo_entry
{
  int id, parent_id;
  unsigned int major, minor;
  char *root;        /* the mounted directory of the filesystem */
  char *mount_point; /* octal escapes (\040) undone */
  char *options;     /* per mount: "rw,nosuid,relatime" */
  char *optional;    /* propagation: "shared:1 master:2", "" when private */
  char *fstype;
  char *source;
  char *super_options; /* of the superblock: "rw,size=65536k,mode=755" */
};

struct hy_mountinfo
{
  struct hy_mountinfo_entry *entries; /* in the file's order */
  size_t n;
};

/* Parse the text of a mountinfo file. */
int hy_mountinfo_parse (const char *text, struct hy_mountinfo *out,
                        hy_error_t *err);

/* Read and parse `path` (NULL: /proc/self/mountinfo). */
int hy_mountinfo_read (const char *path, struct hy_mountinfo *out,
                       hy_error_t *err);
void hy_mountinfo_free (struct hy_mountinfo *mi);

/* The topmost mount at `mount_point` (the last listed), or NULL. */
const struct hy_mountinfo_entry *
hy_mountinfo_find (const struct hy_mountinfo *mi, const char *mount_point);

/* Whether the comma-separated `options` hold `opt` exactly. */
bool hy_options_have (const char *options, const char *opt);

#endif
