/* /etc/hyrun/hyrun.conf: host-wide defaults.
 *
 *   # comment
 *   isolation = vm        # container | vm
 *
 * One `key = value` per line; blank lines and `#` comments are ignored.
 * Unknown keys, bad values and repeated keys are errors naming
 * `file:line` and the key, so that a typo does not silently fall back to
 * a default. */
#ifndef HYRUN_RUNTIME_CONF_H
#define HYRUN_RUNTIME_CONF_H

#include "common/error.h"
#include "oci/annotations.h"

#define HY_CONF_DEFAULT_PATH "/etc/hyrun/hyrun.conf"
#define HY_CONF_ENV "HYRUN_CONFIG"

struct hy_conf
{
  enum hy_isolation isolation; /* UNSET when the file does not say */
};

/* Parse a whole file's text; `source` names it in errors. */
int hy_conf_parse (const char *text, const char *source, struct hy_conf *out,
                   hy_error_t *err);

/* $HYRUN_CONFIG when set and not empty, else HY_CONF_DEFAULT_PATH. */
const char *hy_conf_path (void);

/* Load hy_conf_path().  A missing default file means all defaults; a
 * missing file named by $HYRUN_CONFIG is an error. */
int hy_conf_load (struct hy_conf *out, hy_error_t *err);

#endif
