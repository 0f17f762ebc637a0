/* Signal names as `kill` takes them: "KILL", "SIGKILL", "sigkill", "9",
 * "RTMIN+3", "SIGRTMAX-1". */
#ifndef HYRUN_RUNTIME_SIGNALS_H
#define HYRUN_RUNTIME_SIGNALS_H

#include "common/error.h"

int hy_signal_parse (const char *s, int *signo, hy_error_t *err);

#endif
