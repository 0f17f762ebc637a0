/* The rootfs for real: mounts resolved inside it, bind flags, tmpfs copy
 * up, special filesystems, idmapped mounts, pivot_root, read-only root,
 * masked and read-only paths, sysctl and hostname.  Each test runs in a
 * child with its own mount namespace (linux-sandbox.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "linux-sandbox.h"
#include "runtime/linux/mounts.h"
#include "runtime/linux/namespaces.h"
#include "runtime/linux/rootfs.h"
#include "runtime/linux/sysctl.h"

#define HEAD "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}"

struct fixture
{
  char *tmp;     /* /tmp/hyrun-test-XXXXXX */
  char *rootfs;  /* <tmp>/rootfs */
  char *outside; /* <tmp>/outside: nothing may land here */
};

static char *
path_in (const char *dir, const char *rel)
{
  return xasprintf ("%s/%s", dir, rel);
}

static int
setup (void **state)
{
  struct fixture *f = xmalloc0 (sizeof (*f));
  f->tmp = temp_dir ();
  f->rootfs = path_in (f->tmp, "rootfs");
  f->outside = path_in (f->tmp, "outside");
  const char *dirs[]
      = { "rootfs/etc", "rootfs/bin", "rootfs/tmp", "rootfs/proc",
          "outside",    "src/sub",    "rosrc" };
  for (size_t i = 0; i < sizeof (dirs) / sizeof (dirs[0]); i++)
    {
      char *d = path_in (f->tmp, dirs[i]);
      make_dirs (d);
      free (d);
    }
  char *marker = path_in (f->rootfs, "marker");
  write_text (marker, "inside\n");
  free (marker);
  char *file = path_in (f->tmp, "src/file");
  write_text (file, "from the host\n");
  free (file);
  char *srcfile = path_in (f->tmp, "srcfile");
  write_text (srcfile, "a single file\n");
  free (srcfile);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  /* Nothing may have been created outside the rootfs. */
  DIR *d = opendir (f->outside);
  assert_non_null (d);
  struct dirent *de;
  int entries = 0;
  while ((de = readdir (d)))
    entries += strcmp (de->d_name, ".") && strcmp (de->d_name, "..");
  closedir (d);
  assert_false (is_mount_point (f->outside));
  remove_tree (f->tmp);
  free (f->tmp);
  free (f->rootfs);
  free (f->outside);
  free (f);
  assert_int_equal (entries, 0);
  return 0;
}

/* A hy_rootfs_prepare'd rootfs for `json`, in the sandbox child. */
static struct oci_config *
prepare (struct fixture *f, const char *json, struct hy_rootfs *r)
{
  struct oci_config *c = config_parse (json);
  CHECK_OK (hy_rootfs_prepare (r, c, f->rootfs, false, &err));
  return c;
}

static struct hy_mount_ctx
ctx_of (const struct hy_rootfs *r)
{
  return (struct hy_mount_ctx){ .rootfd = r->rootfd,
                                .rootfs = r->path,
                                .linux_ = r->config->linux_ };
}

static void
apply_mounts (struct hy_rootfs *r)
{
  struct hy_mount_ctx ctx = ctx_of (r);
  CHECK_OK (
      hy_mounts_apply (&ctx, r->config->mounts, r->config->n_mounts, &err));
}

static void
cleanup_rootfs (struct hy_rootfs *r, struct oci_config *c)
{
  hy_rootfs_release (r);
  oci_config_free (c);
}

static bool
rootfs_mounted_as (struct fixture *f, const char *rel, const char *fstype,
                   const char *opt)
{
  char *p = path_in (f->rootfs, rel);
  bool ok = mounted_as (p, fstype, opt);
  free (p);
  return ok;
}

