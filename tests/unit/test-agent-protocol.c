/* The guest agent protocol library: framing and messages, with the hostile
 * inputs a guest (or a confused host) can send. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent-protocol/frame.h"
#include "agent-protocol/message.h"
#include "common/cleanup.h"
#include "common/util.h"

static void
tree_freep (yajl_val *v)
{
  if (*v)
    yajl_tree_free (*v);
}
#define _cleanup_tree_ __attribute__ ((cleanup (tree_freep)))

static void
expect_error (hy_error_t *err, const char *needle)
{
  assert_non_null (*err);
  if (strstr ((*err)->msg, needle) == NULL)
    fail_msg ("error \"%s\" does not contain \"%s\"", (*err)->msg, needle);
  hy_error_release (err);
}

/* ---- frames ---- */

static void
header (uint8_t out[4], uint32_t n)
{
  out[0] = (uint8_t) n;
  out[1] = (uint8_t) (n >> 8);
  out[2] = (uint8_t) (n >> 16);
  out[3] = (uint8_t) (n >> 24);
}

static enum hy_frame_status
feed_all (struct hy_frame_reader *r, const uint8_t *data, size_t n,
          char **body, size_t *len, hy_error_t *err)
{
  return hy_frame_feed (r, &data, &n, body, len, err);
}

static void
test_frame_roundtrip_byte_by_byte (void **state)
{
  (void) state;
  struct hy_frame_writer w;
  hy_frame_writer_init (&w);
  hy_error_t err = NULL;
  assert_int_equal (hy_frame_writer_add (&w, "{\"a\":1}", 7, &err), 0);
  assert_int_equal (hy_frame_writer_add (&w, "[]", 2, &err), 0);
  assert_int_equal (w.len, 4 + 7 + 4 + 2);
  assert_memory_equal (w.buf, "\x07\x00\x00\x00{\"a\":1}", 11);

  struct hy_frame_reader r;
  hy_frame_reader_init (&r);
  char *body = NULL;
  size_t len = 0;
  int frames = 0;
  for (size_t i = 0; i < w.len; i++)
    {
      enum hy_frame_status s
          = feed_all (&r, w.buf + i, 1, &body, &len, &err);
      assert_int_not_equal (s, HY_FRAME_ERROR);
      if (s == HY_FRAME_DONE)
        {
          frames++;
          assert_string_equal (body, frames == 1 ? "{\"a\":1}" : "[]");
          assert_int_equal (len, frames == 1 ? 7 : 2);
          free (body);
        }
    }
  assert_int_equal (frames, 2);
  assert_false (hy_frame_reader_partial (&r));
  hy_frame_reader_release (&r);
  hy_frame_writer_release (&w);
}

static void
test_frame_bad_lengths (void **state)
{
  (void) state;
  const uint32_t bad[] = { 0, HY_AGENT_MAX_FRAME + 1, 0xffffffffu };
  for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      struct hy_frame_reader r;
      hy_frame_reader_init (&r);
      uint8_t h[4];
      header (h, bad[i]);
      char *body = NULL;
      size_t len;
      hy_error_t err = NULL;
      assert_int_equal (feed_all (&r, h, 4, &body, &len, &err),
                        HY_FRAME_ERROR);
      expect_error (&err, "out of range");
      assert_null (body);
      hy_frame_reader_release (&r);
    }
  /* The writer refuses them too. */
  struct hy_frame_writer w;
  hy_frame_writer_init (&w);
  hy_error_t err = NULL;
  assert_true (hy_frame_writer_add (&w, "", 0, &err) < 0);
  expect_error (&err, "out of range");
  hy_frame_writer_release (&w);
}

/* A frame of exactly 1 MiB is fine; the buffer grows only as bytes come. */
static void
test_frame_max_size (void **state)
{
  (void) state;
  struct hy_frame_reader r;
  hy_frame_reader_init (&r);
  uint8_t h[4];
  header (h, HY_AGENT_MAX_FRAME);
  char *body = NULL;
  size_t len = 0;
  hy_error_t err = NULL;
  assert_int_equal (feed_all (&r, h, 4, &body, &len, &err), HY_FRAME_AGAIN);
  assert_int_equal (r.body_cap, 0);
  uint8_t *data = xmalloc0 (HY_AGENT_MAX_FRAME);
  memset (data, ' ', HY_AGENT_MAX_FRAME);
  assert_int_equal (feed_all (&r, data, 10, &body, &len, &err),
                    HY_FRAME_AGAIN);
  assert_true (r.body_cap < 128 * 1024);
  assert_int_equal (feed_all (&r, data, HY_AGENT_MAX_FRAME - 10, &body, &len,
                              &err),
                    HY_FRAME_DONE);
  assert_int_equal (len, HY_AGENT_MAX_FRAME);
  assert_int_equal (body[len], '\0');
  free (body);
  free (data);
  hy_frame_reader_release (&r);
}

