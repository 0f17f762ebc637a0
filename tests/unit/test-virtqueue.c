/* Split virtqueues over hostile guest memory, without any transport. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/vm/virtqueue/virtqueue.h"

#define MEM 0x40000
#define UVA 0x100000000ull /* the front-end sees gpa 0 here */
#define NUM 16

struct vt
{
  uint8_t *mem;
  struct hy_guest_mem gm;
  struct hy_vq vq;
  struct hy_vring_desc *desc;
  struct hy_vring_avail *avail;
  struct hy_vring_used *used;
};

static int
setup (void **state)
{
  struct vt *t = calloc (1, sizeof (*t));
  t->mem = aligned_alloc (4096, MEM);
  memset (t->mem, 0, MEM);
  assert_int_equal (hy_guest_mem_add_host (&t->gm, t->mem, 0, MEM, UVA, NULL),
                    0);
  hy_vq_init (&t->vq);
  t->desc = (void *) t->mem;
  t->avail = (void *) (t->mem + 0x1000);
  t->used = (void *) (t->mem + 0x2000);
  assert_int_equal (hy_vq_setup (&t->vq, &t->gm, NUM, UVA, UVA + 0x1000,
                                 UVA + 0x2000, NULL),
                    0);
  t->vq.indirect = true;
  *state = t;
  return 0;
}

static int
teardown (void **state)
{
  struct vt *t = *state;
  free (t->mem);
  free (t);
  return 0;
}

static void
make_avail (struct vt *t, uint16_t head)
{
  t->avail->ring[t->avail->idx % NUM] = head;
  t->avail->idx++;
}

static void
test_chain (void **state)
{
  struct vt *t = *state;
  memcpy (t->mem + 0x8000, "hello ", 6);
  memcpy (t->mem + 0x9000, "world", 5);
  t->desc[3] = (struct hy_vring_desc) { 0x8000, 6, HY_VRING_DESC_F_NEXT, 7 };
  t->desc[7] = (struct hy_vring_desc) { 0x9000, 5, HY_VRING_DESC_F_NEXT, 1 };
  t->desc[1] = (struct hy_vring_desc) { 0xa000, 3, HY_VRING_DESC_F_NEXT
                                        | HY_VRING_DESC_F_WRITE, 2 };
  t->desc[2] = (struct hy_vring_desc) { 0xb000, 100, HY_VRING_DESC_F_WRITE,
                                        0 };
  make_avail (t, 3);
  struct hy_vq_chain c;
  assert_int_equal (hy_vq_pop (&t->vq, &c), 1);
  assert_int_equal (c.head, 3);
  assert_int_equal (c.nout, 2);
  assert_int_equal (c.nin, 2);
  assert_int_equal (c.out_len, 11);
  assert_int_equal (c.in_len, 103);
  char buf[16] = { 0 };
  assert_int_equal (hy_vq_chain_read (&c, 4, buf, sizeof (buf)), 7);
  assert_string_equal (buf, "o world");
  assert_int_equal (hy_vq_chain_write (&c, 1, "abcdef", 6), 6);
  assert_memory_equal (t->mem + 0xa001, "ab", 2);
  assert_memory_equal (t->mem + 0xb000, "cdef", 4);
  hy_vq_push (&t->vq, c.head, 7);
  assert_int_equal (t->used->idx, 1);
  assert_int_equal (t->used->ring[0].id, 3);
  assert_int_equal (t->used->ring[0].len, 7);
  assert_int_equal (hy_vq_pop (&t->vq, &c), 0);
  /* unpop gives the same chain again */
  make_avail (t, 2);
  assert_int_equal (hy_vq_pop (&t->vq, &c), 1);
  hy_vq_unpop (&t->vq);
  assert_int_equal (hy_vq_pop (&t->vq, &c), 1);
  assert_int_equal (c.head, 2);
}

