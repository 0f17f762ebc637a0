/* What the cgroup files share, and what the unit tests reach into. */
#ifndef HYRUN_CGROUP_INTERNAL_H
#define HYRUN_CGROUP_INTERNAL_H

#include <linux/bpf.h>
#include <stdarg.h>

#include "runtime/cgroup/cgroup.h"

/* ---- controllers (cgroup-controllers.c) ---- */

enum
{
  HY_CG_CPU = 1u << 0,
  HY_CG_CPUACCT = 1u << 1, /* v2: the core cpu.stat */
  HY_CG_CPUSET = 1u << 2,
  HY_CG_MEMORY = 1u << 3,
  HY_CG_DEVICES = 1u << 4, /* v2: the eBPF device filter */
  HY_CG_FREEZER = 1u << 5, /* v2: cgroup.freeze */
  HY_CG_BLKIO = 1u << 6,   /* v2: io */
  HY_CG_PIDS = 1u << 7,
  HY_CG_NET_CLS = 1u << 8,
  HY_CG_NET_PRIO = 1u << 9,
  HY_CG_HUGETLB = 1u << 10,
  HY_CG_PERF_EVENT = 1u << 11,
  HY_CG_RDMA = 1u << 12,
  HY_CG_MISC = 1u << 13,
};

/* The bit of a controller name ("io" and "blkio" are the same); 0 for
 * names we do not know. */
unsigned hy_cg_ctrl_from_name (const char *name);
/* The v1 name of one bit ("blkio"). */
const char *hy_cg_ctrl_name (unsigned bit);
/* "cpu,cpuacct" -> HY_CG_CPU|HY_CG_CPUACCT; *named gets "name=..." when
 * the list holds one (caller frees). */
unsigned hy_cg_ctrls_parse (const char *list, char **named);

/* ---- file access (cgroup-fs.c) ---- */

/* "<dir>/<file>" (caller frees). */
char *hy_cg_join (const char *dir, const char *file);
bool hy_cg_exists (const char *dir, const char *file);
/* One write(2), as cgroup files want.  The _raw variant returns -errno
 * and reports nothing, for callers that tolerate some errors; the others
 * report write `<dir>/<file>` "<value>". */
int hy_cg_write_raw (const char *dir, const char *file, const char *value);
int hy_cg_write (const char *dir, const char *file, const char *value,
                 hy_error_t *err);
