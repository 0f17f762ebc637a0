/* The `hooks` section: parsing, validation, serialization. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/config-internal.h"

static void
tree_freep (yajl_val *v)
{
  if (*v)
    yajl_tree_free (*v);
}
#define _cleanup_tree_ __attribute__ ((cleanup (tree_freep)))

static void
hooks_freep (struct oci_hooks **h)
{
  oci_hooks_free (*h);
}
#define _cleanup_hooks_ __attribute__ ((cleanup (hooks_freep)))

/* Parse `json` as the value of config.json's "hooks". */
static int
parse (const char *json, struct oci_hooks **out, hy_error_t *err)
{
  _cleanup_tree_ yajl_val tree = NULL;
  if (oci_json_parse (json, &tree, err) < 0)
    return -1;
  const oci_jpath at = JPATH_KEY (JPATH_ROOT, "hooks");
  return oci_parse_hooks (tree, &at, out, err);
}

static struct oci_hooks *
parse_ok (const char *json)
{
  struct oci_hooks *h = NULL;
  _cleanup_error_ hy_error_t err = NULL;
  if (parse (json, &h, &err) < 0)
    fail_msg ("unexpected error: %s", err->msg);
  assert_non_null (h);
  return h;
}

/* {"hooks":...} as config.json carries it. */
static char *
gen_doc (const struct oci_hooks *h, bool pretty)
{
  yajl_gen g = oci_gen_new (pretty);
  yajl_gen_map_open (g);
  oci_gen_hooks (g, h);
  yajl_gen_map_close (g);
  return oci_gen_finish (g, NULL);
}

/* The compact value of "hooks" alone. */
static char *
gen (const struct oci_hooks *h)
{
  static const char prefix[] = "{\"hooks\":";
  _cleanup_free_ char *doc = gen_doc (h, false);
  assert_true (str_has_prefix (doc, prefix));
  size_t len = strlen (doc);
  assert_int_equal (doc[len - 1], '}');
  return xstrndup (doc + strlen (prefix), len - strlen (prefix) - 1);
}

static void
test_names (void **state)
{
  (void) state;
  assert_string_equal (oci_hook_kind_names[OCI_HOOK_PRESTART], "prestart");
  assert_string_equal (oci_hook_kind_names[OCI_HOOK_CREATE_RUNTIME],
                       "createRuntime");
  assert_string_equal (oci_hook_kind_names[OCI_HOOK_CREATE_CONTAINER],
                       "createContainer");
  assert_string_equal (oci_hook_kind_names[OCI_HOOK_START_CONTAINER],
                       "startContainer");
  assert_string_equal (oci_hook_kind_names[OCI_HOOK_POSTSTART], "poststart");
  assert_string_equal (oci_hook_kind_names[OCI_HOOK_POSTSTOP], "poststop");
}

static const char all_hooks[]
    = "{\"prestart\":[{\"path\":\"/usr/bin/fix-mounts\","
      "\"args\":[\"fix-mounts\",\"arg1\",\"arg2\"],"
      "\"env\":[\"key1=value1\"]},{\"path\":\"/usr/bin/setup-network\"}],"
      "\"createRuntime\":[{\"path\":\"/usr/bin/fix-mounts\","
      "\"timeout\":5}],"
      "\"createContainer\":[{\"path\":\"/a\",\"args\":[]}],"
      "\"startContainer\":[{\"path\":\"/usr/bin/refresh-ldcache\","
      "\"env\":[]}],"
      "\"poststart\":[{\"path\":\"/usr/bin/notify-start\",\"timeout\":1}],"
      "\"poststop\":[{\"path\":\"/usr/sbin/cleanup.sh\","
      "\"args\":[\"cleanup.sh\",\"-f\"],\"timeout\":2147483647}]}";

