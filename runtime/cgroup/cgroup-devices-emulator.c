/* What the v1 devices controller makes of a sequence of devices.allow /
 * devices.deny writes, computed in memory so that the v2 eBPF filter
 * grants exactly what v1 would (runc has the same emulator).  The kernel
 * (security/device_cgroup.c) keeps a default and a list of exceptions
 * keyed by (type, major, minor):
 *   "a" sets the default and clears the list;
 *   a rule that agrees with the default takes its access bits out of the
 *   exception with the same key (dropping it when none are left);
 *   a rule that disagrees adds its bits to that exception, or makes one.
 * A request passes a default-deny list when one exception has its type,
 * matching numbers and all the requested bits; it is refused by a
 * default-allow list when one exception shares any requested bit. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

static uint32_t
access_bits (const char *access)
{
  if (access == NULL || *access == '\0')
    access = "rwm";
  uint32_t bits = 0;
  for (const char *c = access; *c; c++)
    bits |= *c == 'r'   ? BPF_DEVCG_ACC_READ
            : *c == 'w' ? BPF_DEVCG_ACC_WRITE
            : *c == 'm' ? BPF_DEVCG_ACC_MKNOD
                        : 0;
  return bits;
}

static int64_t
number (int64_t v, bool has)
{
  return has && v >= 0 ? v : -1;
}

static struct hy_cg_dev_exception *
find (struct hy_cg_dev_state *s, const struct hy_cg_dev_exception *key)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->ex[i].type == key->type && s->ex[i].major == key->major
        && s->ex[i].minor == key->minor)
      return &s->ex[i];
  return NULL;
}

static void
add (struct hy_cg_dev_state *s, const struct hy_cg_dev_exception *e)
{
  struct hy_cg_dev_exception *have = find (s, e);
  if (have)
    {
      have->access |= e->access;
      return;
    }
  s->ex = xrealloc (s->ex, (s->n + 1) * sizeof (*s->ex));
  s->ex[s->n++] = *e;
}

static void
remove_bits (struct hy_cg_dev_state *s, const struct hy_cg_dev_exception *e)
{
  struct hy_cg_dev_exception *have = find (s, e);
  if (have == NULL)
    return;
  have->access &= ~e->access;
  if (have->access == 0)
    *have = s->ex[--s->n];
}

static void
apply_rule (struct hy_cg_dev_state *s, const struct oci_device_rule *r)
{
  if (r->type == 0 || r->type == 'a')
    {
      s->default_allow = r->allow;
      s->n = 0;
      return;
    }
  struct hy_cg_dev_exception e = {
    .type = r->type,
    .major = number (r->major, r->has_major),
    .minor = number (r->minor, r->has_minor),
    .access = access_bits (r->access),
  };
  if (r->allow == s->default_allow)
    remove_bits (s, &e);
  else
    add (s, &e);
}

void
hy_cg_devices_emulate (const struct oci_device_rule *rules, size_t n,
                       struct hy_cg_dev_state *out)
{
  *out = (struct hy_cg_dev_state){ .default_allow = false };
  for (size_t i = 0; i < n; i++)
    apply_rule (out, &rules[i]);
}

void
hy_cg_dev_state_release (struct hy_cg_dev_state *s)
{
  free (s->ex);
  s->ex = NULL;
  s->n = 0;
}

/* ---- the rules a container gets ---- */

/* What every container may use whatever its rules say, as runc allows:
 * mknod of anything, the default devices, ptys. */
#define ANY_MAJOR(t) { .allow = true, .type = t, .access = "m" }
#define DEVICE(t, maj, min)                                                   \
  { .allow = true, .type = t, .major = maj, .has_major = true,                \
    .minor = min, .has_minor = min >= 0, .access = "rwm" }
static const struct oci_device_rule default_device_rules[] = {
  ANY_MAJOR ('c'),     ANY_MAJOR ('b'),     DEVICE ('c', 1, 3),
  DEVICE ('c', 1, 8),  DEVICE ('c', 1, 7),  DEVICE ('c', 5, 0),
  DEVICE ('c', 1, 5),  DEVICE ('c', 1, 9),  DEVICE ('c', 136, -1),
  DEVICE ('c', 5, 2),
};
#define N_DEFAULT_RULES                                                       \
  (sizeof (default_device_rules) / sizeof (default_device_rules[0]))

struct oci_device_rule *
hy_cgroup_device_rules (const struct oci_resources *r, size_t *n)
{
  size_t n_config = r ? r->n_devices : 0;
  struct oci_device_rule *rules
      = xmalloc0 ((n_config + N_DEFAULT_RULES) * sizeof (*rules));
  if (n_config)
    memcpy (rules, r->devices, n_config * sizeof (*rules));
  memcpy (rules + n_config, default_device_rules,
          sizeof (default_device_rules));
  *n = n_config + N_DEFAULT_RULES;
  return rules;
}

int
hy_cgroup_v2_apply_device_rules (const char *dir,
                                 const struct oci_resources *r,
                                 hy_error_t *err)
{
  size_t n;
  struct oci_device_rule *rules = hy_cgroup_device_rules (r, &n);
  int ret = hy_cg_devices_bpf_apply (dir, rules, n, err);
  free (rules);
  return ret;
}
