/* Copy a directory's content, as tmpcopyup needs it. */
#ifndef HYRUN_LINUX_COPY_TREE_H
#define HYRUN_LINUX_COPY_TREE_H

#include "common/error.h"

/* Copy everything under the directory `src` into the directory `dst`
 * (both readable directory fds): directories, regular files, symlinks,
 * device nodes, fifos and sockets, with their mode and owner (ids the
 * namespace cannot map are left as they come).  Symlinks are copied, never
 * followed; hard links become separate files. */
int hy_copy_tree (int src, int dst, hy_error_t *err);

#endif