static bool
writable (const char *path)
{
  char *p = path_in (path, "probe");
  int fd = open (p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  bool ok = fd >= 0;
  if (fd >= 0)
    {
      close (fd);
      unlink (p);
    }
  else
    CHECK (errno == EROFS);
  free (p);
  return ok;
}

/* ---- destinations ---- */

static void
symlinks_stay_inside (void *data)
{
  struct fixture *f = data;
  char *evil = path_in (f->rootfs, "evil");
  char *evil2 = path_in (f->rootfs, "evil2");
  char *evil3 = path_in (f->rootfs, "evil3");
  char *up = xasprintf ("../../../../..%s", f->outside);
  CHECK (symlink ("/etc", evil) == 0);
  CHECK (symlink (up, evil2) == 0); /* dangling inside the rootfs */
  CHECK (symlink ("../../../../etc/hostname", evil3) == 0);
  char *json = xasprintf (
      HEAD ",\"mounts\":["
           "{\"destination\":\"/evil\",\"type\":\"tmpfs\",\"source\":\"t\"},"
           "{\"destination\":\"/evil2\",\"type\":\"tmpfs\",\"source\":\"t\"},"
           "{\"destination\":\"/evil3\",\"source\":\"%s/srcfile\","
           "\"options\":[\"bind\"]},"
           "{\"destination\":\"/../../../tmp/x\",\"type\":\"tmpfs\"}]}",
      f->tmp);
  struct hy_rootfs r;
  struct oci_config *c = prepare (f, json, &r);
  apply_mounts (&r);

  CHECK (rootfs_mounted_as (f, "etc", "tmpfs", NULL));
  char *in_outside = xasprintf ("%s%s", f->rootfs, f->outside);
  CHECK (mounted_as (in_outside, "tmpfs", NULL));
  CHECK (rootfs_mounted_as (f, "etc/hostname", NULL, NULL));
  char *hostname = path_in (f->rootfs, "etc/hostname");
  char *text = read_text (hostname);
  CHECK (text && strcmp (text, "a single file\n") == 0);
  CHECK (rootfs_mounted_as (f, "tmp/x", "tmpfs", NULL));
  /* The host is untouched. */
  CHECK (!is_mount_point ("/etc"));
  CHECK (!is_mount_point ("/etc/hostname"));
  CHECK (!is_mount_point (f->outside));

  free (text);
  free (hostname);
  free (in_outside);
  free (json);
  free (up);
  free (evil);
  free (evil2);
  free (evil3);
  cleanup_rootfs (&r, c);
}

static void
test_symlinked_destinations_stay_inside (void **state)
{
  SANDBOX (0, symlinks_stay_inside, *state);
}

static void
symlink_loop (void *data)
{
  struct fixture *f = data;
  char *a = path_in (f->rootfs, "loop1");
  char *b = path_in (f->rootfs, "loop2");
  CHECK (symlink ("/loop2/x", a) == 0 && symlink ("/loop1/x", b) == 0);
  struct hy_rootfs r;
  struct oci_config *c = prepare (
      f, HEAD ",\"mounts\":[{\"destination\":\"/loop1\",\"type\":\"tmpfs\"}]}",
      &r);
  struct hy_mount_ctx ctx = ctx_of (&r);
  CHECK_FAILS (hy_mounts_apply (&ctx, c->mounts, c->n_mounts, &err),
               "mount `/loop1` (.mounts[0]): ");
  free (a);
  free (b);
  cleanup_rootfs (&r, c);
}

static void
test_symlink_loop (void **state)
{
  SANDBOX (0, symlink_loop, *state);
}

static void
proc_destinations (void *data)
{
  struct fixture *f = data;
  char *sneaky = path_in (f->rootfs, "sneaky");
  CHECK (symlink ("/proc/self", sneaky) == 0);
  char *json = xasprintf (
      HEAD ",\"mounts\":["
           "{\"destination\":\"/proc\",\"type\":\"tmpfs\"},"
           "{\"destination\":\"/proc/foo\",\"type\":\"tmpfs\"},"
           "{\"destination\":\"/sneaky/x\",\"type\":\"tmpfs\"},"
           "{\"destination\":\"/proc\",\"type\":\"proc\"},"
           "{\"destination\":\"/proc/cpuinfo\",\"source\":\"%s/srcfile\","
           "\"options\":[\"bind\"]}]}",
      f->tmp);
  struct hy_rootfs r;
  struct oci_config *c = prepare (f, json, &r);
  struct hy_mount_ctx ctx = ctx_of (&r);
  CHECK_FAILS (hy_mounts_apply (&ctx, &c->mounts[0], 1, &err),
               "mount `/proc` (.mounts[0]): `/proc` cannot be mounted "
               "because it is not of type proc");
  CHECK_FAILS (hy_mount_one (&ctx, &c->mounts[1], &err),
               "`/proc/foo` cannot be mounted because it is inside /proc");
  CHECK_FAILS (hy_mount_one (&ctx, &c->mounts[2], &err),
               "`/proc/self/x` cannot be mounted because it is inside /proc");
  CHECK_OK (hy_mount_one (&ctx, &c->mounts[3], &err));
  CHECK_OK (hy_mount_one (&ctx, &c->mounts[4], &err));
  CHECK (rootfs_mounted_as (f, "proc", "proc", NULL));
  CHECK (rootfs_mounted_as (f, "proc/cpuinfo", NULL, NULL));
  free (json);
  free (sneaky);
  cleanup_rootfs (&r, c);
}

static void
test_proc_destinations (void **state)
{
  SANDBOX (0, proc_destinations, *state);
}

/* ---- bind mounts ---- */

static void
bind_flags (void *data)
{
  struct fixture *f = data;
  char *src = path_in (f->tmp, "src");
  char *sub = path_in (f->tmp, "src/sub");
  char *rosrc = path_in (f->tmp, "rosrc"); /* read-only bound below */
  /* src: a mount with a submount, shared once the rootfs is prepared
   * (which makes every mount a slave). */
  CHECK (mount (src, src, NULL, MS_BIND, NULL) == 0);
  CHECK (mount ("tmpfs", sub, "tmpfs", 0, NULL) == 0);
  CHECK (mount (rosrc, rosrc, NULL, MS_BIND, NULL) == 0);
  CHECK (mount (NULL, rosrc, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL)
         == 0);
  char *json = xasprintf (
      HEAD ",\"mounts\":["
           "{\"destination\":\"/ro\",\"source\":\"%s\","
           "\"options\":[\"rbind\",\"ro\",\"nosuid\",\"noexec\"]},"
           "{\"destination\":\"/rro\",\"source\":\"%s\","
           "\"options\":[\"rbind\",\"rro\",\"rnosuid\"]},"
           "{\"destination\":\"/slave\",\"source\":\"%s\","
           "\"options\":[\"rbind\",\"rslave\"]},"
           "{\"destination\":\"/private\",\"source\":\"%s\","
           "\"options\":[\"bind\",\"private\"]},"
           "{\"destination\":\"/etc/file\",\"source\":\"%s/srcfile\","
           "\"type\":\"bind\",\"options\":[\"ro\"]},"
           "{\"destination\":\"/rw\",\"source\":\"%s\","
           "\"options\":[\"bind\",\"rw\"]}]}",
      src, src, src, src, f->tmp, rosrc);
  struct hy_rootfs r;
  struct oci_config *c = prepare (f, json, &r);
  CHECK (mount (NULL, src, NULL, MS_SHARED, NULL) == 0);
  apply_mounts (&r);

  char *ro = path_in (f->rootfs, "ro");
  CHECK (rootfs_mounted_as (f, "ro", NULL, "ro"));
  CHECK (rootfs_mounted_as (f, "ro", NULL, "nosuid"));
  CHECK (rootfs_mounted_as (f, "ro", NULL, "noexec"));
  CHECK (!writable (ro));
  /* ro is not recursive: the submount stays writable... */
  char *ro_sub = path_in (f->rootfs, "ro/sub");
  CHECK (rootfs_mounted_as (f, "ro/sub", "tmpfs", "rw"));
  CHECK (writable (ro_sub));
  /* ...rro is. */
  char *rro_sub = path_in (f->rootfs, "rro/sub");
  CHECK (rootfs_mounted_as (f, "rro/sub", "tmpfs", "ro"));
  CHECK (rootfs_mounted_as (f, "rro/sub", "tmpfs", "nosuid"));
  CHECK (!writable (rro_sub));
  /* Non-recursive bind: no submount. */
  CHECK (!rootfs_mounted_as (f, "private/sub", NULL, NULL));

  struct hy_mountinfo_entry e;
  char *slave = path_in (f->rootfs, "slave");
  CHECK (find_mount (slave, &e));
  CHECK (strstr (e.optional, "master:") && !strstr (e.optional, "shared:"));
  mount_entry_free (&e);
  char *priv = path_in (f->rootfs, "private");
  CHECK (find_mount (priv, &e));
  CHECK (strcmp (e.optional, "") == 0);
  mount_entry_free (&e);

  char *file = path_in (f->rootfs, "etc/file");
  struct stat st;
  CHECK (stat (file, &st) == 0 && S_ISREG (st.st_mode));
  CHECK (rootfs_mounted_as (f, "etc/file", NULL, "ro"));
  CHECK (open (file, O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS);

  char *rw = path_in (f->rootfs, "rw");
  CHECK (rootfs_mounted_as (f, "rw", NULL, "rw"));
  CHECK (writable (rw));

  free (rw);
  free (file);
  free (priv);
  free (slave);
  free (rro_sub);
  free (ro_sub);
  free (ro);
  free (json);
  free (rosrc);
  free (sub);
  free (src);
  cleanup_rootfs (&r, c);
}

static void
test_bind_flags (void **state)
{
  SANDBOX (0, bind_flags, *state);
}

/* In a user namespace, the mounts copied from the parent namespace have
 * their ro/nosuid/nodev locked: a bind remount must keep them. */
static void
locked_flags_in_userns (struct fixture *f, const char *locked)
{
  CHECK (unshare (CLONE_NEWNS) == 0);
  char *json
      = xasprintf (HEAD ",\"mounts\":["
                        "{\"destination\":\"/locked\",\"source\":\"%s\","
                        "\"options\":[\"bind\",\"noexec\"]},"
                        "{\"destination\":\"/unlock\",\"source\":\"%s\","
                        "\"options\":[\"bind\",\"rw\"]}]}",
                   locked, locked);
  struct hy_rootfs r;
  struct oci_config *c = prepare (f, json, &r);
  struct hy_mount_ctx ctx = ctx_of (&r);
  CHECK_OK (hy_mount_one (&ctx, &c->mounts[0], &err));
  CHECK (rootfs_mounted_as (f, "locked", NULL, "noexec"));
  CHECK (rootfs_mounted_as (f, "locked", NULL, "ro"));
  CHECK (rootfs_mounted_as (f, "locked", NULL, "nosuid"));
  CHECK (rootfs_mounted_as (f, "locked", NULL, "nodev"));
  /* Asking for rw on a locked read-only mount must fail. */
  CHECK_FAILS (hy_mount_one (&ctx, &c->mounts[1], &err),
               "remount: conflicts with the flags locked on the source "
               "mount");
  free (json);
  cleanup_rootfs (&r, c);
}

static void
locked_flags (void *data)
{
  struct fixture *f = data;
  char *locked = path_in (f->tmp, "src");
  CHECK (mount (locked, locked, NULL, MS_BIND, NULL) == 0);
  CHECK (mount (NULL, locked, NULL,
                MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL)
         == 0);
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
      locked_flags_in_userns (f, locked);
      free (locked);
      exit (0);
    }
  char b = 0;
  CHECK (read (ready[0], &b, 1) == 1);
  struct oci_idmap map = { 0, 0, 65536 };
  CHECK_OK (hy_ns_write_id_maps (pid, &map, 1, &map, 1, &err));
  CHECK (write (go[1], &b, 1) == 1);
  CHECK (sandbox_wait (pid) == 0);
  free (locked);
}

static void
test_bind_keeps_locked_flags (void **state)
{
  SANDBOX (0, locked_flags, *state);
}

/* ---- filesystems ---- */

static void
tmpfs_copyup (void *data)
{
  struct fixture *f = data;
  char *opt = path_in (f->rootfs, "opt");
  char *a = path_in (opt, "a");
  char *d = path_in (opt, "d");
  char *b = path_in (opt, "d/b");
  char *l = path_in (opt, "l");
  char *p = path_in (opt, "p");
  make_dirs (d);
  write_text (a, "content of a\n");
  write_text (b, "b\n");
  CHECK (chmod (a, 0640) == 0 && chmod (d, 0710) == 0);
  CHECK (chown (b, 1000, 1001) == 0);
  CHECK (symlink ("a", l) == 0);
  CHECK (mkfifo (p, 0600) == 0);
  char *json = xasprintf (
      HEAD ",\"mounts\":["
           "{\"destination\":\"/opt\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
           "\"options\":[\"tmpcopyup\",\"mode=755\",\"nodev\"]},"
           "{\"destination\":\"/opt/d\",\"type\":\"tmpfs\","
           "\"options\":[\"tmpcopyup\",\"ro\"]}]}");
  struct hy_rootfs r;
  struct oci_config *c = prepare (f, json, &r);
  apply_mounts (&r);

  CHECK (rootfs_mounted_as (f, "opt", "tmpfs", "nodev"));
  CHECK (rootfs_mounted_as (f, "opt/d", "tmpfs", "ro"));
  char *text = read_text (a);
  CHECK (text && strcmp (text, "content of a\n") == 0);
  free (text);
  text = read_text (b);
  CHECK (text && strcmp (text, "b\n") == 0);
  free (text);
  struct stat st;
  CHECK (stat (a, &st) == 0 && (st.st_mode & 07777) == 0640);
  CHECK (stat (b, &st) == 0 && st.st_uid == 1000 && st.st_gid == 1001);
  CHECK (lstat (l, &st) == 0 && S_ISLNK (st.st_mode));
  CHECK (lstat (p, &st) == 0 && S_ISFIFO (st.st_mode));
  CHECK (!writable (d));
  CHECK (writable (opt));

  free (json);
  free (opt);
  free (a);
  free (d);
  free (b);
  free (l);
  free (p);
  cleanup_rootfs (&r, c);
}

static void
test_tmpfs_copyup (void **state)
{
  SANDBOX (0, tmpfs_copyup, *state);
}

static const char *const kernel_fs_mounts
    = ",\"mounts\":["
      "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
      "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
      "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
      "{\"destination\":\"/dev/"
      "pts\",\"type\":\"devpts\",\"source\":\"devpts\","
      "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\","
      "\"mode=0620\"]},"
      "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\","
      "\"source\":\"mqueue\",\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
      "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
      "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
      "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\","
      "\"source\":\"cgroup\",\"options\":[\"nosuid\",\"noexec\",\"nodev\","
      "\"relatime\",\"ro\"]}]";

/* The process's own cgroup path for the hierarchy mounted at `host`. */
static char *
own_cgroup (const char *controllers)
{
  char *text = read_text ("/proc/self/cgroup");
  CHECK (text != NULL);
  char *found = NULL;
  char *save = NULL;
  for (char *line = strtok_r (text, "\n", &save); line && !found;
       line = strtok_r (NULL, "\n", &save))
    {
      char *c1 = strchr (line, ':');
      char *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      if (c2 && (size_t) (c2 - c1 - 1) == strlen (controllers)
          && strncmp (c1 + 1, controllers, strlen (controllers)) == 0)
        found = xstrdup (c2 + 1);
    }
  free (text);
  CHECK (found != NULL);
  return found;
}

static void
check_cgroup_mount (struct fixture *f, bool cgroupns)
{
  struct statfs sf;
  CHECK (statfs ("/sys/fs/cgroup", &sf) == 0);
  struct hy_mountinfo_entry e;
  char *where;
  char *own;
  if (sf.f_type == CGROUP2_SUPER_MAGIC)
    {
      where = path_in (f->rootfs, "sys/fs/cgroup");
      own = own_cgroup ("");
    }
  else
    {
      CHECK (rootfs_mounted_as (f, "sys/fs/cgroup", "tmpfs", "ro"));
      where = path_in (f->rootfs, "sys/fs/cgroup/memory");
      own = own_cgroup ("memory");
    }
  CHECK (find_mount (where, &e));
  CHECK (strcmp (e.fstype, "cgroup") == 0
         || strcmp (e.fstype, "cgroup2") == 0);
  CHECK (hy_options_have (e.options, "ro"));
  /* Only the container's own cgroup: bound from the host, or the root of
   * the cgroup namespace. */
  CHECK (strcmp (e.root, cgroupns ? "/" : own) == 0);
  mount_entry_free (&e);
  free (own);
  free (where);
}

static void
kernel_filesystems (void *data)
{
  struct fixture *f = data;
  char *json = xasprintf (HEAD "%s}", kernel_fs_mounts);
  struct hy_rootfs r;
  struct oci_config *c = prepare (f, json, &r);
  CHECK_OK (hy_rootfs_mount (&r, &err));

  CHECK (rootfs_mounted_as (f, "proc", "proc", NULL));
  CHECK (rootfs_mounted_as (f, "dev", "tmpfs", "nosuid"));
  struct hy_mountinfo_entry e;
  char *pts = path_in (f->rootfs, "dev/pts");
  CHECK (find_mount (pts, &e));
  CHECK (strcmp (e.fstype, "devpts") == 0);
  CHECK (hy_options_have (e.super_options, "ptmxmode=666"));
  CHECK (hy_options_have (e.super_options, "mode=620"));
  mount_entry_free (&e);
  CHECK (rootfs_mounted_as (f, "dev/mqueue", "mqueue", "nodev"));
  CHECK (rootfs_mounted_as (f, "sys", "sysfs", "ro"));
  check_cgroup_mount (f, false);
  /* devices.c ran: /dev/ptmx leads to the new devpts instance. */
  char *ptmx = path_in (f->rootfs, "dev/ptmx");
  char target[64] = "";
  CHECK (readlink (ptmx, target, sizeof (target) - 1) > 0);
  CHECK (strcmp (target, "pts/ptmx") == 0);

  free (ptmx);
  free (pts);
  free (json);
  cleanup_rootfs (&r, c);
}

static void
test_kernel_filesystems (void **state)
{
  SANDBOX (0, kernel_filesystems, *state);
}

static void
cgroup_namespace (void *data)
{
  struct fixture *f = data;
  char *json = xasprintf (
      HEAD ",\"linux\":{\"namespaces\":[{\"type\":\"cgroup\"}]},\"mounts\":["
           "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\","
           "\"source\":\"cgroup\",\"options\":[\"nosuid\",\"noexec\","
           "\"nodev\",\"ro\"]}]}");
  struct hy_rootfs r;
  struct oci_config *c = prepare (f, json, &r);
  apply_mounts (&r);
  check_cgroup_mount (f, true);
  free (json);
  cleanup_rootfs (&r, c);
}

static void
test_cgroup_namespace (void **state)
{
  SANDBOX (CLONE_NEWCGROUP, cgroup_namespace, *state);
}

/* ---- idmapped mounts ---- */

/* Whether this kernel idmaps mounts of the filesystem holding `dir`. */
static bool
idmap_supported (const char *dir)
{
  struct oci_idmap map = { 0, 1000, 1 };
  hy_error_t err = NULL;
  int userns = hy_ns_new_userns_fd (&map, 1, &map, 1, &err);
  CHECK (userns >= 0);
  int tree = open_tree (AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  CHECK (tree >= 0);
  struct mount_attr attr
      = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) userns };
  bool ok = mount_setattr (tree, "", AT_EMPTY_PATH, &attr, sizeof (attr)) == 0;
  CHECK (ok || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP);
  close (tree);
  close (userns);
  return ok;
}

