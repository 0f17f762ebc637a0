/* hyrun's annotations: isolation, crun's handler, VM sizing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "oci/annotations.h"

static int
parse (const char *const *kv, struct hy_workload_opts *o, hy_error_t *err)
{
  oci_strmap m = { 0 };
  for (size_t i = 0; kv[i]; i += 2)
    oci_strmap_set (&m, kv[i], kv[i + 1]);
  int r = hy_workload_opts_parse (&m, o, err);
  oci_strmap_free (&m);
  return r;
}

static void
expect_error (const char *const *kv, const char *needle)
{
  struct hy_workload_opts o;
  hy_error_t err = NULL;
  assert_int_equal (parse (kv, &o, &err), -1);
  assert_non_null (err);
  if (strstr (err->msg, needle) == NULL)
    fail_msg ("error \"%s\" lacks \"%s\"", err->msg, needle);
  hy_error_release (&err);
}

static void
test_no_annotations (void **state)
{
  (void) state;
  const char *kv[] = { "org.example", "x", NULL };
  struct hy_workload_opts o;
  hy_error_t err = NULL;
  assert_int_equal (parse (kv, &o, &err), 0);
  assert_int_equal (o.isolation, HY_ISOLATION_UNSET);
  assert_int_equal (o.vm_cpus, 0);
  assert_int_equal (o.vm_memory, 0);
}

static void
test_isolation_values (void **state)
{
  (void) state;
  struct hy_workload_opts o;
  hy_error_t err = NULL;
  const char *vm[] = { "io.hyrun.isolation", "vm", NULL };
  assert_int_equal (parse (vm, &o, &err), 0);
  assert_int_equal (o.isolation, HY_ISOLATION_VM);
  const char *ct[] = { "io.hyrun.isolation", "container", NULL };
  assert_int_equal (parse (ct, &o, &err), 0);
  assert_int_equal (o.isolation, HY_ISOLATION_CONTAINER);
  const char *krun[] = { "run.oci.handler", "krun", NULL };
  assert_int_equal (parse (krun, &o, &err), 0);
  assert_int_equal (o.isolation, HY_ISOLATION_VM);
  const char *both[]
      = { "run.oci.handler", "krun", "io.hyrun.isolation", "vm", NULL };
  assert_int_equal (parse (both, &o, &err), 0);
  assert_int_equal (o.isolation, HY_ISOLATION_VM);
}

static void
test_bad_values (void **state)
{
  (void) state;
  const char *bad[] = { "io.hyrun.isolation", "vms", NULL };
  expect_error (bad, "annotation io.hyrun.isolation: invalid value \"vms\"");
  const char *empty[] = { "io.hyrun.isolation", "", NULL };
  expect_error (empty, "io.hyrun.isolation");
  const char *handler[] = { "run.oci.handler", "wasm", NULL };
  expect_error (handler, "annotation run.oci.handler: invalid value \"wasm\"");
  const char *clash[]
      = { "run.oci.handler", "krun", "io.hyrun.isolation", "container", NULL };
  expect_error (clash, "contradicts");
  const char *typo[] = { "io.hyrun.isolaton", "vm", NULL };
  expect_error (typo, "annotation io.hyrun.isolaton: unknown");
}

static void
test_vm_sizing (void **state)
{
  (void) state;
  struct hy_workload_opts o;
  hy_error_t err = NULL;
  const char *ok[]
      = { "io.hyrun.vm.cpus", "2", "io.hyrun.vm.memory", "512M", NULL };
  assert_int_equal (parse (ok, &o, &err), 0);
  assert_int_equal (o.vm_cpus, 2);
  assert_int_equal (o.vm_memory, 512ull << 20);
  const char *bytes[] = { "io.hyrun.vm.memory", "134217728", NULL };
  assert_int_equal (parse (bytes, &o, &err), 0);
  assert_int_equal (o.vm_memory, 128ull << 20);
  const char *gib[] = { "io.hyrun.vm.memory", "1GiB", NULL };
  assert_int_equal (parse (gib, &o, &err), 0);
  assert_int_equal (o.vm_memory, 1ull << 30);

  const char *zero[] = { "io.hyrun.vm.cpus", "0", NULL };
  expect_error (zero, "annotation io.hyrun.vm.cpus: invalid value \"0\"");
  const char *many[] = { "io.hyrun.vm.cpus", "256", NULL };
  expect_error (many, "io.hyrun.vm.cpus");
  const char *frac[] = { "io.hyrun.vm.cpus", "1.5", NULL };
  expect_error (frac, "io.hyrun.vm.cpus");
  const char *small[] = { "io.hyrun.vm.memory", "1M", NULL };
  expect_error (small, "io.hyrun.vm.memory");
  const char *unit[] = { "io.hyrun.vm.memory", "512X", NULL };
  expect_error (unit, "io.hyrun.vm.memory");
  const char *huge[] = { "io.hyrun.vm.memory", "99999999999G", NULL };
  expect_error (huge, "io.hyrun.vm.memory");
}

static void
test_resolve_order (void **state)
{
  (void) state;
  assert_int_equal (hy_isolation_resolve (HY_ISOLATION_UNSET, "hyrun",
                                          HY_ISOLATION_UNSET),
                    HY_ISOLATION_CONTAINER);
  assert_int_equal (hy_isolation_resolve (HY_ISOLATION_UNSET, "hyrun",
                                          HY_ISOLATION_VM),
                    HY_ISOLATION_VM);
  assert_int_equal (hy_isolation_resolve (HY_ISOLATION_UNSET, "hyrun-vm",
                                          HY_ISOLATION_CONTAINER),
                    HY_ISOLATION_VM);
  assert_int_equal (hy_isolation_resolve (HY_ISOLATION_CONTAINER, "hyrun-vm",
                                          HY_ISOLATION_VM),
                    HY_ISOLATION_CONTAINER);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_no_annotations),
    cmocka_unit_test (test_isolation_values),
    cmocka_unit_test (test_bad_values),
    cmocka_unit_test (test_vm_sizing),
    cmocka_unit_test (test_resolve_order),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
