/* vsock in a VM; AF_UNIX sockets in a directory in test mode:
 *   the agent listens on DIR/agent_<port> (guest port <port>),
 *   and connects to DIR/host_<port> (host port <port>). */
#include "guest-agent/agent.h"

#include <errno.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"

static int
unix_address (const char *dir, const char *kind, uint32_t port,
              struct sockaddr_un *sun, hy_error_t *err)
{
  *sun = (struct sockaddr_un){ .sun_family = AF_UNIX };
  int n = snprintf (sun->sun_path, sizeof (sun->sun_path), "%s/%s_%u", dir,
                    kind, port);
  if (n < 0 || (size_t) n >= sizeof (sun->sun_path))
    return hy_error (err, ENAMETOOLONG, "socket path `%s/%s_%u` too long",
                     dir, kind, port);
  return 0;
}

static int
listen_unix (const char *dir, uint32_t port, hy_error_t *err)
{
  struct sockaddr_un sun;
  if (unix_address (dir, "agent", port, &sun, err) < 0)
    return -1;
  _cleanup_close_ int fd
      = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return hy_error_errno (err, "socket");
  unlink (sun.sun_path);
  if (bind (fd, (struct sockaddr *) &sun, sizeof (sun)) < 0)
    return hy_error_errno (err, "bind `%s`", sun.sun_path);
  if (listen (fd, 64) < 0)
    return hy_error_errno (err, "listen on `%s`", sun.sun_path);
  return steal_fd (&fd);
}

static int
listen_vsock (uint32_t port, hy_error_t *err)
{
  struct sockaddr_vm svm = { .svm_family = AF_VSOCK,
                             .svm_cid = VMADDR_CID_ANY,
                             .svm_port = port };
  _cleanup_close_ int fd
      = socket (AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return hy_error_errno (err, "vsock socket");
  if (bind (fd, (struct sockaddr *) &svm, sizeof (svm)) < 0)
    return hy_error_errno (err, "bind vsock port %u", port);
  if (listen (fd, 64) < 0)
    return hy_error_errno (err, "listen on vsock port %u", port);
  return steal_fd (&fd);
}

int
transport_listen (const struct agent_transport *t, uint32_t port,
                  hy_error_t *err)
{
  return t->unix_dir ? listen_unix (t->dir, port, err)
                     : listen_vsock (port, err);
}

int
transport_connect_host (const struct agent_transport *t, uint32_t port,
                        int *fd, hy_error_t *err)
{
  struct sockaddr_un sun;
  struct sockaddr_vm svm = { .svm_family = AF_VSOCK,
                             .svm_cid = HY_AGENT_HOST_CID,
                             .svm_port = port };
  struct sockaddr *sa = (struct sockaddr *) &svm;
  socklen_t len = sizeof (svm);
  if (t->unix_dir)
    {
      if (unix_address (t->dir, "host", port, &sun, err) < 0)
        return -1;
      sa = (struct sockaddr *) &sun;
      len = sizeof (sun);
    }
  *fd = socket (t->unix_dir ? AF_UNIX : AF_VSOCK,
                SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (*fd < 0)
    return hy_error_errno (err, "socket");
  if (connect (*fd, sa, len) == 0)
    return 0;
  int saved = errno;
  close (*fd);
  *fd = -1;
  errno = saved;
  hy_error_errno (err, "connect to host port %u", port);
  /* Nobody listening (yet): worth another try. */
  return saved == ECONNREFUSED || saved == ENOENT || saved == ECONNRESET
                 || saved == ETIMEDOUT
             ? 0
             : -1;
}
