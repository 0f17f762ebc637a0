/* The container console, with runc's semantics.
 *
 * With process.terminal the container's init opens a pty (from the
 * container's devpts), makes the slave its controlling terminal and stdio,
 * and hands the master out: to the --console-socket (containerd, conmon,
 * recvtty receive it) or, for a foreground `run -t`, to the relay below,
 * which copies between the master and the runtime's own stdin/stdout. */
#ifndef HYRUN_RUNTIME_TERMINAL_H
#define HYRUN_RUNTIME_TERMINAL_H

#include <poll.h>
#include <sys/types.h>

#include "common/error.h"

/* ---- the pty ---- */

/* A new pty: the master (O_RDWR|O_NOCTTY|O_CLOEXEC, unlocked) and, unless
 * slave_path is NULL, the path of its slave ("/dev/pts/3"; caller frees). */
int hy_pty_open (int *master, char **slave_path, hy_error_t *err);

/* Open the slave of `master` (O_RDWR|O_NOCTTY|O_CLOEXEC) without going
 * through a path (TIOCGPTPEER), or by its path on kernels before 4.13. */
int hy_pty_open_slave (int master, int *slave, hy_error_t *err);

/* TIOCSWINSZ on a master or slave (process.consoleSize: rows = height,
 * cols = width). */
int hy_pty_set_size (int fd, unsigned rows, unsigned cols, hy_error_t *err);

/* In the container's init: start a new session, make slave_fd its
 * controlling terminal and stdin, stdout, stderr.  slave_fd stays open
 * (the caller closes it unless it is 0-2). */
int hy_terminal_make_controlling (int slave_fd, hy_error_t *err);

/* ---- passing the master ---- */

/* Longest name hy_fd_send() takes (runc's utils.MaxNameLen). */
#define HY_FD_NAME_MAX 4096

/* Send one fd over an AF_UNIX socket as runc's utils.SendFd does: the fd
 * as SCM_RIGHTS, `name` (the file name, NULL for none) as the payload. */
int hy_fd_send (int sock, int fd, const char *name, hy_error_t *err);

/* Receive what hy_fd_send() sent: exactly one fd (close-on-exec) and,
 * unless name is NULL, the name (caller frees). */
int hy_fd_recv (int sock, int *fd, char **name, hy_error_t *err);

/* Connect to the --console-socket (SOCK_STREAM; paths too long for
 * sockaddr_un work too) and send it the master named "/dev/ptmx", as runc
 * does. */
int hy_console_socket_send (const char *socket_path, int master,
                            hy_error_t *err);

/* ---- the foreground relay (`run -t` without --console-socket) ----
 *
 * Copies in_fd -> master and master -> out_fd.  When in_fd is a terminal
 * it is put in raw mode until hy_tty_relay_free(), and its window size
 * (or out_fd's) is copied to the master at start and on
 * hy_tty_relay_resize(); the kernel then signals SIGWINCH to the
 * container's foreground process group.  End of in_fd stops the input
 * only; hangup of the master (EIO: every slave closed) ends the relay.
 *
 * The relay does not own a loop, so that the foreground `run` can poll it
 * together with its signalfd (SIGWINCH -> hy_tty_relay_resize, other
 * signals forwarded to the container) and the container's exit:
 *
 *   struct pollfd fds[HY_TTY_RELAY_NFDS + 1];
 *   hy_tty_relay_fds (relay, fds);
 *   fds[HY_TTY_RELAY_NFDS] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
 *   poll (fds, HY_TTY_RELAY_NFDS + 1, -1);
 *   r = hy_tty_relay_handle (relay, fds, &err);   // 1: master hung up
 *   ... once the container has exited: hy_tty_relay_drain (relay, 100, &err)
 *
 * None of the fds is owned by the relay; only the master is made
 * non-blocking (in_fd and out_fd are usually shared with the shell). */
struct hy_tty_relay;

#define HY_TTY_RELAY_NFDS 2

/* in_fd may be -1 (no input). */
int hy_tty_relay_new (int master, int in_fd, int out_fd,
                      struct hy_tty_relay **out, hy_error_t *err);

/* Restores in_fd's terminal mode. */
void hy_tty_relay_free (struct hy_tty_relay *relay);

/* What to poll; entries not needed now have fd -1. */
void hy_tty_relay_fds (const struct hy_tty_relay *relay,
                       struct pollfd fds[HY_TTY_RELAY_NFDS]);

/* Act on the revents of the entries hy_tty_relay_fds() filled.  Returns 1
 * when the master has hung up (the relay is over), 0 to go on, <0 on
 * error. */
int hy_tty_relay_handle (struct hy_tty_relay *relay,
                         const struct pollfd fds[HY_TTY_RELAY_NFDS],
                         hy_error_t *err);

/* Copy the window size of the runtime's terminal to the master (on
 * SIGWINCH); nothing without a terminal. */
int hy_tty_relay_resize (struct hy_tty_relay *relay, hy_error_t *err);

/* After the container's exit: copy the output still in the master until
 * it hangs up or nothing came for idle_ms (a process the container left
 * behind may keep the slave open). */
int hy_tty_relay_drain (struct hy_tty_relay *relay, int idle_ms,
                        hy_error_t *err);

static inline void
hy_tty_relay_freep (struct hy_tty_relay **relay)
{
  hy_tty_relay_free (*relay);
}
#define _cleanup_tty_relay_ __attribute__ ((cleanup (hy_tty_relay_freep)))

/* The whole relay as a blocking loop, with SIGWINCH handled through a
 * signalfd of its own (SIGWINCH is blocked meanwhile).  Returns when the
 * master hangs up or, if child > 0, once the child has exited and its
 * output is drained; the child is not reaped. */
int hy_tty_relay_run (int master, int in_fd, int out_fd, pid_t child,
                      hy_error_t *err);

#endif
