#include "runtime/vm/virtqueue/guest-mem.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/stat.h>

static bool
ranges_overlap (uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
  return a < b + blen && b < a + alen;
}

static int
check_region (const struct hy_guest_mem *m, uint64_t gpa, uint64_t size,
              uint64_t uva, hy_error_t *err)
{
  if (m->n >= HY_GUEST_MEM_MAX_REGIONS)
    return hy_error (err, E2BIG, "more than %d memory regions",
                     HY_GUEST_MEM_MAX_REGIONS);
  if (size == 0)
    return hy_error (err, EINVAL, "empty memory region");
  if (gpa + size < gpa || uva + size < uva || size > SIZE_MAX)
    return hy_error (err, EINVAL,
                     "memory region 0x%llx+0x%llx wraps around",
                     (unsigned long long) gpa, (unsigned long long) size);
  for (unsigned i = 0; i < m->n; i++)
    if (ranges_overlap (gpa, size, m->r[i].gpa, m->r[i].size)
        || ranges_overlap (uva, size, m->r[i].uva, m->r[i].size))
      return hy_error (err, EINVAL, "memory region 0x%llx+0x%llx overlaps "
                       "region %u", (unsigned long long) gpa,
                       (unsigned long long) size, i);
  return 0;
}

int
hy_guest_mem_add_fd (struct hy_guest_mem *m, int fd, uint64_t gpa,
                     uint64_t size, uint64_t uva, uint64_t offset,
                     hy_error_t *err)
{
  if (check_region (m, gpa, size, uva, err) < 0)
    return -1;
  struct stat st;
  if (fstat (fd, &st) < 0)
    return hy_error_errno (err, "fstat memory region fd");
  if (!S_ISREG (st.st_mode))
    return hy_error (err, EINVAL, "memory region fd is not a regular file");
  /* A mapping past the end of the file would SIGBUS on first access. */
  if (offset + size < offset || offset + size > (uint64_t) st.st_size)
    return hy_error (err, EINVAL, "memory region 0x%llx+0x%llx at offset "
                     "0x%llx is past the end of its fd (0x%llx bytes)",
                     (unsigned long long) gpa, (unsigned long long) size,
                     (unsigned long long) offset,
                     (unsigned long long) st.st_size);
  size_t len = (size_t) (offset + size);
  void *map = mmap (NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED)
    return hy_error_errno (err, "mmap memory region");
  m->r[m->n++] = (struct hy_mem_region) {
    .gpa = gpa, .size = size, .uva = uva,
    .host = (uint8_t *) map + offset, .map = map, .map_len = len,
  };
  return 0;
}

int
hy_guest_mem_add_host (struct hy_guest_mem *m, void *host, uint64_t gpa,
                       uint64_t size, uint64_t uva, hy_error_t *err)
{
  if (check_region (m, gpa, size, uva, err) < 0)
    return -1;
  m->r[m->n++] = (struct hy_mem_region) {
    .gpa = gpa, .size = size, .uva = uva, .host = host,
  };
  return 0;
}

static void *
lookup (const struct hy_guest_mem *m, uint64_t addr, uint64_t len, bool gpa)
{
  for (unsigned i = 0; i < m->n; i++)
    {
      const struct hy_mem_region *r = &m->r[i];
      uint64_t start = gpa ? r->gpa : r->uva;
      if (addr < start)
        continue;
      uint64_t off = addr - start;
      if (off < r->size && len <= r->size - off)
        return r->host + off;
    }
  return NULL;
}

void *
hy_guest_mem_gpa (const struct hy_guest_mem *m, uint64_t gpa, uint64_t len)
{
  return lookup (m, gpa, len, true);
}

void *
hy_guest_mem_uva (const struct hy_guest_mem *m, uint64_t uva, uint64_t len)
{
  return lookup (m, uva, len, false);
}

void
hy_guest_mem_release (struct hy_guest_mem *m)
{
  for (unsigned i = 0; i < m->n; i++)
    if (m->r[i].map)
      munmap (m->r[i].map, m->r[i].map_len);
  m->n = 0;
}
