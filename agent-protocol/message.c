#include "agent-protocol/message.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/json.h"

#define CMD_MAX 4096
#define PS_COMM_MAX 64
#define PS_TTY_MAX 32
#define PS_STAT_MAX 8

/* ---- parsing ---- */

/* The nesting depth of a JSON text, strings skipped; stops counting past
 * `limit`.  yajl parses deep documents iteratively but frees them
 * recursively, so a hostile `[[[[...` must be refused before parsing. */
static size_t
nesting_depth (const char *s, size_t len, size_t limit)
{
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < len && deepest <= limit; i++)
    {
      char c = s[i];
      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = false;
        }
      else if (c == '"')
        in_string = true;
      else if (c == '[' || c == '{')
        {
          if (++depth > deepest)
            deepest = depth;
        }
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }
  return deepest;
}

/* yajl's message quotes the text around the error: the peer's bytes must
 * reach no terminal or log as they are.  Printable ASCII stays, anything
 * else becomes '?', runs of spaces one. */
static void
sanitize_message (char *msg)
{
  char *o = msg;
  for (const char *p = msg; *p; p++)
    {
      unsigned char c = (unsigned char) *p;
      char out = c >= 0x20 && c < 0x7f ? (char) c : '?';
      if (out == ' ' && o > msg && o[-1] == ' ')
        continue;
      *o++ = out;
    }
  *o = '\0';
}

int
hy_agent_parse (const char *body, size_t len, yajl_val *doc,
                const char **type, hy_error_t *err)
{
  if (memchr (body, '\0', len))
    return hy_error (err, EPROTO, "a NUL byte in the frame");
  if (nesting_depth (body, len, HY_AGENT_MAX_DEPTH) > HY_AGENT_MAX_DEPTH)
    return hy_error (err, EPROTO, "JSON nested deeper than %d levels",
                     HY_AGENT_MAX_DEPTH);
  yajl_val v = NULL;
  if (oci_json_parse (body, &v, err) < 0)
    {
      sanitize_message ((*err)->msg);
      return -1;
    }
  yajl_val t = oci_json_member (v, "type");
  int r = 0;
  if (!YAJL_IS_OBJECT (v))
    r = hy_error (err, EPROTO, "a frame must hold a JSON object");
  else if (t == NULL)
    r = hy_error (err, EPROTO, ".type: missing required field");
  else if (!YAJL_IS_STRING (t))
    r = hy_error (err, EPROTO, ".type: expected a string");
  if (r < 0)
    {
      yajl_tree_free (v);
      return -1;
    }
  *doc = v;
  *type = YAJL_GET_STRING (t);
  return 0;
}

/* ---- helpers ---- */

/* A string member of at most `max` bytes. */
static int
get_text (yajl_val obj, const oci_jpath *at, const char *key, bool required,
          size_t max, char **out, hy_error_t *err)
{
  if (oci_json_string (obj, at, key, required, out, err) < 0)
    return -1;
  if (*out && strlen (*out) > max)
    return oci_json_key_error (err, at, key, "longer than %zu bytes", max);
  return 0;
}

static int
get_uint (yajl_val obj, const oci_jpath *at, const char *key, uint64_t max,
          uint64_t *out, hy_error_t *err)
{
  return oci_json_uint64 (obj, at, key, true, max, out, NULL, err);
}

bool
hy_agent_id_valid (const char *id)
{
  size_t n = strlen (id);
  if (n == 0 || n > HY_AGENT_ID_MAX)
    return false;
  for (const char *p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
          || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.'
          || *p == '-'))
      return false;
  return true;
}

static int
get_id (yajl_val obj, const oci_jpath *at, char **out, hy_error_t *err)
{
  if (oci_json_string (obj, at, "id", true, out, err) < 0)
    return -1;
  if (!hy_agent_id_valid (*out))
    return oci_json_key_error (err, at, "id",
                               "must match [A-Za-z0-9_.-]{1,%d}",
                               HY_AGENT_ID_MAX);
  return 0;
}

