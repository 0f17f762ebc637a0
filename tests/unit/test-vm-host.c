/* The VM's host side without a VM: the config the guest gets (share.c)
 * and QEMU's command line (qemu.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "oci/config.h"
#include "runtime/vm/qemu.h"
#include "runtime/vm/share.h"

static const char *const config_json
    = "{\"ociVersion\": \"1.2.0\","
      " \"root\": {\"path\": \"/bundle/rootfs\", \"readonly\": true},"
      " \"process\": {\"cwd\": \"/\", \"args\": [\"sh\"]},"
      " \"mounts\": ["
      "  {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
      "  {\"destination\": \"/data\", \"source\": \"/srv/data\","
      "   \"options\": [\"rbind\", \"ro\"]},"
      "  {\"destination\": \"/etc/hosts\", \"type\": \"bind\","
      "   \"source\": \"/etc/hosts\"}],"
      " \"hooks\": {\"prestart\": [{\"path\": \"/bin/true\"}]},"
      " \"linux\": {\"cgroupsPath\": \"/x/y\","
      "  \"resources\": {\"pids\": {\"limit\": 10}},"
      "  \"namespaces\": [{\"type\": \"pid\"},"
      "   {\"type\": \"network\", \"path\": \"/var/run/netns/n\"}]}}";

static void
test_guest_config (void **state)
{
  (void) state;
  struct oci_config *c = NULL;
  hy_error_t err = NULL;
  assert_int_equal (oci_config_parse (config_json, "config.json", &c, &err),
                    0);
  struct hy_vm_guest_config g;
  hy_vm_guest_config_init (&g, c);
  const struct oci_config *gc = &g.config;
  assert_string_equal (gc->root->path, HY_VM_GUEST_SHARE "/rootfs");
  assert_true (gc->root->readonly);
  assert_null (gc->hooks);
  assert_int_equal (gc->n_mounts, 3);
  assert_string_equal (gc->mounts[0].source, "proc"); /* not a bind */
  assert_string_equal (gc->mounts[1].source, HY_VM_GUEST_SHARE "/mounts/1");
  assert_string_equal (gc->mounts[2].source, HY_VM_GUEST_SHARE "/mounts/2");
  assert_string_equal (gc->mounts[1].options[1], "ro"); /* kept for the guest */
  assert_null (gc->linux_->cgroups_path);
  assert_null (gc->linux_->resources);
  assert_int_equal (gc->linux_->n_namespaces, 2);
  assert_null (gc->linux_->namespaces[1].path);
  /* The host's config is untouched, and the guest's serializes. */
  assert_string_equal (c->mounts[1].source, "/srv/data");
  assert_string_equal (c->linux_->namespaces[1].path, "/var/run/netns/n");
  char *json = oci_config_to_json (gc, false);
  assert_non_null (strstr (json, "/run/hyrun/share/mounts/2"));
  assert_null (strstr (json, "/srv/data"));
  assert_null (strstr (json, "cgroupsPath"));
  free (json);
  hy_vm_guest_config_release (&g);
  oci_config_free (c);
}

static const char *
arg_after (char **argv, const char *flag, int nth)
{
  for (size_t i = 0; argv[i]; i++)
    if (str_eq (argv[i], flag) && nth-- == 0)
      return argv[i + 1];
  return NULL;
}

static void
test_qemu_argv (void **state)
{
  (void) state;
  const struct hy_qemu_spec s = { .accel = "tcg",
                                  .kernel = "/k",
                                  .initrd = "/i",
                                  .cpus = 2,
                                  .memory = 512ULL << 20,
                                  .vsock_fd = 7,
                                  .share_dir = "/state/vm/share",
                                  .console_log = "/state/vm/console.log" };
  char **argv = hy_qemu_argv (&s);
  assert_string_equal (argv[0], HY_QEMU_DEFAULT_BINARY);
  assert_string_equal (arg_after (argv, "-accel", 0), "tcg");
  assert_string_equal (arg_after (argv, "-cpu", 0), "max");
  assert_string_equal (arg_after (argv, "-smp", 0), "2");
  assert_string_equal (arg_after (argv, "-m", 0), "512M");
  assert_string_equal (arg_after (argv, "-object", 0),
                       "memory-backend-memfd,id=mem,size=512M,share=on");
  assert_string_equal (arg_after (argv, "-chardev", 0), "socket,id=vsock,fd=7");
  assert_non_null (strstr (arg_after (argv, "-fsdev", 0),
                           "path=/state/vm/share,security_model=passthrough"));
  assert_non_null (strstr (arg_after (argv, "-append", 0), "reboot=t"));
  assert_true (strv_contains (argv, "-no-reboot"));
  strv_free (argv);

  const struct hy_qemu_spec k = { .accel = "kvm", .binary = "/q", .cpus = 1,
                                  .memory = 256ULL << 20, .vsock_fd = 3,
                                  .kernel = "/k", .initrd = "/i",
                                  .share_dir = "/s", .console_log = "/c" };
  argv = hy_qemu_argv (&k);
  assert_string_equal (argv[0], "/q");
  assert_string_equal (arg_after (argv, "-cpu", 0), "host");
  strv_free (argv);
}

static void
test_accel_forced (void **state)
{
  (void) state;
  setenv ("HYRUN_VM_ACCEL", "tcg", 1);
  assert_string_equal (hy_qemu_detect_accel (), "tcg");
  unsetenv ("HYRUN_VM_ACCEL");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_guest_config),
    cmocka_unit_test (test_qemu_argv),
    cmocka_unit_test (test_accel_forced),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
