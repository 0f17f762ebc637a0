/* linux.resources: parsing, validation, serialization. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/linux-section-test.h"

/* {"resources": <json>} as the linux section. */
static struct oci_config *
parse_resources_ok (const char *json)
{
  _cleanup_free_ char *l = xasprintf ("{\"resources\":%s}", json);
  struct oci_config *c = parse_linux_ok (l);
  assert_non_null (c->linux_->resources);
  return c;
}

static void
assert_resources_canonical (const char *json)
{
  _cleanup_free_ char *l = xasprintf ("{\"resources\":%s}", json);
  assert_canonical (l);
}

static void
test_device_rules (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_resources_ok (
      "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,"
      "\"type\":\"c\",\"major\":10,\"minor\":229,\"access\":\"rw\"},"
      "{\"allow\":true,\"type\":\"b\",\"major\":-1,\"minor\":-1,\"access\":"
      "\"\"},{\"allow\":false,\"type\":\"a\"},{\"allow\":false,"
      "\"type\":\"c\",\"major\":1,\"minor\":11,\"access\":\"rwa\"}]}");
  const struct oci_resources *r = c->linux_->resources;
  assert_true (r->has_devices);
  assert_int_equal (r->n_devices, 5);
  assert_false (r->devices[0].allow);
  assert_int_equal (r->devices[0].type, 0);
  assert_false (r->devices[0].has_major);
  assert_string_equal (r->devices[0].access, "rwm");
  assert_int_equal (r->devices[1].type, 'c');
  assert_int_equal (r->devices[1].major, 10);
  assert_int_equal (r->devices[1].minor, 229);
  assert_int_equal (r->devices[2].major, -1);
  assert_true (r->devices[2].has_minor);
  assert_int_equal (r->devices[3].type, 'a');
  assert_null (r->devices[3].access);
  /* runc ignores letters other than r, w and m; kept as given */
  assert_string_equal (r->devices[4].access, "rwa");
}

static void
test_memory (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_resources_ok (
      "{\"memory\":{\"limit\":536870912,\"reservation\":0,\"swap\":-1,"
      "\"kernel\":-1,\"kernelTCP\":9223372036854775807,\"swappiness\":100,"
      "\"disableOOMKiller\":true,\"useHierarchy\":false}}");
  const struct oci_memory *m = c->linux_->resources->memory;
  assert_int_equal (m->limit, 536870912);
  assert_true (m->has_reservation);
  assert_int_equal (m->reservation, 0);
  assert_int_equal (m->swap, -1);
  assert_int_equal (m->kernel, -1);
  assert_int_equal (m->kernel_tcp, INT64_MAX);
  assert_int_equal (m->swappiness, 100);
  assert_true (m->disable_oom_killer);
  assert_true (m->has_use_hierarchy);
  assert_false (m->use_hierarchy);
  assert_false (m->has_check_before_update);
}

static void
test_cpu (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_resources_ok (
      "{\"cpu\":{\"shares\":18446744073709551615,\"quota\":-1,\"burst\":10,"
      "\"period\":100000,\"realtimeRuntime\":950000,\"realtimePeriod\":"
      "1000000,\"cpus\":\"0-3,7,9-9\",\"mems\":\"\",\"idle\":1}}");
  const struct oci_cpu *cpu = c->linux_->resources->cpu;
  assert_true (cpu->shares == UINT64_MAX);
  assert_int_equal (cpu->quota, -1);
  assert_int_equal (cpu->burst, 10);
  assert_int_equal (cpu->period, 100000);
  assert_int_equal (cpu->realtime_runtime, 950000);
  assert_int_equal (cpu->realtime_period, 1000000);
  assert_string_equal (cpu->cpus, "0-3,7,9-9");
  assert_string_equal (cpu->mems, "");
  assert_int_equal (cpu->idle, 1);
}

