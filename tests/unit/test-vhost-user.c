/* The vhost-user back-end protocol, in process: the test writes a message
 * on one end of a socketpair, hy_vhost_handle_one() serves it, the test
 * reads the reply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "vhost-front.h"

struct dummy
{
  unsigned kicked[4];
  unsigned stopped;
  unsigned resets;
};

struct t
{
  struct front fe;
  struct hy_vhost_dev d;
  struct dummy dev;
  int epfd;
};

static int
dummy_config (struct hy_vhost_dev *d, uint32_t offset, uint8_t *buf,
              uint32_t len)
{
  (void) d;
  static const uint8_t cfg[4] = { 1, 2, 3, 4 };
  if (offset > 4 || len > 4 - offset)
    return -1;
  memcpy (buf, cfg + offset, len);
  return 0;
}

static void
dummy_kicked (struct hy_vhost_dev *d, unsigned idx)
{
  ((struct dummy *) d->opaque)->kicked[idx]++;
}

static void
dummy_stopped (struct hy_vhost_dev *d, unsigned idx)
{
  (void) idx;
  ((struct dummy *) d->opaque)->stopped++;
}

static void
dummy_reset (struct hy_vhost_dev *d)
{
  ((struct dummy *) d->opaque)->resets++;
}

static const struct hy_vhost_ops dummy_ops = {
  .name = "test-device",
  .features = 1ull << HY_VIRTIO_F_VERSION_1,
  .num_queues = 2,
  .get_config = dummy_config,
  .queue_kicked = dummy_kicked,
  .queue_stopped = dummy_stopped,
  .reset = dummy_reset,
};

static int
setup (void **state)
{
  struct t *t = calloc (1, sizeof (*t));
  int sv[2];
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    0);
  assert_int_equal (fe_mem_init (&t->fe), 0);
  t->fe.sock = sv[0];
  t->epfd = epoll_create1 (EPOLL_CLOEXEC);
  assert_int_equal (hy_vhost_dev_init (&t->d, t->epfd, sv[1], &dummy_ops,
                                       &t->dev, NULL),
                    0);
  *state = t;
  return 0;
}

static int
teardown (void **state)
{
  struct t *t = *state;
  hy_vhost_dev_release (&t->d);
  close (t->fe.sock);
  close (t->fe.memfd);
  munmap (t->fe.mem, FE_MEM_SIZE);
  for (unsigned q = 0; q < 3; q++)
    {
      close (t->fe.q[q].kick);
      close (t->fe.q[q].call);
    }
  close (t->epfd);
  free (t);
  return 0;
}

/* Serve one message; returns what hy_vhost_handle_one returned. */
static int
serve (struct t *t)
{
  hy_error_t err = NULL;
  int r = hy_vhost_handle_one (&t->d, &err);
  hy_error_release (&err);
  return r;
}

static long long
call (struct t *t, uint32_t req, const void *p, uint32_t size, const int *fds,
      unsigned nfds)
{
  if (fe_send (&t->fe, req, HY_VHOST_USER_FLAG_NEED_REPLY, p, size, fds, nfds)
      < 0)
    return -1;
  if (serve (t) < 0)
    return -2;
  uint64_t v;
  return fe_recv (&t->fe, req, &v, 8) == 8 ? (long long) v : -1;
}

static uint64_t
get_u64 (struct t *t, uint32_t req)
{
  uint64_t v = 0;
  assert_int_equal (fe_send (&t->fe, req, 0, NULL, 0, NULL, 0), 0);
  assert_int_equal (serve (t), 0);
  assert_int_equal (fe_recv (&t->fe, req, &v, 8), 8);
  return v;
}

