/* The one error model of hyrun.
 *
 * Every fallible function takes a `hy_error_t *err` out-parameter and
 * returns a negative value on failure, after filling *err through
 * hy_error() / hy_error_errno().  Callers add context on the way up with
 * hy_error_prepend(), and whoever handles the error releases it with
 * hy_error_release() (or lets _cleanup_error_ do it).
 */
#ifndef HYRUN_COMMON_ERROR_H
#define HYRUN_COMMON_ERROR_H

#include <stdio.h>

struct hy_error {
  int errnum; /* errno of the cause, or 0 when there is none */
  char *msg;  /* human-readable message, with context, without errno text */
};
typedef struct hy_error *hy_error_t;

/* Fill *err (if err is not NULL and empty) and return -1.  errnum is
 * an errno value or 0. */
int hy_error (hy_error_t *err, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Same as hy_error() with the current errno. */
int hy_error_errno (hy_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Prefix the message of an existing error with "<context>: "; returns -1 so
 * that `return hy_error_prepend (err, "...")` reads naturally. */
int hy_error_prepend (hy_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* The full text: "msg" or "msg: strerror(errnum)". Caller frees. */
char *hy_error_text (const hy_error_t err);

void hy_error_release (hy_error_t *err);

static inline void
hy_error_releasep (hy_error_t *err)
{
  hy_error_release (err);
}

#define _cleanup_error_ __attribute__ ((cleanup (hy_error_releasep)))

#endif
