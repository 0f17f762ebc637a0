/* The container's /dev: device nodes, bind-mounted host nodes, symlinks,
 * and targets resolved inside the rootfs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/sysmacros.h>

#include "linux-sandbox.h"
#include "runtime/linux/devices.h"

#define HEAD "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}"

struct fixture
{
  char *tmp;
  char *rootfs;
  char *outside;
  int rootfd;
};

static int
setup (void **state)
{
  struct fixture *f = xmalloc0 (sizeof (*f));
  f->tmp = temp_dir ();
  f->rootfs = xasprintf ("%s/rootfs", f->tmp);
  f->outside = xasprintf ("%s/outside", f->tmp);
  char *dev = xasprintf ("%s/dev", f->rootfs);
  make_dirs (dev);
  make_dirs (f->outside);
  free (dev);
  f->rootfd = -1;
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  char *probe = xasprintf ("%s/evil", f->outside);
  bool leaked = access (probe, F_OK) == 0;
  free (probe);
  remove_tree (f->tmp);
  free (f->tmp);
  free (f->rootfs);
  free (f->outside);
  free (f);
  assert_false (leaked);
  return 0;
}

/* In the sandbox: /dev a fresh tmpfs, rootfd open. */
static void
enter (struct fixture *f)
{
  char *dev = xasprintf ("%s/dev", f->rootfs);
  CHECK (mount ("tmpfs", dev, "tmpfs", MS_NOSUID, "mode=755") == 0);
  free (dev);
  f->rootfd = open (f->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  CHECK (f->rootfd >= 0);
  umask (022); /* modes must not depend on it */
}

static void
check_node (struct fixture *f, const char *path, mode_t type, unsigned maj,
            unsigned min, mode_t mode, uid_t uid, gid_t gid)
{
  char *p = xasprintf ("%s%s", f->rootfs, path);
  struct stat st;
  if (lstat (p, &st) < 0)
    {
      fprintf (stderr, "%s: %s\n", p, strerror (errno));
      _exit (1);
    }
  if ((st.st_mode & S_IFMT) != type || (st.st_mode & 07777) != mode
      || (type != S_IFIFO && st.st_rdev != makedev (maj, min))
      || st.st_uid != uid || st.st_gid != gid)
    {
      fprintf (stderr, "%s: mode %o rdev %u:%u owner %u:%u\n", p,
               (unsigned) st.st_mode, major (st.st_rdev), minor (st.st_rdev),
               (unsigned) st.st_uid, (unsigned) st.st_gid);
      _exit (1);
    }
  free (p);
}

static void
check_link (struct fixture *f, const char *path, const char *target)
{
  char *p = xasprintf ("%s%s", f->rootfs, path);
  char buf[256] = "";
  CHECK (readlink (p, buf, sizeof (buf) - 1) > 0);
  if (strcmp (buf, target) != 0)
    {
      fprintf (stderr, "%s -> %s, not %s\n", path, buf, target);
      _exit (1);
    }
  free (p);
}

static void
setup_dev (void *data)
{
  struct fixture *f = data;
  enter (f);
  struct oci_config *c = config_parse (
      HEAD ",\"linux\":{\"devices\":["
           "{\"type\":\"c\",\"path\":\"/dev/fuse\",\"major\":10,\"minor\":229,"
           "\"fileMode\":384,\"uid\":1000,\"gid\":1001},"
           "{\"type\":\"c\",\"path\":\"/dev/net/tun\",\"major\":10,"
           "\"minor\":200},"
           "{\"type\":\"b\",\"path\":\"/dev/loop7\",\"major\":7,\"minor\":7,"
           "\"fileMode\":432},"
           "{\"type\":\"p\",\"path\":\"/dev/fifo\",\"fileMode\":438},"
           "{\"type\":\"c\",\"path\":\"/dev/null\",\"major\":1,\"minor\":3,"
           "\"fileMode\":420}]}}");
  CHECK_OK (hy_devices_setup (f->rootfd, c->linux_, &err));

  check_node (f, "/dev/zero", S_IFCHR, 1, 5, 0666, 0, 0);
  check_node (f, "/dev/full", S_IFCHR, 1, 7, 0666, 0, 0);
  check_node (f, "/dev/random", S_IFCHR, 1, 8, 0666, 0, 0);
  check_node (f, "/dev/urandom", S_IFCHR, 1, 9, 0666, 0, 0);
  check_node (f, "/dev/tty", S_IFCHR, 5, 0, 0666, 0, 0);
  /* linux.devices wins over a default of the same path. */
  check_node (f, "/dev/null", S_IFCHR, 1, 3, 0644, 0, 0);
  check_node (f, "/dev/fuse", S_IFCHR, 10, 229, 0600, 1000, 1001);
  check_node (f, "/dev/net/tun", S_IFCHR, 10, 200, 0666, 0, 0);
  check_node (f, "/dev/loop7", S_IFBLK, 7, 7, 0660, 0, 0);
  check_node (f, "/dev/fifo", S_IFIFO, 0, 0, 0666, 0, 0);

  check_link (f, "/dev/fd", "/proc/self/fd");
  check_link (f, "/dev/stdin", "/proc/self/fd/0");
  check_link (f, "/dev/stdout", "/proc/self/fd/1");
  check_link (f, "/dev/stderr", "/proc/self/fd/2");
  check_link (f, "/dev/ptmx", "pts/ptmx");
  char *core = xasprintf ("%s/dev/core", f->rootfs);
  struct stat st;
  CHECK ((access ("/proc/kcore", F_OK) == 0) == (lstat (core, &st) == 0));
  free (core);
  /* Again: existing nodes and links are kept. */
  CHECK_OK (hy_devices_setup (f->rootfd, c->linux_, &err));
  check_node (f, "/dev/fuse", S_IFCHR, 10, 229, 0600, 1000, 1001);
  oci_config_free (c);
  close (f->rootfd);
}

static void
test_setup (void **state)
{
  SANDBOX (0, setup_dev, *state);
}

static void
symlink_refused (void *data)
{
  struct fixture *f = data;
  enter (f);
  char *evil = xasprintf ("%s/dev/evil", f->rootfs);
  char *target = xasprintf ("%s/evil", f->outside);
  CHECK (symlink (target, evil) == 0);
  struct oci_config *c = config_parse (
      HEAD ",\"linux\":{\"devices\":[{\"type\":\"c\",\"path\":\"/dev/evil\","
           "\"major\":1,\"minor\":3}]}}");
  CHECK_FAILS (hy_devices_setup (f->rootfd, c->linux_, &err),
               ".linux.devices[0]: device `/dev/evil`: a symlink is in the "
               "way, refusing it");
  CHECK (access (target, F_OK) < 0 && errno == ENOENT);
  /* The bind path refuses it as well. */
  CHECK_FAILS (
      hy_device_create (f->rootfd, &c->linux_->devices[0], true, &err),
      "a symlink is in the way");
  oci_config_free (c);
  free (target);
  free (evil);
  close (f->rootfd);
}

static void
test_symlink_refused (void **state)
{
  SANDBOX (0, symlink_refused, *state);
}

/* A symlinked parent directory is followed, but inside the rootfs. */
static void
symlinked_parent (void *data)
{
  struct fixture *f = data;
  enter (f);
  char *link = xasprintf ("%s/dev/sub", f->rootfs);
  char *up = xasprintf ("../../../../../..%s", f->outside);
  CHECK (symlink (up, link) == 0);
  struct oci_device d
      = { .type = 'c', .path = "/dev/sub/evil", .major = 1, .minor = 3 };
  CHECK_OK (hy_device_create (f->rootfd, &d, false, &err));
  char *inside = xasprintf ("%s%s/evil", f->rootfs, f->outside);
  struct stat st;
  CHECK (stat (inside, &st) == 0 && S_ISCHR (st.st_mode));
  free (inside);
  free (up);
  free (link);
  close (f->rootfd);
}

static void
test_symlinked_parent (void **state)
{
  SANDBOX (0, symlinked_parent, *state);
}

/* With a user namespace in the config, host nodes are bound, not made. */
static void
bind_host_nodes (void *data)
{
  struct fixture *f = data;
  enter (f);
  struct oci_config *c = config_parse (
      HEAD
      ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"devices\":["
      "{\"type\":\"c\",\"path\":\"/dev/zero\",\"major\":1,\"minor\":5}]}}");
  CHECK_OK (hy_devices_setup (f->rootfd, c->linux_, &err));
  const char *names[] = { "null", "zero", "full", "random", "urandom", "tty" };
  for (size_t i = 0; i < sizeof (names) / sizeof (names[0]); i++)
    {
      char *p = xasprintf ("%s/dev/%s", f->rootfs, names[i]);
      CHECK (mounted_as (p, NULL, NULL));
      free (p);
    }
  check_node (f, "/dev/zero", S_IFCHR, 1, 5, 0666, 0, 0);
  char *zero = xasprintf ("%s/dev/zero", f->rootfs);
  int fd = open (zero, O_RDONLY | O_CLOEXEC);
  char buf[4] = { 1, 1, 1, 1 };
  CHECK (fd >= 0 && read (fd, buf, 4) == 4 && buf[0] == 0 && buf[3] == 0);
  close (fd);
  free (zero);
  /* A node the host lacks cannot be bound. */
  struct oci_device d = {
    .type = 'c', .path = "/dev/hyrun-nonexistent", .major = 1, .minor = 3
  };
  CHECK_FAILS (
      hy_device_create (f->rootfd, &d, true, &err),
      "device `/dev/hyrun-nonexistent`: bind `/dev/hyrun-nonexistent`");
  oci_config_free (c);
  close (f->rootfd);
}

static void
test_bind_host_nodes (void **state)
{
  SANDBOX (0, bind_host_nodes, *state);
}

/* In a real user namespace mknod fails with EPERM: the bind fallback. */
static void
mknod_refused (void *data)
{
  struct fixture *f = data;
  int ready[2], go[2];
  CHECK (pipe (ready) == 0 && pipe (go) == 0);
  pid_t pid = fork ();
  CHECK (pid >= 0);
  if (pid == 0)
    {
      char b = 0;
      CHECK (unshare (CLONE_NEWUSER) == 0);
      CHECK (write (ready[1], &b, 1) == 1);
      CHECK (read (go[0], &b, 1) == 1);
      CHECK (unshare (CLONE_NEWNS) == 0);
      enter (f);
      struct oci_device d
          = { .type = 'c', .path = "/dev/null", .major = 1, .minor = 3 };
      CHECK_OK (hy_device_create (f->rootfd, &d, false, &err));
      char *p = xasprintf ("%s/dev/null", f->rootfs);
      CHECK (mounted_as (p, NULL, NULL));
      free (p);
      check_node (f, "/dev/null", S_IFCHR, 1, 3, 0666, 0, 0);
      close (f->rootfd);
      exit (0);
    }
  char b = 0;
  CHECK (read (ready[0], &b, 1) == 1);
  char *maps[] = { "uid_map", "gid_map" };
  for (int i = 0; i < 2; i++)
    {
      char *p = xasprintf ("/proc/%d/%s", (int) pid, maps[i]);
      write_text (p, "0 0 65536\n");
      free (p);
    }
  CHECK (write (go[1], &b, 1) == 1);
  CHECK (sandbox_wait (pid) == 0);
}

static void
test_mknod_refused_falls_back_to_bind (void **state)
{
  SANDBOX (0, mknod_refused, *state);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_setup, setup, teardown),
    cmocka_unit_test_setup_teardown (test_symlink_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_symlinked_parent, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bind_host_nodes, setup, teardown),
    cmocka_unit_test_setup_teardown (test_mknod_refused_falls_back_to_bind,
                                     setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
