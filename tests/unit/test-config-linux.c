/* The `linux` section of config.json (resources and seccomp have their own
 * tests): parsing, validation, serialization. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/linux-section-test.h"

static void
test_namespace_names (void **state)
{
  (void) state;
  static const char *const expected[OCI_NS_TYPES]
      = { "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time" };
  for (int i = 0; i < OCI_NS_TYPES; i++)
    assert_string_equal (oci_namespace_names[i], expected[i]);
}

static void
test_namespaces (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_linux_ok (
      "{\"namespaces\":[{\"type\":\"pid\",\"path\":\"/proc/1/ns/pid\"},"
      "{\"type\":\"network\"},{\"type\":\"mount\"},{\"type\":\"ipc\"},"
      "{\"type\":\"uts\"},{\"type\":\"user\"},{\"type\":\"cgroup\"},"
      "{\"type\":\"time\",\"path\":null}]}");
  const struct oci_linux *l = c->linux_;
  assert_int_equal (l->n_namespaces, 8);
  for (int i = 0; i < OCI_NS_TYPES; i++)
    assert_int_equal (l->namespaces[i].type, i);
  assert_string_equal (l->namespaces[0].path, "/proc/1/ns/pid");
  assert_null (l->namespaces[1].path);
  assert_null (l->namespaces[7].path);
}

static void
test_idmaps (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_linux_ok (
      "{\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10},"
      "{\"containerID\":10,\"hostID\":100000,\"size\":65526}],"
      "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]}");
  const struct oci_linux *l = c->linux_;
  assert_int_equal (l->n_uid_mappings, 2);
  assert_int_equal (l->uid_mappings[1].host_id, 100000);
  assert_int_equal (l->uid_mappings[1].size, 65526);
  assert_int_equal (l->n_gid_mappings, 1);
  assert_int_equal (l->gid_mappings[0].host_id, 1000);
}

static void
test_time_offsets (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_linux_ok (
      "{\"timeOffsets\":{\"monotonic\":{\"secs\":-86400,\"nanosecs\":"
      "999999999},\"boottime\":{\"secs\":7}}}");
  const struct oci_linux *l = c->linux_;
  assert_true (l->time_monotonic.present);
  assert_true (l->time_monotonic.has_secs);
  assert_int_equal (l->time_monotonic.secs, -86400);
  assert_int_equal (l->time_monotonic.nanosecs, 999999999);
  assert_true (l->time_boottime.present);
  assert_int_equal (l->time_boottime.secs, 7);
  assert_false (l->time_boottime.has_nanosecs);
}

static void
test_devices (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_linux_ok (
      "{\"devices\":[{\"type\":\"c\",\"path\":\"/dev/fuse\",\"major\":10,"
      "\"minor\":229,\"fileMode\":438,\"uid\":0,\"gid\":4294967295},"
      "{\"type\":\"p\",\"path\":\"/dev/fifo\"},"
      "{\"type\":\"b\",\"path\":\"/dev/sda\",\"major\":8,\"minor\":0},"
      "{\"type\":\"u\",\"path\":\"/dev/u\",\"major\":1,\"minor\":2}]}");
  const struct oci_linux *l = c->linux_;
  assert_int_equal (l->n_devices, 4);
  const struct oci_device *fuse = &l->devices[0];
  assert_int_equal (fuse->type, 'c');
  assert_string_equal (fuse->path, "/dev/fuse");
  assert_int_equal (fuse->major, 10);
  assert_int_equal (fuse->minor, 229);
  assert_true (fuse->has_file_mode);
  assert_int_equal (fuse->file_mode, 0666);
  assert_int_equal (fuse->gid, UINT32_MAX);
  const struct oci_device *fifo = &l->devices[1];
  assert_int_equal (fifo->type, 'p');
  assert_false (fifo->has_major);
  assert_false (fifo->has_file_mode);
  assert_int_equal (l->devices[2].type, 'b');
  assert_int_equal (l->devices[3].type, 'u');
}

static void
test_strings_and_paths (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_linux_ok (
      "{\"cgroupsPath\":\"system.slice:hyrun:abc\",\"rootfsPropagation\":"
      "\"rslave\",\"maskedPaths\":[\"/proc/kcore\",\"/sys/firmware\"],"
      "\"readonlyPaths\":[],\"mountLabel\":\"system_u:object_r:x:s0\"}");
  const struct oci_linux *l = c->linux_;
  assert_string_equal (l->cgroups_path, "system.slice:hyrun:abc");
  assert_string_equal (l->rootfs_propagation, "rslave");
  assert_int_equal (strv_len (l->masked_paths), 2);
  assert_string_equal (l->masked_paths[1], "/sys/firmware");
  assert_non_null (l->readonly_paths);
  assert_null (l->readonly_paths[0]);
  assert_string_equal (l->mount_label, "system_u:object_r:x:s0");
}

static void
test_rootfs_propagation_values (void **state)
{
  (void) state;
  static const char *const values[]
      = { "",       "private", "rprivate",   "slave",      "rslave",
          "shared", "rshared", "unbindable", "runbindable" };
  for (size_t i = 0; i < N_ELEMENTS (values); i++)
    {
      _cleanup_free_ char *json
          = xasprintf ("{\"rootfsPropagation\":\"%s\"}", values[i]);
      _cleanup_config_ struct oci_config *c = parse_linux_ok (json);
      assert_string_equal (c->linux_->rootfs_propagation, values[i]);
    }
}

static void
test_sysctl_personality_rdt (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_linux_ok (
      "{\"sysctl\":{\"net.ipv4.ip_forward\":\"1\",\"net/ipv4/conf/eth0.1/"
      "forwarding\":\"0\"},\"personality\":{\"domain\":\"LINUX32\",\"flags\":"
      "[]},\"intelRdt\":{\"closID\":\"guaranteed_group\",\"l3CacheSchema\":"
      "\"L3:0=7f0\",\"memBwSchema\":\"MB:0=20\",\"enableCMT\":true}}");
  const struct oci_linux *l = c->linux_;
  assert_true (l->has_sysctl);
  assert_string_equal (oci_strmap_get (&l->sysctl, "net.ipv4.ip_forward"),
                       "1");
  assert_string_equal (l->personality->domain, "LINUX32");
  assert_non_null (l->personality->flags);
  assert_string_equal (l->intel_rdt->clos_id, "guaranteed_group");
  assert_string_equal (l->intel_rdt->mem_bw_schema, "MB:0=20");
  assert_true (l->intel_rdt->enable_cmt);
  assert_false (l->intel_rdt->has_enable_mbm);
}

static void
test_net_devices (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_linux_ok (
      "{\"netDevices\":{\"eth1\":{\"name\":\"ctr0\"},\"dummy0\":{}}}");
  const struct oci_linux *l = c->linux_;
  assert_int_equal (l->n_net_devices, 2);
  assert_string_equal (l->net_devices[0].host_name, "eth1");
  assert_string_equal (l->net_devices[0].name, "ctr0");
  assert_string_equal (l->net_devices[1].host_name, "dummy0");
  assert_null (l->net_devices[1].name);
}

static void
test_absent_and_empty (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_linux_ok ("{}");
  const struct oci_linux *l = c->linux_;
  assert_null (l->namespaces);
  assert_null (l->devices);
  assert_null (l->resources);
  assert_null (l->seccomp);
  assert_false (l->has_sysctl);
  assert_false (l->time_monotonic.present);
  assert_canonical ("{}");
  /* [] and {} stay distinct from absent. */
  assert_canonical ("{\"namespaces\":[],\"devices\":[],\"netDevices\":{},"
                    "\"sysctl\":{},\"maskedPaths\":[]}");
}

