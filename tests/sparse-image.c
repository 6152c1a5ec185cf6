/* Building test images (sparse-image.h): the layout is planned first
 * (header, grain directory, tables, then the data grains in the order
 * given), then written into one zeroed buffer, little-endian by hand.
 * Grain tables are numbered from the end, so that a reader that took a
 * directory entry's index for its table's would read the wrong one.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <inttypes.h>

#include "sparse-image.h"

#define SECTOR 512

static void
put32 (uint8_t *p, uint32_t v)
{
  p[0] = v;
  p[1] = v >> 8;
  p[2] = v >> 16;
  p[3] = v >> 24;
}

static void
put64 (uint8_t *p, uint64_t v)
{
  put32 (p, v);
  put32 (p + 4, v >> 32);
}

void
image_fill_sector (uint8_t *buf, uint64_t sector, uint8_t fill)
{
  memset (buf, fill, SECTOR);
  put64 (buf, sector);
}

static uint64_t
div_up (uint64_t a, uint64_t b)
{
  return a / b + (a % b != 0);
}

/* Where things go, in sectors. */
struct layout {
  uint32_t gt_entries, gte_size;
  uint64_t gd_entries, gd, gts, gt_sectors, data;
  uint64_t n_tables, n_data;
  uint64_t *table_no;           /* per GD entry; UINT64_MAX: none */
};

static int
plan (enum image_format fmt, uint64_t sectors, uint64_t grain_sectors,
      const struct image_grain *g, size_t n, struct layout *l)
{
  uint64_t grains = div_up (sectors, grain_sectors), i;
  size_t j;

  l->gt_entries = fmt == IMAGE_HOSTED ? 512 : 4096;
  l->gte_size = fmt == IMAGE_SESPARSE ? 8 : 4;
  l->gt_sectors = l->gt_entries * l->gte_size / SECTOR;
  l->gd_entries = div_up (grains, l->gt_entries);
  if ((fmt == IMAGE_SESPARSE && grain_sectors != 8) ||
      (fmt == IMAGE_COWD && sectors > UINT32_MAX)) {
    fprintf (stderr, "image_build: bad geometry for this format\n");
    return -1;
  }
  l->table_no = malloc (l->gd_entries * sizeof *l->table_no);
  if (!l->table_no)
    return -1;
  for (i = 0; i < l->gd_entries; i++)
    l->table_no[i] = UINT64_MAX;
  l->n_data = 0;
  for (j = 0; j < n; j++) {
    if (g[j].grain >= grains ||
        (g[j].state == GRAIN_UNMAPPED && fmt != IMAGE_SESPARSE)) {
      fprintf (stderr, "image_build: bad grain %" PRIu64 "\n", g[j].grain);
      free (l->table_no);
      return -1;
    }
    l->table_no[g[j].grain / l->gt_entries] = 0;
    l->n_data += g[j].state == GRAIN_DATA;
  }
  /* Number tables from the end, so that table and GD entry differ. */
  l->n_tables = 0;
  for (i = l->gd_entries; i-- > 0; )
    if (l->table_no[i] == 0)
      l->table_no[i] = l->n_tables++;
    else
      l->table_no[i] = UINT64_MAX;

  /* After the embedded descriptor, the COWD header or the journal. */
  l->gd = fmt == IMAGE_HOSTED ? 21 : 4;
  l->gts = l->gd + div_up (l->gd_entries * l->gte_size, SECTOR);
  l->data = l->gts + l->n_tables * l->gt_sectors;
  if (fmt == IMAGE_SESPARSE)
    l->data += 2;                               /* free bitmap, backmap */
  return 0;
}

