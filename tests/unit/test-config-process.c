/* The `process` section: parsing, validation, serialization. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/config-internal.h"

/* A process object with the two required fields and `extra` members. */
#define PROC(extra) "{\"args\":[\"sh\"],\"cwd\":\"/\"," extra "}"

static void
tree_freep (yajl_val *v)
{
  if (*v)
    yajl_tree_free (*v);
}
#define _cleanup_tree_ __attribute__ ((cleanup (tree_freep)))

/* Parse `json` as the value of config.json's "process". */
static int
parse (const char *json, struct oci_process **out, hy_error_t *err)
{
  _cleanup_tree_ yajl_val tree = NULL;
  if (oci_json_parse (json, &tree, err) < 0)
    return -1;
  const oci_jpath at = JPATH_KEY (JPATH_ROOT, "process");
  return oci_parse_process (tree, &at, out, err);
}

static struct oci_process *
parse_ok (const char *json)
{
  struct oci_process *p = NULL;
  _cleanup_error_ hy_error_t err = NULL;
  if (parse (json, &p, &err) < 0)
    fail_msg ("unexpected error: %s", err->msg);
  assert_non_null (p);
  return p;
}

/* ---- good documents ---- */

static void
test_minimal (void **state)
{
  (void) state;
  _cleanup_process_ struct oci_process *p = parse_ok (PROC ("\"x\":1"));
  assert_string_equal (p->args[0], "sh");
  assert_null (p->args[1]);
  assert_string_equal (p->cwd, "/");
  assert_false (p->terminal);
  assert_false (p->has_terminal);
  assert_false (p->has_user);
  assert_false (p->has_console_size);
  assert_null (p->env);
  assert_null (p->capabilities);
  assert_null (p->rlimits);
  assert_false (p->has_oom_score_adj);
  assert_null (p->scheduler);
  assert_null (p->io_priority);
  assert_null (p->exec_cpu_affinity);
}

static const char full_process[]
    = "{\"terminal\":true,"
      "\"consoleSize\":{\"height\":25,\"width\":80},"
      "\"user\":{\"uid\":1,\"gid\":2,\"umask\":63,\"additionalGids\":[5,6],"
      "\"username\":\"someone\"},"
      "\"args\":[\"sh\",\"-c\",\"echo hi\"],"
      "\"commandLine\":\"sh -c 'echo hi'\","
      "\"env\":[\"PATH=/usr/bin:/bin\",\"TERM=xterm\",\"EMPTY=\"],"
      "\"cwd\":\"/root\","
      "\"capabilities\":{\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\"],"
      "\"effective\":[\"CAP_KILL\"],\"inheritable\":[],"
      "\"permitted\":[\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
      "\"ambient\":[\"CAP_NET_BIND_SERVICE\"]},"
      "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":4096},"
      "{\"type\":\"RLIMIT_CORE\",\"soft\":18446744073709551615,"
      "\"hard\":18446744073709551615}],"
      "\"noNewPrivileges\":true,"
      "\"apparmorProfile\":\"acme_secure_profile\","
      "\"oomScoreAdj\":-500,"
      "\"selinuxLabel\":\"system_u:system_r:svirt_lxc_net_t:s0:c124,c675\","
      "\"scheduler\":{\"policy\":\"SCHED_DEADLINE\",\"nice\":-20,"
      "\"priority\":0,\"flags\":[\"SCHED_FLAG_RESET_ON_FORK\","
      "\"SCHED_FLAG_UTIL_CLAMP_MAX\"],\"runtime\":10000000,"
      "\"deadline\":20000000,\"period\":30000000},"
      "\"ioPriority\":{\"class\":\"IOPRIO_CLASS_IDLE\",\"priority\":4},"
      "\"execCPUAffinity\":{\"initial\":\"7\",\"final\":\"0-3,7\"}}";

