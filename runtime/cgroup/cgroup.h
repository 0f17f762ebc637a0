/* cgroups behind a small driver interface.
 *
 * hy_cgroup_detect() looks at /sys/fs/cgroup and picks the mode:
 *   v2      cgroup2 mounted at /sys/fs/cgroup
 *   v1      per-controller v1 hierarchies under /sys/fs/cgroup/<ctrl>
 *   hybrid  v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified
 *           (these machines; the v2 tree there carries few or no
 *           controllers but is where processes are also placed, as runc
 *           does, so that v2 tools see them)
 *
 * A container's cgroup is one directory per hierarchy: every mounted v1
 * hierarchy, and the cgroup2 tree in v2 and hybrid mode.  Each directory
 * has a driver (cgroup-v1.c, cgroup-v2.c) and serves a set of
 * controllers; a concern (a resource, freezing, stats) goes to the v1
 * directory that has its controller, else to the cgroup2 one.  Hybrid is
 * therefore not a driver of its own: in practice the v1 hierarchies serve
 * everything and the cgroup2 directory holds the processes, plus any
 * controller only it has (hugetlb on some hybrid hosts).  A systemd driver
 * can slot in later through the same vtable.
 *
 * cgroupsPath follows runc's cgroupfs driver: an absolute path is taken
 * from the root of each hierarchy, a relative one from the caller's own
 * cgroup in it (in v2 mode from the parent of the caller's cgroup, whose
 * subtree_control can enable controllers); ".." cannot climb above the
 * start.  NULL means "/hyrun/<id>".
 *
 * Every fallible function returns < 0 and fills *err; errors name the
 * file and the value: write `/sys/fs/cgroup/memory/hyrun/x/memory.
 * limit_in_bytes` "1": Device or resource busy. */
#ifndef HYRUN_CGROUP_H
#define HYRUN_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/config.h"

enum hy_cgroup_mode
{
  HY_CGROUP_V1,
  HY_CGROUP_V2,
  HY_CGROUP_HYBRID,
};

/* Counters of the container's cgroup; a field stays 0 when its controller
 * is not there.  Limits read UINT64_MAX for "max" (v1 memory reports its
 * own huge "unlimited" number). */
struct hy_cgroup_stats
{
  uint64_t memory_usage, memory_limit, memory_max_usage, memory_failcnt;
  uint64_t swap_usage, swap_limit; /* swap alone (v1: memsw - memory) */
  uint64_t cpu_usage_ns, cpu_user_ns, cpu_system_ns;
  uint64_t cpu_periods, cpu_throttled_periods, cpu_throttled_ns;
  uint64_t pids_current, pids_limit;
  uint64_t blkio_read_bytes, blkio_write_bytes;
  uint64_t oom_kills;
};

struct hy_cgroup;

/* The mode of this host's cgroup mounts. */
int hy_cgroup_detect (enum hy_cgroup_mode *out, hy_error_t *err);

/* "v1", "v2", "hybrid". */
const char *hy_cgroup_mode_name (enum hy_cgroup_mode mode);

/* Create the container's cgroup in every hierarchy (making missing
 * parents; v1 cpuset directories get their parent's cpus and mems; v2
 * parents enable the available controllers in cgroup.subtree_control),
 * apply `res` (may be NULL) and move `pid` in (skipped when pid <= 0).
 * On failure the directories made here are removed again. */
int hy_cgroup_create (const char *cgroups_path, const char *id, pid_t pid,
                      const struct oci_resources *res, struct hy_cgroup **out,
                      hy_error_t *err);

/* The form stored in the container's state file, and back.  One line:
 * "<mode>;<hierarchy>:<dir>;..." with the hierarchy as /proc/self/cgroup
 * names it ("cpu,cpuacct", "name=systemd", "" for cgroup2); '%' and ';'
 * in directories are %-escaped.  Loading does not require the
 * directories to exist any more (delete must work after they vanish). */
char *hy_cgroup_to_string (const struct hy_cgroup *cg);
int hy_cgroup_load (const char *text, struct hy_cgroup **out, hy_error_t *err);

enum hy_cgroup_mode hy_cgroup_get_mode (const struct hy_cgroup *cg);

/* The absolute directory that serves `controller` ("memory", "cpu", "io"
 * or "blkio", ...; "name=systemd" for a named v1 hierarchy; "" or
 * "unified" for the cgroup2 directory).  NULL when there is none. */
const char *hy_cgroup_dir (const struct hy_cgroup *cg, const char *controller);

