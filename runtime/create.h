/* Creating a container (container mode): the state directory, the cgroup,
 * the namespaces, and the init process left waiting for `start`. */
#ifndef HYRUN_RUNTIME_CREATE_H
#define HYRUN_RUNTIME_CREATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/annotations.h"
#include "runtime/bundle.h"

struct hy_create_opts
{
  const char *root;
  const char *id;
  const struct hy_bundle *bundle;
  enum hy_isolation isolation;
  const char *console_socket;
  const char *pid_file;
  bool no_pivot;
  bool no_new_keyring;
  bool no_cgroup;        /* --cgroup-manager disabled */
  unsigned preserve_fds;
  bool keep_pty;         /* foreground run -t: keep the console's master */
  bool detached;         /* nobody will wait for init (create, run -d) */
};

struct hy_created
{
  pid_t pid;
  int pty_master; /* with keep_pty and process.terminal, else -1 */
};

/* On failure nothing is left: no process, cgroup, mount or state dir. */
int hy_container_create (const struct hy_create_opts *o,
                         struct hy_created *out, hy_error_t *err);

/* Remove <root>/<id> with what it holds (best effort). */
void hy_state_dir_remove (const char *root, const char *id);

#endif
