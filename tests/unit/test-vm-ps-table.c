/* `hyrun ps` of a VM container: procps's tables made from what the guest
 * agent reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/vm/ps-table.h"

/* 2024-03-05 12:00:00 UTC; the tests run with TZ=UTC. */
#define NOW ((time_t) 1709640000)

static struct hy_agent_ps_entry entries[] = {
  { .pid = 1, .ppid = 0, .uid = 0, .gid = 0, .state = 'S',
    .cmd = "sh -c sleep 1000", .comm = "sh", .stat = "Ss",
    .elapsed_ms = 2 * 86400 * 1000ull, .cpu_ms = 3723000,
    .rss_kb = 1024, .vsz_kb = 2260 },
  { .pid = 7, .ppid = 1, .uid = 4242, .gid = 4343, .state = 'R',
    .cmd = "top\x1b[2J -b", .comm = "top", .tty = "pts/0", .stat = "R+",
    .elapsed_ms = 1000000, .cpu_ms = 125000, .rss_kb = 0, .vsz_kb = 10 },
};

static const struct hy_agent_response response
    = { .processes = entries, .n_processes = 2, .mem_total = 8u << 20 };

/* The table for `args` (a space-separated list), or NULL on error. */
static char *
table (const char *args, char **error)
{
  char *argv[16] = { NULL };
  char *copy = strdup (args);
  size_t n = 0;
  for (char *save = NULL, *w = strtok_r (copy, " ", &save); w && n < 15;
       w = strtok_r (NULL, " ", &save))
    argv[n++] = w;
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream (&text, &len);
  hy_error_t err = NULL;
  int r = hy_vm_ps_table (&response, argv, NOW, out, &err);
  fclose (out);
  free (copy);
  if (r == 0)
    return text;
  free (text);
  *error = strdup (err->msg);
  hy_error_release (&err);
  return NULL;
}

static char *
line (const char *text, int n)
{
  const char *p = text;
  for (int i = 0; i < n && p; i++)
    {
      p = strchr (p, '\n');
      if (p)
        p++;
    }
  assert_non_null (p);
  return strndup (p, strcspn (p, "\n"));
}

static void
expect_line (const char *text, int n, const char *want)
{
  char *l = line (text, n);
  if (strcmp (l, want) != 0)
    fail_msg ("line %d:\n  got  \"%s\"\n  want \"%s\"", n, l, want);
  free (l);
}

static void
test_default_is_ef (void **state)
{
  (void) state;
  char *error = NULL;
  char *t = table ("", &error);
  assert_non_null (t);
  expect_line (t, 0, "UID        PID  PPID  C STIME TTY          TIME CMD");
  expect_line (t, 1, "root         1     0  2 Mar03 ?        01:02:03 sh -c "
                     "sleep 1000");
  /* Unknown to the host's passwd: the number; the escape is made '?'. */
  expect_line (t, 2, "4242         7     1 12 11:43 pts/0    00:02:05 "
                     "top?[2J -b");
  char *ef = table ("-ef", &error);
  assert_string_equal (ef, t);
  free (ef);
  free (t);
}

static void
test_bsd_and_unix_defaults (void **state)
{
  (void) state;
  char *error = NULL;
  char *t = table ("-e -x", &error);
  expect_line (t, 0, "  PID TTY      STAT   TIME COMMAND");
  expect_line (t, 1, "    1 ?        Ss    62:03 sh -c sleep 1000");
  expect_line (t, 2, "    7 pts/0    R+     2:05 top?[2J -b");
  free (t);
  t = table ("-e", &error);
  expect_line (t, 0, "  PID TTY          TIME CMD");
  expect_line (t, 1, "    1 ?        01:02:03 sh -c sleep 1000");
  free (t);
  t = table ("aux", &error);
  expect_line (t, 0, "USER       PID %CPU %MEM    VSZ   RSS TTY      STAT "
                     "START   TIME COMMAND");
  expect_line (t, 1, "root         1  2.1 12.5   2260  1024 ?        Ss   "
                 "Mar03  62:03 sh -c sleep 1000");
  expect_line (t, 2, "4242         7 12.5  0.0     10     0 pts/0    R+   "
                 "11:43   2:05 top?[2J -b");
  free (t);
}

static void
test_format_lists (void **state)
{
  (void) state;
  char *error = NULL;
  char *t = table ("-o pid,comm,etime,gid,s", &error);
  expect_line (t, 0, "  PID COMMAND             ELAPSED   GID S");
  expect_line (t, 1, "    1 sh               2-00:00:00     0 S");
  expect_line (t, 2, "    7 top                   16:40  4343 R");
  free (t);
  t = table ("--format=ppid -opid= o uid=THE-UID", &error);
  expect_line (t, 0, " PPID       THE-UID");
  expect_line (t, 1, "    0     1       0");
  free (t);
  /* A header given with '=' takes the rest of the list. */
  t = table ("-o pid=A,B", &error);
  expect_line (t, 0, "  A,B");
  free (t);
}

static void
test_refused (void **state)
{
  (void) state;
  static const struct
  {
    const char *args, *error;
  } cases[] = {
    { "-l", "option `-l` (in `-l`) is not supported for a container in a VM" },
    { "-eH", "option `-H` (in `-eH`)" },
    { "auxf", "option `f` (in `auxf`)" },
    { "--sort=pid", "option `--sort=pid` is not supported" },
    { "-o pid,wchan", "unknown or unsupported format keyword \"wchan\"" },
    { "-o", "`-o` needs a format list" },
    { "--format", "`--format` needs a list" },
  };
  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      char *error = NULL;
      char *t = table (cases[i].args, &error);
      if (t != NULL)
        fail_msg ("accepted `%s`:\n%s", cases[i].args, t);
      if (strstr (error, cases[i].error) == NULL)
        fail_msg ("`%s`: %s", cases[i].args, error);
      free (error);
    }
}

int
main (void)
{
  setenv ("TZ", "UTC", 1);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_default_is_ef),
    cmocka_unit_test (test_bsd_and_unix_defaults),
    cmocka_unit_test (test_format_lists),
    cmocka_unit_test (test_refused),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
