/* Helpers of the cgroup tests: names unique to the test process
 * ("hyrun-test-<pid>"), a v2 layout on this host's cgroup2 tree, the
 * child to kill, and a cleanup that removes everything a test may have
 * left, run as teardown so that failures leave nothing behind. */
#ifndef HYRUN_TESTS_CGROUP_TEST_H
#define HYRUN_TESTS_CGROUP_TEST_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/cgroup/cgroup-internal.h"

#define TEST_UNUSED __attribute__ ((unused))
#define TEST_V2_MOUNT "/sys/fs/cgroup/unified"

#define TEST_MAX_CHILDREN 8
static pid_t test_children[TEST_MAX_CHILDREN];

/* "hyrun-test-<pid>" (static buffer). */
TEST_UNUSED static const char *
test_base (void)
{
  static char base[64];
  snprintf (base, sizeof base, "hyrun-test-%d", (int) getpid ());
  return base;
}

/* "/hyrun-test-<pid>/<name>" (caller frees). */
TEST_UNUSED static char *
test_abs_path (const char *name)
{
  return xasprintf ("/%s/%s", test_base (), name);
}

/* The directory of a name in the cgroup2 tree; its parent is made. */
TEST_UNUSED static char *
test_v2_dir (const char *name)
{
  char *parent = xasprintf ("%s/%s", TEST_V2_MOUNT, test_base ());
  mkdir (parent, 0755);
  char *dir = xasprintf ("%s/%s", parent, name);
  free (parent);
  return dir;
}

/* Children the cleanup kills if a test fails before reaping them. */
TEST_UNUSED static void
test_track_child (pid_t pid)
{
  for (size_t i = 0; i < TEST_MAX_CHILDREN; i++)
    if (test_children[i] == 0)
      {
        test_children[i] = pid;
        return;
      }
  abort ();
}

/* Wait for a tracked child (0: the last one tracked); its status. */
TEST_UNUSED static int
test_reap_pid (pid_t pid)
{
  size_t slot = TEST_MAX_CHILDREN;
  for (size_t i = 0; i < TEST_MAX_CHILDREN; i++)
    if (test_children[i] && (pid == 0 || test_children[i] == pid))
      slot = i;
  if (slot == TEST_MAX_CHILDREN)
    abort ();
  int status = 0;
  while (waitpid (test_children[slot], &status, 0) < 0 && errno == EINTR)
    ;
  test_children[slot] = 0;
  return status;
}

TEST_UNUSED static int
test_reap (void)
{
  return test_reap_pid (0);
}

/* A child that counts (if asked) and sleeps until killed. */
TEST_UNUSED static pid_t
test_spawn_sleeper (volatile uint64_t *counter)
{
  pid_t pid = fork ();
  if (pid < 0)
    abort ();
  if (pid == 0)
    for (;;)
      {
        if (counter)
          (*counter)++;
        usleep (1000);
      }
  test_track_child (pid);
  return pid;
}

/* The cgroup2 tree of this host taken as a v2-only host: no controllers
 * to speak of, but directories, placement, cgroup.freeze, cgroup.kill,
 * cgroup.events, the core cpu.stat and the eBPF device filter are real. */
TEST_UNUSED static struct hy_cgroup_layout *
test_v2_layout (void)
{
  struct hy_cgroup_layout *l = xmalloc0 (sizeof (*l));
  l->mode = HY_CGROUP_V2;
  l->n = 1;
  l->mounts = xmalloc0 (sizeof (*l->mounts));
  l->mounts[0]
      = (struct hy_cgroup_mount){ .key = xstrdup (""),
                                  .mountpoint = xstrdup (TEST_V2_MOUNT),
                                  .root = xstrdup ("/"),
                                  .own = xstrdup ("/"),
                                  .v2 = true };
  return l;
}

TEST_UNUSED static struct hy_cgroup *
test_create_v2 (const char *name, pid_t pid, const struct oci_resources *res)
{
  struct hy_cgroup_layout *l = test_v2_layout ();
  char *path = test_abs_path (name);
  struct hy_cgroup *cg = NULL;
  hy_error_t err = NULL;
  int r = hy_cgroup_create_in (l, path, "unused", pid, res, &cg, &err);
  free (path);
  hy_cgroup_layout_free (l);
  if (r < 0)
    fail_msg ("create: %s", hy_error_text (err));
  return cg;
}

TEST_UNUSED static void
test_destroy (struct hy_cgroup *cg)
{
  hy_error_t err = NULL;
  if (hy_cgroup_destroy (cg, &err) < 0)
    fail_msg ("destroy: %s", hy_error_text (err));
  hy_cgroup_free (cg);
}

TEST_UNUSED static void
test_rmdir_quiet (const char *dir)
{
  hy_error_t err = NULL;
  if (hy_cg_rmdir_tree (dir, &err) < 0)
    {
      fprintf (stderr, "cleanup: %s\n", err->msg);
      hy_error_release (&err);
    }
}

/* Kill the child, then remove hyrun-test-<pid> from every hierarchy, at
 * its root and below our own cgroup there. */
TEST_UNUSED static int
test_cleanup (void **state)
{
  (void) state;
  for (size_t i = 0; i < TEST_MAX_CHILDREN; i++)
    if (test_children[i] > 0)
      {
        kill (test_children[i], SIGKILL);
        test_reap_pid (test_children[i]);
      }
  struct hy_cgroup_layout *l = NULL;
  hy_error_t err = NULL;
  if (hy_cgroup_layout_detect (&l, &err) < 0)
    {
      hy_error_release (&err);
      return 0;
    }
  for (size_t i = 0; i < l->n; i++)
    {
      char *abs = xasprintf ("%s/%s", l->mounts[i].mountpoint, test_base ());
      char *rel = xasprintf ("%s%s/%s", l->mounts[i].mountpoint,
                             l->mounts[i].own, test_base ());
      test_rmdir_quiet (abs);
      test_rmdir_quiet (rel);
      free (abs);
      free (rel);
    }
  hy_cgroup_layout_free (l);
  return 0;
}

#endif
