#include "runtime/linux/capabilities.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/linux/warn.h"

#define CAP_BITS 64

static inline uint64_t
cap_bit (int cap)
{
  return (uint64_t) 1 << cap;
}

static void
cap_freep (cap_t *c)
{
  if (*c)
    cap_free (*c);
}
#define _cleanup_cap_ __attribute__ ((cleanup (cap_freep)))

/* "CAP_CHOWN" for 0; libcap's names are lowercase. */
static void
cap_name (int cap, char *buf, size_t size)
{
  char *name = cap_to_name (cap);
  if (name == NULL || isdigit ((unsigned char) name[0]))
    snprintf (buf, size, "capability %d", cap);
  else
    {
      size_t i = 0;
      for (; name[i] && i + 1 < size; i++)
        buf[i] = (char) toupper ((unsigned char) name[i]);
      buf[i] = '\0';
    }
  cap_free (name);
}

/* ---- names ---- */

static bool
is_well_formed (const char *s)
{
  if (!str_has_prefix (s, "CAP_") || s[4] == '\0')
    return false;
  for (s += 4; *s; s++)
    if (!(isupper ((unsigned char) *s) || isdigit ((unsigned char) *s)
          || *s == '_'))
      return false;
  return true;
}

int
hy_cap_from_name (const char *name, int *out, hy_error_t *err)
{
  if (!is_well_formed (name))
    return hy_error (err, EINVAL, "malformed capability name \"%s\"", name);
  _cleanup_free_ char *lower = xstrdup (name);
  for (char *p = lower; *p; p++)
    *p = (char) tolower ((unsigned char) *p);
  cap_value_t v;
  *out = cap_from_name (lower, &v) == 0 && v >= 0 ? v : -1;
  return 0;
}

int
hy_cap_last_cap (void)
{
  _cleanup_fclose_ FILE *f = fopen ("/proc/sys/kernel/cap_last_cap", "re");
  int last = -1;
  if (f == NULL || fscanf (f, "%d", &last) != 1 || last < 0)
    last = (int) cap_max_bits () - 1;
  return last;
}

/* ---- resolving ---- */

static void
note_once (char ***list, const char *name)
{
  if (strv_contains (*list, name))
    return;
  size_t n = strv_len (*list);
  *list = xrealloc (*list, (n + 2) * sizeof (char *));
  (*list)[n] = xstrdup (name);
  (*list)[n + 1] = NULL;
}

/* Names libcap does not know go to *unknown, those the running kernel
 * does not know to *unsupported. */
static int
resolve_set (char *const *names, int last_cap, uint64_t *mask, char ***unknown,
             char ***unsupported, hy_error_t *err)
{
  *mask = 0;
  for (size_t i = 0; names && names[i]; i++)
    {
      int cap;
      if (hy_cap_from_name (names[i], &cap, err) < 0)
        return -1;
      if (cap < 0)
        note_once (unknown, names[i]);
      else if (cap > last_cap || cap >= CAP_BITS)
        note_once (unsupported, names[i]);
      else
        *mask |= cap_bit (cap);
    }
  return 0;
}

static void
warn_ignored (char **names, const char *why)
{
  if (names == NULL)
    return;
  size_t len = 0;
  for (size_t i = 0; names[i]; i++)
    len += strlen (names[i]) + 2;
  _cleanup_free_ char *joined = xmalloc0 (len + 1);
  for (size_t i = 0; names[i]; i++)
    {
      if (i > 0)
        strcat (joined, ", ");
      strcat (joined, names[i]);
    }
  hy_linux_warn ("ignoring %s capabilities: %s", why, joined);
}

int
hy_caps_resolve_for (const struct oci_capabilities *c, int last_cap,
                     struct hy_caps *out, hy_error_t *err)
{
  struct
  {
    char *const *names;
    uint64_t *mask;
    const char *key;
  } sets[] = {
    { c->bounding, &out->bounding, "bounding" },
    { c->effective, &out->effective, "effective" },
    { c->inheritable, &out->inheritable, "inheritable" },
    { c->permitted, &out->permitted, "permitted" },
    { c->ambient, &out->ambient, "ambient" },
  };
  _cleanup_strv_ char **unknown = NULL;
  _cleanup_strv_ char **unsupported = NULL;
  for (size_t i = 0; i < sizeof (sets) / sizeof (sets[0]); i++)
    if (resolve_set (sets[i].names, last_cap, sets[i].mask, &unknown,
                     &unsupported, err)
        < 0)
      return hy_error_prepend (err, "capabilities: %s", sets[i].key);
  warn_ignored (unknown, "unknown");
  warn_ignored (unsupported, "kernel-unsupported");
  return 0;
}

int
hy_caps_resolve (const struct oci_capabilities *c, struct hy_caps *out,
                 hy_error_t *err)
{
  return hy_caps_resolve_for (c, hy_cap_last_cap (), out, err);
}

/* ---- applying ---- */

int
hy_caps_prepare_keep (hy_error_t *err)
{
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return hy_error_errno (err, "prctl PR_SET_KEEPCAPS");
  return 0;
}

/* After setresuid() with keepcaps the effective set is empty; dropping
 * from the bounding set needs CAP_SETPCAP effective again. */
static int
raise_effective (hy_error_t *err)
{
  _cleanup_cap_ cap_t cur = cap_get_proc ();
  if (cur == NULL)
    return hy_error_errno (err, "read the process capabilities");
  if (cap_fill (cur, CAP_EFFECTIVE, CAP_PERMITTED) < 0
      || cap_set_proc (cur) < 0)
    return hy_error_errno (err, "raise the effective capabilities");
  return 0;
}

