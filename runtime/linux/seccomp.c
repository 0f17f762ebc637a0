#include "runtime/linux/seccomp.h"

#include <ctype.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/json.h"
#include "runtime/linux/seccomp-enosys.h"
#include "version.h"

#define SCMP_ARCH_PREFIX "SCMP_ARCH_"
#define SYSCALL_ARGS_MAX 6

struct hy_seccomp
{
  scmp_filter_ctx ctx;
  bool uses_notify;
  uint32_t *arches; /* linux.seccomp.architectures, resolved */
  size_t n_arches;
  unsigned int load_flags; /* SECCOMP_FILTER_FLAG_* */
  struct sock_filter *prog; /* the -ENOSYS stub, then libseccomp's */
  size_t prog_len;
};

static const char *
action_name (enum oci_seccomp_action a)
{
  return a < OCI_SCMP_ACTIONS ? oci_seccomp_action_names[a] : "?";
}

/* ---- actions ---- */

static bool
action_takes_errno (enum oci_seccomp_action a)
{
  return a == OCI_SCMP_ERRNO || a == OCI_SCMP_TRACE;
}

static int
check_errno_ret (enum oci_seccomp_action a, bool has_errno_ret,
                 uint32_t errno_ret, hy_error_t *err)
{
  if (!has_errno_ret)
    return 0;
  if (!action_takes_errno (a))
    return hy_error (err, EINVAL,
                     "errnoRet %u given with %s: only SCMP_ACT_ERRNO and "
                     "SCMP_ACT_TRACE take one",
                     errno_ret, action_name (a));
  if (errno_ret > UINT16_MAX)
    return hy_error (err, EINVAL,
                     "errnoRet %u does not fit in seccomp's 16 bits",
                     errno_ret);
  return 0;
}

/* The libseccomp action; errnoRet defaults to EPERM, as in runc. */
static int
scmp_action (enum oci_seccomp_action a, bool has_errno_ret, uint32_t errno_ret,
             uint32_t *out, hy_error_t *err)
{
  if (check_errno_ret (a, has_errno_ret, errno_ret, err) < 0)
    return -1;
  uint16_t data = has_errno_ret ? (uint16_t) errno_ret : EPERM;
  switch (a)
    {
    case OCI_SCMP_KILL:
    case OCI_SCMP_KILL_THREAD:
      *out = SCMP_ACT_KILL_THREAD;
      return 0;
    case OCI_SCMP_KILL_PROCESS:
      *out = SCMP_ACT_KILL_PROCESS;
      return 0;
    case OCI_SCMP_TRAP:
      *out = SCMP_ACT_TRAP;
      return 0;
    case OCI_SCMP_ERRNO:
      *out = SCMP_ACT_ERRNO (data);
      return 0;
    case OCI_SCMP_TRACE:
      *out = SCMP_ACT_TRACE (data);
      return 0;
    case OCI_SCMP_ALLOW:
      *out = SCMP_ACT_ALLOW;
      return 0;
    case OCI_SCMP_LOG:
      *out = SCMP_ACT_LOG;
      return 0;
    case OCI_SCMP_NOTIFY:
      *out = SCMP_ACT_NOTIFY;
      return 0;
    case OCI_SCMP_ACTIONS:
      break;
    }
  return hy_error (err, EINVAL, "unknown seccomp action %d", (int) a);
}

/* ---- filter attributes ---- */

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

static int
set_attr (struct hy_seccomp *f, enum scmp_filter_attr attr, uint32_t value,
          const char *what, hy_error_t *err)
{
  int rc = seccomp_attr_set (f->ctx, attr, value);
  if (rc < 0)
    return hy_error (err, -rc, "set %s", what);
  return 0;
}

/* hyrun loads the program itself (with the -ENOSYS stub in front), so the
 * flags go to seccomp(2), not to libseccomp. */
