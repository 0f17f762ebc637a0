/* Scope-bound release of resources, crun style:
 *   _cleanup_free_ char *s = xstrdup ("x");
 *   _cleanup_close_ int fd = open (...);
 * Transfer ownership out of the scope with steal_pointer() / steal_fd(). */
#ifndef HYRUN_COMMON_CLEANUP_H
#define HYRUN_COMMON_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void
cleanup_freep (void *p)
{
  void **pp = (void **) p;
  free (*pp);
}

static inline void
cleanup_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}

static inline void
cleanup_fclosep (FILE **f)
{
  if (*f)
    fclose (*f);
}

static inline void
cleanup_closedirp (DIR **d)
{
  if (*d)
    closedir (*d);
}

/* A NULL-terminated array of strings whose elements are owned too. */
static inline void
cleanup_strvp (char ***v)
{
  if (*v == NULL)
    return;
  for (char **s = *v; *s; s++)
    free (*s);
  free (*v);
}

#define _cleanup_free_ __attribute__ ((cleanup (cleanup_freep)))
#define _cleanup_close_ __attribute__ ((cleanup (cleanup_closep)))
#define _cleanup_fclose_ __attribute__ ((cleanup (cleanup_fclosep)))
#define _cleanup_closedir_ __attribute__ ((cleanup (cleanup_closedirp)))
#define _cleanup_strv_ __attribute__ ((cleanup (cleanup_strvp)))

static inline void *
steal_ptr (void *pp)
{
  void **p = (void **) pp;
  void *v = *p;
  *p = NULL;
  return v;
}
#define steal_pointer(pp) ((__typeof__ (*(pp))) steal_ptr (pp))

static inline int
steal_fd (int *fd)
{
  int v = *fd;
  *fd = -1;
  return v;
}

#endif
