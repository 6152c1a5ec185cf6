/* CUnit tests of the sparse VMDK decoders on images built in memory
 * (sparse-image.c): what each grain maps to, merging, partial last
 * grains, the grain table cache, and refusal of damaged images.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <pthread.h>


#include <nbdkit-plugin.h>

#include "nbdkit-shim.h"
#include "unit-test.h"
#include "sparse-image.h"
#include "vmdk-sparse.h"
#include "vmdk-sparse-impl.h"

#define PARENT_FILL 0xee

static const enum vmdk_extent_type types[] = {
  [IMAGE_HOSTED] = VMDK_EXTENT_SPARSE,
  [IMAGE_COWD] = VMDK_EXTENT_VMFSSPARSE,
  [IMAGE_SESPARSE] = VMDK_EXTENT_SESPARSE,
};

/* The image as a file: reads past LEN fail, or read zeros up to SIZE
 * when the test declares a larger file.
 */
struct mem {
  const struct image *img;
  uint64_t size;
  unsigned reads;
};

static int
mem_pread (void *opaque, void *buf, size_t count, uint64_t offset)
{
  struct mem *m = opaque;
  uint64_t len = m->img->len;

  __atomic_add_fetch (&m->reads, 1, __ATOMIC_RELAXED);
  if (offset > m->size || count > m->size - offset) {
    nbdkit_error ("short read");
    return -1;
  }
  memset (buf, 0, count);
  if (offset < len)
    memcpy (buf, m->img->buf + offset,
            count < len - offset ? count : len - offset);
  return 0;
}

static struct vmdk_sparse *
open_mem (enum image_format fmt, struct mem *m, uint64_t sectors,
          bool size_known)
{
  struct vmdk_file f = {
    .name = "[ds] vm/t.vmdk", .size = size_known ? m->size : 0,
    .pread = mem_pread, .opaque = m,
  };

  return vmdk_sparse_open (types[fmt], &f, sectors);
}

/* The disk that the spec G describes. */
static uint8_t *
expected (uint64_t sectors, uint64_t grain_sectors,
          const struct image_grain *g, size_t n)
{
  uint8_t *d = malloc (sectors * 512);
  uint64_t i, s;
  size_t j;

  memset (d, PARENT_FILL, sectors * 512);
  for (j = 0; j < n; j++)
    for (i = 0; i < grain_sectors; i++) {
      s = g[j].grain * grain_sectors + i;
      if (s >= sectors)
        break;
      if (g[j].state == GRAIN_DATA)
        image_fill_sector (d + s * 512, s, g[j].fill);
      else
        memset (d + s * 512, 0, 512);
    }
  return d;
}

/* Read the whole extent through vmdk_sparse_map in requests of at
 * most STEP bytes; return the number of runs, or -1.
 */
static long
walk (struct vmdk_sparse *s, const struct image *img, uint64_t size,
      uint64_t step, uint8_t *out)
{
  uint64_t off = 0, end;
  struct vmdk_run run;
  long runs = 0;

  while (off < size) {
    end = size - off < step ? size : off + step;
    while (off < end) {
      if (vmdk_sparse_map (s, off, end - off, &run) == -1)
        return -1;
      if (run.length == 0 || run.length > end - off)
        return -1;
      switch (run.kind) {
      case VMDK_RUN_DATA:
        if (run.file_offset + run.length > img->len)
          return -1;
        memcpy (out + off, img->buf + run.file_offset, run.length);
        break;
      case VMDK_RUN_ZERO:
        memset (out + off, 0, run.length);
        break;
      case VMDK_RUN_PARENT:
        memset (out + off, PARENT_FILL, run.length);
        break;
      }
      off += run.length;
      runs++;
    }
  }
  return runs;
}

/* Build, open and read back the image of spec G, in whole and in odd
 * sized pieces; return the runs of the whole read.
 */