static const char *const stream_names[] = { "stdin", "stdout", "stderr",
                                            "tty" };
#define N_STREAMS (sizeof (stream_names) / sizeof (stream_names[0]))

const char *
hy_agent_stream_name (unsigned stream)
{
  for (size_t i = 0; i < N_STREAMS; i++)
    if (stream == 1u << i)
      return stream_names[i];
  return NULL;
}

unsigned
hy_agent_stream_from_name (const char *name)
{
  for (size_t i = 0; i < N_STREAMS; i++)
    if (str_eq (name, stream_names[i]))
      return 1u << i;
  return 0;
}

static int
get_streams (yajl_val obj, const oci_jpath *at, unsigned *out,
             hy_error_t *err)
{
  yajl_val a = NULL;
  if (oci_json_array (obj, at, "streams", true, &a, err) < 0)
    return -1;
  const oci_jpath here = JPATH_KEY (at, "streams");
  unsigned set = 0;
  for (size_t i = 0; i < a->u.array.len; i++)
    {
      const oci_jpath item = JPATH_INDEX (&here, i);
      yajl_val v = a->u.array.values[i];
      if (!YAJL_IS_STRING (v))
        return oci_json_error (err, &item, "expected a string");
      unsigned s = hy_agent_stream_from_name (YAJL_GET_STRING (v));
      if (s == 0)
        return oci_json_error (err, &item, "unknown stream \"%s\"",
                               YAJL_GET_STRING (v));
      if (set & s)
        return oci_json_error (err, &item, "stream \"%s\" listed twice",
                               YAJL_GET_STRING (v));
      set |= s;
    }
  if ((set & HY_AGENT_TTY) && set != HY_AGENT_TTY)
    return oci_json_error (err, &here, "\"tty\" goes alone");
  *out = set;
  return 0;
}

static void
gen_streams (yajl_gen g, unsigned streams)
{
  oci_gen_key (g, "streams");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < N_STREAMS; i++)
    if (streams & (1u << i))
      oci_gen_str (g, stream_names[i]);
  yajl_gen_array_close (g);
}

static char *
finish (yajl_gen g, size_t *len)
{
  yajl_gen_map_close (g);
  size_t n;
  char *s = oci_gen_finish (g, &n);
  if (len)
    *len = n;
  return s;
}

static yajl_gen
start (const char *type)
{
  yajl_gen g = oci_gen_new (false);
  yajl_gen_map_open (g);
  oci_gen_kv_str (g, "type", type);
  return g;
}

/* ---- hello ---- */

char *
hy_agent_hello_encode (const char *kernel, size_t *len)
{
  yajl_gen g = start ("hello");
  oci_gen_kv_uint (g, "version", HY_AGENT_VERSION);
  oci_gen_kv_str (g, "kernel", kernel);
  return finish (g, len);
}

int
hy_agent_hello_decode (yajl_val doc, struct hy_agent_hello *out,
                       hy_error_t *err)
{
  uint64_t version = 0;
  *out = (struct hy_agent_hello){ 0 };
  if (get_uint (doc, JPATH_ROOT, "version", UINT32_MAX, &version, err) < 0
      || get_text (doc, JPATH_ROOT, "kernel", true, 256, &out->kernel, err)
             < 0)
    {
      hy_agent_hello_release (out);
      return -1;
    }
  out->version = (uint32_t) version;
  return 0;
}

void
hy_agent_hello_release (struct hy_agent_hello *h)
{
  free (h->kernel);
  h->kernel = NULL;
}

/* ---- requests ---- */

