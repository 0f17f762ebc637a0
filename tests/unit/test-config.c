/* config.json: the document, root, mounts, annotations, and the JSON
 * reading rules every section relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "oci/config.h"

#define MINIMAL_HEAD "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}"

static struct oci_config *
parse_ok (const char *text)
{
  struct oci_config *c = NULL;
  hy_error_t err = NULL;
  if (oci_config_parse (text, "config.json", &c, &err) < 0)
    fail_msg ("unexpected error: %s", err->msg);
  return c;
}

static void
expect_error (const char *text, const char *needle)
{
  struct oci_config *c = NULL;
  hy_error_t err = NULL;
  assert_int_equal (oci_config_parse (text, "config.json", &c, &err), -1);
  assert_null (c);
  assert_non_null (err);
  if (strstr (err->msg, needle) == NULL)
    fail_msg ("error \"%s\" lacks \"%s\"", err->msg, needle);
  hy_error_release (&err);
}

static void
test_minimal (void **state)
{
  (void) state;
  struct oci_config *c = parse_ok (MINIMAL_HEAD "}");
  assert_string_equal (c->oci_version, "1.2.0");
  assert_string_equal (c->root->path, "rootfs");
  assert_false (c->root->readonly);
  assert_null (c->process);
  assert_null (c->linux_);
  assert_false (c->has_mounts);
  oci_config_free (c);
}

static void
test_document_errors (void **state)
{
  (void) state;
  expect_error ("", "config.json: invalid JSON");
  expect_error ("{\"ociVersion\": \"1.2.0\", \"root\": {", "invalid JSON");
  expect_error ("[1]", "config.json: .: expected an object");
  expect_error ("\"x\"", ".: expected an object");
  expect_error ("{\"root\":{\"path\":\"r\"}}",
                "config.json: .ociVersion: missing required field");
  expect_error ("{\"ociVersion\":1,\"root\":{\"path\":\"r\"}}",
                ".ociVersion: expected a string");
  expect_error ("{\"ociVersion\":\"2.0.0\",\"root\":{\"path\":\"r\"}}",
                ".ociVersion: unsupported version \"2.0.0\"");
  expect_error ("{\"ociVersion\":\"1.0.0\",\"hostname\":\"h\"}",
                ".root: missing required field");
  expect_error (MINIMAL_HEAD ",\"hostname\":7}", ".hostname: expected a string");
  expect_error (MINIMAL_HEAD ",\"domainname\":[]}",
                ".domainname: expected a string");
  expect_error (MINIMAL_HEAD ",\"process\":[]}", ".process: expected an object");
  expect_error (MINIMAL_HEAD ",\"linux\":1}", ".linux: expected an object");
  expect_error (MINIMAL_HEAD ",\"hooks\":\"x\"}", ".hooks: expected an object");
}

static void
test_root (void **state)
{
  (void) state;
  struct oci_config *c = parse_ok (
      "{\"ociVersion\":\"1.0.2-dev\",\"root\":{\"path\":\"/r\",\"readonly\":true}}");
  assert_true (c->root->readonly);
  oci_config_free (c);
  expect_error ("{\"ociVersion\":\"1.0.0\",\"root\":[]}",
                ".root: expected an object");
  expect_error ("{\"ociVersion\":\"1.0.0\",\"root\":{}}",
                ".root.path: missing required field");
  expect_error ("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":3}}",
                ".root.path: expected a string");
  expect_error ("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"\"}}",
                ".root.path: must not be empty");
  expect_error ("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\","
                "\"readonly\":\"yes\"}}",
                ".root.readonly: expected a boolean");
}

static void
test_mounts (void **state)
{
  (void) state;
  struct oci_config *c = parse_ok (
      MINIMAL_HEAD ",\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\","
                   "\"source\":\"proc\"},{\"destination\":\"/d\",\"options\":"
                   "[\"rbind\",\"ro\"],\"uidMappings\":[{\"containerID\":0,"
                   "\"hostID\":1000,\"size\":10}]}]}");
  assert_int_equal (c->n_mounts, 2);
  assert_string_equal (c->mounts[0].type, "proc");
  assert_null (c->mounts[1].type);
  assert_string_equal (c->mounts[1].options[1], "ro");
  assert_null (c->mounts[1].options[2]);
  assert_int_equal (c->mounts[1].n_uid_mappings, 1);
  assert_int_equal (c->mounts[1].uid_mappings[0].host_id, 1000);
  oci_config_free (c);

  expect_error (MINIMAL_HEAD ",\"mounts\":{}}", ".mounts: expected an array");
  expect_error (MINIMAL_HEAD ",\"mounts\":[1]}", ".mounts[0]: expected an object");
  expect_error (MINIMAL_HEAD ",\"mounts\":[{\"destination\":\"/a\"},{}]}",
                ".mounts[1].destination: missing required field");
  expect_error (MINIMAL_HEAD ",\"mounts\":[{\"destination\":\"\"}]}",
                ".mounts[0].destination: must not be empty");
  expect_error (MINIMAL_HEAD ",\"mounts\":[{\"destination\":\"/a\","
                             "\"options\":\"ro\"}]}",
                ".mounts[0].options: expected an array of strings");
  expect_error (MINIMAL_HEAD ",\"mounts\":[{\"destination\":\"/a\","
                             "\"options\":[\"ro\",4]}]}",
                ".mounts[0].options[1]: expected a string");
  expect_error (MINIMAL_HEAD ",\"mounts\":[{\"destination\":\"/a\","
                             "\"uidMappings\":[{\"containerID\":0,"
                             "\"hostID\":1,\"size\":0}]}]}",
                ".mounts[0].uidMappings[0].size: must be greater than 0");
  expect_error (MINIMAL_HEAD ",\"mounts\":[{\"destination\":\"/a\","
                             "\"gidMappings\":[{\"containerID\":0,"
                             "\"size\":1}]}]}",
                ".mounts[0].gidMappings[0].hostID: missing required field");
  expect_error (MINIMAL_HEAD ",\"mounts\":[{\"destination\":\"/a\","
                             "\"gidMappings\":[{\"containerID\":-1,"
                             "\"hostID\":1,\"size\":1}]}]}",
                ".mounts[0].gidMappings[0].containerID: -1 is out of range");
}

static void
test_annotations (void **state)
{
  (void) state;
  struct oci_config *c
      = parse_ok (MINIMAL_HEAD ",\"annotations\":{\"a\":\"1\",\"b\":\"2\"}}");
  assert_true (c->has_annotations);
  assert_string_equal (oci_strmap_get (&c->annotations, "b"), "2");
  assert_null (oci_strmap_get (&c->annotations, "c"));
  oci_config_free (c);
  expect_error (MINIMAL_HEAD ",\"annotations\":[]}",
                ".annotations: expected an object");
  expect_error (MINIMAL_HEAD ",\"annotations\":{\"a\":1}}",
                ".annotations.a: expected a string");
  expect_error (MINIMAL_HEAD ",\"annotations\":{\"\":\"x\"}}",
                ".annotations: keys must not be empty");
}

static void
test_unknown_fields_and_null (void **state)
{
  (void) state;
  struct oci_config *c = parse_ok (
      MINIMAL_HEAD ",\"vm\":{\"hypervisor\":{}},\"windows\":{},\"x-new\":1,"
                   "\"hostname\":null}");
  assert_null (c->hostname);
  char *json = oci_config_to_json (c, false);
  assert_null (strstr (json, "x-new"));
  free (json);
  oci_config_free (c);
}

static void
test_numbers (void **state)
{
  (void) state;
  expect_error (MINIMAL_HEAD ",\"mounts\":[{\"destination\":\"/a\","
                             "\"uidMappings\":[{\"containerID\":1.5,"
                             "\"hostID\":1,\"size\":1}]}]}",
                "containerID: expected an integer");
  expect_error (MINIMAL_HEAD ",\"mounts\":[{\"destination\":\"/a\","
                             "\"uidMappings\":[{\"containerID\":1e3,"
                             "\"hostID\":1,\"size\":1}]}]}",
                "containerID: expected an integer");
  expect_error (MINIMAL_HEAD ",\"mounts\":[{\"destination\":\"/a\","
                             "\"uidMappings\":[{\"containerID\":4294967296,"
                             "\"hostID\":1,\"size\":1}]}]}",
                "containerID: 4294967296 is out of range [0, 4294967295]");
}

static void
test_path_format (void **state)
{
  (void) state;
  const oci_jpath a = JPATH_KEY (JPATH_ROOT, "process");
  const oci_jpath b = JPATH_KEY (&a, "rlimits");
  const oci_jpath c = JPATH_INDEX (&b, 2);
  const oci_jpath d = JPATH_KEY (&c, "type");
  char *s = oci_jpath_format (&d);
  assert_string_equal (s, ".process.rlimits[2].type");
  free (s);
  s = oci_jpath_format (JPATH_ROOT);
  assert_string_equal (s, ".");
  free (s);
}

/* Every section filled: parse, write, parse again, write again. */
static void
test_full_round_trip (void **state)
{
  (void) state;
  char *text = NULL;
  hy_error_t err = NULL;
  if (read_file_at (AT_FDCWD, TEST_DATA_DIR "/config-full.json", 1 << 20,
                    &text, NULL, &err) < 0)
    fail_msg ("%s", err->msg);
  struct oci_config *c = parse_ok (text);
  assert_string_equal (c->domainname, "example.org");
  assert_int_equal (c->process->n_rlimits, 2);
  assert_int_equal (c->linux_->n_namespaces, 8);
  char *first = oci_config_to_json (c, true);
  struct oci_config *again = parse_ok (first);
  char *second = oci_config_to_json (again, true);
  assert_string_equal (first, second);
  char *compact = oci_config_to_json (again, false);
  assert_null (strchr (compact, '\n'));
  free (compact);
  free (first);
  free (second);
  free (text);
  oci_config_free (c);
  oci_config_free (again);
}

static void
test_load_file_errors (void **state)
{
  (void) state;
  struct oci_config *c = NULL;
  hy_error_t err = NULL;
  assert_int_equal (
      oci_config_load_file ("/nonexistent/config.json", &c, &err), -1);
  assert_non_null (strstr (err->msg, "/nonexistent/config.json"));
  hy_error_release (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_minimal),
    cmocka_unit_test (test_document_errors),
    cmocka_unit_test (test_root),
    cmocka_unit_test (test_mounts),
    cmocka_unit_test (test_annotations),
    cmocka_unit_test (test_unknown_fields_and_null),
    cmocka_unit_test (test_numbers),
    cmocka_unit_test (test_path_format),
    cmocka_unit_test (test_full_round_trip),
    cmocka_unit_test (test_load_file_errors),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