/* Apply linux.resources; also what `update` uses.  A requested resource
 * whose controller is not mounted is an error naming the field.
 * Deprecated kernel memory limits are written when the kernel still has
 * the files and ignored otherwise; on cgroup v2, memory.swappiness,
 * disableOOMKiller and useHierarchy are ignored as runc does. */
int hy_cgroup_apply_resources (struct hy_cgroup *cg,
                               const struct oci_resources *res,
                               hy_error_t *err);

/* linux.resources.devices (r may be NULL), then the rules every container
 * gets (mknod, the default devices, ptys); caller frees.  As in runc, a
 * device of linux.devices gets its node but no rule: access to it is what
 * linux.resources.devices grants (Docker, podman and containerd send an
 * allow rule with each device they add). */
struct oci_device_rule *hy_cgroup_device_rules (const struct oci_resources *r,
                                                size_t *n);

/* Those rules as the eBPF device filter of the cgroup2 directory `dir`
 * (the guest agent's container cgroup). */
int hy_cgroup_v2_apply_device_rules (const char *dir,
                                     const struct oci_resources *r,
                                     hy_error_t *err);

/* Move pid into the cgroup.  `sub` (exec --cgroup) is NULL, a path below
 * the container's cgroup, or "ctrl[,ctrl...]:path" to use the sub-cgroup
 * only in the v1 hierarchies of those controllers; it must exist. */
int hy_cgroup_enter (struct hy_cgroup *cg, pid_t pid, const char *sub,
                     hy_error_t *err);

/* The same with several sub-cgroups (NULL-terminated; NULL or empty: the
 * container's cgroup): each hierarchy takes the first that applies to it,
 * so "cpu:a" and "memory:b" split as runc's exec --cgroup does. */
int hy_cgroup_enter_subs (struct hy_cgroup *cg, pid_t pid, char *const *subs,
                          hy_error_t *err);

/* The cgroup.procs file of every directory, opened for writing, so that a
 * new process can move itself in: writing "0" is much cheaper than another
 * process writing its pid (which waits for an RCU grace period). */
int hy_cgroup_open_procs (struct hy_cgroup *cg, int **fds, size_t *n,
                          hy_error_t *err);
void hy_cgroup_close_procs (int *fds, size_t n);
/* Move the caller in through those fds. */
int hy_cgroup_enter_self (const int *fds, size_t n, hy_error_t *err);

/* Freeze or thaw, returning once the kernel reports the state reached
 * (v1 freezer.state, v2 cgroup.events "frozen"). */
int hy_cgroup_freeze (struct hy_cgroup *cg, bool frozen, hy_error_t *err);
int hy_cgroup_is_frozen (struct hy_cgroup *cg, bool *frozen, hy_error_t *err);

/* Every process of the cgroup and its descendants (*pids malloc'ed). */
int hy_cgroup_pids (struct hy_cgroup *cg, pid_t **pids, size_t *n,
                    hy_error_t *err);

/* Signal every process: cgroup.kill for SIGKILL where the kernel has it,
 * otherwise freeze, signal each process, thaw. */
int hy_cgroup_kill_all (struct hy_cgroup *cg, int sig, hy_error_t *err);

int hy_cgroup_stats (struct hy_cgroup *cg, struct hy_cgroup_stats *out,
                     hy_error_t *err);

/* OOM events: *fd (O_CLOEXEC|O_NONBLOCK, the caller closes it) becomes
 * readable when the memory controller reports an OOM (v1 eventfd on
 * memory.oom_control, v2 inotify on memory.events), and also when the
 * cgroup goes away.  hy_cgroup_oom_ack() consumes the readiness;
 * hy_cgroup_oom_count() is the number of OOM kills so far, to tell the
 * events apart. */
int hy_cgroup_oom_watch (struct hy_cgroup *cg, int *fd, hy_error_t *err);
int hy_cgroup_oom_ack (int fd, hy_error_t *err);
int hy_cgroup_oom_count (struct hy_cgroup *cg, uint64_t *count,
                         hy_error_t *err);

/* Kill what is left, then remove every directory with its descendants
 * (deepest first, retrying while the kernel reports EBUSY).  Directories
 * already gone are fine. */
int hy_cgroup_destroy (struct hy_cgroup *cg, hy_error_t *err);

void hy_cgroup_free (struct hy_cgroup *cg);

static inline void
hy_cgroup_freep (struct hy_cgroup **cg)
{
  hy_cgroup_free (*cg);
}
#define _cleanup_cgroup_ __attribute__ ((cleanup (hy_cgroup_freep)))

#endif