static void
test_full (void **state)
{
  (void) state;
  _cleanup_process_ struct oci_process *p = parse_ok (full_process);
  assert_true (p->terminal);
  assert_true (p->has_terminal);
  assert_true (p->has_console_size);
  assert_int_equal (p->console_height, 25);
  assert_int_equal (p->console_width, 80);

  assert_true (p->has_user);
  assert_int_equal (p->user.uid, 1);
  assert_int_equal (p->user.gid, 2);
  assert_true (p->user.has_umask);
  assert_int_equal (p->user.umask, 077);
  assert_int_equal (p->user.n_additional_gids, 2);
  assert_int_equal (p->user.additional_gids[0], 5);
  assert_int_equal (p->user.additional_gids[1], 6);
  assert_string_equal (p->user.username, "someone");

  assert_int_equal (strv_len (p->args), 3);
  assert_string_equal (p->args[2], "echo hi");
  assert_string_equal (p->command_line, "sh -c 'echo hi'");
  assert_int_equal (strv_len (p->env), 3);
  assert_string_equal (p->env[2], "EMPTY=");
  assert_string_equal (p->cwd, "/root");

  assert_non_null (p->capabilities);
  assert_int_equal (strv_len (p->capabilities->bounding), 2);
  assert_string_equal (p->capabilities->effective[0], "CAP_KILL");
  assert_non_null (p->capabilities->inheritable);
  assert_null (p->capabilities->inheritable[0]);
  assert_int_equal (strv_len (p->capabilities->permitted), 2);
  assert_string_equal (p->capabilities->ambient[0], "CAP_NET_BIND_SERVICE");

  assert_int_equal (p->n_rlimits, 2);
  assert_string_equal (p->rlimits[0].type, "RLIMIT_NOFILE");
  assert_int_equal (p->rlimits[0].resource, RLIMIT_NOFILE);
  assert_int_equal (p->rlimits[0].soft, 1024);
  assert_int_equal (p->rlimits[0].hard, 4096);
  assert_int_equal (p->rlimits[1].resource, RLIMIT_CORE);
  assert_true (p->rlimits[1].soft == UINT64_MAX);
  assert_true (p->rlimits[1].hard == UINT64_MAX);

  assert_true (p->no_new_privileges);
  assert_true (p->has_no_new_privileges);
  assert_string_equal (p->apparmor_profile, "acme_secure_profile");
  assert_true (p->has_oom_score_adj);
  assert_int_equal (p->oom_score_adj, -500);
  assert_non_null (strstr (p->selinux_label, "svirt_lxc_net_t"));

  struct oci_scheduler *s = p->scheduler;
  assert_non_null (s);
  assert_string_equal (s->policy, "SCHED_DEADLINE");
  assert_true (s->has_nice);
  assert_int_equal (s->nice, -20);
  assert_true (s->has_priority);
  assert_int_equal (s->priority, 0);
  assert_int_equal (strv_len (s->flags), 2);
  assert_true (s->has_runtime && s->has_deadline && s->has_period);
  assert_int_equal (s->runtime, 10000000);
  assert_int_equal (s->deadline, 20000000);
  assert_int_equal (s->period, 30000000);

  assert_string_equal (p->io_priority->klass, "IOPRIO_CLASS_IDLE");
  assert_int_equal (p->io_priority->priority, 4);
  assert_string_equal (p->exec_cpu_affinity->initial, "7");
  assert_string_equal (p->exec_cpu_affinity->final, "0-3,7");
}