static void
negotiate (struct t *t)
{
  uint64_t pf = 1ull << HY_VHOST_USER_PROTOCOL_F_REPLY_ACK;
  assert_int_equal (fe_send (&t->fe, HY_VHOST_USER_SET_PROTOCOL_FEATURES, 0,
                             &pf, 8, NULL, 0),
                    0);
  assert_int_equal (serve (t), 0);
  uint64_t f = (1ull << HY_VIRTIO_F_VERSION_1)
               | (1ull << HY_VHOST_USER_F_PROTOCOL_FEATURES);
  assert_int_equal (call (t, HY_VHOST_USER_SET_FEATURES, &f, 8, NULL, 0), 0);
}

static void
test_features (void **state)
{
  struct t *t = *state;
  assert_int_equal (get_u64 (t, HY_VHOST_USER_GET_FEATURES),
                    (1ull << HY_VIRTIO_F_VERSION_1)
                        | (1ull << HY_VHOST_USER_F_PROTOCOL_FEATURES));
  uint64_t pf = get_u64 (t, HY_VHOST_USER_GET_PROTOCOL_FEATURES);
  assert_true (pf & (1ull << HY_VHOST_USER_PROTOCOL_F_REPLY_ACK));
  assert_true (pf & (1ull << HY_VHOST_USER_PROTOCOL_F_CONFIG));
  assert_false (pf & (1ull << HY_VHOST_USER_PROTOCOL_F_MQ));
  negotiate (t);
  assert_int_equal (get_u64 (t, HY_VHOST_USER_GET_QUEUE_NUM), 2);
  /* features never offered are refused */
  uint64_t f = 1ull << 5;
  assert_int_equal (call (t, HY_VHOST_USER_SET_FEATURES, &f, 8, NULL, 0), 1);
  /* so are dirty logging and requests we do not know */
  assert_int_equal (call (t, HY_VHOST_USER_SET_LOG_BASE, &f, 8, NULL, 0), 1);
  assert_int_equal (call (t, 77, NULL, 0, NULL, 0), 1);
  assert_int_equal (call (t, HY_VHOST_USER_SET_OWNER, NULL, 0, NULL, 0), 0);
  assert_int_equal (call (t, HY_VHOST_USER_RESET_DEVICE, NULL, 0, NULL, 0),
                    0);
  assert_int_equal (t->dev.resets, 1);
}

static void
test_config (void **state)
{
  struct t *t = *state;
  uint8_t buf[sizeof (struct hy_vhost_config) + 2] = { 0 };
  struct hy_vhost_config c = { 1, 2, 0 };
  memcpy (buf, &c, sizeof (c));
  assert_int_equal (fe_send (&t->fe, HY_VHOST_USER_GET_CONFIG, 0, buf,
                             sizeof (buf), NULL, 0),
                    0);
  assert_int_equal (serve (t), 0);
  assert_int_equal (fe_recv (&t->fe, HY_VHOST_USER_GET_CONFIG, buf,
                             sizeof (buf)),
                    sizeof (buf));
  assert_int_equal (buf[sizeof (c)], 2);
  assert_int_equal (buf[sizeof (c) + 1], 3);
  negotiate (t);
  assert_int_equal (call (t, HY_VHOST_USER_SET_CONFIG, buf, sizeof (buf),
                          NULL, 0),
                    1);
  /* a config size that disagrees with the payload ends the session */
  c.size = 200;
  memcpy (buf, &c, sizeof (c));
  assert_int_equal (fe_send (&t->fe, HY_VHOST_USER_GET_CONFIG, 0, buf,
                             sizeof (buf), NULL, 0),
                    0);
  assert_true (serve (t) < 0);
  assert_true (t->d.disconnected);
}

static long long
mem_table (struct t *t, unsigned n, const struct hy_vhost_mem_region *r,
           unsigned nfds)
{
  struct
  {
    struct hy_vhost_mem m;
    struct hy_vhost_mem_region r[9];
  } tab = { { n, 0 }, { { 0 } } };
  memcpy (tab.r, r, n * sizeof (*r));
  int fds[9];
  for (unsigned i = 0; i < 9; i++)
    fds[i] = t->fe.memfd;
  return call (t, HY_VHOST_USER_SET_MEM_TABLE, &tab,
               sizeof (tab.m) + n * sizeof (*r), fds, nfds);
}

