/* The messages between `hyrun create` and the container's init while the
 * container is set up, over a SOCK_SEQPACKET socketpair.  Each message is
 * one packet: a type, an errno and a text, optionally carrying one fd.
 *
 *   parent -> init   MOUNT_SOURCE + fd, text the index in .mounts: the
 *                                  source of a bind mount, opened by the
 *                                  parent in init's mount namespace (a
 *                                  new user namespace may not reach it)
 *   parent -> init   GO            id maps written, cgroup joined
 *   init -> parent   HOOKS         mounts done: run prestart/createRuntime
 *   parent -> init   HOOKS_DONE
 *   init -> parent   PTY + fd      the console's master (process.terminal)
 *   init -> parent   SECCOMP + fd  the notify fd for linux.seccomp.listenerPath
 *   parent -> init   SECCOMP_DONE
 *   init -> parent   READY         waiting on exec.fifo for `start`
 *   init -> parent   ERROR         text and errno of what failed
 *   init -> parent   WARN          a warning for create's log, any time
 *   init -> parent   DEBUG         a debug line for create's log (--debug)
 *
 * `exec` uses the same socket between hyrun and the new process:
 *
 *   joiner -> parent PID           text: the new process's pid (the
 *                                  joiner entered the namespaces and
 *                                  forked it)
 *   parent -> proc   GO            cgroup joined
 *   proc -> parent   PTY, SECCOMP, WARN, DEBUG, READY, ERROR as above;
 *                                  the socket closes on a successful
 *                                  execve (close-on-exec)
 */
#ifndef HYRUN_RUNTIME_SYNC_H
#define HYRUN_RUNTIME_SYNC_H

#include "common/error.h"

enum hy_sync_type
{
  HY_SYNC_GO = 1,
  HY_SYNC_HOOKS,
  HY_SYNC_HOOKS_DONE,
  HY_SYNC_PTY,
  HY_SYNC_SECCOMP,
  HY_SYNC_SECCOMP_DONE,
  HY_SYNC_READY,
  HY_SYNC_ERROR,
  HY_SYNC_WARN,
  HY_SYNC_PID,
  HY_SYNC_DEBUG,
  HY_SYNC_MOUNT_SOURCE,
};

#define HY_SYNC_TEXT_MAX 4000

struct hy_sync_msg
{
  int type;
  int errnum;
  char text[HY_SYNC_TEXT_MAX];
};

int hy_sync_send (int sock, enum hy_sync_type type, int fd, hy_error_t *err);
/* The same with a text. */
int hy_sync_send_text_fd (int sock, enum hy_sync_type type, const char *text,
                          int fd, hy_error_t *err);

/* Report an error to the other side (best effort; used on the way out). */
void hy_sync_send_error (int sock, const hy_error_t e);


/* Send a text-only message (WARN, DEBUG); best effort. */
void hy_sync_send_text (int sock, enum hy_sync_type type, const char *text);

/* Receive one message; *fd gets the fd it carried or -1.  The other side
 * closing the socket is an error "<peer> closed the sync socket". */
int hy_sync_recv (int sock, struct hy_sync_msg *m, int *fd, hy_error_t *err);

/* The same, but the other side closing the socket is no error: returns 0
 * then, 1 with a message. */
int hy_sync_recv_or_eof (int sock, struct hy_sync_msg *m, int *fd,
                         hy_error_t *err);

/* Receive and require `type`; an ERROR message becomes the error. */
int hy_sync_expect (int sock, enum hy_sync_type type, hy_error_t *err);

/* ---- the runtime's side, shared by create and exec ---- */

struct oci_seccomp;

/* A PTY message's master goes to the console socket when there is one,
 * else into *keep (foreground); with neither (detached), it is an error. */
int hy_sync_take_pty (int fd, const char *console_socket, int *keep,
                      hy_error_t *err);

/* A SECCOMP message's notify fd goes to linux.seccomp.listenerPath with
 * the container's state; then SECCOMP_DONE lets the process go on. */
int hy_sync_take_seccomp (int sock, int fd, const struct oci_seccomp *s,
                          const char *state_json, hy_error_t *err);

#endif
