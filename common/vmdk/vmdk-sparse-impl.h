/* What the sparse format decoders (vmdk-hosted.c, vmdk-cowd.c,
 * vmdk-sesparse.c) share with the grain table engine in
 * vmdk-sparse.c.  All three formats are two-level: a grain directory
 * (GD) of grain table (GT) locations, and grain tables of grain
 * locations; they differ in headers and in how entries are encoded.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VMDK_SPARSE_IMPL_H
#define VMDK_SPARSE_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include "vmdk-sparse.h"

/* Grain tables kept in memory per extent. */
#ifndef VMDK_GT_CACHE
#define VMDK_GT_CACHE 64
#endif

/* Larger grain directories are refused: 8M entries cover 64 TiB of
 * seSparse, 16 TiB of COWD and 2 TiB of hosted sparse with their
 * smallest grains.
 */
#define VMDK_GD_MAX_ENTRIES (UINT64_C (1) << 23)

/* Extents larger than 2^63 bytes are nonsense. */
#define VMDK_MAX_SECTORS (UINT64_C (1) << 54)

/* Grains above 1 GiB are nonsense (qemu agrees). */
#define VMDK_GRAIN_MAX_SECTORS (UINT64_C (1) << 21)

struct vmdk_sparse;

struct vmdk_sparse_ops {
  /* Read and check the header; set the geometry and gd_* fields. */
  int (*open) (struct vmdk_sparse *s);
  /* Where the grain table of GD entry I is, in bytes; 0 if none. */
  int (*table) (const struct vmdk_sparse *s, uint64_t i, uint64_t *offset);
  /* Decode GRAIN's entry in its table GT: set run->kind, and for DATA
   * run->file_offset to the grain's start in the file.
   */
  int (*grain) (const struct vmdk_sparse *s, const uint8_t *gt,
                uint64_t grain, struct vmdk_run *run);
};

extern const struct vmdk_sparse_ops vmdk_hosted_ops;
extern const struct vmdk_sparse_ops vmdk_cowd_ops;
extern const struct vmdk_sparse_ops vmdk_sesparse_ops;

struct gt_slot {
  uint64_t index;               /* GD entry */
  uint64_t used;                /* clock of the last use, for LRU */
  uint8_t *table;
};

struct vmdk_sparse {
  const struct vmdk_sparse_ops *ops;
  struct vmdk_file f;           /* f.name is our copy */
  uint64_t sectors;             /* capacity of the extent */

  /* Set by ops->open. */
  uint64_t grain_sectors;       /* power of two */
  uint32_t gt_entries;          /* entries per grain table */
  uint32_t gte_size;            /* bytes per GD and GT entry: 4 or 8 */
  uint64_t gd_offset;           /* bytes */
  uint64_t gd_entries;
  /* hosted sparse */
  uint64_t min_sector;          /* overHead: grains start here */
  bool zero_grain;              /* GT entry 1 means zeros */
  /* seSparse regions, in sectors */
  uint64_t tables_offset, n_tables, grains_offset, n_grains;

  uint8_t *gd;                  /* as read: little-endian entries */

  pthread_mutex_t lock;         /* protects what follows */
  struct gt_slot cache[VMDK_GT_CACHE];
  size_t n_cached;
  uint64_t clock;
};

static inline uint32_t
vmdk_le32 (const uint8_t *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24;
}

static inline uint64_t
vmdk_le64 (const uint8_t *p)
{
  return vmdk_le32 (p) | (uint64_t) vmdk_le32 (p + 4) << 32;
}

/* Read from the extent file, refusing reads past its known end. */
int vmdk_sparse_read (const struct vmdk_file *f, const char *what,
                      void *buf, size_t count, uint64_t offset);

/* Refuse WHAT (LEN bytes at OFFSET) if it is past the end of the file. */
int vmdk_sparse_check_in_file (const struct vmdk_file *f, const char *what,
                               uint64_t offset, uint64_t len);

/* Check FIELD (the header's grain size, in sectors) and set
 * s->grain_sectors.
 */
int vmdk_sparse_set_grain (struct vmdk_sparse *s, const char *field,
                           uint64_t sectors);

/* How many GD entries the capacity needs. */
uint64_t vmdk_sparse_gd_needed (const struct vmdk_sparse *s);

#endif /* VMDK_SPARSE_IMPL_H */