static long
check_image (enum image_format fmt, uint64_t sectors, uint64_t grain_sectors,
             const struct image_grain *g, size_t n)
{
  struct image img;
  struct mem m = { .img = &img };
  struct vmdk_sparse *s;
  uint8_t *want, *got;
  long runs;

  CU_ASSERT_EQUAL_FATAL (image_build (fmt, sectors, grain_sectors, g, n,
                                      &img), 0);
  m.size = img.len;
  s = open_mem (fmt, &m, sectors, true);
  CU_ASSERT_PTR_NOT_NULL_FATAL (s);
  want = expected (sectors, grain_sectors, g, n);
  got = malloc (sectors * 512);
  runs = walk (s, &img, sectors * 512, UINT64_MAX, got);
  CU_ASSERT (runs > 0);
  CU_ASSERT (memcmp (want, got, sectors * 512) == 0);
  memset (got, 0x55, sectors * 512);
  CU_ASSERT (walk (s, &img, sectors * 512, 777, got) > 0);
  CU_ASSERT (memcmp (want, got, sectors * 512) == 0);
  vmdk_sparse_close (s);
  free (want);
  free (got);
  image_free (&img);
  return runs;
}

/* Grains 0-1 contiguous, 2 unallocated, 3 zeroed, 5 before 4 in the
 * file, a whole unallocated grain table, and the partial last grain.
 */
static void
check_format (enum image_format fmt, uint64_t grain_sectors,
              uint64_t gt_entries)
{
  uint64_t last = 3 * gt_entries + 2;
  uint64_t sectors = last * grain_sectors + (grain_sectors + 1) / 2;
  const struct image_grain g[] = {
    { 0, GRAIN_DATA, 0x11 }, { 1, GRAIN_DATA, 0x22 },
    { 3, GRAIN_ZERO, 0 },
    { 5, GRAIN_DATA, 0x55 }, { 4, GRAIN_DATA, 0x44 },
    { gt_entries + 7, GRAIN_ZERO, 0 },
    { last, GRAIN_DATA, 0x77 },
  };
  long runs = check_image (fmt, sectors, grain_sectors, g, 7);

  /* 0-1, 2, 3, 4, 5, 6 to gt+6, gt+7, gt+8 to last-1, last */
  CU_ASSERT_EQUAL (runs, 9);
}

static void
test_hosted (void)
{
  check_format (IMAGE_HOSTED, 16, 512);
  check_format (IMAGE_HOSTED, 1, 512);
}

static void
test_cowd (void)
{
  check_format (IMAGE_COWD, 1, 4096);
  check_format (IMAGE_COWD, 8, 4096);
}

static void
test_sesparse (void)
{
  const struct image_grain g[] = {
    { 0, GRAIN_UNMAPPED, 0 }, { 1, GRAIN_ZERO, 0 }, { 2, GRAIN_DATA, 0x33 },
  };

  check_format (IMAGE_SESPARSE, 8, 4096);
  CU_ASSERT_EQUAL (check_image (IMAGE_SESPARSE, 100, 8, g, 3), 3);
}

/* A single grain disk, a disk of one partial grain, and a grain at the
 * last sector alone.
 */
static void
test_small_disks (void)
{
  const struct image_grain one = { 0, GRAIN_DATA, 0x01 };
  const struct image_grain last = { 3, GRAIN_DATA, 0x02 };

  CU_ASSERT_EQUAL (check_image (IMAGE_HOSTED, 8, 8, &one, 1), 1);
  CU_ASSERT_EQUAL (check_image (IMAGE_HOSTED, 5, 8, &one, 1), 1);
  CU_ASSERT_EQUAL (check_image (IMAGE_COWD, 1, 1, &one, 1), 1);
  CU_ASSERT_EQUAL (check_image (IMAGE_SESPARSE, 3, 8, &one, 1), 1);
  CU_ASSERT_EQUAL (check_image (IMAGE_COWD, 25, 8, &last, 1), 2);
  CU_ASSERT_EQUAL (check_image (IMAGE_SESPARSE, 25, 8, &last, 1), 2);
}

