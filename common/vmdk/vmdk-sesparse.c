/* seSparse extents: the snapshot deltas of VMFS 6, and of VMFS 5 disks
 * over 2 TiB.  The format is undocumented; the checks follow what
 * qemu accepts.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <inttypes.h>

#include <nbdkit-plugin.h>

#include "vmdk-sparse-impl.h"

#define CONST_MAGIC UINT64_C (0xcafebabe)
#define VOLATILE_MAGIC UINT64_C (0xcafecafe)
#define SE_VERSION UINT64_C (0x0000000200000001)
#define GRAIN_SECTORS 8
#define GT_SECTORS 64
#define GT_ENTRIES (GT_SECTORS * VMDK_SECTOR / 8)
#define GD_ALLOCATED UINT64_C (0x10000000)

/* The constant header is 64-bit fields; these are their indexes. */
enum {
  C_MAGIC, C_VERSION, C_CAPACITY, C_GRAIN_SIZE, C_GT_SIZE, C_FLAGS,
  C_VOLATILE = 10, C_GD = 16, C_GTS = 18, C_GRAINS = 24,
};
/* Volatile header fields. */
enum { V_MAGIC, V_REPLAY_JOURNAL = 3 };

static uint64_t
field (const uint8_t *h, int i)
{
  return vmdk_le64 (&h[i * 8]);
}

/* Check the region at field I (offset, size in sectors) of the
 * constant header, so that offsets computed in it cannot overflow.
 */
static int
region (const struct vmdk_sparse *s, const uint8_t *h, int i,
        const char *what, uint64_t *offset, uint64_t *size)
{
  *offset = field (h, i);
  *size = field (h, i + 1);
  if (*offset == 0 || *offset > VMDK_MAX_SECTORS ||
      *size > VMDK_MAX_SECTORS - *offset) {
    nbdkit_error ("%s: bad %s region (offset %" PRIu64 ", size %" PRIu64
                  " sectors)", s->f.name, what, *offset, *size);
    return -1;
  }
  return 0;
}

static int
sesparse_open (struct vmdk_sparse *s)
{
  const char *name = s->f.name;
  uint8_t h[2 * VMDK_SECTOR], *v = &h[VMDK_SECTOR];
  uint64_t x, vol, vol_size, gd_size, gts_size, grains_size;

  if (s->f.size && s->f.size < sizeof h) {
    nbdkit_error ("%s: file is shorter (%" PRIu64 " bytes) than the "
                  "seSparse headers", name, s->f.size);
    return -1;
  }
  /* The volatile header usually follows: read both at once. */
  if (s->f.pread (s->f.opaque, h, sizeof h, 0) == -1)
    return -1;
  if (field (h, C_MAGIC) != CONST_MAGIC) {
    nbdkit_error ("%s: bad magic: not a seSparse extent", name);
    return -1;
  }
  if ((x = field (h, C_VERSION)) != SE_VERSION) {
    nbdkit_error ("%s: unsupported seSparse version 0x%016" PRIx64, name, x);
    return -1;
  }
  if ((x = field (h, C_CAPACITY)) != s->sectors) {
    nbdkit_error ("%s: capacity %" PRIu64 " sectors does not match the "
                  "descriptor's extent size %" PRIu64, name, x, s->sectors);
    return -1;
  }
  if ((x = field (h, C_GRAIN_SIZE)) != GRAIN_SECTORS) {
    nbdkit_error ("%s: unsupported grain_size %" PRIu64 " (not %d)",
                  name, x, GRAIN_SECTORS);
    return -1;
  }
  if ((x = field (h, C_GT_SIZE)) != GT_SECTORS) {
    nbdkit_error ("%s: unsupported grain_table_size %" PRIu64 " (not %d)",
                  name, x, GT_SECTORS);
    return -1;
  }
  if ((x = field (h, C_FLAGS)) != 0) {
    nbdkit_error ("%s: unsupported flags 0x%" PRIx64, name, x);
    return -1;
  }
  if (region (s, h, C_VOLATILE, "volatile header", &vol, &vol_size) == -1 ||
      region (s, h, C_GD, "grain directory", &s->gd_offset, &gd_size) == -1 ||
      region (s, h, C_GTS, "grain tables", &s->tables_offset,
              &gts_size) == -1 ||
      region (s, h, C_GRAINS, "grains", &s->grains_offset,
              &grains_size) == -1)
    return -1;
  if (vol != 1 &&
      vmdk_sparse_read (&s->f, "volatile header", v, VMDK_SECTOR,
                        vol * VMDK_SECTOR) == -1)
    return -1;
  if (field (v, V_MAGIC) != VOLATILE_MAGIC) {
    nbdkit_error ("%s: bad volatile header magic", name);
    return -1;
  }
  if ((x = field (v, V_REPLAY_JOURNAL)) != 0) {
    nbdkit_error ("%s: the journal needs replaying (replay_journal is "
                  "%" PRIu64 "): the delta was not closed cleanly; "
                  "power the VM on and off, or consolidate, first", name, x);
    return -1;
  }

  s->grain_sectors = GRAIN_SECTORS;
  s->gt_entries = GT_ENTRIES;
  s->gte_size = 8;
  s->gd_offset *= VMDK_SECTOR;
  s->gd_entries = vmdk_sparse_gd_needed (s);
  if (gd_size < s->gd_entries / (VMDK_SECTOR / 8) +
      (s->gd_entries % (VMDK_SECTOR / 8) != 0)) {
    nbdkit_error ("%s: the grain directory (grain_dir_size %" PRIu64
                  " sectors) is too small for the capacity", name, gd_size);
    return -1;
  }
  s->n_tables = gts_size / GT_SECTORS;
  s->n_grains = grains_size / GRAIN_SECTORS;
  return 0;
}

