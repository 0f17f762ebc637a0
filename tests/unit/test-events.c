/* The documents ps and events print: runc's formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/events.h"
#include "runtime/ps.h"

static void
test_ps_json (void **state)
{
  (void) state;
  pid_t pids[] = { 12, 3456 };
  char *s = hy_ps_json (pids, 2);
  assert_string_equal (s, "[12,3456]");
  free (s);
  s = hy_ps_json (NULL, 0);
  assert_string_equal (s, "null");
  free (s);
}

static void
test_stats_event (void **state)
{
  (void) state;
  struct hy_cgroup_stats st = {
    .memory_usage = 100,
    .memory_limit = 1000,
    .memory_max_usage = 200,
    .memory_failcnt = 3,
    .swap_usage = 5,
    .swap_limit = 50,
    .cpu_usage_ns = 7,
    .cpu_user_ns = 4,
    .cpu_system_ns = 2,
    .cpu_periods = 9,
    .pids_current = 2,
    .pids_limit = UINT64_MAX,
  };
  char *s = hy_stats_event_json ("c1", &st);
  assert_string_equal (
      s, "{\"type\":\"stats\",\"id\":\"c1\",\"data\":{"
         "\"cpu\":{\"usage\":{\"total\":7,\"kernel\":2,\"user\":4},"
         "\"throttling\":{\"periods\":9}},"
         "\"memory\":{\"usage\":{\"limit\":1000,\"usage\":100,\"max\":200,"
         "\"failcnt\":3},"
         "\"swap\":{\"limit\":1050,\"usage\":105,\"failcnt\":0}},"
         "\"pids\":{\"current\":2},\"blkio\":{},\"hugetlb\":{}}}");
  free (s);
}

static void
test_stats_unlimited_swap (void **state)
{
  (void) state;
  struct hy_cgroup_stats st = { .memory_limit = 10, .swap_limit = UINT64_MAX,
                                .blkio_read_bytes = 4 };
  char *s = hy_stats_event_json ("c", &st);
  assert_non_null (strstr (s, "\"swap\":{\"limit\":18446744073709551615,"));
  assert_non_null (strstr (s, "\"ioServiceBytesRecursive\":[{\"op\":\"Read\","
                              "\"value\":4},{\"op\":\"Write\"},"));
  free (s);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_ps_json),
    cmocka_unit_test (test_stats_event),
    cmocka_unit_test (test_stats_unlimited_swap),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