/* seSparse cluster numbers are stored with their low 12 bits on top;
 * cluster 4096 and beyond exercise the shuffle.
 */
static void
test_sesparse_high_clusters (void)
{
  enum { N = 4100 };
  struct image_grain *g = calloc (N, sizeof *g);
  size_t i;

  for (i = 0; i < N; i++) {
    g[i].grain = N - 1 - i;
    g[i].fill = i;
  }
  /* Descending grains: nothing merges. */
  CU_ASSERT_EQUAL (check_image (IMAGE_SESPARSE, N * 8, 8, g, N), N);
  for (i = 0; i < N; i++)
    g[i].grain = i;
  CU_ASSERT_EQUAL (check_image (IMAGE_SESPARSE, N * 8, 8, g, N), 1);
  free (g);
}

/* More tables than the cache holds: memory stays bounded, and each
 * table is read once per pass when the walk is sequential.
 */
static void
test_cache (void)
{
  enum { TABLES = VMDK_GT_CACHE + 10 };
  struct image_grain g[TABLES];
  struct image img;
  struct mem m = { .img = &img };
  struct vmdk_sparse *s;
  uint8_t *out = malloc (TABLES * 512 * 512);
  unsigned reads;
  size_t i;

  for (i = 0; i < TABLES; i++)
    g[i] = (struct image_grain) { i * 512 + 1, GRAIN_DATA, i };
  CU_ASSERT_EQUAL_FATAL (image_build (IMAGE_HOSTED, TABLES * 512, 1, g,
                                      TABLES, &img), 0);
  m.size = img.len;
  s = open_mem (IMAGE_HOSTED, &m, TABLES * 512, true);
  CU_ASSERT_PTR_NOT_NULL_FATAL (s);
  reads = m.reads;
  CU_ASSERT (walk (s, &img, TABLES * 512 * 512, UINT64_MAX, out) > 0);
  CU_ASSERT_EQUAL (m.reads - reads, TABLES);
  CU_ASSERT_EQUAL (s->n_cached, VMDK_GT_CACHE);
  reads = m.reads;
  CU_ASSERT (walk (s, &img, 512 * 512, UINT64_MAX, out) > 0);
  CU_ASSERT_EQUAL (m.reads - reads, 1);         /* table 0 was evicted */
  CU_ASSERT (walk (s, &img, 512 * 512, UINT64_MAX, out) > 0);
  CU_ASSERT_EQUAL (m.reads - reads, 1);         /* now it is cached */
  vmdk_sparse_close (s);
  image_free (&img);
  free (out);
}

struct thread_arg {
  struct vmdk_sparse *s;
  const struct image *img;
  uint64_t size;
  const uint8_t *want;
  int ok;
};

static void *
walker (void *p)
{
  struct thread_arg *a = p;
  uint8_t *out = malloc (a->size);
  int i;

  a->ok = 1;
  for (i = 0; i < 3; i++)
    if (walk (a->s, a->img, a->size, 5000 + i * 333, out) < 0 ||
        memcmp (out, a->want, a->size) != 0)
      a->ok = 0;
  free (out);
  return NULL;
}

/* Threads racing to fetch and evict tables. */
static void
test_threads (void)
{
  enum { TABLES = VMDK_GT_CACHE * 2, THREADS = 8 };
  const uint64_t sectors = TABLES * 512;
  struct image_grain g[TABLES];
  struct image img;
  struct mem m = { .img = &img };
  struct thread_arg a[THREADS];
  pthread_t t[THREADS];
  struct vmdk_sparse *s;
  uint8_t *want;
  size_t i;

  for (i = 0; i < TABLES; i++)
    g[i] = (struct image_grain) { i * 512 + i % 512, GRAIN_DATA, i };
  CU_ASSERT_EQUAL_FATAL (image_build (IMAGE_HOSTED, sectors, 1, g, TABLES,
                                      &img), 0);
  m.size = img.len;
  s = open_mem (IMAGE_HOSTED, &m, sectors, true);
  CU_ASSERT_PTR_NOT_NULL_FATAL (s);
  want = expected (sectors, 1, g, TABLES);
  for (i = 0; i < THREADS; i++) {
    a[i] = (struct thread_arg) { s, &img, sectors * 512, want, 0 };
    pthread_create (&t[i], NULL, walker, &a[i]);
  }
  for (i = 0; i < THREADS; i++) {
    pthread_join (t[i], NULL);
    CU_ASSERT (a[i].ok);
  }
  vmdk_sparse_close (s);
  image_free (&img);
  free (want);
}