static int
sesparse_table (const struct vmdk_sparse *s, uint64_t i, uint64_t *offset)
{
  uint64_t e = vmdk_le64 (&s->gd[i * 8]), t;

  *offset = 0;
  if (e == 0)
    return 0;
  /* The top 32 bits say "allocated"; the rest is a table number. */
  if (e >> 32 != GD_ALLOCATED) {
    nbdkit_error ("%s: grain directory entry %" PRIu64 " (0x%016" PRIx64 ") "
                  "has wrong top bits", s->f.name, i, e);
    return -1;
  }
  t = e & UINT32_MAX;
  if (t >= s->n_tables) {
    nbdkit_error ("%s: grain directory entry %" PRIu64 " names grain table "
                  "%" PRIu64 ", beyond grain_tables_size", s->f.name, i, t);
    return -1;
  }
  *offset = (s->tables_offset + t * GT_SECTORS) * VMDK_SECTOR;
  return 0;
}

static int
sesparse_grain (const struct vmdk_sparse *s, const uint8_t *gt,
                uint64_t grain, struct vmdk_run *run)
{
  uint64_t e = vmdk_le64 (&gt[(grain % GT_ENTRIES) * 8]), c;

  switch (e >> 60) {
  case 0:                       /* unallocated */
    if (e != 0)
      break;
    run->kind = VMDK_RUN_PARENT;
    return 0;
  case 1:                       /* unmapped by the guest */
  case 2:                       /* zeroed */
    run->kind = VMDK_RUN_ZERO;
    return 0;
  case 3:                       /* allocated: a shuffled cluster number */
    c = (e & UINT64_C (0x0fff000000000000)) >> 48 |
      (e & UINT64_C (0x0000ffffffffffff)) << 12;
    if (c >= s->n_grains) {
      nbdkit_error ("%s: grain table entry of grain %" PRIu64 " names "
                    "cluster %" PRIu64 ", beyond grains_size",
                    s->f.name, grain, c);
      return -1;
    }
    run->kind = VMDK_RUN_DATA;
    run->file_offset = (s->grains_offset + c * GRAIN_SECTORS) * VMDK_SECTOR;
    return 0;
  }
  nbdkit_error ("%s: grain table entry of grain %" PRIu64 " (0x%016" PRIx64
                ") is invalid", s->f.name, grain, e);
  return -1;
}

const struct vmdk_sparse_ops vmdk_sesparse_ops = {
  .open = sesparse_open,
  .table = sesparse_table,
  .grain = sesparse_grain,
};