int hy_cg_writef (hy_error_t *err, const char *dir, const char *file,
                  const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
/* Each line of `value` on its own (files that take one entry a write). */
int hy_cg_write_lines (const char *dir, const char *file, const char *value,
                       hy_error_t *err);
int hy_cg_read (const char *dir, const char *file, char **out,
                hy_error_t *err);
/* A single number; "max" reads UINT64_MAX. */
int hy_cg_read_u64 (const char *dir, const char *file, uint64_t *out,
                    hy_error_t *err);
/* The value of `key` in a "key value" per line file; 0 when absent. */
int hy_cg_read_key_u64 (const char *dir, const char *file, const char *key,
                        uint64_t *out, hy_error_t *err);
/* Same on text already read. */
uint64_t hy_cg_text_key_u64 (const char *text, const char *key);

/* ---- the host's hierarchies (cgroup-layout.c) ---- */

struct hy_cgroup_mount
{
  char *key;        /* "cpu,cpuacct", "name=systemd"; "" for cgroup2 */
  char *mountpoint; /* "/sys/fs/cgroup/memory" */
  char *root;       /* the mount's root inside the hierarchy ("/") */
  char *own;        /* our own cgroup there, from /proc/self/cgroup */
  unsigned ctrls;   /* v1 controllers of the hierarchy */
  bool v2;
};

struct hy_cgroup_layout
{
  enum hy_cgroup_mode mode;
  struct hy_cgroup_mount *mounts;
  size_t n;
};

/* Pure: the hierarchies of `mode` found in a mountinfo text, with our
 * cgroup in each from a /proc/self/cgroup text. */
int hy_cgroup_layout_parse (enum hy_cgroup_mode mode, const char *mountinfo,
                            const char *self_cgroup,
                            struct hy_cgroup_layout **out, hy_error_t *err);
/* The live one: statfs for the mode, /proc/self/{mountinfo,cgroup}. */
int hy_cgroup_layout_detect (struct hy_cgroup_layout **out, hy_error_t *err);
void hy_cgroup_layout_free (struct hy_cgroup_layout *l);

/* ---- paths (cgroup-path.c) ---- */

/* runc's CleanPath: lexical "." and ".." removal that cannot climb above
 * the start; keeps absolute paths absolute.  NULL when nothing is left
 * (the path names the root or the caller's own cgroup). */
char *hy_cg_clean_path (const char *path);
/* exec --cgroup's path below the container's cgroup, lexically cleaned
 * and relative ("" for the cgroup itself); NULL when ".." leads out. */
char *hy_cg_sub_path (const char *path);
/* The container's directory in mount m for a cleaned path. */
char *hy_cg_resolve (const struct hy_cgroup_mount *m, enum hy_cgroup_mode mode,
                     const char *inner, hy_error_t *err);

/* ---- the cgroup and its drivers ---- */

struct hy_cgroup_driver;

struct hy_cgroup_dir
{
  char *key;        /* as in struct hy_cgroup_mount */
  char *path;       /* absolute directory of the container's cgroup */
  char *mountpoint; /* known at creation only */
  unsigned ctrls;   /* controllers this directory has */
  bool v2;
  bool created; /* made by hy_cgroup_create (for its rollback) */
  const struct hy_cgroup_driver *drv;
};

struct hy_cgroup
{
  enum hy_cgroup_mode mode;
  struct hy_cgroup_dir *dirs;
  size_t n_dirs;
};

/* The linux.resources groups, each applied by one driver function. */
enum hy_cg_group
{
  HY_CG_RES_DEVICES,
  HY_CG_RES_MEMORY,
  HY_CG_RES_CPU,
  HY_CG_RES_CPUSET,
  HY_CG_RES_BLKIO,
  HY_CG_RES_HUGETLB,
  HY_CG_RES_NET_CLS,
  HY_CG_RES_NET_PRIO,
  HY_CG_RES_PIDS,
  HY_CG_RES_RDMA,
  HY_CG_RES_GROUPS
};

typedef int (*hy_cg_apply_fn) (const char *dir,
                               const struct oci_resources *res,
                               hy_error_t *err);

struct hy_cgroup_driver
{
  const char *name;
  /* Make d->path (and its parents) ready to take processes. */
  int (*prepare) (struct hy_cgroup_dir *d, hy_error_t *err);
  /* The controllers d->path has (v2 reads cgroup.controllers). */
  unsigned (*controllers) (const struct hy_cgroup_dir *d);
  const hy_cg_apply_fn *apply; /* indexed by enum hy_cg_group */
  int (*freeze) (const char *dir, bool frozen, hy_error_t *err);
  int (*is_frozen) (const char *dir, bool *frozen, hy_error_t *err);
  /* Fill the fields of the controllers in `ctrls`. */
  int (*stats) (const char *dir, unsigned ctrls, struct hy_cgroup_stats *out,
                hy_error_t *err);
  int (*oom_watch) (const char *dir, int *fd, hy_error_t *err);
  int (*oom_count) (const char *dir, uint64_t *count, hy_error_t *err);
};

extern const struct hy_cgroup_driver hy_cgroup_driver_v1;
extern const struct hy_cgroup_driver hy_cgroup_driver_v2;
extern const hy_cg_apply_fn hy_cg_apply_v1[HY_CG_RES_GROUPS];
extern const hy_cg_apply_fn hy_cg_apply_v2[HY_CG_RES_GROUPS];

/* Shared by both versions (cgroup-resources-common.c). */
int hy_cg_pids_apply (const char *dir, const struct oci_resources *res,
                      hy_error_t *err);
int hy_cg_rdma_apply (const char *dir, const struct oci_resources *res,
                      hy_error_t *err);
/* memory.checkBeforeUpdate: refuse a limit at or below the usage in
 * <dir>/<file> (limit <= 0 passes). */
int hy_cg_check_usage (const char *dir, const char *file, int64_t limit,
                       hy_error_t *err);

/* Create in a given layout (hy_cgroup_create() detects it; tests pass
 * one). */
int hy_cgroup_create_in (const struct hy_cgroup_layout *layout,
                         const char *cgroups_path, const char *id, pid_t pid,
                         const struct oci_resources *res,
                         struct hy_cgroup **out, hy_error_t *err);

/* The directory serving controller `bit`: a v1 one first, then cgroup2. */
struct hy_cgroup_dir *hy_cg_serving (const struct hy_cgroup *cg, unsigned bit);
/* Where the processes are listed and signalled: the freezer's directory
 * (so kill can freeze what it lists), else cgroup2, else the first. */
struct hy_cgroup_dir *hy_cg_procs_dir (const struct hy_cgroup *cg);

/* Remove dir and its descendants, deepest first; ENOENT is fine. */
int hy_cg_rmdir_tree (const char *dir, hy_error_t *err);
/* mkdir -p below `from` (which exists), calling at_level (may be NULL)
 * on `from` and then on each level once it exists; *created says whether
 * the last component was made here. */
int hy_cg_mkdir_below (const char *from, const char *path,
                       int (*at_level) (const char *dir, bool leaf,
                                        hy_error_t *err),
                       bool *created, hy_error_t *err);
/* Processes of dir and its descendants. */
int hy_cg_read_pids (const char *dir, pid_t **pids, size_t *n,
                     hy_error_t *err);
void hy_cg_sleep_ms (unsigned ms);

/* Per-version statistics (cgroup-stats-v1.c, cgroup-stats-v2.c). */
int hy_cg_stats_v1 (const char *dir, unsigned ctrls,
                    struct hy_cgroup_stats *out, hy_error_t *err);
int hy_cg_stats_v2 (const char *dir, unsigned ctrls,
                    struct hy_cgroup_stats *out, hy_error_t *err);

/* ---- pure conversions (cgroup-convert.c) ---- */

/* runc's cpu.shares -> cpu.weight (0 stays 0, "unset"). */
uint64_t hy_cg_shares_to_weight (uint64_t shares);
/* blkio.weight [10, 1000] -> io.weight [1, 10000]. */
uint64_t hy_cg_blkio_to_io_weight (uint64_t weight);
/* memory.swap.max from OCI swap (memory+swap) and limit; 0 means unset,
 * -1 max.  < 0 with *err when the pair makes no sense. */
int hy_cg_swap_v2 (int64_t swap, bool has_swap, int64_t limit, bool has_limit,
                   int64_t *out, hy_error_t *err);
/* cpu.max: "max 100000", "50000 100000"; NULL when neither quota nor
 * period is given (caller frees). */
char *hy_cg_cpu_max (const struct oci_cpu *cpu);
/* "8:0 rbps=1048576" (io.max line). */
char *hy_cg_io_max_line (const struct oci_throttle_device *d, const char *key);
/* "c 1:3 rwm", "b *:* r", "a" (v1 devices.allow / devices.deny). */
char *hy_cg_device_rule_v1 (const struct oci_device_rule *r);
/* "mlx5_0 hca_handle=2 hca_object=100" (rdma.max). */
char *hy_cg_rdma_line (const struct oci_rdma *r);
/* pids.max: the number, or "max" for limit <= 0. */
char *hy_cg_pids_max (int64_t limit);

/* ---- the v1 device semantics (cgroup-devices-emulator.c) ---- */

struct hy_cg_dev_exception
{
  char type;            /* 'c' or 'b' */
  int64_t major, minor; /* -1: any */
  uint32_t access;      /* BPF_DEVCG_ACC_* bits */
};

struct hy_cg_dev_state
{
  bool default_allow;
  struct hy_cg_dev_exception *ex;
  size_t n;
};

/* The state v1 reaches from "a" in devices.deny followed by `rules`. */
void hy_cg_devices_emulate (const struct oci_device_rule *rules, size_t n,
                            struct hy_cg_dev_state *out);
void hy_cg_dev_state_release (struct hy_cg_dev_state *s);

/* ---- the v2 device filter (cgroup-devices-ebpf.c) ---- */

/* The BPF_PROG_TYPE_CGROUP_DEVICE program granting what v1 would grant
 * after "a" in devices.deny followed by `rules`.  *out malloc'ed. */
size_t hy_cg_devices_bpf_build (const struct oci_device_rule *rules, size_t n,
                                struct bpf_insn **out);
/* Load it and attach it to dir, replacing the filters hyrun put there. */
int hy_cg_devices_bpf_apply (const char *dir,
                             const struct oci_device_rule *rules, size_t n,
                             hy_error_t *err);

/* ---- serialization (cgroup-string.c) ---- */

char *hy_cg_escape (const char *s);
char *hy_cg_unescape (const char *s, size_t len);

#endif