static void
test_embedded_descriptor (void)
{
  const struct image_grain g = { 0, GRAIN_DATA, 1 };
  struct image img;
  struct mem m = { .img = &img };
  struct vmdk_file f = { "t.vmdk", 0, mem_pread, &m };
  char *text;
  size_t len;

  CU_ASSERT_EQUAL_FATAL (image_build (IMAGE_HOSTED, 64, 8, &g, 1, &img), 0);
  m.size = f.size = img.len;
  CU_ASSERT_EQUAL (vmdk_hosted_read_descriptor (&f, &text, &len), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL (text);
  CU_ASSERT_EQUAL (len, strlen (text));
  CU_ASSERT_PTR_NOT_NULL (strstr (text, "RW 64 SPARSE \"image.vmdk\"\n"));
  free (text);

  /* An extent of twoGbMaxExtentSparse has none. */
  memset (img.buf + 28, 0, 8);
  CU_ASSERT_EQUAL (vmdk_hosted_read_descriptor (&f, &text, &len), 0);
  CU_ASSERT_PTR_NULL (text);

  img.buf[28] = 1;
  img.buf[36] = 0;
  img.buf[37] = 0x40;                           /* 8 MiB */
  CU_ASSERT_EQUAL (vmdk_hosted_read_descriptor (&f, &text, &len), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "descriptorSize"));
  img.buf[0] = 'C';
  CU_ASSERT_EQUAL (vmdk_hosted_read_descriptor (&f, &text, &len), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "bad magic"));
  image_free (&img);
}

/* Damaging images. */

static void
set32 (struct image *img, uint64_t off, uint32_t v)
{
  uint8_t *p = img->buf + off;

  p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}

static void
set64 (struct image *img, uint64_t off, uint64_t v)
{
  set32 (img, off, v);
  set32 (img, off + 4, v >> 32);
}

/* Where GRAIN's grain table entry is. */
static uint64_t
gte_offset (enum image_format fmt, const struct image *img, uint64_t grain)
{
  const uint8_t *b = img->buf;

  if (fmt == IMAGE_SESPARSE) {
    uint64_t e = vmdk_le64 (b + img->gd_offset + grain / 4096 * 8);

    return (vmdk_le64 (b + 144) + (e & UINT32_MAX) * 64) * 512 +
      grain % 4096 * 8;
  }
  else {
    uint64_t n = fmt == IMAGE_HOSTED ? 512 : 4096;

    return vmdk_le32 (b + img->gd_offset + grain / n * 4) * UINT64_C (512) +
      grain % n * 4;
  }
}

enum damage {
  D_SET32, D_SET64, D_LEN, D_GTE32, D_GTE64, D_SECTORS,
  D_UNKNOWN_SIZE, D_BYTE, D_NO_ZERO_GRAIN,
};

struct bad_case {
  enum image_format fmt;
  enum damage how;
  uint64_t where, value;
  const char *expect;
};

#define SECTORS 9000            /* three hosted grain tables */
#define BIG (UINT64_C (1) << 40)

