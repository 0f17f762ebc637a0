/* The vhost-user vsock back-end end to end: a forked back-end, this test
 * as QEMU + guest driver, and real UNIX sockets on the host side. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "vhost-front.h"
#include "runtime/vm/vsock/vsock.h"

#define CID 42
#define HDR sizeof (struct hy_vsock_hdr)

struct t
{
  struct front fe;
  pid_t pid;
  char dir[64];
  char uds[128];
};

static int
listen_at (const char *path)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  snprintf (sun.sun_path, sizeof (sun.sun_path), "%s", path);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_int_equal (bind (fd, (void *) &sun, sizeof (sun)), 0);
  assert_int_equal (listen (fd, 4), 0);
  return fd;
}

static int
connect_to (const char *path)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  snprintf (sun.sun_path, sizeof (sun.sun_path), "%s", path);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_int_equal (connect (fd, (void *) &sun, sizeof (sun)), 0);
  return fd;
}

static int
count_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  int n = 0;
  while (d && readdir (d))
    n++;
  if (d)
    closedir (d);
  return n - 3; /* ".", ".." and the DIR's own fd */
}

/* Fork the back-end with opts o; this process plays QEMU on the other end
 * of a socketpair.  With check_fds the child also proves that the call
 * returned every fd it opened (it exits 3 otherwise). */
static void
start_backend (struct t *t, struct hy_vsock_opts o, bool check_fds)
{
  assert_int_equal (fe_mem_init (&t->fe), 0);
  int sv[2];
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    0);
  t->pid = fork ();
  assert_true (t->pid >= 0);
  if (t->pid == 0)
    {
      close (sv[0]);
      o.vhost_fd = sv[1];
      /* What the call owns (vhost_fd, uds_fd) is closed when it returns. */
      int before = count_fds () - 1 - (o.uds_fd >= 0);
      hy_error_t err = NULL;
      int r = hy_vsock_backend_run (&o, &err);
      if (r < 0)
        fprintf (stderr, "backend: %s\n", err->msg);
      if (r == 0 && check_fds && count_fds () != before)
        {
          fprintf (stderr, "backend: %d fds before, %d after\n", before,
                   count_fds ());
          _exit (3);
        }
      _exit (r < 0 ? 1 : 0);
    }
  close (sv[1]);
  if (o.uds_fd >= 0)
    close (o.uds_fd);
  t->fe.sock = sv[0];
}

static struct t *
new_test (void)
{
  struct t *t = calloc (1, sizeof (*t));
  strcpy (t->dir, "/tmp/hyvsock-XXXXXX");
  assert_non_null (mkdtemp (t->dir));
  snprintf (t->uds, sizeof (t->uds), "%s/v.sock", t->dir);
  return t;
}

static int
setup (void **state)
{
  struct t *t = new_test ();
  start_backend (t, (struct hy_vsock_opts) { .uds_fd = -1, .uds_path = t->uds,
                                             .guest_cid = CID },
                 true);
  *state = t;
  return 0;
}

/* The supervisor's way: the host socket is bound before the back-end
 * starts, and stays the supervisor's. */
static int
setup_given_socket (void **state)
{
  struct t *t = new_test ();
  start_backend (t, (struct hy_vsock_opts) { .uds_fd = listen_at (t->uds),
                                             .uds_path = t->uds,
                                             .guest_cid = CID },
                 true);
  *state = t;
  return 0;
}

/* QEMU goes away: the back-end returns 0 (and its fds, see start_backend). */
static void
stop_backend (struct t *t)
{
  if (t->pid == 0)
    return;
  close (t->fe.sock);
  int status;
  assert_int_equal (waitpid (t->pid, &status, 0), t->pid);
  t->pid = 0;
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
}

static int
teardown (void **state)
{
  struct t *t = *state;
  /* The back-end survived whatever the test did and exited cleanly. */
  stop_backend (t);
  char cmd[200];
  snprintf (cmd, sizeof (cmd), "rm -rf %s", t->dir);
  assert_int_equal (system (cmd), 0);
  free (t);
  return 0;
}

static void
post_rx (struct front *fe, unsigned n)
{
  for (unsigned i = 0; i < n; i++)
    {
      uint16_t slot = fe->q[0].next_desc % FE_QSIZE;
      struct hy_vring_desc d = { FE_DATA (0, slot), FE_DATA_SIZE,
                                 HY_VRING_DESC_F_WRITE, 0 };
      fe_add_chain (fe, 0, &d, 1, 1);
    }
  fe_kick (fe, 0);
}

static struct hy_vsock_hdr
mkhdr (uint16_t op, uint32_t src_port, uint32_t dst_port, uint32_t len)
{
  return (struct hy_vsock_hdr) { .src_cid = CID, .dst_cid = 2,
                                 .src_port = src_port, .dst_port = dst_port,
                                 .len = len, .type = 1, .op = op,
                                 .buf_alloc = 65536 };
}