const char *const hy_agent_request_names[HY_AGENT_REQ_KINDS] = {
  [HY_AGENT_REQ_CREATE] = "create",
  [HY_AGENT_REQ_START] = "start",
  [HY_AGENT_REQ_EXEC] = "exec",
  [HY_AGENT_REQ_SIGNAL] = "signal",
  [HY_AGENT_REQ_WAIT] = "wait",
  [HY_AGENT_REQ_RESIZE] = "resize",
  [HY_AGENT_REQ_CLOSE_STDIN] = "close_stdin",
  [HY_AGENT_REQ_PS] = "ps",
  [HY_AGENT_REQ_STATS] = "stats",
  [HY_AGENT_REQ_SHUTDOWN] = "shutdown",
};

char *
hy_agent_request_encode (const struct hy_agent_request *r, size_t *len)
{
  yajl_gen g = start (hy_agent_request_names[r->kind]);
  oci_gen_kv_uint (g, "seq", r->seq);
  switch (r->kind)
    {
    case HY_AGENT_REQ_CREATE:
      if (r->container_id)
        oci_gen_kv_str (g, "container_id", r->container_id);
      oci_gen_key (g, "config");
      oci_gen_config (g, r->config);
      gen_streams (g, r->streams);
      if (r->debug)
        oci_gen_kv_bool (g, "debug", true);
      break;
    case HY_AGENT_REQ_EXEC:
      oci_gen_kv_str (g, "id", r->id);
      oci_gen_key (g, "process");
      oci_gen_process_value (g, r->process);
      gen_streams (g, r->streams);
      if (r->debug)
        oci_gen_kv_bool (g, "debug", true);
      break;
    case HY_AGENT_REQ_SIGNAL:
      oci_gen_kv_str (g, "id", r->id);
      oci_gen_kv_int (g, "signal", r->signal);
      if (r->all)
        oci_gen_kv_bool (g, "all", true);
      break;
    case HY_AGENT_REQ_RESIZE:
      oci_gen_kv_str (g, "id", r->id);
      oci_gen_kv_uint (g, "rows", r->rows);
      oci_gen_kv_uint (g, "cols", r->cols);
      break;
    case HY_AGENT_REQ_WAIT:
    case HY_AGENT_REQ_CLOSE_STDIN:
      oci_gen_kv_str (g, "id", r->id);
      break;
    default:
      break;
    }
  return finish (g, len);
}

static bool
container_id_valid (const char *id)
{
  size_t n = strlen (id);
  if (n == 0 || n > HY_AGENT_CONTAINER_ID_MAX || str_eq (id, ".")
      || str_eq (id, ".."))
    return false;
  for (const char *p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
          || (*p >= '0' && *p <= '9') || strchr ("_+.-", *p)))
      return false;
  return true;
}

static int
decode_create (yajl_val doc, struct hy_agent_request *r, hy_error_t *err)
{
  yajl_val config = NULL;
  if (oci_json_string (doc, JPATH_ROOT, "container_id", false,
                       &r->container_id, err) < 0)
    return -1;
  if (r->container_id && !container_id_valid (r->container_id))
    return oci_json_key_error (err, JPATH_ROOT, "container_id",
                               "must match [A-Za-z0-9_+.-]{1,%d}",
                               HY_AGENT_CONTAINER_ID_MAX);
  if (oci_json_object (doc, JPATH_ROOT, "config", true, &config, err) < 0
      || oci_config_from_tree (config, "config", &r->config, err) < 0
      || oci_json_bool (doc, JPATH_ROOT, "debug", false, &r->debug, NULL,
                        err) < 0)
    return -1;
  return get_streams (doc, JPATH_ROOT, &r->streams, err);
}

