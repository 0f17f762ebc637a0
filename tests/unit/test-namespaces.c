/* Namespaces: flags, opening and joining by path, id maps, time offsets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <grp.h>
#include <linux/nsfs.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>

#include "linux-sandbox.h"
#include "runtime/linux/namespaces.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define HEAD "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"

static void
test_clone_flags (void **state)
{
  (void) state;
  struct oci_config *c = config_parse (
      HEAD "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":"
           "\"network\"},{\"type\":\"mount\"},{\"type\":\"uts\",\"path\":"
           "\"/proc/1/ns/uts\"},{\"type\":\"time\"}]}}");
  assert_int_equal (hy_ns_clone_flags (c->linux_),
                    CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWTIME);
  assert_true (hy_ns_is_private (c->linux_, OCI_NS_UTS));
  assert_false (hy_ns_is_private (c->linux_, OCI_NS_IPC));
  assert_string_equal (hy_ns_find (c->linux_, OCI_NS_UTS)->path,
                       "/proc/1/ns/uts");
  assert_int_equal (hy_ns_clone_flags (NULL), 0);
  oci_config_free (c);

  assert_string_equal (hy_ns_proc_name (OCI_NS_NETWORK), "net");
  assert_string_equal (hy_ns_proc_name (OCI_NS_MOUNT), "mnt");
  assert_int_equal (hy_ns_clone_flag (OCI_NS_CGROUP), CLONE_NEWCGROUP);
  assert_int_equal (hy_ns_clone_flag (OCI_NS_USER), CLONE_NEWUSER);
}

static void
expect_open_error (const char *json, const char *needle)
{
  struct oci_config *c = config_parse (json);
  struct hy_ns_fds fds;
  hy_error_t err = NULL;
  assert_int_equal (hy_ns_open_paths (c->linux_, &fds, &err), -1);
  if (strstr (err->msg, needle) == NULL)
    fail_msg ("error \"%s\" lacks \"%s\"", err->msg, needle);
  for (size_t t = 0; t < OCI_NS_TYPES; t++)
    assert_int_equal (fds.fd[t], -1);
  hy_error_release (&err);
  oci_config_free (c);
}

static void
test_open_paths_checks_the_type (void **state)
{
  (void) state;
  expect_open_error (HEAD "\"linux\":{\"namespaces\":[{\"type\":\"ipc\","
                          "\"path\":\"/proc/self/ns/ipc\"},{\"type\":"
                          "\"network\",\"path\":\"/proc/self/ns/uts\"}]}}",
                     ".linux.namespaces[1].path: `/proc/self/ns/uts` is a "
                     "uts namespace, not a network namespace");
  expect_open_error (HEAD "\"linux\":{\"namespaces\":[{\"type\":\"pid\","
                          "\"path\":\"/etc/hostname\"}]}}",
                     ".linux.namespaces[0].path: `/etc/hostname` is not a "
                     "namespace file");
  expect_open_error (HEAD "\"linux\":{\"namespaces\":[{\"type\":\"pid\","
                          "\"path\":\"/nonexistent/ns\"}]}}",
                     ".linux.namespaces[0].path: open `/nonexistent/ns`");
}

static void
test_open_paths (void **state)
{
  (void) state;
  struct oci_config *c = config_parse (
      HEAD "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"uts\","
           "\"path\":\"/proc/self/ns/uts\"},{\"type\":\"mount\",\"path\":"
           "\"/proc/self/ns/mnt\"}]}}");
  struct hy_ns_fds fds;
  hy_error_t err = NULL;
  assert_int_equal (hy_ns_open_paths (c->linux_, &fds, &err), 0);
  assert_true (fds.fd[OCI_NS_UTS] >= 0);
  assert_true (fds.fd[OCI_NS_MOUNT] >= 0);
  assert_int_equal (fds.fd[OCI_NS_PID], -1);
  assert_int_equal (fds.index[OCI_NS_MOUNT], 2);
  assert_int_equal (fcntl (fds.fd[OCI_NS_UTS], F_GETFD) & FD_CLOEXEC,
                    FD_CLOEXEC);
  hy_ns_fds_close (&fds);
  oci_config_free (c);
}

/* ---- a process holding namespaces for the others to join ---- */

