/* Containers as the state root (--root) knows them: <root>/<id>/. */
#ifndef HYRUN_RUNTIME_CONTAINER_H
#define HYRUN_RUNTIME_CONTAINER_H

#include <stdbool.h>

#include "common/error.h"

#define HY_CONTAINER_ID_MAX 1024

/* Non-empty, [A-Za-z0-9_+.-] only, not "." or "..", as runc accepts. */
int hy_container_id_validate (const char *id, hy_error_t *err);

/* /run/hyrun for root, else $XDG_RUNTIME_DIR/hyrun (or
 * /run/user/<uid>/hyrun without it).  Caller frees. */
char *hy_default_root (void);

/* Open <root>/<id> (O_PATH directory).  A missing root or container is
 * `container "<id>" does not exist`. */
int hy_container_open (const char *root, const char *id, int *dirfd,
                       hy_error_t *err);

/* Whether <root>/<id> exists; errors other than ENOENT are reported. */
int hy_container_exists (const char *root, const char *id, bool *exists,
                         hy_error_t *err);

#endif
