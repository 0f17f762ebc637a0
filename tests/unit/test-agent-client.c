/* The host's agent client against a fake guest: the hello, calls, the
 * event-driven form, and what a hostile or broken guest sends. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent-protocol/frame.h"
#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/vm/agent-client.h"

static void
expect_error (hy_error_t *err, const char *needle)
{
  assert_non_null (*err);
  _cleanup_free_ char *text = hy_error_text (*err);
  if (strstr (text, needle) == NULL)
    fail_msg ("error \"%s\" does not contain \"%s\"", text, needle);
  hy_error_release (err);
}

/* Queue a frame on the guest's end. */
static void
guest_says (int fd, const char *json)
{
  struct hy_frame_writer w;
  hy_frame_writer_init (&w);
  hy_error_t err = NULL;
  assert_int_equal (hy_frame_writer_add (&w, json, strlen (json), &err), 0);
  assert_int_equal (hy_frame_writer_flush (&w, fd, &err), 1);
  hy_frame_writer_release (&w);
}

#define HELLO "{\"type\":\"hello\",\"version\":1,\"kernel\":\"6.1.1-hyrun\"}"

/* A connection whose hello went fine; *guest is the other end. */
static struct hy_agent_conn *
open_conn (int *guest)
{
  int sv[2];
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    0);
  guest_says (sv[1], HELLO);
  struct hy_agent_conn *c = NULL;
  hy_error_t err = NULL;
  if (hy_agent_conn_open (sv[0], 1000, &c, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_string_equal (hy_agent_conn_kernel (c), "6.1.1-hyrun");
  *guest = sv[1];
  return c;
}

static void
test_hello_refused (void **state)
{
  (void) state;
  static const struct
  {
    const char *json;
    const char *error;
  } cases[] = {
    { "{\"type\":\"hello\",\"version\":2,\"kernel\":\"x\"}", "version 2" },
    { "{\"type\":\"response\",\"seq\":1}", "expected a hello" },
    { "{\"type\":\"hello\",\"version\":1}", "protocol error: .kernel" },
    { "[]", "protocol error: a frame must hold a JSON object" },
  };
  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      int sv[2];
      assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);
      guest_says (sv[1], cases[i].json);
      struct hy_agent_conn *c = NULL;
      hy_error_t err = NULL;
      assert_true (hy_agent_conn_open (sv[0], 1000, &c, &err) < 0);
      expect_error (&err, cases[i].error);
      close (sv[1]);
    }
  /* No hello at all: a timeout; a close: said so. */
  int sv[2];
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);
  struct hy_agent_conn *c = NULL;
  hy_error_t err = NULL;
  assert_true (hy_agent_conn_open (sv[0], 50, &c, &err) < 0);
  expect_error (&err, "no hello within 50 ms");
  close (sv[1]);
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);
  close (sv[1]);
  assert_true (hy_agent_conn_open (sv[0], 1000, &c, &err) < 0);
  expect_error (&err, "closed before the hello");
}

static char *oom_id;

static void
on_event (void *data, const struct hy_agent_event *e)
{
  (void) data;
  free (oom_id);
  oom_id = xstrdup (e->id);
}