struct holder
{
  pid_t pid;
  int release; /* closing it ends the holder */
};

/* A child that runs `setup` and then waits; the parent gets control back
 * once the setup is done. */
static struct holder
holder_start (void (*setup) (void))
{
  int ready[2], hold[2];
  CHECK (pipe (ready) == 0 && pipe (hold) == 0);
  fflush (NULL);
  pid_t pid = fork ();
  CHECK (pid >= 0);
  if (pid == 0)
    {
      close (ready[0]);
      close (hold[1]);
      setup ();
      char c = 1;
      CHECK (write (ready[1], &c, 1) == 1);
      while (read (hold[0], &c, 1) < 0 && errno == EINTR)
        ;
      _exit (0);
    }
  close (ready[1]);
  close (hold[0]);
  char c;
  CHECK (read (ready[0], &c, 1) == 1);
  close (ready[0]);
  return (struct holder){ pid, hold[1] };
}

static void
holder_stop (struct holder *h)
{
  close (h->release);
  CHECK (sandbox_wait (h->pid) == 0);
}

static void
uts_holder (void)
{
  CHECK (unshare (CLONE_NEWUTS) == 0);
  CHECK (sethostname ("hyrun-joined", 12) == 0);
}

static void
join_uts (void *data)
{
  pid_t holder = *(pid_t *) data;
  char *json = xasprintf (HEAD "\"linux\":{\"namespaces\":[{\"type\":\"uts\","
                               "\"path\":\"/proc/%d/ns/uts\"}]}}",
                          (int) holder);
  struct oci_config *c = config_parse (json);
  struct hy_ns_fds fds;
  CHECK_OK (hy_ns_open_paths (c->linux_, &fds, &err));
  CHECK_OK (hy_ns_join (&fds, &err));
  CHECK (fds.fd[OCI_NS_UTS] == -1); /* closed once joined */
  char name[64] = "";
  CHECK (gethostname (name, sizeof (name)) == 0);
  CHECK (strcmp (name, "hyrun-joined") == 0);
  oci_config_free (c);
  free (json);
}

static void
test_join (void **state)
{
  (void) state;
  if (geteuid () != 0)
    skip ();
  struct holder h = holder_start (uts_holder);
  SANDBOX (0, join_uts, &h.pid);
  holder_stop (&h);
}

static void
become_user_1000 (void)
{
  CHECK (setgroups (0, NULL) == 0);
  CHECK (setresgid (1000, 1000, 1000) == 0);
  CHECK (setresuid (1000, 1000, 1000) == 0);
  /* Changing ids made /proc/self root's; a rootless runtime is dumpable. */
  CHECK (prctl (PR_SET_DUMPABLE, 1) == 0);
}

/* As uid 1000: a user namespace mapping only itself (the kernel then
 * wants setgroups denied) that owns a uts namespace. */
static void
unprivileged_userns_holder (void)
{
  become_user_1000 ();
  CHECK (unshare (CLONE_NEWUSER) == 0);
  struct oci_idmap self = { 0, 1000, 1 };
  CHECK_OK (hy_ns_write_id_maps (0, &self, 1, &self, 1, &err));
  char *setgroups = read_text ("/proc/self/setgroups");
  CHECK (setgroups && strcmp (setgroups, "deny\n") == 0);
  free (setgroups);
  CHECK (getuid () == 0 && getgid () == 0);
  CHECK (unshare (CLONE_NEWUTS) == 0);
  CHECK (sethostname ("hyrun-userns", 12) == 0);
}

/* The uts namespace comes first in the config, but an unprivileged
 * process can only join it from inside its owning user namespace. */