static void
test_block_io (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_resources_ok (
      "{\"blockIO\":{\"weight\":10,\"leafWeight\":1000,\"weightDevice\":["
      "{\"major\":8,\"minor\":0,\"weight\":500,\"leafWeight\":300},"
      "{\"major\":8,\"minor\":16,\"leafWeight\":500}],"
      "\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":600}],"
      "\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":16,\"rate\":300}]"
      "}}");
  const struct oci_block_io *b = c->linux_->resources->block_io;
  assert_int_equal (b->weight, 10);
  assert_int_equal (b->leaf_weight, 1000);
  assert_int_equal (b->n_weight_device, 2);
  assert_int_equal (b->weight_device[0].weight, 500);
  assert_int_equal (b->weight_device[0].leaf_weight, 300);
  assert_false (b->weight_device[1].has_weight);
  assert_int_equal (b->weight_device[1].minor, 16);
  assert_int_equal (b->n_throttle_read_bps, 1);
  assert_int_equal (b->throttle_read_bps[0].rate, 600);
  assert_null (b->throttle_write_bps);
  assert_null (b->throttle_read_iops);
  assert_int_equal (b->throttle_write_iops[0].rate, 300);
}

/* Docker sends "weight": 0; runc and crun read it as not set. */
static void
test_block_io_zero_weight_is_unset (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c
      = parse_resources_ok ("{\"blockIO\":{\"weight\":0,\"leafWeight\":0}}");
  const struct oci_block_io *b = c->linux_->resources->block_io;
  assert_false (b->has_weight);
  assert_false (b->has_leaf_weight);
}

static void
test_hugepages_network_pids (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_resources_ok (
      "{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":209715200},"
      "{\"pageSize\":\"64KB\",\"limit\":0},{\"pageSize\":\"1GB\",\"limit\":"
      "1}],\"network\":{\"classID\":1048577,\"priorities\":[{\"name\":"
      "\"eth0\",\"priority\":500}]},\"pids\":{\"limit\":-1}}");
  const struct oci_resources *r = c->linux_->resources;
  assert_int_equal (r->n_hugepage_limits, 3);
  assert_string_equal (r->hugepage_limits[1].page_size, "64KB");
  assert_int_equal (r->hugepage_limits[0].limit, 209715200);
  assert_true (r->network->has_class_id);
  assert_int_equal (r->network->class_id, 1048577);
  assert_string_equal (r->network->priorities[0].name, "eth0");
  assert_int_equal (r->network->priorities[0].priority, 500);
  assert_true (r->has_pids);
  assert_int_equal (r->pids_limit, -1);
}

static void
test_rdma_unified (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_resources_ok (
      "{\"rdma\":{\"mlx5_1\":{\"hcaHandles\":3,\"hcaObjects\":10000},"
      "\"rxe3\":{\"hcaObjects\":4294967295}},\"unified\":{\"io.max\":"
      "\"259:0 rbps=2097152\",\"memory.high\":\"max\"}}");
  const struct oci_resources *r = c->linux_->resources;
  assert_int_equal (r->n_rdma, 2);
  assert_string_equal (r->rdma[0].device, "mlx5_1");
  assert_int_equal (r->rdma[0].hca_handles, 3);
  assert_false (r->rdma[1].has_hca_handles);
  assert_int_equal (r->rdma[1].hca_objects, UINT32_MAX);
  assert_true (r->has_unified);
  assert_string_equal (oci_strmap_get (&r->unified, "memory.high"), "max");
}

static void
test_cpu_lists (void **state)
{
  (void) state;
  static const char *const good[] = { "", "0", "0-3", "0,2,4", "1-2,5-8,10" };
  for (size_t i = 0; i < N_ELEMENTS (good); i++)
    {
      _cleanup_free_ char *json = xasprintf (
          "{\"cpu\":{\"cpus\":\"%s\",\"mems\":\"%s\"}}", good[i], good[i]);
      _cleanup_config_ struct oci_config *c = parse_resources_ok (json);
      assert_string_equal (c->linux_->resources->cpu->cpus, good[i]);
    }
}

static void
test_empty_sections (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_resources_ok ("{}");
  const struct oci_resources *r = c->linux_->resources;
  assert_false (r->has_devices);
  assert_null (r->memory);
  assert_false (r->has_pids);
  assert_false (r->has_unified);
  assert_resources_canonical ("{}");
  assert_resources_canonical (
      "{\"devices\":[],\"memory\":{},\"cpu\":{},\"blockIO\":{\"weightDevice\""
      ":[],\"throttleReadBpsDevice\":[]},\"hugepageLimits\":[],\"network\":"
      "{\"priorities\":[]},\"rdma\":{},\"unified\":{}}");
}

