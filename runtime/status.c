#include "runtime/status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/json.h"
#include "runtime/container.h"
#include "version.h"

#define STATUS_MAX_SIZE (1u << 20)

int
hy_status_write (int dirfd, const struct hy_status *s, hy_error_t *err)
{
  yajl_gen g = oci_gen_new (false);
  yajl_gen_map_open (g);
  oci_gen_kv_str (g, "id", s->id);
  oci_gen_kv_str (g, "bundle", s->bundle);
  oci_gen_kv_str (g, "rootfs", s->rootfs);
  oci_gen_kv_str (g, "created", s->created);
  oci_gen_kv_str (g, "owner", s->owner);
  oci_gen_kv_str (g, "isolation", hy_isolation_name (s->isolation));
  oci_gen_kv_str (g, "cgroup", s->cgroup);
  oci_gen_kv_bool (g, "detached", s->detached);
  yajl_gen_map_close (g);
  size_t len;
  _cleanup_free_ char *text = oci_gen_finish (g, &len);

  _cleanup_free_ char *path = xasprintf ("/proc/self/fd/%d/%s", dirfd,
                                         HY_STATUS_FILE);
  return write_file_atomic (path, text, len, 0600, err);
}

int
hy_status_write_init (int dirfd, const struct hy_status *s, hy_error_t *err)
{
  char text[64];
  int n = snprintf (text, sizeof (text), "%d %llu\n", s->pid, s->pid_start);
  _cleanup_free_ char *path = xasprintf ("/proc/self/fd/%d/%s", dirfd,
                                         HY_INIT_FILE);
  return write_file_atomic (path, text, (size_t) n, 0600, err);
}

/* The init file: absent while the container is being created. */
static int
read_init (int dirfd, struct hy_status *s, hy_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  _cleanup_error_ hy_error_t read_err = NULL;
  if (read_file_at (dirfd, HY_INIT_FILE, 64, &text, NULL, &read_err) < 0)
    {
      if (read_err->errnum == ENOENT)
        return 0;
      *err = steal_pointer (&read_err);
      return -1;
    }
  int pid;
  if (sscanf (text, "%d %llu", &pid, &s->pid_start) != 2 || pid <= 0)
    return hy_error (err, 0, "%s: malformed", HY_INIT_FILE);
  s->pid = pid;
  return 0;
}

static int
parse_status (yajl_val doc, struct hy_status *s, hy_error_t *err)
{
  _cleanup_free_ char *isolation = NULL;
  if (oci_json_expect_object (doc, JPATH_ROOT, err) < 0
      || oci_json_string (doc, JPATH_ROOT, "id", true, &s->id, err) < 0
      || oci_json_string (doc, JPATH_ROOT, "bundle", true, &s->bundle, err)
             < 0
      || oci_json_string (doc, JPATH_ROOT, "rootfs", true, &s->rootfs, err)
             < 0
      || oci_json_string (doc, JPATH_ROOT, "created", true, &s->created, err)
             < 0
      || oci_json_string (doc, JPATH_ROOT, "owner", false, &s->owner, err) < 0
      || oci_json_string (doc, JPATH_ROOT, "isolation", true, &isolation, err)
             < 0
      || oci_json_string (doc, JPATH_ROOT, "cgroup", false, &s->cgroup, err)
             < 0
      || oci_json_bool (doc, JPATH_ROOT, "detached", false, &s->detached,
                        NULL, err) < 0)
    return -1;
  if (hy_isolation_from_name (isolation, &s->isolation) < 0)
    return oci_json_key_error (err, JPATH_ROOT, "isolation",
                               "unknown isolation \"%s\"", isolation);
  return 0;
}

