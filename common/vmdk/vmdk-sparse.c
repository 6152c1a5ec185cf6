/* The grain table engine shared by the sparse VMDK formats: the grain
 * directory, read once at open, and a bounded cache of grain tables
 * fetched on demand.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <pthread.h>

#include <nbdkit-plugin.h>

#include "vmdk-sparse-impl.h"

int
vmdk_sparse_check_in_file (const struct vmdk_file *f, const char *what,
                           uint64_t offset, uint64_t len)
{
  if (f->size && (offset > f->size || len > f->size - offset)) {
    nbdkit_error ("%s: %s (%" PRIu64 " bytes at offset %" PRIu64 ") is "
                  "beyond the end of the file (%" PRIu64 " bytes)",
                  f->name, what, len, offset, f->size);
    return -1;
  }
  return 0;
}

int
vmdk_sparse_read (const struct vmdk_file *f, const char *what,
                  void *buf, size_t count, uint64_t offset)
{
  if (vmdk_sparse_check_in_file (f, what, offset, count) == -1)
    return -1;
  return f->pread (f->opaque, buf, count, offset);
}

int
vmdk_sparse_set_grain (struct vmdk_sparse *s, const char *field,
                       uint64_t sectors)
{
  if (sectors == 0 || (sectors & (sectors - 1)) != 0 ||
      sectors > VMDK_GRAIN_MAX_SECTORS) {
    nbdkit_error ("%s: %s %" PRIu64 " is not a power of two between 1 and "
                  "%" PRIu64 " sectors", s->f.name, field, sectors,
                  VMDK_GRAIN_MAX_SECTORS);
    return -1;
  }
  s->grain_sectors = sectors;
  return 0;
}

uint64_t
vmdk_sparse_gd_needed (const struct vmdk_sparse *s)
{
  uint64_t per_table = s->grain_sectors * s->gt_entries;

  /* Rounded up without overflow: capacity can be anything here. */
  return s->sectors / per_table + (s->sectors % per_table != 0);
}

static int
read_gd (struct vmdk_sparse *s)
{
  uint64_t i, offset, gd_bytes, gt_bytes = s->gt_entries * s->gte_size;

  if (s->gd_entries > VMDK_GD_MAX_ENTRIES) {
    nbdkit_error ("%s: the grain directory has %" PRIu64 " entries, more "
                  "than the %" PRIu64 " this reader accepts",
                  s->f.name, s->gd_entries, VMDK_GD_MAX_ENTRIES);
    return -1;
  }
  gd_bytes = s->gd_entries * s->gte_size;
  /* Before allocating what a small hostile file claims. */
  if (vmdk_sparse_check_in_file (&s->f, "grain directory", s->gd_offset,
                                 gd_bytes) == -1)
    return -1;
  s->gd = malloc (gd_bytes);
  if (!s->gd) {
    nbdkit_error ("malloc: out of memory");
    return -1;
  }
  if (s->f.pread (s->f.opaque, s->gd, gd_bytes, s->gd_offset) == -1)
    return -1;
  /* Check every table's place now, so that reads do not fail later. */
  for (i = 0; i < s->gd_entries; i++) {
    if (s->ops->table (s, i, &offset) == -1)
      return -1;
    if (offset && vmdk_sparse_check_in_file (&s->f, "grain table", offset,
                                             gt_bytes) == -1)
      return -1;
  }
  return 0;
}

struct vmdk_sparse *
vmdk_sparse_open (enum vmdk_extent_type type, const struct vmdk_file *f,
                  uint64_t extent_sectors)
{
  struct vmdk_sparse *s;

  s = calloc (1, sizeof *s);
  if (!s) {
    nbdkit_error ("calloc: out of memory");
    return NULL;
  }
  pthread_mutex_init (&s->lock, NULL);
  s->f = *f;
  s->f.name = strdup (f->name);
  if (!s->f.name) {
    nbdkit_error ("strdup: out of memory");
    goto fail;
  }
  s->sectors = extent_sectors;
  switch (type) {
  case VMDK_EXTENT_SPARSE: s->ops = &vmdk_hosted_ops; break;
  case VMDK_EXTENT_VMFSSPARSE: s->ops = &vmdk_cowd_ops; break;
  case VMDK_EXTENT_SESPARSE: s->ops = &vmdk_sesparse_ops; break;
  default:
    nbdkit_error ("%s: %s is not a sparse extent type", f->name,
                  vmdk_extent_type_name (type));
    goto fail;
  }
  if (s->ops->open (s) == -1)
    goto fail;
  if (s->sectors == 0 || s->sectors > VMDK_MAX_SECTORS) {
    nbdkit_error ("%s: capacity %" PRIu64 " sectors is absurd", f->name,
                  s->sectors);
    goto fail;
  }
  if (read_gd (s) == -1)
    goto fail;
  return s;

 fail:
  vmdk_sparse_close (s);
  return NULL;
}

