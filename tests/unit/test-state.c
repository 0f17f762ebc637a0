/* The OCI state document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "oci/state.h"

static void
test_round_trip (void **state)
{
  (void) state;
  const char *text = "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":"
                     "\"running\",\"pid\":42,\"bundle\":\"/b\","
                     "\"annotations\":{\"k\":\"v\"}}";
  struct oci_state *s = NULL;
  hy_error_t err = NULL;
  assert_int_equal (oci_state_parse (text, &s, &err), 0);
  assert_string_equal (s->id, "c1");
  assert_int_equal (s->status, OCI_STATUS_RUNNING);
  assert_int_equal (s->pid, 42);
  assert_string_equal (oci_strmap_get (&s->annotations, "k"), "v");
  char *out = oci_state_to_json (s, false);
  assert_string_equal (out, text);
  free (out);
  oci_state_free (s);
}

static void
test_stopped_has_no_pid (void **state)
{
  (void) state;
  struct oci_state s = { .oci_version = "1.2.0", .id = "x",
                         .status = OCI_STATUS_STOPPED, .bundle = "/b" };
  char *out = oci_state_to_json (&s, false);
  assert_null (strstr (out, "pid"));
  assert_non_null (strstr (out, "\"status\":\"stopped\""));
  free (out);
}

static void
expect_error (const char *text, const char *needle)
{
  struct oci_state *s = NULL;
  hy_error_t err = NULL;
  assert_int_equal (oci_state_parse (text, &s, &err), -1);
  assert_null (s);
  if (strstr (err->msg, needle) == NULL)
    fail_msg ("error \"%s\" lacks \"%s\"", err->msg, needle);
  hy_error_release (&err);
}

static void
test_bad_documents (void **state)
{
  (void) state;
  expect_error ("{", "invalid JSON");
  expect_error ("[]", ".: expected an object");
  expect_error ("{\"ociVersion\":\"1.2.0\",\"status\":\"running\","
                "\"bundle\":\"/b\"}",
                ".id: missing required field");
  expect_error ("{\"ociVersion\":\"1.2.0\",\"id\":\"a\",\"status\":\"gone\","
                "\"bundle\":\"/b\"}",
                ".status: unknown status \"gone\"");
  expect_error ("{\"ociVersion\":\"1.2.0\",\"id\":\"a\",\"status\":"
                "\"running\",\"pid\":-1,\"bundle\":\"/b\"}",
                ".pid: -1 is out of range");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_round_trip),
    cmocka_unit_test (test_stopped_has_no_pid),
    cmocka_unit_test (test_bad_documents),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