static void
test_all_kinds (void **state)
{
  (void) state;
  _cleanup_hooks_ struct oci_hooks *h = parse_ok (all_hooks);
  for (int k = 0; k < OCI_HOOK_KINDS; k++)
    assert_true (h->present[k]);
  assert_int_equal (h->count[OCI_HOOK_PRESTART], 2);
  struct oci_hook *pre = h->list[OCI_HOOK_PRESTART];
  assert_string_equal (pre[0].path, "/usr/bin/fix-mounts");
  assert_int_equal (strv_len (pre[0].args), 3);
  assert_string_equal (pre[0].args[2], "arg2");
  assert_string_equal (pre[0].env[0], "key1=value1");
  assert_false (pre[0].has_timeout);
  assert_null (pre[1].args);
  assert_null (pre[1].env);

  struct oci_hook *cr = h->list[OCI_HOOK_CREATE_RUNTIME];
  assert_int_equal (h->count[OCI_HOOK_CREATE_RUNTIME], 1);
  assert_true (cr[0].has_timeout);
  assert_int_equal (cr[0].timeout, 5);

  assert_non_null (h->list[OCI_HOOK_CREATE_CONTAINER][0].args);
  assert_null (h->list[OCI_HOOK_CREATE_CONTAINER][0].args[0]);
  assert_non_null (h->list[OCI_HOOK_START_CONTAINER][0].env);
  assert_int_equal (h->list[OCI_HOOK_POSTSTART][0].timeout, 1);
  assert_int_equal (h->list[OCI_HOOK_POSTSTOP][0].timeout, INT32_MAX);
}

static void
test_empty_and_absent (void **state)
{
  (void) state;
  _cleanup_hooks_ struct oci_hooks *h = parse_ok (
      "{\"prestart\":[],\"poststop\":null,\"unknown\":[{\"path\":\"x\"}]}");
  assert_true (h->present[OCI_HOOK_PRESTART]);
  assert_int_equal (h->count[OCI_HOOK_PRESTART], 0);
  for (int k = OCI_HOOK_CREATE_RUNTIME; k < OCI_HOOK_KINDS; k++)
    {
      assert_false (h->present[k]);
      assert_int_equal (h->count[k], 0);
      assert_null (h->list[k]);
    }
  _cleanup_hooks_ struct oci_hooks *e = parse_ok ("{}");
  for (int k = 0; k < OCI_HOOK_KINDS; k++)
    assert_false (e->present[k]);
}

static void
assert_round_trip (const char *json)
{
  _cleanup_hooks_ struct oci_hooks *h = parse_ok (json);
  _cleanup_free_ char *first = gen (h);
  _cleanup_hooks_ struct oci_hooks *h2 = parse_ok (first);
  _cleanup_free_ char *second = gen (h2);
  assert_string_equal (first, second);
  /* Written in canonical order, so the text itself survives. */
  assert_string_equal (first, json);
}

static void
test_round_trip (void **state)
{
  (void) state;
  assert_round_trip (all_hooks);
  assert_round_trip ("{}");
  assert_round_trip ("{\"prestart\":[]}");
  assert_round_trip ("{\"createContainer\":[],\"poststop\":[]}");
  assert_round_trip ("{\"poststart\":[{\"path\":\"/x\",\"args\":[],"
                     "\"env\":[]}]}");
}

static void
test_round_trip_pretty (void **state)
{
  (void) state;
  _cleanup_hooks_ struct oci_hooks *h = parse_ok (all_hooks);
  _cleanup_free_ char *pretty = gen_doc (h, true);
  _cleanup_tree_ yajl_val tree = NULL;
  _cleanup_error_ hy_error_t err = NULL;
  assert_int_equal (oci_json_parse (pretty, &tree, &err), 0);
  const oci_jpath at = JPATH_KEY (JPATH_ROOT, "hooks");
  _cleanup_hooks_ struct oci_hooks *h2 = NULL;
  assert_int_equal (
      oci_parse_hooks (oci_json_member (tree, "hooks"), &at, &h2, &err), 0);
  _cleanup_free_ char *compact = gen (h2);
  assert_string_equal (compact, all_hooks);
}

static void
test_gen_from_code (void **state)
{
  (void) state;
  /* Built by code: a non-empty list is written even without present[]. */
  struct oci_hook hook = { .path = "/bin/hook", .timeout = 3,
                           .has_timeout = true };
  struct oci_hooks h = { 0 };
  h.list[OCI_HOOK_POSTSTOP] = &hook;
  h.count[OCI_HOOK_POSTSTOP] = 1;
  _cleanup_free_ char *json = gen (&h);
  assert_string_equal (json,
                       "{\"poststop\":[{\"path\":\"/bin/hook\",\"timeout\":3}]}");
}

