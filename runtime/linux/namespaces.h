/* Linux namespaces of a container: which to create, which to join (and in
 * what order), the id maps of a new user namespace and the clock offsets of
 * a new time namespace. */
#ifndef HYRUN_LINUX_NAMESPACES_H
#define HYRUN_LINUX_NAMESPACES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/config.h"

/* CLONE_NEWPID, ... for an OCI namespace type. */
int hy_ns_clone_flag (enum oci_namespace_type type);

/* Its name under /proc/<pid>/ns/: "pid", "net", "mnt", ... */
const char *hy_ns_proc_name (enum oci_namespace_type type);

/* The linux.namespaces entry of `type`, NULL when absent (the container
 * then shares the runtime's namespace).  l may be NULL. */
const struct oci_namespace *hy_ns_find (const struct oci_linux *l,
                                        enum oci_namespace_type type);

/* Whether the container has its own namespace of `type`, new or joined. */
bool hy_ns_is_private (const struct oci_linux *l,
                       enum oci_namespace_type type);

/* CLONE_NEW* of the namespaces to create: those without a path. */
int hy_ns_clone_flags (const struct oci_linux *l);

/* The namespaces to join, opened.  fd[type] is -1 for a type not joined;
 * path and index (into linux.namespaces) are for messages and borrow from
 * the config. */
struct hy_ns_fds
{
  int fd[OCI_NS_TYPES];
  const char *path[OCI_NS_TYPES];
  size_t index[OCI_NS_TYPES]; /* HY_NS_NO_INDEX: not from the config */
};

#define HY_NS_NO_INDEX ((size_t) -1)

void hy_ns_fds_init (struct hy_ns_fds *f);
void hy_ns_fds_close (struct hy_ns_fds *f);

/* Open every namespace path O_RDONLY|O_CLOEXEC, first of all (before a
 * setns or a mount changes what the paths mean), and check with
 * NS_GET_NSTYPE that each is a namespace of its entry's type.  Errors name
 * `.linux.namespaces[i].path`.  On failure nothing stays open. */
int hy_ns_open_paths (const struct oci_linux *l, struct hy_ns_fds *out,
                      hy_error_t *err);

/* setns() into every opened namespace and close its fd.  A user namespace
 * is joined before the namespaces that need its privileges and the mount
 * namespace last (see namespaces.c).  Errors name the path. */
int hy_ns_join (struct hy_ns_fds *f, hy_error_t *err);

/* The namespaces of process `pid` that are not the caller's own, opened
 * for hy_ns_join (what `exec` joins).  paths[t] gets "/proc/<pid>/ns/<name>"
 * for each (the caller frees them; hy_ns_fds borrows them).  Types this
 * kernel lacks are skipped.  When the process is gone the error's errnum
 * is ESRCH or ENOENT.  On failure nothing stays open. */
int hy_ns_open_of_pid (pid_t pid, struct hy_ns_fds *out,
                       char *paths[OCI_NS_TYPES], hy_error_t *err);

/* A joined pid namespace, or a new or joined time namespace, apply to the
 * caller's children only: enter them around the clone of init, then
 * leave.  `ns` holds the joined ones (hy_ns_open_paths). */
struct hy_ns_for_children
{
  int saved_pid, saved_time;
};

int hy_ns_enter_for_children (const struct oci_linux *l,
                              const struct hy_ns_fds *ns,
                              struct hy_ns_for_children *f, hy_error_t *err);
void hy_ns_leave_for_children (struct hy_ns_for_children *f);

/* Write /proc/<pid>/uid_map and gid_map (pid 0: self), each in the single
 * write(2) the kernel allows.  When the kernel refuses gid_map because the
 * writer lacks CAP_SETGID over the parent namespace, "deny" goes to
 * /proc/<pid>/setgroups and the write is retried, as unprivileged maps
 * require.  Either list may be empty (that map is then left alone). */
int hy_ns_write_id_maps (pid_t pid, const struct oci_idmap *uids,
                         size_t n_uids, const struct oci_idmap *gids,
                         size_t n_gids, hy_error_t *err);

/* Write linux.timeOffsets to /proc/<pid>/timens_offsets (pid 0: self):
 * after unshare(CLONE_NEWTIME), before any process enters the namespace
 * (the caller's children do).  Nothing to do without offsets. */
int hy_ns_write_time_offsets (pid_t pid, const struct oci_linux *l,
                              hy_error_t *err);

/* A new user namespace with these mappings, held by nothing but the
 * returned O_RDONLY fd: what MOUNT_ATTR_IDMAP takes. */
int hy_ns_new_userns_fd (const struct oci_idmap *uids, size_t n_uids,
                         const struct oci_idmap *gids, size_t n_gids,
                         hy_error_t *err);

#endif