static int
drop_bounding (uint64_t keep, int last_cap, hy_error_t *err)
{
  for (int cap = 0; cap <= last_cap && cap < CAP_BITS; cap++)
    {
      if (keep & cap_bit (cap))
        continue;
      int present = prctl (PR_CAPBSET_READ, cap, 0, 0, 0);
      if (present <= 0)
        continue; /* already dropped, or unknown to the kernel */
      if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
        {
          char name[64];
          cap_name (cap, name, sizeof (name));
          return hy_error_errno (err, "drop %s from the bounding set%s", name,
                                 errno == EPERM ? " (needs CAP_SETPCAP)" : "");
        }
    }
  return 0;
}

static uint64_t
current_mask (cap_t cur, cap_flag_t flag, int last_cap)
{
  uint64_t mask = 0;
  for (int cap = 0; cap <= last_cap && cap < CAP_BITS; cap++)
    {
      cap_flag_value_t v = CAP_CLEAR;
      if (cap_get_flag (cur, cap, flag, &v) == 0 && v == CAP_SET)
        mask |= cap_bit (cap);
    }
  return mask;
}

static uint64_t
bounding_mask (int last_cap)
{
  uint64_t mask = 0;
  for (int cap = 0; cap <= last_cap && cap < CAP_BITS; cap++)
    if (prctl (PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
      mask |= cap_bit (cap);
  return mask;
}

static int
first_cap (uint64_t mask)
{
  return __builtin_ctzll (mask);
}

/* capset(2) answers EPERM for all of these; name the capability. */
static int
check_reachable (const struct hy_caps *c, uint64_t cur_permitted,
                 uint64_t cur_inheritable, uint64_t bounding, hy_error_t *err)
{
  char name[64];
  uint64_t bad;
  if ((bad = c->permitted & ~cur_permitted))
    {
      cap_name (first_cap (bad), name, sizeof (name));
      return hy_error (err, EPERM,
                       "cannot add %s to the permitted set: the runtime "
                       "does not hold it",
                       name);
    }
  if ((bad = c->effective & ~c->permitted))
    {
      cap_name (first_cap (bad), name, sizeof (name));
      return hy_error (err, EPERM,
                       "%s is in the effective set but not in the "
                       "permitted set",
                       name);
    }
  if ((bad = c->inheritable & ~(bounding | cur_inheritable)))
    {
      cap_name (first_cap (bad), name, sizeof (name));
      return hy_error (err, EPERM,
                       "%s is in the inheritable set but not in the "
                       "bounding set",
                       name);
    }
  return 0;
}

static void
set_flags (cap_t caps, cap_flag_t flag, uint64_t mask, int last_cap)
{
  for (int cap = 0; cap <= last_cap && cap < CAP_BITS; cap++)
    if (mask & cap_bit (cap))
      {
        cap_value_t v = cap;
        cap_set_flag (caps, flag, 1, &v, CAP_SET);
      }
}

static int
set_process_caps (const struct hy_caps *c, int last_cap, hy_error_t *err)
{
  _cleanup_cap_ cap_t cur = cap_get_proc ();
  if (cur == NULL)
    return hy_error_errno (err, "read the process capabilities");
  if (check_reachable (c, current_mask (cur, CAP_PERMITTED, last_cap),
                       current_mask (cur, CAP_INHERITABLE, last_cap),
                       bounding_mask (last_cap), err)
      < 0)
    return -1;
  _cleanup_cap_ cap_t want = cap_init ();
  if (want == NULL)
    return hy_error_errno (err, "cap_init");
  set_flags (want, CAP_EFFECTIVE, c->effective, last_cap);
  set_flags (want, CAP_PERMITTED, c->permitted, last_cap);
  set_flags (want, CAP_INHERITABLE, c->inheritable, last_cap);
  if (cap_set_proc (want) < 0)
    return hy_error_errno (err,
                           "set capabilities (effective %#llx, permitted "
                           "%#llx, inheritable %#llx)",
                           (unsigned long long) c->effective,
                           (unsigned long long) c->permitted,
                           (unsigned long long) c->inheritable);
  return 0;
}

/* The kernel raises an ambient capability only if it is permitted and
 * inheritable; like runc and crun, skip the others quietly (runc's own
 * `spec` lists ambient capabilities without inheritable ones). */
static int
set_ambient (const struct hy_caps *c, int last_cap, hy_error_t *err)
{
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    return hy_error_errno (err, "clear the ambient capabilities");
  uint64_t raise = c->ambient & c->permitted & c->inheritable;
  for (int cap = 0; cap <= last_cap && cap < CAP_BITS; cap++)
    if ((raise & cap_bit (cap))
        && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      {
        char name[64];
        cap_name (cap, name, sizeof (name));
        return hy_error_errno (err, "raise ambient capability %s", name);
      }
  return 0;
}

int
hy_caps_apply (const struct hy_caps *caps, hy_error_t *err)
{
  int last_cap = hy_cap_last_cap ();
  if (raise_effective (err) < 0
      || drop_bounding (caps->bounding, last_cap, err) < 0
      || set_process_caps (caps, last_cap, err) < 0
      || set_ambient (caps, last_cap, err) < 0)
    return hy_error_prepend (err, "capabilities");
  if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return hy_error_errno (err, "prctl PR_SET_KEEPCAPS 0");
  return 0;
}
