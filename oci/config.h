/* The runtime-spec 1.2 config.json as C data.
 *
 * Strings are owned, NULL when absent.  String lists are NULL-terminated
 * vectors (NULL when absent, so "absent" and "empty" stay distinct and
 * round-trip).  Arrays of structs are (pointer, count) pairs.  Optional
 * scalars come with a has_* flag.  oci_config_free() releases everything.
 *
 * Parsing validates as it goes: wrong types, missing required fields and
 * impossible values are errors naming the JSON path and the reason.
 * Fields the spec does not define are ignored.
 */
#ifndef HYRUN_OCI_CONFIG_H
#define HYRUN_OCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "oci/json.h"

/* ---- root, mounts ---- */

struct oci_root
{
  char *path; /* required */
  bool readonly;
};

struct oci_idmap
{
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
};

struct oci_mount
{
  char *destination; /* required */
  char *source;
  char *type;
  char **options;
  struct oci_idmap *uid_mappings;
  size_t n_uid_mappings;
  struct oci_idmap *gid_mappings;
  size_t n_gid_mappings;
};

/* ---- process ---- */

struct oci_user
{
  uint32_t uid;
  uint32_t gid;
  uint32_t umask;
  bool has_umask;
  uint32_t *additional_gids;
  size_t n_additional_gids;
  char *username; /* windows; kept for round-trips */
};

struct oci_capabilities
{
  char **bounding;
  char **effective;
  char **inheritable;
  char **permitted;
  char **ambient;
};

struct oci_rlimit
{
  char *type; /* "RLIMIT_NOFILE", ... */
  int resource; /* the RLIMIT_* value type names */
  uint64_t soft;
  uint64_t hard;
};

struct oci_scheduler
{
  char *policy; /* "SCHED_OTHER", ... required */
  int32_t nice;
  int32_t priority;
  char **flags;
  uint64_t runtime;
  uint64_t deadline;
  uint64_t period;
  bool has_nice, has_priority, has_runtime, has_deadline, has_period;
};

struct oci_io_priority
{
  char *klass; /* "IOPRIO_CLASS_RT" | "IOPRIO_CLASS_BE" | "IOPRIO_CLASS_IDLE" */
  int32_t priority; /* 0..7 */
};

struct oci_cpu_affinity
{
  char *initial; /* cpu lists such as "0-3,7" */
  char *final;
};

/* Booleans are written when true or when their has_* flag says the key
 * was present; `user` likewise when has_user or any of its fields is set.
 * rlimits and user.additional_gids are non-NULL with a count of 0 for []. */
struct oci_process
{
  bool terminal;
  bool has_terminal;
  bool has_console_size;
  uint32_t console_height;
  uint32_t console_width;
  struct oci_user user;
  bool has_user;
  char **args; /* at least one entry */
  char *command_line; /* windows */
  char **env; /* "KEY=VALUE" entries */
  char *cwd; /* required, absolute */
  struct oci_capabilities *capabilities;
  struct oci_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  bool has_no_new_privileges;
  char *apparmor_profile;
  int32_t oom_score_adj;
  bool has_oom_score_adj;
  char *selinux_label;
  struct oci_scheduler *scheduler;
  struct oci_io_priority *io_priority;
  struct oci_cpu_affinity *exec_cpu_affinity;
};

/* A process document on its own: `exec --process process.json`, the guest
 * agent.  Paths in errors are relative to the document: "<source>: .args:
 * expected an array of strings". */
int oci_process_parse (const char *text, const char *source,
                       struct oci_process **out, hy_error_t *err);

/* The same from a parsed tree: `v` found at `at` (errors name the path). */
int oci_parse_process (yajl_val v, const oci_jpath *at,
                       struct oci_process **out, hy_error_t *err);

/* Write the process object as a value (no key) into g. */
void oci_gen_process_value (yajl_gen g, const struct oci_process *p);

/* Serialize to JSON (two-space indent when pretty).  Caller frees. */
char *oci_process_to_json (const struct oci_process *p, bool pretty);

void oci_process_free (struct oci_process *p);

static inline void
oci_process_freep (struct oci_process **p)
{
  oci_process_free (*p);
}
#define _cleanup_process_ __attribute__ ((cleanup (oci_process_freep)))

/* "0-3,7": comma-separated CPU numbers and ascending ranges; "" is valid
 * (the spec's "leave the affinity alone"). */
bool oci_is_valid_cpu_list (const char *s);

/* ---- hooks ---- */

struct oci_hook
{
  char *path; /* required, absolute */
  char **args;
  char **env;
  int64_t timeout; /* seconds, > 0 */
  bool has_timeout;
};

enum oci_hook_kind
{
  OCI_HOOK_PRESTART,
  OCI_HOOK_CREATE_RUNTIME,
  OCI_HOOK_CREATE_CONTAINER,
  OCI_HOOK_START_CONTAINER,
  OCI_HOOK_POSTSTART,
  OCI_HOOK_POSTSTOP,
  OCI_HOOK_KINDS
};

/* "prestart", "createRuntime", ... */
extern const char *const oci_hook_kind_names[OCI_HOOK_KINDS];