static void
guest_send (struct front *fe, struct hy_vsock_hdr h, const void *data)
{
  uint16_t slot = fe->q[1].next_desc % FE_QSIZE;
  uint32_t hoff = FE_DATA (1, slot % 32), doff = hoff + HDR;
  memcpy (fe->mem + hoff, &h, HDR);
  if (h.len)
    memcpy (fe->mem + doff, data, h.len);
  struct hy_vring_desc d[2] = { { hoff, HDR, 0, 0 }, { doff, h.len, 0, 0 } };
  fe_add_chain (fe, 1, d, h.len ? 2 : 1, 1);
  fe_kick (fe, 1);
  struct hy_vring_used_elem e;
  assert_int_equal (fe_wait_used (fe, 1, &e, 3000), 0);
  assert_int_equal (e.len, 0);
}

/* Next packet on rx; refills one rx buffer. */
static struct hy_vsock_hdr
guest_recv (struct front *fe, void *data)
{
  struct hy_vring_used_elem e;
  assert_int_equal (fe_wait_used (fe, 0, &e, 3000), 0);
  assert_true (e.len >= HDR);
  struct hy_vsock_hdr h;
  memcpy (&h, fe->mem + FE_DATA (0, e.id), HDR);
  assert_int_equal (h.src_cid, 2);
  assert_int_equal (h.dst_cid, CID);
  assert_int_equal (e.len, HDR + h.len);
  if (data)
    memcpy (data, fe->mem + FE_DATA (0, e.id) + HDR, h.len);
  post_rx (fe, 1);
  return h;
}

static void
assert_no_rx (struct front *fe)
{
  struct hy_vring_used_elem e;
  assert_int_equal (fe_wait_used (fe, 0, &e, 200), -1);
}

static ssize_t
read_timeout (int fd, void *buf, size_t len)
{
  struct pollfd p = { fd, POLLIN, 0 };
  if (poll (&p, 1, 3000) != 1)
    return -2;
  return read (fd, buf, len);
}

static void
start (struct t *t)
{
  assert_int_equal (fe_handshake (&t->fe, 3, 0), 0);
  post_rx (&t->fe, 16);
}

static void
test_config_cid (void **state)
{
  struct t *t = *state;
  uint8_t cfg[sizeof (struct hy_vhost_config) + 8] = { 0 };
  struct hy_vhost_config c = { 0, 8, 0 };
  memcpy (cfg, &c, sizeof (c));
  assert_int_equal (fe_send (&t->fe, HY_VHOST_USER_GET_CONFIG, 0, cfg,
                             sizeof (cfg), NULL, 0),
                    0);
  assert_int_equal (fe_recv (&t->fe, HY_VHOST_USER_GET_CONFIG, cfg,
                             sizeof (cfg)),
                    sizeof (cfg));
  uint64_t cid;
  memcpy (&cid, cfg + sizeof (c), 8);
  assert_int_equal (cid, CID);
  /* Past the end of the 8-byte config space: a reply without data. */
  c.offset = 4;
  memcpy (cfg, &c, sizeof (c));
  assert_int_equal (fe_send (&t->fe, HY_VHOST_USER_GET_CONFIG, 0, cfg,
                             sizeof (cfg), NULL, 0),
                    0);
  assert_int_equal (fe_recv (&t->fe, HY_VHOST_USER_GET_CONFIG, cfg,
                             sizeof (cfg)),
                    sizeof (struct hy_vhost_config));
}

static void
test_guest_connects (void **state)
{
  struct t *t = *state;
  char path[200], buf[64];
  snprintf (path, sizeof (path), "%s_1234", t->uds);
  int l = listen_at (path);
  start (t);
  guest_send (&t->fe, mkhdr (HY_VSOCK_OP_REQUEST, 5000, 1234, 0), NULL);
  struct hy_vsock_hdr h = guest_recv (&t->fe, NULL);
  assert_int_equal (h.op, HY_VSOCK_OP_RESPONSE);
  assert_int_equal (h.src_port, 1234);
  assert_int_equal (h.dst_port, 5000);
  assert_int_equal (h.buf_alloc, HY_VSOCK_BUF_ALLOC);
  int c = accept4 (l, NULL, NULL, SOCK_CLOEXEC);
  assert_true (c >= 0);

  guest_send (&t->fe, mkhdr (HY_VSOCK_OP_RW, 5000, 1234, 5), "hello");
  assert_int_equal (read_timeout (c, buf, sizeof (buf)), 5);
  assert_memory_equal (buf, "hello", 5);

  assert_int_equal (write (c, "world!", 6), 6);
  h = guest_recv (&t->fe, buf);
  assert_int_equal (h.op, HY_VSOCK_OP_RW);
  assert_int_equal (h.len, 6);
  assert_memory_equal (buf, "world!", 6);
  assert_int_equal (h.fwd_cnt, 5); /* the 5 bytes reached the host socket */

  struct hy_vsock_hdr sd = mkhdr (HY_VSOCK_OP_SHUTDOWN, 5000, 1234, 0);
  sd.flags = HY_VSOCK_SHUTDOWN_RCV | HY_VSOCK_SHUTDOWN_SEND;
  guest_send (&t->fe, sd, NULL);
  h = guest_recv (&t->fe, NULL);
  assert_int_equal (h.op, HY_VSOCK_OP_RST);
  assert_int_equal (read_timeout (c, buf, sizeof (buf)), 0);
  close (c);
  close (l);
}

