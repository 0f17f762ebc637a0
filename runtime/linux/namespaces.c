#include "runtime/linux/namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct
{
  int flag;
  const char *proc_name;
} ns_kinds[OCI_NS_TYPES] = {
  [OCI_NS_PID] = { CLONE_NEWPID, "pid" },
  [OCI_NS_NETWORK] = { CLONE_NEWNET, "net" },
  [OCI_NS_MOUNT] = { CLONE_NEWNS, "mnt" },
  [OCI_NS_IPC] = { CLONE_NEWIPC, "ipc" },
  [OCI_NS_UTS] = { CLONE_NEWUTS, "uts" },
  [OCI_NS_USER] = { CLONE_NEWUSER, "user" },
  [OCI_NS_CGROUP] = { CLONE_NEWCGROUP, "cgroup" },
  [OCI_NS_TIME] = { CLONE_NEWTIME, "time" },
};

int
hy_ns_clone_flag (enum oci_namespace_type type)
{
  return ns_kinds[type].flag;
}

const char *
hy_ns_proc_name (enum oci_namespace_type type)
{
  return ns_kinds[type].proc_name;
}

const struct oci_namespace *
hy_ns_find (const struct oci_linux *l, enum oci_namespace_type type)
{
  for (size_t i = 0; l && i < l->n_namespaces; i++)
    if (l->namespaces[i].type == type)
      return &l->namespaces[i];
  return NULL;
}

bool
hy_ns_is_private (const struct oci_linux *l, enum oci_namespace_type type)
{
  return hy_ns_find (l, type) != NULL;
}

int
hy_ns_clone_flags (const struct oci_linux *l)
{
  int flags = 0;
  for (size_t i = 0; l && i < l->n_namespaces; i++)
    if (l->namespaces[i].path == NULL)
      flags |= hy_ns_clone_flag (l->namespaces[i].type);
  return flags;
}

/* ---- joining ---- */

void
hy_ns_fds_init (struct hy_ns_fds *f)
{
  for (size_t t = 0; t < OCI_NS_TYPES; t++)
    {
      f->fd[t] = -1;
      f->path[t] = NULL;
      f->index[t] = 0;
    }
}

void
hy_ns_fds_close (struct hy_ns_fds *f)
{
  for (size_t t = 0; t < OCI_NS_TYPES; t++)
    if (f->fd[t] >= 0)
      {
        close (f->fd[t]);
        f->fd[t] = -1;
      }
}

/* The OCI name of a CLONE_NEW* value, for messages. */
static const char *
ns_name_of_flag (int flag)
{
  for (size_t t = 0; t < OCI_NS_TYPES; t++)
    if (ns_kinds[t].flag == flag)
      return oci_namespace_names[t];
  return "unknown";
}

static int
check_ns_type (int fd, const struct oci_namespace *ns, hy_error_t *err)
{
  int type = ioctl (fd, NS_GET_NSTYPE);
  if (type < 0 && (errno == ENOTTY || errno == EINVAL))
    return hy_error (err, 0, "`%s` is not a namespace file", ns->path);
  if (type < 0)
    return hy_error_errno (err, "NS_GET_NSTYPE `%s`", ns->path);
  if (type != hy_ns_clone_flag (ns->type))
    return hy_error (err, 0, "`%s` is a %s namespace, not a %s namespace",
                     ns->path, ns_name_of_flag (type),
                     oci_namespace_names[ns->type]);
  return 0;
}

static int
open_ns_path (const struct oci_namespace *ns, hy_error_t *err)
{
  _cleanup_close_ int fd = open (ns->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "open `%s`", ns->path);
  if (check_ns_type (fd, ns, err) < 0)
    return -1;
  return steal_fd (&fd);
}

int
hy_ns_open_paths (const struct oci_linux *l, struct hy_ns_fds *out,
                  hy_error_t *err)
{
  hy_ns_fds_init (out);
  for (size_t i = 0; l && i < l->n_namespaces; i++)
    {
      const struct oci_namespace *ns = &l->namespaces[i];
      if (ns->path == NULL)
        continue;
      int fd = out->fd[ns->type] >= 0
                   ? hy_error (err, 0, "a second %s namespace",
                               oci_namespace_names[ns->type])
                   : open_ns_path (ns, err);
      if (fd < 0)
        {
          hy_ns_fds_close (out);
          return hy_error_prepend (err, ".linux.namespaces[%zu].path", i);
        }
      out->fd[ns->type] = fd;
      out->path[ns->type] = ns->path;
      out->index[ns->type] = i;
    }
  return 0;
}