static int
decode_exec (yajl_val doc, struct hy_agent_request *r, hy_error_t *err)
{
  const oci_jpath at = JPATH_KEY (JPATH_ROOT, "process");
  yajl_val process = NULL;
  if (get_id (doc, JPATH_ROOT, &r->id, err) < 0)
    return -1;
  if (str_eq (r->id, "init"))
    return hy_error (err, EINVAL, ".id: \"init\" is the container's init");
  if (oci_json_object (doc, JPATH_ROOT, "process", true, &process, err) < 0
      || oci_parse_process (process, &at, &r->process, err) < 0
      || oci_json_bool (doc, JPATH_ROOT, "debug", false, &r->debug, NULL,
                        err) < 0)
    return -1;
  return get_streams (doc, JPATH_ROOT, &r->streams, err);
}

static int
decode_signal (yajl_val doc, struct hy_agent_request *r, hy_error_t *err)
{
  uint64_t sig = 0;
  if (get_id (doc, JPATH_ROOT, &r->id, err) < 0
      || get_uint (doc, JPATH_ROOT, "signal", 64, &sig, err) < 0)
    return -1;
  if (sig == 0)
    return hy_error (err, EINVAL, ".signal: 0 is out of range [1, 64]");
  r->signal = (int) sig;
  return oci_json_bool (doc, JPATH_ROOT, "all", false, &r->all, NULL, err);
}

static int
decode_resize (yajl_val doc, struct hy_agent_request *r, hy_error_t *err)
{
  uint64_t rows = 0, cols = 0;
  if (get_id (doc, JPATH_ROOT, &r->id, err) < 0
      || get_uint (doc, JPATH_ROOT, "rows", UINT16_MAX, &rows, err) < 0
      || get_uint (doc, JPATH_ROOT, "cols", UINT16_MAX, &cols, err) < 0)
    return -1;
  r->rows = (uint16_t) rows;
  r->cols = (uint16_t) cols;
  return 0;
}

static int
decode_members (yajl_val doc, struct hy_agent_request *r, hy_error_t *err)
{
  switch (r->kind)
    {
    case HY_AGENT_REQ_CREATE:
      return decode_create (doc, r, err);
    case HY_AGENT_REQ_EXEC:
      return decode_exec (doc, r, err);
    case HY_AGENT_REQ_SIGNAL:
      return decode_signal (doc, r, err);
    case HY_AGENT_REQ_RESIZE:
      return decode_resize (doc, r, err);
    case HY_AGENT_REQ_WAIT:
    case HY_AGENT_REQ_CLOSE_STDIN:
      return get_id (doc, JPATH_ROOT, &r->id, err);
    default:
      return 0;
    }
}

int
hy_agent_request_decode (yajl_val doc, struct hy_agent_request *out,
                         bool *answerable, hy_error_t *err)
{
  *out = (struct hy_agent_request){ 0 };
  *answerable = false;
  uint64_t seq = 0;
  if (get_uint (doc, JPATH_ROOT, "seq", UINT32_MAX, &seq, err) < 0)
    return -1;
  out->seq = (uint32_t) seq;
  *answerable = true;
  const char *type = YAJL_GET_STRING (oci_json_member (doc, "type"));
  size_t kind = 0;
  while (kind < HY_AGENT_REQ_KINDS
         && !str_eq (type, hy_agent_request_names[kind]))
    kind++;
  if (kind == HY_AGENT_REQ_KINDS)
    return hy_error (err, ENOTSUP, "unknown request \"%s\"",
                     type ? type : "");
  out->kind = (enum hy_agent_request_kind) kind;
  if (decode_members (doc, out, err) < 0)
    {
      hy_agent_request_release (out);
      out->seq = (uint32_t) seq;
      return -1;
    }
  return 0;
}

void
hy_agent_request_release (struct hy_agent_request *r)
{
  oci_config_free (r->config);
  free (r->container_id);
  oci_process_free (r->process);
  free (r->id);
  *r = (struct hy_agent_request){ .kind = r->kind };
}

/* ---- responses ---- */

