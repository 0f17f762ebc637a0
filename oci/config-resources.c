/* linux.resources: the cgroup settings of config.json. */
#include <inttypes.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/config-internal.h"
#include "oci/config-linux-util.h"

/* Device numbers as glibc's makedev() takes them; -1 means any. */
#define DEV_NUMBER_MAX ((int64_t) UINT32_MAX)

static void
resources_freep (struct oci_resources **r)
{
  oci_resources_free (*r);
}

/* The optional object member `key` of obj; *out stays NULL when absent. */
static int
sub_object (yajl_val obj, const oci_jpath *at, const char *key, yajl_val *out,
            hy_error_t *err)
{
  *out = NULL;
  return oci_json_object (obj, at, key, false, out, err);
}

/* ---- devices ---- */

/* runc takes the r, w and m of an access and ignores other letters
 * (runc's own suite sends "rwa"); one that grants none of them is a
 * mistake. */
static int
check_access (const char *access, const oci_jpath *at, hy_error_t *err)
{
  if (access && *access && strpbrk (access, "rwm") == NULL)
    return oci_json_key_error (err, at, "access",
                               "invalid access \"%s\" (expected a "
                               "combination of r, w and m)",
                               access);
  return 0;
}

static int
parse_device_rule_type (yajl_val v, const oci_jpath *at,
                        struct oci_device_rule *d, hy_error_t *err)
{
  _cleanup_free_ char *type = NULL;
  if (oci_json_string (v, at, "type", false, &type, err) < 0)
    return -1;
  if (type == NULL)
    return 0;
  if (strlen (type) != 1 || strchr ("acb", type[0]) == NULL)
    return oci_json_key_error (err, at, "type",
                               "unknown device type \"%s\" (expected a, c "
                               "or b)",
                               type);
  d->type = type[0];
  return 0;
}

static int
parse_device_rule (yajl_val v, const oci_jpath *at, void *out, hy_error_t *err)
{
  struct oci_device_rule *d = out;
  if (oci_json_bool (v, at, "allow", true, &d->allow, NULL, err) < 0
      || parse_device_rule_type (v, at, d, err) < 0
      || oci_json_int64 (v, at, "major", false, -1, DEV_NUMBER_MAX, &d->major,
                         &d->has_major, err)
             < 0
      || oci_json_int64 (v, at, "minor", false, -1, DEV_NUMBER_MAX, &d->minor,
                         &d->has_minor, err)
             < 0
      || oci_json_string (v, at, "access", false, &d->access, err) < 0
      || check_access (d->access, at, err) < 0)
    return -1;
  return 0;
}

static int
parse_device_rules (yajl_val obj, const oci_jpath *at, struct oci_resources *r,
                    hy_error_t *err)
{
  if (OCI_PARSE_OBJECT_ARRAY (obj, at, "devices", r->devices, r->n_devices,
                              parse_device_rule, err)
      < 0)
    return -1;
  r->has_devices = r->devices != NULL;
  return 0;
}

/* ---- memory ---- */

/* A byte limit: -1 means unlimited. */
static int
parse_memory_limit (yajl_val v, const oci_jpath *at, const char *key,
                    int64_t *out, bool *present, hy_error_t *err)
{
  return oci_json_int64 (v, at, key, false, -1, INT64_MAX, out, present, err);
}