static void
test_call (void **state)
{
  (void) state;
  int guest;
  struct hy_agent_conn *c = open_conn (&guest);
  hy_agent_conn_set_callbacks (c, NULL, on_event, NULL);
  /* An event from a later version, an oom event, then the answer. */
  guest_says (guest, "{\"type\":\"cpu-hotplug\",\"cpus\":4}");
  guest_says (guest, "{\"type\":\"oom\",\"id\":\"init\"}");
  guest_says (guest, "{\"type\":\"response\",\"seq\":1,\"processes\":[{"
                     "\"pid\":1,\"ppid\":0,\"uid\":0,\"state\":\"S\","
                     "\"cmd\":\"sleep 9\"}]}");
  struct hy_agent_request req = { .kind = HY_AGENT_REQ_PS };
  struct hy_agent_response resp;
  hy_error_t err = NULL;
  if (hy_agent_call (c, &req, 1000, &resp, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (req.seq, 1);
  assert_int_equal (resp.n_processes, 1);
  assert_string_equal (resp.processes[0].cmd, "sleep 9");
  hy_agent_response_release (&resp);
  assert_non_null (oom_id);
  assert_string_equal (oom_id, "init");

  /* The request went out as a frame. */
  struct hy_frame_reader r;
  hy_frame_reader_init (&r);
  char *body = NULL;
  size_t len;
  assert_int_equal (hy_frame_read (&r, guest, &body, &len, &err),
                    HY_FRAME_DONE);
  assert_string_equal (body, "{\"type\":\"ps\",\"seq\":1}");
  free (body);
  hy_frame_reader_release (&r);

  /* The agent's error is the caller's error, as is. */
  guest_says (guest, "{\"type\":\"response\",\"seq\":2,\"error\":\"exec: "
                     "\\\"x\\\": executable file not found in $PATH\"}");
  req = (struct hy_agent_request){ .kind = HY_AGENT_REQ_START };
  assert_true (hy_agent_call (c, &req, 1000, &resp, &err) < 0);
  expect_error (&err, "exec: \"x\": executable file not found in $PATH");

  /* Silence: a timeout naming the request. */
  req = (struct hy_agent_request){ .kind = HY_AGENT_REQ_STATS };
  assert_true (hy_agent_call (c, &req, 50, &resp, &err) < 0);
  expect_error (&err, "no answer to stats within 50 ms");
  hy_agent_conn_free (c);
  close (guest);
  free (oom_id);
  oom_id = NULL;
}

static void
test_hostile_responses (void **state)
{
  (void) state;
  static const struct
  {
    enum hy_agent_request_kind kind;
    const char *json;
    const char *error;
  } cases[] = {
    { HY_AGENT_REQ_PS, "{\"type\":\"response\",\"seq\":99}",
      "seq 99, which is not outstanding" },
    { HY_AGENT_REQ_WAIT, "{\"type\":\"response\",\"seq\":1}",
      "protocol error: a wait response needs one of" },
    { HY_AGENT_REQ_EXEC, "{\"type\":\"response\",\"seq\":1,\"pid\":-1}",
      "protocol error: .pid" },
    { HY_AGENT_REQ_PS, "{\"type\":\"oom\",\"id\":\"../../x\"}",
      "protocol error: .id" },
    { HY_AGENT_REQ_PS, "{\"type\":\"response\"}", "protocol error: .seq" },
  };
  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      int guest;
      struct hy_agent_conn *c = open_conn (&guest);
      guest_says (guest, cases[i].json);
      char *args[] = { (char *) "true", NULL };
      struct oci_process proc = { .args = args, .cwd = (char *) "/" };
      struct hy_agent_request req = { .kind = cases[i].kind,
                                      .id = (char *) "e1",
                                      .process = &proc };
      struct hy_agent_response resp;
      hy_error_t err = NULL;
      assert_true (hy_agent_call (c, &req, 1000, &resp, &err) < 0);
      expect_error (&err, cases[i].error);
      hy_agent_conn_free (c);
      close (guest);
    }
  /* A frame length out of range; the guest going away. */
  int guest;
  struct hy_agent_conn *c = open_conn (&guest);
  assert_int_equal (write (guest, "\xff\xff\xff\x7f", 4), 4);
  struct hy_agent_request req = { .kind = HY_AGENT_REQ_PS };
  struct hy_agent_response resp;
  hy_error_t err = NULL;
  assert_true (hy_agent_call (c, &req, 1000, &resp, &err) < 0);
  expect_error (&err, "protocol error: frame length 2147483647 out of range");
  hy_agent_conn_free (c);
  close (guest);
  c = open_conn (&guest);
  close (guest);
  assert_true (hy_agent_call (c, &req, 1000, &resp, &err) < 0);
  expect_error (&err, "closed before the answer to ps");
  hy_agent_conn_free (c);
}

/* The event-driven form: requests queued, answers to the callback. */
static int answers;

static void
on_response (void *data, enum hy_agent_request_kind kind,
             const struct hy_agent_response *r)
{
  (void) data;
  assert_int_equal (kind, HY_AGENT_REQ_WAIT);
  assert_int_equal (r->seq, 1);
  assert_true (r->signaled);
  assert_int_equal (r->signal, 9);
  answers++;
}

static void
test_half_requests (void **state)
{
  (void) state;
  int guest;
  struct hy_agent_conn *c = open_conn (&guest);
  hy_error_t err = NULL;
  struct hy_agent_request req = { .kind = HY_AGENT_REQ_EXEC,
                                  .id = (char *) "e1" };
  assert_true (hy_agent_send (c, &req, &err) < 0);
  expect_error (&err, "exec: nothing to run");
  req = (struct hy_agent_request){ .kind = HY_AGENT_REQ_SIGNAL,
                                   .id = (char *) "a b", .signal = 9 };
  assert_true (hy_agent_send (c, &req, &err) < 0);
  expect_error (&err, "signal: bad process id \"a b\"");
  req = (struct hy_agent_request){ .kind = HY_AGENT_REQ_CREATE };
  assert_true (hy_agent_send (c, &req, &err) < 0);
  expect_error (&err, "create: nothing to run");
  assert_false (hy_agent_conn_events (c) & EPOLLOUT);
  hy_agent_conn_free (c);
  close (guest);
}

static void
test_event_driven (void **state)
{
  (void) state;
  int guest;
  struct hy_agent_conn *c = open_conn (&guest);
  hy_agent_conn_set_callbacks (c, on_response, NULL, NULL);
  struct hy_agent_request req = { .kind = HY_AGENT_REQ_WAIT,
                                  .id = (char *) "init" };
  hy_error_t err = NULL;
  assert_int_equal (hy_agent_send (c, &req, &err), 0);
  assert_true (hy_agent_conn_events (c) & EPOLLOUT);
  assert_int_equal (hy_agent_conn_handle (c, EPOLLOUT, &err), 0);
  assert_false (hy_agent_conn_events (c) & EPOLLOUT);
  guest_says (guest, "{\"type\":\"response\",\"seq\":1,\"signal\":9}");
  assert_int_equal (hy_agent_conn_handle (c, EPOLLIN, &err), 0);
  assert_int_equal (answers, 1);
  close (guest);
  assert_int_equal (hy_agent_conn_handle (c, EPOLLIN, &err), 1);
  hy_agent_conn_free (c);
}

/* CONNECT through a fake vsock backend (a child answering one line). */
static void
fake_backend (int listen_fd, const char *answer)
{
  int fd = accept (listen_fd, NULL, NULL);
  char line[64] = "";
  size_t n = 0;
  while (n < sizeof (line) - 1 && read (fd, line + n, 1) == 1
         && line[n++] != '\n')
    ;
  if (strcmp (line, "CONNECT 1025\n") == 0 && answer)
    {
      if (write (fd, answer, strlen (answer)) < 0)
        _exit (1);
      /* The agent's first bytes right behind the answer. */
      if (write (fd, "xyz", 3) < 0)
        _exit (1);
    }
  _exit (0);
}

static void
test_vsock_connect (void **state)
{
  (void) state;
  char dir[] = "/tmp/hyrun-agent-client.XXXXXX";
  assert_non_null (mkdtemp (dir));
  _cleanup_free_ char *uds = xasprintf ("%s/vsock.sock", dir);
  const struct hy_agent_transport t = { HY_AGENT_VSOCK, uds };
  const char *answers_[] = { "OK 1073741824\n", "NO\n", NULL };
  const char *errors[] = { NULL, "CONNECT 1025 answered \"NO\"",
                           "port 1025 refused" };
  for (size_t i = 0; i < 3; i++)
    {
      int l = socket (AF_UNIX, SOCK_STREAM, 0);
      struct sockaddr_un sun = { .sun_family = AF_UNIX };
      strcpy (sun.sun_path, uds);
      unlink (uds);
      assert_int_equal (bind (l, (struct sockaddr *) &sun, sizeof (sun)), 0);
      assert_int_equal (listen (l, 1), 0);
      pid_t pid = fork ();
      if (pid == 0)
        fake_backend (l, answers_[i]);
      hy_error_t err = NULL;
      int fd = hy_agent_connect (&t, HY_AGENT_PORT_STREAMS, 1000, &err);
      if (errors[i] == NULL)
        {
          assert_true (fd >= 0);
          char buf[3];
          assert_int_equal (read (fd, buf, 3), 3);
          assert_memory_equal (buf, "xyz", 3);
          close (fd);
        }
      else
        {
          assert_true (fd < 0);
          expect_error (&err, errors[i]);
        }
      waitpid (pid, NULL, 0);
      close (l);
    }
  unlink (uds);
  rmdir (dir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_hello_refused),
    cmocka_unit_test (test_call),
    cmocka_unit_test (test_hostile_responses),
    cmocka_unit_test (test_half_requests),
    cmocka_unit_test (test_event_driven),
    cmocka_unit_test (test_vsock_connect),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