static void
gen_ps (yajl_gen g, const struct hy_agent_response *r)
{
  oci_gen_key (g, "processes");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < r->n_processes; i++)
    {
      const struct hy_agent_ps_entry *e = &r->processes[i];
      char state[2] = { e->state, '\0' };
      yajl_gen_map_open (g);
      oci_gen_kv_int (g, "pid", e->pid);
      oci_gen_kv_int (g, "ppid", e->ppid);
      oci_gen_kv_uint (g, "uid", e->uid);
      oci_gen_kv_str (g, "state", state);
      oci_gen_kv_str (g, "cmd", e->cmd ? e->cmd : "");
      oci_gen_kv_uint (g, "gid", e->gid);
      if (e->comm)
        oci_gen_kv_str (g, "comm", e->comm);
      if (e->tty)
        oci_gen_kv_str (g, "tty", e->tty);
      if (e->stat)
        oci_gen_kv_str (g, "stat", e->stat);
      oci_gen_kv_uint (g, "elapsed_ms", e->elapsed_ms);
      oci_gen_kv_uint (g, "cpu_ms", e->cpu_ms);
      oci_gen_kv_uint (g, "rss_kb", e->rss_kb);
      oci_gen_kv_uint (g, "vsz_kb", e->vsz_kb);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  if (r->mem_total)
    oci_gen_kv_uint (g, "mem_total", r->mem_total);
}

static void
gen_debug (yajl_gen g, const struct hy_agent_response *r)
{
  if (r->n_debug == 0)
    return;
  oci_gen_key (g, "debug");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < r->n_debug; i++)
    yajl_gen_string (g, (const unsigned char *) r->debug[i],
                     strlen (r->debug[i]));
  yajl_gen_array_close (g);
}

static void
gen_stats (yajl_gen g, const struct hy_agent_response *r)
{
  oci_gen_key (g, "memory");
  yajl_gen_map_open (g);
  oci_gen_kv_uint (g, "total", r->mem_total);
  oci_gen_kv_uint (g, "free", r->mem_free);
  oci_gen_kv_uint (g, "available", r->mem_available);
  yajl_gen_map_close (g);
  oci_gen_kv_uint (g, "pids", r->pids);
  oci_gen_kv_uint (g, "cpu_ns", r->cpu_ns);
}

char *
hy_agent_response_encode (const struct hy_agent_response *r,
                          enum hy_agent_request_kind kind, size_t *len)
{
  yajl_gen g = start ("response");
  oci_gen_kv_uint (g, "seq", r->seq);
  if (r->error)
    {
      oci_gen_kv_str (g, "error", r->error);
      return finish (g, len);
    }
  switch (kind)
    {
    case HY_AGENT_REQ_CREATE:
    case HY_AGENT_REQ_EXEC:
      oci_gen_kv_int (g, "pid", r->pid);
      gen_debug (g, r);
      break;
    case HY_AGENT_REQ_WAIT:
      if (r->signaled)
        oci_gen_kv_int (g, "signal", r->signal);
      else
        oci_gen_kv_int (g, "exit_code", r->exit_code);
      break;
    case HY_AGENT_REQ_PS:
      gen_ps (g, r);
      break;
    case HY_AGENT_REQ_STATS:
      gen_stats (g, r);
      break;
    default:
      break;
    }
  return finish (g, len);
}

int
hy_agent_response_seq (yajl_val doc, uint32_t *seq, hy_error_t *err)
{
  uint64_t v = 0;
  if (get_uint (doc, JPATH_ROOT, "seq", UINT32_MAX, &v, err) < 0)
    return -1;
  *seq = (uint32_t) v;
  return 0;
}

static int
decode_wait (yajl_val doc, struct hy_agent_response *r, hy_error_t *err)
{
  int64_t code = 0, sig = 0;
  bool has_code = false, has_sig = false;
  if (oci_json_int64 (doc, JPATH_ROOT, "exit_code", false, 0, 255, &code,
                      &has_code, err) < 0
      || oci_json_int64 (doc, JPATH_ROOT, "signal", false, 1, 64, &sig,
                         &has_sig, err) < 0)
    return -1;
  if (has_code == has_sig)
    return hy_error (err, EPROTO, "a wait response needs one of .exit_code "
                                  "and .signal");
  r->signaled = has_sig;
  r->exit_code = (int) code;
  r->signal = (int) sig;
  return 0;
}

