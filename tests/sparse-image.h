/* Building small sparse VMDK extents in memory, for the tests: hosted
 * sparse (KDMV), vmfsSparse (COWD) and seSparse, which qemu-img can
 * read but not create.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef SPARSE_IMAGE_H
#define SPARSE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

enum image_format { IMAGE_HOSTED, IMAGE_COWD, IMAGE_SESPARSE };

enum grain_state {
  GRAIN_DATA,                   /* FILL bytes; each sector starts with
                                   its sector number (u64 LE) */
  GRAIN_ZERO,                   /* zeroed grain */
  GRAIN_UNMAPPED,               /* seSparse only: unmapped by the guest */
};

struct image_grain {
  uint64_t grain;
  enum grain_state state;
  uint8_t fill;
};

/* Grain data is laid out in the order of the array, so listing grains
 * out of order makes them non-contiguous in the file.
 */
struct image {
  uint8_t *buf;
  size_t len;
  /* Byte offsets, for tests that damage the image. */
  uint64_t gd_offset;           /* grain directory */
  uint64_t gt_offset;           /* first grain table in the file */
  uint64_t data_offset;         /* first grain */
};

/* Returns -1 with a message on stderr if the request is impossible. */
int image_build (enum image_format fmt, uint64_t sectors,
                 uint64_t grain_sectors, const struct image_grain *g,
                 size_t n, struct image *img);
void image_free (struct image *img);

/* The content of sector SECTOR of a GRAIN_DATA grain. */
void image_fill_sector (uint8_t *buf, uint64_t sector, uint8_t fill);

#endif /* SPARSE_IMAGE_H */