static void
idmapped (void *data)
{
  struct fixture *f = data;
  char *src = path_in (f->tmp, "src");
  if (!idmap_supported (src))
    _exit (SANDBOX_UNSUPPORTED);
  free (src);
  char *json = xasprintf (
      HEAD ",\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":"
           "100000,\"size\":65536}],\"gidMappings\":[{\"containerID\":0,"
           "\"hostID\":200000,\"size\":65536}]},\"mounts\":["
           "{\"destination\":\"/own\",\"source\":\"%s/src\","
           "\"options\":[\"bind\",\"idmap\"],"
           "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
           "\"gidMappings\":[{\"containerID\":0,\"hostID\":2000,\"size\":1}]},"
           "{\"destination\":\"/container\",\"source\":\"%s/src\","
           "\"options\":[\"rbind\",\"ridmap\",\"ro\"]}]}",
      f->tmp, f->tmp);
  struct hy_rootfs r;
  struct oci_config *c = prepare (f, json, &r);
  apply_mounts (&r);
  char *own = path_in (f->rootfs, "own/file");
  char *container = path_in (f->rootfs, "container/file");
  struct stat st;
  CHECK (stat (own, &st) == 0 && st.st_uid == 1000 && st.st_gid == 2000);
  CHECK (stat (container, &st) == 0 && st.st_uid == 100000
         && st.st_gid == 200000);
  CHECK (rootfs_mounted_as (f, "container", NULL, "ro"));
  struct hy_mountinfo_entry e;
  CHECK (find_mount (own, &e) == false); /* a file, not a mount point */
  char *dir = path_in (f->rootfs, "own");
  CHECK (find_mount (dir, &e));
  CHECK (hy_options_have (e.options, "idmapped"));
  mount_entry_free (&e);
  /* The host's view is unchanged. */
  char *host = path_in (f->tmp, "src/file");
  CHECK (stat (host, &st) == 0 && st.st_uid == 0);
  free (host);
  free (dir);
  free (own);
  free (container);
  free (json);
  cleanup_rootfs (&r, c);
}