static void
test_every_rlimit_name (void **state)
{
  (void) state;
  static const struct
  {
    const char *name;
    int resource;
  } all[] = {
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
  for (size_t i = 0; i < sizeof (all) / sizeof (all[0]); i++)
    {
      _cleanup_free_ char *json = xasprintf (
          PROC ("\"rlimits\":[{\"type\":\"%s\",\"soft\":1,\"hard\":2}]"),
          all[i].name);
      _cleanup_process_ struct oci_process *p = parse_ok (json);
      assert_int_equal (p->n_rlimits, 1);
      assert_int_equal (p->rlimits[0].resource, all[i].resource);
    }
}

static void
test_every_scheduler_name (void **state)
{
  (void) state;
  static const char *const policies[]
      = { "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",      "SCHED_BATCH",
          "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE" };
  for (size_t i = 0; i < sizeof (policies) / sizeof (policies[0]); i++)
    {
      _cleanup_free_ char *json = xasprintf (
          PROC ("\"scheduler\":{\"policy\":\"%s\"}"), policies[i]);
      _cleanup_process_ struct oci_process *p = parse_ok (json);
      assert_string_equal (p->scheduler->policy, policies[i]);
      assert_false (p->scheduler->has_nice);
      assert_false (p->scheduler->has_priority);
      assert_null (p->scheduler->flags);
    }
  _cleanup_process_ struct oci_process *p = parse_ok (PROC (
      "\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"flags\":["
      "\"SCHED_FLAG_RESET_ON_FORK\",\"SCHED_FLAG_RECLAIM\","
      "\"SCHED_FLAG_DL_OVERRUN\",\"SCHED_FLAG_KEEP_POLICY\","
      "\"SCHED_FLAG_KEEP_PARAMS\",\"SCHED_FLAG_UTIL_CLAMP_MIN\","
      "\"SCHED_FLAG_UTIL_CLAMP_MAX\"]}"));
  assert_int_equal (strv_len (p->scheduler->flags), 7);
  for (const char *c = "RT\0BE\0IDLE\0"; *c; c += strlen (c) + 1)
    {
      _cleanup_free_ char *json = xasprintf (
          PROC ("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_%s\","
                "\"priority\":7}"),
          c);
      _cleanup_process_ struct oci_process *q = parse_ok (json);
      assert_int_equal (q->io_priority->priority, 7);
    }
}

static void
test_limits_accepted (void **state)
{
  (void) state;
  _cleanup_process_ struct oci_process *p = parse_ok (
      PROC ("\"user\":{\"uid\":4294967295,\"gid\":0,\"umask\":511},"
            "\"oomScoreAdj\":1000,"
            "\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":19,"
            "\"priority\":-2147483648},"
            "\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":0},"
            "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":5,"
            "\"hard\":5}]"));
  assert_int_equal (p->user.uid, UINT32_MAX);
  assert_int_equal (p->user.umask, 0777);
  assert_int_equal (p->oom_score_adj, 1000);
  assert_int_equal (p->scheduler->nice, 19);
  assert_int_equal (p->scheduler->priority, INT32_MIN);
  _cleanup_process_ struct oci_process *q
      = parse_ok (PROC ("\"oomScoreAdj\":-1000"));
  assert_int_equal (q->oom_score_adj, -1000);
}

static void
test_null_is_absent (void **state)
{
  (void) state;
  _cleanup_process_ struct oci_process *p = parse_ok (
      PROC ("\"env\":null,\"user\":null,\"capabilities\":null,"
            "\"rlimits\":null,\"terminal\":null,\"scheduler\":null"));
  assert_null (p->env);
  assert_false (p->has_user);
  assert_null (p->capabilities);
  assert_null (p->rlimits);
  assert_false (p->has_terminal);
  assert_null (p->scheduler);
}

static void
test_cpu_lists (void **state)
{
  (void) state;
  static const char *const good[]
      = { "", "0", "7", "0-3", "0-3,7", "1,2,3", "0-0", "4-7,0-1,12" };
  static const char *const bad[]
      = { "a",  "-1", "3-1", "1,",  ",1",     "1--2",       "1-",
          " 1", "1 ", "1;2", "0x1", "1-2-3", "99999999999", "1,,2" };
  for (size_t i = 0; i < sizeof (good) / sizeof (good[0]); i++)
    if (!oci_is_valid_cpu_list (good[i]))
      fail_msg ("\"%s\" rejected", good[i]);
  for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    if (oci_is_valid_cpu_list (bad[i]))
      fail_msg ("\"%s\" accepted", bad[i]);
  _cleanup_process_ struct oci_process *p
      = parse_ok (PROC ("\"execCPUAffinity\":{\"final\":\"\"}"));
  assert_null (p->exec_cpu_affinity->initial);
  assert_string_equal (p->exec_cpu_affinity->final, "");
}

/* ---- serialization ---- */

static char *
to_json (const char *json, bool pretty)
{
  _cleanup_process_ struct oci_process *p = parse_ok (json);
  return oci_process_to_json (p, pretty);
}

static void
assert_round_trip (const char *json)
{
  _cleanup_free_ char *first = to_json (json, false);
  _cleanup_free_ char *second = to_json (first, false);
  assert_string_equal (first, second);
  _cleanup_free_ char *pretty = to_json (json, true);
  _cleanup_free_ char *pretty2 = to_json (pretty, true);
  assert_string_equal (pretty, pretty2);
  _cleanup_free_ char *compact = to_json (pretty, false);
  assert_string_equal (compact, first);
}