static void
test_host_connects (void **state)
{
  struct t *t = *state;
  char buf[64];
  start (t);
  int c = connect_to (t->uds);
  assert_int_equal (write (c, "CONNECT 7000\n", 13), 13);
  struct hy_vsock_hdr h = guest_recv (&t->fe, NULL);
  assert_int_equal (h.op, HY_VSOCK_OP_REQUEST);
  assert_int_equal (h.dst_port, 7000);
  uint32_t hp = h.src_port;
  guest_send (&t->fe, mkhdr (HY_VSOCK_OP_RESPONSE, 7000, hp, 0), NULL);
  char ok[32];
  int n = snprintf (ok, sizeof (ok), "OK %u\n", hp);
  assert_int_equal (read_timeout (c, buf, sizeof (buf)), n);
  assert_memory_equal (buf, ok, n);

  assert_int_equal (write (c, "ping", 4), 4);
  h = guest_recv (&t->fe, buf);
  assert_int_equal (h.op, HY_VSOCK_OP_RW);
  assert_int_equal (h.len, 4);
  assert_memory_equal (buf, "ping", 4);
  guest_send (&t->fe, mkhdr (HY_VSOCK_OP_RW, 7000, hp, 4), "pong");
  assert_int_equal (read_timeout (c, buf, sizeof (buf)), 4);
  assert_memory_equal (buf, "pong", 4);

  close (c); /* host closes: the guest is told, and answers with RST */
  h = guest_recv (&t->fe, NULL);
  assert_int_equal (h.op, HY_VSOCK_OP_SHUTDOWN);
  assert_int_equal (h.flags, 3);
  guest_send (&t->fe, mkhdr (HY_VSOCK_OP_RST, 7000, hp, 0), NULL);
  assert_no_rx (&t->fe);
}

static void
test_resets (void **state)
{
  struct t *t = *state;
  char buf[8];
  start (t);
  /* Nobody listens on host port 99. */
  guest_send (&t->fe, mkhdr (HY_VSOCK_OP_REQUEST, 5001, 99, 0), NULL);
  struct hy_vsock_hdr h = guest_recv (&t->fe, NULL);
  assert_int_equal (h.op, HY_VSOCK_OP_RST);
  assert_int_equal (h.src_port, 99);
  assert_int_equal (h.dst_port, 5001);
  /* Data for a connection that does not exist. */
  guest_send (&t->fe, mkhdr (HY_VSOCK_OP_RW, 5002, 98, 3), "abc");
  h = guest_recv (&t->fe, NULL);
  assert_int_equal (h.op, HY_VSOCK_OP_RST);
  /* An RST for nothing gets no answer. */
  guest_send (&t->fe, mkhdr (HY_VSOCK_OP_RST, 5003, 97, 0), NULL);
  assert_no_rx (&t->fe);
  /* A host client that does not say CONNECT is dropped. */
  int c = connect_to (t->uds);
  assert_int_equal (write (c, "HELLO\n", 6), 6);
  assert_int_equal (read_timeout (c, buf, sizeof (buf)), 0);
  close (c);
  c = connect_to (t->uds);
  assert_int_equal (write (c, "CONNECT 99999999999\n", 20), 20);
  assert_int_equal (read_timeout (c, buf, sizeof (buf)), 0);
  close (c);
  /* The guest refuses a host connection. */
  c = connect_to (t->uds);
  assert_int_equal (write (c, "CONNECT 22\n", 11), 11);
  h = guest_recv (&t->fe, NULL);
  assert_int_equal (h.op, HY_VSOCK_OP_REQUEST);
  guest_send (&t->fe, mkhdr (HY_VSOCK_OP_RST, 22, h.src_port, 0), NULL);
  assert_int_equal (read_timeout (c, buf, sizeof (buf)), 0);
  close (c);
  assert_no_rx (&t->fe);
}