struct oci_hooks
{
  struct oci_hook *list[OCI_HOOK_KINDS];
  size_t count[OCI_HOOK_KINDS];
  bool present[OCI_HOOK_KINDS]; /* key present (maybe with []) */
};

/* ---- linux ---- */

enum oci_namespace_type
{
  OCI_NS_PID,
  OCI_NS_NETWORK,
  OCI_NS_MOUNT,
  OCI_NS_IPC,
  OCI_NS_UTS,
  OCI_NS_USER,
  OCI_NS_CGROUP,
  OCI_NS_TIME,
  OCI_NS_TYPES
};

/* "pid", "network", ... in enum order */
extern const char *const oci_namespace_names[OCI_NS_TYPES];

struct oci_namespace
{
  enum oci_namespace_type type;
  char *path; /* absolute, or NULL for a new namespace */
};

/* linux.timeOffsets.monotonic / .boottime; both members are optional. */
struct oci_time_offset
{
  int64_t secs;
  uint32_t nanosecs; /* < 1000000000 */
  bool has_secs, has_nanosecs;
  bool present; /* the clock's key was present */
};

struct oci_device
{
  char type; /* 'c', 'b', 'u' or 'p' */
  char *path; /* required, absolute */
  int64_t major, minor; /* required except for 'p' */
  bool has_major, has_minor;
  uint32_t file_mode;
  bool has_file_mode;
  uint32_t uid, gid;
  bool has_uid, has_gid;
};

struct oci_device_rule
{
  bool allow; /* required */
  char type; /* 'a', 'c' or 'b'; 0 when absent (means all) */
  int64_t major, minor; /* -1 (or absent) means any */
  bool has_major, has_minor;
  char *access; /* as given: its r, w and m count, other letters are
                   ignored (as runc does); NULL or "" means "rwm" */
};

struct oci_memory
{
  int64_t limit, reservation, swap, kernel, kernel_tcp;
  bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp;
  uint64_t swappiness; /* 0..100 */
  bool has_swappiness;
  bool disable_oom_killer, has_disable_oom_killer;
  bool use_hierarchy, has_use_hierarchy;
  bool check_before_update, has_check_before_update;
};

struct oci_cpu
{
  uint64_t shares;
  int64_t quota;
  uint64_t burst;
  uint64_t period;
  int64_t realtime_runtime;
  uint64_t realtime_period;
  char *cpus;
  char *mems;
  int64_t idle;
  bool has_shares, has_quota, has_burst, has_period, has_realtime_runtime,
      has_realtime_period, has_idle;
};

struct oci_weight_device
{
  int64_t major, minor;
  uint16_t weight, leaf_weight;
  bool has_weight, has_leaf_weight;
};

struct oci_throttle_device
{
  int64_t major, minor;
  uint64_t rate;
};

struct oci_block_io
{
  uint16_t weight, leaf_weight;
  bool has_weight, has_leaf_weight;
  struct oci_weight_device *weight_device;
  size_t n_weight_device;
  struct oci_throttle_device *throttle_read_bps;
  size_t n_throttle_read_bps;
  struct oci_throttle_device *throttle_write_bps;
  size_t n_throttle_write_bps;
  struct oci_throttle_device *throttle_read_iops;
  size_t n_throttle_read_iops;
  struct oci_throttle_device *throttle_write_iops;
  size_t n_throttle_write_iops;
};

struct oci_hugepage_limit
{
  char *page_size; /* "2MB", "1GB", ... */
  uint64_t limit;
};

struct oci_net_priority
{
  char *name;
  uint32_t priority;
};

struct oci_network
{
  uint32_t class_id;
  bool has_class_id;
  struct oci_net_priority *priorities;
  size_t n_priorities;
};

struct oci_rdma
{
  char *device; /* the key in linux.resources.rdma */
  uint32_t hca_handles, hca_objects;
  bool has_hca_handles, has_hca_objects;
};

struct oci_resources
{
  struct oci_device_rule *devices;
  size_t n_devices;
  bool has_devices; /* distinguishes [] from absent */
  struct oci_memory *memory;
  struct oci_cpu *cpu;
  struct oci_block_io *block_io;
  struct oci_hugepage_limit *hugepage_limits;
  size_t n_hugepage_limits;
  struct oci_network *network;
  int64_t pids_limit;
  bool has_pids; /* "pids" present; its "limit" is required */
  struct oci_rdma *rdma;
  size_t n_rdma;
  oci_strmap unified;
  bool has_unified;
};

struct oci_intel_rdt
{
  char *clos_id;
  char *l3_cache_schema;
  char *mem_bw_schema;
  bool enable_cmt, enable_mbm;
  bool has_enable_cmt, has_enable_mbm;
};

enum oci_seccomp_action
{
  OCI_SCMP_KILL,
  OCI_SCMP_KILL_PROCESS,
  OCI_SCMP_KILL_THREAD,
  OCI_SCMP_TRAP,
  OCI_SCMP_ERRNO,
  OCI_SCMP_TRACE,
  OCI_SCMP_ALLOW,
  OCI_SCMP_LOG,
  OCI_SCMP_NOTIFY,
  OCI_SCMP_ACTIONS
};
/* "SCMP_ACT_KILL", ... in enum order */
extern const char *const oci_seccomp_action_names[OCI_SCMP_ACTIONS];