/* Short text the host prints in a table: printable ASCII, blanks only
 * where `blanks` allows. */
static int
get_printable (yajl_val obj, const oci_jpath *at, const char *key,
               size_t max, bool blanks, char **out, hy_error_t *err)
{
  if (get_text (obj, at, key, false, max, out, err) < 0)
    return -1;
  for (const char *c = *out; c && *c; c++)
    if ((unsigned char) *c < ' ' || (unsigned char) *c >= 0x7f
        || (*c == ' ' && !blanks))
      return oci_json_key_error (err, at, key, blanks
                                                   ? "not printable"
                                                   : "not a printable word");
  return 0;
}

static int
get_optional_uint (yajl_val obj, const oci_jpath *at, const char *key,
                   uint64_t max, uint64_t *out, hy_error_t *err)
{
  return oci_json_uint64 (obj, at, key, false, max, out, NULL, err);
}

/* The members a newer agent adds; each may be missing. */
static int
decode_ps_details (yajl_val v, const oci_jpath *at,
                   struct hy_agent_ps_entry *e, hy_error_t *err)
{
  uint64_t gid = 0;
  if (get_optional_uint (v, at, "gid", UINT32_MAX, &gid, err) < 0
      || get_printable (v, at, "comm", PS_COMM_MAX, true, &e->comm, err) < 0
      || get_printable (v, at, "tty", PS_TTY_MAX, false, &e->tty, err) < 0
      || get_printable (v, at, "stat", PS_STAT_MAX, false, &e->stat, err)
             < 0
      || get_optional_uint (v, at, "elapsed_ms", UINT64_MAX, &e->elapsed_ms,
                            err) < 0
      || get_optional_uint (v, at, "cpu_ms", UINT64_MAX, &e->cpu_ms, err) < 0
      || get_optional_uint (v, at, "rss_kb", UINT64_MAX, &e->rss_kb, err) < 0
      || get_optional_uint (v, at, "vsz_kb", UINT64_MAX, &e->vsz_kb, err) < 0)
    return -1;
  e->gid = (uint32_t) gid;
  return 0;
}

static int
decode_ps_entry (yajl_val v, const oci_jpath *at,
                 struct hy_agent_ps_entry *e, hy_error_t *err)
{
  int64_t pid = 0, ppid = 0;
  uint64_t uid = 0;
  _cleanup_free_ char *state = NULL;
  if (oci_json_expect_object (v, at, err) < 0
      || oci_json_int64 (v, at, "pid", true, 1, INT32_MAX, &pid, NULL, err)
             < 0
      || oci_json_int64 (v, at, "ppid", true, 0, INT32_MAX, &ppid, NULL, err)
             < 0
      || get_uint (v, at, "uid", UINT32_MAX, &uid, err) < 0
      || get_text (v, at, "state", true, 1, &state, err) < 0
      || get_text (v, at, "cmd", true, CMD_MAX, &e->cmd, err) < 0
      || decode_ps_details (v, at, e, err) < 0)
    return -1;
  if (state[0] < 'A' || state[0] > 'z')
    return oci_json_key_error (err, at, "state", "not a process state");
  e->pid = (int32_t) pid;
  e->ppid = (int32_t) ppid;
  e->uid = (uint32_t) uid;
  e->state = state[0];
  return 0;
}