static void
test_credit (void **state)
{
  struct t *t = *state;
  char path[200], buf[FE_DATA_SIZE];
  snprintf (path, sizeof (path), "%s_80", t->uds);
  int l = listen_at (path);
  start (t);
  struct hy_vsock_hdr rq = mkhdr (HY_VSOCK_OP_REQUEST, 6000, 80, 0);
  rq.buf_alloc = 100; /* the guest can take 100 bytes */
  guest_send (&t->fe, rq, NULL);
  assert_int_equal (guest_recv (&t->fe, NULL).op, HY_VSOCK_OP_RESPONSE);
  int c = accept4 (l, NULL, NULL, SOCK_CLOEXEC);
  memset (buf, 'x', 300);
  assert_int_equal (write (c, buf, 300), 300);
  unsigned got = 0;
  struct hy_vsock_hdr h;
  while (got < 100)
    {
      h = guest_recv (&t->fe, NULL);
      assert_int_equal (h.op, HY_VSOCK_OP_RW);
      got += h.len;
    }
  assert_int_equal (got, 100);
  h = guest_recv (&t->fe, NULL);
  assert_int_equal (h.op, HY_VSOCK_OP_CREDIT_REQUEST);
  assert_no_rx (&t->fe); /* nothing more until credit comes */
  struct hy_vsock_hdr cu = mkhdr (HY_VSOCK_OP_CREDIT_UPDATE, 6000, 80, 0);
  cu.buf_alloc = 100;
  cu.fwd_cnt = 100;
  guest_send (&t->fe, cu, NULL);
  for (got = 0; got < 100; got += h.len)
    {
      h = guest_recv (&t->fe, NULL);
      assert_int_equal (h.op, HY_VSOCK_OP_RW);
    }
  assert_int_equal (got, 100);
  /* A credit request from the guest is answered with our counters. */
  guest_send (&t->fe, mkhdr (HY_VSOCK_OP_CREDIT_REQUEST, 6000, 80, 0), NULL);
  do
    h = guest_recv (&t->fe, NULL);
  while (h.op == HY_VSOCK_OP_CREDIT_REQUEST);
  assert_int_equal (h.op, HY_VSOCK_OP_CREDIT_UPDATE);
  assert_int_equal (h.buf_alloc, HY_VSOCK_BUF_ALLOC);

  /* A guest that ignores our credit while the host does not read: RST. */
  int sz = 4096;
  setsockopt (c, SOL_SOCKET, SO_RCVBUF, &sz, sizeof (sz));
  memset (buf, 'y', sizeof (buf));
  bool reset = false;
  for (int i = 0; i < 64 && !reset; i++)
    {
      guest_send (&t->fe, mkhdr (HY_VSOCK_OP_RW, 6000, 80, FE_DATA_SIZE / 2),
                  buf);
      struct hy_vring_used_elem e;
      while (fe_wait_used (&t->fe, 0, &e, 0) == 0)
        {
          memcpy (&h, t->fe.mem + FE_DATA (0, e.id), HDR);
          post_rx (&t->fe, 1);
          reset |= h.op == HY_VSOCK_OP_RST;
        }
    }
  assert_true (reset);
  close (c);
  close (l);
}

/* The host shuts down only its writing half: the guest reads EOF but can
 * still send; once the host is gone altogether the guest is reset. */
static void
test_host_half_close (void **state)
{
  struct t *t = *state;
  char path[200], buf[64];
  snprintf (path, sizeof (path), "%s_1234", t->uds);
  int l = listen_at (path);
  start (t);
  guest_send (&t->fe, mkhdr (HY_VSOCK_OP_REQUEST, 5000, 1234, 0), NULL);
  assert_int_equal (guest_recv (&t->fe, NULL).op, HY_VSOCK_OP_RESPONSE);
  int c = accept4 (l, NULL, NULL, SOCK_CLOEXEC);
  assert_true (c >= 0);
  assert_int_equal (shutdown (c, SHUT_WR), 0);
  struct hy_vsock_hdr h = guest_recv (&t->fe, NULL);
  assert_int_equal (h.op, HY_VSOCK_OP_SHUTDOWN);
  assert_int_equal (h.flags, HY_VSOCK_SHUTDOWN_SEND);
  guest_send (&t->fe, mkhdr (HY_VSOCK_OP_RW, 5000, 1234, 5), "after");
  assert_int_equal (read_timeout (c, buf, sizeof (buf)), 5);
  assert_memory_equal (buf, "after", 5);
  close (c);
  h = guest_recv (&t->fe, NULL);
  assert_int_equal (h.op, HY_VSOCK_OP_RST);
  assert_int_equal (h.dst_port, 5000);
  assert_no_rx (&t->fe);
  close (l);
}

/* A host client that stops waiting for the guest's answer. */
static void
test_host_gives_up (void **state)
{
  struct t *t = *state;
  start (t);
  int c = connect_to (t->uds);
  assert_int_equal (write (c, "CONNECT 7000\n", 13), 13);
  struct hy_vsock_hdr h = guest_recv (&t->fe, NULL);
  assert_int_equal (h.op, HY_VSOCK_OP_REQUEST);
  uint32_t hp = h.src_port;
  close (c);
  h = guest_recv (&t->fe, NULL);
  assert_int_equal (h.op, HY_VSOCK_OP_RST);
  assert_int_equal (h.src_port, hp);
  /* The guest's late answer finds nothing. */
  guest_send (&t->fe, mkhdr (HY_VSOCK_OP_RESPONSE, 7000, hp, 0), NULL);
  assert_int_equal (guest_recv (&t->fe, NULL).op, HY_VSOCK_OP_RST);
}