static void
join_unprivileged (void *data)
{
  pid_t holder = *(pid_t *) data;
  char *json = xasprintf (
      HEAD "\"linux\":{\"namespaces\":[{\"type\":\"uts\",\"path\":"
           "\"/proc/%d/ns/uts\"},{\"type\":\"user\",\"path\":"
           "\"/proc/%d/ns/user\"}]}}",
      (int) holder, (int) holder);
  struct oci_config *c = config_parse (json);
  struct hy_ns_fds fds;
  CHECK_OK (hy_ns_open_paths (c->linux_, &fds, &err));
  become_user_1000 ();
  CHECK_OK (hy_ns_join (&fds, &err));
  char name[64] = "";
  CHECK (gethostname (name, sizeof (name)) == 0);
  CHECK (strcmp (name, "hyrun-userns") == 0);
  CHECK (getuid () == 0); /* uid 1000 is root in there */
  oci_config_free (c);
  free (json);
}

static void
test_join_user_namespace_first_when_needed (void **state)
{
  (void) state;
  if (geteuid () != 0)
    skip ();
  struct holder h = holder_start (unprivileged_userns_holder);
  SANDBOX (0, join_unprivileged, &h.pid);
  holder_stop (&h);
}

static void
join_error_names_path (void *data)
{
  (void) data;
  struct hy_ns_fds fds;
  hy_ns_fds_init (&fds);
  fds.fd[OCI_NS_USER] = open ("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  fds.path[OCI_NS_USER] = "/proc/self/ns/user";
  fds.index[OCI_NS_USER] = 4;
  /* Joining the user namespace one is already in is EINVAL. */
  CHECK_FAILS (hy_ns_join (&fds, &err),
               "join the user namespace `/proc/self/ns/user` "
               "(.linux.namespaces[4])");
  hy_ns_fds_close (&fds);
}

static void
test_join_error (void **state)
{
  (void) state;
  SANDBOX (0, join_error_names_path, NULL);
}

/* ---- id maps ---- */

static void
userns_holder (void)
{
  CHECK (unshare (CLONE_NEWUSER) == 0);
}

static void
read_map (pid_t pid, const char *file, char *out, size_t size)
{
  char *path = xasprintf ("/proc/%d/%s", (int) pid, file);
  char *text = read_text (path);
  CHECK (text != NULL);
  /* "      1000          0          1\n" -> "1000 0 1;" */
  out[0] = '\0';
  unsigned a, b, n;
  int used;
  for (const char *p = text; sscanf (p, "%u %u %u%n", &a, &b, &n, &used) == 3;
       p += used)
    snprintf (out + strlen (out), size - strlen (out), "%u %u %u;", a, b, n);
  free (text);
  free (path);
}

static void
test_write_id_maps (void **state)
{
  (void) state;
  if (geteuid () != 0)
    skip ();
  struct holder h = holder_start (userns_holder);
  struct oci_idmap uids[] = { { 0, 100000, 1000 }, { 1000, 0, 1 } };
  struct oci_idmap gids[] = { { 0, 200000, 65536 } };
  hy_error_t err = NULL;
  assert_int_equal (hy_ns_write_id_maps (h.pid, uids, 2, gids, 1, &err), 0);
  char map[256];
  read_map (h.pid, "uid_map", map, sizeof (map));
  assert_string_equal (map, "0 100000 1000;1000 0 1;");
  read_map (h.pid, "gid_map", map, sizeof (map));
  assert_string_equal (map, "0 200000 65536;");
  char *path = xasprintf ("/proc/%d/setgroups", (int) h.pid);
  char *setgroups = read_text (path);
  assert_string_equal (setgroups, "allow\n"); /* root needs no deny */
  free (setgroups);
  free (path);

  /* A map is written once: the error names the file and the values. */
  assert_int_equal (hy_ns_write_id_maps (h.pid, uids, 2, NULL, 0, &err), -1);
  char *want = xasprintf ("write `/proc/%d/uid_map` (0 100000 1000, "
                          "1000 0 1)",
                          (int) h.pid);
  assert_string_equal (err->msg, want);
  assert_int_equal (err->errnum, EPERM);
  free (want);
  hy_error_release (&err);
  holder_stop (&h);
}

/* The process in the new namespace sees the mapping. */
static void
check_mapped_ids (void *data)
{
  (void) data;
  int ready[2], go[2];
  CHECK (pipe (ready) == 0 && pipe (go) == 0);
  pid_t pid = fork ();
  CHECK (pid >= 0);
  if (pid == 0)
    {
      char c = 0;
      CHECK (unshare (CLONE_NEWUSER) == 0);
      CHECK (write (ready[1], &c, 1) == 1);
      CHECK (read (go[0], &c, 1) == 1);
      _exit (getuid () == 1000 && getgid () == 7 ? 0 : 1);
    }
  char c = 0;
  CHECK (read (ready[0], &c, 1) == 1);
  struct oci_idmap uid = { 1000, 0, 1 }, gid = { 7, 0, 1 };
  CHECK_OK (hy_ns_write_id_maps (pid, &uid, 1, &gid, 1, &err));
  CHECK (write (go[1], &c, 1) == 1);
  CHECK (sandbox_wait (pid) == 0);
}

static void
test_mapped_ids_seen_inside (void **state)
{
  (void) state;
  SANDBOX (0, check_mapped_ids, NULL);
}

static void
test_new_userns_fd (void **state)
{
  (void) state;
  if (geteuid () != 0)
    skip ();
  struct oci_idmap map = { 0, 100000, 65536 };
  hy_error_t err = NULL;
  int fd = hy_ns_new_userns_fd (&map, 1, &map, 1, &err);
  if (fd < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (ioctl (fd, NS_GET_NSTYPE), CLONE_NEWUSER);
  /* Not ours: a new one, owned by us. */
  struct stat a, b;
  assert_int_equal (fstat (fd, &a), 0);
  assert_int_equal (stat ("/proc/self/ns/user", &b), 0);
  assert_true (a.st_ino != b.st_ino);
  uid_t owner = 1;
  assert_int_equal (ioctl (fd, NS_GET_OWNER_UID, &owner), 0);
  assert_int_equal (owner, 0);
  close (fd);
}

/* ---- time namespace ---- */

static double
now (clockid_t clock)
{
  struct timespec ts;
  CHECK (clock_gettime (clock, &ts) == 0);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
check_time_offsets (void *data)
{
  (void) data;
  struct oci_config *c = config_parse (
      HEAD "\"linux\":{\"namespaces\":[{\"type\":\"time\"}],\"timeOffsets\":"
           "{\"monotonic\":{\"secs\":864000,\"nanosecs\":500000000},"
           "\"boottime\":{\"secs\":3600}}}}");
  CHECK (unshare (CLONE_NEWTIME) == 0);
  CHECK_OK (hy_ns_write_time_offsets (0, c->linux_, &err));
  double mono = now (CLOCK_MONOTONIC), boot = now (CLOCK_BOOTTIME);
  pid_t pid = fork (); /* the first process in the namespace */
  CHECK (pid >= 0);
  if (pid == 0)
    {
      double dm = now (CLOCK_MONOTONIC) - mono;
      double db = now (CLOCK_BOOTTIME) - boot;
      _exit (dm > 864000.4 && dm < 864010 && db > 3599.9 && db < 3610 ? 0 : 1);
    }
  CHECK (sandbox_wait (pid) == 0);
  /* Too late once a process is inside. */
  CHECK_FAILS (hy_ns_write_time_offsets (0, c->linux_, &err),
               "write `/proc/self/timens_offsets` (monotonic 864000 "
               "500000000, boottime 3600 0)");
  oci_config_free (c);
}

static void
test_time_offsets (void **state)
{
  (void) state;
  if (access ("/proc/self/ns/time", F_OK) != 0)
    skip ();
  SANDBOX (0, check_time_offsets, NULL);
  hy_error_t err = NULL;
  struct oci_linux none = { 0 };
  assert_int_equal (hy_ns_write_time_offsets (0, &none, &err), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_clone_flags),
    cmocka_unit_test (test_open_paths_checks_the_type),
    cmocka_unit_test (test_open_paths),
    cmocka_unit_test (test_join),
    cmocka_unit_test (test_join_user_namespace_first_when_needed),
    cmocka_unit_test (test_join_error),
    cmocka_unit_test (test_write_id_maps),
    cmocka_unit_test (test_mapped_ids_seen_inside),
    cmocka_unit_test (test_new_userns_fd),
    cmocka_unit_test (test_time_offsets),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
