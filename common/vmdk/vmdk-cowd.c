/* vmfsSparse extents (magic COWD): the redo logs of snapshots on VMFS
 * before VMFS 5 and of disks under 2 TiB.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <string.h>
#include <inttypes.h>

#include <nbdkit-plugin.h>

#include "vmdk-sparse-impl.h"

#define HEADER_SIZE 2048
#define HEADER_SECTORS (HEADER_SIZE / VMDK_SECTOR)
#define GT_ENTRIES 4096
#define GTE_ZEROED 1

/* Header fields, by byte offset. */
#define H_VERSION 4
#define H_NUM_SECTORS 12
#define H_GRAIN_SIZE 16
#define H_GD_OFFSET 20
#define H_NUM_GD_ENTRIES 24

static int
cowd_open (struct vmdk_sparse *s)
{
  const char *name = s->f.name;
  uint8_t h[HEADER_SIZE];
  uint32_t version, num_sectors, gd_offset, num_gd;

  if (s->f.size && s->f.size < HEADER_SIZE) {
    nbdkit_error ("%s: file is shorter (%" PRIu64 " bytes) than a "
                  "vmfsSparse header", name, s->f.size);
    return -1;
  }
  if (s->f.pread (s->f.opaque, h, HEADER_SIZE, 0) == -1)
    return -1;
  if (memcmp (h, "COWD", 4) != 0) {
    nbdkit_error ("%s: bad magic: not a vmfsSparse extent (COWD)", name);
    return -1;
  }
  version = vmdk_le32 (&h[H_VERSION]);
  num_sectors = vmdk_le32 (&h[H_NUM_SECTORS]);
  gd_offset = vmdk_le32 (&h[H_GD_OFFSET]);
  num_gd = vmdk_le32 (&h[H_NUM_GD_ENTRIES]);

  if (version != 1) {
    nbdkit_error ("%s: unsupported vmfsSparse version %" PRIu32,
                  name, version);
    return -1;
  }
  if (num_sectors != s->sectors) {
    nbdkit_error ("%s: numSectors %" PRIu32 " does not match the "
                  "descriptor's extent size %" PRIu64, name, num_sectors,
                  s->sectors);
    return -1;
  }
  if (vmdk_sparse_set_grain (s, "grainSize",
                             vmdk_le32 (&h[H_GRAIN_SIZE])) == -1)
    return -1;
  if (gd_offset < HEADER_SECTORS) {
    nbdkit_error ("%s: gdOffset %" PRIu32 " points into the header",
                  name, gd_offset);
    return -1;
  }
  s->gt_entries = GT_ENTRIES;
  s->gte_size = 4;
  s->gd_offset = (uint64_t) gd_offset * VMDK_SECTOR;
  s->gd_entries = vmdk_sparse_gd_needed (s);
  /* Extra entries are harmless and ignored; too few are not. */
  if (num_gd < s->gd_entries) {
    nbdkit_error ("%s: numGDEntries %" PRIu32 " is inconsistent with "
                  "numSectors %" PRIu32 " (%" PRIu64 " needed)",
                  name, num_gd, num_sectors, s->gd_entries);
    return -1;
  }
  return 0;
}

static int
cowd_table (const struct vmdk_sparse *s, uint64_t i, uint64_t *offset)
{
  uint32_t e = vmdk_le32 (&s->gd[i * 4]);

  if (e != 0 && e < HEADER_SECTORS) {
    nbdkit_error ("%s: grain directory entry %" PRIu64 " points into the "
                  "header (sector %" PRIu32 ")", s->f.name, i, e);
    return -1;
  }
  *offset = (uint64_t) e * VMDK_SECTOR;
  return 0;
}

static int
cowd_grain (const struct vmdk_sparse *s, const uint8_t *gt, uint64_t grain,
            struct vmdk_run *run)
{
  uint32_t e = vmdk_le32 (&gt[(grain % GT_ENTRIES) * 4]);

  if (e == 0)
    run->kind = VMDK_RUN_PARENT;
  else if (e == GTE_ZEROED)
    run->kind = VMDK_RUN_ZERO;
  else if (e < HEADER_SECTORS) {
    nbdkit_error ("%s: grain table entry of grain %" PRIu64 " points into "
                  "the header (sector %" PRIu32 ")", s->f.name, grain, e);
    return -1;
  }
  else {
    run->kind = VMDK_RUN_DATA;
    run->file_offset = (uint64_t) e * VMDK_SECTOR;
  }
  return 0;
}

const struct vmdk_sparse_ops vmdk_cowd_ops = {
  .open = cowd_open,
  .table = cowd_table,
  .grain = cowd_grain,
};