static void
test_round_trip_full (void **state)
{
  (void) state;
  assert_round_trip (full_process);
  /* full_process is written in the canonical order: exact round trip. */
  _cleanup_free_ char *out = to_json (full_process, false);
  assert_string_equal (out, full_process);
}

static void
test_round_trip_exact_presence (void **state)
{
  (void) state;
  /* false booleans, empty arrays and empty objects are kept as written. */
  static const char *const docs[] = {
    "{\"terminal\":false,\"args\":[\"sh\"],\"cwd\":\"/\","
    "\"noNewPrivileges\":false}",
    "{\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],\"cwd\":\"/\"}",
    "{\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[]},"
    "\"args\":[\"sh\"],\"env\":[],\"cwd\":\"/\",\"capabilities\":{},"
    "\"rlimits\":[]}",
    "{\"args\":[\"sh\"],\"cwd\":\"/\",\"capabilities\":{\"ambient\":[]},"
    "\"oomScoreAdj\":0,\"execCPUAffinity\":{}}",
    "{\"args\":[\"sh\"],\"cwd\":\"/\","
    "\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"flags\":[]}}",
    "{\"consoleSize\":{\"height\":0,\"width\":0},\"args\":[\"sh\"],"
    "\"cwd\":\"/\"}",
  };
  for (size_t i = 0; i < sizeof (docs) / sizeof (docs[0]); i++)
    {
      _cleanup_free_ char *out = to_json (docs[i], false);
      assert_string_equal (out, docs[i]);
      assert_round_trip (docs[i]);
    }
  /* Unknown fields are dropped, key order becomes canonical. */
  _cleanup_free_ char *out
      = to_json ("{\"cwd\":\"/x\",\"foo\":{\"bar\":1},\"args\":[\"a\"]}",
                 false);
  assert_string_equal (out, "{\"args\":[\"a\"],\"cwd\":\"/x\"}");
}

static void
test_gen_from_code (void **state)
{
  (void) state;
  /* Built by code, with no has_* flags: set values are still written. */
  char *args[] = { "/bin/true", NULL };
  struct oci_process p = { 0 };
  p.terminal = true;
  p.user.uid = 1000;
  p.args = args;
  p.cwd = "/";
  p.no_new_privileges = true;
  _cleanup_free_ char *json = oci_process_to_json (&p, false);
  assert_string_equal (json, "{\"terminal\":true,\"user\":{\"uid\":1000,"
                             "\"gid\":0},\"args\":[\"/bin/true\"],"
                             "\"cwd\":\"/\",\"noNewPrivileges\":true}");
}

static void
test_gen_member (void **state)
{
  (void) state;
  _cleanup_process_ struct oci_process *p = parse_ok (PROC ("\"x\":0"));
  yajl_gen g = oci_gen_new (false);
  yajl_gen_map_open (g);
  oci_gen_process (g, p);
  yajl_gen_map_close (g);
  _cleanup_free_ char *json = oci_gen_finish (g, NULL);
  assert_string_equal (json,
                       "{\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}}");
}

/* ---- the standalone document ---- */

static void
test_document_parse (void **state)
{
  (void) state;
  _cleanup_process_ struct oci_process *p = NULL;
  _cleanup_error_ hy_error_t err = NULL;
  assert_int_equal (
      oci_process_parse (full_process, "process.json", &p, &err), 0);
  assert_null (err);
  assert_string_equal (p->cwd, "/root");
  _cleanup_free_ char *json = oci_process_to_json (p, false);
  assert_string_equal (json, full_process);
}

static void
assert_document_error (const char *text, const char *expect)
{
  struct oci_process *p = NULL;
  _cleanup_error_ hy_error_t err = NULL;
  assert_true (oci_process_parse (text, "process.json", &p, &err) < 0);
  assert_null (p);
  assert_non_null (err);
  if (!str_has_prefix (err->msg, expect))
    fail_msg ("error \"%s\" does not start with \"%s\"", err->msg, expect);
}

static void
test_document_errors (void **state)
{
  (void) state;
  assert_document_error ("{\"cwd\":\"/\"}",
                         "process.json: .args: missing required field");
  assert_document_error ("{\"args\":\"sh\",\"cwd\":\"/\"}",
                         "process.json: .args: expected an array of strings");
  assert_document_error ("{\"args\":[\"sh\"],\"cwd\":\"x\"}",
                         "process.json: .cwd: must be an absolute path");
  assert_document_error ("{\"args\":[\"sh\"],\"cwd\":\"/\",\"env\":[\"A\"]}",
                         "process.json: .env[0]: ");
  assert_document_error ("[]", "process.json: .: expected an object");
  assert_document_error ("{\"args\":", "process.json: invalid JSON");
}