static void
test_roundtrip_full (void **state)
{
  (void) state;
  assert_resources_canonical (
      "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,"
      "\"type\":\"b\",\"major\":8,\"minor\":-1,\"access\":\"r\"}],"
      "\"memory\":{\"limit\":1024,\"reservation\":512,\"swap\":-1,"
      "\"kernel\":-1,\"kernelTCP\":-1,\"swappiness\":0,\"disableOOMKiller\":"
      "false,\"useHierarchy\":true,\"checkBeforeUpdate\":false},"
      "\"cpu\":{\"shares\":1024,\"quota\":1000000,\"burst\":1000000,"
      "\"period\":500000,\"realtimeRuntime\":950000,\"realtimePeriod\":"
      "1000000,\"cpus\":\"2-3\",\"mems\":\"0-7\",\"idle\":0},"
      "\"pids\":{\"limit\":32771},"
      "\"blockIO\":{\"weight\":10,\"leafWeight\":10,\"weightDevice\":["
      "{\"major\":8,\"minor\":0,\"weight\":500,\"leafWeight\":300},"
      "{\"major\":8,\"minor\":16,\"weight\":500}],"
      "\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":600}],"
      "\"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":1,\"rate\":"
      "18446744073709551615}],"
      "\"throttleReadIOPSDevice\":[{\"major\":8,\"minor\":2,\"rate\":0}],"
      "\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":16,\"rate\":300}]"
      "},"
      "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":209715200},"
      "{\"pageSize\":\"64KB\",\"limit\":1000000}],"
      "\"network\":{\"classID\":1048577,\"priorities\":[{\"name\":\"eth0\","
      "\"priority\":500},{\"name\":\"eth1\",\"priority\":1000}]},"
      "\"rdma\":{\"mlx5_1\":{\"hcaHandles\":3,\"hcaObjects\":10000},"
      "\"mlx4_0\":{\"hcaObjects\":1000}},"
      "\"unified\":{\"io.max\":\"259:0 rbps=2097152 wiops=120\\n253:0 "
      "rbps=2097152 wiops=120\",\"hugetlb.1GB.max\":\"1073741824\"}}");
}

#define R(json) "{\"resources\":" json "}"
#define RP ".linux.resources"