static int
apply_flag (struct hy_seccomp *f, const char *flag, hy_error_t *err)
{
  if (strcmp (flag, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
    f->load_flags |= SECCOMP_FILTER_FLAG_TSYNC;
  else if (strcmp (flag, "SECCOMP_FILTER_FLAG_LOG") == 0)
    f->load_flags |= SECCOMP_FILTER_FLAG_LOG;
  else if (strcmp (flag, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
    f->load_flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  else if (strcmp (flag, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0)
    {
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
      f->load_flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
#else
      return hy_error (err, EOPNOTSUPP,
                       "flag %s is not supported by libseccomp "
                       "%d.%d.%d (needs 2.6.0)",
                       flag, SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO);
#endif
    }
  else
    return hy_error (err, EINVAL, "unknown flag \"%s\"", flag);
  return 0;
}

static int
apply_flags (struct hy_seccomp *f, char *const *flags, hy_error_t *err)
{
  for (size_t i = 0; flags && flags[i]; i++)
    if (apply_flag (f, flags[i], err) < 0)
      return -1;
  return 0;
}

/* ---- architectures ---- */

/* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64". */
static uint32_t
resolve_arch (const char *name)
{
  if (!str_has_prefix (name, SCMP_ARCH_PREFIX))
    return 0;
  _cleanup_free_ char *lower = xstrdup (name + strlen (SCMP_ARCH_PREFIX));
  for (char *p = lower; *p; p++)
    *p = (char) tolower ((unsigned char) *p);
  return seccomp_arch_resolve_name (lower);
}

static int
add_arches (struct hy_seccomp *f, char *const *arches, hy_error_t *err)
{
  for (size_t i = 0; arches && arches[i]; i++)
    {
      uint32_t arch = resolve_arch (arches[i]);
      if (arch == 0)
        return hy_error (err, EINVAL,
                         "architecture \"%s\" is not known to "
                         "libseccomp %d.%d.%d",
                         arches[i], SCMP_VER_MAJOR, SCMP_VER_MINOR,
                         SCMP_VER_MICRO);
      int rc = seccomp_arch_add (f->ctx, arch);
      if (rc < 0 && rc != -EEXIST)
        return hy_error (err, -rc, "add architecture %s", arches[i]);
      f->arches = xrealloc (f->arches, (f->n_arches + 1) * sizeof (uint32_t));
      f->arches[f->n_arches++] = arch;
    }
  return 0;
}

/* ---- rules ---- */

static int
scmp_compare (const struct oci_seccomp_arg *a, struct scmp_arg_cmp *out,
              hy_error_t *err)
{
  static const enum scmp_compare ops[OCI_SCMP_OPS] = {
    [OCI_SCMP_CMP_NE] = SCMP_CMP_NE,
    [OCI_SCMP_CMP_LT] = SCMP_CMP_LT,
    [OCI_SCMP_CMP_LE] = SCMP_CMP_LE,
    [OCI_SCMP_CMP_EQ] = SCMP_CMP_EQ,
    [OCI_SCMP_CMP_GE] = SCMP_CMP_GE,
    [OCI_SCMP_CMP_GT] = SCMP_CMP_GT,
    [OCI_SCMP_CMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
  };
  if ((unsigned) a->op >= OCI_SCMP_OPS)
    return hy_error (err, EINVAL, "unknown comparison %d", (int) a->op);
  /* For SCMP_CMP_MASKED_EQ, datum_a is the mask and datum_b the value:
   * value/valueTwo map to them as runc maps them. */
  *out = (struct scmp_arg_cmp){ .arg = a->index,
                                .op = ops[a->op],
                                .datum_a = a->value,
                                .datum_b = a->value_two };
  return 0;
}

/* libseccomp rejects two comparisons of one argument in one rule; like
 * runc and crun, such conditions then become one rule each (an OR). */
static bool
args_share_index (const struct oci_seccomp_arg *args, size_t n)
{
  unsigned seen = 0;
  for (size_t i = 0; i < n; i++)
    {
      unsigned bit = 1u << args[i].index;
      if (seen & bit)
        return true;
      seen |= bit;
    }
  return false;
}

static int
add_rule (struct hy_seccomp *f, uint32_t action, int nr, const char *name,
          const struct scmp_arg_cmp *cmps, unsigned n, hy_error_t *err)
{
  int rc = seccomp_rule_add_array (f->ctx, action, nr, n, cmps);
  if (rc < 0)
    return hy_error (err, -rc, "add rule for %s", name);
  return 0;
}

static int
add_syscall_rules (struct hy_seccomp *f, const struct oci_seccomp_syscall *sc,
                   uint32_t action, int nr, const char *name, hy_error_t *err)
{
  struct scmp_arg_cmp cmps[SYSCALL_ARGS_MAX];
  for (size_t i = 0; i < sc->n_args; i++)
    if (sc->args[i].index >= SYSCALL_ARGS_MAX)
      return hy_error (err, EINVAL, "args[%zu]: index %u out of range 0-5", i,
                       sc->args[i].index);
  /* With distinct indexes there are at most SYSCALL_ARGS_MAX of them. */
  bool separate = args_share_index (sc->args, sc->n_args);
  size_t n = 0;
  for (size_t i = 0; i < sc->n_args; i++)
    {
      struct scmp_arg_cmp *slot = &cmps[separate ? 0 : n++];
      if (scmp_compare (&sc->args[i], slot, err) < 0)
        return hy_error_prepend (err, "args[%zu]", i);
      if (separate && add_rule (f, action, nr, name, slot, 1, err) < 0)
        return -1;
    }
  if (separate)
    return 0;
  return add_rule (f, action, nr, name, cmps, (unsigned) n, err);
}

static int
add_syscall (struct hy_seccomp *f, const struct oci_seccomp_syscall *sc,
             uint32_t default_action, hy_error_t *err)
{
  uint32_t action;
  if (scmp_action (sc->action, sc->has_errno_ret, sc->errno_ret, &action, err)
      < 0)
    return -1;
  if (action == default_action)
    return 0;
  for (size_t i = 0; sc->names && sc->names[i]; i++)
    {
      int nr = seccomp_syscall_resolve_name (sc->names[i]);
      if (nr == __NR_SCMP_ERROR)
        continue; /* unknown to libseccomp or this kernel: runc skips it */
      if (add_syscall_rules (f, sc, action, nr, sc->names[i], err) < 0)
        return -1;
      if (action == SCMP_ACT_NOTIFY)
        f->uses_notify = true;
    }
  return 0;
}

static int
add_syscalls (struct hy_seccomp *f, const struct oci_seccomp *s,
              uint32_t default_action, hy_error_t *err)
{
  for (size_t i = 0; i < s->n_syscalls; i++)
    if (add_syscall (f, &s->syscalls[i], default_action, err) < 0)
      return hy_error_prepend (err, "syscalls[%zu]", i);
  return 0;
}

/* ---- build, load ---- */

static int
init_filter (struct hy_seccomp *f, const struct oci_seccomp *s,
             uint32_t *default_action, hy_error_t *err)
{
  if (scmp_action (s->default_action, s->has_default_errno_ret,
                   s->default_errno_ret, default_action, err)
      < 0)
    return hy_error_prepend (err, "defaultAction");
  f->ctx = seccomp_init (*default_action);
  if (f->ctx == NULL)
    return hy_error (err, EINVAL, "init with default action %s",
                     action_name (s->default_action));
  f->uses_notify = *default_action == SCMP_ACT_NOTIFY;
  /* noNewPrivileges is the runtime's decision, not libseccomp's; and
   * report the kernel's errno rather than ECANCELED. */
  if (set_attr (f, SCMP_FLTATR_CTL_NNP, 0, "no_new_privs off", err) < 0
      || set_attr (f, SCMP_FLTATR_API_SYSRAWRC, 1, "raw return codes", err)
             < 0)
    return -1;
  return 0;
}

/* libseccomp's program, as seccomp_export_bpf() writes it. */
static int
export_bpf (struct hy_seccomp *f, struct sock_filter **prog, size_t *len,
            hy_error_t *err)
{
  _cleanup_close_ int fd = memfd_create ("hyrun-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return hy_error_errno (err, "memfd_create");
  int rc = seccomp_export_bpf (f->ctx, fd);
  if (rc < 0)
    return hy_error (err, -rc, "export the filter");
  struct stat st;
  if (fstat (fd, &st) < 0)
    return hy_error_errno (err, "stat the exported filter");
  size_t size = (size_t) st.st_size;
  if (size == 0 || size % sizeof (struct sock_filter) != 0)
    return hy_error (err, EINVAL, "the exported filter has %zu bytes", size);
  *prog = xmalloc0 (size);
  if (pread (fd, *prog, size, 0) != (ssize_t) size)
    {
      free (*prog);
      *prog = NULL;
      return hy_error_errno (err, "read the exported filter");
    }
  *len = size / sizeof (struct sock_filter);
  return 0;
}

/* The program to load: the -ENOSYS stub, then libseccomp's. */
static int
make_program (struct hy_seccomp *f, const struct oci_seccomp *s,
              hy_error_t *err)
{
  _cleanup_free_ struct hy_enosys_arch *arches = NULL;
  size_t n = hy_enosys_arches (s, f->arches, f->n_arches, &arches);
  _cleanup_free_ struct sock_filter *stub = NULL, *body = NULL;
  size_t stub_len = 0, body_len = 0;
  if (hy_enosys_stub (arches, n, &stub, &stub_len, err) < 0
      || export_bpf (f, &body, &body_len, err) < 0)
    return -1;
  if (stub_len + body_len > BPF_MAXINSNS)
    return hy_error (err, E2BIG,
                     "the filter has %zu instructions, the kernel takes %d",
                     stub_len + body_len, BPF_MAXINSNS);
  f->prog = xmalloc0 ((stub_len + body_len) * sizeof (*f->prog));
  if (stub_len)
    memcpy (f->prog, stub, stub_len * sizeof (*stub));
  memcpy (f->prog + stub_len, body, body_len * sizeof (*body));
  f->prog_len = stub_len + body_len;
  return 0;
}

int
hy_seccomp_build (const struct oci_seccomp *s, struct hy_seccomp **out,
                  hy_error_t *err)
{
  struct hy_seccomp *f = xmalloc0 (sizeof (*f));
  uint32_t default_action;
  if (init_filter (f, s, &default_action, err) < 0
      || apply_flags (f, s->flags, err) < 0
      || add_arches (f, s->architectures, err) < 0
      || add_syscalls (f, s, default_action, err) < 0
      || make_program (f, s, err) < 0)
    {
      hy_seccomp_free (f);
      return hy_error_prepend (err, "seccomp");
    }
  *out = f;
  return 0;
}

bool
hy_seccomp_uses_notify (const struct hy_seccomp *f)
{
  return f->uses_notify;
}

int
hy_seccomp_load (struct hy_seccomp *f, int *notify_fd, hy_error_t *err)
{
  if (notify_fd)
    *notify_fd = -1;
  if (f->uses_notify && notify_fd == NULL)
    return hy_error (err, EINVAL,
                     "seccomp: the filter uses SCMP_ACT_NOTIFY but nobody "
                     "takes the listener fd");
  unsigned int flags = f->load_flags;
  if (f->uses_notify)
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  /* With a listener, TSYNC reports a failed thread as ESRCH instead of
   * returning its id where the fd would be. */
  if ((flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
      && (flags & SECCOMP_FILTER_FLAG_TSYNC))
    flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  struct sock_fprog prog
      = { .len = (unsigned short) f->prog_len, .filter = f->prog };
  long rc = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0 && errno == EACCES)
    return hy_error (err, EACCES,
                     "seccomp: load the filter (without no_new_privs this "
                     "needs CAP_SYS_ADMIN)");
  if (rc < 0)
    return hy_error_errno (err, "seccomp: load the filter");
  if ((flags & SECCOMP_FILTER_FLAG_TSYNC) && !f->uses_notify && rc > 0)
    return hy_error (err, 0,
                     "seccomp: thread %ld could not take the filter (TSYNC)",
                     rc);
  if (f->uses_notify)
    *notify_fd = (int) rc;
  return 0;
}

void
hy_seccomp_free (struct hy_seccomp *f)
{
  if (f == NULL)
    return;
  if (f->ctx)
    seccomp_release (f->ctx);
  free (f->arches);
  free (f->prog);
  free (f);
}

/* ---- the seccomp agent ---- */

static bool
gen_value (yajl_gen g, yajl_val v)
{
  if (YAJL_IS_OBJECT (v))
    {
      bool ok = yajl_gen_map_open (g) == yajl_gen_status_ok;
      for (size_t i = 0; ok && i < v->u.object.len; i++)
        ok = yajl_gen_string (g, (const unsigned char *) v->u.object.keys[i],
                              strlen (v->u.object.keys[i]))
                 == yajl_gen_status_ok
             && gen_value (g, v->u.object.values[i]);
      return ok && yajl_gen_map_close (g) == yajl_gen_status_ok;
    }
  if (YAJL_IS_ARRAY (v))
    {
      bool ok = yajl_gen_array_open (g) == yajl_gen_status_ok;
      for (size_t i = 0; ok && i < v->u.array.len; i++)
        ok = gen_value (g, v->u.array.values[i]);
      return ok && yajl_gen_array_close (g) == yajl_gen_status_ok;
    }
  if (YAJL_IS_STRING (v))
    return yajl_gen_string (g, (const unsigned char *) v->u.string,
                            strlen (v->u.string))
           == yajl_gen_status_ok;
  if (YAJL_IS_NUMBER (v))
    return yajl_gen_number (g, v->u.number.r, strlen (v->u.number.r))
           == yajl_gen_status_ok;
  if (YAJL_IS_TRUE (v) || YAJL_IS_FALSE (v))
    return yajl_gen_bool (g, YAJL_IS_TRUE (v)) == yajl_gen_status_ok;
  return yajl_gen_null (g) == yajl_gen_status_ok;
}

static void
yajl_tree_freep (yajl_val *v)
{
  if (*v)
    yajl_tree_free (*v);
}

static int
process_state_json (const char *state_json, const char *metadata, char **out,
                    size_t *len, hy_error_t *err)
{
  __attribute__ ((cleanup (yajl_tree_freep))) yajl_val state = NULL;
  int64_t pid = 0;
  if (oci_json_parse (state_json, &state, err) < 0
      || oci_json_expect_object (state, JPATH_ROOT, err) < 0
      || oci_json_int64 (state, JPATH_ROOT, "pid", true, 1, INT32_MAX, &pid,
                         NULL, err)
             < 0)
    return hy_error_prepend (err, "container state");

  yajl_gen g = oci_gen_new (false);
  yajl_gen_map_open (g);
  oci_gen_kv_str (g, "ociVersion", HYRUN_OCI_VERSION);
  oci_gen_key (g, "fds");
  yajl_gen_array_open (g);
  oci_gen_str (g, "seccompFd");
  yajl_gen_array_close (g);
  oci_gen_kv_int (g, "pid", pid);
  if (metadata)
    oci_gen_kv_str (g, "metadata", metadata);
  oci_gen_key (g, "state");
  bool ok = gen_value (g, state);
  yajl_gen_map_close (g);
  *out = oci_gen_finish (g, len);
  if (!ok)
    {
      free (steal_pointer (out));
      return hy_error (err, 0, "container state: cannot be re-encoded");
    }
  return 0;
}

static int
connect_listener (const char *path, int *out, hy_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof (addr.sun_path))
    return hy_error (err, ENAMETOOLONG, "seccomp listener `%s`", path);
  strcpy (addr.sun_path, path);
  _cleanup_close_ int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return hy_error_errno (err, "socket");
  if (connect (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    return hy_error_errno (err, "connect to seccomp listener `%s`", path);
  *out = steal_fd (&fd);
  return 0;
}

/* The fd goes with the first sendmsg(); the rest of a long document
 * follows without it, as the spec allows. */
static int
send_with_fd (int sock, const char *buf, size_t len, int fd, hy_error_t *err)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  memset (&control, 0, sizeof (control));
  struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof (control.buf) };
  struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &fd, sizeof (int));

  size_t sent = 0;
  while (sent < len)
    {
      ssize_t n = sent == 0
                      ? sendmsg (sock, &msg, MSG_NOSIGNAL)
                      : send (sock, buf + sent, len - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return hy_error_errno (err, "send the container process state");
      sent += (size_t) n;
    }
  return 0;
}

int
hy_seccomp_send_listener (const char *listener_path, int notify_fd,
                          const char *state_json, const char *metadata,
                          hy_error_t *err)
{
  _cleanup_free_ char *doc = NULL;
  size_t len = 0;
  _cleanup_close_ int sock = -1;
  if (process_state_json (state_json, metadata, &doc, &len, err) < 0
      || connect_listener (listener_path, &sock, err) < 0
      || send_with_fd (sock, doc, len, notify_fd, err) < 0)
    return hy_error_prepend (err, "seccomp notify");
  return 0;
}