static int
decode_ps (yajl_val doc, struct hy_agent_response *r, hy_error_t *err)
{
  yajl_val a = NULL;
  if (oci_json_array (doc, JPATH_ROOT, "processes", true, &a, err) < 0)
    return -1;
  const oci_jpath here = JPATH_KEY (JPATH_ROOT, "processes");
  if (a->u.array.len > HY_AGENT_MAX_PROCESSES)
    return oci_json_error (err, &here, "more than %d entries",
                           HY_AGENT_MAX_PROCESSES);
  r->processes = xmalloc0 ((a->u.array.len + 1) * sizeof (*r->processes));
  for (size_t i = 0; i < a->u.array.len; i++)
    {
      const oci_jpath item = JPATH_INDEX (&here, i);
      r->n_processes = i + 1; /* so that release frees the cmd */
      if (decode_ps_entry (a->u.array.values[i], &item, &r->processes[i],
                           err) < 0)
        return -1;
    }
  return get_optional_uint (doc, JPATH_ROOT, "mem_total", UINT64_MAX,
                            &r->mem_total, err);
}

static int
decode_stats (yajl_val doc, struct hy_agent_response *r, hy_error_t *err)
{
  const oci_jpath at = JPATH_KEY (JPATH_ROOT, "memory");
  yajl_val mem = NULL;
  if (oci_json_object (doc, JPATH_ROOT, "memory", true, &mem, err) < 0
      || get_uint (mem, &at, "total", UINT64_MAX, &r->mem_total, err) < 0
      || get_uint (mem, &at, "free", UINT64_MAX, &r->mem_free, err) < 0
      || get_uint (mem, &at, "available", UINT64_MAX, &r->mem_available,
                   err) < 0
      || get_uint (doc, JPATH_ROOT, "pids", UINT32_MAX, &r->pids, err) < 0
      || get_uint (doc, JPATH_ROOT, "cpu_ns", UINT64_MAX, &r->cpu_ns, err)
             < 0)
    return -1;
  return 0;
}

/* The host writes these lines to its log: no control characters, so that
 * a guest cannot forge log entries. */
static int
decode_debug_line (yajl_val v, const oci_jpath *at, char **out,
                   hy_error_t *err)
{
  const char *text = YAJL_GET_STRING (v);
  if (text == NULL)
    return oci_json_error (err, at, "expected a string");
  size_t n = strlen (text);
  if (n > HY_AGENT_DEBUG_LINE_MAX)
    return oci_json_error (err, at, "longer than %d bytes",
                           HY_AGENT_DEBUG_LINE_MAX);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char) text[i] < 0x20 || text[i] == 0x7f)
      return oci_json_error (err, at, "a control character");
  *out = xstrdup (text);
  return 0;
}

static int
decode_debug (yajl_val doc, struct hy_agent_response *r, hy_error_t *err)
{
  yajl_val a = NULL;
  if (oci_json_array (doc, JPATH_ROOT, "debug", false, &a, err) < 0)
    return -1;
  if (a == NULL)
    return 0;
  const oci_jpath here = JPATH_KEY (JPATH_ROOT, "debug");
  if (a->u.array.len > HY_AGENT_MAX_DEBUG_LINES)
    return oci_json_error (err, &here, "more than %d lines",
                           HY_AGENT_MAX_DEBUG_LINES);
  r->debug = xmalloc0 ((a->u.array.len + 1) * sizeof (char *));
  for (size_t i = 0; i < a->u.array.len; i++)
    {
      const oci_jpath item = JPATH_INDEX (&here, i);
      if (decode_debug_line (a->u.array.values[i], &item, &r->debug[i], err)
          < 0)
        return -1;
      r->n_debug = i + 1;
    }
  return 0;
}