/* Through oci_config_parse: the section is wired in with its path. */
static void
test_in_config (void **state)
{
  (void) state;
  static const char doc[]
      = "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"sh\"],"
        "\"cwd\":\"/\",\"user\":{\"uid\":1,\"gid\":1}},"
        "\"root\":{\"path\":\"rootfs\"}}";
  _cleanup_config_ struct oci_config *c = NULL;
  _cleanup_error_ hy_error_t err = NULL;
  if (oci_config_parse (doc, "config.json", &c, &err) < 0)
    fail_msg ("unexpected error: %s", err->msg);
  assert_int_equal (c->process->user.uid, 1);
  _cleanup_free_ char *json = oci_config_to_json (c, false);
  assert_non_null (strstr (json, "\"process\":{\"user\":{\"uid\":1,"
                                 "\"gid\":1},\"args\":[\"sh\"],"
                                 "\"cwd\":\"/\"}"));

  struct oci_config *bad = NULL;
  _cleanup_error_ hy_error_t err2 = NULL;
  assert_true (oci_config_parse ("{\"ociVersion\":\"1.2.0\","
                                 "\"root\":{\"path\":\"rootfs\"},"
                                 "\"process\":{\"args\":[\"sh\"],"
                                 "\"cwd\":\"rel\"}}",
                                 "config.json", &bad, &err2)
               < 0);
  assert_null (bad);
  assert_string_equal (err2->msg,
                       "config.json: .process.cwd: must be an absolute path");
}

/* ---- bad documents: one per validation rule ---- */

struct bad_case
{
  const char *name;
  const char *json;
  const char *path;   /* the error must start with "<path>: " */
  const char *reason; /* ... and contain this, when not NULL */
};