static void
expect_dropped (struct vt *t, uint16_t head)
{
  struct hy_vq_chain c;
  uint16_t used = t->used->idx;
  make_avail (t, head);
  assert_int_equal (hy_vq_pop (&t->vq, &c), 0);
  assert_int_equal (t->used->idx, (uint16_t) (used + 1));
  assert_int_equal (t->used->ring[used % NUM].id, head);
  assert_int_equal (t->used->ring[used % NUM].len, 0);
  assert_false (t->vq.broken);
}

static void
test_bad_chains (void **state)
{
  struct vt *t = *state;
  /* self loop, two-element loop */
  t->desc[0] = (struct hy_vring_desc) { 0x8000, 4, HY_VRING_DESC_F_NEXT, 0 };
  expect_dropped (t, 0);
  t->desc[1] = (struct hy_vring_desc) { 0x8000, 4, HY_VRING_DESC_F_NEXT, 2 };
  t->desc[2] = (struct hy_vring_desc) { 0x8000, 4, HY_VRING_DESC_F_NEXT, 1 };
  expect_dropped (t, 1);
  /* zero-length loop (no segments, still bounded) */
  t->desc[1].len = t->desc[2].len = 0;
  expect_dropped (t, 1);
  /* next out of the table */
  t->desc[3] = (struct hy_vring_desc) { 0x8000, 4, HY_VRING_DESC_F_NEXT, NUM };
  expect_dropped (t, 3);
  /* outside guest memory, straddling its end, wrapping */
  t->desc[4] = (struct hy_vring_desc) { MEM, 1, 0, 0 };
  expect_dropped (t, 4);
  t->desc[4] = (struct hy_vring_desc) { MEM - 4, 5, 0, 0 };
  expect_dropped (t, 4);
  t->desc[4] = (struct hy_vring_desc) { UINT64_MAX, 2, 0, 0 };
  expect_dropped (t, 4);
  t->desc[4] = (struct hy_vring_desc) { 8, UINT32_MAX, 0, 0 };
  expect_dropped (t, 4);
  /* readable after writable */
  t->desc[5] = (struct hy_vring_desc) { 0x8000, 4, HY_VRING_DESC_F_WRITE
                                        | HY_VRING_DESC_F_NEXT, 6 };
  t->desc[6] = (struct hy_vring_desc) { 0x8000, 4, 0, 0 };
  expect_dropped (t, 5);
}

static void
test_indirect (void **state)
{
  struct vt *t = *state;
  struct hy_vring_desc *tab = (void *) (t->mem + 0x10000);
  tab[0] = (struct hy_vring_desc) { 0x8000, 4, HY_VRING_DESC_F_NEXT, 1 };
  tab[1] = (struct hy_vring_desc) { 0x9000, 8, HY_VRING_DESC_F_WRITE, 0 };
  t->desc[0] = (struct hy_vring_desc) { 0x10000, 32, HY_VRING_DESC_F_INDIRECT,
                                        0 };
  make_avail (t, 0);
  struct hy_vq_chain c;
  assert_int_equal (hy_vq_pop (&t->vq, &c), 1);
  assert_int_equal (c.nout, 1);
  assert_int_equal (c.nin, 1);
  hy_vq_push (&t->vq, 0, 0);
  /* a loop inside the table */
  tab[1] = (struct hy_vring_desc) { 0x9000, 8, HY_VRING_DESC_F_NEXT, 0 };
  expect_dropped (t, 0);
  /* next past the table's end */
  tab[1].next = 2;
  expect_dropped (t, 0);
  /* nested indirect */
  tab[0] = (struct hy_vring_desc) { 0x10000, 32, HY_VRING_DESC_F_INDIRECT,
                                    0 };
  expect_dropped (t, 0);
  /* INDIRECT together with NEXT, bad sizes, table outside memory */
  t->desc[0] = (struct hy_vring_desc) { 0x10000, 32,
                                        HY_VRING_DESC_F_INDIRECT
                                        | HY_VRING_DESC_F_NEXT, 1 };
  expect_dropped (t, 0);
  t->desc[0] = (struct hy_vring_desc) { 0x10000, 0, HY_VRING_DESC_F_INDIRECT,
                                        0 };
  expect_dropped (t, 0);
  t->desc[0] = (struct hy_vring_desc) { 0x10000, 20, HY_VRING_DESC_F_INDIRECT,
                                        0 };
  expect_dropped (t, 0);
  t->desc[0] = (struct hy_vring_desc) { MEM - 16, 32,
                                        HY_VRING_DESC_F_INDIRECT, 0 };
  expect_dropped (t, 0);
  /* a chain longer than HY_VQ_MAX_SEGS */
  for (unsigned i = 0; i < 300; i++)
    tab[i] = (struct hy_vring_desc) { 0x8000, 1, HY_VRING_DESC_F_NEXT,
                                      i + 1 };
  tab[299].flags = 0;
  t->desc[0] = (struct hy_vring_desc) { 0x10000, 300 * 16,
                                        HY_VRING_DESC_F_INDIRECT, 0 };
  expect_dropped (t, 0);
  /* without the feature, indirect descriptors are refused */
  t->vq.indirect = false;
  t->desc[0].len = 32;
  tab[1].flags = 0;
  expect_dropped (t, 0);
}