/* Only the host (CID 2) is reachable; other CIDs are refused at once, a
 * forged source CID gets nothing. */
static void
test_other_cids (void **state)
{
  struct t *t = *state;
  start (t);
  struct hy_vsock_hdr rq = mkhdr (HY_VSOCK_OP_REQUEST, 5000, 80, 0);
  rq.dst_cid = 7;
  guest_send (&t->fe, rq, NULL);
  struct hy_vring_used_elem e;
  assert_int_equal (fe_wait_used (&t->fe, 0, &e, 3000), 0);
  struct hy_vsock_hdr h;
  memcpy (&h, t->fe.mem + FE_DATA (0, e.id), HDR);
  assert_int_equal (h.op, HY_VSOCK_OP_RST);
  assert_int_equal (h.src_cid, 7);
  assert_int_equal (h.dst_cid, CID);
  assert_int_equal (h.src_port, 80);
  assert_int_equal (h.dst_port, 5000);
  post_rx (&t->fe, 1);
  rq = mkhdr (HY_VSOCK_OP_REQUEST, 5000, 80, 0);
  rq.src_cid = CID + 1;
  guest_send (&t->fe, rq, NULL);
  assert_no_rx (&t->fe);
}

static bool
is_socket (const char *path)
{
  struct stat st;
  return lstat (path, &st) == 0 && S_ISSOCK (st.st_mode);
}

/* QEMU goes away with connections open in every state: the back-end
 * returns 0 with all its fds closed (start_backend checks), every host end
 * reads EOF, and the socket the caller bound stays the caller's. */
static void
test_given_socket_lifecycle (void **state)
{
  struct t *t = *state;
  char path[200], buf[64];
  snprintf (path, sizeof (path), "%s_1234", t->uds);
  int l = listen_at (path);
  start (t);
  guest_send (&t->fe, mkhdr (HY_VSOCK_OP_REQUEST, 5000, 1234, 0), NULL);
  assert_int_equal (guest_recv (&t->fe, NULL).op, HY_VSOCK_OP_RESPONSE);
  int from_guest = accept4 (l, NULL, NULL, SOCK_CLOEXEC);
  int to_guest = connect_to (t->uds);
  assert_int_equal (write (to_guest, "CONNECT 7000\n", 13), 13);
  uint32_t hp = guest_recv (&t->fe, NULL).src_port;
  guest_send (&t->fe, mkhdr (HY_VSOCK_OP_RESPONSE, 7000, hp, 0), NULL);
  assert_true (read_timeout (to_guest, buf, sizeof (buf)) > 0);
  int waiting = connect_to (t->uds);
  assert_int_equal (write (waiting, "CONNECT 7001\n", 13), 13);
  assert_int_equal (guest_recv (&t->fe, NULL).op, HY_VSOCK_OP_REQUEST);
  int silent = connect_to (t->uds);

  stop_backend (t);
  int ends[] = { from_guest, to_guest, waiting, silent };
  for (unsigned i = 0; i < 4; i++)
    {
      assert_int_equal (read_timeout (ends[i], buf, sizeof (buf)), 0);
      close (ends[i]);
    }
  assert_true (is_socket (t->uds));
  assert_true (is_socket (path));
  close (l);
}

/* Without uds_fd the back-end makes the socket and removes it. */
static void
test_own_socket_removed (void **state)
{
  struct t *t = *state;
  start (t);
  assert_true (is_socket (t->uds));
  close (connect_to (t->uds));
  stop_backend (t);
  assert_false (is_socket (t->uds));
}

/* A socket left by a dead back-end is replaced; a live one is refused. */
static void
test_stale_and_live_sockets (void **state)
{
  (void) state;
  struct t *t = new_test ();
  close (listen_at (t->uds)); /* stale: bound, nobody accepts */
  start_backend (t, (struct hy_vsock_opts) { .uds_fd = -1, .uds_path = t->uds,
                                             .guest_cid = CID },
                 true);
  start (t);
  close (connect_to (t->uds));
  stop_backend (t);

  int live = listen_at (t->uds);
  int sv[2];
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    0);
  struct hy_vsock_opts o = { .vhost_fd = sv[1], .uds_fd = -1,
                             .uds_path = t->uds, .guest_cid = CID };
  hy_error_t err = NULL;
  assert_int_equal (hy_vsock_backend_run (&o, &err), -1);
  assert_non_null (strstr (err->msg, "bind"));
  assert_non_null (strstr (err->msg, t->uds));
  hy_error_release (&err);
  assert_int_equal (fcntl (sv[1], F_GETFD), -1); /* closed by the call */
  int c = connect_to (t->uds); /* still the live listener's */
  assert_true (accept4 (live, NULL, NULL, SOCK_CLOEXEC) >= 0);
  close (c);
  close (live);
  close (sv[0]);
  char cmd[200];
  snprintf (cmd, sizeof (cmd), "rm -rf %s", t->dir);
  assert_int_equal (system (cmd), 0);
  free (t);
}