static const struct bad_case bad_cases[] = {
  /* devices */
  { "devices is an array", R ("{\"devices\":{}}"), RP ".devices",
    "expected an array" },
  { "device rule is an object", R ("{\"devices\":[true]}"), RP ".devices[0]",
    "expected an object" },
  { "device rule allow required", R ("{\"devices\":[{\"access\":\"r\"}]}"),
    RP ".devices[0].allow", "missing required field" },
  { "device rule allow boolean", R ("{\"devices\":[{\"allow\":\"yes\"}]}"),
    RP ".devices[0].allow", "expected a boolean" },
  { "device rule type a, c or b",
    R ("{\"devices\":[{\"allow\":true},{\"allow\":true,\"type\":\"p\"}]}"),
    RP ".devices[1].type", "unknown device type \"p\"" },
  { "device rule type one letter",
    R ("{\"devices\":[{\"allow\":true,\"type\":\"\"}]}"),
    RP ".devices[0].type", "unknown device type \"\"" },
  { "device rule major -1 or more",
    R ("{\"devices\":[{\"allow\":true,\"major\":-2}]}"),
    RP ".devices[0].major", "out of range" },
  { "device rule minor fits",
    R ("{\"devices\":[{\"allow\":true,\"minor\":4294967296}]}"),
    RP ".devices[0].minor", "out of range" },
  { "device rule access grants r, w or m",
    R ("{\"devices\":[{\"allow\":true,\"access\":\"xa\"}]}"),
    RP ".devices[0].access", "invalid access \"xa\"" },
  { "device rule access string",
    R ("{\"devices\":[{\"allow\":true,\"access\":7}]}"),
    RP ".devices[0].access", "expected a string" },
  /* memory */
  { "memory is an object", R ("{\"memory\":1}"), RP ".memory",
    "expected an object" },
  { "memory limit -1 or more", R ("{\"memory\":{\"limit\":-2}}"),
    RP ".memory.limit", "out of range" },
  { "memory reservation integer", R ("{\"memory\":{\"reservation\":\"1G\"}}"),
    RP ".memory.reservation", "expected an integer" },
  { "memory swap -1 or more", R ("{\"memory\":{\"swap\":-100}}"),
    RP ".memory.swap", "out of range" },
  { "memory kernel int64", R ("{\"memory\":{\"kernel\":9223372036854775808}}"),
    RP ".memory.kernel", "out of range" },
  { "memory kernelTCP integer", R ("{\"memory\":{\"kernelTCP\":1.5}}"),
    RP ".memory.kernelTCP", "expected an integer" },
  { "memory swappiness at most 100", R ("{\"memory\":{\"swappiness\":101}}"),
    RP ".memory.swappiness", "out of range [0, 100]" },
  { "memory swappiness not negative", R ("{\"memory\":{\"swappiness\":-1}}"),
    RP ".memory.swappiness", "out of range" },
  { "memory disableOOMKiller boolean",
    R ("{\"memory\":{\"disableOOMKiller\":1}}"), RP ".memory.disableOOMKiller",
    "expected a boolean" },
  { "memory useHierarchy boolean",
    R ("{\"memory\":{\"useHierarchy\":\"true\"}}"), RP ".memory.useHierarchy",
    "expected a boolean" },
  { "memory checkBeforeUpdate boolean",
    R ("{\"memory\":{\"checkBeforeUpdate\":[]}}"),
    RP ".memory.checkBeforeUpdate", "expected a boolean" },
  /* cpu */
  { "cpu is an object", R ("{\"cpu\":[]}"), RP ".cpu", "expected an object" },
  { "cpu shares unsigned", R ("{\"cpu\":{\"shares\":-1}}"), RP ".cpu.shares",
    "out of range" },
  { "cpu quota -1 or more", R ("{\"cpu\":{\"quota\":-2}}"), RP ".cpu.quota",
    "out of range" },
  { "cpu burst unsigned", R ("{\"cpu\":{\"burst\":-5}}"), RP ".cpu.burst",
    "out of range" },
  { "cpu period integer", R ("{\"cpu\":{\"period\":\"100\"}}"),
    RP ".cpu.period", "expected an integer" },
  { "cpu realtimeRuntime -1 or more", R ("{\"cpu\":{\"realtimeRuntime\":-5}}"),
    RP ".cpu.realtimeRuntime", "out of range" },
  { "cpu realtimePeriod unsigned", R ("{\"cpu\":{\"realtimePeriod\":-1}}"),
    RP ".cpu.realtimePeriod", "out of range" },
  { "cpu cpus open range", R ("{\"cpu\":{\"cpus\":\"0-\"}}"), RP ".cpu.cpus",
    "invalid list \"0-\"" },
  { "cpu cpus descending range", R ("{\"cpu\":{\"cpus\":\"3-1\"}}"),
    RP ".cpu.cpus", "invalid list \"3-1\"" },
  { "cpu cpus empty item", R ("{\"cpu\":{\"cpus\":\"1,,2\"}}"), RP ".cpu.cpus",
    "invalid list \"1,,2\"" },
  { "cpu cpus trailing comma", R ("{\"cpu\":{\"cpus\":\"1,\"}}"),
    RP ".cpu.cpus", "invalid list \"1,\"" },
  { "cpu cpus no spaces", R ("{\"cpu\":{\"cpus\":\"0, 1\"}}"), RP ".cpu.cpus",
    "invalid list \"0, 1\"" },
  { "cpu mems digits", R ("{\"cpu\":{\"mems\":\"a\"}}"), RP ".cpu.mems",
    "invalid list \"a\"" },
  { "cpu mems string", R ("{\"cpu\":{\"mems\":0}}"), RP ".cpu.mems",
    "expected a string" },
  { "cpu idle 0 or 1", R ("{\"cpu\":{\"idle\":2}}"), RP ".cpu.idle",
    "out of range [0, 1]" },
  /* blockIO */
  { "blockIO is an object", R ("{\"blockIO\":\"x\"}"), RP ".blockIO",
    "expected an object" },
  { "blockIO weight at least 10", R ("{\"blockIO\":{\"weight\":5}}"),
    RP ".blockIO.weight", "out of range [10, 1000]" },
  { "blockIO leafWeight at most 1000",
    R ("{\"blockIO\":{\"leafWeight\":1001}}"), RP ".blockIO.leafWeight",
    "out of range [10, 1000]" },
  { "blockIO weightDevice major required",
    R ("{\"blockIO\":{\"weightDevice\":[{\"minor\":0,\"weight\":10}]}}"),
    RP ".blockIO.weightDevice[0].major", "missing required field" },
  { "blockIO weightDevice minor required",
    R ("{\"blockIO\":{\"weightDevice\":[{\"major\":8,\"weight\":10}]}}"),
    RP ".blockIO.weightDevice[0].minor", "missing required field" },
  { "blockIO weightDevice needs a weight",
    R ("{\"blockIO\":{\"weightDevice\":[{\"major\":8,\"minor\":0}]}}"),
    RP ".blockIO.weightDevice[0]", "needs weight or leafWeight" },
  { "blockIO weightDevice weight in range",
    R ("{\"blockIO\":{\"weightDevice\":[{\"major\":8,\"minor\":0,"
       "\"weight\":2000}]}}"),
    RP ".blockIO.weightDevice[0].weight", "out of range" },
  { "blockIO weightDevice leafWeight in range",
    R ("{\"blockIO\":{\"weightDevice\":[{\"major\":8,\"minor\":0,"
       "\"leafWeight\":9}]}}"),
    RP ".blockIO.weightDevice[0].leafWeight", "out of range" },
  { "blockIO throttleReadBpsDevice rate required",
    R ("{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0}]"
       "}}"),
    RP ".blockIO.throttleReadBpsDevice[0].rate", "missing required field" },
  { "blockIO throttleWriteBpsDevice rate unsigned",
    R ("{\"blockIO\":{\"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":0,"
       "\"rate\":-1}]}}"),
    RP ".blockIO.throttleWriteBpsDevice[0].rate", "out of range" },
  { "blockIO throttleReadIOPSDevice major required",
    R ("{\"blockIO\":{\"throttleReadIOPSDevice\":[{\"minor\":0,\"rate\":1}]"
       "}}"),
    RP ".blockIO.throttleReadIOPSDevice[0].major", "missing required field" },
  { "blockIO throttleWriteIOPSDevice minor required",
    R ("{\"blockIO\":{\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":0,"
       "\"rate\":1},{\"major\":8,\"rate\":1}]}}"),
    RP ".blockIO.throttleWriteIOPSDevice[1].minor", "missing required field" },
  { "blockIO throttle list is an array",
    R ("{\"blockIO\":{\"throttleWriteIOPSDevice\":{}}}"),
    RP ".blockIO.throttleWriteIOPSDevice", "expected an array" },
  { "blockIO throttle major not negative",
    R ("{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":-1,\"minor\":0,"
       "\"rate\":1}]}}"),
    RP ".blockIO.throttleReadBpsDevice[0].major", "out of range" },
  /* hugepageLimits */
  { "hugepageLimits is an array", R ("{\"hugepageLimits\":{}}"),
    RP ".hugepageLimits", "expected an array" },
  { "hugepageLimits pageSize required",
    R ("{\"hugepageLimits\":[{\"limit\":1}]}"),
    RP ".hugepageLimits[0].pageSize", "missing required field" },
  { "hugepageLimits pageSize has a unit",
    R ("{\"hugepageLimits\":[{\"pageSize\":\"2M\",\"limit\":1}]}"),
    RP ".hugepageLimits[0].pageSize", "invalid page size \"2M\"" },
  { "hugepageLimits pageSize positive",
    R ("{\"hugepageLimits\":[{\"pageSize\":\"0MB\",\"limit\":1}]}"),
    RP ".hugepageLimits[0].pageSize", "invalid page size \"0MB\"" },
  { "hugepageLimits pageSize unit known",
    R ("{\"hugepageLimits\":[{\"pageSize\":\"2XB\",\"limit\":1}]}"),
    RP ".hugepageLimits[0].pageSize", "invalid page size \"2XB\"" },
  { "hugepageLimits limit required",
    R ("{\"hugepageLimits\":[{\"pageSize\":\"2MB\"}]}"),
    RP ".hugepageLimits[0].limit", "missing required field" },
  { "hugepageLimits limit unsigned",
    R ("{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":-1}]}"),
    RP ".hugepageLimits[0].limit", "out of range" },
  { "hugepageLimits pageSize unique",
    R ("{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":1},"
       "{\"pageSize\":\"2MB\",\"limit\":2}]}"),
    RP ".hugepageLimits[1].pageSize", "duplicate page size \"2MB\"" },
  /* network */
  { "network is an object", R ("{\"network\":[]}"), RP ".network",
    "expected an object" },
  { "network classID uint32", R ("{\"network\":{\"classID\":4294967296}}"),
    RP ".network.classID", "out of range" },
  { "network priorities name required",
    R ("{\"network\":{\"priorities\":[{\"priority\":1}]}}"),
    RP ".network.priorities[0].name", "missing required field" },
  { "network priorities priority required",
    R ("{\"network\":{\"priorities\":[{\"name\":\"eth0\"}]}}"),
    RP ".network.priorities[0].priority", "missing required field" },
  { "network priorities priority uint32",
    R ("{\"network\":{\"priorities\":[{\"name\":\"eth0\",\"priority\":-1}]}}"),
    RP ".network.priorities[0].priority", "out of range" },
  /* pids */
  { "pids is an object", R ("{\"pids\":5}"), RP ".pids",
    "expected an object" },
  { "pids limit required", R ("{\"pids\":{}}"), RP ".pids.limit",
    "missing required field" },
  { "pids limit -1 or more", R ("{\"pids\":{\"limit\":-2}}"), RP ".pids.limit",
    "out of range" },
  /* rdma */
  { "rdma is an object", R ("{\"rdma\":[]}"), RP ".rdma",
    "expected an object" },
  { "rdma entry is an object", R ("{\"rdma\":{\"mlx5_1\":3}}"),
    RP ".rdma.mlx5_1", "expected an object" },
  { "rdma entry needs a limit", R ("{\"rdma\":{\"mlx5_1\":{}}}"),
    RP ".rdma.mlx5_1", "needs hcaHandles or hcaObjects" },
  { "rdma hcaHandles uint32",
    R ("{\"rdma\":{\"mlx5_1\":{\"hcaHandles\":-1}}}"),
    RP ".rdma.mlx5_1.hcaHandles", "out of range" },
  { "rdma hcaObjects uint32",
    R ("{\"rdma\":{\"mlx5_1\":{\"hcaObjects\":4294967296}}}"),
    RP ".rdma.mlx5_1.hcaObjects", "out of range" },
  { "rdma device unique",
    R ("{\"rdma\":{\"mlx5_1\":{\"hcaObjects\":1},\"mlx5_1\":{\"hcaObjects\":"
       "2}}}"),
    RP ".rdma.mlx5_1", "duplicate device" },
  /* unified */
  { "unified is an object", R ("{\"unified\":[]}"), RP ".unified",
    "expected an object" },
  { "unified values are strings", R ("{\"unified\":{\"memory.max\":1}}"),
    RP ".unified.memory.max", "expected a string" },
  { "unified keys stay in the cgroup",
    R ("{\"unified\":{\"../memory.max\":\"1\"}}"), RP ".unified",
    "invalid cgroup file name \"../memory.max\"" },
  { "unified keys not empty", R ("{\"unified\":{\"\":\"1\"}}"), RP ".unified",
    "invalid cgroup file name \"\"" },
};

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_device_rules),
    cmocka_unit_test (test_memory),
    cmocka_unit_test (test_cpu),
    cmocka_unit_test (test_block_io),
    cmocka_unit_test (test_block_io_zero_weight_is_unset),
    cmocka_unit_test (test_hugepages_network_pids),
    cmocka_unit_test (test_rdma_unified),
    cmocka_unit_test (test_cpu_lists),
    cmocka_unit_test (test_empty_sections),
    cmocka_unit_test (test_roundtrip_full),
  };
  return run_section_tests ("config-resources", tests, N_ELEMENTS (tests),
                            bad_cases, N_ELEMENTS (bad_cases));
}
