#include "runtime/ps.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

#define PS_OUTPUT_MAX (64u << 20)

extern char **environ;

int
hy_container_pids (struct hy_container *c, pid_t **pids, size_t *n,
                   hy_error_t *err)
{
  *pids = NULL;
  *n = 0;
  if (c->cgroup == NULL)
    return hy_error (err, 0, "container \"%s\" has no cgroup", c->status.id);
  _cleanup_error_ hy_error_t pids_err = NULL;
  if (hy_cgroup_pids (c->cgroup, pids, n, &pids_err) == 0)
    return 0;
  if (pids_err->errnum == ENOENT
      && hy_container_status (c) == OCI_STATUS_STOPPED)
    return 0;
  return hy_error (err, pids_err->errnum,
                   "list the processes of container \"%s\": %s",
                   c->status.id, pids_err->msg);
}

char *
hy_ps_json (const pid_t *pids, size_t n)
{
  if (n == 0)
    return xstrdup ("null");
  char *out = xmalloc0 (n * 12 + 3);
  char *p = out;
  *p++ = '[';
  for (size_t i = 0; i < n; i++)
    p += sprintf (p, "%s%d", i ? "," : "", (int) pids[i]);
  strcpy (p, "]");
  return out;
}

/* ---- table ---- */

static int
read_all (int fd, char **out, hy_error_t *err)
{
  size_t used = 0, cap = 8192;
  _cleanup_free_ char *buf = xmalloc0 (cap + 1);
  for (;;)
    {
      if (used == cap)
        {
          if (cap >= PS_OUTPUT_MAX)
            return hy_error (err, EFBIG, "ps printed more than %u bytes",
                             PS_OUTPUT_MAX);
          cap *= 2;
          buf = xrealloc (buf, cap + 1);
        }
      ssize_t r = read (fd, buf + used, cap - used);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return hy_error_errno (err, "read the output of ps");
      if (r == 0)
        break;
      used += (size_t) r;
    }
  buf[used] = '\0';
  *out = steal_pointer (&buf);
  return 0;
}

/* The first non-empty line of ps's complaint, for a one-line error. */
static char *
first_line (const char *text)
{
  text += strspn (text, "\n");
  return xstrndup (text, strcspn (text, "\n"));
}

static int
wait_ps (pid_t pid, const char *output, hy_error_t *err)
{
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return hy_error_errno (err, "wait for ps");
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  _cleanup_free_ char *line = first_line (output);
  if (WIFEXITED (status))
    return hy_error (err, 0, "`ps` exited with status %d: %s",
                     WEXITSTATUS (status), line);
  return hy_error (err, 0, "`ps` was killed by signal %d: %s",
                   WTERMSIG (status), line);
}

/* ps with stdout and stderr into one pipe, as runc's CombinedOutput. */
static int
run_ps (char *const *args, char **output, hy_error_t *err)
{
  size_t n_args = args ? strv_len (args) : 0;
  _cleanup_free_ char **argv = xmalloc0 ((n_args + 3) * sizeof (char *));
  argv[0] = (char *) "ps";
  for (size_t i = 0; i < n_args; i++)
    argv[i + 1] = args[i];
  if (n_args == 0)
    argv[1] = (char *) "-ef";
  int fds[2];
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return hy_error_errno (err, "pipe");
  _cleanup_close_ int rd = fds[0];
  _cleanup_close_ int wr = fds[1];
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, wr, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2 (&fa, wr, STDERR_FILENO);
  pid_t pid;
  int r = posix_spawnp (&pid, "ps", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  if (r != 0)
    return hy_error (err, r, "run ps");
  close (steal_fd (&wr));
  _cleanup_free_ char *text = NULL;
  r = read_all (rd, &text, err);
  if (wait_ps (pid, text ? text : "", r < 0 ? NULL : err) < 0 || r < 0)
    return -1;
  *output = steal_pointer (&text);
  return 0;
}

/* Whitespace-separated field `index` of `line`, or NULL. */
static char *
field (const char *line, size_t index)
{
  const char *p = line;
  for (size_t i = 0;; i++)
    {
      p += strspn (p, " \t");
      if (*p == '\0')
        return NULL;
      size_t len = strcspn (p, " \t");
      if (i == index)
        return xstrndup (p, len);
      p += len;
    }
}

static int
pid_column (const char *header, size_t *index, hy_error_t *err)
{
  for (size_t i = 0;; i++)
    {
      _cleanup_free_ char *name = field (header, i);
      if (name == NULL)
        return hy_error (err, 0, "couldn't find PID field in ps output");
      if (str_eq (name, "PID"))
        {
          *index = i;
          return 0;
        }
    }
}

static bool
has_pid (const pid_t *pids, size_t n, long long pid)
{
  for (size_t i = 0; i < n; i++)
    if (pids[i] == pid)
      return true;
  return false;
}

static int
line_in_container (const char *line, size_t index, const pid_t *pids,
                   size_t n, bool *in, hy_error_t *err)
{
  _cleanup_free_ char *value = field (line, index);
  long long pid;
  if (value == NULL || parse_int64 (value, 0, INT32_MAX, &pid) < 0)
    return hy_error (err, 0, "unable to parse pid from ps line \"%s\"", line);
  *in = has_pid (pids, n, pid);
  return 0;
}

int
hy_ps_table (const pid_t *pids, size_t n, char *const *args, FILE *out,
             hy_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  if (run_ps (args, &text, err) < 0)
    return -1;
  char *save = NULL;
  char *header = strtok_r (text, "\n", &save);
  size_t col = 0;
  if (pid_column (header ? header : "", &col, err) < 0)
    return -1;
  fprintf (out, "%s\n", header);
  for (char *line; (line = strtok_r (NULL, "\n", &save));)
    {
      bool in = false;
      if (line_in_container (line, col, pids, n, &in, err) < 0)
        return -1;
      if (in)
        fprintf (out, "%s\n", line);
    }
  return 0;
}