int
hy_status_read (int dirfd, struct hy_status *s, hy_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  *s = (struct hy_status){ 0 };
  if (read_file_at (dirfd, HY_STATUS_FILE, STATUS_MAX_SIZE, &text, NULL, err)
      < 0)
    return -1;
  yajl_val doc = NULL;
  if (oci_json_parse (text, &doc, err) < 0)
    return hy_error_prepend (err, "%s", HY_STATUS_FILE);
  int r = parse_status (doc, s, err);
  yajl_tree_free (doc);
  if (r == 0)
    r = read_init (dirfd, s, err);
  if (r < 0)
    {
      hy_status_release (s);
      return hy_error_prepend (err, "%s", HY_STATUS_FILE);
    }
  return 0;
}

void
hy_status_release (struct hy_status *s)
{
  free (s->id);
  free (s->bundle);
  free (s->rootfs);
  free (s->created);
  free (s->owner);
  free (s->cgroup);
  *s = (struct hy_status){ 0 };
}

unsigned long long
hy_process_start_time (pid_t pid)
{
  char path[64], buf[1024];
  snprintf (path, sizeof (path), "/proc/%d/stat", pid);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read (fd, buf, sizeof (buf) - 1);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* The command name may hold spaces and parentheses: skip to the last ')'. */
  char *p = strrchr (buf, ')');
  if (p == NULL || p[1] != ' ')
    return 0;
  char state = p[2];
  if (state == 'Z' || state == 'X')
    return 0;
  unsigned long long start = 0;
  /* Field 3 is the state; the start time is field 22. */
  p += 2;
  for (int field = 3; field < 22 && p; field++)
    p = strchr (p + 1, ' ');
  if (p == NULL || sscanf (p + 1, "%llu", &start) != 1)
    return 0;
  return start;
}

bool
hy_status_init_alive (const struct hy_status *s)
{
  return s->pid > 0 && s->pid_start != 0
         && hy_process_start_time (s->pid) == s->pid_start;
}

enum oci_status
hy_status_current (int dirfd, const struct hy_status *s, bool frozen)
{
  if (s->pid == 0)
    return OCI_STATUS_CREATING;
  if (!hy_status_init_alive (s))
    return OCI_STATUS_STOPPED;
  if (faccessat (dirfd, HY_EXEC_FIFO, F_OK, 0) == 0)
    return OCI_STATUS_CREATED;
  return frozen ? OCI_STATUS_PAUSED : OCI_STATUS_RUNNING;
}

char *
hy_status_state_json (const struct hy_status *s, enum oci_status st,
                      const oci_strmap *annotations, bool pretty)
{
  yajl_gen g = oci_gen_new (pretty);
  yajl_gen_map_open (g);
  oci_gen_kv_str (g, "ociVersion", HYRUN_OCI_VERSION);
  oci_gen_kv_str (g, "id", s->id);
  oci_gen_kv_int (g, "pid", st == OCI_STATUS_STOPPED ? 0 : s->pid);
  oci_gen_kv_str (g, "status", oci_status_name (st));
  oci_gen_kv_str (g, "bundle", s->bundle);
  oci_gen_kv_str (g, "rootfs", s->rootfs);
  oci_gen_kv_str (g, "created", s->created);
  oci_gen_kv_str (g, "owner", s->owner ? s->owner : "");
  if (annotations && annotations->len > 0)
    oci_gen_kv_strmap (g, "annotations", annotations);
  yajl_gen_map_close (g);
  return oci_gen_finish (g, NULL);
}

int
hy_status_lock (const char *root, const char *id, int how, int *dirfd,
                hy_error_t *err)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", root, id);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return hy_error (err, 0, "container \"%s\" does not exist", id);
  if (fd < 0)
    return hy_error_errno (err, "open `%s`", path);
  if (flock (fd, how) < 0)
    return hy_error_errno (err, "lock `%s`", path);
  *dirfd = steal_fd (&fd);
  return 0;
}

int
hy_pid_file_write (const char *path, pid_t pid, hy_error_t *err)
{
  if (path == NULL)
    return 0;
  char buf[32];
  int n = snprintf (buf, sizeof (buf), "%d", (int) pid);
  return write_file_atomic (path, buf, (size_t) n, 0644, err);
}