static void
test_idmapped_mounts (void **state)
{
  SANDBOX (0, idmapped, *state);
}

static void
idmap_needs_mappings (void *data)
{
  struct fixture *f = data;
  char *json = xasprintf (HEAD ",\"mounts\":[{\"destination\":\"/x\","
                               "\"source\":\"%s/src\",\"options\":"
                               "[\"bind\",\"idmap\"]},"
                               "{\"destination\":\"/y\",\"type\":\"tmpfs\","
                               "\"options\":[\"idmap\"]}]}",
                          f->tmp);
  struct hy_rootfs r;
  struct oci_config *c = prepare (f, json, &r);
  struct hy_mount_ctx ctx = ctx_of (&r);
  CHECK_FAILS (hy_mount_one (&ctx, &c->mounts[0], &err),
               "an idmapped mount needs uidMappings and gidMappings");
  CHECK_FAILS (hy_mount_one (&ctx, &c->mounts[1], &err),
               "idmapped mounts must be bind mounts");
  free (json);
  cleanup_rootfs (&r, c);
}

static void
test_idmap_needs_mappings (void **state)
{
  SANDBOX (0, idmap_needs_mappings, *state);
}

/* ---- the whole setup ---- */

static void
copy_busybox (struct fixture *f)
{
  char *to = path_in (f->rootfs, "bin/busybox");
  char *text = NULL;
  size_t len = 0;
  hy_error_t err = NULL;
  CHECK (read_file_at (AT_FDCWD, "/bin/busybox", 64 << 20, &text, &len, &err)
         == 0);
  int fd = open (to, O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
  CHECK (fd >= 0 && write (fd, text, len) == (ssize_t) len);
  close (fd);
  free (text);
  free (to);
}

static const char *
full_config (struct fixture *f, bool readonly)
{
  static char *json;
  free (json);
  json = xasprintf (
      "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\","
      "\"readonly\":%s},\"mounts\":["
      "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
      "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
      "\"options\":[\"nosuid\",\"mode=755\"]},"
      "{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
      "{\"destination\":\"/data\",\"source\":\"%s/src\","
      "\"options\":[\"rbind\"]}],"
      "\"linux\":{\"maskedPaths\":[\"/proc/kcore\",\"/proc/keys\","
      "\"/proc/timer_list\",\"/secret-file\","
      "\"/secret-dir\",\"/absent\"],\"readonlyPaths\":[\"/proc/sys\","
      "\"/ro-dir\",\"/absent2\"]}}",
      readonly ? "true" : "false", f->tmp);
  return json;
}

static void
populate_for_finalize (struct fixture *f)
{
  copy_busybox (f);
  char *secret = path_in (f->rootfs, "secret-file");
  write_text (secret, "secret\n");
  char *secret_dir = path_in (f->rootfs, "secret-dir");
  make_dirs (secret_dir);
  char *inner = path_in (secret_dir, "inner");
  write_text (inner, "secret\n");
  char *ro_dir = path_in (f->rootfs, "ro-dir");
  make_dirs (ro_dir);
  free (ro_dir);
  free (inner);
  free (secret_dir);
  free (secret);
}

static int
run_busybox (const char *script)
{
  pid_t pid = fork ();
  CHECK (pid >= 0);
  if (pid == 0)
    {
      execl ("/bin/busybox", "sh", "-c", script, (char *) NULL);
      _exit (127);
    }
  return sandbox_wait (pid);
}

static bool
dir_is_empty (const char *path)
{
  DIR *d = opendir (path);
  CHECK (d != NULL);
  struct dirent *de;
  int n = 0;
  while ((de = readdir (d)))
    n += strcmp (de->d_name, ".") && strcmp (de->d_name, "..");
  closedir (d);
  return n == 0;
}

static void
check_inside (struct fixture *f, bool readonly)
{
  struct stat st;
  CHECK (stat ("/marker", &st) == 0);
  CHECK (stat (f->tmp, &st) < 0 && errno == ENOENT);
  CHECK (stat ("/data/file", &st) == 0);
  char cwd[64];
  CHECK (getcwd (cwd, sizeof (cwd)) && strcmp (cwd, "/") == 0);
  /* Read-only root, writable mounts. */
  CHECK (writable ("/") == !readonly);
  CHECK (writable ("/tmp"));
  /* Masked and read-only paths; absent ones ignored. */
  char *text = read_text ("/secret-file");
  CHECK (text && *text == '\0');
  free (text);
  CHECK (dir_is_empty ("/secret-dir"));
  CHECK (!writable ("/secret-dir"));
  CHECK (!writable ("/ro-dir"));
  CHECK (open ("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC) < 0
         && errno == EROFS);
  CHECK (mounted_as ("/proc/keys", NULL, NULL));
  text = read_text ("/proc/keys");
  CHECK (text && *text == '\0');
  free (text);
  /* Devices, and a program runs. */
  CHECK (stat ("/dev/null", &st) == 0 && S_ISCHR (st.st_mode)
         && st.st_rdev == makedev (1, 3));
  CHECK (run_busybox ("test -f /marker && test ! -e /outside "
                      "&& echo hello > /dev/null && test ! -s /secret-file")
         == 0);
  CHECK (run_busybox ("test -e /nonexistent") == 1); /* it can fail */
}

static void
pivot (void *data)
{
  struct fixture *f = data;
  populate_for_finalize (f);
  struct oci_config *c = config_parse (full_config (f, true));
  CHECK_OK (hy_rootfs_setup (c, f->rootfs, false, &err));
  check_inside (f, true);
  /* Only the rootfs's mounts are left. */
  struct hy_mountinfo mi;
  CHECK_OK (hy_mountinfo_read (NULL, &mi, &err));
  for (size_t i = 0; i < mi.n; i++)
    CHECK (strcmp (mi.entries[i].mount_point, "/") == 0
           || str_has_prefix (mi.entries[i].mount_point, "/proc")
           || str_has_prefix (mi.entries[i].mount_point, "/dev")
           || str_has_prefix (mi.entries[i].mount_point, "/tmp")
           || str_has_prefix (mi.entries[i].mount_point, "/data")
           || str_has_prefix (mi.entries[i].mount_point, "/secret")
           || str_has_prefix (mi.entries[i].mount_point, "/ro-dir"));
  hy_mountinfo_free (&mi);
  oci_config_free (c);
}

static void
test_pivot_root (void **state)
{
  struct fixture *f = *state;
  if (access ("/bin/busybox", X_OK) != 0)
    skip ();
  SANDBOX (0, pivot, f);
}

static void
no_pivot (void *data)
{
  struct fixture *f = data;
  populate_for_finalize (f);
  struct oci_config *c = config_parse (full_config (f, false));
  CHECK_OK (hy_rootfs_setup (c, f->rootfs, true, &err));
  check_inside (f, false);
  oci_config_free (c);
}

static void
test_no_pivot (void **state)
{
  struct fixture *f = *state;
  if (access ("/bin/busybox", X_OK) != 0)
    skip ();
  SANDBOX (0, no_pivot, f);
}

/* The container flow as rootless runtimes meet it: a user namespace
 * (mknod refused, sysfs refused without the network namespace, locked
 * flags) with its own mount and pid namespaces. */
static const char *
userns_config (struct fixture *f)
{
  static char *json;
  free (json);
  json = xasprintf (
      "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\","
      "\"readonly\":true},\"mounts\":["
      "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
      "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
      "\"options\":[\"nosuid\",\"mode=755\"]},"
      "{\"destination\":\"/dev/pts\",\"type\":\"devpts\","
      "\"source\":\"devpts\",\"options\":[\"nosuid\",\"noexec\","
      "\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]},"
      "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
      "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
      "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\","
      "\"source\":\"cgroup\",\"options\":[\"nosuid\",\"noexec\","
      "\"nodev\",\"relatime\",\"ro\"]},"
      "{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
      "{\"destination\":\"/data\",\"source\":\"%s/src\","
      "\"options\":[\"rbind\"]}],"
      "\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":"
      "\"mount\"},{\"type\":\"pid\"}],\"uidMappings\":[{\"containerID\":"
      "0,\"hostID\":0,\"size\":65536}],\"gidMappings\":[{\"containerID\":"
      "0,\"hostID\":0,\"size\":65536}],"
      "\"maskedPaths\":[\"/proc/kcore\",\"/proc/keys\","
      "\"/proc/timer_list\",\"/secret-file\",\"/secret-dir\",\"/absent\"],"
      "\"readonlyPaths\":[\"/proc/sys\",\"/ro-dir\",\"/absent2\"]}}",
      f->tmp);
  return json;
}

static void
container_in_userns (struct fixture *f)
{
  CHECK (unshare (CLONE_NEWNS | CLONE_NEWPID) == 0);
  pid_t pid = fork ();
  CHECK (pid >= 0);
  if (pid == 0)
    {
      struct oci_config *c = config_parse (userns_config (f));
      CHECK_OK (hy_rootfs_setup (c, f->rootfs, false, &err));
      check_inside (f, true);
      CHECK (getpid () == 1);
      /* sysfs came from the host (bound), read-only as asked. */
      CHECK (mounted_as ("/sys", "sysfs", "ro"));
      CHECK (mounted_as ("/dev/null", NULL, NULL)); /* bound, not made */
      CHECK (mounted_as ("/dev/pts", "devpts", NULL));
      oci_config_free (c);
      exit (0);
    }
  /* Its pid namespace died with its pid 1: no more forks, not even the
   * leak checker's, hence _exit. */
  _exit (sandbox_wait (pid));
}

static void
userns (void *data)
{
  struct fixture *f = data;
  populate_for_finalize (f);
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
      container_in_userns (f);
    }
  char b = 0;
  CHECK (read (ready[0], &b, 1) == 1);
  struct oci_idmap map = { 0, 0, 65536 };
  CHECK_OK (hy_ns_write_id_maps (pid, &map, 1, &map, 1, &err));
  CHECK (write (go[1], &b, 1) == 1);
  CHECK (sandbox_wait (pid) == 0);
}

static void
test_container_in_user_namespace (void **state)
{
  if (access ("/bin/busybox", X_OK) != 0)
    skip ();
  SANDBOX (0, userns, *state);
}

static void
propagation (void *data)
{
  (void) data;
  /* As on a host: "/" shared, and this namespace a copy of another, whose
   * "/" is then a peer.  The default makes ours a slave of it. */
  CHECK (mount (NULL, "/", NULL, MS_REC | MS_SHARED, NULL) == 0);
  int peer_ns = open ("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  CHECK (peer_ns >= 0 && unshare (CLONE_NEWNS) == 0);
  struct hy_mountinfo_entry e;
  CHECK (find_mount ("/", &e));
  CHECK (strstr (e.optional, "shared:"));
  mount_entry_free (&e);
  CHECK_OK (hy_rootfs_set_propagation (NULL, &err));
  CHECK (find_mount ("/", &e));
  CHECK (strstr (e.optional, "master:") && !strstr (e.optional, "shared:"));
  mount_entry_free (&e);
  CHECK_OK (hy_rootfs_set_propagation ("rshared", &err));
  CHECK (find_mount ("/", &e));
  CHECK (strstr (e.optional, "shared:"));
  mount_entry_free (&e);
  CHECK_OK (hy_rootfs_set_propagation ("private", &err));
  CHECK (find_mount ("/", &e));
  CHECK (strcmp (e.optional, "") == 0);
  mount_entry_free (&e);
  CHECK_FAILS (hy_rootfs_set_propagation ("bogus", &err),
               ".linux.rootfsPropagation: unknown propagation \"bogus\"");
  close (peer_ns);
}

static void
test_rootfs_propagation (void **state)
{
  SANDBOX (0, propagation, *state);
}

/* ---- sysctl and hostname ---- */

static void
expect_sysctl_error (const char *linux_json, const char *needle)
{
  char *json = xasprintf (HEAD ",\"linux\":%s}", linux_json);
  struct oci_config *c = config_parse (json);
  hy_error_t err = NULL;
  assert_int_equal (hy_sysctl_validate (c, &err), -1);
  if (strstr (err->msg, needle) == NULL)
    fail_msg ("error \"%s\" lacks \"%s\"", err->msg, needle);
  hy_error_release (&err);
  assert_int_equal (hy_sysctl_apply (c, &err), -1);
  hy_error_release (&err);
  oci_config_free (c);
  free (json);
}

static void
test_sysctl_validation (void **state)
{
  (void) state;
  expect_sysctl_error (
      "{\"namespaces\":[{\"type\":\"ipc\"},{\"type\":"
      "\"network\"},{\"type\":\"uts\"}],\"sysctl\":{"
      "\"net.ipv4.ip_forward\":\"1\",\"kernel.panic\":\"1\"}}",
      "sysctl \"kernel.panic\" is not in a separate kernel "
      "namespace");
  expect_sysctl_error ("{\"sysctl\":{\"kernel.shmmax\":\"1\"}}",
                       "sysctl \"kernel.shmmax\" is not allowed in the host's "
                       "ipc namespace");
  expect_sysctl_error ("{\"sysctl\":{\"fs.mqueue.msg_max\":\"1\"}}",
                       "sysctl \"fs.mqueue.msg_max\" is not allowed in the "
                       "host's ipc namespace");
  expect_sysctl_error ("{\"namespaces\":[{\"type\":\"ipc\"}],\"sysctl\":{"
                       "\"net/ipv4/ip_forward\":\"1\"}}",
                       "sysctl \"net/ipv4/ip_forward\" is not allowed in the "
                       "host's network namespace");
  /* Joining the runtime's own network namespace is not private. */
  expect_sysctl_error ("{\"namespaces\":[{\"type\":\"network\",\"path\":"
                       "\"/proc/self/ns/net\"}],\"sysctl\":{"
                       "\"net.ipv4.ip_forward\":\"1\"}}",
                       "host's network namespace");
  expect_sysctl_error ("{\"namespaces\":[{\"type\":\"uts\"}],\"sysctl\":{"
                       "\"kernel.hostname\":\"x\"}}",
                       "sysctl \"kernel.hostname\" is not allowed as it "
                       "conflicts with the OCI \"hostname\" field");
  expect_sysctl_error ("{\"sysctl\":{\"kernel.domainname\":\"x\"}}",
                       "sysctl \"kernel.domainname\" is not in a separate "
                       "kernel namespace");
}

static void
sysctl_apply (void *data)
{
  (void) data;
  struct oci_config *c = config_parse (
      HEAD
      ",\"linux\":{\"namespaces\":[{\"type\":\"ipc\"},{\"type\":"
      "\"network\"},{\"type\":\"uts\"}],\"sysctl\":{"
      "\"kernel.shmmax\":\"123456789\",\"net.ipv4.ip_forward\":\"1\","
      "\"net/ipv4/conf/lo/forwarding\":\"1\","
      "\"fs.mqueue.msg_max\":\"20\",\"kernel.domainname\":\"hy.test\"}}}");
  CHECK_OK (hy_sysctl_apply (c, &err));
  const char *expect[][2] = {
    { "/proc/sys/kernel/shmmax", "123456789\n" },
    { "/proc/sys/net/ipv4/ip_forward", "1\n" },
    { "/proc/sys/net/ipv4/conf/lo/forwarding", "1\n" },
    { "/proc/sys/fs/mqueue/msg_max", "20\n" },
    { "/proc/sys/kernel/domainname", "hy.test\n" },
  };
  for (size_t i = 0; i < sizeof (expect) / sizeof (expect[0]); i++)
    {
      char *text = read_text (expect[i][0]);
      CHECK (text && strcmp (text, expect[i][1]) == 0);
      free (text);
    }
  oci_config_free (c);

  c = config_parse (HEAD ",\"linux\":{\"namespaces\":[{\"type\":\"ipc\"}],"
                         "\"sysctl\":{\"kernel.shm_nonexistent\":\"1\"}}}");
  CHECK_FAILS (hy_sysctl_apply (c, &err), "is not in a separate kernel");
  oci_config_free (c);
  c = config_parse (HEAD ",\"linux\":{\"namespaces\":[{\"type\":\"ipc\"}],"
                         "\"sysctl\":{\"fs.mqueue.nonexistent\":\"1\"}}}");
  CHECK_FAILS (hy_sysctl_apply (c, &err),
               "sysctl \"fs.mqueue.nonexistent\": open "
               "`/proc/sys/fs/mqueue/nonexistent`");
  oci_config_free (c);
}

static void
test_sysctl_apply (void **state)
{
  (void) state;
  SANDBOX (CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS, sysctl_apply, NULL);
}

static void
hostname_apply (void *data)
{
  (void) data;
  struct oci_config *c = config_parse (
      HEAD ",\"hostname\":\"box\",\"domainname\":\"example.org\",\"linux\":{"
           "\"namespaces\":[{\"type\":\"uts\"}]}}");
  CHECK_OK (hy_uts_apply (c, &err));
  char name[64];
  CHECK (gethostname (name, sizeof (name)) == 0 && strcmp (name, "box") == 0);
  CHECK (getdomainname (name, sizeof (name)) == 0
         && strcmp (name, "example.org") == 0);
  oci_config_free (c);
}

static void
test_hostname (void **state)
{
  (void) state;
  struct oci_config *c = config_parse (HEAD ",\"hostname\":\"box\"}");
  hy_error_t err = NULL;
  assert_int_equal (hy_uts_apply (c, &err), -1);
  assert_string_equal (err->msg, "unable to set hostname without a private "
                                 "UTS namespace");
  hy_error_release (&err);
  oci_config_free (c);
  c = config_parse (HEAD ",\"domainname\":\"x\"}");
  assert_int_equal (hy_uts_validate (c, &err), -1);
  assert_string_equal (err->msg, "unable to set domainname without a private "
                                 "UTS namespace");
  hy_error_release (&err);
  oci_config_free (c);
  SANDBOX (CLONE_NEWUTS, hostname_apply, NULL);
}

#define SANDBOXED(t) cmocka_unit_test_setup_teardown (t, setup, teardown)

int
main (void)
{
  const struct CMUnitTest tests[] = {
    SANDBOXED (test_symlinked_destinations_stay_inside),
    SANDBOXED (test_symlink_loop),
    SANDBOXED (test_proc_destinations),
    SANDBOXED (test_bind_flags),
    SANDBOXED (test_bind_keeps_locked_flags),
    SANDBOXED (test_tmpfs_copyup),
    SANDBOXED (test_kernel_filesystems),
    SANDBOXED (test_cgroup_namespace),
    SANDBOXED (test_idmapped_mounts),
    SANDBOXED (test_idmap_needs_mappings),
    SANDBOXED (test_pivot_root),
    SANDBOXED (test_no_pivot),
    SANDBOXED (test_container_in_user_namespace),
    SANDBOXED (test_rootfs_propagation),
    cmocka_unit_test (test_sysctl_validation),
    cmocka_unit_test (test_sysctl_apply),
    cmocka_unit_test (test_hostname),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