/* Bad fds are refused with a message naming them, and closed. */
/* A listening socket without a path (autobound abstract address). */
static int
listening_abstract (void)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_int_equal (bind (fd, (void *) &sun, sizeof (sa_family_t)), 0);
  assert_int_equal (listen (fd, 1), 0);
  return fd;
}

static void
expect_refused (int vhost_fd, int uds_fd, uint64_t cid, const char *what)
{
  struct hy_vsock_opts o = { .vhost_fd = vhost_fd, .uds_fd = uds_fd,
                             .uds_path = "/nonexistent/v.sock",
                             .guest_cid = cid };
  hy_error_t err = NULL;
  assert_int_equal (hy_vsock_backend_run (&o, &err), -1);
  if (strstr (err->msg, what) == NULL)
    fail_msg ("`%s` does not say `%s`", err->msg, what);
  hy_error_release (&err);
  assert_int_equal (fcntl (vhost_fd, F_GETFD), -1);
  assert_int_equal (fcntl (uds_fd, F_GETFD), -1);
}

static void
test_bad_fds (void **state)
{
  (void) state;
  int sv[2], lv[2];
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, lv), 0);
  expect_refused (sv[0], lv[0], CID, "host socket fd");
  expect_refused (listening_abstract (), dup (sv[1]), CID, "vhost-user fd");
  expect_refused (dup (sv[1]), open ("/proc/self/status", O_RDONLY), CID,
                  "not a socket");
  expect_refused (sv[1], listening_abstract (), 2, "invalid guest cid");
  close (lv[1]);
}

static int
fd_flags_of (pid_t pid, int fd)
{
  char path[64], line[128];
  int flags = -1;
  snprintf (path, sizeof (path), "/proc/%d/fdinfo/%d", (int) pid, fd);
  FILE *f = fopen (path, "re");
  while (f && fgets (line, sizeof (line), f))
    sscanf (line, "flags: %o", &flags);
  if (f)
    fclose (f);
  return flags;
}

/* The fds handed over become close-on-exec; the listening one also
 * non-blocking, the vhost-user one blocking. */
static void
test_given_fds_flags (void **state)
{
  (void) state;
  int sv[2];
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv),
                    0);
  int l = listening_abstract ();
  assert_int_equal (fcntl (l, F_SETFD, 0), 0);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      close (sv[0]);
      struct hy_vsock_opts o = { .vhost_fd = sv[1], .uds_fd = l,
                                 .uds_path = "/nonexistent/v.sock",
                                 .guest_cid = CID };
      hy_error_t err = NULL;
      _exit (hy_vsock_backend_run (&o, &err) < 0 ? 1 : 0);
    }
  close (sv[1]);
  close (l);
  struct front fe = { .sock = sv[0] };
  uint64_t features;
  /* Answered: the back-end has taken the fds over. */
  assert_int_equal (fe_get_u64 (&fe, HY_VHOST_USER_GET_FEATURES, &features),
                    0);
  int vflags = fd_flags_of (pid, sv[1]), lflags = fd_flags_of (pid, l);
  assert_true (vflags >= 0 && lflags >= 0);
  assert_true (vflags & O_CLOEXEC);
  assert_false (vflags & O_NONBLOCK);
  assert_true (lflags & O_CLOEXEC);
  assert_true (lflags & O_NONBLOCK);
  close (sv[0]);
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
}

static ino_t
inode_of (int fd)
{
  struct stat st;
  assert_int_equal (fstat (fd, &st), 0);
  return st.st_ino;
}

static bool
holds_inode (pid_t pid, ino_t ino)
{
  char dir[64], link[384], target[64];
  snprintf (dir, sizeof (dir), "/proc/%d/fd", (int) pid);
  DIR *d = opendir (dir);
  assert_non_null (d);
  bool found = false;
  struct dirent *de;
  while ((de = readdir (d)) && !found)
    {
      snprintf (link, sizeof (link), "%s/%s", dir, de->d_name);
      ssize_t n = readlink (link, target, sizeof (target) - 1);
      if (n <= 0)
        continue;
      target[n] = '\0';
      char *open_bracket = strchr (target, '[');
      found = open_bracket && strtoull (open_bracket + 1, NULL, 10) == ino;
    }
  closedir (d);
  return found;
}

/* Spawn as the supervisor will: the child holds its two sockets and
 * nothing else of ours (not QEMU's end), is killable though we block
 * signals, and exits 0 once QEMU's end closes. */
