/* The `process` section of config.json, also the whole document of
 * `exec --process process.json`. */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/config-internal.h"

static const struct
{
  const char *name;
  int resource;
} rlimit_table[] = {
  { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_STACK", RLIMIT_STACK },
};

static const char *const sched_policies[]
    = { "SCHED_OTHER", "SCHED_FIFO",  "SCHED_RR",       "SCHED_BATCH",
        "SCHED_ISO",   "SCHED_IDLE",  "SCHED_DEADLINE", NULL };

static const char *const sched_flags[] = { "SCHED_FLAG_RESET_ON_FORK",
                                           "SCHED_FLAG_RECLAIM",
                                           "SCHED_FLAG_DL_OVERRUN",
                                           "SCHED_FLAG_KEEP_POLICY",
                                           "SCHED_FLAG_KEEP_PARAMS",
                                           "SCHED_FLAG_UTIL_CLAMP_MIN",
                                           "SCHED_FLAG_UTIL_CLAMP_MAX",
                                           NULL };

static const char *const ioprio_classes[]
    = { "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE", NULL };

/* Beyond any kernel's NR_CPUS; only guards against absurd numbers. */
#define CPU_NUMBER_MAX (1u << 22)

static bool
in_list (const char *const *list, const char *s)
{
  for (size_t i = 0; list[i]; i++)
    if (strcmp (list[i], s) == 0)
      return true;
  return false;
}

static int
rlimit_resource (const char *name)
{
  for (size_t i = 0; i < sizeof (rlimit_table) / sizeof (rlimit_table[0]);
       i++)
    if (strcmp (rlimit_table[i].name, name) == 0)
      return rlimit_table[i].resource;
  return -1;
}

static bool
is_capability_name (const char *s)
{
  if (!str_has_prefix (s, "CAP_") || s[4] == '\0')
    return false;
  for (s += 4; *s; s++)
    if (!(isupper ((unsigned char) *s) || isdigit ((unsigned char) *s)
          || *s == '_'))
      return false;
  return true;
}

static bool
parse_cpu_number (const char **s, unsigned long *out)
{
  if (!isdigit ((unsigned char) **s))
    return false;
  unsigned long v = 0;
  for (; isdigit ((unsigned char) **s); (*s)++)
    {
      v = v * 10 + (unsigned long) (**s - '0');
      if (v > CPU_NUMBER_MAX)
        return false;
    }
  *out = v;
  return true;
}

bool
oci_is_valid_cpu_list (const char *s)
{
  if (*s == '\0')
    return true;
  for (;;)
    {
      unsigned long first, last;
      if (!parse_cpu_number (&s, &first))
        return false;
      if (*s == '-')
        {
          s++;
          if (!parse_cpu_number (&s, &last) || last < first)
            return false;
        }
      if (*s == '\0')
        return true;
      if (*s++ != ',')
        return false;
    }
}

/* ---- parsing ---- */

static int
parse_console_size (yajl_val proc, const oci_jpath *at,
                    struct oci_process *p, hy_error_t *err)
{
  yajl_val v = NULL;
  if (oci_json_object (proc, at, "consoleSize", false, &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "consoleSize");
  uint64_t height = 0, width = 0;
  bool present = false;
  if (oci_json_uint64 (v, &here, "height", true, UINT32_MAX, &height,
                       &present, err)
          < 0
      || oci_json_uint64 (v, &here, "width", true, UINT32_MAX, &width,
                          &present, err)
             < 0)
    return -1;
  p->console_height = height;
  p->console_width = width;
  p->has_console_size = true;
  return 0;
}

/* An array of uint32 integers; [] gives a non-NULL empty array. */
static int
parse_uint32_array (yajl_val obj, const oci_jpath *at, const char *key,
                    uint32_t **out, size_t *n, hy_error_t *err)
{
  yajl_val arr = NULL;
  if (oci_json_array (obj, at, key, false, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, key);
  size_t len = arr->u.array.len;
  _cleanup_free_ uint32_t *vals = xmalloc0 (len * sizeof (uint32_t));
  for (size_t i = 0; i < len; i++)
    {
      const oci_jpath item = JPATH_INDEX (&here, i);
      yajl_val e = arr->u.array.values[i];
      const char *text = YAJL_IS_NUMBER (e) ? e->u.number.r : NULL;
      unsigned long long v;
      if (text == NULL || strpbrk (text, ".eE") || parse_uint64 (text, &v) < 0
          || v > UINT32_MAX)
        return oci_json_error (err, &item,
                               "expected an integer in [0, %" PRIu32 "]",
                               UINT32_MAX);
      vals[i] = v;
    }
  free (*out);
  *out = steal_pointer (&vals);
  *n = len;
  return 0;
}

static int
parse_user (yajl_val proc, const oci_jpath *at, struct oci_process *p,
            hy_error_t *err)
{
  yajl_val v = NULL;
  if (oci_json_object (proc, at, "user", false, &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "user");
  struct oci_user *u = &p->user;
  uint64_t n = 0;
  bool present = false;
  p->has_user = true;

  if (oci_json_uint64 (v, &here, "uid", true, UINT32_MAX, &n, &present, err)
      < 0)
    return -1;
  u->uid = n;
  if (oci_json_uint64 (v, &here, "gid", true, UINT32_MAX, &n, &present, err)
      < 0)
    return -1;
  u->gid = n;

  present = false;
  if (oci_json_uint64 (v, &here, "umask", false, UINT32_MAX, &n, &present,
                       err)
      < 0)
    return -1;
  if (present)
    {
      if (n > 0777)
        return oci_json_key_error (err, &here, "umask",
                                   "must be at most 0777 (511), got %" PRIu64,
                                   n);
      u->umask = n;
      u->has_umask = true;
    }

  if (parse_uint32_array (v, &here, "additionalGids", &u->additional_gids,
                          &u->n_additional_gids, err)
      < 0)
    return -1;
  return oci_json_string (v, &here, "username", false, &u->username, err);
}

static int
parse_args (yajl_val proc, const oci_jpath *at, struct oci_process *p,
            hy_error_t *err)
{
  if (oci_json_strv (proc, at, "args", true, &p->args, err) < 0)
    return -1;
  if (p->args[0] == NULL)
    return oci_json_key_error (err, at, "args",
                               "must have at least one entry");
  return 0;
}

static int
parse_env (yajl_val proc, const oci_jpath *at, struct oci_process *p,
           hy_error_t *err)
{
  if (oci_json_strv (proc, at, "env", false, &p->env, err) < 0)
    return -1;
  if (p->env == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "env");
  for (size_t i = 0; p->env[i]; i++)
    {
      const char *eq = strchr (p->env[i], '=');
      if (eq == NULL || eq == p->env[i])
        {
          const oci_jpath item = JPATH_INDEX (&here, i);
          return oci_json_error (err, &item,
                                 "invalid environment entry \"%s\" "
                                 "(expected NAME=VALUE)",
                                 p->env[i]);
        }
    }
  return 0;
}

static int
parse_cwd (yajl_val proc, const oci_jpath *at, struct oci_process *p,
           hy_error_t *err)
{
  if (oci_json_string (proc, at, "cwd", true, &p->cwd, err) < 0)
    return -1;
  if (!oci_is_absolute_path (p->cwd))
    return oci_json_key_error (err, at, "cwd", "must be an absolute path");
  return 0;
}

static int
parse_capability_set (yajl_val caps, const oci_jpath *at, const char *key,
                      char ***out, hy_error_t *err)
{
  if (oci_json_strv (caps, at, key, false, out, err) < 0)
    return -1;
  if (*out == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, key);
  for (size_t i = 0; (*out)[i]; i++)
    if (!is_capability_name ((*out)[i]))
      {
        const oci_jpath item = JPATH_INDEX (&here, i);
        return oci_json_error (err, &item, "invalid capability \"%s\"",
                               (*out)[i]);
      }
  return 0;
}

static int
parse_capabilities (yajl_val proc, const oci_jpath *at, struct oci_process *p,
                    hy_error_t *err)
{
  yajl_val v = NULL;
  if (oci_json_object (proc, at, "capabilities", false, &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "capabilities");
  struct oci_capabilities *c = p->capabilities
      = xmalloc0 (sizeof (struct oci_capabilities));
  if (parse_capability_set (v, &here, "bounding", &c->bounding, err) < 0
      || parse_capability_set (v, &here, "effective", &c->effective, err) < 0
      || parse_capability_set (v, &here, "inheritable", &c->inheritable, err)
             < 0
      || parse_capability_set (v, &here, "permitted", &c->permitted, err) < 0
      || parse_capability_set (v, &here, "ambient", &c->ambient, err) < 0)
    return -1;
  return 0;
}

static int
parse_rlimit (yajl_val v, const oci_jpath *at, struct oci_rlimit *r,
              hy_error_t *err)
{
  bool present = false;
  if (oci_json_expect_object (v, at, err) < 0
      || oci_json_string (v, at, "type", true, &r->type, err) < 0)
    return -1;
  r->resource = rlimit_resource (r->type);
  if (r->resource < 0)
    return oci_json_key_error (err, at, "type", "unknown rlimit \"%s\"",
                               r->type);
  if (oci_json_uint64 (v, at, "soft", true, UINT64_MAX, &r->soft, &present,
                       err)
          < 0
      || oci_json_uint64 (v, at, "hard", true, UINT64_MAX, &r->hard,
                          &present, err)
             < 0)
    return -1;
  if (r->soft > r->hard)
    return oci_json_key_error (err, at, "soft",
                               "%" PRIu64 " exceeds the hard limit %" PRIu64,
                               r->soft, r->hard);
  return 0;
}

static int
parse_rlimits (yajl_val proc, const oci_jpath *at, struct oci_process *p,
               hy_error_t *err)
{
  yajl_val arr = NULL;
  if (oci_json_array (proc, at, "rlimits", false, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "rlimits");
  size_t n = arr->u.array.len;
  /* Owned by p from here on, so a failure part-way frees what was read. */
  p->rlimits = xmalloc0 (n * sizeof (struct oci_rlimit));
  p->n_rlimits = n;
  for (size_t i = 0; i < n; i++)
    {
      const oci_jpath item = JPATH_INDEX (&here, i);
      if (parse_rlimit (arr->u.array.values[i], &item, &p->rlimits[i], err)
          < 0)
        return -1;
      for (size_t j = 0; j < i; j++)
        if (p->rlimits[j].resource == p->rlimits[i].resource)
          return oci_json_key_error (err, &item, "type",
                                     "duplicate rlimit \"%s\" (also at "
                                     "index %zu)",
                                     p->rlimits[i].type, j);
    }
  return 0;
}

static int
parse_int32 (yajl_val obj, const oci_jpath *at, const char *key,
             int64_t min, int64_t max, int32_t *out, bool *present,
             hy_error_t *err)
{
  int64_t n = 0;
  bool found = false;
  if (oci_json_int64 (obj, at, key, false, min, max, &n, &found, err) < 0)
    return -1;
  if (found)
    {
      *out = n;
      *present = true;
    }
  return 0;
}

static int
parse_scheduler (yajl_val proc, const oci_jpath *at, struct oci_process *p,
                 hy_error_t *err)
{
  yajl_val v = NULL;
  if (oci_json_object (proc, at, "scheduler", false, &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "scheduler");
  struct oci_scheduler *s = p->scheduler
      = xmalloc0 (sizeof (struct oci_scheduler));

  if (oci_json_string (v, &here, "policy", true, &s->policy, err) < 0)
    return -1;
  if (!in_list (sched_policies, s->policy))
    return oci_json_key_error (err, &here, "policy",
                               "unknown scheduling policy \"%s\"", s->policy);
  if (parse_int32 (v, &here, "nice", -20, 19, &s->nice, &s->has_nice, err)
          < 0
      || parse_int32 (v, &here, "priority", INT32_MIN, INT32_MAX,
                      &s->priority, &s->has_priority, err)
             < 0)
    return -1;

  if (oci_json_strv (v, &here, "flags", false, &s->flags, err) < 0)
    return -1;
  const oci_jpath flags = JPATH_KEY (&here, "flags");
  for (size_t i = 0; s->flags && s->flags[i]; i++)
    if (!in_list (sched_flags, s->flags[i]))
      {
        const oci_jpath item = JPATH_INDEX (&flags, i);
        return oci_json_error (err, &item, "unknown scheduler flag \"%s\"",
                               s->flags[i]);
      }

  if (oci_json_uint64 (v, &here, "runtime", false, UINT64_MAX, &s->runtime,
                       &s->has_runtime, err)
          < 0
      || oci_json_uint64 (v, &here, "deadline", false, UINT64_MAX,
                          &s->deadline, &s->has_deadline, err)
             < 0
      || oci_json_uint64 (v, &here, "period", false, UINT64_MAX, &s->period,
                          &s->has_period, err)
             < 0)
    return -1;
  return 0;
}

static int
parse_io_priority (yajl_val proc, const oci_jpath *at, struct oci_process *p,
                   hy_error_t *err)
{
  yajl_val v = NULL;
  if (oci_json_object (proc, at, "ioPriority", false, &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "ioPriority");
  struct oci_io_priority *io = p->io_priority
      = xmalloc0 (sizeof (struct oci_io_priority));
  if (oci_json_string (v, &here, "class", true, &io->klass, err) < 0)
    return -1;
  if (!in_list (ioprio_classes, io->klass))
    return oci_json_key_error (err, &here, "class",
                               "unknown I/O priority class \"%s\"",
                               io->klass);
  int64_t prio = 0;
  bool present = false;
  if (oci_json_int64 (v, &here, "priority", true, 0, 7, &prio, &present, err)
      < 0)
    return -1;
  io->priority = prio;
  return 0;
}

static int
parse_cpu_list (yajl_val obj, const oci_jpath *at, const char *key,
                char **out, hy_error_t *err)
{
  if (oci_json_string (obj, at, key, false, out, err) < 0)
    return -1;
  if (*out && !oci_is_valid_cpu_list (*out))
    return oci_json_key_error (err, at, key, "invalid CPU list \"%s\"", *out);
  return 0;
}

static int
parse_exec_cpu_affinity (yajl_val proc, const oci_jpath *at,
                         struct oci_process *p, hy_error_t *err)
{
  yajl_val v = NULL;
  if (oci_json_object (proc, at, "execCPUAffinity", false, &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (at, "execCPUAffinity");
  struct oci_cpu_affinity *a = p->exec_cpu_affinity
      = xmalloc0 (sizeof (struct oci_cpu_affinity));
  if (parse_cpu_list (v, &here, "initial", &a->initial, err) < 0
      || parse_cpu_list (v, &here, "final", &a->final, err) < 0)
    return -1;
  return 0;
}

static int
parse_process_fields (yajl_val v, const oci_jpath *at, struct oci_process *p,
                      hy_error_t *err)
{
  int64_t oom = 0;
  if (oci_json_bool (v, at, "terminal", false, &p->terminal, &p->has_terminal,
                     err)
          < 0
      || parse_console_size (v, at, p, err) < 0
      || parse_user (v, at, p, err) < 0 || parse_args (v, at, p, err) < 0
      || oci_json_string (v, at, "commandLine", false, &p->command_line, err)
             < 0
      || parse_env (v, at, p, err) < 0 || parse_cwd (v, at, p, err) < 0
      || parse_capabilities (v, at, p, err) < 0
      || parse_rlimits (v, at, p, err) < 0
      || oci_json_bool (v, at, "noNewPrivileges", false,
                        &p->no_new_privileges, &p->has_no_new_privileges, err)
             < 0
      || oci_json_string (v, at, "apparmorProfile", false,
                          &p->apparmor_profile, err)
             < 0
      || oci_json_int64 (v, at, "oomScoreAdj", false, -1000, 1000, &oom,
                         &p->has_oom_score_adj, err)
             < 0
      || oci_json_string (v, at, "selinuxLabel", false, &p->selinux_label,
                          err)
             < 0
      || parse_scheduler (v, at, p, err) < 0
      || parse_io_priority (v, at, p, err) < 0
      || parse_exec_cpu_affinity (v, at, p, err) < 0)
    return -1;
  p->oom_score_adj = oom;
  return 0;
}

int
oci_parse_process (yajl_val v, const oci_jpath *at, struct oci_process **out,
                   hy_error_t *err)
{
  if (oci_json_expect_object (v, at, err) < 0)
    return -1;
  _cleanup_process_ struct oci_process *p
      = xmalloc0 (sizeof (struct oci_process));
  if (parse_process_fields (v, at, p, err) < 0)
    return -1;
  *out = steal_pointer (&p);
  return 0;
}

static void
tree_freep (yajl_val *v)
{
  if (*v)
    yajl_tree_free (*v);
}

int
oci_process_parse (const char *text, const char *source,
                   struct oci_process **out, hy_error_t *err)
{
  __attribute__ ((cleanup (tree_freep))) yajl_val tree = NULL;
  if (oci_json_parse (text, &tree, err) < 0
      || oci_parse_process (tree, JPATH_ROOT, out, err) < 0)
    return hy_error_prepend (err, "%s", source);
  return 0;
}

/* ---- writing ---- */

static bool
user_present (const struct oci_process *p)
{
  const struct oci_user *u = &p->user;
  return p->has_user || u->uid || u->gid || u->has_umask
         || u->additional_gids || u->username;
}

static void
gen_user (yajl_gen g, const struct oci_user *u)
{
  oci_gen_key (g, "user");
  yajl_gen_map_open (g);
  oci_gen_kv_uint (g, "uid", u->uid);
  oci_gen_kv_uint (g, "gid", u->gid);
  oci_gen_kv_uint_opt (g, "umask", u->umask, u->has_umask);
  if (u->additional_gids)
    {
      oci_gen_key (g, "additionalGids");
      yajl_gen_array_open (g);
      for (size_t i = 0; i < u->n_additional_gids; i++)
        yajl_gen_integer (g, u->additional_gids[i]);
      yajl_gen_array_close (g);
    }
  oci_gen_kv_str (g, "username", u->username);
  yajl_gen_map_close (g);
}

static void
gen_capabilities (yajl_gen g, const struct oci_capabilities *c)
{
  oci_gen_key (g, "capabilities");
  yajl_gen_map_open (g);
  oci_gen_kv_strv (g, "bounding", c->bounding);
  oci_gen_kv_strv (g, "effective", c->effective);
  oci_gen_kv_strv (g, "inheritable", c->inheritable);
  oci_gen_kv_strv (g, "permitted", c->permitted);
  oci_gen_kv_strv (g, "ambient", c->ambient);
  yajl_gen_map_close (g);
}

static void
gen_rlimits (yajl_gen g, const struct oci_rlimit *r, size_t n)
{
  oci_gen_key (g, "rlimits");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < n; i++)
    {
      yajl_gen_map_open (g);
      oci_gen_kv_str (g, "type", r[i].type);
      oci_gen_kv_uint (g, "soft", r[i].soft);
      oci_gen_kv_uint (g, "hard", r[i].hard);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
}

static void
gen_scheduler (yajl_gen g, const struct oci_scheduler *s)
{
  oci_gen_key (g, "scheduler");
  yajl_gen_map_open (g);
  oci_gen_kv_str (g, "policy", s->policy);
  oci_gen_kv_int_opt (g, "nice", s->nice, s->has_nice);
  oci_gen_kv_int_opt (g, "priority", s->priority, s->has_priority);
  oci_gen_kv_strv (g, "flags", s->flags);
  oci_gen_kv_uint_opt (g, "runtime", s->runtime, s->has_runtime);
  oci_gen_kv_uint_opt (g, "deadline", s->deadline, s->has_deadline);
  oci_gen_kv_uint_opt (g, "period", s->period, s->has_period);
  yajl_gen_map_close (g);
}

void
oci_gen_process_value (yajl_gen g, const struct oci_process *p)
{
  yajl_gen_map_open (g);
  oci_gen_kv_bool_opt (g, "terminal", p->terminal,
                       p->terminal || p->has_terminal);
  if (p->has_console_size)
    {
      oci_gen_key (g, "consoleSize");
      yajl_gen_map_open (g);
      oci_gen_kv_uint (g, "height", p->console_height);
      oci_gen_kv_uint (g, "width", p->console_width);
      yajl_gen_map_close (g);
    }
  if (user_present (p))
    gen_user (g, &p->user);
  oci_gen_kv_strv (g, "args", p->args);
  oci_gen_kv_str (g, "commandLine", p->command_line);
  oci_gen_kv_strv (g, "env", p->env);
  oci_gen_kv_str (g, "cwd", p->cwd);
  if (p->capabilities)
    gen_capabilities (g, p->capabilities);
  if (p->rlimits)
    gen_rlimits (g, p->rlimits, p->n_rlimits);
  oci_gen_kv_bool_opt (g, "noNewPrivileges", p->no_new_privileges,
                       p->no_new_privileges || p->has_no_new_privileges);
  oci_gen_kv_str (g, "apparmorProfile", p->apparmor_profile);
  oci_gen_kv_int_opt (g, "oomScoreAdj", p->oom_score_adj,
                      p->has_oom_score_adj);
  oci_gen_kv_str (g, "selinuxLabel", p->selinux_label);
  if (p->scheduler)
    gen_scheduler (g, p->scheduler);
  if (p->io_priority)
    {
      oci_gen_key (g, "ioPriority");
      yajl_gen_map_open (g);
      oci_gen_kv_str (g, "class", p->io_priority->klass);
      oci_gen_kv_int (g, "priority", p->io_priority->priority);
      yajl_gen_map_close (g);
    }
  if (p->exec_cpu_affinity)
    {
      oci_gen_key (g, "execCPUAffinity");
      yajl_gen_map_open (g);
      oci_gen_kv_str (g, "initial", p->exec_cpu_affinity->initial);
      oci_gen_kv_str (g, "final", p->exec_cpu_affinity->final);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
}

/* Writes the member, key included, as the other config.json sections do. */
void
oci_gen_process (yajl_gen g, const struct oci_process *p)
{
  oci_gen_key (g, "process");
  oci_gen_process_value (g, p);
}

char *
oci_process_to_json (const struct oci_process *p, bool pretty)
{
  yajl_gen g = oci_gen_new (pretty);
  oci_gen_process_value (g, p);
  return oci_gen_finish (g, NULL);
}

/* ---- freeing ---- */

static void
capabilities_free (struct oci_capabilities *c)
{
  if (c == NULL)
    return;
  strv_free (c->bounding);
  strv_free (c->effective);
  strv_free (c->inheritable);
  strv_free (c->permitted);
  strv_free (c->ambient);
  free (c);
}

static void
scheduler_free (struct oci_scheduler *s)
{
  if (s == NULL)
    return;
  free (s->policy);
  strv_free (s->flags);
  free (s);
}

void
oci_process_free (struct oci_process *p)
{
  if (p == NULL)
    return;
  free (p->user.additional_gids);
  free (p->user.username);
  strv_free (p->args);
  free (p->command_line);
  strv_free (p->env);
  free (p->cwd);
  capabilities_free (p->capabilities);
  for (size_t i = 0; i < p->n_rlimits; i++)
    free (p->rlimits[i].type);
  free (p->rlimits);
  free (p->apparmor_profile);
  free (p->selinux_label);
  scheduler_free (p->scheduler);
  if (p->io_priority)
    free (p->io_priority->klass);
  free (p->io_priority);
  if (p->exec_cpu_affinity)
    {
      free (p->exec_cpu_affinity->initial);
      free (p->exec_cpu_affinity->final);
    }
  free (p->exec_cpu_affinity);
  free (p);
}