void
vmdk_sparse_close (struct vmdk_sparse *s)
{
  size_t i;

  if (!s)
    return;
  for (i = 0; i < s->n_cached; i++)
    free (s->cache[i].table);
  free (s->gd);
  free ((char *) s->f.name);
  pthread_mutex_destroy (&s->lock);
  free (s);
}

/* The cached table of GD entry I, or NULL.  Call with the lock held. */
static const uint8_t *
cache_find (struct vmdk_sparse *s, uint64_t i)
{
  size_t j;

  for (j = 0; j < s->n_cached; j++)
    if (s->cache[j].index == i) {
      s->cache[j].used = ++s->clock;
      return s->cache[j].table;
    }
  return NULL;
}

/* Add TABLE, evicting the least recently used one if the cache is
 * full.  Call with the lock held.
 */
static const uint8_t *
cache_insert (struct vmdk_sparse *s, uint64_t i, uint8_t *table)
{
  struct gt_slot *slot = &s->cache[0];
  size_t j;

  if (s->n_cached < VMDK_GT_CACHE)
    slot = &s->cache[s->n_cached++];
  else {
    for (j = 1; j < s->n_cached; j++)
      if (s->cache[j].used < slot->used)
        slot = &s->cache[j];
    free (slot->table);
  }
  slot->index = i;
  slot->table = table;
  slot->used = ++s->clock;
  return table;
}

/* The grain table of GD entry I, fetched if need be.  Called and
 * returns with the lock held, but does not hold it while reading.
 */
static const uint8_t *
get_table (struct vmdk_sparse *s, uint64_t i, uint64_t offset)
{
  size_t len = (size_t) s->gt_entries * s->gte_size;
  const uint8_t *t;
  uint8_t *buf;
  int r;

  t = cache_find (s, i);
  if (t)
    return t;
  pthread_mutex_unlock (&s->lock);
  buf = malloc (len);
  if (!buf)
    nbdkit_error ("malloc: out of memory");
  r = buf ? vmdk_sparse_read (&s->f, "grain table", buf, len, offset) : -1;
  pthread_mutex_lock (&s->lock);
  if (r == -1) {
    free (buf);
    return NULL;
  }
  /* Another thread may have fetched it meanwhile. */
  t = cache_find (s, i);
  if (t) {
    free (buf);
    return t;
  }
  return cache_insert (s, i, buf);
}

/* Decode GRAIN.  Called and returns with the lock held. */
static int
lookup (struct vmdk_sparse *s, uint64_t grain, struct vmdk_run *run)
{
  uint64_t i = grain / s->gt_entries, offset;
  const uint8_t *t;

  run->file_offset = 0;
  if (s->ops->table (s, i, &offset) == -1)
    return -1;
  if (offset == 0) {
    run->kind = VMDK_RUN_PARENT;
    return 0;
  }
  t = get_table (s, i, offset);
  if (!t)
    return -1;
  return s->ops->grain (s, t, grain, run);
}

int
vmdk_sparse_map (struct vmdk_sparse *s, uint64_t offset, uint64_t max,
                 struct vmdk_run *run)
{
  const uint64_t grain_bytes = s->grain_sectors * VMDK_SECTOR;
  const uint64_t size = s->sectors * VMDK_SECTOR;
  uint64_t end, pos, grain;
  struct vmdk_run next;
  int r = -1;

  if (offset >= size || max == 0) {
    nbdkit_error ("%s: read of %" PRIu64 " bytes at %" PRIu64 " is outside "
                  "the extent (%" PRIu64 " bytes)", s->f.name, max, offset,
                  size);
    return -1;
  }
  end = max < size - offset ? offset + max : size;
  grain = offset / grain_bytes;

  pthread_mutex_lock (&s->lock);
  if (lookup (s, grain, run) == -1)
    goto out;
  pos = (grain + 1) * grain_bytes;
  if (run->kind == VMDK_RUN_DATA)
    run->file_offset += offset % grain_bytes;
  /* Extend over the following grains while they continue the run. */
  while (pos < end) {
    grain++;
    if (run->kind == VMDK_RUN_PARENT &&
        grain % s->gt_entries == 0) {
      uint64_t t;

      /* Skip whole unallocated tables at once. */
      if (s->ops->table (s, grain / s->gt_entries, &t) == -1)
        goto out;
      if (t == 0) {
        pos += s->gt_entries * grain_bytes;
        grain += s->gt_entries - 1;
        continue;
      }
    }
    if (lookup (s, grain, &next) == -1)
      goto out;
    if (next.kind != run->kind ||
        (next.kind == VMDK_RUN_DATA &&
         next.file_offset != run->file_offset + (pos - offset)))
      break;
    pos += grain_bytes;
  }
  run->length = (pos < end ? pos : end) - offset;
  r = 0;
  if (run->kind == VMDK_RUN_DATA)
    r = vmdk_sparse_check_in_file (&s->f, "grain data", run->file_offset,
                                   run->length);
 out:
  pthread_mutex_unlock (&s->lock);
  return r;
}