static int
parse_memory (yajl_val obj, const oci_jpath *at, struct oci_resources *r,
              hy_error_t *err)
{
  yajl_val v;
  if (sub_object (obj, at, "memory", &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "memory");
  struct oci_memory *m = r->memory = xmalloc0 (sizeof (*m));
  if (parse_memory_limit (v, &here, "limit", &m->limit, &m->has_limit, err) < 0
      || parse_memory_limit (v, &here, "reservation", &m->reservation,
                             &m->has_reservation, err)
             < 0
      || parse_memory_limit (v, &here, "swap", &m->swap, &m->has_swap, err) < 0
      || parse_memory_limit (v, &here, "kernel", &m->kernel, &m->has_kernel,
                             err)
             < 0
      || parse_memory_limit (v, &here, "kernelTCP", &m->kernel_tcp,
                             &m->has_kernel_tcp, err)
             < 0
      || oci_json_uint64 (v, &here, "swappiness", false, 100, &m->swappiness,
                          &m->has_swappiness, err)
             < 0
      || oci_json_bool (v, &here, "disableOOMKiller", false,
                        &m->disable_oom_killer, &m->has_disable_oom_killer,
                        err)
             < 0
      || oci_json_bool (v, &here, "useHierarchy", false, &m->use_hierarchy,
                        &m->has_use_hierarchy, err)
             < 0
      || oci_json_bool (v, &here, "checkBeforeUpdate", false,
                        &m->check_before_update, &m->has_check_before_update,
                        err)
             < 0)
    return -1;
  return 0;
}

/* ---- cpu ---- */

static bool
parse_cpu_number (const char **s, unsigned long *out)
{
  const char *p = *s;
  unsigned long n = 0;
  if (!isdigit ((unsigned char) *p))
    return false;
  for (; isdigit ((unsigned char) *p); p++)
    {
      n = n * 10 + (unsigned long) (*p - '0');
      if (n > (1ul << 24))
        return false;
    }
  *s = p;
  *out = n;
  return true;
}

/* "0-3,7": numbers and ascending ranges separated by commas; "" is the
 * empty list. */
static bool
cpu_list_valid (const char *s)
{
  if (*s == '\0')
    return true;
  for (;;)
    {
      unsigned long lo, hi;
      if (!parse_cpu_number (&s, &lo))
        return false;
      if (*s == '-')
        {
          s++;
          if (!parse_cpu_number (&s, &hi) || hi < lo)
            return false;
        }
      if (*s == '\0')
        return true;
      if (*s++ != ',')
        return false;
    }
}

static int
parse_cpu_list (yajl_val v, const oci_jpath *at, const char *key, char **out,
                hy_error_t *err)
{
  if (oci_json_string (v, at, key, false, out, err) < 0)
    return -1;
  if (*out && !cpu_list_valid (*out))
    return oci_json_key_error (err, at, key,
                               "invalid list \"%s\" (expected something "
                               "like \"0-3,7\")",
                               *out);
  return 0;
}

static int
parse_cpu (yajl_val obj, const oci_jpath *at, struct oci_resources *r,
           hy_error_t *err)
{
  yajl_val v;
  if (sub_object (obj, at, "cpu", &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "cpu");
  struct oci_cpu *c = r->cpu = xmalloc0 (sizeof (*c));
  if (oci_json_uint64 (v, &here, "shares", false, UINT64_MAX, &c->shares,
                       &c->has_shares, err)
          < 0
      || oci_json_int64 (v, &here, "quota", false, -1, INT64_MAX, &c->quota,
                         &c->has_quota, err)
             < 0
      || oci_json_uint64 (v, &here, "burst", false, UINT64_MAX, &c->burst,
                          &c->has_burst, err)
             < 0
      || oci_json_uint64 (v, &here, "period", false, UINT64_MAX, &c->period,
                          &c->has_period, err)
             < 0
      || oci_json_int64 (v, &here, "realtimeRuntime", false, -1, INT64_MAX,
                         &c->realtime_runtime, &c->has_realtime_runtime, err)
             < 0
      || oci_json_uint64 (v, &here, "realtimePeriod", false, UINT64_MAX,
                          &c->realtime_period, &c->has_realtime_period, err)
             < 0
      || parse_cpu_list (v, &here, "cpus", &c->cpus, err) < 0
      || parse_cpu_list (v, &here, "mems", &c->mems, err) < 0
      || oci_json_int64 (v, &here, "idle", false, 0, 1, &c->idle, &c->has_idle,
                         err)
             < 0)
    return -1;
  return 0;
}

/* ---- blockIO ---- */

/* blkio weights run from 10 to 1000. */
static int
parse_weight (yajl_val v, const oci_jpath *at, const char *key, uint16_t *out,
              bool *present, hy_error_t *err)
{
  int64_t w = 0;
  bool given = false;
  if (oci_json_int64 (v, at, key, false, INT64_MIN, INT64_MAX, &w, &given,
                      err) < 0)
    return -1;
  /* 0 means "not set", as runc and crun read it (Docker always sends
   * "weight": 0); anything else must be a real weight. */
  if (given && w != 0 && (w < 10 || w > 1000))
    return oci_json_key_error (err, at, key,
                               "%" PRId64 " is out of range [10, 1000]", w);
  *out = (uint16_t) w;
  *present = given && w != 0;
  return 0;
}

static int
parse_major_minor (yajl_val v, const oci_jpath *at, int64_t *major,
                   int64_t *minor, hy_error_t *err)
{
  if (oci_json_int64 (v, at, "major", true, 0, DEV_NUMBER_MAX, major, NULL,
                      err)
          < 0
      || oci_json_int64 (v, at, "minor", true, 0, DEV_NUMBER_MAX, minor, NULL,
                         err)
             < 0)
    return -1;
  return 0;
}

static int
parse_weight_device (yajl_val v, const oci_jpath *at, void *out,
                     hy_error_t *err)
{
  struct oci_weight_device *d = out;
  if (parse_major_minor (v, at, &d->major, &d->minor, err) < 0
      || parse_weight (v, at, "weight", &d->weight, &d->has_weight, err) < 0
      || parse_weight (v, at, "leafWeight", &d->leaf_weight,
                       &d->has_leaf_weight, err)
             < 0)
    return -1;
  if (!d->has_weight && !d->has_leaf_weight)
    return oci_json_error (err, at, "needs weight or leafWeight");
  return 0;
}

static int
parse_throttle_device (yajl_val v, const oci_jpath *at, void *out,
                       hy_error_t *err)
{
  struct oci_throttle_device *d = out;
  if (parse_major_minor (v, at, &d->major, &d->minor, err) < 0
      || oci_json_uint64 (v, at, "rate", true, UINT64_MAX, &d->rate, NULL, err)
             < 0)
    return -1;
  return 0;
}

#define PARSE_THROTTLE(key, field)                                            \
  OCI_PARSE_OBJECT_ARRAY (v, &here, key, b->field, b->n_##field,              \
                          parse_throttle_device, err)

static int
parse_block_io (yajl_val obj, const oci_jpath *at, struct oci_resources *r,
                hy_error_t *err)
{
  yajl_val v;
  if (sub_object (obj, at, "blockIO", &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "blockIO");
  struct oci_block_io *b = r->block_io = xmalloc0 (sizeof (*b));
  if (parse_weight (v, &here, "weight", &b->weight, &b->has_weight, err) < 0
      || parse_weight (v, &here, "leafWeight", &b->leaf_weight,
                       &b->has_leaf_weight, err)
             < 0
      || OCI_PARSE_OBJECT_ARRAY (v, &here, "weightDevice", b->weight_device,
                                 b->n_weight_device, parse_weight_device, err)
             < 0
      || PARSE_THROTTLE ("throttleReadBpsDevice", throttle_read_bps) < 0
      || PARSE_THROTTLE ("throttleWriteBpsDevice", throttle_write_bps) < 0
      || PARSE_THROTTLE ("throttleReadIOPSDevice", throttle_read_iops) < 0
      || PARSE_THROTTLE ("throttleWriteIOPSDevice", throttle_write_iops) < 0)
    return -1;
  return 0;
}

/* ---- hugepageLimits ---- */

/* "<size><unit-prefix>B": 64KB, 2MB, 1GB. */
static bool
page_size_valid (const char *s)
{
  if (*s < '1' || *s > '9')
    return false;
  s += strspn (s, "0123456789");
  return s[0] != '\0' && strchr ("KMGTP", s[0]) && str_eq (s + 1, "B");
}

static int
parse_hugepage_limit (yajl_val v, const oci_jpath *at, void *out,
                      hy_error_t *err)
{
  struct oci_hugepage_limit *h = out;
  if (oci_json_string (v, at, "pageSize", true, &h->page_size, err) < 0)
    return -1;
  if (!page_size_valid (h->page_size))
    return oci_json_key_error (err, at, "pageSize",
                               "invalid page size \"%s\" (expected something "
                               "like \"2MB\" or \"1GB\")",
                               h->page_size);
  return oci_json_uint64 (v, at, "limit", true, UINT64_MAX, &h->limit, NULL,
                          err);
}

static int
parse_hugepage_limits (yajl_val obj, const oci_jpath *at,
                       struct oci_resources *r, hy_error_t *err)
{
  if (OCI_PARSE_OBJECT_ARRAY (obj, at, "hugepageLimits", r->hugepage_limits,
                              r->n_hugepage_limits, parse_hugepage_limit, err)
      < 0)
    return -1;
  const oci_jpath here = JPATH_KEY (at, "hugepageLimits");
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    for (size_t j = 0; j < i; j++)
      if (str_eq (r->hugepage_limits[i].page_size,
                  r->hugepage_limits[j].page_size))
        {
          const oci_jpath item = JPATH_INDEX (&here, i);
          return oci_json_key_error (err, &item, "pageSize",
                                     "duplicate page size \"%s\"",
                                     r->hugepage_limits[i].page_size);
        }
  return 0;
}

/* ---- network ---- */

static int
parse_net_priority (yajl_val v, const oci_jpath *at, void *out,
                    hy_error_t *err)
{
  struct oci_net_priority *p = out;
  uint64_t priority = 0;
  if (oci_json_string (v, at, "name", true, &p->name, err) < 0
      || oci_json_uint64 (v, at, "priority", true, UINT32_MAX, &priority, NULL,
                          err)
             < 0)
    return -1;
  p->priority = (uint32_t) priority;
  return 0;
}

static int
parse_network (yajl_val obj, const oci_jpath *at, struct oci_resources *r,
               hy_error_t *err)
{
  yajl_val v;
  if (sub_object (obj, at, "network", &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "network");
  struct oci_network *n = r->network = xmalloc0 (sizeof (*n));
  uint64_t class_id = 0;
  if (oci_json_uint64 (v, &here, "classID", false, UINT32_MAX, &class_id,
                       &n->has_class_id, err)
          < 0
      || OCI_PARSE_OBJECT_ARRAY (v, &here, "priorities", n->priorities,
                                 n->n_priorities, parse_net_priority, err)
             < 0)
    return -1;
  n->class_id = (uint32_t) class_id;
  return 0;
}

/* ---- pids ---- */

static int
parse_pids (yajl_val obj, const oci_jpath *at, struct oci_resources *r,
            hy_error_t *err)
{
  yajl_val v;
  if (sub_object (obj, at, "pids", &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "pids");
  r->has_pids = true;
  /* -1 (and, by runc's tradition, 0) means no limit. */
  return oci_json_int64 (v, &here, "limit", true, -1, INT64_MAX,
                         &r->pids_limit, NULL, err);
}

/* ---- rdma ---- */

static int
parse_rdma_entry (yajl_val v, const oci_jpath *at, struct oci_rdma *d,
                  hy_error_t *err)
{
  uint64_t handles = 0, objects = 0;
  if (oci_json_expect_object (v, at, err) < 0
      || oci_json_uint64 (v, at, "hcaHandles", false, UINT32_MAX, &handles,
                          &d->has_hca_handles, err)
             < 0
      || oci_json_uint64 (v, at, "hcaObjects", false, UINT32_MAX, &objects,
                          &d->has_hca_objects, err)
             < 0)
    return -1;
  if (!d->has_hca_handles && !d->has_hca_objects)
    return oci_json_error (err, at, "needs hcaHandles or hcaObjects");
  d->hca_handles = (uint32_t) handles;
  d->hca_objects = (uint32_t) objects;
  return 0;
}

static int
parse_rdma (yajl_val obj, const oci_jpath *at, struct oci_resources *r,
            hy_error_t *err)
{
  yajl_val v;
  if (sub_object (obj, at, "rdma", &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "rdma");
  size_t n = v->u.object.len;
  r->rdma = xmalloc0 (n * sizeof (struct oci_rdma));
  r->n_rdma = n;
  for (size_t i = 0; i < n; i++)
    {
      const char *device = v->u.object.keys[i];
      const oci_jpath item = JPATH_KEY (&here, device);
      r->rdma[i].device = xstrdup (device);
      for (size_t j = 0; j < i; j++)
        if (str_eq (r->rdma[j].device, device))
          return oci_json_error (err, &item, "duplicate device");
      if (parse_rdma_entry (v->u.object.values[i], &item, &r->rdma[i], err)
          < 0)
        return -1;
    }
  return 0;
}

/* ---- unified ---- */

/* Each key names a file in the container's cgroup directory. */
static bool
unified_key_valid (const char *key)
{
  return *key != '\0' && strchr (key, '/') == NULL && !str_eq (key, ".")
         && !str_eq (key, "..");
}

static int
parse_unified (yajl_val obj, const oci_jpath *at, struct oci_resources *r,
               hy_error_t *err)
{
  if (oci_json_strmap (obj, at, "unified", &r->unified, err) < 0)
    return -1;
  r->has_unified = oci_json_member (obj, "unified") != NULL;
  for (size_t i = 0; i < r->unified.len; i++)
    if (!unified_key_valid (r->unified.keys[i]))
      return oci_json_key_error (err, at, "unified",
                                 "invalid cgroup file name \"%s\"",
                                 r->unified.keys[i]);
  return 0;
}

/* ---- the section ---- */

typedef int (*resources_parser) (yajl_val obj, const oci_jpath *at,
                                 struct oci_resources *r, hy_error_t *err);

static const resources_parser resources_parsers[] = {
  parse_device_rules,    parse_memory,  parse_cpu,  parse_block_io,
  parse_hugepage_limits, parse_network, parse_pids, parse_rdma,
  parse_unified,
};

int
oci_parse_resources (yajl_val v, const oci_jpath *at,
                     struct oci_resources **out, hy_error_t *err)
{
  if (oci_json_expect_object (v, at, err) < 0)
    return -1;
  __attribute__ ((cleanup (resources_freep))) struct oci_resources *r
      = xmalloc0 (sizeof (struct oci_resources));
  for (size_t i = 0; i < N_ELEMENTS (resources_parsers); i++)
    if (resources_parsers[i](v, at, r, err) < 0)
      return -1;
  *out = steal_pointer (&r);
  return 0;
}

/* ---- writing ---- */

static void
gen_device_rules (yajl_gen g, const struct oci_resources *r)
{
  if (!r->has_devices && r->n_devices == 0)
    return;
  oci_gen_key (g, "devices");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < r->n_devices; i++)
    {
      const struct oci_device_rule *d = &r->devices[i];
      const char type[2] = { d->type, '\0' };
      yajl_gen_map_open (g);
      oci_gen_kv_bool (g, "allow", d->allow);
      if (d->type)
        oci_gen_kv_str (g, "type", type);
      oci_gen_kv_int_opt (g, "major", d->major, d->has_major);
      oci_gen_kv_int_opt (g, "minor", d->minor, d->has_minor);
      oci_gen_kv_str (g, "access", d->access);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
}

static void
gen_bool (yajl_gen g, const char *key, bool value, bool present)
{
  oci_gen_kv_bool_opt (g, key, value, value || present);
}

static void
gen_memory (yajl_gen g, const struct oci_memory *m)
{
  if (m == NULL)
    return;
  oci_gen_key (g, "memory");
  yajl_gen_map_open (g);
  oci_gen_kv_int_opt (g, "limit", m->limit, m->has_limit);
  oci_gen_kv_int_opt (g, "reservation", m->reservation, m->has_reservation);
  oci_gen_kv_int_opt (g, "swap", m->swap, m->has_swap);
  oci_gen_kv_int_opt (g, "kernel", m->kernel, m->has_kernel);
  oci_gen_kv_int_opt (g, "kernelTCP", m->kernel_tcp, m->has_kernel_tcp);
  oci_gen_kv_uint_opt (g, "swappiness", m->swappiness, m->has_swappiness);
  gen_bool (g, "disableOOMKiller", m->disable_oom_killer,
            m->has_disable_oom_killer);
  gen_bool (g, "useHierarchy", m->use_hierarchy, m->has_use_hierarchy);
  gen_bool (g, "checkBeforeUpdate", m->check_before_update,
            m->has_check_before_update);
  yajl_gen_map_close (g);
}

static void
gen_cpu (yajl_gen g, const struct oci_cpu *c)
{
  if (c == NULL)
    return;
  oci_gen_key (g, "cpu");
  yajl_gen_map_open (g);
  oci_gen_kv_uint_opt (g, "shares", c->shares, c->has_shares);
  oci_gen_kv_int_opt (g, "quota", c->quota, c->has_quota);
  oci_gen_kv_uint_opt (g, "burst", c->burst, c->has_burst);
  oci_gen_kv_uint_opt (g, "period", c->period, c->has_period);
  oci_gen_kv_int_opt (g, "realtimeRuntime", c->realtime_runtime,
                      c->has_realtime_runtime);
  oci_gen_kv_uint_opt (g, "realtimePeriod", c->realtime_period,
                       c->has_realtime_period);
  oci_gen_kv_str (g, "cpus", c->cpus);
  oci_gen_kv_str (g, "mems", c->mems);
  oci_gen_kv_int_opt (g, "idle", c->idle, c->has_idle);
  yajl_gen_map_close (g);
}

static void
gen_weight_devices (yajl_gen g, const struct oci_block_io *b)
{
  if (b->weight_device == NULL)
    return;
  oci_gen_key (g, "weightDevice");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < b->n_weight_device; i++)
    {
      const struct oci_weight_device *d = &b->weight_device[i];
      yajl_gen_map_open (g);
      oci_gen_kv_int (g, "major", d->major);
      oci_gen_kv_int (g, "minor", d->minor);
      oci_gen_kv_uint_opt (g, "weight", d->weight, d->has_weight);
      oci_gen_kv_uint_opt (g, "leafWeight", d->leaf_weight,
                           d->has_leaf_weight);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
}

static void
gen_throttle_devices (yajl_gen g, const char *key,
                      const struct oci_throttle_device *d, size_t n)
{
  if (d == NULL)
    return;
  oci_gen_key (g, key);
  yajl_gen_array_open (g);
  for (size_t i = 0; i < n; i++)
    {
      yajl_gen_map_open (g);
      oci_gen_kv_int (g, "major", d[i].major);
      oci_gen_kv_int (g, "minor", d[i].minor);
      oci_gen_kv_uint (g, "rate", d[i].rate);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
}

static void
gen_block_io (yajl_gen g, const struct oci_block_io *b)
{
  if (b == NULL)
    return;
  oci_gen_key (g, "blockIO");
  yajl_gen_map_open (g);
  oci_gen_kv_uint_opt (g, "weight", b->weight, b->has_weight);
  oci_gen_kv_uint_opt (g, "leafWeight", b->leaf_weight, b->has_leaf_weight);
  gen_weight_devices (g, b);
  gen_throttle_devices (g, "throttleReadBpsDevice", b->throttle_read_bps,
                        b->n_throttle_read_bps);
  gen_throttle_devices (g, "throttleWriteBpsDevice", b->throttle_write_bps,
                        b->n_throttle_write_bps);
  gen_throttle_devices (g, "throttleReadIOPSDevice", b->throttle_read_iops,
                        b->n_throttle_read_iops);
  gen_throttle_devices (g, "throttleWriteIOPSDevice", b->throttle_write_iops,
                        b->n_throttle_write_iops);
  yajl_gen_map_close (g);
}

static void
gen_hugepage_limits (yajl_gen g, const struct oci_resources *r)
{
  if (r->hugepage_limits == NULL)
    return;
  oci_gen_key (g, "hugepageLimits");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    {
      yajl_gen_map_open (g);
      oci_gen_kv_str (g, "pageSize", r->hugepage_limits[i].page_size);
      oci_gen_kv_uint (g, "limit", r->hugepage_limits[i].limit);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
}

static void
gen_network (yajl_gen g, const struct oci_network *n)
{
  if (n == NULL)
    return;
  oci_gen_key (g, "network");
  yajl_gen_map_open (g);
  oci_gen_kv_uint_opt (g, "classID", n->class_id, n->has_class_id);
  if (n->priorities)
    {
      oci_gen_key (g, "priorities");
      yajl_gen_array_open (g);
      for (size_t i = 0; i < n->n_priorities; i++)
        {
          yajl_gen_map_open (g);
          oci_gen_kv_str (g, "name", n->priorities[i].name);
          oci_gen_kv_uint (g, "priority", n->priorities[i].priority);
          yajl_gen_map_close (g);
        }
      yajl_gen_array_close (g);
    }
  yajl_gen_map_close (g);
}

static void
gen_pids (yajl_gen g, const struct oci_resources *r)
{
  if (!r->has_pids)
    return;
  oci_gen_key (g, "pids");
  yajl_gen_map_open (g);
  oci_gen_kv_int (g, "limit", r->pids_limit);
  yajl_gen_map_close (g);
}

static void
gen_rdma (yajl_gen g, const struct oci_resources *r)
{
  if (r->rdma == NULL)
    return;
  oci_gen_key (g, "rdma");
  yajl_gen_map_open (g);
  for (size_t i = 0; i < r->n_rdma; i++)
    {
      const struct oci_rdma *d = &r->rdma[i];
      oci_gen_key (g, d->device);
      yajl_gen_map_open (g);
      oci_gen_kv_uint_opt (g, "hcaHandles", d->hca_handles,
                           d->has_hca_handles);
      oci_gen_kv_uint_opt (g, "hcaObjects", d->hca_objects,
                           d->has_hca_objects);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
}

void
oci_gen_resources (yajl_gen g, const struct oci_resources *r)
{
  oci_gen_key (g, "resources");
  yajl_gen_map_open (g);
  gen_device_rules (g, r);
  gen_memory (g, r->memory);
  gen_cpu (g, r->cpu);
  gen_pids (g, r);
  gen_block_io (g, r->block_io);
  gen_hugepage_limits (g, r);
  gen_network (g, r->network);
  gen_rdma (g, r);
  if (r->has_unified || r->unified.len > 0)
    oci_gen_kv_strmap (g, "unified", &r->unified);
  yajl_gen_map_close (g);
}

/* ---- freeing ---- */

static void
block_io_free (struct oci_block_io *b)
{
  if (b == NULL)
    return;
  free (b->weight_device);
  free (b->throttle_read_bps);
  free (b->throttle_write_bps);
  free (b->throttle_read_iops);
  free (b->throttle_write_iops);
  free (b);
}

static void
network_free (struct oci_network *n)
{
  if (n == NULL)
    return;
  for (size_t i = 0; i < n->n_priorities; i++)
    free (n->priorities[i].name);
  free (n->priorities);
  free (n);
}

void
oci_resources_free (struct oci_resources *r)
{
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n_devices; i++)
    free (r->devices[i].access);
  free (r->devices);
  free (r->memory);
  if (r->cpu)
    {
      free (r->cpu->cpus);
      free (r->cpu->mems);
    }
  free (r->cpu);
  block_io_free (r->block_io);
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    free (r->hugepage_limits[i].page_size);
  free (r->hugepage_limits);
  network_free (r->network);
  for (size_t i = 0; i < r->n_rdma; i++)
    free (r->rdma[i].device);
  free (r->rdma);
  oci_strmap_free (&r->unified);
  free (r);
}