static const struct bad_case bad_cases[] = {
  { "not_object", "[]", ".process", "expected an object" },
  { "terminal_type", PROC ("\"terminal\":1"), ".process.terminal",
    "expected a boolean" },
  { "console_size_type", PROC ("\"consoleSize\":[]"), ".process.consoleSize",
    "expected an object" },
  { "console_size_no_width", PROC ("\"consoleSize\":{\"height\":1}"),
    ".process.consoleSize.width", "missing required field" },
  { "console_size_no_height", PROC ("\"consoleSize\":{\"width\":1}"),
    ".process.consoleSize.height", "missing required field" },
  { "console_size_negative",
    PROC ("\"consoleSize\":{\"height\":-1,\"width\":1}"),
    ".process.consoleSize.height", NULL },
  { "user_type", PROC ("\"user\":\"root\""), ".process.user",
    "expected an object" },
  { "user_no_uid", PROC ("\"user\":{\"gid\":0}"), ".process.user.uid",
    "missing required field" },
  { "user_no_gid", PROC ("\"user\":{\"uid\":0}"), ".process.user.gid",
    "missing required field" },
  { "user_uid_too_big", PROC ("\"user\":{\"uid\":4294967296,\"gid\":0}"),
    ".process.user.uid", "out of range" },
  { "user_gid_negative", PROC ("\"user\":{\"uid\":0,\"gid\":-1}"),
    ".process.user.gid", NULL },
  { "user_uid_string", PROC ("\"user\":{\"uid\":\"0\",\"gid\":0}"),
    ".process.user.uid", "expected an integer" },
  { "user_umask_too_big",
    PROC ("\"user\":{\"uid\":0,\"gid\":0,\"umask\":512}"),
    ".process.user.umask", "must be at most 0777" },
  { "user_umask_fraction",
    PROC ("\"user\":{\"uid\":0,\"gid\":0,\"umask\":1.5}"),
    ".process.user.umask", "expected an integer" },
  { "user_gids_type",
    PROC ("\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":5}"),
    ".process.user.additionalGids", "expected an array" },
  { "user_gids_string",
    PROC ("\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[1,\"x\"]}"),
    ".process.user.additionalGids[1]", "expected an integer" },
  { "user_gids_negative",
    PROC ("\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[-1]}"),
    ".process.user.additionalGids[0]", "expected an integer" },
  { "user_gids_fraction",
    PROC ("\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[1,2,3e2]}"),
    ".process.user.additionalGids[2]", "expected an integer" },
  { "user_gids_too_big",
    PROC ("\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[4294967296]}"),
    ".process.user.additionalGids[0]", "expected an integer" },
  { "user_username_type",
    PROC ("\"user\":{\"uid\":0,\"gid\":0,\"username\":1}"),
    ".process.user.username", "expected a string" },
  { "args_missing", "{\"cwd\":\"/\"}", ".process.args",
    "missing required field" },
  { "args_empty", "{\"args\":[],\"cwd\":\"/\"}", ".process.args",
    "must have at least one entry" },
  { "args_type", "{\"args\":\"sh\",\"cwd\":\"/\"}", ".process.args",
    "expected an array of strings" },
  { "args_item_type", "{\"args\":[\"sh\",2],\"cwd\":\"/\"}",
    ".process.args[1]", "expected a string" },
  { "command_line_type", PROC ("\"commandLine\":[\"sh\"]"),
    ".process.commandLine", "expected a string" },
  { "env_type", PROC ("\"env\":{\"A\":\"1\"}"), ".process.env",
    "expected an array of strings" },
  { "env_item_type", PROC ("\"env\":[\"A=1\",null]"), ".process.env[1]",
    "expected a string" },
  { "env_no_equals", PROC ("\"env\":[\"A=1\",\"FOO\"]"), ".process.env[1]",
    "invalid environment entry \"FOO\"" },
  { "env_empty_name", PROC ("\"env\":[\"=1\"]"), ".process.env[0]",
    "invalid environment entry" },
  { "cwd_missing", "{\"args\":[\"sh\"]}", ".process.cwd",
    "missing required field" },
  { "cwd_relative", "{\"args\":[\"sh\"],\"cwd\":\"root\"}", ".process.cwd",
    "must be an absolute path" },
  { "cwd_empty", "{\"args\":[\"sh\"],\"cwd\":\"\"}", ".process.cwd",
    "must be an absolute path" },
  { "cwd_type", "{\"args\":[\"sh\"],\"cwd\":true}", ".process.cwd",
    "expected a string" },
  { "caps_type", PROC ("\"capabilities\":[\"CAP_KILL\"]"),
    ".process.capabilities", "expected an object" },
  { "caps_bounding_invalid",
    PROC ("\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"FOO\"]}"),
    ".process.capabilities.bounding[1]", "invalid capability \"FOO\"" },
  { "caps_effective_lowercase",
    PROC ("\"capabilities\":{\"effective\":[\"cap_kill\"]}"),
    ".process.capabilities.effective[0]", "invalid capability" },
  { "caps_inheritable_bare_prefix",
    PROC ("\"capabilities\":{\"inheritable\":[\"CAP_\"]}"),
    ".process.capabilities.inheritable[0]", "invalid capability" },
  { "caps_permitted_space",
    PROC ("\"capabilities\":{\"permitted\":[\"CAP_SYS ADMIN\"]}"),
    ".process.capabilities.permitted[0]", "invalid capability" },
  { "caps_ambient_invalid",
    PROC ("\"capabilities\":{\"ambient\":[\"CAP_CHOWN\",\"CAP_KILL\","
          "\"CHOWN\"]}"),
    ".process.capabilities.ambient[2]", "invalid capability" },
  { "caps_set_type", PROC ("\"capabilities\":{\"bounding\":\"CAP_KILL\"}"),
    ".process.capabilities.bounding", "expected an array of strings" },
  { "rlimits_type", PROC ("\"rlimits\":{}"), ".process.rlimits",
    "expected an array" },
  { "rlimit_item_type", PROC ("\"rlimits\":[1]"), ".process.rlimits[0]",
    "expected an object" },
  { "rlimit_no_type", PROC ("\"rlimits\":[{\"soft\":1,\"hard\":1}]"),
    ".process.rlimits[0].type", "missing required field" },
  { "rlimit_unknown_type",
    PROC ("\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1,\"hard\":1},"
          "{\"type\":\"RLIMIT_FOO\",\"soft\":1,\"hard\":1}]"),
    ".process.rlimits[1].type", "unknown rlimit \"RLIMIT_FOO\"" },
  { "rlimit_no_soft", PROC ("\"rlimits\":[{\"type\":\"RLIMIT_CPU\","
                            "\"hard\":1}]"),
    ".process.rlimits[0].soft", "missing required field" },
  { "rlimit_no_hard", PROC ("\"rlimits\":[{\"type\":\"RLIMIT_CPU\","
                            "\"soft\":1}]"),
    ".process.rlimits[0].hard", "missing required field" },
  { "rlimit_soft_negative",
    PROC ("\"rlimits\":[{\"type\":\"RLIMIT_CPU\",\"soft\":-1,\"hard\":1}]"),
    ".process.rlimits[0].soft", NULL },
  { "rlimit_hard_too_big",
    PROC ("\"rlimits\":[{\"type\":\"RLIMIT_CPU\",\"soft\":1,"
          "\"hard\":18446744073709551616}]"),
    ".process.rlimits[0].hard", NULL },
  { "rlimit_soft_above_hard",
    PROC ("\"rlimits\":[{\"type\":\"RLIMIT_CPU\",\"soft\":2,\"hard\":1}]"),
    ".process.rlimits[0].soft", "exceeds the hard limit 1" },
  { "rlimit_duplicate",
    PROC ("\"rlimits\":[{\"type\":\"RLIMIT_CPU\",\"soft\":1,\"hard\":1},"
          "{\"type\":\"RLIMIT_AS\",\"soft\":1,\"hard\":1},"
          "{\"type\":\"RLIMIT_CPU\",\"soft\":1,\"hard\":1}]"),
    ".process.rlimits[2].type", "duplicate rlimit \"RLIMIT_CPU\"" },
  { "no_new_privileges_type", PROC ("\"noNewPrivileges\":\"true\""),
    ".process.noNewPrivileges", "expected a boolean" },
  { "apparmor_type", PROC ("\"apparmorProfile\":{}"),
    ".process.apparmorProfile", "expected a string" },
  { "selinux_type", PROC ("\"selinuxLabel\":7"), ".process.selinuxLabel",
    "expected a string" },
  { "oom_too_big", PROC ("\"oomScoreAdj\":1001"), ".process.oomScoreAdj",
    "out of range" },
  { "oom_too_small", PROC ("\"oomScoreAdj\":-1001"), ".process.oomScoreAdj",
    "out of range" },
  { "oom_type", PROC ("\"oomScoreAdj\":\"5\""), ".process.oomScoreAdj",
    "expected an integer" },
  { "scheduler_type", PROC ("\"scheduler\":\"SCHED_FIFO\""),
    ".process.scheduler", "expected an object" },
  { "scheduler_no_policy", PROC ("\"scheduler\":{\"nice\":0}"),
    ".process.scheduler.policy", "missing required field" },
  { "scheduler_bad_policy", PROC ("\"scheduler\":{\"policy\":\"SCHED_RT\"}"),
    ".process.scheduler.policy", "unknown scheduling policy \"SCHED_RT\"" },
  { "scheduler_nice_too_big",
    PROC ("\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":20}"),
    ".process.scheduler.nice", "out of range" },
  { "scheduler_nice_too_small",
    PROC ("\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":-21}"),
    ".process.scheduler.nice", "out of range" },
  { "scheduler_priority_range",
    PROC ("\"scheduler\":{\"policy\":\"SCHED_FIFO\","
          "\"priority\":2147483648}"),
    ".process.scheduler.priority", "out of range" },
  { "scheduler_flags_type",
    PROC ("\"scheduler\":{\"policy\":\"SCHED_FIFO\",\"flags\":\"x\"}"),
    ".process.scheduler.flags", "expected an array of strings" },
  { "scheduler_bad_flag",
    PROC ("\"scheduler\":{\"policy\":\"SCHED_FIFO\",\"flags\":["
          "\"SCHED_FLAG_RECLAIM\",\"SCHED_FLAG_FOO\"]}"),
    ".process.scheduler.flags[1]", "unknown scheduler flag" },
  { "scheduler_runtime_negative",
    PROC ("\"scheduler\":{\"policy\":\"SCHED_DEADLINE\",\"runtime\":-1}"),
    ".process.scheduler.runtime", NULL },
  { "scheduler_deadline_type",
    PROC ("\"scheduler\":{\"policy\":\"SCHED_DEADLINE\",\"deadline\":1.0}"),
    ".process.scheduler.deadline", "expected an integer" },
  { "scheduler_period_type",
    PROC ("\"scheduler\":{\"policy\":\"SCHED_DEADLINE\",\"period\":\"1\"}"),
    ".process.scheduler.period", "expected an integer" },
  { "io_priority_type", PROC ("\"ioPriority\":4"), ".process.ioPriority",
    "expected an object" },
  { "io_priority_no_class", PROC ("\"ioPriority\":{\"priority\":4}"),
    ".process.ioPriority.class", "missing required field" },
  { "io_priority_bad_class",
    PROC ("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_NONE\",\"priority\":0}"),
    ".process.ioPriority.class", "unknown I/O priority class" },
  { "io_priority_no_priority",
    PROC ("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\"}"),
    ".process.ioPriority.priority", "missing required field" },
  { "io_priority_too_big",
    PROC ("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":8}"),
    ".process.ioPriority.priority", "out of range" },
  { "io_priority_negative",
    PROC ("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":-1}"),
    ".process.ioPriority.priority", "out of range" },
  { "cpu_affinity_type", PROC ("\"execCPUAffinity\":\"0-3\""),
    ".process.execCPUAffinity", "expected an object" },
  { "cpu_affinity_initial_range",
    PROC ("\"execCPUAffinity\":{\"initial\":\"3-1\"}"),
    ".process.execCPUAffinity.initial", "invalid CPU list \"3-1\"" },
  { "cpu_affinity_final_syntax",
    PROC ("\"execCPUAffinity\":{\"initial\":\"0\",\"final\":\"0-3,\"}"),
    ".process.execCPUAffinity.final", "invalid CPU list" },
  { "cpu_affinity_final_type",
    PROC ("\"execCPUAffinity\":{\"final\":[0]}"),
    ".process.execCPUAffinity.final", "expected a string" },
};