/* The mount namespace comes last: joining it changes the root and the
 * working directory. */
static const enum oci_namespace_type join_order[] = {
  OCI_NS_IPC,    OCI_NS_UTS,  OCI_NS_NETWORK, OCI_NS_PID,
  OCI_NS_CGROUP, OCI_NS_TIME, OCI_NS_MOUNT,
};

static int
join_one (struct hy_ns_fds *f, enum oci_namespace_type t, hy_error_t *err)
{
  if (f->fd[t] < 0)
    return 0;
  if (setns (f->fd[t], hy_ns_clone_flag (t)) < 0)
    return f->index[t] == HY_NS_NO_INDEX
               ? hy_error_errno (err, "join the %s namespace `%s`",
                                 oci_namespace_names[t], f->path[t])
               : hy_error_errno (err,
                                 "join the %s namespace `%s` "
                                 "(.linux.namespaces[%zu])",
                                 oci_namespace_names[t], f->path[t],
                                 f->index[t]);
  close (f->fd[t]);
  f->fd[t] = -1;
  return 0;
}

int
hy_ns_join (struct hy_ns_fds *f, hy_error_t *err)
{
  /* Joining a user namespace gives up the privileges held over the
   * namespaces it does not own.  So the others are tried first, and those
   * refused with EPERM (an unprivileged caller: they belong to that user
   * namespace and need its privileges) are joined after it, as crun does.
   * Without a user namespace to join this is just the order above. */
  if (f->fd[OCI_NS_USER] >= 0)
    for (size_t i = 0; i < sizeof (join_order) / sizeof (join_order[0]); i++)
      {
        enum oci_namespace_type t = join_order[i];
        if (f->fd[t] < 0 || setns (f->fd[t], hy_ns_clone_flag (t)) < 0)
          continue; /* the error, if any, comes again below */
        close (f->fd[t]);
        f->fd[t] = -1;
      }
  if (join_one (f, OCI_NS_USER, err) < 0)
    return -1;
  for (size_t i = 0; i < sizeof (join_order) / sizeof (join_order[0]); i++)
    if (join_one (f, join_order[i], err) < 0)
      return -1;
  return 0;
}