static const struct bad_case bad_cases[] = {
  { IMAGE_HOSTED, D_BYTE, 0, 'X', "bad magic" },
  { IMAGE_HOSTED, D_SET32, 4, 4, "unsupported hosted sparse version 4" },
  { IMAGE_HOSTED, D_LEN, 0, 100, "shorter (100 bytes) than a hosted" },
  { IMAGE_HOSTED, D_UNKNOWN_SIZE, 0, 100, "short read" },
  { IMAGE_HOSTED, D_SET32, 8, 1 << 16, "streamOptimized" },
  { IMAGE_HOSTED, D_SET32, 8, 1 << 17, "streamOptimized" },
  { IMAGE_HOSTED, D_SET64, 56, UINT64_MAX, "streamOptimized" },
  { IMAGE_HOSTED, D_BYTE, 77, 1, "streamOptimized" },
  { IMAGE_HOSTED, D_BYTE, 75, '\n', "text-mode" },
  { IMAGE_HOSTED, D_SECTORS, 0, SECTORS + 1, "capacity 9000 sectors does "
    "not match the descriptor's extent size 9001" },
  { IMAGE_HOSTED, D_SET64, 20, 0, "grainSize 0 is not a power of two" },
  { IMAGE_HOSTED, D_SET64, 20, 12, "grainSize 12 is not a power of two" },
  { IMAGE_HOSTED, D_SET64, 20, 1 << 22, "grainSize 4194304 is not" },
  { IMAGE_HOSTED, D_SET32, 44, 4096, "numGTEsPerGT is 4096, not 512" },
  { IMAGE_HOSTED, D_SET64, 56, 0, "bad gdOffset 0" },
  { IMAGE_HOSTED, D_SET64, 56, 100000, "grain directory (" },
  { IMAGE_HOSTED, D_SET32, 1 << 30, 100000, "grain table (2048 bytes at "
    "offset 51200000) is beyond the end of the file" },
  { IMAGE_HOSTED, D_GTE32, 0, 100000, "grain data" },
  { IMAGE_HOSTED, D_GTE32, 0, 5, "points into the metadata (sector 5" },
  { IMAGE_HOSTED, D_NO_ZERO_GRAIN, 0, 1, "points into the metadata "
    "(sector 1" },
  { IMAGE_HOSTED, D_SET64, 20, 1, "grain directory has 2147483648 "
    "entries" },

  { IMAGE_COWD, D_BYTE, 3, 'X', "bad magic" },
  { IMAGE_COWD, D_SET32, 4, 2, "unsupported vmfsSparse version 2" },
  { IMAGE_COWD, D_LEN, 0, 2047, "shorter (2047 bytes) than a vmfsSparse" },
  { IMAGE_COWD, D_SET32, 12, SECTORS - 1, "numSectors 8999 does not match" },
  { IMAGE_COWD, D_SET32, 16, 3, "grainSize 3 is not a power of two" },
  { IMAGE_COWD, D_SET32, 20, 3, "gdOffset 3 points into the header" },
  { IMAGE_COWD, D_SET32, 24, 0, "numGDEntries 0 is inconsistent with "
    "numSectors 9000 (1 needed)" },
  { IMAGE_COWD, D_SET32, 20, 1000, "grain directory (4 bytes at offset "
    "512000)" },
  { IMAGE_COWD, D_SET32, 1 << 30, 3, "grain directory entry 0 points into "
    "the header" },
  { IMAGE_COWD, D_SET32, 1 << 30, 1000, "grain table (16384 bytes at "
    "offset 512000)" },
  { IMAGE_COWD, D_GTE32, 0, 3, "grain table entry of grain 0 points into "
    "the header" },
  { IMAGE_COWD, D_GTE32, 0, 1000, "grain data (4096 bytes at offset "
    "512000)" },

  { IMAGE_SESPARSE, D_BYTE, 0, 0xbf, "bad magic" },
  { IMAGE_SESPARSE, D_SET64, 8, 1, "unsupported seSparse version" },
  { IMAGE_SESPARSE, D_LEN, 0, 600, "shorter (600 bytes) than the seSparse" },
  { IMAGE_SESPARSE, D_SECTORS, 0, SECTORS * 2, "capacity 9000 sectors "
    "does not match" },
  { IMAGE_SESPARSE, D_SET64, 24, 16, "unsupported grain_size 16" },
  { IMAGE_SESPARSE, D_SET64, 32, 128, "unsupported grain_table_size 128" },
  { IMAGE_SESPARSE, D_SET64, 40, 1, "unsupported flags 0x1" },
  { IMAGE_SESPARSE, D_SET64, 512 + 24, 1, "the journal needs replaying" },
  { IMAGE_SESPARSE, D_SET64, 512, 0xcafebabe, "bad volatile header magic" },
  { IMAGE_SESPARSE, D_SET64, 80, 0, "bad volatile header region" },
  { IMAGE_SESPARSE, D_SET64, 80, 4000, "volatile header (512 bytes at "
    "offset 2048000)" },
  { IMAGE_SESPARSE, D_SET64, 136, 0, "grain_dir_size 0 sectors) is too "
    "small" },
  { IMAGE_SESPARSE, D_SET64, 128, UINT64_MAX, "bad grain directory region" },
  { IMAGE_SESPARSE, D_SET64, 200, UINT64_MAX, "bad grains region" },
  { IMAGE_SESPARSE, D_SET64, 1 << 30, UINT64_C (0x2000000000000000),
    "grain directory entry 0 (0x2000000000000000) has wrong top bits" },
  { IMAGE_SESPARSE, D_SET64, 1 << 30, UINT64_C (0x1000000000000007),
    "names grain table 7, beyond grain_tables_size" },
  { IMAGE_SESPARSE, D_SET64, 152, 0, "names grain table 0, beyond" },
  { IMAGE_SESPARSE, D_GTE64, 0, UINT64_C (0x4000000000000000),
    "grain table entry of grain 0 (0x4000000000000000) is invalid" },
  { IMAGE_SESPARSE, D_GTE64, 0, UINT64_C (0xf000000000000000), "is invalid" },
  { IMAGE_SESPARSE, D_GTE64, 0, 5, "grain table entry of grain 0 "
    "(0x0000000000000005) is invalid" },
  { IMAGE_SESPARSE, D_GTE64, 0, UINT64_C (0x3000000000000009),
    "names cluster 36864, beyond grains_size" },
  { IMAGE_SESPARSE, D_SET64, 200, 8, "names cluster 1, beyond grains_size" },
  { IMAGE_SESPARSE, D_SET64, 192, 100000, "grain data (4096 bytes at "
    "offset 51200000)" },
};

