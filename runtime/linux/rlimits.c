#include "runtime/linux/rlimits.h"

#include <inttypes.h>
#include <stdio.h>
#include <sys/resource.h>

static void
format_limit (uint64_t v, char *buf, size_t size)
{
  if (v == (uint64_t) RLIM_INFINITY)
    snprintf (buf, size, "unlimited");
  else
    snprintf (buf, size, "%" PRIu64, v);
}

static int
apply_one (const struct oci_rlimit *r, hy_error_t *err)
{
  struct rlimit lim
      = { .rlim_cur = (rlim_t) r->soft, .rlim_max = (rlim_t) r->hard };
  if (setrlimit ((__rlimit_resource_t) r->resource, &lim) == 0)
    return 0;
  char soft[24], hard[24];
  format_limit (r->soft, soft, sizeof (soft));
  format_limit (r->hard, hard, sizeof (hard));
  return hy_error_errno (err, "setrlimit %s (soft %s, hard %s)",
                         r->type ? r->type : "?", soft, hard);
}

int
hy_rlimits_apply (const struct oci_rlimit *rlimits, size_t n, hy_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    if (apply_one (&rlimits[i], err) < 0)
      return -1;
  return 0;
}