static int
decode_success (yajl_val doc, enum hy_agent_request_kind kind,
                struct hy_agent_response *r, hy_error_t *err)
{
  int64_t pid = 0;
  switch (kind)
    {
    case HY_AGENT_REQ_CREATE:
    case HY_AGENT_REQ_EXEC:
      if (oci_json_int64 (doc, JPATH_ROOT, "pid", true, 1, INT32_MAX, &pid,
                          NULL, err) < 0)
        return -1;
      r->pid = (int32_t) pid;
      return decode_debug (doc, r, err);
    case HY_AGENT_REQ_WAIT:
      return decode_wait (doc, r, err);
    case HY_AGENT_REQ_PS:
      return decode_ps (doc, r, err);
    case HY_AGENT_REQ_STATS:
      return decode_stats (doc, r, err);
    default:
      return 0;
    }
}

int
hy_agent_response_decode (yajl_val doc, enum hy_agent_request_kind kind,
                          struct hy_agent_response *out, hy_error_t *err)
{
  *out = (struct hy_agent_response){ 0 };
  int r = hy_agent_response_seq (doc, &out->seq, err);
  if (r == 0)
    r = get_text (doc, JPATH_ROOT, "error", false, HY_AGENT_TEXT_MAX,
                  &out->error, err);
  if (r == 0 && out->error == NULL)
    r = decode_success (doc, kind, out, err);
  if (r < 0)
    {
      hy_agent_response_release (out);
      return -1;
    }
  return 0;
}

void
hy_agent_response_release (struct hy_agent_response *r)
{
  free (r->error);
  for (size_t i = 0; i < r->n_debug; i++)
    free (r->debug[i]);
  free (r->debug);
  for (size_t i = 0; i < r->n_processes; i++)
    {
      free (r->processes[i].cmd);
      free (r->processes[i].comm);
      free (r->processes[i].tty);
      free (r->processes[i].stat);
    }
  free (r->processes);
  *r = (struct hy_agent_response){ .seq = r->seq };
}

/* ---- events ---- */

char *
hy_agent_oom_encode (const char *id, size_t *len)
{
  yajl_gen g = start ("oom");
  oci_gen_kv_str (g, "id", id);
  return finish (g, len);
}

int
hy_agent_event_decode (yajl_val doc, struct hy_agent_event *out,
                       hy_error_t *err)
{
  *out = (struct hy_agent_event){ 0 };
  const char *type = YAJL_GET_STRING (oci_json_member (doc, "type"));
  if (!str_eq (type, "oom"))
    return 0;
  out->kind = HY_AGENT_EVENT_OOM;
  if (get_id (doc, JPATH_ROOT, &out->id, err) < 0)
    {
      hy_agent_event_release (out);
      return -1;
    }
  return 1;
}

void
hy_agent_event_release (struct hy_agent_event *e)
{
  free (e->id);
  e->id = NULL;
}

/* ---- attach ---- */

char *
hy_agent_attach_encode (const char *id, unsigned stream, size_t *len)
{
  yajl_gen g = start ("attach");
  oci_gen_kv_str (g, "id", id);
  oci_gen_kv_str (g, "stream", hy_agent_stream_name (stream));
  return finish (g, len);
}

int
hy_agent_attach_decode (yajl_val doc, struct hy_agent_attach *out,
                        hy_error_t *err)
{
  _cleanup_free_ char *name = NULL;
  *out = (struct hy_agent_attach){ 0 };
  const char *type = YAJL_GET_STRING (oci_json_member (doc, "type"));
  if (!str_eq (type, "attach"))
    return hy_error (err, EPROTO, "expected an attach frame, got \"%s\"",
                     type ? type : "");
  if (get_id (doc, JPATH_ROOT, &out->id, err) < 0
      || oci_json_string (doc, JPATH_ROOT, "stream", true, &name, err) < 0)
    {
      hy_agent_attach_release (out);
      return -1;
    }
  out->stream = hy_agent_stream_from_name (name);
  if (out->stream == 0)
    {
      hy_agent_attach_release (out);
      return hy_error (err, EINVAL, ".stream: unknown stream \"%s\"", name);
    }
  return 0;
}

void
hy_agent_attach_release (struct hy_agent_attach *a)
{
  free (a->id);
  a->id = NULL;
}