static void
test_spawn (void **state)
{
  (void) state;
  sigset_t term, old;
  sigemptyset (&term);
  sigaddset (&term, SIGTERM);
  assert_int_equal (sigprocmask (SIG_BLOCK, &term, &old), 0);
  for (int round = 0; round < 2; round++)
    {
      int sv[2], stray[2];
      assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);
      assert_int_equal (pipe (stray), 0);
      int l = listening_abstract ();
      ino_t qemu_end = inode_of (sv[0]), backend_end = inode_of (sv[1]);
      ino_t listener = inode_of (l), stray_ino = inode_of (stray[0]);
      struct hy_vsock_opts o = { .vhost_fd = sv[1], .uds_fd = l,
                                 .uds_path = "/nonexistent/v.sock",
                                 .guest_cid = CID };
      hy_error_t err = NULL;
      pid_t pid = hy_vsock_backend_spawn (&o, &err);
      assert_true (pid > 0);
      assert_int_equal (fcntl (sv[1], F_GETFD), -1);
      assert_int_equal (fcntl (l, F_GETFD), -1);
      struct front fe = { .sock = sv[0] };
      uint64_t features;
      assert_int_equal (
          fe_get_u64 (&fe, HY_VHOST_USER_GET_FEATURES, &features), 0);
      assert_true (holds_inode (pid, backend_end));
      assert_true (holds_inode (pid, listener));
      assert_false (holds_inode (pid, qemu_end));
      assert_false (holds_inode (pid, stray_ino));
      int status;
      if (round == 0)
        {
          close (sv[0]);
          assert_int_equal (waitpid (pid, &status, 0), pid);
          assert_true (WIFEXITED (status));
          assert_int_equal (WEXITSTATUS (status), 0);
        }
      else
        {
          assert_int_equal (kill (pid, SIGTERM), 0);
          assert_int_equal (waitpid (pid, &status, 0), pid);
          assert_true (WIFSIGNALED (status));
          assert_int_equal (WTERMSIG (status), SIGTERM);
          close (sv[0]);
        }
      close (stray[0]);
      close (stray[1]);
    }
  assert_int_equal (sigprocmask (SIG_SETMASK, &old, NULL), 0);

  /* A setup error comes back to the caller, no child, fds closed. */
  int sv[2];
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);
  struct hy_vsock_opts bad = { .vhost_fd = sv[1], .uds_fd = -1,
                               .uds_path = "/nonexistent/v.sock",
                               .guest_cid = 1 };
  hy_error_t err = NULL;
  assert_int_equal (hy_vsock_backend_spawn (&bad, &err), -1);
  assert_non_null (strstr (err->msg, "invalid guest cid"));
  hy_error_release (&err);
  assert_int_equal (fcntl (sv[1], F_GETFD), -1);
  assert_int_equal (waitpid (-1, NULL, WNOHANG), -1);
  close (sv[0]);
}

/* ---- hostile guests: the back-end drops the chain and goes on ---- */

static void
expect_dropped (struct front *fe)
{
  fe_kick (fe, 1);
  struct hy_vring_used_elem e;
  assert_int_equal (fe_wait_used (fe, 1, &e, 3000), 0);
  assert_int_equal (e.len, 0);
}

static void
still_alive (struct t *t)
{
  guest_send (&t->fe, mkhdr (HY_VSOCK_OP_REQUEST, 5100, 4242, 0), NULL);
  assert_int_equal (guest_recv (&t->fe, NULL).op, HY_VSOCK_OP_RST);
}