/* Through oci_config_parse: the section is wired in with its path. */
static void
test_in_config (void **state)
{
  (void) state;
  static const char doc[]
      = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
        "\"hooks\":{\"prestart\":[],\"poststop\":[{\"path\":\"/bin/x\"}]}}";
  _cleanup_config_ struct oci_config *c = NULL;
  _cleanup_error_ hy_error_t err = NULL;
  if (oci_config_parse (doc, "config.json", &c, &err) < 0)
    fail_msg ("unexpected error: %s", err->msg);
  assert_true (c->hooks->present[OCI_HOOK_PRESTART]);
  _cleanup_free_ char *json = oci_config_to_json (c, false);
  assert_non_null (strstr (json, "\"hooks\":{\"prestart\":[],\"poststop\":"
                                 "[{\"path\":\"/bin/x\"}]}"));

  struct oci_config *bad = NULL;
  _cleanup_error_ hy_error_t err2 = NULL;
  assert_true (oci_config_parse ("{\"ociVersion\":\"1.2.0\","
                                 "\"root\":{\"path\":\"rootfs\"},"
                                 "\"hooks\":{\"prestart\":[{\"path\":\"/x\","
                                 "\"timeout\":0}]}}",
                                 "config.json", &bad, &err2)
               < 0);
  assert_null (bad);
  assert_string_equal (
      err2->msg,
      "config.json: .hooks.prestart[0].timeout: must be greater than 0, got 0");
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
  { "not_object", "[]", ".hooks", "expected an object" },
  { "list_type", "{\"prestart\":{}}", ".hooks.prestart", "expected an array" },
  { "list_type_later_kind",
    "{\"prestart\":[{\"path\":\"/a\"}],\"poststop\":\"/b\"}", ".hooks.poststop",
    "expected an array" },
  { "entry_type", "{\"createRuntime\":[\"/bin/true\"]}",
    ".hooks.createRuntime[0]", "expected an object" },
  { "path_missing", "{\"createContainer\":[{\"args\":[\"x\"]}]}",
    ".hooks.createContainer[0].path", "missing required field" },
  { "path_relative",
    "{\"startContainer\":[{\"path\":\"/ok\"},{\"path\":\"bin/hook\"}]}",
    ".hooks.startContainer[1].path", "must be an absolute path" },
  { "path_empty", "{\"poststart\":[{\"path\":\"\"}]}",
    ".hooks.poststart[0].path", "must be an absolute path" },
  { "path_type", "{\"poststop\":[{\"path\":[\"/x\"]}]}",
    ".hooks.poststop[0].path", "expected a string" },
  { "args_type", "{\"prestart\":[{\"path\":\"/x\",\"args\":\"a b\"}]}",
    ".hooks.prestart[0].args", "expected an array of strings" },
  { "args_item_type", "{\"prestart\":[{\"path\":\"/x\",\"args\":[\"a\",1]}]}",
    ".hooks.prestart[0].args[1]", "expected a string" },
  { "env_type", "{\"prestart\":[{\"path\":\"/x\",\"env\":{}}]}",
    ".hooks.prestart[0].env", "expected an array of strings" },
  { "env_item_type", "{\"prestart\":[{\"path\":\"/x\",\"env\":[true]}]}",
    ".hooks.prestart[0].env[0]", "expected a string" },
  { "timeout_zero", "{\"prestart\":[{\"path\":\"/x\",\"timeout\":0}]}",
    ".hooks.prestart[0].timeout", "must be greater than 0" },
  { "timeout_negative",
    "{\"poststop\":[{\"path\":\"/x\"},{\"path\":\"/y\",\"timeout\":-5}]}",
    ".hooks.poststop[1].timeout", "must be greater than 0" },
  { "timeout_type", "{\"prestart\":[{\"path\":\"/x\",\"timeout\":\"5\"}]}",
    ".hooks.prestart[0].timeout", "expected an integer" },
  { "timeout_fraction", "{\"prestart\":[{\"path\":\"/x\",\"timeout\":1.5}]}",
    ".hooks.prestart[0].timeout", "expected an integer" },
  { "timeout_too_big",
    "{\"prestart\":[{\"path\":\"/x\",\"timeout\":2147483648}]}",
    ".hooks.prestart[0].timeout", "out of range" },
};

static void
test_bad_case (void **state)
{
  const struct bad_case *c = *state;
  struct oci_hooks *h = NULL;
  _cleanup_error_ hy_error_t err = NULL;
  if (parse (c->json, &h, &err) == 0)
    {
      oci_hooks_free (h);
      fail_msg ("%s: accepted %s", c->name, c->json);
    }
  assert_null (h);
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
    cmocka_unit_test (test_names),
    cmocka_unit_test (test_all_kinds),
    cmocka_unit_test (test_empty_and_absent),
    cmocka_unit_test (test_round_trip),
    cmocka_unit_test (test_round_trip_pretty),
    cmocka_unit_test (test_gen_from_code),
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
  int failed = _cmocka_run_group_tests ("config-hooks", tests,
                                        n_fixed + n_bad, NULL, NULL);
  free (tests);
  return failed;
}
