/* hyrun-agent, the guest's PID 1: what its parts share.
 *
 * One epoll loop (runtime/vm/watch.h) drives everything: the two listening
 * sockets (control, streams), control connections, stream pumps, the
 * signalfd of SIGCHLD and the OOM watch.  Objects that leave the loop are
 * unregistered at once and freed after the batch of events (agent_bury),
 * so a pointer another ready event carries stays valid. */
#ifndef HYRUN_GUEST_AGENT_H
#define HYRUN_GUEST_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent-protocol/frame.h"
#include "agent-protocol/message.h"
#include "common/error.h"
#include "oci/config.h"
#include "runtime/vm/watch.h"

#define container_of(ptr, type, member)                                       \
  ((type *) ((char *) (ptr) - __builtin_offsetof (type, member)))

struct agent;
struct proc;

/* ---- transport (transport.c) ---- */

struct agent_transport
{
  bool unix_dir; /* test mode: AF_UNIX sockets in `dir` */
  const char *dir;
};

/* Listening sockets for a guest port (non-blocking, close-on-exec). */
int transport_listen (const struct agent_transport *t, uint32_t port,
                      hy_error_t *err);
/* One blocking connect to the host's port: *fd >= 0 when connected;
 * -1 with 0 returned (and *err saying why) when nobody listens yet, so
 * that a later try may work; <0 on other errors. */
int transport_connect_host (const struct agent_transport *t, uint32_t port,
                            int *fd, hy_error_t *err);

/* ---- control connections (control.c) ---- */

struct conn
{
  struct hy_vm_watch w;
  struct agent *agent;
  struct hy_frame_reader reader;
  struct hy_frame_writer writer;
  bool ready; /* the ready connection: events go here */
  bool dead;
  struct conn *next;
};

int control_accept (struct agent *a, int fd, bool ready, hy_error_t *err);
/* Queue a response (takes care of a dead connection). */
void control_respond (struct conn *c, enum hy_agent_request_kind kind,
                      const struct hy_agent_response *r);
void control_respond_error (struct conn *c, uint32_t seq,
                            enum hy_agent_request_kind kind,
                            const hy_error_t e);
/* An event on the ready connection, if there is one. */
void control_event (struct agent *a, const char *body, size_t len);

/* ---- streams (streams.c) ---- */

#define PUMP_BUF (64 * 1024)

struct endpoint
{
  struct hy_vm_watch w;
  struct stream *stream;
  struct pump *reader; /* the pump reading this fd */
  struct pump *writer; /* the pump writing to it */
  bool is_socket;
};

struct pump
{
  struct endpoint *src, *dst;
  bool src_open; /* more may come from src */
  bool dst_open; /* dst still takes bytes */
  size_t len, off;
  char buf[PUMP_BUF];
};

/* One attached stream: its connection, the process's side (pipe end or
 * pty master) and the pumps between them. */
struct stream
{
  struct agent *agent;
  struct proc *proc;
  unsigned kind;            /* HY_AGENT_STDIN, ... */
  struct endpoint conn;
  struct endpoint local;
  struct pump out;          /* local -> conn: stdout, stderr, tty */
  struct pump in;           /* conn -> local: stdin, tty */
  bool has_out, has_in;
  bool dead;
  struct stream *next;
};

int streams_accept (struct agent *a, int fd, hy_error_t *err);
/* close_stdin: the stdin stream ends once what it holds is written. */
void stream_close_input (struct stream *s);
/* Whether a stream's output (stdout, stderr, tty) has all been written to
 * its connection and ended there (EOF); true for NULL and for stdin. */
bool stream_output_done (const struct stream *s);

/* ---- processes (container.c: create, start, exec; procs.c: the rest) ---- */

enum
{
  SLOT_STDIN,
  SLOT_STDOUT,
  SLOT_STDERR,
  SLOT_TTY,
  SLOTS
};

struct waiter
{
  struct conn *conn;
  uint32_t seq;
  struct waiter *next;
};

struct proc
{
  struct agent *agent;
  char *id;
  pid_t pid;
  bool is_init;
  unsigned streams;         /* listed */
  unsigned attached;
  int local_fd[SLOTS];      /* the agent's side, until attached */
  struct stream *stream[SLOTS];
  int pty_master;           /* a copy for resize, -1 without a tty */
  int gate_fd;              /* write end; -1 once released */
  bool start_wanted;        /* exec: at once; init: after `start` */
  struct conn *start_conn;  /* the `start` to answer on release */
  uint32_t start_seq;
  bool exited;
  int status;               /* waitpid's */
  struct waiter *waiters;
  struct proc *next;
};

struct container
{
  struct oci_config *config;
  struct proc *init;
  /* The init's pid namespace, kept to find the container's processes
   * after init is gone; st_ino 0 when it shares the agent's. */
  dev_t pidns_dev;
  ino_t pidns_ino;
};

/* create and exec answer with the process's pid and, when the request
 * asked for them, the debug lines of its setup. */
int container_create (struct agent *a, struct hy_agent_request *req,
                      struct hy_agent_response *resp, hy_error_t *err);
int container_start (struct agent *a, struct conn *c, uint32_t seq,
                     bool *answered, hy_error_t *err);