static void
test_broken_ring (void **state)
{
  struct vt *t = *state;
  struct hy_vq_chain c;
  t->avail->ring[0] = NUM; /* head out of range */
  t->avail->idx = 1;
  assert_int_equal (hy_vq_pop (&t->vq, &c), -1);
  assert_true (t->vq.broken);
  assert_int_equal (hy_vq_pop (&t->vq, &c), -1);
  /* set up again: avail index running more than num ahead */
  assert_int_equal (hy_vq_setup (&t->vq, &t->gm, NUM, UVA, UVA + 0x1000,
                                 UVA + 0x2000, NULL),
                    0);
  t->vq.last_avail = 0;
  t->avail->idx = NUM + 1;
  assert_int_equal (hy_vq_pop (&t->vq, &c), -1);
}

static void
test_setup_checks (void **state)
{
  struct vt *t = *state;
  struct hy_vq vq;
  hy_vq_init (&vq);
  hy_error_t err = NULL;
  assert_true (hy_vq_setup (&vq, &t->gm, 3, UVA, UVA + 0x1000, UVA + 0x2000,
                            &err) < 0);
  hy_error_release (&err);
  assert_true (hy_vq_setup (&vq, &t->gm, 0, UVA, UVA + 0x1000, UVA + 0x2000,
                            &err) < 0);
  hy_error_release (&err);
  assert_true (hy_vq_setup (&vq, &t->gm, NUM, UVA + 8, UVA + 0x1000,
                            UVA + 0x2000, &err) < 0);
  assert_int_equal (err->errnum, EINVAL);
  hy_error_release (&err);
  assert_true (hy_vq_setup (&vq, &t->gm, NUM, UVA, UVA + 0x1000,
                            UVA + MEM - 8, &err) < 0);
  assert_int_equal (err->errnum, EFAULT);
  hy_error_release (&err);
  /* a ring given by guest-physical instead of user address is not found */
  assert_true (hy_vq_setup (&vq, &t->gm, NUM, 0, 0x1000, 0x2000, &err) < 0);
  hy_error_release (&err);
}