static void
test_mem_table (void **state)
{
  struct t *t = *state;
  negotiate (t);
  struct hy_vhost_mem_region r[9];
  for (unsigned i = 0; i < 9; i++)
    r[i] = (struct hy_vhost_mem_region) { i * 0x1000, 0x1000,
                                          FE_UVA_BASE + i * 0x1000, i * 0x1000 };
  assert_int_equal (mem_table (t, 2, r, 2), 0);
  assert_int_equal (t->d.mem.n, 2);
  /* past the end of the fd */
  struct hy_vhost_mem_region bad = { 0, 0x1000, FE_UVA_BASE, FE_MEM_SIZE };
  assert_int_equal (mem_table (t, 1, &bad, 1), 1);
  bad = (struct hy_vhost_mem_region) { 0, FE_MEM_SIZE + 1, FE_UVA_BASE, 0 };
  assert_int_equal (mem_table (t, 1, &bad, 1), 1);
  bad = (struct hy_vhost_mem_region) { 0, 0x1000, FE_UVA_BASE,
                                       UINT64_MAX - 0x10 };
  assert_int_equal (mem_table (t, 1, &bad, 1), 1);
  /* empty, wrapping, overlapping */
  bad = (struct hy_vhost_mem_region) { 0, 0, FE_UVA_BASE, 0 };
  assert_int_equal (mem_table (t, 1, &bad, 1), 1);
  bad = (struct hy_vhost_mem_region) { UINT64_MAX - 0xfff, 0x2000,
                                       FE_UVA_BASE, 0 };
  assert_int_equal (mem_table (t, 1, &bad, 1), 1);
  struct hy_vhost_mem_region two[2] = { r[0], r[1] };
  two[1].gpa = 0x800;
  assert_int_equal (mem_table (t, 2, two, 2), 1);
  two[1] = r[1];
  two[1].uva = r[0].uva;
  assert_int_equal (mem_table (t, 2, two, 2), 1);
  /* fds and regions must match; at most eight regions */
  assert_int_equal (mem_table (t, 2, r, 1), 1);
  assert_int_equal (mem_table (t, 9, r, 8), 1);
  assert_int_equal (mem_table (t, 0, r, 0), 1);
  /* the good table is still in place */
  assert_int_equal (t->d.mem.n, 2);
  assert_non_null (hy_guest_mem_gpa (&t->d.mem, 0x1fff, 1));
}