static bool
same_file (const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* 1 and *fd open when `pid`'s namespace of type t is not ours, 0 when it
 * is or the kernel lacks the type, <0 on error. */
static int
open_if_other (pid_t pid, enum oci_namespace_type t, char **path, int *fd,
               hy_error_t *err)
{
  const char *name = hy_ns_proc_name (t);
  _cleanup_free_ char *self = xasprintf ("/proc/self/ns/%s", name);
  struct stat ours, theirs;
  if (stat (self, &ours) < 0)
    return errno == ENOENT ? 0 : hy_error_errno (err, "stat `%s`", self);
  *path = xasprintf ("/proc/%d/ns/%s", (int) pid, name);
  if (stat (*path, &theirs) < 0)
    return hy_error_errno (err, "stat `%s`", *path);
  if (same_file (&ours, &theirs))
    return 0;
  *fd = open (*path, O_RDONLY | O_CLOEXEC);
  if (*fd < 0)
    return hy_error_errno (err, "open `%s`", *path);
  return 1;
}

int
hy_ns_open_of_pid (pid_t pid, struct hy_ns_fds *out,
                   char *paths[OCI_NS_TYPES], hy_error_t *err)
{
  hy_ns_fds_init (out);
  for (int t = 0; t < OCI_NS_TYPES; t++)
    {
      int fd = -1;
      int r = open_if_other (pid, (enum oci_namespace_type) t, &paths[t],
                             &fd, err);
      if (r < 0)
        {
          hy_ns_fds_close (out);
          return -1;
        }
      if (r == 0)
        continue;
      out->fd[t] = fd;
      out->path[t] = paths[t];
      out->index[t] = HY_NS_NO_INDEX;
    }
  return 0;
}

int
hy_ns_enter_for_children (const struct oci_linux *l,
                          const struct hy_ns_fds *ns,
                          struct hy_ns_for_children *f, hy_error_t *err)
{
  const struct oci_namespace *time_ns = hy_ns_find (l, OCI_NS_TIME);
  *f = (struct hy_ns_for_children){ -1, -1 };
  if (ns->fd[OCI_NS_PID] >= 0)
    {
      f->saved_pid = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
      if (f->saved_pid < 0 || setns (ns->fd[OCI_NS_PID], CLONE_NEWPID) < 0)
        return hy_error_errno (err, "join the pid namespace `%s`",
                               ns->path[OCI_NS_PID]);
    }
  if (time_ns == NULL)
    return 0;
  f->saved_time = open ("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
  if (f->saved_time < 0)
    return hy_error_errno (err, "open /proc/self/ns/time");
  if (ns->fd[OCI_NS_TIME] >= 0)
    {
      if (setns (ns->fd[OCI_NS_TIME], CLONE_NEWTIME) < 0)
        return hy_error_errno (err, "join the time namespace `%s`",
                               ns->path[OCI_NS_TIME]);
      return 0;
    }
  if (unshare (CLONE_NEWTIME) < 0)
    return hy_error_errno (err, "create a time namespace");
  return hy_ns_write_time_offsets (0, l, err);
}

void
hy_ns_leave_for_children (struct hy_ns_for_children *f)
{
  if (f->saved_pid >= 0)
    {
      setns (f->saved_pid, CLONE_NEWPID);
      close (f->saved_pid);
    }
  if (f->saved_time >= 0)
    {
      setns (f->saved_time, CLONE_NEWTIME);
      close (f->saved_time);
    }
  *f = (struct hy_ns_for_children){ -1, -1 };
}

/* ---- /proc/<pid>/ files ---- */

static char *
proc_pid_path (pid_t pid, const char *name)
{
  return pid ? xasprintf ("/proc/%d/%s", (int) pid, name)
             : xasprintf ("/proc/self/%s", name);
}

/* One write(2): uid_map, gid_map and timens_offsets take the whole content
 * at once.  `shown` is the content as the error shows it. */
static int
write_proc_file (pid_t pid, const char *name, const char *content,
                 const char *shown, hy_error_t *err)
{
  _cleanup_free_ char *path = proc_pid_path (pid, name);
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "open `%s`", path);
  size_t len = strlen (content);
  ssize_t w = write (fd, content, len);
  if (w < 0)
    return hy_error_errno (err, "write `%s` (%s)", path, shown);
  if ((size_t) w != len)
    return hy_error (err, EIO, "write `%s` (%s): short write", path, shown);
  return 0;
}

/* The map file content ("0 1000 1\n...") and how errors show it
 * ("0 1000 1, 1 100000 65536"). */
static void
format_idmap (const struct oci_idmap *m, size_t n, char **content,
              char **shown)
{
  *content = xstrdup ("");
  *shown = xstrdup ("");
  for (size_t i = 0; i < n; i++)
    {
      char *c = xasprintf ("%s%u %u %u\n", *content, m[i].container_id,
                           m[i].host_id, m[i].size);
      char *s = xasprintf ("%s%s%u %u %u", *shown, i ? ", " : "",
                           m[i].container_id, m[i].host_id, m[i].size);
      free (*content);
      free (*shown);
      *content = c;
      *shown = s;
    }
}

static int
write_idmap (pid_t pid, const char *file, const struct oci_idmap *m, size_t n,
             bool deny_on_eperm, hy_error_t *err)
{
  _cleanup_free_ char *content = NULL;
  _cleanup_free_ char *shown = NULL;
  format_idmap (m, n, &content, &shown);
  _cleanup_error_ hy_error_t first = NULL;
  if (write_proc_file (pid, file, content, shown, &first) == 0)
    return 0;
  if (!deny_on_eperm || first->errnum != EPERM)
    {
      if (err && *err == NULL)
        *err = steal_pointer (&first);
      return -1;
    }
  /* Without CAP_SETGID over the parent user namespace, the kernel takes a
   * gid_map only once setgroups(2) is denied in the new one. */
  if (write_proc_file (pid, "setgroups", "deny", "deny", err) < 0)
    return -1;
  return write_proc_file (pid, file, content, shown, err);
}

int
hy_ns_write_id_maps (pid_t pid, const struct oci_idmap *uids, size_t n_uids,
                     const struct oci_idmap *gids, size_t n_gids,
                     hy_error_t *err)
{
  if (n_uids > 0 && write_idmap (pid, "uid_map", uids, n_uids, false, err) < 0)
    return -1;
  if (n_gids > 0 && write_idmap (pid, "gid_map", gids, n_gids, true, err) < 0)
    return -1;
  return 0;
}

static char *
format_offset (const char *clock, const struct oci_time_offset *o)
{
  return xasprintf ("%s %lld %u", clock,
                    (long long) (o->has_secs ? o->secs : 0),
                    o->has_nanosecs ? o->nanosecs : 0);
}

int
hy_ns_write_time_offsets (pid_t pid, const struct oci_linux *l,
                          hy_error_t *err)
{
  if (l == NULL || (!l->time_monotonic.present && !l->time_boottime.present))
    return 0;
  _cleanup_free_ char *mono = format_offset ("monotonic", &l->time_monotonic);
  _cleanup_free_ char *boot = format_offset ("boottime", &l->time_boottime);
  bool both = l->time_monotonic.present && l->time_boottime.present;
  const char *one = l->time_monotonic.present ? mono : boot;
  _cleanup_free_ char *content
      = both ? xasprintf ("%s\n%s\n", mono, boot) : xasprintf ("%s\n", one);
  _cleanup_free_ char *shown
      = both ? xasprintf ("%s, %s", mono, boot) : xstrdup (one);
  return write_proc_file (pid, "timens_offsets", content, shown, err);
}

/* ---- a user namespace for idmapped mounts ---- */

/* The child: enter a new user namespace, say so, and live until the
 * parent closes `hold` (or dies).  Only async-signal-safe calls. */
static void __attribute__ ((noreturn)) userns_holder (int ready, int hold)
{
  char c = 0;
  if (unshare (CLONE_NEWUSER) < 0)
    _exit (1);
  if (write (ready, &c, 1) != 1)
    _exit (1);
  while (read (hold, &c, 1) < 0 && errno == EINTR)
    ;
  _exit (0);
}

static int
open_holder_userns (pid_t pid, const struct oci_idmap *uids, size_t n_uids,
                    const struct oci_idmap *gids, size_t n_gids, int ready,
                    hy_error_t *err)
{
  char c;
  ssize_t r;
  do
    r = read (ready, &c, 1);
  while (r < 0 && errno == EINTR);
  if (r != 1)
    return hy_error (err, 0, "create a user namespace for the id mappings");
  if (hy_ns_write_id_maps (pid, uids, n_uids, gids, n_gids, err) < 0)
    return -1;
  _cleanup_free_ char *path = proc_pid_path (pid, "ns/user");
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "open `%s`", path);
  return fd;
}

int
hy_ns_new_userns_fd (const struct oci_idmap *uids, size_t n_uids,
                     const struct oci_idmap *gids, size_t n_gids,
                     hy_error_t *err)
{
  int ready[2], hold[2];
  if (pipe2 (ready, O_CLOEXEC) < 0)
    return hy_error_errno (err, "pipe");
  if (pipe2 (hold, O_CLOEXEC) < 0)
    {
      close (ready[0]);
      close (ready[1]);
      return hy_error_errno (err, "pipe");
    }
  pid_t pid = fork ();
  if (pid == 0)
    {
      close (ready[0]);
      close (hold[1]);
      userns_holder (ready[1], hold[0]);
    }
  int fork_errno = errno;
  close (ready[1]);
  close (hold[0]);
  int fd = pid < 0 ? (errno = fork_errno, hy_error_errno (err, "fork"))
                   : open_holder_userns (pid, uids, n_uids, gids, n_gids,
                                         ready[0], err);
  close (ready[0]);
  close (hold[1]);
  if (pid > 0)
    while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
      ;
  return fd;
}