int container_exec (struct agent *a, struct hy_agent_request *req,
                    struct hy_agent_response *resp, hy_error_t *err);
int container_signal (struct agent *a, const char *id, int sig, bool all,
                      hy_error_t *err);
int container_resize (struct agent *a, const char *id, unsigned rows,
                      unsigned cols, hy_error_t *err);
int container_close_stdin (struct agent *a, const char *id,
                           hy_error_t *err);
/* Answer at once or queue the waiter. */
int container_wait (struct agent *a, struct conn *c, uint32_t seq,
                    const char *id, hy_error_t *err);

struct proc *proc_find (struct agent *a, const char *id);
struct proc *proc_new (const char *id, unsigned streams);
void proc_free (struct proc *p);
/* Into the table: found by id, reaped, waited for. */
void proc_add (struct agent *a, struct proc *p);
/* A stream was attached or ended, the process exited: release the gate,
 * answer waiters when it is time. */
void proc_update (struct proc *p);
/* Reap every exited child (PID 1 adopts orphans). */
void procs_reap (struct agent *a);
/* A control connection went away: forget its waiters. */
void procs_forget_conn (struct agent *a, struct conn *c);

/* ---- /proc (procfs.c) ---- */

/* Pids (the agent's view) of the container's processes. */
int container_pids (struct agent *a, pid_t **out, size_t *n,
                    hy_error_t *err);
int procfs_ps (struct agent *a, struct hy_agent_response *r, hy_error_t *err);
int procfs_stats (struct agent *a, struct hy_agent_response *r,
                  hy_error_t *err);

/* ---- OOM (oom.c) ---- */

/* Watch <cgroup>/memory.events; nothing without a cgroup. */
int oom_watch (struct agent *a, hy_error_t *err);

/* ---- fault injection (fault.c) ---- */

enum agent_fault
{
  FAULT_NONE,
  FAULT_AGENT_START,       /* crash before the ready connection */
  FAULT_AGENT_CREATE,      /* crash on the create request */
  FAULT_AGENT_RUNNING,     /* crash while the container runs */
  FAULT_KERNEL_PANIC,      /* the kernel panics while the container runs */
  FAULT_HOSTILE_HELLO,     /* a hello with a mistyped version */
  FAULT_HOSTILE_OVERSIZED, /* create answered by a frame over 1 MiB */
  FAULT_HOSTILE_GARBAGE,   /* a frame that is not JSON, while running */
  AGENT_FAULTS
};

struct agent_opts;

/* PID 1: the kernel command line.  hyrun.floor powers off right here;
 * hyrun.fault=<point> sets o->fault (an unknown point is an error). */
int agent_read_cmdline (struct agent_opts *o, hy_error_t *err);
/* Crash for real (abort) when `point` is the injected fault. */
void fault_crash_at (const struct agent *a, enum agent_fault point);
/* The bogus hello of hostile.hello, else NULL. */
char *fault_hello (const struct agent *a, size_t *len);
/* A request is about to run: the fault may take it over (true: it did,
 * nothing is answered). */
bool fault_on_request (struct conn *c, const struct hy_agent_request *req);
/* The container's init was released: the faults of a running container
 * strike a moment later. */
void fault_container_running (struct agent *a);

/* ---- the agent (main.c) ---- */

struct agent_opts
{
  struct agent_transport transport;
  bool pid1;              /* PID-1 duties: mounts, 9p, reboot */
  const char *share;      /* where the 9p share is mounted */
  const char *cgroup;     /* a cgroup2 directory for the container, or NULL */
  int ready_timeout_ms;
  bool verbose;
  enum agent_fault fault; /* hyrun.fault= on the kernel command line */
};

struct agent
{
  struct agent_opts o;
  int epfd;
  struct hy_vm_watch control_listen;
  struct hy_vm_watch stream_listen;
  struct hy_vm_watch sigchld;
  struct hy_vm_watch oom;
  struct hy_vm_watch ready_retry; /* timerfd while the host is not there */
  struct hy_vm_watch fault_timer; /* a running container's fault */
  int ready_waited_ms;
  uint64_t oom_kills;
  char kernel[65];
  struct conn *conns;
  struct stream *streams;
  struct proc *procs;
  struct container *container;
  bool stop;              /* leave the loop (shutdown in test mode) */
};

/* Log a line on stderr (the console in a VM). */
void agent_log (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* Log "<context>: <error with its errno text>" (context may be NULL) and
 * release the error. */
void agent_log_error (const char *context, hy_error_t *err);
/* Add, change or remove (events 0) a watch; a failing epoll_ctl is
 * logged (it means a bug, not bad input). */
void agent_watch (struct agent *a, struct hy_vm_watch *w, uint32_t events);
/* Free dead connections, streams and processes (after each batch). */
void agent_bury (struct agent *a);

/* ---- PID 1 (pid1.c) ---- */

/* Everything but the share. */
int pid1_setup (const struct agent_opts *o, hy_error_t *err);
/* The host's 9p share at o->share (a failure is logged). */
void pid1_mount_share (const struct agent_opts *o);
__attribute__ ((noreturn)) void pid1_power_off (void);

#endif
