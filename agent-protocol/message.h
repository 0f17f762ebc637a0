/* The messages of the guest agent protocol (docs/AGENT-PROTOCOL.md),
 * shared by the agent (guest-agent/) and the host's client
 * (runtime/vm/agent-client.c).
 *
 * A frame's body is parsed once (hy_agent_parse: bounded nesting, one JSON
 * object with a string `type`), then decoded by type.  Decoders check
 * every member they use (type, range, length) and name it in errors
 * (".streams[1]: unknown stream \"foo\""); members they do not know are
 * ignored.  Encoders return a frame body (caller frees). */
#ifndef HYRUN_AGENT_PROTOCOL_MESSAGE_H
#define HYRUN_AGENT_PROTOCOL_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "common/error.h"
#include "oci/config.h"

#define HY_AGENT_VERSION 1
#define HY_AGENT_HOST_CID 2
#define HY_AGENT_PORT_CONTROL 1024
#define HY_AGENT_PORT_STREAMS 1025

/* Deepest nesting of arrays and objects a frame may have (yajl frees trees
 * recursively; config.json needs about 8). */
#define HY_AGENT_MAX_DEPTH 64
#define HY_AGENT_ID_MAX 64
/* A container id: `[A-Za-z0-9_+.-]{1,1024}`, as the runtime's. */
#define HY_AGENT_CONTAINER_ID_MAX 1024
/* Longest text member (error, cmd, kernel) the host accepts. */
#define HY_AGENT_TEXT_MAX 65536
/* Most debug lines of a create/exec answer, and their longest. */
#define HY_AGENT_MAX_DEBUG_LINES 64
#define HY_AGENT_DEBUG_LINE_MAX 4096
/* Most `ps` entries the host accepts. */
#define HY_AGENT_MAX_PROCESSES 65536

/* ---- parsing a frame ---- */

/* body[len] must be NUL (hy_frame_read guarantees it).  On success *doc is
 * the tree (yajl_tree_free) and *type points into it. */
int hy_agent_parse (const char *body, size_t len, yajl_val *doc,
                    const char **type, hy_error_t *err);

/* ---- names ---- */

/* `[A-Za-z0-9_.-]{1,64}` */
bool hy_agent_id_valid (const char *id);

enum hy_agent_stream
{
  HY_AGENT_STDIN = 1 << 0,
  HY_AGENT_STDOUT = 1 << 1,
  HY_AGENT_STDERR = 1 << 2,
  HY_AGENT_TTY = 1 << 3,
};

/* "stdin", ...; NULL for anything but a single stream bit. */
const char *hy_agent_stream_name (unsigned stream);
/* The bit of a stream name, 0 when unknown. */
unsigned hy_agent_stream_from_name (const char *name);

/* ---- hello (agent -> host, first on every control connection) ---- */

struct hy_agent_hello
{
  uint32_t version;
  char *kernel;
};

char *hy_agent_hello_encode (const char *kernel, size_t *len);
int hy_agent_hello_decode (yajl_val doc, struct hy_agent_hello *out,
                           hy_error_t *err);
void hy_agent_hello_release (struct hy_agent_hello *h);

/* ---- requests (host -> agent) ---- */

enum hy_agent_request_kind
{
  HY_AGENT_REQ_CREATE,
  HY_AGENT_REQ_START,
  HY_AGENT_REQ_EXEC,
  HY_AGENT_REQ_SIGNAL,
  HY_AGENT_REQ_WAIT,
  HY_AGENT_REQ_RESIZE,
  HY_AGENT_REQ_CLOSE_STDIN,
  HY_AGENT_REQ_PS,
  HY_AGENT_REQ_STATS,
  HY_AGENT_REQ_SHUTDOWN,
  HY_AGENT_REQ_KINDS
};

/* "create", ... in enum order */
extern const char *const hy_agent_request_names[HY_AGENT_REQ_KINDS];

/* Which members a kind uses is in the protocol's table.  Decoded requests
 * own their members (hy_agent_request_release); to encode, the caller may
 * point config/process/id at its own data and not release. */