static void
write_header (enum image_format fmt, uint64_t sectors, uint64_t grain_sectors,
              const struct layout *l, struct image *img)
{
  uint8_t *h = img->buf;

  switch (fmt) {
  case IMAGE_HOSTED:
    memcpy (h, "KDMV", 4);
    put32 (h + 4, 1);
    put32 (h + 8, 1 | 4);                       /* newline check, zeroed grains */
    put64 (h + 12, sectors);
    put64 (h + 20, grain_sectors);
    put64 (h + 28, 1);
    put64 (h + 36, 20);
    put32 (h + 44, l->gt_entries);
    put64 (h + 56, l->gd);
    put64 (h + 64, l->data);
    memcpy (h + 73, "\n \r\n", 4);
    snprintf ((char *) h + SECTOR, 20 * SECTOR,
              "# Disk DescriptorFile\nversion=1\nCID=fffffffe\n"
              "parentCID=ffffffff\ncreateType=\"monolithicSparse\"\n"
              "RW %" PRIu64 " SPARSE \"image.vmdk\"\n", sectors);
    break;
  case IMAGE_COWD:
    memcpy (h, "COWD", 4);
    put32 (h + 4, 1);
    put32 (h + 8, 3);
    put32 (h + 12, sectors);
    put32 (h + 16, grain_sectors);
    put32 (h + 20, l->gd);
    put32 (h + 24, l->gd_entries);
    put32 (h + 28, img->len / SECTOR);
    break;
  case IMAGE_SESPARSE:
    put64 (h, 0xcafebabe);
    put64 (h + 8, UINT64_C (0x0000000200000001));
    put64 (h + 16, sectors);
    put64 (h + 24, 8);
    put64 (h + 32, 64);
    put64 (h + 80, 1);                          /* volatile header */
    put64 (h + 88, 1);
    put64 (h + 96, 2);                          /* journal header */
    put64 (h + 104, 1);
    put64 (h + 112, 3);                         /* journal */
    put64 (h + 120, 1);
    put64 (h + 128, l->gd);
    put64 (h + 136, l->gts - l->gd);
    put64 (h + 144, l->gts);
    put64 (h + 152, l->n_tables * l->gt_sectors);
    put64 (h + 160, l->data - 2);               /* free bitmap */
    put64 (h + 168, 1);
    put64 (h + 176, l->data - 1);               /* backmap */
    put64 (h + 184, 1);
    put64 (h + 192, l->data);
    put64 (h + 200, l->n_data * 8);
    put64 (h + SECTOR, 0xcafecafe);
    break;
  }
}

/* The grain table entry of the K-th data grain at SECTOR. */
static uint64_t
data_entry (enum image_format fmt, uint64_t k, uint64_t sector)
{
  if (fmt != IMAGE_SESPARSE)
    return sector;
  return UINT64_C (3) << 60 | (k & 0xfff) << 48 | k >> 12;
}

int
image_build (enum image_format fmt, uint64_t sectors, uint64_t grain_sectors,
             const struct image_grain *g, size_t n, struct image *img)
{
  struct layout l;
  uint64_t i, k = 0, s, last_grain = div_up (sectors, grain_sectors) - 1;
  size_t j;

  memset (img, 0, sizeof *img);
  if (plan (fmt, sectors, grain_sectors, g, n, &l) == -1)
    return -1;
  img->len = (l.data + l.n_data * grain_sectors) * SECTOR;
  /* The file ends with the disk if the partial last grain is last in it. */
  for (j = n; j-- > 0; )
    if (g[j].state == GRAIN_DATA) {
      if (g[j].grain == last_grain)
        img->len -= ((last_grain + 1) * grain_sectors - sectors) * SECTOR;
      break;
    }
  img->buf = calloc (1, img->len);
  if (!img->buf) {
    free (l.table_no);
    return -1;
  }
  img->gd_offset = l.gd * SECTOR;
  img->gt_offset = l.gts * SECTOR;
  img->data_offset = l.data * SECTOR;
  write_header (fmt, sectors, grain_sectors, &l, img);

  for (i = 0; i < l.gd_entries; i++) {
    uint8_t *p = img->buf + l.gd * SECTOR + i * l.gte_size;

    if (l.table_no[i] == UINT64_MAX)
      continue;
    if (fmt == IMAGE_SESPARSE)
      put64 (p, UINT64_C (0x10000000) << 32 | l.table_no[i]);
    else
      put32 (p, l.gts + l.table_no[i] * l.gt_sectors);
  }
  for (j = 0; j < n; j++) {
    uint64_t t = l.table_no[g[j].grain / l.gt_entries], e = 0;
    uint8_t *p = img->buf + (l.gts + t * l.gt_sectors) * SECTOR +
      (g[j].grain % l.gt_entries) * l.gte_size;

    switch (g[j].state) {
    case GRAIN_DATA:
      s = l.data + k * grain_sectors;
      e = data_entry (fmt, k++, s);
      for (i = 0; i < grain_sectors; i++) {
        uint64_t v = g[j].grain * grain_sectors + i;

        if (v < sectors)
          image_fill_sector (img->buf + (s + i) * SECTOR, v, g[j].fill);
      }
      break;
    case GRAIN_ZERO:
      e = fmt == IMAGE_SESPARSE ? UINT64_C (2) << 60 : 1;
      break;
    case GRAIN_UNMAPPED:
      e = UINT64_C (1) << 60;
      break;
    }
    if (l.gte_size == 8)
      put64 (p, e);
    else
      put32 (p, e);
  }
  free (l.table_no);
  return 0;
}

void
image_free (struct image *img)
{
  free (img->buf);
  img->buf = NULL;
}