static void
test_unknown_fields_ignored (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = parse_linux_ok (
      "{\"futureThing\":{\"x\":1},\"namespaces\":[{\"type\":\"pid\","
      "\"extra\":true}],\"devices\":[{\"type\":\"p\",\"path\":\"/dev/f\","
      "\"color\":\"red\"}]}");
  assert_int_equal (c->linux_->n_namespaces, 1);
  _cleanup_free_ char *out = to_json (c);
  assert_null (strstr (out, "futureThing"));
  assert_null (strstr (out, "extra"));
  assert_null (strstr (out, "color"));
}

static void
test_false_booleans_kept (void **state)
{
  (void) state;
  assert_canonical ("{\"intelRdt\":{\"enableCMT\":false,\"enableMBM\":"
                    "false}}");
  assert_canonical ("{\"intelRdt\":{}}");
}

/* Every linux field, in generator order, compact: parse -> gen must give
 * the same text back. */
static const char full_linux[]
    = "{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":"
      "\"/var/run/netns/a\"},{\"type\":\"mount\"},{\"type\":\"ipc\"},"
      "{\"type\":\"uts\"},{\"type\":\"user\"},{\"type\":\"cgroup\"},"
      "{\"type\":\"time\"}],"
      "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":32000}],"
      "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":32000}],"
      "\"timeOffsets\":{\"monotonic\":{\"secs\":-5,\"nanosecs\":10},"
      "\"boottime\":{\"nanosecs\":0}},"
      "\"devices\":[{\"type\":\"c\",\"path\":\"/dev/fuse\",\"major\":10,"
      "\"minor\":229,\"fileMode\":438,\"uid\":0,\"gid\":0},{\"type\":\"p\","
      "\"path\":\"/dev/pipe\"}],"
      "\"netDevices\":{\"eth1\":{\"name\":\"ctr1\"},\"eth2\":{}},"
      "\"cgroupsPath\":\"/hyrun/ctr\","
      "\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
      "{\"allow\":true,\"type\":\"c\",\"major\":10,\"minor\":-1,\"access\":"
      "\"rw\"}],\"memory\":{\"limit\":536870912,\"swap\":-1,\"swappiness\":"
      "10,\"disableOOMKiller\":false},\"cpu\":{\"shares\":1024,\"quota\":"
      "100000,\"period\":100000,\"cpus\":\"0-3,7\",\"mems\":\"0\"},"
      "\"pids\":{\"limit\":100},\"unified\":{\"memory.high\":\"1G\"}},"
      "\"intelRdt\":{\"closID\":\"g\",\"l3CacheSchema\":\"L3:0=ff\","
      "\"memBwSchema\":\"MB:0=50\",\"enableCMT\":true,\"enableMBM\":false},"
      "\"sysctl\":{\"net.core.somaxconn\":\"256\",\"kernel.msgmax\":"
      "\"8192\"},"
      "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":"
      "1,\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
      "\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":"
      "\"SCMP_ACT_ALLOW\"}]},"
      "\"rootfsPropagation\":\"rprivate\","
      "\"maskedPaths\":[\"/proc/kcore\",\"/proc/keys\"],"
      "\"readonlyPaths\":[\"/proc/sys\"],"
      "\"mountLabel\":\"system_u:object_r:container_file_t:s0\","
      "\"personality\":{\"domain\":\"LINUX\",\"flags\":[]}}";