static void
test_guest_mem (void **state)
{
  (void) state;
  struct hy_guest_mem m = { 0 };
  hy_error_t err = NULL;
  static uint8_t a[4096];
  assert_int_equal (hy_guest_mem_add_host (&m, a, 0x1000, 4096, 0x10000, NULL),
                    0);
  /* overlapping in gpa or in uva, empty, wrapping */
  assert_true (hy_guest_mem_add_host (&m, a, 0x1800, 4096, 0x90000, &err) < 0);
  hy_error_release (&err);
  assert_true (hy_guest_mem_add_host (&m, a, 0x9000, 4096, 0x10800, &err) < 0);
  hy_error_release (&err);
  assert_true (hy_guest_mem_add_host (&m, a, 0x9000, 0, 0x90000, &err) < 0);
  hy_error_release (&err);
  assert_true (hy_guest_mem_add_host (&m, a, UINT64_MAX - 100, 4096, 0x90000,
                                      &err) < 0);
  hy_error_release (&err);
  assert_ptr_equal (hy_guest_mem_gpa (&m, 0x1000, 4096), a);
  assert_null (hy_guest_mem_gpa (&m, 0x1000, 4097));
  assert_null (hy_guest_mem_gpa (&m, 0xfff, 2));
  assert_ptr_equal (hy_guest_mem_uva (&m, 0x10010, 16), a + 16);
  assert_null (hy_guest_mem_uva (&m, 0x1000, 1));
  /* an fd region must lie within the fd */
  int fd = memfd_create ("m", MFD_CLOEXEC);
  assert_int_equal (ftruncate (fd, 8192), 0);
  assert_true (hy_guest_mem_add_fd (&m, fd, 0x100000, 8192, 0x200000, 4096,
                                    &err) < 0);
  hy_error_release (&err);
  assert_true (hy_guest_mem_add_fd (&m, fd, 0x100000, 4096, 0x200000,
                                    UINT64_MAX - 10, &err) < 0);
  hy_error_release (&err);
  assert_int_equal (hy_guest_mem_add_fd (&m, fd, 0x100000, 4096, 0x200000,
                                         4096, NULL),
                    0);
  uint8_t *p = hy_guest_mem_gpa (&m, 0x100000, 4096);
  p[0] = 7;
  uint8_t v;
  assert_int_equal (pread (fd, &v, 1, 4096), 1);
  assert_int_equal (v, 7);
  hy_guest_mem_release (&m);
  close (fd);
}

static void
test_event_idx (void **state)
{
  struct vt *t = *state;
  t->vq.event_idx = true;
  int call = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  t->vq.call_fd = call;
  t->desc[0] = (struct hy_vring_desc) { 0x8000, 4, 0, 0 };
  struct hy_vq_chain c;
  /* avail_event follows what we consumed */
  assert_int_equal (hy_vq_pop (&t->vq, &c), 0);
  make_avail (t, 0);
  make_avail (t, 0);
  assert_int_equal (hy_vq_pop (&t->vq, &c), 1);
  assert_int_equal (*(uint16_t *) &t->used->ring[NUM], 1);
  hy_vq_push (&t->vq, 0, 0);
  hy_vq_notify (&t->vq); /* first notification always goes */
  eventfd_t v;
  assert_int_equal (eventfd_read (call, &v), 0);
  /* the driver asks to be told only after used index 5 */
  t->avail->ring[NUM] = 5;
  assert_int_equal (hy_vq_pop (&t->vq, &c), 1);
  hy_vq_push (&t->vq, 0, 0);
  hy_vq_notify (&t->vq);
  assert_int_equal (eventfd_read (call, &v), -1);
  t->avail->ring[NUM] = 1;
  make_avail (t, 0);
  assert_int_equal (hy_vq_pop (&t->vq, &c), 1);
  hy_vq_push (&t->vq, 0, 0);
  hy_vq_notify (&t->vq);
  assert_int_equal (eventfd_read (call, &v), -1); /* event 1 already passed */
  /* without event idx, NO_INTERRUPT silences */
  t->vq.event_idx = false;
  t->avail->flags = HY_VRING_AVAIL_F_NO_INTERRUPT;
  hy_vq_notify (&t->vq);
  assert_int_equal (eventfd_read (call, &v), -1);
  t->avail->flags = 0;
  hy_vq_notify (&t->vq);
  assert_int_equal (eventfd_read (call, &v), 0);
  close (call);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_chain, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bad_chains, setup, teardown),
    cmocka_unit_test_setup_teardown (test_indirect, setup, teardown),
    cmocka_unit_test_setup_teardown (test_broken_ring, setup, teardown),
    cmocka_unit_test_setup_teardown (test_setup_checks, setup, teardown),
    cmocka_unit_test (test_guest_mem),
    cmocka_unit_test_setup_teardown (test_event_idx, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
