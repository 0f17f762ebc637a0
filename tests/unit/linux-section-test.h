/* Helpers for the tests of config.json's `linux` section
 * (test-config-linux.c, test-config-resources.c, test-config-seccomp.c).
 * Include after <cmocka.h>. */
#ifndef HYRUN_TESTS_LINUX_SECTION_TEST_H
#define HYRUN_TESTS_LINUX_SECTION_TEST_H

#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/config.h"

#define DOC_PREFIX "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"

/* A minimal config.json whose "linux" is `linux_json`. */
static inline char *
doc_with_linux (const char *linux_json)
{
  return xasprintf (DOC_PREFIX "\"linux\":%s}", linux_json);
}

static inline int
parse_linux (const char *linux_json, struct oci_config **out, hy_error_t *err)
{
  _cleanup_free_ char *doc = doc_with_linux (linux_json);
  return oci_config_parse (doc, "config.json", out, err);
}

/* Parse, failing the test on error; the caller frees the config. */
static inline struct oci_config *
parse_linux_ok (const char *linux_json)
{
  struct oci_config *c = NULL;
  _cleanup_error_ hy_error_t err = NULL;
  if (parse_linux (linux_json, &c, &err) < 0)
    fail_msg ("unexpected error: %s\n  for %s", err->msg, linux_json);
  assert_non_null (c);
  assert_non_null (c->linux_);
  return c;
}

/* Parsing must fail with a message holding "<path>: " and `reason`. */
static inline void
expect_error (const char *linux_json, const char *path, const char *reason)
{
  struct oci_config *c = NULL;
  _cleanup_error_ hy_error_t err = NULL;
  int r = parse_linux (linux_json, &c, &err);
  if (r == 0)
    {
      oci_config_free (c);
      fail_msg ("parsed without error: %s", linux_json);
    }
  assert_non_null (err);
  _cleanup_free_ char *text = hy_error_text (err);
  _cleanup_free_ char *where = xasprintf ("%s: ", path);
  if (strstr (text, where) == NULL || strstr (text, reason) == NULL)
    fail_msg ("error \"%s\" lacks \"%s\" or \"%s\"", text, where, reason);
  assert_null (c);
}

/* Serialize compactly. */
static inline char *
to_json (const struct oci_config *c)
{
  return oci_config_to_json (c, false);
}

/* parse -> gen -> parse -> gen must be stable; returns the first text. */
static inline char *
roundtrip (const char *linux_json, bool pretty)
{
  _cleanup_config_ struct oci_config *a = parse_linux_ok (linux_json);
  char *first = oci_config_to_json (a, pretty);
  struct oci_config *b = NULL;
  _cleanup_error_ hy_error_t err = NULL;
  if (oci_config_parse (first, "generated", &b, &err) < 0)
    fail_msg ("generated text does not parse: %s\n%s", err->msg, first);
  _cleanup_free_ char *second = oci_config_to_json (b, pretty);
  oci_config_free (b);
  assert_string_equal (first, second);
  return first;
}

/* A canonical (compact, in generator order) "linux" value must come out of
 * parse -> gen exactly as it went in. */
static inline void
assert_canonical (const char *linux_json)
{
  _cleanup_free_ char *doc = doc_with_linux (linux_json);
  _cleanup_free_ char *out = roundtrip (linux_json, false);
  assert_string_equal (out, doc);
}

/* One invalid document: the test passes when parsing fails naming `path`
 * and `reason`. */
struct bad_case
{
  const char *name;
  const char *json; /* the value of "linux" */
  const char *path;
  const char *reason;
};

static inline void
run_bad_case (void **state)
{
  const struct bad_case *c = *state;
  expect_error (c->json, c->path, c->reason);
}

/* Run `fixed` tests followed by one test per bad case. */
static inline int
run_section_tests (const char *group, const struct CMUnitTest *fixed,
                   size_t n_fixed, const struct bad_case *bad, size_t n_bad)
{
  struct CMUnitTest *all = xmalloc0 ((n_fixed + n_bad) * sizeof (*all));
  memcpy (all, fixed, n_fixed * sizeof (*all));
  for (size_t i = 0; i < n_bad; i++)
    all[n_fixed + i] = (struct CMUnitTest){
      .name = bad[i].name,
      .test_func = run_bad_case,
      .initial_state = (void *) &bad[i],
    };
  int r = _cmocka_run_group_tests (group, all, n_fixed + n_bad, NULL, NULL);
  free (all);
  return r;
}

#define N_ELEMENTS(a) (sizeof (a) / sizeof ((a)[0]))

#endif
