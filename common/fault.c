#include "common/fault.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
hy_fault (const char *point, hy_error_t *err)
{
  static const char *wanted;
  static int looked;
  if (!looked)
    {
      wanted = getenv ("HYRUN_FAULT");
      looked = 1;
    }
  if (wanted == NULL || strcmp (wanted, point) != 0)
    return 0;
  return hy_error (err, EIO, "injected fault at %s", point);
}