/* Non-blocking reads: partial frames wait, a close inside a frame is an
 * error, a close between frames is EOF. */
static void
test_frame_read_fd (void **state)
{
  (void) state;
  int sv[2];
  assert_int_equal (
      socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  struct hy_frame_reader r;
  hy_frame_reader_init (&r);
  char *body = NULL;
  size_t len = 0;
  hy_error_t err = NULL;
  assert_int_equal (hy_frame_read (&r, sv[0], &body, &len, &err),
                    HY_FRAME_AGAIN);
  assert_int_equal (write (sv[1], "\x05\x00\x00\x00" "ab", 6), 6);
  assert_int_equal (hy_frame_read (&r, sv[0], &body, &len, &err),
                    HY_FRAME_AGAIN);
  assert_true (hy_frame_reader_partial (&r));
  /* The rest of this frame and the start of the next: only the first is
   * consumed. */
  assert_int_equal (write (sv[1], "cde\x02\x00", 5), 5);
  assert_int_equal (hy_frame_read (&r, sv[0], &body, &len, &err),
                    HY_FRAME_DONE);
  assert_string_equal (body, "abcde");
  free (body);
  assert_int_equal (hy_frame_read (&r, sv[0], &body, &len, &err),
                    HY_FRAME_AGAIN);
  close (sv[1]);
  assert_int_equal (hy_frame_read (&r, sv[0], &body, &len, &err),
                    HY_FRAME_ERROR);
  expect_error (&err, "inside a frame");
  hy_frame_reader_release (&r);
  close (sv[0]);

  assert_int_equal (
      socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  close (sv[1]);
  hy_frame_reader_init (&r);
  assert_int_equal (hy_frame_read (&r, sv[0], &body, &len, &err),
                    HY_FRAME_EOF);
  close (sv[0]);
}

/* The writer keeps what a full socket does not take. */
static void
test_frame_writer_backpressure (void **state)
{
  (void) state;
  int sv[2];
  assert_int_equal (
      socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  int small = 4096;
  setsockopt (sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof (small));
  struct hy_frame_writer w;
  hy_frame_writer_init (&w);
  hy_error_t err = NULL;
  char *big = xmalloc0 (512 * 1024);
  memset (big, 'x', 512 * 1024);
  assert_int_equal (hy_frame_writer_add (&w, big, 512 * 1024, &err), 0);
  assert_int_equal (hy_frame_writer_flush (&w, sv[0], &err), 0);
  assert_true (hy_frame_writer_pending (&w) > 0);
  /* Drain the other side while flushing until all is through. */
  struct hy_frame_reader r;
  hy_frame_reader_init (&r);
  char *body = NULL;
  size_t len = 0;
  enum hy_frame_status s = HY_FRAME_AGAIN;
  while (s == HY_FRAME_AGAIN)
    {
      assert_true (hy_frame_writer_flush (&w, sv[0], &err) >= 0);
      s = hy_frame_read (&r, sv[1], &body, &len, &err);
    }
  assert_int_equal (s, HY_FRAME_DONE);
  assert_int_equal (len, 512 * 1024);
  assert_memory_equal (body, big, len);
  assert_int_equal (hy_frame_writer_flush (&w, sv[0], &err), 1);
  free (body);
  free (big);
  hy_frame_reader_release (&r);
  hy_frame_writer_release (&w);
  close (sv[1]);
  /* Writing to a closed peer is an error, not a SIGPIPE. */
  hy_frame_writer_init (&w);
  assert_int_equal (hy_frame_writer_add (&w, "{}", 2, &err), 0);
  assert_true (hy_frame_writer_flush (&w, sv[0], &err) < 0);
  expect_error (&err, "write a frame");
  hy_frame_writer_release (&w);
  close (sv[0]);
}

/* ---- parsing ---- */

static int
parse (const char *text, yajl_val *doc, const char **type, hy_error_t *err)
{
  return hy_agent_parse (text, strlen (text), doc, type, err);
}

static void
test_parse_hostile (void **state)
{
  (void) state;
  static const struct
  {
    const char *text;
    const char *error;
  } cases[] = {
    { "[1,2]", "must hold a JSON object" },
    { "\"type\"", "must hold a JSON object" },
    { "{\"seq\":1}", ".type: missing" },
    { "{\"type\":7}", ".type: expected a string" },
    { "{\"type\":null}", ".type: missing" },
    { "{\"type\":\"hello\"", "invalid JSON" },
    { "{\"type\":\"hello\"} {}", "invalid JSON" },
    { "{\"type\":\"hello\",}", "invalid JSON" },
    { "{\"type\":\"\xff\xfe\"}", "invalid JSON" },
    { "", "invalid JSON" },
  };
  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      yajl_val doc = NULL;
      const char *type = NULL;
      hy_error_t err = NULL;
      if (parse (cases[i].text, &doc, &type, &err) == 0)
        fail_msg ("accepted %s", cases[i].text);
      expect_error (&err, cases[i].error);
      assert_null (doc);
    }
  /* An embedded NUL byte. */
  yajl_val doc = NULL;
  const char *type = NULL;
  hy_error_t err = NULL;
  assert_true (hy_agent_parse ("{\"type\":\"a\0\"}", 13, &doc, &type, &err)
               < 0);
  expect_error (&err, "NUL");
}

/* `[[[[...` deeper than the limit is refused before yajl sees it (yajl
 * frees trees recursively); brackets inside strings do not count. */
static void
test_parse_deep_nesting (void **state)
{
  (void) state;
  /* The object around counts as one level. */
  const int depths[] = { HY_AGENT_MAX_DEPTH - 1, HY_AGENT_MAX_DEPTH, 200000 };
  for (size_t d = 0; d < sizeof (depths) / sizeof (depths[0]); d++)
    {
      int depth = depths[d];
      size_t n = (size_t) depth * 2 + 64;
      char *text = xmalloc0 (n);
      int k = sprintf (text, "{\"type\":\"x\",\"a\":");
      for (int i = 0; i < depth; i++)
        text[k++] = '[';
      for (int i = 0; i < depth; i++)
        text[k++] = ']';
      text[k++] = '}';
      yajl_val doc = NULL;
      const char *type = NULL;
      hy_error_t err = NULL;
      int r = parse (text, &doc, &type, &err);
      if (depth < HY_AGENT_MAX_DEPTH)
        {
          assert_int_equal (r, 0);
          assert_string_equal (type, "x");
          yajl_tree_free (doc);
        }
      else
        {
          assert_true (r < 0);
          expect_error (&err, "nested deeper");
        }
      free (text);
    }
  yajl_val doc = NULL;
  const char *type = NULL;
  hy_error_t err = NULL;
  char text[400];
  snprintf (text, sizeof (text), "{\"type\":\"%0100d\\\"[[[[[[[[\"}", 0);
  memset (strchr (text, '0'), '[', 100);
  assert_int_equal (parse (text, &doc, &type, &err), 0);
  yajl_tree_free (doc);
}

/* ---- messages ---- */

static yajl_val
parse_ok (const char *text)
{
  yajl_val doc = NULL;
  const char *type = NULL;
  hy_error_t err = NULL;
  if (parse (text, &doc, &type, &err) < 0)
    fail_msg ("%s: %s", text, err->msg);
  return doc;
}

static void
test_hello (void **state)
{
  (void) state;
  _cleanup_free_ char *text = hy_agent_hello_encode ("6.1.0-hyrun", NULL);
  assert_string_equal (text,
                       "{\"type\":\"hello\",\"version\":1,\"kernel\":\"6.1.0-"
                       "hyrun\"}");
  _cleanup_tree_ yajl_val doc = parse_ok (text);
  struct hy_agent_hello h;
  hy_error_t err = NULL;
  assert_int_equal (hy_agent_hello_decode (doc, &h, &err), 0);
  assert_int_equal (h.version, 1);
  assert_string_equal (h.kernel, "6.1.0-hyrun");
  hy_agent_hello_release (&h);

  _cleanup_tree_ yajl_val bad
      = parse_ok ("{\"type\":\"hello\",\"version\":\"1\",\"kernel\":\"x\"}");
  assert_true (hy_agent_hello_decode (bad, &h, &err) < 0);
  expect_error (&err, ".version: expected an integer");
  _cleanup_tree_ yajl_val neg
      = parse_ok ("{\"type\":\"hello\",\"version\":-1,\"kernel\":\"x\"}");
  assert_true (hy_agent_hello_decode (neg, &h, &err) < 0);
  expect_error (&err, ".version");
  char big[600];
  snprintf (big, sizeof (big), "{\"type\":\"hello\",\"version\":1,"
                               "\"kernel\":\"%0300d\"}", 0);
  _cleanup_tree_ yajl_val long_kernel = parse_ok (big);
  assert_true (hy_agent_hello_decode (long_kernel, &h, &err) < 0);
  expect_error (&err, ".kernel: longer than");
}

static struct oci_config *
small_config (void)
{
  struct oci_config *c = NULL;
  hy_error_t err = NULL;
  if (oci_config_parse ("{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"/r\"},"
                        "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
                        "\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]}}",
                        "config.json", &c, &err)
      < 0)
    fail_msg ("%s", err->msg);
  return c;
}

static void
decode_request (const char *text, struct hy_agent_request *r)
{
  _cleanup_tree_ yajl_val doc = parse_ok (text);
  bool answerable;
  hy_error_t err = NULL;
  if (hy_agent_request_decode (doc, r, &answerable, &err) < 0)
    fail_msg ("%s: %s", text, err->msg);
}

static void
test_request_roundtrip (void **state)
{
  (void) state;
  _cleanup_config_ struct oci_config *c = small_config ();
  struct hy_agent_request in = { .kind = HY_AGENT_REQ_CREATE,
                                 .seq = 4294967295u,
                                 .container_id = "test_busybox+1.x-y",
                                 .config = c,
                                 .streams = HY_AGENT_STDOUT
                                            | HY_AGENT_STDERR };
  _cleanup_free_ char *text = hy_agent_request_encode (&in, NULL);
  struct hy_agent_request out;
  decode_request (text, &out);
  assert_int_equal (out.kind, HY_AGENT_REQ_CREATE);
  assert_int_equal (out.seq, 4294967295u);
  assert_int_equal (out.streams, HY_AGENT_STDOUT | HY_AGENT_STDERR);
  assert_string_equal (out.config->root->path, "/r");
  assert_string_equal (out.config->process->args[0], "sh");
  assert_string_equal (out.container_id, "test_busybox+1.x-y");
  assert_false (out.debug);
  hy_agent_request_release (&out);

  /* container_id is optional. */
  in.container_id = NULL;
  _cleanup_free_ char *anonymous = hy_agent_request_encode (&in, NULL);
  decode_request (anonymous, &out);
  assert_null (out.container_id);
  hy_agent_request_release (&out);

  in = (struct hy_agent_request){ .kind = HY_AGENT_REQ_EXEC, .seq = 2,
                                  .id = "e1", .process = c->process,
                                  .streams = HY_AGENT_TTY, .debug = true };
  _cleanup_free_ char *exec = hy_agent_request_encode (&in, NULL);
  decode_request (exec, &out);
  assert_int_equal (out.kind, HY_AGENT_REQ_EXEC);
  assert_true (out.debug);
  assert_string_equal (out.id, "e1");
  assert_string_equal (out.process->cwd, "/");
  assert_int_equal (out.streams, HY_AGENT_TTY);
  hy_agent_request_release (&out);

  in = (struct hy_agent_request){ .kind = HY_AGENT_REQ_SIGNAL, .seq = 3,
                                  .id = "init", .signal = 9, .all = true };
  _cleanup_free_ char *sig = hy_agent_request_encode (&in, NULL);
  decode_request (sig, &out);
  assert_int_equal (out.signal, 9);
  assert_true (out.all);
  hy_agent_request_release (&out);

  in = (struct hy_agent_request){ .kind = HY_AGENT_REQ_RESIZE, .seq = 4,
                                  .id = "init", .rows = 33, .cols = 100 };
  _cleanup_free_ char *resize = hy_agent_request_encode (&in, NULL);
  decode_request (resize, &out);
  assert_int_equal (out.rows, 33);
  assert_int_equal (out.cols, 100);
  hy_agent_request_release (&out);

  /* Unknown members are ignored. */
  decode_request ("{\"type\":\"ps\",\"seq\":9,\"future\":{\"x\":[1]}}", &out);
  assert_int_equal (out.kind, HY_AGENT_REQ_PS);
  assert_int_equal (out.seq, 9);
  hy_agent_request_release (&out);
}

static void
test_request_hostile (void **state)
{
  (void) state;
  static const struct
  {
    const char *text;
    bool answerable;
    const char *error;
  } cases[] = {
    { "{\"type\":\"ps\"}", false, ".seq: missing" },
    { "{\"type\":\"ps\",\"seq\":\"1\"}", false, ".seq: expected an integer" },
    { "{\"type\":\"ps\",\"seq\":-1}", false, ".seq" },
    { "{\"type\":\"ps\",\"seq\":4294967296}", false, "out of range" },
    { "{\"type\":\"ps\",\"seq\":1.5}", false, "expected an integer" },
    { "{\"type\":\"frobnicate\",\"seq\":1}", true, "unknown request" },
    { "{\"type\":\"wait\",\"seq\":1}", true, ".id: missing" },
    { "{\"type\":\"wait\",\"seq\":1,\"id\":\"a/b\"}", true, ".id: must match" },
    { "{\"type\":\"wait\",\"seq\":1,\"id\":\"\"}", true, ".id: must match" },
    { "{\"type\":\"wait\",\"seq\":1,\"id\":[]}", true, "expected a string" },
    { "{\"type\":\"signal\",\"seq\":1,\"id\":\"init\",\"signal\":0}", true,
      ".signal" },
    { "{\"type\":\"signal\",\"seq\":1,\"id\":\"init\",\"signal\":65}", true,
      ".signal" },
    { "{\"type\":\"signal\",\"seq\":1,\"id\":\"init\",\"signal\":9,"
      "\"all\":1}",
      true, ".all: expected a boolean" },
    { "{\"type\":\"resize\",\"seq\":1,\"id\":\"init\",\"rows\":70000,"
      "\"cols\":1}",
      true, ".rows" },
    { "{\"type\":\"create\",\"seq\":1,\"streams\":[]}", true,
      ".config: missing" },
    { "{\"type\":\"create\",\"seq\":1,\"config\":[],\"streams\":[]}", true,
      ".config: expected an object" },
    { "{\"type\":\"create\",\"seq\":1,\"config\":{\"ociVersion\":\"1.0.0\","
      "\"root\":{\"path\":\"/\"},\"process\":{\"args\":[],\"cwd\":\"x\"}},"
      "\"streams\":[]}",
      true, "config: .process" },
    { "{\"type\":\"create\",\"seq\":1,\"container_id\":\"a/b\","
      "\"config\":{},\"streams\":[]}",
      true, ".container_id: must match" },
    { "{\"type\":\"create\",\"seq\":1,\"container_id\":\"..\","
      "\"config\":{},\"streams\":[]}",
      true, ".container_id: must match" },
    { "{\"type\":\"create\",\"seq\":1,\"container_id\":7,"
      "\"config\":{},\"streams\":[]}",
      true, ".container_id: expected a string" },
    { "{\"type\":\"exec\",\"seq\":1,\"id\":\"init\",\"process\":{},"
      "\"streams\":[]}",
      true, "\"init\" is the container's init" },
    { "{\"type\":\"exec\",\"seq\":1,\"id\":\"e\",\"process\":{\"args\":"
      "[\"sh\"],\"cwd\":\"/\"},\"streams\":[\"stdout\",\"stdout\"]}",
      true, ".streams[1]: stream \"stdout\" listed twice" },
    { "{\"type\":\"exec\",\"seq\":1,\"id\":\"e\",\"process\":{\"args\":"
      "[\"sh\"],\"cwd\":\"/\"},\"streams\":[\"stdin\",\"tty\"]}",
      true, ".streams: \"tty\" goes alone" },
    { "{\"type\":\"exec\",\"seq\":1,\"id\":\"e\",\"process\":{\"args\":"
      "[\"sh\"],\"cwd\":\"/\"},\"streams\":[\"stdfoo\"]}",
      true, ".streams[0]: unknown stream" },
    { "{\"type\":\"exec\",\"seq\":1,\"id\":\"e\",\"process\":{\"args\":"
      "[\"sh\"],\"cwd\":\"/\"},\"streams\":[1]}",
      true, ".streams[0]: expected a string" },
    { "{\"type\":\"exec\",\"seq\":1,\"id\":\"e\",\"process\":{\"args\":"
      "[\"sh\"],\"cwd\":7},\"streams\":[]}",
      true, ".process.cwd: expected a string" },
  };
  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      _cleanup_tree_ yajl_val doc = parse_ok (cases[i].text);
      struct hy_agent_request r;
      bool answerable = !cases[i].answerable;
      hy_error_t err = NULL;
      if (hy_agent_request_decode (doc, &r, &answerable, &err) == 0)
        fail_msg ("accepted %s", cases[i].text);
      assert_int_equal (answerable, cases[i].answerable);
      if (answerable)
        assert_int_equal (r.seq, 1);
      expect_error (&err, cases[i].error);
      assert_null (r.config);
      assert_null (r.container_id);
      assert_null (r.process);
      assert_null (r.id);
    }
}

static void
decode_response (const char *text, enum hy_agent_request_kind kind,
                 struct hy_agent_response *r)
{
  _cleanup_tree_ yajl_val doc = parse_ok (text);
  hy_error_t err = NULL;
  if (hy_agent_response_decode (doc, kind, r, &err) < 0)
    fail_msg ("%s: %s", text, err->msg);
}

static void
test_response_roundtrip (void **state)
{
  (void) state;
  struct hy_agent_ps_entry ps[2] = {
    { .pid = 1, .ppid = 0, .uid = 0, .state = 'S', .cmd = "sh -c sleep" },
    { .pid = 7, .ppid = 1, .uid = 1000, .state = 'R', .cmd = "sleep 10",
      .gid = 1001, .comm = "sleep it", .tty = "pts/3", .stat = "R+",
      .elapsed_ms = UINT64_MAX, .cpu_ms = 5, .rss_kb = 6, .vsz_kb = 7 },
  };
  struct hy_agent_response in = { .seq = 5, .processes = ps,
                                  .n_processes = 2, .mem_total = 1 << 30 };
  _cleanup_free_ char *text
      = hy_agent_response_encode (&in, HY_AGENT_REQ_PS, NULL);
  struct hy_agent_response out;
  decode_response (text, HY_AGENT_REQ_PS, &out);
  assert_int_equal (out.seq, 5);
  assert_int_equal (out.n_processes, 2);
  assert_int_equal (out.processes[1].pid, 7);
  assert_int_equal (out.processes[1].ppid, 1);
  assert_int_equal (out.processes[1].uid, 1000);
  assert_int_equal (out.processes[1].state, 'R');
  assert_string_equal (out.processes[1].cmd, "sleep 10");
  assert_int_equal (out.processes[1].gid, 1001);
  assert_string_equal (out.processes[1].comm, "sleep it");
  assert_string_equal (out.processes[1].tty, "pts/3");
  assert_string_equal (out.processes[1].stat, "R+");
  assert_int_equal (out.processes[1].elapsed_ms, UINT64_MAX);
  assert_int_equal (out.processes[1].cpu_ms, 5);
  assert_int_equal (out.processes[1].rss_kb, 6);
  assert_int_equal (out.processes[1].vsz_kb, 7);
  assert_null (out.processes[0].tty);
  assert_int_equal (out.mem_total, 1 << 30);
  hy_agent_response_release (&out);
  /* An older agent's entry: the details are optional. */
  decode_response ("{\"type\":\"response\",\"seq\":1,\"processes\":[{"
                   "\"pid\":1,\"ppid\":0,\"uid\":0,\"state\":\"S\","
                   "\"cmd\":\"x\"}]}",
                   HY_AGENT_REQ_PS, &out);
  assert_null (out.processes[0].comm);
  assert_null (out.processes[0].stat);
  assert_int_equal (out.mem_total, 0);
  hy_agent_response_release (&out);

  char *lines[] = { "child process in init(): pid 1",
                    "setns_init: about to exec `/bin/true`" };
  in = (struct hy_agent_response){ .seq = 5, .pid = 42, .debug = lines,
                                   .n_debug = 2 };
  _cleanup_free_ char *ex = hy_agent_response_encode (&in, HY_AGENT_REQ_EXEC,
                                                      NULL);
  decode_response (ex, HY_AGENT_REQ_EXEC, &out);
  assert_int_equal (out.pid, 42);
  assert_int_equal (out.n_debug, 2);
  assert_string_equal (out.debug[1], lines[1]);
  hy_agent_response_release (&out);
  decode_response ("{\"type\":\"response\",\"seq\":1,\"pid\":3}",
                   HY_AGENT_REQ_CREATE, &out);
  assert_int_equal (out.n_debug, 0);
  hy_agent_response_release (&out);

  in = (struct hy_agent_response){ .seq = 6, .signaled = true, .signal = 9 };
  _cleanup_free_ char *w = hy_agent_response_encode (&in, HY_AGENT_REQ_WAIT,
                                                     NULL);
  assert_string_equal (w, "{\"type\":\"response\",\"seq\":6,\"signal\":9}");
  decode_response (w, HY_AGENT_REQ_WAIT, &out);
  assert_true (out.signaled);
  assert_int_equal (out.signal, 9);
  hy_agent_response_release (&out);

  in = (struct hy_agent_response){ .seq = 7, .mem_total = 1ull << 40,
                                   .mem_free = 3, .mem_available = 4,
                                   .pids = 2, .cpu_ns = UINT64_MAX };
  _cleanup_free_ char *s = hy_agent_response_encode (&in, HY_AGENT_REQ_STATS,
                                                     NULL);
  decode_response (s, HY_AGENT_REQ_STATS, &out);
  assert_int_equal (out.mem_total, 1ull << 40);
  assert_int_equal (out.cpu_ns, UINT64_MAX);
  hy_agent_response_release (&out);

  in = (struct hy_agent_response){ .seq = 8,
                                   .error = "exec: \"nope\": executable "
                                            "file not found in $PATH" };
  _cleanup_free_ char *e = hy_agent_response_encode (&in, HY_AGENT_REQ_EXEC,
                                                     NULL);
  decode_response (e, HY_AGENT_REQ_EXEC, &out);
  assert_string_equal (out.error, in.error);
  hy_agent_response_release (&out);
}

static void
expect_decode_error (const char *text, enum hy_agent_request_kind kind,
                     const char *error)
{
  _cleanup_tree_ yajl_val doc = parse_ok (text);
  struct hy_agent_response r;
  hy_error_t err = NULL;
  assert_true (hy_agent_response_decode (doc, kind, &r, &err) < 0);
  expect_error (&err, error);
  assert_null (r.debug);
}

static void
expect_too_many_debug_lines (void)
{
  size_t n = HY_AGENT_MAX_DEBUG_LINES + 1;
  char *text = xmalloc0 (n * 4 + 100);
  char *p = text + sprintf (text, "{\"type\":\"response\",\"seq\":1,"
                                  "\"pid\":2,\"debug\":[");
  for (size_t i = 0; i < n; i++)
    p += sprintf (p, "%s\"x\"", i ? "," : "");
  strcpy (p, "]}");
  expect_decode_error (text, HY_AGENT_REQ_EXEC, ".debug: more than 64 lines");
  free (text);
}

static void
expect_too_long_debug_line (void)
{
  size_t n = HY_AGENT_DEBUG_LINE_MAX + 1;
  char *text = xmalloc0 (n + 100);
  int k = sprintf (text, "{\"type\":\"response\",\"seq\":1,\"pid\":2,"
                         "\"debug\":[\"");
  memset (text + k, 'a', n);
  strcpy (text + k + n, "\"]}");
  expect_decode_error (text, HY_AGENT_REQ_CREATE, ".debug[0]: longer than");
  free (text);
}

static void
test_response_hostile (void **state)
{
  (void) state;
  static const struct
  {
    enum hy_agent_request_kind kind;
    const char *text;
    const char *error;
  } cases[] = {
    { HY_AGENT_REQ_EXEC, "{\"type\":\"response\",\"seq\":1}", ".pid: missing" },
    { HY_AGENT_REQ_EXEC, "{\"type\":\"response\",\"seq\":1,\"pid\":0}",
      ".pid" },
    { HY_AGENT_REQ_EXEC,
      "{\"type\":\"response\",\"seq\":1,\"pid\":2147483648}", ".pid" },
    { HY_AGENT_REQ_EXEC,
      "{\"type\":\"response\",\"seq\":1,\"pid\":2,\"debug\":\"x\"}",
      ".debug: expected an array" },
    { HY_AGENT_REQ_EXEC,
      "{\"type\":\"response\",\"seq\":1,\"pid\":2,\"debug\":[\"a\",1]}",
      ".debug[1]: expected a string" },
    { HY_AGENT_REQ_CREATE,
      "{\"type\":\"response\",\"seq\":1,\"pid\":2,\"debug\":"
      "[\"ok\",\"forged\\ntime=\\\"x\\\" level=error\"]}",
      ".debug[1]: a control character" },
    { HY_AGENT_REQ_START, "{\"type\":\"response\",\"seq\":1,\"error\":5}",
      ".error: expected a string" },
    { HY_AGENT_REQ_WAIT, "{\"type\":\"response\",\"seq\":1}",
      "one of .exit_code and .signal" },
    { HY_AGENT_REQ_WAIT,
      "{\"type\":\"response\",\"seq\":1,\"exit_code\":1,\"signal\":9}",
      "one of .exit_code and .signal" },
    { HY_AGENT_REQ_WAIT, "{\"type\":\"response\",\"seq\":1,\"exit_code\":256}",
      ".exit_code" },
    { HY_AGENT_REQ_WAIT, "{\"type\":\"response\",\"seq\":1,\"signal\":0}",
      ".signal" },
    { HY_AGENT_REQ_PS, "{\"type\":\"response\",\"seq\":1,\"processes\":{}}",
      ".processes: expected an array" },
    { HY_AGENT_REQ_PS,
      "{\"type\":\"response\",\"seq\":1,\"processes\":[{\"pid\":1,\"ppid\":0,"
      "\"uid\":0,\"state\":\"\",\"cmd\":\"x\"}]}",
      ".processes[0].state" },
    { HY_AGENT_REQ_PS,
      "{\"type\":\"response\",\"seq\":1,\"processes\":[{\"pid\":1,\"ppid\":0,"
      "\"uid\":0,\"state\":\"S\",\"cmd\":\"x\"},{\"pid\":-4,\"ppid\":0,"
      "\"uid\":0,\"state\":\"S\",\"cmd\":\"x\"}]}",
      ".processes[1].pid" },
    { HY_AGENT_REQ_PS,
      "{\"type\":\"response\",\"seq\":1,\"processes\":[7]}",
      ".processes[0]: expected an object" },
    { HY_AGENT_REQ_PS,
      "{\"type\":\"response\",\"seq\":1,\"processes\":[{\"pid\":1,\"ppid\":0,"
      "\"uid\":0,\"state\":\"S\",\"cmd\":\"x\",\"tty\":\"pts/0 x\"}]}",
      ".processes[0].tty: not a printable word" },
    { HY_AGENT_REQ_PS,
      "{\"type\":\"response\",\"seq\":1,\"processes\":[{\"pid\":1,\"ppid\":0,"
      "\"uid\":0,\"state\":\"S\",\"cmd\":\"x\",\"comm\":\"a\\u001bb\"}]}",
      ".processes[0].comm: not printable" },
    { HY_AGENT_REQ_PS,
      "{\"type\":\"response\",\"seq\":1,\"processes\":[{\"pid\":1,\"ppid\":0,"
      "\"uid\":0,\"state\":\"S\",\"cmd\":\"x\",\"stat\":\"Ss+<NlLxx\"}]}",
      ".processes[0].stat: longer than" },
    { HY_AGENT_REQ_PS,
      "{\"type\":\"response\",\"seq\":1,\"processes\":[{\"pid\":1,\"ppid\":0,"
      "\"uid\":0,\"state\":\"S\",\"cmd\":\"x\",\"gid\":4294967296}]}",
      ".processes[0].gid" },
    { HY_AGENT_REQ_PS,
      "{\"type\":\"response\",\"seq\":1,\"processes\":[],\"mem_total\":-1}",
      ".mem_total" },
    { HY_AGENT_REQ_STATS,
      "{\"type\":\"response\",\"seq\":1,\"memory\":{\"total\":1,\"free\":1},"
      "\"pids\":1,\"cpu_ns\":1}",
      ".memory.available: missing" },
    { HY_AGENT_REQ_STATS,
      "{\"type\":\"response\",\"seq\":1,\"memory\":{\"total\":1,\"free\":1,"
      "\"available\":18446744073709551616},\"pids\":1,\"cpu_ns\":1}",
      ".memory.available" },
  };
  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      _cleanup_tree_ yajl_val doc = parse_ok (cases[i].text);
      struct hy_agent_response r;
      hy_error_t err = NULL;
      if (hy_agent_response_decode (doc, cases[i].kind, &r, &err) == 0)
        fail_msg ("accepted %s", cases[i].text);
      expect_error (&err, cases[i].error);
      assert_null (r.processes);
      assert_null (r.debug);
      assert_null (r.error);
    }
  expect_too_many_debug_lines ();
  expect_too_long_debug_line ();
  /* A cmd longer than the bound. */
  size_t n = 8192;
  char *text = xmalloc0 (n + 200);
  int k = sprintf (text, "{\"type\":\"response\",\"seq\":1,\"processes\":[{"
                         "\"pid\":1,\"ppid\":0,\"uid\":0,\"state\":\"S\","
                         "\"cmd\":\"");
  memset (text + k, 'a', n);
  strcpy (text + k + n, "\"}]}");
  _cleanup_tree_ yajl_val doc = parse_ok (text);
  struct hy_agent_response r;
  hy_error_t err = NULL;
  assert_true (hy_agent_response_decode (doc, HY_AGENT_REQ_PS, &r, &err) < 0);
  expect_error (&err, ".processes[0].cmd: longer than");
  free (text);
}

