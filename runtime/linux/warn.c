#include "runtime/linux/warn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static hy_linux_warn_fn warn_fn;
static void *warn_data;

void
hy_linux_set_warn (hy_linux_warn_fn fn, void *data)
{
  warn_fn = fn;
  warn_data = data;
}

void
hy_linux_warn (const char *fmt, ...)
{
  char *msg = NULL;
  va_list ap;
  va_start (ap, fmt);
  int n = vasprintf (&msg, fmt, ap);
  va_end (ap);
  if (n < 0)
    return;
  if (warn_fn)
    warn_fn (msg, warn_data);
  else
    fprintf (stderr, "hyrun: %s\n", msg);
  free (msg);
}
