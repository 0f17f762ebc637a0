#include "runtime/linux/process-attrs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime/linux/warn.h"

/* ---- oomScoreAdj ---- */

int
hy_oom_score_adj_apply (const struct oci_process *p, hy_error_t *err)
{
  if (!p->has_oom_score_adj)
    return 0;
  _cleanup_close_ int fd
      = open ("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "open `/proc/self/oom_score_adj`");
  char buf[16];
  int len = snprintf (buf, sizeof (buf), "%d", p->oom_score_adj);
  if (write (fd, buf, (size_t) len) == len)
    return 0;
  if (errno == EACCES)
    return hy_error_errno (err,
                           "set oom_score_adj to %d (lowering it needs "
                           "CAP_SYS_RESOURCE)",
                           p->oom_score_adj);
  return hy_error_errno (err, "set oom_score_adj to %d", p->oom_score_adj);
}

/* ---- noNewPrivileges ---- */

int
hy_no_new_privs_apply (const struct oci_process *p, hy_error_t *err)
{
  if (!p->no_new_privileges)
    return 0;
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return hy_error_errno (err, "prctl PR_SET_NO_NEW_PRIVS");
  return 0;
}

/* ---- personality ---- */

static const struct
{
  const char *name;
  unsigned long value;
} personality_flags[] = {
  { "UNAME26", UNAME26 },
  { "ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE },
  { "FDPIC_FUNCPTRS", FDPIC_FUNCPTRS },
  { "MMAP_PAGE_ZERO", MMAP_PAGE_ZERO },
  { "ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT },
  { "READ_IMPLIES_EXEC", READ_IMPLIES_EXEC },
  { "ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT },
  { "SHORT_INODE", SHORT_INODE },
  { "WHOLE_SECONDS", WHOLE_SECONDS },
  { "STICKY_TIMEOUTS", STICKY_TIMEOUTS },
  { "ADDR_LIMIT_3GB", ADDR_LIMIT_3GB },
};

static unsigned long
personality_flag (const char *name)
{
  for (size_t i = 0;
       i < sizeof (personality_flags) / sizeof (personality_flags[0]); i++)
    if (strcmp (personality_flags[i].name, name) == 0)
      return personality_flags[i].value;
  return 0;
}

int
hy_personality_apply (const struct oci_personality *p, hy_error_t *err)
{
  if (p == NULL)
    return 0;
  unsigned long persona;
  if (p->domain && strcmp (p->domain, "LINUX") == 0)
    persona = PER_LINUX;
  else if (p->domain && strcmp (p->domain, "LINUX32") == 0)
    persona = PER_LINUX32;
  else
    return hy_error (err, EINVAL, "unknown personality domain \"%s\"",
                     p->domain ? p->domain : "");
  for (size_t i = 0; p->flags && p->flags[i]; i++)
    {
      unsigned long flag = personality_flag (p->flags[i]);
      if (flag == 0)
        hy_linux_warn ("ignoring unknown personality flag \"%s\"",
                       p->flags[i]);
      persona |= flag;
    }
  if (personality (persona) < 0)
    return hy_error_errno (err, "personality %s (%#lx)", p->domain, persona);
  return 0;
}