static void
test_roundtrip_full (void **state)
{
  (void) state;
  assert_canonical (full_linux);
}

static void
test_roundtrip_pretty (void **state)
{
  (void) state;
  _cleanup_free_ char *pretty = roundtrip (full_linux, true);
  assert_non_null (strstr (pretty, "\n  \"linux\": {\n"));
  /* The pretty text reads back to the same compact text. */
  _cleanup_config_ struct oci_config *c = NULL;
  _cleanup_error_ hy_error_t err = NULL;
  assert_int_equal (oci_config_parse (pretty, "pretty", &c, &err), 0);
  _cleanup_free_ char *compact = to_json (c);
  _cleanup_free_ char *doc = doc_with_linux (full_linux);
  assert_string_equal (compact, doc);
}

#define NS4(t)                                                                \
  "{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":"         \
  "\"uts\"},{\"type\":" t "}]}"
#define DEV(fields)                                                           \
  "{\"devices\":[{\"type\":\"p\",\"path\":\"/dev/p\"}," fields "]}"

static const struct bad_case bad_cases[] = {
  { "linux is an object", "[]", ".linux", "expected an object" },
  /* namespaces */
  { "namespaces is an array", "{\"namespaces\":{}}", ".linux.namespaces",
    "expected an array" },
  { "namespace is an object", "{\"namespaces\":[\"pid\"]}",
    ".linux.namespaces[0]", "expected an object" },
  { "namespace type required", "{\"namespaces\":[{\"path\":\"/x\"}]}",
    ".linux.namespaces[0].type", "missing required field" },
  { "namespace type is a string", "{\"namespaces\":[{\"type\":1}]}",
    ".linux.namespaces[0].type", "expected a string" },
  { "namespace type known", NS4 ("\"foo\""), ".linux.namespaces[3].type",
    "unknown namespace type \"foo\"" },
  { "namespace type not duplicated",
    "{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":"
    "\"pid\",\"path\":\"/proc/1/ns/pid\"}]}",
    ".linux.namespaces[2].type", "duplicate namespace type \"pid\"" },
  { "namespace type net is not network",
    "{\"namespaces\":[{\"type\":\"net\"}]}", ".linux.namespaces[0].type",
    "unknown namespace type \"net\"" },
  { "namespace path is absolute",
    "{\"namespaces\":[{\"type\":\"network\",\"path\":\"netns/a\"}]}",
    ".linux.namespaces[0].path", "must be an absolute path" },
  { "namespace path is a string",
    "{\"namespaces\":[{\"type\":\"network\",\"path\":[]}]}",
    ".linux.namespaces[0].path", "expected a string" },
  /* id mappings */
  { "uidMappings entry complete",
    "{\"uidMappings\":[{\"containerID\":0,\"hostID\":1}]}",
    ".linux.uidMappings[0].size", "missing required field" },
  { "gidMappings hostID uint32",
    "{\"gidMappings\":[{\"containerID\":0,\"hostID\":4294967296,\"size\":1}]}",
    ".linux.gidMappings[0].hostID", "out of range" },
  /* timeOffsets */
  { "timeOffsets is an object", "{\"timeOffsets\":[]}", ".linux.timeOffsets",
    "expected an object" },
  { "timeOffsets clock known", "{\"timeOffsets\":{\"realtime\":{\"secs\":1}}}",
    ".linux.timeOffsets.realtime", "unknown clock" },
  { "timeOffsets entry is an object", "{\"timeOffsets\":{\"boottime\":1}}",
    ".linux.timeOffsets.boottime", "expected an object" },
  { "timeOffsets secs integer",
    "{\"timeOffsets\":{\"monotonic\":{\"secs\":\"1\"}}}",
    ".linux.timeOffsets.monotonic.secs", "expected an integer" },
  { "timeOffsets nanosecs below 1e9",
    "{\"timeOffsets\":{\"monotonic\":{\"nanosecs\":1000000000}}}",
    ".linux.timeOffsets.monotonic.nanosecs", "out of range" },
  { "timeOffsets nanosecs not negative",
    "{\"timeOffsets\":{\"boottime\":{\"nanosecs\":-1}}}",
    ".linux.timeOffsets.boottime.nanosecs", "out of range" },
  /* devices */
  { "devices is an array", "{\"devices\":{}}", ".linux.devices",
    "expected an array" },
  { "device type required", DEV ("{\"path\":\"/dev/x\"}"),
    ".linux.devices[1].type", "missing required field" },
  { "device type known",
    DEV ("{\"type\":\"x\",\"path\":\"/dev/x\",\"major\":1,\"minor\":1}"),
    ".linux.devices[1].type", "unknown device type \"x\"" },
  { "device type one letter",
    DEV ("{\"type\":\"cb\",\"path\":\"/dev/x\",\"major\":1,\"minor\":1}"),
    ".linux.devices[1].type", "unknown device type \"cb\"" },
  { "device path required", DEV ("{\"type\":\"p\"}"), ".linux.devices[1].path",
    "missing required field" },
  { "device path absolute", DEV ("{\"type\":\"p\",\"path\":\"dev/x\"}"),
    ".linux.devices[1].path", "must be an absolute path" },
  { "device major required for c",
    DEV ("{\"type\":\"c\",\"path\":\"/dev/x\",\"minor\":1}"),
    ".linux.devices[1].major", "missing required field" },
  { "device minor required for b",
    DEV ("{\"type\":\"b\",\"path\":\"/dev/x\",\"major\":1}"),
    ".linux.devices[1].minor", "missing required field" },
  { "device major not negative",
    DEV ("{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":-1,\"minor\":1}"),
    ".linux.devices[1].major", "out of range" },
  { "device minor integer",
    DEV ("{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":1,\"minor\":1.5}"),
    ".linux.devices[1].minor", "expected an integer" },
  { "device fileMode at most 07777",
    DEV ("{\"type\":\"p\",\"path\":\"/dev/x\",\"fileMode\":4096}"),
    ".linux.devices[1].fileMode", "out of range" },
  { "device uid uint32",
    DEV ("{\"type\":\"p\",\"path\":\"/dev/x\",\"uid\":-1}"),
    ".linux.devices[1].uid", "out of range" },
  { "device gid uint32",
    DEV ("{\"type\":\"p\",\"path\":\"/dev/x\",\"gid\":4294967296}"),
    ".linux.devices[1].gid", "out of range" },
  /* plain strings */
  { "cgroupsPath is a string", "{\"cgroupsPath\":1}", ".linux.cgroupsPath",
    "expected a string" },
  { "mountLabel is a string", "{\"mountLabel\":false}", ".linux.mountLabel",
    "expected a string" },
  { "rootfsPropagation known", "{\"rootfsPropagation\":\"rshared2\"}",
    ".linux.rootfsPropagation", "unknown rootfs propagation \"rshared2\"" },
  { "rootfsPropagation is a string", "{\"rootfsPropagation\":[]}",
    ".linux.rootfsPropagation", "expected a string" },
  /* maskedPaths, readonlyPaths */
  { "maskedPaths absolute", "{\"maskedPaths\":[\"/proc/kcore\",\"proc\"]}",
    ".linux.maskedPaths[1]", "must be an absolute path" },
  { "readonlyPaths absolute", "{\"readonlyPaths\":[\"\"]}",
    ".linux.readonlyPaths[0]", "must be an absolute path" },
  { "readonlyPaths strings", "{\"readonlyPaths\":[\"/a\",2]}",
    ".linux.readonlyPaths[1]", "expected a string" },
  { "maskedPaths is an array", "{\"maskedPaths\":\"/proc\"}",
    ".linux.maskedPaths", "expected an array" },
  /* sysctl */
  { "sysctl is an object", "{\"sysctl\":[]}", ".linux.sysctl",
    "expected an object" },
  { "sysctl values are strings", "{\"sysctl\":{\"kernel.shmmax\":1}}",
    ".linux.sysctl.kernel.shmmax", "expected a string" },
  { "sysctl name without empty parts", "{\"sysctl\":{\"net..x\":\"1\"}}",
    ".linux.sysctl", "invalid name \"net..x\"" },
  { "sysctl name stays under /proc/sys",
    "{\"sysctl\":{\"../../etc/x\":\"1\"}}", ".linux.sysctl",
    "invalid name \"../../etc/x\"" },
  { "sysctl name not empty", "{\"sysctl\":{\"\":\"1\"}}", ".linux.sysctl",
    "invalid name \"\"" },
  /* intelRdt */
  { "intelRdt is an object", "{\"intelRdt\":true}", ".linux.intelRdt",
    "expected an object" },
  { "intelRdt closID is a directory name",
    "{\"intelRdt\":{\"closID\":\"../x\"}}", ".linux.intelRdt.closID",
    "invalid class of service" },
  { "intelRdt closID not dot-dot", "{\"intelRdt\":{\"closID\":\"..\"}}",
    ".linux.intelRdt.closID", "invalid class of service" },
  { "intelRdt enableMBM boolean", "{\"intelRdt\":{\"enableMBM\":1}}",
    ".linux.intelRdt.enableMBM", "expected a boolean" },
  { "intelRdt l3CacheSchema string", "{\"intelRdt\":{\"l3CacheSchema\":1}}",
    ".linux.intelRdt.l3CacheSchema", "expected a string" },
  /* personality */
  { "personality is an object", "{\"personality\":\"LINUX\"}",
    ".linux.personality", "expected an object" },
  { "personality domain required", "{\"personality\":{\"flags\":[]}}",
    ".linux.personality.domain", "missing required field" },
  { "personality domain known", "{\"personality\":{\"domain\":\"LINUX64\"}}",
    ".linux.personality.domain", "unknown execution domain \"LINUX64\"" },
  { "personality flags strings",
    "{\"personality\":{\"domain\":\"LINUX\",\"flags\":[1]}}",
    ".linux.personality.flags[0]", "expected a string" },
  /* netDevices */
  { "netDevices is an object", "{\"netDevices\":[]}", ".linux.netDevices",
    "expected an object" },
  { "netDevices entry is an object", "{\"netDevices\":{\"eth0\":\"x\"}}",
    ".linux.netDevices.eth0", "expected an object" },
  { "netDevices name is a string", "{\"netDevices\":{\"eth0\":{\"name\":1}}}",
    ".linux.netDevices.eth0.name", "expected a string" },
  { "netDevices name valid",
    "{\"netDevices\":{\"eth0\":{\"name\":\"a-name-far-too-long\"}}}",
    ".linux.netDevices.eth0.name", "invalid network device name" },
  { "netDevices host name valid", "{\"netDevices\":{\"a/b\":{}}}",
    ".linux.netDevices.a/b", "invalid network device name" },
  { "netDevices names unique",
    "{\"netDevices\":{\"eth0\":{\"name\":\"ctr0\"},\"eth1\":{\"name\":"
    "\"ctr0\"}}}",
    ".linux.netDevices.eth1", "also named \"ctr0\"" },
  /* the sections with their own files, as config-linux.c hands them on */
  { "resources is an object", "{\"resources\":[]}", ".linux.resources",
    "expected an object" },
  { "seccomp is an object", "{\"seccomp\":\"x\"}", ".linux.seccomp",
    "expected an object" },
};

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_namespace_names),
    cmocka_unit_test (test_namespaces),
    cmocka_unit_test (test_idmaps),
    cmocka_unit_test (test_time_offsets),
    cmocka_unit_test (test_devices),
    cmocka_unit_test (test_strings_and_paths),
    cmocka_unit_test (test_rootfs_propagation_values),
    cmocka_unit_test (test_sysctl_personality_rdt),
    cmocka_unit_test (test_net_devices),
    cmocka_unit_test (test_absent_and_empty),
    cmocka_unit_test (test_unknown_fields_ignored),
    cmocka_unit_test (test_false_booleans_kept),
    cmocka_unit_test (test_roundtrip_full),
    cmocka_unit_test (test_roundtrip_pretty),
  };
  return run_section_tests ("config-linux", tests, N_ELEMENTS (tests),
                            bad_cases, N_ELEMENTS (bad_cases));
}
