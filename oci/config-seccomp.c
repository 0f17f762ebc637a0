/* linux.seccomp: the syscall filter of config.json.  Names are checked
 * against the spec's lists here; libseccomp sees them only at run time. */
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/config-internal.h"
#include "oci/config-linux-util.h"

const char *const oci_seccomp_action_names[OCI_SCMP_ACTIONS] = {
  [OCI_SCMP_KILL] = "SCMP_ACT_KILL",
  [OCI_SCMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
  [OCI_SCMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
  [OCI_SCMP_TRAP] = "SCMP_ACT_TRAP",
  [OCI_SCMP_ERRNO] = "SCMP_ACT_ERRNO",
  [OCI_SCMP_TRACE] = "SCMP_ACT_TRACE",
  [OCI_SCMP_ALLOW] = "SCMP_ACT_ALLOW",
  [OCI_SCMP_LOG] = "SCMP_ACT_LOG",
  [OCI_SCMP_NOTIFY] = "SCMP_ACT_NOTIFY",
};

const char *const oci_seccomp_op_names[OCI_SCMP_OPS] = {
  [OCI_SCMP_CMP_NE] = "SCMP_CMP_NE",
  [OCI_SCMP_CMP_LT] = "SCMP_CMP_LT",
  [OCI_SCMP_CMP_LE] = "SCMP_CMP_LE",
  [OCI_SCMP_CMP_EQ] = "SCMP_CMP_EQ",
  [OCI_SCMP_CMP_GE] = "SCMP_CMP_GE",
  [OCI_SCMP_CMP_GT] = "SCMP_CMP_GT",
  [OCI_SCMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

const char *const oci_seccomp_arch_names[] = {
  "SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64",     "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL",      "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",       "SCMP_ARCH_PPC64LE",
  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC",      "SCMP_ARCH_PARISC64",
  "SCMP_ARCH_RISCV64",     NULL,
};

const char *const oci_seccomp_flag_names[] = {
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
  NULL,
};

static void
seccomp_freep (struct oci_seccomp **s)
{
  oci_seccomp_free (*s);
}

static int
parse_action (yajl_val v, const oci_jpath *at, const char *key,
              enum oci_seccomp_action *out, hy_error_t *err)
{
  int action = 0;
  if (oci_json_enum (v, at, key, true, oci_seccomp_action_names,
                     OCI_SCMP_ACTIONS, "action", &action, NULL, err)
      < 0)
    return -1;
  *out = action;
  return 0;
}

/* An errno return value only means something to SCMP_ACT_ERRNO and
 * SCMP_ACT_TRACE. */
static int
parse_errno_ret (yajl_val v, const oci_jpath *at, const char *key,
                 enum oci_seccomp_action action, uint32_t *out, bool *present,
                 hy_error_t *err)
{
  uint64_t n = 0;
  if (oci_json_uint64 (v, at, key, false, UINT32_MAX, &n, present, err) < 0)
    return -1;
  if (*present && action != OCI_SCMP_ERRNO && action != OCI_SCMP_TRACE)
    return oci_json_key_error (err, at, key,
                               "only valid with SCMP_ACT_ERRNO or "
                               "SCMP_ACT_TRACE, not %s",
                               oci_seccomp_action_names[action]);
  *out = (uint32_t) n;
  return 0;
}

/* The string array `key`, each entry one of `names`. */
static int
parse_name_list (yajl_val v, const oci_jpath *at, const char *key,
                 const char *const *names, const char *what, char ***out,
                 hy_error_t *err)
{
  if (oci_json_strv (v, at, key, false, out, err) < 0)
    return -1;
  const oci_jpath here = JPATH_KEY (at, key);
  for (size_t i = 0; *out && (*out)[i]; i++)
    if (oci_name_index (names, SIZE_MAX, (*out)[i]) < 0)
      {
        const oci_jpath item = JPATH_INDEX (&here, i);
        return oci_json_error (err, &item, "unknown %s \"%s\"", what,
                               (*out)[i]);
      }
  return 0;
}

/* ---- syscalls ---- */

static int
parse_arg (yajl_val v, const oci_jpath *at, void *out, hy_error_t *err)
{
  struct oci_seccomp_arg *a = out;
  uint64_t index = 0;
  int op = 0;
  if (oci_json_uint64 (v, at, "index", true, 5, &index, NULL, err) < 0
      || oci_json_uint64 (v, at, "value", true, UINT64_MAX, &a->value, NULL,
                          err)
             < 0
      || oci_json_uint64 (v, at, "valueTwo", false, UINT64_MAX, &a->value_two,
                          &a->has_value_two, err)
             < 0
      || oci_json_enum (v, at, "op", true, oci_seccomp_op_names, OCI_SCMP_OPS,
                        "operator", &op, NULL, err)
             < 0)
    return -1;
  a->index = (uint32_t) index;
  a->op = op;
  return 0;
}

static int
parse_syscall_names (yajl_val v, const oci_jpath *at, char ***names,
                     hy_error_t *err)
{
  if (oci_json_strv (v, at, "names", true, names, err) < 0)
    return -1;
  if ((*names)[0] == NULL)
    return oci_json_key_error (err, at, "names",
                               "must name at least one syscall");
  const oci_jpath here = JPATH_KEY (at, "names");
  for (size_t i = 0; (*names)[i]; i++)
    if ((*names)[i][0] == '\0')
      {
        const oci_jpath item = JPATH_INDEX (&here, i);
        return oci_json_error (err, &item, "must not be empty");
      }
  return 0;
}

static int
parse_syscall (yajl_val v, const oci_jpath *at, void *out, hy_error_t *err)
{
  struct oci_seccomp_syscall *s = out;
  if (parse_syscall_names (v, at, &s->names, err) < 0
      || parse_action (v, at, "action", &s->action, err) < 0
      || parse_errno_ret (v, at, "errnoRet", s->action, &s->errno_ret,
                          &s->has_errno_ret, err)
             < 0
      || OCI_PARSE_OBJECT_ARRAY (v, at, "args", s->args, s->n_args, parse_arg,
                                 err)
             < 0)
    return -1;
  return 0;
}

/* ---- the notify listener ---- */

static int
check_listener (const struct oci_seccomp *s, const oci_jpath *at,
                hy_error_t *err)
{
  if (s->listener_metadata && s->listener_path == NULL)
    return oci_json_key_error (err, at, "listenerMetadata",
                               "must not be set without listenerPath");
  if (s->listener_path)
    return 0;
  if (s->default_action == OCI_SCMP_NOTIFY)
    return oci_json_key_error (err, at, "listenerPath",
                               "required when defaultAction is "
                               "SCMP_ACT_NOTIFY");
  for (size_t i = 0; i < s->n_syscalls; i++)
    if (s->syscalls[i].action == OCI_SCMP_NOTIFY)
      return oci_json_key_error (err, at, "listenerPath",
                                 "required by SCMP_ACT_NOTIFY in "
                                 "syscalls[%zu]",
                                 i);
  return 0;
}

/* ---- the section ---- */

int
oci_parse_seccomp (yajl_val v, const oci_jpath *at, struct oci_seccomp **out,
                   hy_error_t *err)
{
  if (oci_json_expect_object (v, at, err) < 0)
    return -1;
  __attribute__ ((cleanup (seccomp_freep))) struct oci_seccomp *s
      = xmalloc0 (sizeof (struct oci_seccomp));
  if (parse_action (v, at, "defaultAction", &s->default_action, err) < 0
      || parse_errno_ret (v, at, "defaultErrnoRet", s->default_action,
                          &s->default_errno_ret, &s->has_default_errno_ret,
                          err)
             < 0
      || parse_name_list (v, at, "architectures", oci_seccomp_arch_names,
                          "architecture", &s->architectures, err)
             < 0
      || parse_name_list (v, at, "flags", oci_seccomp_flag_names, "flag",
                          &s->flags, err)
             < 0
      || oci_json_string (v, at, "listenerPath", false, &s->listener_path, err)
             < 0
      || oci_check_absolute (s->listener_path, at, "listenerPath", err) < 0
      || oci_json_string (v, at, "listenerMetadata", false,
                          &s->listener_metadata, err)
             < 0
      || OCI_PARSE_OBJECT_ARRAY (v, at, "syscalls", s->syscalls, s->n_syscalls,
                                 parse_syscall, err)
             < 0
      || check_listener (s, at, err) < 0)
    return -1;
  *out = steal_pointer (&s);
  return 0;
}

/* ---- writing ---- */

static void
gen_args (yajl_gen g, const struct oci_seccomp_syscall *s)
{
  if (s->args == NULL)
    return;
  oci_gen_key (g, "args");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < s->n_args; i++)
    {
      const struct oci_seccomp_arg *a = &s->args[i];
      yajl_gen_map_open (g);
      oci_gen_kv_uint (g, "index", a->index);
      oci_gen_kv_uint (g, "value", a->value);
      oci_gen_kv_uint_opt (g, "valueTwo", a->value_two, a->has_value_two);
      oci_gen_kv_str (g, "op", oci_seccomp_op_names[a->op]);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
}

static void
gen_syscalls (yajl_gen g, const struct oci_seccomp *s)
{
  if (s->syscalls == NULL)
    return;
  oci_gen_key (g, "syscalls");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < s->n_syscalls; i++)
    {
      const struct oci_seccomp_syscall *sc = &s->syscalls[i];
      yajl_gen_map_open (g);
      oci_gen_kv_strv (g, "names", sc->names);
      oci_gen_kv_str (g, "action", oci_seccomp_action_names[sc->action]);
      oci_gen_kv_uint_opt (g, "errnoRet", sc->errno_ret, sc->has_errno_ret);
      gen_args (g, sc);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
}

void
oci_gen_seccomp (yajl_gen g, const struct oci_seccomp *s)
{
  oci_gen_key (g, "seccomp");
  yajl_gen_map_open (g);
  oci_gen_kv_str (g, "defaultAction",
                  oci_seccomp_action_names[s->default_action]);
  oci_gen_kv_uint_opt (g, "defaultErrnoRet", s->default_errno_ret,
                       s->has_default_errno_ret);
  oci_gen_kv_strv (g, "architectures", s->architectures);
  oci_gen_kv_strv (g, "flags", s->flags);
  oci_gen_kv_str (g, "listenerPath", s->listener_path);
  oci_gen_kv_str (g, "listenerMetadata", s->listener_metadata);
  gen_syscalls (g, s);
  yajl_gen_map_close (g);
}

/* ---- freeing ---- */

void
oci_seccomp_free (struct oci_seccomp *s)
{
  if (s == NULL)
    return;
  strv_free (s->architectures);
  strv_free (s->flags);
  free (s->listener_path);
  free (s->listener_metadata);
  for (size_t i = 0; i < s->n_syscalls; i++)
    {
      strv_free (s->syscalls[i].names);
      free (s->syscalls[i].args);
    }
  free (s->syscalls);
  free (s);
}