static void
test_events_and_attach (void **state)
{
  (void) state;
  _cleanup_free_ char *oom = hy_agent_oom_encode ("init", NULL);
  _cleanup_tree_ yajl_val doc = parse_ok (oom);
  struct hy_agent_event ev;
  hy_error_t err = NULL;
  assert_int_equal (hy_agent_event_decode (doc, &ev, &err), 1);
  assert_int_equal (ev.kind, HY_AGENT_EVENT_OOM);
  assert_string_equal (ev.id, "init");
  hy_agent_event_release (&ev);

  /* A type from a later version is no event: ignored. */
  _cleanup_tree_ yajl_val later
      = parse_ok ("{\"type\":\"cpu-hotplug\",\"x\":1}");
  assert_int_equal (hy_agent_event_decode (later, &ev, &err), 0);
  _cleanup_tree_ yajl_val bad = parse_ok ("{\"type\":\"oom\",\"id\":\"../x\"}");
  assert_true (hy_agent_event_decode (bad, &ev, &err) < 0);
  expect_error (&err, ".id");

  _cleanup_free_ char *a = hy_agent_attach_encode ("e1", HY_AGENT_STDERR,
                                                   NULL);
  assert_string_equal (a, "{\"type\":\"attach\",\"id\":\"e1\","
                          "\"stream\":\"stderr\"}");
  _cleanup_tree_ yajl_val adoc = parse_ok (a);
  struct hy_agent_attach at;
  assert_int_equal (hy_agent_attach_decode (adoc, &at, &err), 0);
  assert_string_equal (at.id, "e1");
  assert_int_equal (at.stream, HY_AGENT_STDERR);
  hy_agent_attach_release (&at);
  _cleanup_tree_ yajl_val abad
      = parse_ok ("{\"type\":\"attach\",\"id\":\"e1\",\"stream\":\"stdfoo\"}");
  assert_true (hy_agent_attach_decode (abad, &at, &err) < 0);
  expect_error (&err, "unknown stream");
  _cleanup_tree_ yajl_val notattach = parse_ok ("{\"type\":\"ps\",\"seq\":1}");
  assert_true (hy_agent_attach_decode (notattach, &at, &err) < 0);
  expect_error (&err, "expected an attach frame");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_frame_roundtrip_byte_by_byte),
    cmocka_unit_test (test_frame_bad_lengths),
    cmocka_unit_test (test_frame_max_size),
    cmocka_unit_test (test_frame_read_fd),
    cmocka_unit_test (test_frame_writer_backpressure),
    cmocka_unit_test (test_parse_hostile),
    cmocka_unit_test (test_parse_deep_nesting),
    cmocka_unit_test (test_hello),
    cmocka_unit_test (test_request_roundtrip),
    cmocka_unit_test (test_request_hostile),
    cmocka_unit_test (test_response_roundtrip),
    cmocka_unit_test (test_response_hostile),
    cmocka_unit_test (test_events_and_attach),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
