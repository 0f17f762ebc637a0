#include "runtime/linux/sched.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

/* ---- scheduler ---- */

/* struct sched_attr of the kernel (SCHED_ATTR_SIZE_VER1); glibc 2.36 has
 * no wrapper and <linux/sched/types.h> clashes with <sched.h>. */
struct hy_sched_attr
{
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

#define UTIL_CLAMP_NEUTRAL_MAX 1024

struct named_value
{
  const char *name;
  unsigned value;
};

static const struct named_value sched_policies[] = {
  { "SCHED_OTHER", 0 },    { "SCHED_FIFO", 1 }, { "SCHED_RR", 2 },
  { "SCHED_BATCH", 3 },    { "SCHED_ISO", 4 },  { "SCHED_IDLE", 5 },
  { "SCHED_DEADLINE", 6 },
};

static const struct named_value sched_flags[] = {
  { "SCHED_FLAG_RESET_ON_FORK", 0x01 },  { "SCHED_FLAG_RECLAIM", 0x02 },
  { "SCHED_FLAG_DL_OVERRUN", 0x04 },     { "SCHED_FLAG_KEEP_POLICY", 0x08 },
  { "SCHED_FLAG_KEEP_PARAMS", 0x10 },    { "SCHED_FLAG_UTIL_CLAMP_MIN", 0x20 },
  { "SCHED_FLAG_UTIL_CLAMP_MAX", 0x40 },
};

static const struct named_value ioprio_classes[] = {
  { "IOPRIO_CLASS_RT", 1 },
  { "IOPRIO_CLASS_BE", 2 },
  { "IOPRIO_CLASS_IDLE", 3 },
};

#define N_ELEMENTS(a) (sizeof (a) / sizeof ((a)[0]))

static int
lookup (const struct named_value *table, size_t n, const char *name,
        unsigned *out)
{
  for (size_t i = 0; name && i < n; i++)
    if (strcmp (table[i].name, name) == 0)
      {
        *out = table[i].value;
        return 0;
      }
  return -1;
}

static int
sched_attr_from (const struct oci_scheduler *s, struct hy_sched_attr *a,
                 hy_error_t *err)
{
  unsigned policy;
  if (lookup (sched_policies, N_ELEMENTS (sched_policies), s->policy, &policy)
      < 0)
    return hy_error (err, EINVAL, "unknown scheduler policy \"%s\"",
                     s->policy ? s->policy : "");
  *a = (struct hy_sched_attr){ .size = sizeof (*a),
                               .sched_policy = policy,
                               .sched_nice = s->nice,
                               .sched_priority = (uint32_t) s->priority,
                               .sched_runtime = s->runtime,
                               .sched_deadline = s->deadline,
                               .sched_period = s->period,
                               .sched_util_max = UTIL_CLAMP_NEUTRAL_MAX };
  for (size_t i = 0; s->flags && s->flags[i]; i++)
    {
      unsigned flag;
      if (lookup (sched_flags, N_ELEMENTS (sched_flags), s->flags[i], &flag)
          < 0)
        return hy_error (err, EINVAL, "unknown scheduler flag \"%s\"",
                         s->flags[i]);
      a->sched_flags |= flag;
    }
  return 0;
}

int
hy_scheduler_apply (const struct oci_scheduler *s, hy_error_t *err)
{
  if (s == NULL)
    return 0;
  struct hy_sched_attr a;
  if (sched_attr_from (s, &a, err) < 0)
    return -1;
  if (syscall (SYS_sched_setattr, 0, &a, 0) < 0)
    return hy_error_errno (
        err,
        "sched_setattr %s (nice %d, priority %d, flags "
        "%#llx, runtime %llu, deadline %llu, period %llu)",
        s->policy, s->nice, s->priority, (unsigned long long) a.sched_flags,
        (unsigned long long) s->runtime, (unsigned long long) s->deadline,
        (unsigned long long) s->period);
  return 0;
}

/* ---- I/O priority ---- */

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_LEVELS 8

int
hy_io_priority_apply (const struct oci_io_priority *io, hy_error_t *err)
{
  if (io == NULL)
    return 0;
  unsigned klass;
  if (lookup (ioprio_classes, N_ELEMENTS (ioprio_classes), io->klass, &klass)
      < 0)
    return hy_error (err, EINVAL, "unknown I/O priority class \"%s\"",
                     io->klass ? io->klass : "");
  if (io->priority < 0 || io->priority >= IOPRIO_LEVELS)
    return hy_error (err, EINVAL, "I/O priority %d out of range 0-7",
                     io->priority);
  int value = (int) (klass << IOPRIO_CLASS_SHIFT) | io->priority;
  if (syscall (SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) < 0)
    return hy_error_errno (err, "ioprio_set %s %d", io->klass, io->priority);
  return 0;
}

/* ---- CPU lists and affinity ---- */

/* As oci_is_valid_cpu_list() bounds them. */
#define CPU_NUMBER_MAX (1u << 22)

struct cpu_range
{
  unsigned long first, last;
};

static int
parse_cpu (const char **s, const char *list, unsigned long *out,
           hy_error_t *err)
{
  if (!isdigit ((unsigned char) **s))
    return hy_error (err, EINVAL,
                     "invalid CPU list \"%s\": expected a "
                     "number at offset %td",
                     list, *s - list);
  unsigned long v = 0;
  for (; isdigit ((unsigned char) **s); (*s)++)
    {
      v = v * 10 + (unsigned long) (**s - '0');
      if (v > CPU_NUMBER_MAX)
        return hy_error (err, EINVAL,
                         "invalid CPU list \"%s\": CPU number "
                         "above %u",
                         list, CPU_NUMBER_MAX);
    }
  *out = v;
  return 0;
}

static int
parse_range (const char **s, const char *list, struct cpu_range *r,
             hy_error_t *err)
{
  if (parse_cpu (s, list, &r->first, err) < 0)
    return -1;
  r->last = r->first;
  if (**s != '-')
    return 0;
  (*s)++;
  if (parse_cpu (s, list, &r->last, err) < 0)
    return -1;
  if (r->last < r->first)
    return hy_error (err, EINVAL,
                     "invalid CPU list \"%s\": range %lu-%lu "
                     "is descending",
                     list, r->first, r->last);
  return 0;
}

static int
parse_ranges (const char *list, struct cpu_range **out, size_t *n,
              hy_error_t *err)
{
  _cleanup_free_ struct cpu_range *ranges = NULL;
  size_t count = 0;
  const char *s = list;
  for (;;)
    {
      ranges = xrealloc (ranges, (count + 1) * sizeof (*ranges));
      if (parse_range (&s, list, &ranges[count++], err) < 0)
        return -1;
      if (*s == '\0')
        break;
      if (*s++ != ',')
        return hy_error (err, EINVAL,
                         "invalid CPU list \"%s\": unexpected "
                         "'%c' at offset %td",
                         list, s[-1], s - 1 - list);
    }
  *out = steal_pointer (&ranges);
  *n = count;
  return 0;
}

int
hy_cpu_list_parse (const char *list, cpu_set_t **set, size_t *setsize,
                   hy_error_t *err)
{
  *set = NULL;
  *setsize = 0;
  if (list == NULL || *list == '\0')
    return 0;
  _cleanup_free_ struct cpu_range *ranges = NULL;
  size_t n = 0;
  if (parse_ranges (list, &ranges, &n, err) < 0)
    return -1;
  unsigned long max = 0;
  for (size_t i = 0; i < n; i++)
    if (ranges[i].last > max)
      max = ranges[i].last;
  cpu_set_t *cpus = CPU_ALLOC (max + 1);
  if (cpus == NULL)
    abort ();
  size_t size = CPU_ALLOC_SIZE (max + 1);
  CPU_ZERO_S (size, cpus);
  for (size_t i = 0; i < n; i++)
    for (unsigned long cpu = ranges[i].first; cpu <= ranges[i].last; cpu++)
      CPU_SET_S (cpu, size, cpus);
  *set = cpus;
  *setsize = size;
  return 0;
}

int
hy_cpu_affinity_apply (const char *list, hy_error_t *err)
{
  cpu_set_t *cpus = NULL;
  size_t size = 0;
  if (hy_cpu_list_parse (list, &cpus, &size, err) < 0)
    return -1;
  if (cpus == NULL)
    return 0;
  int rc = sched_setaffinity (0, size, cpus);
  int saved = errno;
  CPU_FREE (cpus);
  if (rc < 0)
    {
      errno = saved;
      return hy_error_errno (err, "sched_setaffinity \"%s\"", list);
    }
  return 0;
}
