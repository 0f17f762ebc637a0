/* What `ps`, `stats` and `signal --all` learn from the guest's /proc. */
#include "guest-agent/agent.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

#define CMD_MAX 4096

/* ---- reading /proc/<pid>/ ---- */

static char *
read_proc_file (pid_t pid, const char *name, size_t max, size_t *len)
{
  char path[64];
  snprintf (path, sizeof (path), "/proc/%d/%s", (int) pid, name);
  char *text = NULL;
  hy_error_t ignored = NULL;
  if (read_file_at (AT_FDCWD, path, max, &text, len, &ignored) < 0)
    {
      hy_error_release (&ignored);
      return NULL;
    }
  return text;
}

/* ppid, utime + stime (clock ticks) from /proc/<pid>/stat, whose comm
 * (field 2) may hold anything: the fields after it follow the last ')'. */
static int
read_stat (pid_t pid, pid_t *ppid, unsigned long long *ticks)
{
  _cleanup_free_ char *text = read_proc_file (pid, "stat", 4096, NULL);
  const char *rest = text ? strrchr (text, ')') : NULL;
  if (rest == NULL)
    return -1;
  int pp = 0;
  unsigned long long ut = 0, st = 0;
  /* ") S ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
   *  utime stime" */
  if (sscanf (rest, ") %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
              &pp, &ut, &st) != 3)
    return -1;
  *ppid = pp;
  *ticks = ut + st;
  return 0;
}

static bool
is_pid_name (const char *s, pid_t *pid)
{
  long long v;
  if (parse_int64 (s, 1, INT32_MAX, &v) < 0)
    return false;
  *pid = (pid_t) v;
  return true;
}

struct pid_list
{
  pid_t *pids;
  pid_t *ppids;
  size_t n, cap;
};

static void
pid_list_add (struct pid_list *l, pid_t pid, pid_t ppid)
{
  if (l->n == l->cap)
    {
      l->cap = l->cap ? 2 * l->cap : 64;
      l->pids = xrealloc (l->pids, l->cap * sizeof (pid_t));
      l->ppids = xrealloc (l->ppids, l->cap * sizeof (pid_t));
    }
  l->pids[l->n] = pid;
  l->ppids[l->n++] = ppid;
}

static void
pid_list_release (struct pid_list *l)
{
  free (l->pids);
  free (l->ppids);
  *l = (struct pid_list){ 0 };
}

/* Every process of the guest with its parent. */
static int
all_processes (struct pid_list *out, hy_error_t *err)
{
  _cleanup_closedir_ DIR *d = opendir ("/proc");
  if (d == NULL)
    return hy_error_errno (err, "open /proc");
  struct dirent *de;
  while ((de = readdir (d)))
    {
      pid_t pid, ppid;
      unsigned long long ticks;
      if (is_pid_name (de->d_name, &pid) && read_stat (pid, &ppid, &ticks) == 0)
        pid_list_add (out, pid, ppid);
    }
  return 0;
}

static bool
in_pid_namespace (const struct container *c, pid_t pid)
{
  char path[64];
  struct stat st;
  snprintf (path, sizeof (path), "/proc/%d/ns/pid", (int) pid);
  return stat (path, &st) == 0 && st.st_dev == c->pidns_dev
         && st.st_ino == c->pidns_ino;
}

static bool
contains (const pid_t *v, size_t n, pid_t pid)
{
  for (size_t i = 0; i < n; i++)
    if (v[i] == pid)
      return true;
  return false;
}

/* Without a pid namespace of its own, the container is what the agent
 * started and their descendants. */
static void
descendants (struct agent *a, const struct pid_list *all, pid_t **out,
             size_t *n)
{
  pid_t *set = xmalloc0 ((all->n + 1) * sizeof (pid_t));
  size_t k = 0;
  for (struct proc *p = a->procs; p; p = p->next)
    if (!p->exited && contains (all->pids, all->n, p->pid))
      set[k++] = p->pid;
  for (bool grew = true; grew;)
    {
      grew = false;
      for (size_t i = 0; i < all->n; i++)
        if (!contains (set, k, all->pids[i])
            && contains (set, k, all->ppids[i]))
          {
            set[k++] = all->pids[i];
            grew = true;
          }
    }
  *out = set;
  *n = k;
}

int
container_pids (struct agent *a, pid_t **out, size_t *n, hy_error_t *err)
{
  const struct container *c = a->container;
  if (c == NULL)
    return hy_error (err, ENOENT, "no container: create it first");
  struct pid_list all = { 0 };
  if (all_processes (&all, err) < 0)
    return -1;
  if (c->pidns_ino == 0)
    descendants (a, &all, out, n);
  else
    {
      pid_t *set = xmalloc0 ((all.n + 1) * sizeof (pid_t));
      size_t k = 0;
      for (size_t i = 0; i < all.n; i++)
        if (in_pid_namespace (c, all.pids[i]))
          set[k++] = all.pids[i];
      *out = set;
      *n = k;
    }
  pid_list_release (&all);
  return 0;
}

/* ---- ps ---- */

/* The value of "Key:\t..." in /proc/<pid>/status. */
static const char *
status_field (const char *text, const char *key)
{
  size_t n = strlen (key);
  for (const char *line = text; line && *line;)
    {
      if (strncmp (line, key, n) == 0 && line[n] == ':')
        return line + n + 1;
      line = strchr (line, '\n');
      if (line)
        line++;
    }
  return NULL;
}