static void
check_bad (const struct bad_case *c)
{
  const struct image_grain g[] = {
    { 0, GRAIN_DATA, 1 }, { 1, GRAIN_ZERO, 0 }, { 1100, GRAIN_DATA, 2 },
  };
  uint64_t sectors = SECTORS;
  struct image img;
  struct mem m = { .img = &img };
  struct vmdk_sparse *s;
  struct vmdk_run run;
  bool size_known = true;
  uint64_t off;
  int r = -1;

  CU_ASSERT_EQUAL_FATAL (image_build (c->fmt, SECTORS, 8, g, 3, &img), 0);
  switch (c->how) {
  case D_BYTE: img.buf[c->where] = c->value; break;
  case D_SET32:
    set32 (&img, c->where == 1 << 30 ? img.gd_offset : c->where, c->value);
    break;
  case D_SET64:
    set64 (&img, c->where == 1 << 30 ? img.gd_offset : c->where, c->value);
    /* Let huge capacities reach the checks after the capacity's. */
    if (c->where == 20 && c->value == 1)
      set64 (&img, 12, sectors = BIG);
    break;
  case D_GTE32: set32 (&img, gte_offset (c->fmt, &img, 0), c->value); break;
  case D_GTE64: set64 (&img, gte_offset (c->fmt, &img, 0), c->value); break;
  case D_NO_ZERO_GRAIN:               /* grain 1 is zeroed */
    set32 (&img, 8, 1);
    break;
  case D_SECTORS: sectors = c->value; break;
  case D_UNKNOWN_SIZE: size_known = false; /* fall through */
  case D_LEN: img.len = c->value; break;
  }
  m.size = img.len;
  nbdkit_shim_clear_error ();
  s = open_mem (c->fmt, &m, sectors, size_known);
  /* Some damage shows only when the grain is read. */
  for (off = 0; s && off < SECTORS * 512; off += run.length) {
    r = vmdk_sparse_map (s, off, SECTORS * 512 - off, &run);
    if (r == -1)
      break;
  }
  vmdk_sparse_close (s);
  CU_ASSERT_EQUAL (r, -1);
  if (!strstr (nbdkit_shim_last_error (), c->expect))
    fprintf (stderr, "\ncase %d/%s: got \"%s\"\n", c->fmt, c->expect,
             nbdkit_shim_last_error ());
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), c->expect));
  if (c->how != D_UNKNOWN_SIZE)
    CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "[ds] vm/t.vmdk: "));
  image_free (&img);
}