static void
test_hostile_chains (void **state)
{
  struct t *t = *state;
  struct front *fe = &t->fe;
  assert_int_equal (fe_handshake (fe, 3,
                                  1ull << HY_VIRTIO_F_RING_INDIRECT_DESC),
                    0);
  post_rx (fe, 16);
  uint32_t buf = FE_DATA (1, 0);
  struct hy_vsock_hdr req = mkhdr (HY_VSOCK_OP_REQUEST, 5100, 4242, 0);
  memcpy (fe->mem + buf, &req, HDR);

  /* A descriptor loop: 2 -> 3 -> 2. */
  struct hy_vring_desc loop[2] = {
    { buf, 16, HY_VRING_DESC_F_NEXT, 0 }, { buf, 16, HY_VRING_DESC_F_NEXT, 0 },
  };
  uint16_t h = fe->q[1].next_desc % FE_QSIZE;
  loop[0].next = h + 1;
  loop[1].next = h;
  fe_add_chain (fe, 1, loop, 2, 0);
  expect_dropped (fe);
  still_alive (t);

  /* Addresses and lengths outside guest memory, and one that wraps. */
  struct hy_vring_desc oob = { FE_MEM_SIZE - 8, 44, 0, 0 };
  fe_add_chain (fe, 1, &oob, 1, 1);
  expect_dropped (fe);
  struct hy_vring_desc wrap = { UINT64_MAX - 4, 44, 0, 0 };
  fe_add_chain (fe, 1, &wrap, 1, 1);
  expect_dropped (fe);
  /* A next index past the queue. */
  struct hy_vring_desc bad_next = { buf, 44, HY_VRING_DESC_F_NEXT, 9999 };
  fe_add_chain (fe, 1, &bad_next, 1, 0);
  expect_dropped (fe);
  /* A readable descriptor after a writable one. */
  struct hy_vring_desc order[2] = { { buf, 44, HY_VRING_DESC_F_WRITE, 0 },
                                    { buf, 44, 0, 0 } };
  fe_add_chain (fe, 1, order, 2, 1);
  expect_dropped (fe);
  still_alive (t);

  /* Indirect tables: a loop, a nested indirect, an oversized chain. */
  struct hy_vring_desc *table = (void *) (fe->mem + FE_DATA (2, 0));
  table[0] = (struct hy_vring_desc) { buf, 44, HY_VRING_DESC_F_NEXT, 1 };
  table[1] = (struct hy_vring_desc) { buf, 44, HY_VRING_DESC_F_NEXT, 0 };
  struct hy_vring_desc ind = { FE_DATA (2, 0), 32, HY_VRING_DESC_F_INDIRECT,
                               0 };
  fe_add_chain (fe, 1, &ind, 1, 1);
  expect_dropped (fe);
  table[0] = (struct hy_vring_desc) { FE_DATA (2, 0), 16,
                                      HY_VRING_DESC_F_INDIRECT, 0 };
  ind.len = 16;
  fe_add_chain (fe, 1, &ind, 1, 1);
  expect_dropped (fe);
  for (unsigned i = 0; i < 200; i++)
    table[i] = (struct hy_vring_desc) { buf, 1, HY_VRING_DESC_F_NEXT, i + 1 };
  table[199].flags = 0;
  ind.len = 200 * 16;
  fe_add_chain (fe, 1, &ind, 1, 1);
  expect_dropped (fe);
  ind = (struct hy_vring_desc) { FE_MEM_SIZE - 16, 64,
                                 HY_VRING_DESC_F_INDIRECT, 0 };
  fe_add_chain (fe, 1, &ind, 1, 1);
  expect_dropped (fe);
  /* A good indirect chain still works: header split over two entries. */
  table[0] = (struct hy_vring_desc) { buf, 20, HY_VRING_DESC_F_NEXT, 1 };
  table[1] = (struct hy_vring_desc) { buf + 20, HDR - 20, 0, 0 };
  ind = (struct hy_vring_desc) { FE_DATA (2, 0), 32, HY_VRING_DESC_F_INDIRECT,
                                 0 };
  fe_add_chain (fe, 1, &ind, 1, 1);
  fe_kick (fe, 1);
  assert_int_equal (guest_recv (fe, NULL).op, HY_VSOCK_OP_RST);

  /* A header whose len claims more than the chain holds. */
  struct hy_vsock_hdr lie = mkhdr (HY_VSOCK_OP_RW, 5100, 4242, 100000);
  memcpy (fe->mem + buf, &lie, HDR);
  struct hy_vring_desc one = { buf, HDR, 0, 0 };
  fe_add_chain (fe, 1, &one, 1, 1);
  fe_kick (fe, 1);
  assert_int_equal (guest_recv (fe, NULL).op, HY_VSOCK_OP_RST);

  /* An avail index far ahead of the ring breaks the queue for good; the
   * back-end keeps serving the front-end. */
  fe->q[1].avail->idx += 1000;
  fe_kick (fe, 1);
  uint64_t f;
  assert_int_equal (fe_get_u64 (fe, HY_VHOST_USER_GET_FEATURES, &f), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_config_cid, setup, teardown),
    cmocka_unit_test_setup_teardown (test_guest_connects, setup, teardown),
    cmocka_unit_test_setup_teardown (test_host_connects, setup, teardown),
    cmocka_unit_test_setup_teardown (test_resets, setup, teardown),
    cmocka_unit_test_setup_teardown (test_credit, setup, teardown),
    cmocka_unit_test_setup_teardown (test_hostile_chains, setup, teardown),
    cmocka_unit_test_setup_teardown (test_host_half_close, setup, teardown),
    cmocka_unit_test_setup_teardown (test_host_gives_up, setup, teardown),
    cmocka_unit_test_setup_teardown (test_other_cids, setup, teardown),
    cmocka_unit_test_setup_teardown (test_given_socket_lifecycle,
                                     setup_given_socket, teardown),
    cmocka_unit_test_setup_teardown (test_own_socket_removed, setup, teardown),
    cmocka_unit_test (test_stale_and_live_sockets),
    cmocka_unit_test (test_bad_fds),
    cmocka_unit_test (test_given_fds_flags),
    cmocka_unit_test (test_spawn),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
