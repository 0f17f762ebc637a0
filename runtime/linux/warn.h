/* Warnings from the process setup code, which runs where the runtime's
 * logger may not be reachable (the container's init just before exec).
 * The runtime installs its logger with hy_linux_set_warn(); until then a
 * warning goes to stderr as "hyrun: <message>". */
#ifndef HYRUN_LINUX_WARN_H
#define HYRUN_LINUX_WARN_H

typedef void (*hy_linux_warn_fn) (const char *msg, void *data);

/* NULL restores the stderr default. */
void hy_linux_set_warn (hy_linux_warn_fn fn, void *data);

void hy_linux_warn (const char *fmt, ...)
    __attribute__ ((format (printf, 1, 2)));

#endif
