/* linux.seccomp: parsing, validation, serialization. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/linux-section-test.h"

static struct oci_config *
parse_seccomp_ok (const char *json)
{
  _cleanup_free_ char *l = xasprintf ("{\"seccomp\":%s}", json);
  struct oci_config *c = parse_linux_ok (l);
  assert_non_null (c->linux_->seccomp);
  return c;
}

static void
assert_seccomp_canonical (const char *json)
{
  _cleanup_free_ char *l = xasprintf ("{\"seccomp\":%s}", json);
  assert_canonical (l);
}

static void
test_name_tables (void **state)
{
  (void) state;
  assert_string_equal (oci_seccomp_action_names[OCI_SCMP_KILL],
                       "SCMP_ACT_KILL");
  assert_string_equal (oci_seccomp_action_names[OCI_SCMP_KILL_THREAD],
                       "SCMP_ACT_KILL_THREAD");
  assert_string_equal (oci_seccomp_action_names[OCI_SCMP_NOTIFY],
                       "SCMP_ACT_NOTIFY");
  assert_string_equal (oci_seccomp_op_names[OCI_SCMP_CMP_NE], "SCMP_CMP_NE");
  assert_string_equal (oci_seccomp_op_names[OCI_SCMP_CMP_MASKED_EQ],
                       "SCMP_CMP_MASKED_EQ");
  size_t n_arch = strv_len ((char *const *) oci_seccomp_arch_names);
  assert_int_equal (n_arch, 19);
  assert_string_equal (oci_seccomp_arch_names[0], "SCMP_ARCH_X86");
  assert_string_equal (oci_seccomp_arch_names[n_arch - 1],
                       "SCMP_ARCH_RISCV64");
  assert_int_equal (strv_len ((char *const *) oci_seccomp_flag_names), 4);
}

static void
test_full (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_seccomp_ok (
      "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
      "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X32\"],"
      "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],\"listenerPath\":"
      "\"/run/agent.sock\",\"listenerMetadata\":\"meta\",\"syscalls\":["
      "{\"names\":[\"getcwd\",\"chmod\"],\"action\":\"SCMP_ACT_ALLOW\"},"
      "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":["
      "{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"},{\"index\":5,"
      "\"value\":18446744073709551615,\"valueTwo\":4,\"op\":"
      "\"SCMP_CMP_MASKED_EQ\"}]},"
      "{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"},"
      "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_TRACE\",\"errnoRet\":1}"
      "]}");
  const struct oci_seccomp *s = c->linux_->seccomp;
  assert_int_equal (s->default_action, OCI_SCMP_ERRNO);
  assert_true (s->has_default_errno_ret);
  assert_int_equal (s->default_errno_ret, 38);
  assert_string_equal (s->architectures[1], "SCMP_ARCH_X32");
  assert_string_equal (s->flags[0], "SECCOMP_FILTER_FLAG_LOG");
  assert_string_equal (s->listener_path, "/run/agent.sock");
  assert_string_equal (s->listener_metadata, "meta");
  assert_int_equal (s->n_syscalls, 4);
  assert_string_equal (s->syscalls[0].names[1], "chmod");
  assert_null (s->syscalls[0].args);
  const struct oci_seccomp_syscall *p = &s->syscalls[1];
  assert_int_equal (p->n_args, 2);
  assert_int_equal (p->args[0].op, OCI_SCMP_CMP_EQ);
  assert_false (p->args[0].has_value_two);
  assert_int_equal (p->args[1].index, 5);
  assert_true (p->args[1].value == UINT64_MAX);
  assert_int_equal (p->args[1].value_two, 4);
  assert_int_equal (s->syscalls[2].action, OCI_SCMP_NOTIFY);
  assert_true (s->syscalls[3].has_errno_ret);
  assert_int_equal (s->syscalls[3].errno_ret, 1);
}

static void
test_every_name_accepted (void **state)
{
  (void) state;
  for (int i = 0; i < OCI_SCMP_ACTIONS; i++)
    {
      _cleanup_free_ char *json = xasprintf (
          "{\"defaultAction\":\"%s\",\"listenerPath\":\"/l\",\"syscalls\":["
          "{\"names\":[\"read\"],\"action\":\"%s\"}]}",
          oci_seccomp_action_names[i], oci_seccomp_action_names[i]);
      _cleanup_config_ struct oci_config *c = parse_seccomp_ok (json);
      assert_int_equal (c->linux_->seccomp->default_action, i);
      assert_int_equal (c->linux_->seccomp->syscalls[0].action, i);
    }
  for (int i = 0; i < OCI_SCMP_OPS; i++)
    {
      _cleanup_free_ char *json = xasprintf (
          "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
          "[\"read\"],\"action\":\"SCMP_ACT_LOG\",\"args\":[{\"index\":1,"
          "\"value\":2,\"op\":\"%s\"}]}]}",
          oci_seccomp_op_names[i]);
      _cleanup_config_ struct oci_config *c = parse_seccomp_ok (json);
      assert_int_equal (c->linux_->seccomp->syscalls[0].args[0].op, i);
    }
  for (size_t i = 0; oci_seccomp_arch_names[i]; i++)
    {
      _cleanup_free_ char *json
          = xasprintf ("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                       "\"architectures\":[\"%s\"]}",
                       oci_seccomp_arch_names[i]);
      _cleanup_config_ struct oci_config *c = parse_seccomp_ok (json);
      assert_string_equal (c->linux_->seccomp->architectures[0],
                           oci_seccomp_arch_names[i]);
    }
  for (size_t i = 0; oci_seccomp_flag_names[i]; i++)
    {
      _cleanup_free_ char *json = xasprintf (
          "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"%s\"]}",
          oci_seccomp_flag_names[i]);
      _cleanup_config_ struct oci_config *c = parse_seccomp_ok (json);
      assert_string_equal (c->linux_->seccomp->flags[0],
                           oci_seccomp_flag_names[i]);
    }
}

static void
test_minimal (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c
      = parse_seccomp_ok ("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}");
  const struct oci_seccomp *s = c->linux_->seccomp;
  assert_int_equal (s->default_action, OCI_SCMP_ALLOW);
  assert_false (s->has_default_errno_ret);
  assert_null (s->architectures);
  assert_null (s->syscalls);
  assert_null (s->listener_path);
  assert_seccomp_canonical ("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}");
  assert_seccomp_canonical ("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                            "\"architectures\":[],\"flags\":[],"
                            "\"syscalls\":[]}");
}

static void
test_roundtrip_full (void **state)
{
  (void) state;
  assert_seccomp_canonical (
      "{\"defaultAction\":\"SCMP_ACT_TRACE\",\"defaultErrnoRet\":0,"
      "\"architectures\":[\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_ARM\"],"
      "\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\","
      "\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],"
      "\"listenerPath\":\"/run/seccomp.sock\",\"listenerMetadata\":"
      "\"MKNOD=/dev/null\","
      "\"syscalls\":[{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\","
      "\"args\":[{\"index\":0,\"value\":2114060288,\"valueTwo\":0,\"op\":"
      "\"SCMP_CMP_MASKED_EQ\"}]},{\"names\":[\"open\",\"openat\"],"
      "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,\"args\":[]},"
      "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}");
}

#define S(json) "{\"seccomp\":" json "}"
#define SP ".linux.seccomp"
#define ALLOW "\"defaultAction\":\"SCMP_ACT_ALLOW\""
#define CALL(fields) S ("{" ALLOW ",\"syscalls\":[" fields "]}")
#define ARG(fields)                                                           \
  CALL (                                                                      \
      "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[" fields \
      "]}")

static const struct bad_case bad_cases[] = {
  /* defaultAction, defaultErrnoRet */
  { "defaultAction required", S ("{\"architectures\":[]}"),
    SP ".defaultAction", "missing required field" },
  { "defaultAction known", S ("{\"defaultAction\":\"SCMP_ACT_KILL_ALL\"}"),
    SP ".defaultAction", "unknown action \"SCMP_ACT_KILL_ALL\"" },
  { "defaultAction is a string", S ("{\"defaultAction\":0}"),
    SP ".defaultAction", "expected a string" },
  { "defaultErrnoRet needs errno or trace",
    S ("{" ALLOW ",\"defaultErrnoRet\":1}"), SP ".defaultErrnoRet",
    "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not SCMP_ACT_ALLOW" },
  { "defaultErrnoRet uint32",
    S ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":-1}"),
    SP ".defaultErrnoRet", "out of range" },
  /* architectures, flags */
  { "architectures is an array", S ("{" ALLOW ",\"architectures\":\"x\"}"),
    SP ".architectures", "expected an array" },
  { "architectures known",
    S ("{" ALLOW ",\"architectures\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_Z80\"]}"),
    SP ".architectures[1]", "unknown architecture \"SCMP_ARCH_Z80\"" },
  { "flags known", S ("{" ALLOW ",\"flags\":[\"SECCOMP_FILTER_FLAG_FOO\"]}"),
    SP ".flags[0]", "unknown flag \"SECCOMP_FILTER_FLAG_FOO\"" },
  { "flags strings", S ("{" ALLOW ",\"flags\":[1]}"), SP ".flags[0]",
    "expected a string" },
  /* listener */
  { "listenerPath absolute", S ("{" ALLOW ",\"listenerPath\":\"agent.sock\"}"),
    SP ".listenerPath", "must be an absolute path" },
  { "listenerPath string", S ("{" ALLOW ",\"listenerPath\":true}"),
    SP ".listenerPath", "expected a string" },
  { "listenerMetadata needs listenerPath",
    S ("{" ALLOW ",\"listenerMetadata\":\"m\"}"), SP ".listenerMetadata",
    "must not be set without listenerPath" },
  { "notify default needs listenerPath",
    S ("{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}"), SP ".listenerPath",
    "required when defaultAction is SCMP_ACT_NOTIFY" },
  { "notify syscall needs listenerPath",
    CALL ("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
          "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_NOTIFY\"}"),
    SP ".listenerPath", "required by SCMP_ACT_NOTIFY in syscalls[1]" },
  /* syscalls */
  { "syscalls is an array", S ("{" ALLOW ",\"syscalls\":{}}"), SP ".syscalls",
    "expected an array" },
  { "syscall is an object", CALL ("\"read\""), SP ".syscalls[0]",
    "expected an object" },
  { "syscall names required", CALL ("{\"action\":\"SCMP_ACT_ALLOW\"}"),
    SP ".syscalls[0].names", "missing required field" },
  { "syscall names not empty",
    CALL ("{\"names\":[],\"action\":\"SCMP_ACT_ALLOW\"}"),
    SP ".syscalls[0].names", "must name at least one syscall" },
  { "syscall name not empty",
    CALL ("{\"names\":[\"read\",\"\"],\"action\":\"SCMP_ACT_ALLOW\"}"),
    SP ".syscalls[0].names[1]", "must not be empty" },
  { "syscall names strings",
    CALL ("{\"names\":[0],\"action\":\"SCMP_ACT_ALLOW\"}"),
    SP ".syscalls[0].names[0]", "expected a string" },
  { "syscall action required", CALL ("{\"names\":[\"read\"]}"),
    SP ".syscalls[0].action", "missing required field" },
  { "syscall action known",
    CALL ("{\"names\":[\"read\"],\"action\":\"ALLOW\"}"),
    SP ".syscalls[0].action", "unknown action \"ALLOW\"" },
  { "syscall errnoRet needs errno or trace",
    CALL ("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_KILL\",\"errnoRet\""
          ":1}"),
    SP ".syscalls[0].errnoRet", "only valid with SCMP_ACT_ERRNO" },
  { "syscall errnoRet uint32",
    CALL ("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\""
          ":4294967296}"),
    SP ".syscalls[0].errnoRet", "out of range" },
  { "syscall args is an array",
    CALL ("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":{}}"),
    SP ".syscalls[0].args", "expected an array" },
  /* args */
  { "arg is an object", ARG ("1"), SP ".syscalls[0].args[0]",
    "expected an object" },
  { "arg index required", ARG ("{\"value\":1,\"op\":\"SCMP_CMP_EQ\"}"),
    SP ".syscalls[0].args[0].index", "missing required field" },
  { "arg index at most 5",
    ARG ("{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}"),
    SP ".syscalls[0].args[0].index", "out of range [0, 5]" },
  { "arg index not negative",
    ARG ("{\"index\":-1,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}"),
    SP ".syscalls[0].args[0].index", "out of range" },
  { "arg value required", ARG ("{\"index\":0,\"op\":\"SCMP_CMP_EQ\"}"),
    SP ".syscalls[0].args[0].value", "missing required field" },
  { "arg value uint64",
    ARG ("{\"index\":0,\"value\":-1,\"op\":\"SCMP_CMP_EQ\"}"),
    SP ".syscalls[0].args[0].value", "out of range" },
  { "arg valueTwo integer",
    ARG ("{\"index\":0,\"value\":1,\"valueTwo\":\"2\",\"op\":"
         "\"SCMP_CMP_MASKED_EQ\"}"),
    SP ".syscalls[0].args[0].valueTwo", "expected an integer" },
  { "arg op required", ARG ("{\"index\":0,\"value\":1}"),
    SP ".syscalls[0].args[0].op", "missing required field" },
  { "arg op known",
    ARG ("{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},{\"index\":1,"
         "\"value\":1,\"op\":\"SCMP_CMP_MASKED_NE\"}"),
    SP ".syscalls[0].args[1].op", "unknown operator \"SCMP_CMP_MASKED_NE\"" },
};

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_name_tables),
    cmocka_unit_test (test_full),
    cmocka_unit_test (test_every_name_accepted),
    cmocka_unit_test (test_minimal),
    cmocka_unit_test (test_roundtrip_full),
  };
  return run_section_tests ("config-seccomp", tests, N_ELEMENTS (tests),
                            bad_cases, N_ELEMENTS (bad_cases));
}
