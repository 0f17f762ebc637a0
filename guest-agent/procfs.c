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

/* What /proc/<pid>/stat tells. */
struct proc_stat
{
  char comm[64];
  char state;
  int ppid, pgrp, session, tty_nr, tpgid;
  unsigned long long utime, stime, starttime, vsize; /* ticks; bytes */
  long nice, num_threads, rss;                        /* rss: pages */
};

/* comm (field 2) may hold anything, ')' included: the fields after it
 * follow the last ')'. */
static int
read_stat (pid_t pid, struct proc_stat *st)
{
  _cleanup_free_ char *text = read_proc_file (pid, "stat", 4096, NULL);
  const char *open = text ? strchr (text, '(') : NULL;
  const char *rest = text ? strrchr (text, ')') : NULL;
  if (open == NULL || rest == NULL || rest < open)
    return -1;
  *st = (struct proc_stat){ 0 };
  size_t n = (size_t) (rest - open - 1);
  if (n >= sizeof (st->comm))
    n = sizeof (st->comm) - 1;
  memcpy (st->comm, open + 1, n);
  /* ") S ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
   *  cmajflt utime stime cutime cstime priority nice num_threads
   *  itrealvalue starttime vsize rss" */
  if (sscanf (rest,
              ") %c %d %d %d %d %d %*u %*u %*u %*u %*u %llu %llu %*d %*d "
              "%*d %ld %ld %*d %llu %llu %ld",
              &st->state, &st->ppid, &st->pgrp, &st->session, &st->tty_nr,
              &st->tpgid, &st->utime, &st->stime, &st->nice,
              &st->num_threads, &st->starttime, &st->vsize, &st->rss)
      != 13)
    return -1;
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
      pid_t pid;
      struct proc_stat st;
      if (is_pid_name (de->d_name, &pid) && read_stat (pid, &st) == 0)
        pid_list_add (out, pid, st.ppid);
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

/* The terminal's name as ps shows it; NULL for none. */
static char *
tty_name (int tty_nr)
{
  if (tty_nr == 0)
    return NULL;
  unsigned major = ((unsigned) tty_nr >> 8) & 0xfff;
  unsigned minor
      = ((unsigned) tty_nr & 0xff) | (((unsigned) tty_nr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143)
    return xasprintf ("pts/%u", (major - 136) * 256 + minor);
  if (major == 4)
    return minor < 64 ? xasprintf ("tty%u", minor)
                      : xasprintf ("ttyS%u", minor - 64);
  if (major == 5 && minor == 1)
    return xstrdup ("console");
  return xasprintf ("%u,%u", major, minor);
}

/* BSD's STAT: the state, then < (high priority), N (low), s (session
 * leader), l (threads), + (in the foreground process group). */
static char *
bsd_stat (pid_t pid, const struct proc_stat *st)
{
  char s[8];
  size_t n = 0;
  s[n++] = st->state;
  if (st->nice < 0)
    s[n++] = '<';
  else if (st->nice > 0)
    s[n++] = 'N';
  if (st->session == pid)
    s[n++] = 's';
  if (st->num_threads > 1)
    s[n++] = 'l';
  if (st->tty_nr != 0 && st->pgrp == st->tpgid)
    s[n++] = '+';
  s[n] = '\0';
  return xstrdup (s);
}

static uint64_t
uptime_ms (void)
{
  _cleanup_free_ char *text = NULL;
  hy_error_t ignored = NULL;
  if (read_file_at (AT_FDCWD, "/proc/uptime", 256, &text, NULL, &ignored)
      < 0)
    {
      hy_error_release (&ignored);
      return 0;
    }
  return (uint64_t) (strtod (text, NULL) * 1000);
}

static void
printable (char *s)
{
  for (; *s; s++)
    if (!isprint ((unsigned char) *s))
      *s = '?';
}

/* Times and sizes of the process, from its stat. */
static void
ps_numbers (const struct proc_stat *st, uint64_t now_ms,
            struct hy_agent_ps_entry *e)
{
  long hz = sysconf (_SC_CLK_TCK);
  long page = sysconf (_SC_PAGESIZE);
  uint64_t tick_ms = 1000 / (uint64_t) (hz > 0 ? hz : 100);
  uint64_t page_kb = (uint64_t) (page > 0 ? page : 4096) / 1024;
  uint64_t started = st->starttime * tick_ms;
  e->elapsed_ms = now_ms > started ? now_ms - started : 0;
  e->cpu_ms = (st->utime + st->stime) * tick_ms;
  e->vsz_kb = st->vsize / 1024;
  e->rss_kb = st->rss > 0 ? (uint64_t) st->rss * page_kb : 0;
}

static int
ps_entry (pid_t pid, uint64_t now_ms, struct hy_agent_ps_entry *e,
          pid_t *host_ppid)
{
  struct proc_stat st;
  _cleanup_free_ char *status = read_proc_file (pid, "status", 16384, NULL);
  if (status == NULL || read_stat (pid, &st) < 0)
    return -1;
  const char *uid = status_field (status, "Uid");
  const char *gid = status_field (status, "Gid");
  const char *nspid = status_field (status, "NSpid");
  if (uid == NULL || gid == NULL)
    return -1;
  e->state = isalpha ((unsigned char) st.state) ? st.state : '?';
  e->uid = (uint32_t) strtoul (uid, NULL, 10);
  e->gid = (uint32_t) strtoul (gid, NULL, 10);
  *host_ppid = st.ppid;
  e->pid = nspid ? innermost_pid (nspid) : pid;
  if (e->pid <= 0)
    e->pid = pid;
  e->cmd = command_of (pid);
  e->comm = xstrdup (st.comm);
  printable (e->comm);
  e->tty = tty_name (st.tty_nr);
  e->stat = bsd_stat (pid, &st);
  ps_numbers (&st, now_ms, e);
  return 0;
}

static uint64_t meminfo_bytes (const char *text, const char *key);

/* For %MEM: the guest's memory. */
static uint64_t
meminfo_total (void)
{
  _cleanup_free_ char *text = NULL;
  hy_error_t ignored = NULL;
  if (read_file_at (AT_FDCWD, "/proc/meminfo", 65536, &text, NULL, &ignored)
      < 0)
    {
      hy_error_release (&ignored);
      return 0;
    }
  return meminfo_bytes (text, "MemTotal");
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
  uint64_t now_ms = uptime_ms ();
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (ps_entry (pids[i], now_ms, &r->processes[k], &host_ppid[k]) == 0)
      {
        pids[k] = pids[i];
        k++;
      }
  r->n_processes = k;
  r->mem_total = meminfo_total ();
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
      struct proc_stat st;
      if (read_stat (pids[i], &st) == 0)
        total += (st.utime + st.stime)
                 * (1000000000ull / (uint64_t) (hz > 0 ? hz : 100));
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
