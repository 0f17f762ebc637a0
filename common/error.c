#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *__attribute__ ((format (printf, 1, 0)))
vformat (const char *fmt, va_list ap)
{
  char *s = NULL;
  if (vasprintf (&s, fmt, ap) < 0)
    return NULL;
  return s;
}

static int
store (hy_error_t *err, int errnum, char *msg)
{
  if (err == NULL || *err != NULL)
    {
      /* Nobody to take it, or an earlier error stays the one reported. */
      free (msg);
      return -1;
    }
  struct hy_error *e = calloc (1, sizeof (*e));
  if (e == NULL)
    {
      free (msg);
      abort ();
    }
  e->errnum = errnum;
  e->msg = msg ? msg : strdup ("out of memory formatting an error");
  *err = e;
  return -1;
}

int
hy_error (hy_error_t *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *msg = vformat (fmt, ap);
  va_end (ap);
  return store (err, errnum, msg);
}

int
hy_error_errno (hy_error_t *err, const char *fmt, ...)
{
  int errnum = errno;
  va_list ap;
  va_start (ap, fmt);
  char *msg = vformat (fmt, ap);
  va_end (ap);
  return store (err, errnum, msg);
}

int
hy_error_prepend (hy_error_t *err, const char *fmt, ...)
{
  if (err == NULL || *err == NULL)
    return -1;
  va_list ap;
  va_start (ap, fmt);
  char *context = vformat (fmt, ap);
  va_end (ap);
  char *joined = NULL;
  if (context && asprintf (&joined, "%s: %s", context, (*err)->msg) >= 0)
    {
      free ((*err)->msg);
      (*err)->msg = joined;
    }
  free (context);
  return -1;
}

char *
hy_error_text (const hy_error_t err)
{
  char *s = NULL;
  int r;
  if (err == NULL)
    return strdup ("unknown error");
  if (err->errnum)
    r = asprintf (&s, "%s: %s", err->msg, strerror (err->errnum));
  else
    r = asprintf (&s, "%s", err->msg);
  return r < 0 ? NULL : s;
}

void
hy_error_release (hy_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
}