static void
test_vrings (void **state)
{
  struct t *t = *state;
  negotiate (t);
  assert_int_equal (fe_set_mem_table (&t->fe, FE_MEM_SIZE, 0), -1);
  /* (fe_set_mem_table waits for the reply itself: serve it by hand) */
  assert_int_equal (serve (t), 0);
  uint64_t ack;
  assert_int_equal (fe_recv (&t->fe, HY_VHOST_USER_SET_MEM_TABLE, &ack, 8),
                    8);
  assert_int_equal (ack, 0);

  struct hy_vhost_vring_state st = { 1, 3 };
  assert_int_equal (call (t, HY_VHOST_USER_SET_VRING_NUM, &st, 8, NULL, 0), 1);
  st = (struct hy_vhost_vring_state) { 5, 64 };
  assert_int_equal (call (t, HY_VHOST_USER_SET_VRING_NUM, &st, 8, NULL, 0), 1);
  st = (struct hy_vhost_vring_state) { 1, 64 };
  assert_int_equal (call (t, HY_VHOST_USER_SET_VRING_NUM, &st, 8, NULL, 0), 0);
  st.num = 7;
  assert_int_equal (call (t, HY_VHOST_USER_SET_VRING_BASE, &st, 8, NULL, 0),
                    0);
  struct hy_vhost_vring_addr a = { 1, 1, FE_UVA_BASE, FE_UVA_BASE + 0x2000,
                                   FE_UVA_BASE + 0x1000, 0 };
  assert_int_equal (call (t, HY_VHOST_USER_SET_VRING_ADDR, &a, sizeof (a),
                          NULL, 0),
                    1); /* logging flag */
  a.flags = 0;
  assert_int_equal (call (t, HY_VHOST_USER_SET_VRING_ADDR, &a, sizeof (a),
                          NULL, 0),
                    0);
  uint64_t idx = 1;
  /* KICK needs exactly one fd unless the no-fd flag says polling */
  assert_int_equal (call (t, HY_VHOST_USER_SET_VRING_KICK, &idx, 8, NULL, 0),
                    1);
  assert_int_equal (call (t, HY_VHOST_USER_SET_VRING_KICK, &idx, 8,
                          &t->fe.q[1].kick, 1),
                    0);
  assert_null (hy_vhost_queue_get (&t->d, 1)); /* not enabled yet */
  struct hy_vhost_vring_state en = { 1, 1 };
  assert_int_equal (call (t, HY_VHOST_USER_SET_VRING_ENABLE, &en, 8, NULL, 0),
                    0);
  assert_non_null (hy_vhost_queue_get (&t->d, 1));
  unsigned before = t->dev.kicked[1];
  fe_kick (&t->fe, 1);
  assert_int_equal (hy_vm_watch_dispatch (t->epfd, 1000, NULL), 0);
  assert_int_equal (t->dev.kicked[1], before + 1);

  st = (struct hy_vhost_vring_state) { 1, 0 };
  assert_int_equal (fe_send (&t->fe, HY_VHOST_USER_GET_VRING_BASE, 0, &st, 8,
                             NULL, 0),
                    0);
  assert_int_equal (serve (t), 0);
  assert_int_equal (fe_recv (&t->fe, HY_VHOST_USER_GET_VRING_BASE, &st, 8),
                    8);
  assert_int_equal (st.index, 1);
  assert_int_equal (st.num, 7);
  assert_int_equal (t->dev.stopped, 1);
  assert_null (hy_vhost_queue_get (&t->d, 1));

  /* polling mode: no fd, the flag */
  idx = 1 | HY_VHOST_USER_VRING_NOFD;
  assert_int_equal (call (t, HY_VHOST_USER_SET_VRING_KICK, &idx, 8, NULL, 0),
                    0);
  before = t->dev.kicked[1];
  assert_true (hy_vhost_poll (&t->d));
  assert_int_equal (t->dev.kicked[1], before + 1);
}

static void
test_framing (void **state)
{
  struct t *t = *state;
  /* a fixed-size request with the wrong size ends the session */
  uint32_t four = 4;
  assert_int_equal (fe_send (&t->fe, HY_VHOST_USER_SET_FEATURES, 0, &four, 4,
                             NULL, 0),
                    0);
  assert_true (serve (t) < 0);
  assert_true (t->d.disconnected);
}

static void
test_bad_header (void **state)
{
  struct t *t = *state;
  struct hy_vhost_msg_hdr h = { HY_VHOST_USER_GET_FEATURES, 2, 0 };
  assert_int_equal (write (t->fe.sock, &h, sizeof (h)), sizeof (h));
  assert_true (serve (t) < 0);
  h = (struct hy_vhost_msg_hdr) { HY_VHOST_USER_GET_FEATURES, 1, 1u << 20 };
  assert_int_equal (write (t->fe.sock, &h, sizeof (h)), sizeof (h));
  assert_true (serve (t) < 0);
  shutdown (t->fe.sock, SHUT_WR);
  assert_true (serve (t) < 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_features, setup, teardown),
    cmocka_unit_test_setup_teardown (test_config, setup, teardown),
    cmocka_unit_test_setup_teardown (test_mem_table, setup, teardown),
    cmocka_unit_test_setup_teardown (test_vrings, setup, teardown),
    cmocka_unit_test_setup_teardown (test_framing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bad_header, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