struct hy_agent_request
{
  enum hy_agent_request_kind kind;
  uint32_t seq;
  struct oci_config *config;   /* create */
  char *container_id;          /* create, optional: the host's id */
  struct oci_process *process; /* exec */
  char *id;                    /* exec, signal, wait, resize, close_stdin */
  unsigned streams;            /* create, exec: HY_AGENT_STDIN | ... */
  bool debug;                  /* create, exec: return the setup's debug
                                  lines */
  int signal;                  /* 1..64 */
  bool all;
  uint16_t rows, cols;
};

char *hy_agent_request_encode (const struct hy_agent_request *r, size_t *len);

/* Decode a request.  *answerable is set once `seq` has been read, so that
 * a request with a bad member (or of an unknown type) can be answered
 * with the error instead of closing the connection. */
int hy_agent_request_decode (yajl_val doc, struct hy_agent_request *out,
                             bool *answerable, hy_error_t *err);
void hy_agent_request_release (struct hy_agent_request *r);

/* ---- responses (agent -> host) ---- */

struct hy_agent_ps_entry
{
  int32_t pid;  /* in the container's pid namespace */
  int32_t ppid; /* 0 when the parent is outside the container */
  uint32_t uid;
  char state;   /* R, S, D, Z, T, ... as /proc shows it */
  char *cmd;
  /* Optional members (an older agent leaves them out): */
  uint32_t gid;
  char *comm;   /* the executable's name; NULL: not sent */
  char *tty;    /* "pts/0", ...; NULL: no terminal */
  char *stat;   /* BSD STAT: state and flags ("Ss+"); NULL: not sent */
  uint64_t elapsed_ms; /* since it started */
  uint64_t cpu_ms;     /* user + system */
  uint64_t rss_kb, vsz_kb;
};

struct hy_agent_response
{
  uint32_t seq;
  char *error; /* NULL on success; then the members of the kind */
  int32_t pid; /* create, exec */
  char **debug; /* create, exec: the setup's debug lines, when asked */
  size_t n_debug;
  bool signaled; /* wait: killed by `signal`, else exited with exit_code */
  int exit_code;
  int signal;
  struct hy_agent_ps_entry *processes; /* ps */
  size_t n_processes;
  uint64_t mem_total, mem_free, mem_available; /* stats, bytes (ps: total,
                                                  0 when not sent) */
  uint64_t pids;
  uint64_t cpu_ns;
};

char *hy_agent_response_encode (const struct hy_agent_response *r,
                                enum hy_agent_request_kind kind,
                                size_t *len);

/* The seq of a response, to learn which request (kind) it answers. */
int hy_agent_response_seq (yajl_val doc, uint32_t *seq, hy_error_t *err);

/* Decode a response to a request of `kind`: an error, or every member the
 * kind's success carries. */
int hy_agent_response_decode (yajl_val doc, enum hy_agent_request_kind kind,
                              struct hy_agent_response *out, hy_error_t *err);
void hy_agent_response_release (struct hy_agent_response *r);

/* ---- events (agent -> host, on the ready connection) ---- */

enum hy_agent_event_kind
{
  HY_AGENT_EVENT_OOM,
};

struct hy_agent_event
{
  enum hy_agent_event_kind kind;
  char *id;
};

char *hy_agent_oom_encode (const char *id, size_t *len);
/* 1 and *out filled for an event, 0 for a type that is no event this
 * version knows (ignored), <0 on a bad member. */
int hy_agent_event_decode (yajl_val doc, struct hy_agent_event *out,
                           hy_error_t *err);
void hy_agent_event_release (struct hy_agent_event *e);

/* ---- attach (host -> agent, first frame of a stream connection) ---- */

struct hy_agent_attach
{
  char *id;
  unsigned stream; /* one HY_AGENT_* bit */
};

char *hy_agent_attach_encode (const char *id, unsigned stream, size_t *len);
int hy_agent_attach_decode (yajl_val doc, struct hy_agent_attach *out,
                            hy_error_t *err);
void hy_agent_attach_release (struct hy_agent_attach *a);

#endif
