/* Hosted sparse extents (magic KDMV): monolithicSparse and
 * twoGbMaxExtentSparse, as made by Workstation and qemu-img.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include <nbdkit-plugin.h>

#include "vmdk-sparse-impl.h"

#define HEADER_SIZE 512
#define GT_ENTRIES 512

#define FLAG_NL_DETECT (1 << 0)
#define FLAG_ZERO_GRAIN (1 << 2)
#define FLAG_COMPRESSED (1 << 16)
#define FLAG_MARKERS (1 << 17)
#define GD_AT_END UINT64_MAX

/* Header fields, by byte offset. */
#define H_VERSION 4
#define H_FLAGS 8
#define H_CAPACITY 12
#define H_GRAIN_SIZE 20
#define H_DESC_OFFSET 28
#define H_DESC_SIZE 36
#define H_NUM_GTES 44
#define H_GD_OFFSET 56
#define H_OVERHEAD 64
#define H_CHECK_BYTES 73
#define H_COMPRESS 77

static int
read_header (const struct vmdk_file *f, uint8_t *h)
{
  if (f->size && f->size < HEADER_SIZE) {
    nbdkit_error ("%s: file is shorter (%" PRIu64 " bytes) than a hosted "
                  "sparse header", f->name, f->size);
    return -1;
  }
  if (f->pread (f->opaque, h, HEADER_SIZE, 0) == -1)
    return -1;
  if (memcmp (h, "KDMV", 4) != 0) {
    nbdkit_error ("%s: bad magic: not a hosted sparse extent (KDMV)",
                  f->name);
    return -1;
  }
  return 0;
}

int
vmdk_hosted_read_descriptor (const struct vmdk_file *f, char **text,
                             size_t *len)
{
  uint8_t h[HEADER_SIZE];
  uint64_t offset, size;
  char *buf;

  *text = NULL;
  *len = 0;
  if (read_header (f, h) == -1)
    return -1;
  offset = vmdk_le64 (&h[H_DESC_OFFSET]);
  size = vmdk_le64 (&h[H_DESC_SIZE]);
  if (offset == 0)
    return 0;
  if (offset > VMDK_MAX_SECTORS || size == 0 ||
      size > VMDK_DESCRIPTOR_MAX / VMDK_SECTOR) {
    nbdkit_error ("%s: bad embedded descriptor location (descriptorOffset "
                  "%" PRIu64 ", descriptorSize %" PRIu64 " sectors)",
                  f->name, offset, size);
    return -1;
  }
  buf = malloc (size * VMDK_SECTOR + 1);
  if (!buf) {
    nbdkit_error ("malloc: out of memory");
    return -1;
  }
  if (vmdk_sparse_read (f, "embedded descriptor", buf, size * VMDK_SECTOR,
                        offset * VMDK_SECTOR) == -1) {
    free (buf);
    return -1;
  }
  /* The descriptor is padded with NULs to whole sectors. */
  buf[size * VMDK_SECTOR] = '\0';
  *len = strlen (buf);
  *text = buf;
  return 0;
}

static int
hosted_open (struct vmdk_sparse *s)
{
  const char *name = s->f.name;
  uint8_t h[HEADER_SIZE];
  uint32_t version, flags, num_gtes;
  uint64_t capacity, gd_offset;

  if (read_header (&s->f, h) == -1)
    return -1;
  version = vmdk_le32 (&h[H_VERSION]);
  flags = vmdk_le32 (&h[H_FLAGS]);
  capacity = vmdk_le64 (&h[H_CAPACITY]);
  num_gtes = vmdk_le32 (&h[H_NUM_GTES]);
  gd_offset = vmdk_le64 (&h[H_GD_OFFSET]);

  /* Version 3 only adds persistent CBT, which readers may ignore. */
  if (version < 1 || version > 3) {
    nbdkit_error ("%s: unsupported hosted sparse version %" PRIu32,
                  name, version);
    return -1;
  }
  if (flags & (FLAG_COMPRESSED | FLAG_MARKERS) ||
      h[H_COMPRESS] || h[H_COMPRESS + 1] || gd_offset == GD_AT_END) {
    nbdkit_error ("%s: compressed sparse extents (streamOptimized) are not "
                  "supported", name);
    return -1;
  }
  /* Catches files mangled by a text-mode transfer. */
  if (flags & FLAG_NL_DETECT &&
      memcmp (&h[H_CHECK_BYTES], "\n \r\n", 4) != 0) {
    nbdkit_error ("%s: the header's newline check bytes are wrong: the file "
                  "was corrupted by a text-mode transfer", name);
    return -1;
  }
  if (capacity != s->sectors) {
    nbdkit_error ("%s: capacity %" PRIu64 " sectors does not match the "
                  "descriptor's extent size %" PRIu64, name, capacity,
                  s->sectors);
    return -1;
  }
  if (num_gtes != GT_ENTRIES) {
    nbdkit_error ("%s: numGTEsPerGT is %" PRIu32 ", not %d", name,
                  num_gtes, GT_ENTRIES);
    return -1;
  }
  if (vmdk_sparse_set_grain (s, "grainSize",
                             vmdk_le64 (&h[H_GRAIN_SIZE])) == -1)
    return -1;
  if (gd_offset == 0 || gd_offset > VMDK_MAX_SECTORS) {
    nbdkit_error ("%s: bad gdOffset %" PRIu64, name, gd_offset);
    return -1;
  }
  s->gt_entries = GT_ENTRIES;
  s->gte_size = 4;
  s->gd_offset = gd_offset * VMDK_SECTOR;
  s->gd_entries = vmdk_sparse_gd_needed (s);
  s->zero_grain = flags & FLAG_ZERO_GRAIN;
  /* Grains live after the metadata; overHead counts its sectors. */
  s->min_sector = vmdk_le64 (&h[H_OVERHEAD]);
  if (s->min_sector == 0)
    s->min_sector = 1;
  return 0;
}

static int
hosted_table (const struct vmdk_sparse *s, uint64_t i, uint64_t *offset)
{
  *offset = (uint64_t) vmdk_le32 (&s->gd[i * 4]) * VMDK_SECTOR;
  return 0;
}

static int
hosted_grain (const struct vmdk_sparse *s, const uint8_t *gt, uint64_t grain,
              struct vmdk_run *run)
{
  uint32_t e = vmdk_le32 (&gt[(grain % GT_ENTRIES) * 4]);

  if (e == 0)
    run->kind = VMDK_RUN_PARENT;
  else if (e == 1 && s->zero_grain)
    run->kind = VMDK_RUN_ZERO;
  else if (e < s->min_sector) {
    nbdkit_error ("%s: grain table entry of grain %" PRIu64 " points into "
                  "the metadata (sector %" PRIu32 " < overHead %" PRIu64 ")",
                  s->f.name, grain, e, s->min_sector);
    return -1;
  }
  else {
    run->kind = VMDK_RUN_DATA;
    run->file_offset = (uint64_t) e * VMDK_SECTOR;
  }
  return 0;
}

const struct vmdk_sparse_ops vmdk_hosted_ops = {
  .open = hosted_open,
  .table = hosted_table,
  .grain = hosted_grain,
};
