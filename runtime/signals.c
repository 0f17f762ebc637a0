#include "runtime/signals.h"

#include <signal.h>
#include <stdlib.h>
#include <strings.h>

#include "common/util.h"

static const struct
{
  const char *name;
  int signo;
} signals[] = {
  { "ABRT", SIGABRT },     { "ALRM", SIGALRM },     { "BUS", SIGBUS },
  { "CHLD", SIGCHLD },     { "CLD", SIGCHLD },      { "CONT", SIGCONT },
  { "FPE", SIGFPE },       { "HUP", SIGHUP },       { "ILL", SIGILL },
  { "INT", SIGINT },       { "IO", SIGIO },         { "IOT", SIGIOT },
  { "KILL", SIGKILL },     { "PIPE", SIGPIPE },     { "POLL", SIGPOLL },
  { "PROF", SIGPROF },     { "PWR", SIGPWR },       { "QUIT", SIGQUIT },
  { "SEGV", SIGSEGV },     { "STKFLT", SIGSTKFLT }, { "STOP", SIGSTOP },
  { "SYS", SIGSYS },       { "TERM", SIGTERM },     { "TRAP", SIGTRAP },
  { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },
  { "URG", SIGURG },       { "USR1", SIGUSR1 },     { "USR2", SIGUSR2 },
  { "VTALRM", SIGVTALRM }, { "WINCH", SIGWINCH },   { "XCPU", SIGXCPU },
  { "XFSZ", SIGXFSZ },
};

/* "RTMIN", "RTMIN+n", "RTMAX", "RTMAX-n" within the real-time range. */
static int
parse_realtime (const char *name, int *signo)
{
  int base, sign;
  if (strncasecmp (name, "RTMIN", 5) == 0)
    base = SIGRTMIN, sign = 1;
  else if (strncasecmp (name, "RTMAX", 5) == 0)
    base = SIGRTMAX, sign = -1;
  else
    return -1;
  const char *rest = name + 5;
  long long off = 0;
  if (*rest != '\0')
    {
      if (*rest != (sign > 0 ? '+' : '-')
          || parse_int64 (rest + 1, 0, SIGRTMAX - SIGRTMIN, &off) < 0)
        return -1;
    }
  *signo = base + sign * (int) off;
  return 0;
}

int
hy_signal_parse (const char *s, int *signo, hy_error_t *err)
{
  long long n;
  if (s && *s >= '0' && *s <= '9')
    {
      if (parse_int64 (s, 0, SIGRTMAX, &n) < 0)
        return hy_error (err, 0, "invalid signal \"%s\"", s);
      *signo = (int) n;
      return 0;
    }
  const char *name = s ? s : "";
  if (strncasecmp (name, "SIG", 3) == 0)
    name += 3;
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
    if (strcasecmp (name, signals[i].name) == 0)
      {
        *signo = signals[i].signo;
        return 0;
      }
  if (parse_realtime (name, signo) == 0)
    return 0;
  return hy_error (err, 0, "unknown signal \"%s\"", s ? s : "");
}