/* The last number of the NSpid line: the pid in the innermost namespace,
 * the container's. */
static pid_t
innermost_pid (const char *nspid)
{
  long v = 0;
  for (const char *p = nspid; p && *p && *p != '\n';)
    {
      char *end;
      long x = strtol (p, &end, 10);
      if (end == p)
        break;
      v = x;
      p = end;
    }
  return (pid_t) v;
}

/* cmdline with spaces for NULs, printable ASCII only (the host parses
 * it as UTF-8 JSON), or "[comm]" for kernel-style processes. */
static char *
command_of (pid_t pid)
{
  size_t len = 0;
  _cleanup_free_ char *raw = read_proc_file (pid, "cmdline", CMD_MAX, &len);
  if (raw == NULL || len == 0)
    {
      _cleanup_free_ char *comm = read_proc_file (pid, "comm", 64, &len);
      if (comm == NULL)
        return xstrdup ("?");
      comm[strcspn (comm, "\n")] = '\0';
      free (raw);
      raw = xasprintf ("[%s]", comm);
      len = strlen (raw);
    }
  while (len > 0 && raw[len - 1] == '\0')
    len--;
  for (size_t i = 0; i < len; i++)
    if (raw[i] == '\0')
      raw[i] = ' ';
    else if (!isprint ((unsigned char) raw[i]))
      raw[i] = '?';
  raw[len] = '\0';
  return steal_pointer (&raw);
}

static int
ps_entry (pid_t pid, struct hy_agent_ps_entry *e, pid_t *host_ppid)
{
  _cleanup_free_ char *status = read_proc_file (pid, "status", 16384, NULL);
  if (status == NULL)
    return -1;
  const char *state = status_field (status, "State");
  const char *uid = status_field (status, "Uid");
  const char *ppid = status_field (status, "PPid");
  const char *nspid = status_field (status, "NSpid");
  if (state == NULL || uid == NULL || ppid == NULL)
    return -1;
  while (*state == ' ' || *state == '\t')
    state++;
  e->state = isalpha ((unsigned char) *state) ? *state : '?';
  e->uid = (uint32_t) strtoul (uid, NULL, 10);
  *host_ppid = (pid_t) strtol (ppid, NULL, 10);
  e->pid = nspid ? innermost_pid (nspid) : pid;
  if (e->pid <= 0)
    e->pid = pid;
  e->cmd = command_of (pid);
  return 0;
}

int
procfs_ps (struct agent *a, struct hy_agent_response *r, hy_error_t *err)
{
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  if (container_pids (a, &pids, &n, err) < 0)
    return -1;
  r->processes = xmalloc0 ((n + 1) * sizeof (*r->processes));
  _cleanup_free_ pid_t *host_ppid = xmalloc0 ((n + 1) * sizeof (pid_t));
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (ps_entry (pids[i], &r->processes[k], &host_ppid[k]) == 0)
      {
        pids[k] = pids[i];
        k++;
      }
  r->n_processes = k;
  /* Parents as the container sees them; outside it: 0. */
  for (size_t i = 0; i < k; i++)
    {
      r->processes[i].ppid = 0;
      for (size_t j = 0; j < k; j++)
        if (pids[j] == host_ppid[i])
          r->processes[i].ppid = r->processes[j].pid;
    }
  return 0;
}

/* ---- stats ---- */

static uint64_t
meminfo_bytes (const char *text, const char *key)
{
  const char *v = status_field (text, key);
  return v ? strtoull (v, NULL, 10) * 1024 : 0;
}

/* CPU time of the container: its cgroup's usage when there is one (it
 * counts exited processes too), else what its live processes used. */
static uint64_t
cpu_ns (struct agent *a, const pid_t *pids, size_t n)
{
  if (a->o.cgroup)
    {
      _cleanup_free_ char *path = xasprintf ("%s/cpu.stat", a->o.cgroup);
      _cleanup_free_ char *text = NULL;
      hy_error_t ignored = NULL;
      if (read_file_at (AT_FDCWD, path, 4096, &text, NULL, &ignored) == 0)
        {
          const char *v = strstr (text, "usage_usec ");
          if (v)
            return strtoull (v + 11, NULL, 10) * 1000;
        }
      hy_error_release (&ignored);
    }
  uint64_t total = 0;
  long hz = sysconf (_SC_CLK_TCK);
  for (size_t i = 0; i < n; i++)
    {
      pid_t ppid;
      unsigned long long ticks;
      if (read_stat (pids[i], &ppid, &ticks) == 0)
        total += ticks * (1000000000ull / (uint64_t) (hz > 0 ? hz : 100));
    }
  return total;
}

int
procfs_stats (struct agent *a, struct hy_agent_response *r, hy_error_t *err)
{
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  if (container_pids (a, &pids, &n, err) < 0)
    return -1;
  _cleanup_free_ char *meminfo = NULL;
  if (read_file_at (AT_FDCWD, "/proc/meminfo", 65536, &meminfo, NULL, err)
      < 0)
    return -1;
  r->mem_total = meminfo_bytes (meminfo, "MemTotal");
  r->mem_free = meminfo_bytes (meminfo, "MemFree");
  r->mem_available = meminfo_bytes (meminfo, "MemAvailable");
  r->pids = n;
  r->cpu_ns = cpu_ns (a, pids, n);
  return 0;
}