static void
test_bad_case (void **state)
{
  const struct bad_case *c = *state;
  struct oci_process *p = NULL;
  _cleanup_error_ hy_error_t err = NULL;
  if (parse (c->json, &p, &err) == 0)
    {
      oci_process_free (p);
      fail_msg ("%s: accepted %s", c->name, c->json);
    }
  assert_null (p);
  assert_non_null (err);
  _cleanup_free_ char *prefix = xasprintf ("%s: ", c->path);
  if (!str_has_prefix (err->msg, prefix)
      || (c->reason && strstr (err->msg, c->reason) == NULL))
    fail_msg ("%s: error \"%s\", expected \"%s%s\"", c->name, err->msg,
              prefix, c->reason ? c->reason : "");
}

int
main (void)
{
  static const struct CMUnitTest fixed[] = {
    cmocka_unit_test (test_minimal),
    cmocka_unit_test (test_full),
    cmocka_unit_test (test_every_rlimit_name),
    cmocka_unit_test (test_every_scheduler_name),
    cmocka_unit_test (test_limits_accepted),
    cmocka_unit_test (test_null_is_absent),
    cmocka_unit_test (test_cpu_lists),
    cmocka_unit_test (test_round_trip_full),
    cmocka_unit_test (test_round_trip_exact_presence),
    cmocka_unit_test (test_gen_from_code),
    cmocka_unit_test (test_gen_member),
    cmocka_unit_test (test_document_parse),
    cmocka_unit_test (test_document_errors),
    cmocka_unit_test (test_in_config),
  };
  const size_t n_fixed = sizeof (fixed) / sizeof (fixed[0]);
  const size_t n_bad = sizeof (bad_cases) / sizeof (bad_cases[0]);
  struct CMUnitTest *tests = xmalloc0 ((n_fixed + n_bad) * sizeof (*tests));
  memcpy (tests, fixed, sizeof (fixed));
  for (size_t i = 0; i < n_bad; i++)
    tests[n_fixed + i] = (struct CMUnitTest){
      .name = bad_cases[i].name,
      .test_func = test_bad_case,
      .initial_state = (void *) &bad_cases[i],
    };
  int failed = _cmocka_run_group_tests ("config-process", tests,
                                        n_fixed + n_bad, NULL, NULL);
  free (tests);
  return failed;
}
