/* Guest memory as the vhost-user front-end shares it: up to eight regions,
 * each an fd mapped MAP_SHARED.  Every guest-supplied address goes through
 * hy_guest_mem_gpa() / hy_guest_mem_uva(), which only return a pointer when
 * the whole [addr, addr + len) lies inside one region. */
#ifndef HYRUN_VM_GUEST_MEM_H
#define HYRUN_VM_GUEST_MEM_H

#include <stdint.h>
#include <stddef.h>

#include "common/error.h"

#define HY_GUEST_MEM_MAX_REGIONS 8

struct hy_mem_region
{
  uint64_t gpa;  /* guest-physical start */
  uint64_t size;
  uint64_t uva;  /* the front-end's virtual address of gpa */
  uint8_t *host; /* our address of gpa */
  void *map;     /* what to munmap, NULL when the caller owns the memory */
  size_t map_len;
};

struct hy_guest_mem
{
  unsigned n;
  struct hy_mem_region r[HY_GUEST_MEM_MAX_REGIONS];
};

/* Map `size` bytes of `fd` from `offset` as the region at gpa/uva.  Rejects
 * empty, wrapping, overlapping regions and ranges past the end of the fd. */
int hy_guest_mem_add_fd (struct hy_guest_mem *m, int fd, uint64_t gpa,
                         uint64_t size, uint64_t uva, uint64_t offset,
                         hy_error_t *err);

/* Same checks for memory the caller already has mapped (tests). */
int hy_guest_mem_add_host (struct hy_guest_mem *m, void *host, uint64_t gpa,
                           uint64_t size, uint64_t uva, hy_error_t *err);

void *hy_guest_mem_gpa (const struct hy_guest_mem *m, uint64_t gpa,
                        uint64_t len);
void *hy_guest_mem_uva (const struct hy_guest_mem *m, uint64_t uva,
                        uint64_t len);

/* Unmap every region and empty the table. */
void hy_guest_mem_release (struct hy_guest_mem *m);

#endif
