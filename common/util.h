/* Small helpers every component uses: allocation that cannot fail (hyrun
 * aborts on OOM, as crun does), string vectors and whole-file I/O. */
#ifndef HYRUN_COMMON_UTIL_H
#define HYRUN_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

#include "error.h"

void *xmalloc0 (size_t size);
void *xrealloc (void *p, size_t size);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* NULL-terminated string vectors. */
size_t strv_len (char *const *v);
char **strv_dup (char *const *v);
void strv_free (char **v);
bool strv_contains (char *const *v, const char *s);

static inline bool
str_eq (const char *a, const char *b)
{
  return a && b && strcmp (a, b) == 0;
}

bool str_has_prefix (const char *s, const char *prefix);

/* Read a whole file (at most max_size bytes) into a NUL-terminated buffer. */
int read_file_at (int dirfd, const char *path, size_t max_size, char **out,
                  size_t *len, hy_error_t *err);

/* Write buf to path atomically: a temporary file in the same directory,
 * fsync-free (state is volatile under /run), then rename. */
int write_file_atomic (const char *path, const char *buf, size_t len,
                       mode_t mode, hy_error_t *err);

/* mkdir -p: create `path` and its missing parents with `mode`. */
int mkdir_parents (const char *path, mode_t mode, hy_error_t *err);

/* Remove `name` under dirfd and, for a directory, everything below it,
 * never following a symlink nor entering a mount point (a mount is left
 * in place, and so its parents).  Best effort: returns <0 if anything
 * stayed.  Depth is bounded. */
int rm_tree_at (int parent, const char *name);

/* Parse a decimal integer in [min, max]; the whole string must be used. */
int parse_int64 (const char *s, long long min, long long max, long long *out);
int parse_uint64 (const char *s, unsigned long long *out);

#endif