static void
test_bad_images (void)
{
  size_t i;

  for (i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
    check_bad (&bad_cases[i]);
}

/* The undamaged image of check_bad opens and maps. */
static void
test_bad_baseline (void)
{
  const struct image_grain g[] = {
    { 0, GRAIN_DATA, 1 }, { 1, GRAIN_ZERO, 0 }, { 1100, GRAIN_DATA, 2 },
  };
  size_t i;

  for (i = 0; i < 3; i++)
    CU_ASSERT (check_image (i, SECTORS, 8, g, 3) > 0);
}

static void
test_not_sparse (void)
{
  struct vmdk_file f = { "x.vmdk", 0, mem_pread, NULL };

  CU_ASSERT_PTR_NULL (vmdk_sparse_open (VMDK_EXTENT_FLAT, &f, 10));
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (),
                                  "FLAT is not a sparse extent type"));
}

static void
test_map_outside (void)
{
  const struct image_grain g = { 0, GRAIN_DATA, 1 };
  struct image img;
  struct mem m = { .img = &img };
  struct vmdk_sparse *s;
  struct vmdk_run run;

  CU_ASSERT_EQUAL_FATAL (image_build (IMAGE_COWD, 10, 1, &g, 1, &img), 0);
  m.size = img.len;
  s = open_mem (IMAGE_COWD, &m, 10, true);
  CU_ASSERT_PTR_NOT_NULL_FATAL (s);
  CU_ASSERT_EQUAL (vmdk_sparse_map (s, 5120, 1, &run), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "outside the extent"));
  CU_ASSERT_EQUAL (vmdk_sparse_map (s, 0, 0, &run), -1);
  CU_ASSERT_EQUAL (vmdk_sparse_map (s, 5119, UINT64_MAX, &run), 0);
  CU_ASSERT_EQUAL (run.kind, VMDK_RUN_PARENT);
  CU_ASSERT_EQUAL (run.length, 1);
  CU_ASSERT_EQUAL (vmdk_sparse_map (s, 100, 1000, &run), 0);
  CU_ASSERT_EQUAL (run.kind, VMDK_RUN_DATA);
  CU_ASSERT_EQUAL (run.length, 412);
  CU_ASSERT_EQUAL (run.file_offset, img.data_offset + 100);
  vmdk_sparse_close (s);
  image_free (&img);
}

static const struct unit_test tests[] = {
  { "hosted sparse", test_hosted },
  { "vmfsSparse", test_cowd },
  { "seSparse", test_sesparse },
  { "small disks", test_small_disks },
  { "seSparse high clusters", test_sesparse_high_clusters },
  { "grain table cache", test_cache },
  { "threads", test_threads },
  { "embedded descriptor", test_embedded_descriptor },
  { "damaged images: baseline", test_bad_baseline },
  { "damaged images", test_bad_images },
  { "not sparse", test_not_sparse },
  { "map outside", test_map_outside },
  { NULL }
};

int
main (void)
{
  return unit_test_run ("sparse VMDK", tests);
}