enum oci_seccomp_op
{
  OCI_SCMP_CMP_NE,
  OCI_SCMP_CMP_LT,
  OCI_SCMP_CMP_LE,
  OCI_SCMP_CMP_EQ,
  OCI_SCMP_CMP_GE,
  OCI_SCMP_CMP_GT,
  OCI_SCMP_CMP_MASKED_EQ,
  OCI_SCMP_OPS
};
/* "SCMP_CMP_NE", ... in enum order */
extern const char *const oci_seccomp_op_names[OCI_SCMP_OPS];

/* Known "SCMP_ARCH_*" names and "SECCOMP_FILTER_FLAG_*" names (NULL-ended). */
extern const char *const oci_seccomp_arch_names[];
extern const char *const oci_seccomp_flag_names[];

struct oci_seccomp_arg
{
  uint32_t index; /* 0..5 */
  uint64_t value;
  uint64_t value_two;
  bool has_value_two;
  enum oci_seccomp_op op;
};

struct oci_seccomp_syscall
{
  char **names; /* at least one */
  enum oci_seccomp_action action;
  uint32_t errno_ret;
  bool has_errno_ret;
  struct oci_seccomp_arg *args;
  size_t n_args;
};

struct oci_seccomp
{
  enum oci_seccomp_action default_action; /* required */
  uint32_t default_errno_ret;
  bool has_default_errno_ret;
  char **architectures;
  char **flags;
  char *listener_path; /* required when any action is SCMP_ACT_NOTIFY */
  char *listener_metadata;
  struct oci_seccomp_syscall *syscalls;
  size_t n_syscalls;
};

struct oci_personality
{
  char *domain; /* "LINUX" | "LINUX32" */
  char **flags;
};

struct oci_net_device
{
  char *host_name; /* the key in linux.netDevices */
  char *name;      /* name inside the container; NULL keeps host_name */
};

/* As in oci_process: booleans are written when true or when their has_*
 * flag is set; arrays of structs anywhere under linux (resources and
 * seccomp included) are non-NULL with a count of 0 for [], NULL when
 * absent. */
struct oci_linux
{
  struct oci_namespace *namespaces;
  size_t n_namespaces;
  struct oci_idmap *uid_mappings;
  size_t n_uid_mappings;
  struct oci_idmap *gid_mappings;
  size_t n_gid_mappings;
  struct oci_time_offset time_monotonic;
  struct oci_time_offset time_boottime;
  struct oci_device *devices;
  size_t n_devices;
  char *cgroups_path;
  struct oci_resources *resources;
  struct oci_intel_rdt *intel_rdt;
  oci_strmap sysctl;
  bool has_sysctl;
  struct oci_seccomp *seccomp;
  char *rootfs_propagation;
  char **masked_paths;
  char **readonly_paths;
  char *mount_label;
  struct oci_personality *personality;
  struct oci_net_device *net_devices;
  size_t n_net_devices;
};

/* ---- the document ---- */

struct oci_config
{
  char *oci_version; /* required */
  struct oci_root *root; /* required on Linux */
  struct oci_mount *mounts;
  size_t n_mounts;
  bool has_mounts;
  struct oci_process *process;
  char *hostname;
  char *domainname;
  struct oci_hooks *hooks;
  oci_strmap annotations;
  bool has_annotations;
  struct oci_linux *linux_;
};

/* Parse and validate.  `source` names the document in errors, e.g.
 * "config.json: .process.cwd: must be an absolute path". */
int oci_config_parse (const char *text, const char *source,
                      struct oci_config **out, hy_error_t *err);

/* The same from a parsed tree (config.json as a member of a larger
 * document: the guest agent's create request); doc stays the caller's. */
int oci_config_from_tree (yajl_val doc, const char *source,
                          struct oci_config **out, hy_error_t *err);

/* Read `path` (at most 16 MiB) and parse it; errors start with `path`. */
int oci_config_load_file (const char *path, struct oci_config **out,
                          hy_error_t *err);

/* Serialize to JSON (two-space indent when pretty).  Caller frees. */
char *oci_config_to_json (const struct oci_config *c, bool pretty);

/* Write the document as a value into g. */
void oci_gen_config (yajl_gen g, const struct oci_config *c);

void oci_config_free (struct oci_config *c);

static inline void
oci_config_freep (struct oci_config **c)
{
  oci_config_free (*c);
}
#define _cleanup_config_ __attribute__ ((cleanup (oci_config_freep)))

/* Helpers shared by the section parsers (oci/config-*.c). */
int oci_parse_idmaps (yajl_val obj, const oci_jpath *at, const char *key,
                      struct oci_idmap **out, size_t *n, hy_error_t *err);
void oci_gen_idmaps (yajl_gen g, const char *key, const struct oci_idmap *m,
                     size_t n);
bool oci_is_absolute_path (const char *p);

#endif
