/* Helpers for the tests of runtime/linux that really mount, mknod and
 * unshare: each test body runs in a forked child with its own mount
 * namespace (everything it mounts vanishes with it), checks with CHECK*
 * (a failure prints and exits the child non-zero) and the parent asserts
 * the child's success.  Temporary trees live under /tmp/hyrun-test-XXXXXX
 * and are removed by the parent, never crossing a mount point. */
#ifndef HYRUN_TESTS_LINUX_SANDBOX_H
#define HYRUN_TESTS_LINUX_SANDBOX_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/util.h"
#include "oci/config.h"
#include "common/mountinfo.h"

#define CHECK(cond)                                                           \
  do                                                                          \
    {                                                                         \
      if (!(cond))                                                            \
        {                                                                     \
          fprintf (stderr, "%s:%d: check failed: %s (errno: %s)\n", __FILE__, \
                   __LINE__, #cond, strerror (errno));                        \
          _exit (1);                                                          \
        }                                                                     \
    }                                                                         \
  while (0)

/* `call` takes &err last and must succeed. */
#define CHECK_OK(call)                                                        \
  do                                                                          \
    {                                                                         \
      hy_error_t err = NULL;                                                  \
      if ((call) < 0)                                                         \
        {                                                                     \
          char *text = err ? hy_error_text (err) : NULL;                      \
          fprintf (stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__,      \
                   #call, text ? text : "(no error)");                        \
          _exit (1);                                                          \
        }                                                                     \
      hy_error_release (&err);                                                \
    }                                                                         \
  while (0)

/* `call` takes &err last and must fail with a message holding `needle`. */
#define CHECK_FAILS(call, needle)                                             \
  do                                                                          \
    {                                                                         \
      hy_error_t err = NULL;                                                  \
      if ((call) >= 0 || err == NULL)                                         \
        {                                                                     \
          fprintf (stderr, "%s:%d: %s succeeded\n", __FILE__, __LINE__,       \
                   #call);                                                    \
          _exit (1);                                                          \
        }                                                                     \
      if (strstr (err->msg, (needle)) == NULL)                                \
        {                                                                     \
          fprintf (stderr, "%s:%d: error \"%s\" lacks \"%s\"\n", __FILE__,    \
                   __LINE__, err->msg, (needle));                             \
          _exit (1);                                                          \
        }                                                                     \
      hy_error_release (&err);                                                \
    }                                                                         \
  while (0)

static inline int
sandbox_wait (pid_t pid)
{
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  if (WIFSIGNALED (status))
    fprintf (stderr, "child killed by signal %d\n", WTERMSIG (status));
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128;
}

/* Run fn in a child with new namespaces (CLONE_NEWNS is always added and
 * "/" made rprivate first); the result is the child's exit status. */
static inline int
sandbox_run (int unshare_flags, void (*fn) (void *), void *data)
{
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    return -1;
  if (pid == 0)
    {
      CHECK (unshare (CLONE_NEWNS | unshare_flags) == 0);
      CHECK (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
      fn (data);
      fflush (NULL);
      exit (0); /* exit, not _exit: the sanitizers check the child too */
    }
  return sandbox_wait (pid);
}

/* Exit status of a sandboxed body that found the kernel lacking. */
#define SANDBOX_UNSUPPORTED 77

/* In a cmocka test: run fn sandboxed and assert it succeeded; skipped
 * without root (mount namespaces, mknod) or when fn reports the kernel
 * lacks a feature. */
#define SANDBOX(flags, fn, data)                                              \
  do                                                                          \
    {                                                                         \
      if (geteuid () != 0)                                                    \
        skip ();                                                              \
      int status_ = sandbox_run ((flags), (fn), (data));                      \
      if (status_ == SANDBOX_UNSUPPORTED)                                     \
        skip ();                                                              \
      assert_int_equal (status_, 0);                                          \
    }                                                                         \
  while (0)

/* ---- files ---- */

static inline char *
temp_dir (void)
{
  char *d = xstrdup ("/tmp/hyrun-test-XXXXXX");
  if (mkdtemp (d) == NULL)
    abort ();
  return d;
}

static inline int
remove_entry (const char *path, const struct stat *st, int flag,
              struct FTW *ftw)
{
  (void) st;
  (void) ftw;
  return flag == FTW_DP ? rmdir (path) : unlink (path);
}

/* rm -rf that stays on the temp dir's filesystem. */
static inline void
remove_tree (const char *path)
{
  nftw (path, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static inline void
write_text (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  CHECK (f != NULL);
  fputs (text, f);
  CHECK (fclose (f) == 0);
}

static inline char *
read_text (const char *path)
{
  char *text = NULL;
  hy_error_t err = NULL;
  if (read_file_at (AT_FDCWD, path, 1 << 20, &text, NULL, &err) < 0)
    {
      hy_error_release (&err);
      return NULL;
    }
  return text;
}

static inline void
make_dirs (const char *path)
{
  char *p = xstrdup (path);
  for (char *s = strchr (p + 1, '/');; s = strchr (s + 1, '/'))
    {
      if (s)
        *s = '\0';
      CHECK (mkdir (p, 0755) == 0 || errno == EEXIST);
      if (s == NULL)
        break;
      *s = '/';
    }
  free (p);
}

/* ---- mounts ---- */

/* The topmost mount at `path` in this namespace; NULL when none.  The
 * entry is copied into *copy (strings freed by mountinfo_entry_free). */
static inline bool
find_mount (const char *path, struct hy_mountinfo_entry *copy)
{
  struct hy_mountinfo mi;
  hy_error_t err = NULL;
  if (hy_mountinfo_read (NULL, &mi, &err) < 0)
    {
      hy_error_release (&err);
      return false;
    }
  const struct hy_mountinfo_entry *e = hy_mountinfo_find (&mi, path);
  if (e && copy)
    {
      *copy = *e;
      copy->root = xstrdup (e->root);
      copy->mount_point = xstrdup (e->mount_point);
      copy->options = xstrdup (e->options);
      copy->optional = xstrdup (e->optional);
      copy->fstype = xstrdup (e->fstype);
      copy->source = xstrdup (e->source);
      copy->super_options = xstrdup (e->super_options);
    }
  bool found = e != NULL;
  hy_mountinfo_free (&mi);
  return found;
}

static inline void
mount_entry_free (struct hy_mountinfo_entry *e)
{
  free (e->root);
  free (e->mount_point);
  free (e->options);
  free (e->optional);
  free (e->fstype);
  free (e->source);
  free (e->super_options);
}

static inline bool
is_mount_point (const char *path)
{
  return find_mount (path, NULL);
}

/* The mount at `path` has filesystem `fstype` and per-mount option `opt`
 * (NULL: any). */
static inline bool
mounted_as (const char *path, const char *fstype, const char *opt)
{
  struct hy_mountinfo_entry e;
  if (!find_mount (path, &e))
    return false;
  bool ok = (fstype == NULL || strcmp (e.fstype, fstype) == 0)
            && (opt == NULL || hy_options_have (e.options, opt));
  if (!ok)
    fprintf (stderr, "mount at %s: %s %s\n", path, e.fstype, e.options);
  mount_entry_free (&e);
  return ok;
}

/* ---- configs ---- */

static inline struct oci_config *
config_parse (const char *json)
{
  struct oci_config *c = NULL;
  hy_error_t err = NULL;
  if (oci_config_parse (json, "config.json", &c, &err) < 0)
    {
      fprintf (stderr, "config: %s\n", err->msg);
      _exit (1);
    }
  return c;
}

#endif
