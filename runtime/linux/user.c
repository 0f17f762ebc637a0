#include "runtime/linux/user.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/linux/warn.h"

#define DEFAULT_UMASK 0022

static bool
setgroups_denied (void)
{
  _cleanup_fclose_ FILE *f = fopen ("/proc/self/setgroups", "re");
  char buf[16] = "";
  if (f == NULL || fgets (buf, sizeof (buf), f) == NULL)
    return false;
  return strncmp (buf, "deny", 4) == 0;
}

/* "10, 20" for messages. */
static char *
format_gids (const uint32_t *gids, size_t n)
{
  char *s = xstrdup ("");
  for (size_t i = 0; i < n; i++)
    {
      char *next = xasprintf ("%s%s%u", s, i ? ", " : "", gids[i]);
      free (s);
      s = next;
    }
  return s;
}

static int
set_groups (const struct oci_user *u, hy_error_t *err)
{
  size_t n = u->additional_gids ? u->n_additional_gids : 0;
  if (setgroups (n, (const gid_t *) u->additional_gids) == 0)
    return 0;
  int saved = errno;
  _cleanup_free_ char *list = format_gids (u->additional_gids, n);
  if (saved == EPERM && setgroups_denied ())
    {
      if (n > 0)
        hy_linux_warn ("setgroups is denied in this user namespace: "
                       "additionalGids %s not set",
                       list);
      return 0;
    }
  return hy_error (err, saved, "setgroups [%s]", list);
}

int
hy_user_apply (const struct oci_user *u, hy_error_t *err)
{
  if (set_groups (u, err) < 0)
    return -1;
  if (setresgid (u->gid, u->gid, u->gid) < 0)
    return hy_error_errno (err, "setresgid %u", u->gid);
  if (setresuid (u->uid, u->uid, u->uid) < 0)
    return hy_error_errno (err, "setresuid %u", u->uid);
  umask (u->has_umask ? (mode_t) u->umask : DEFAULT_UMASK);
  return 0;
}
