/* Failure injection for the tests: with HYRUN_FAULT=<point> in the
 * environment, hy_fault ("<point>", err) fails there, so that a test can
 * walk every point (tests/cli/leaks.sh finds them in the sources) and check
 * that each failure leaves nothing behind.  Without the variable it costs
 * one getenv per process. */
#ifndef HYRUN_COMMON_FAULT_H
#define HYRUN_COMMON_FAULT_H

#include "common/error.h"

int hy_fault (const char *point, hy_error_t *err);

#endif
