#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include <nbdkit-plugin.h>

#include "vmdk-reader.h"
#include "vmdk-descriptor.h"
#include "vsphere-disks.h"

struct extent {
  uint64_t start, length;       /* bytes of the virtual disk */
  char *url;                    /* NULL: reads as zeros */
  char *name;                   /* "[ds] dir/file", for messages */
  uint64_t file_offset;         /* bytes */
};

struct vmdk_reader {
  struct vs_http_pool *pool;
  struct extent *extent;
  size_t n;
  int64_t size;
};

void
vmdk_reader_close (struct vmdk_reader *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++) {
    free (r->extent[i].url);
    free (r->extent[i].name);
  }
  free (r->extent);
  free (r);
}

/* Refuse what cannot be read as plain bytes at an offset, yet. */
static int
check_extent_type (const struct vmdk_extent *e, const char *name)
{
  switch (e->type) {
  case VMDK_EXTENT_FLAT:
  case VMDK_EXTENT_VMFS:
  case VMDK_EXTENT_ZERO:
    return 0;
  case VMDK_EXTENT_VSANSPARSE:
    nbdkit_error ("%s: this is a vSAN disk (VSANSPARSE extent); vSAN and "
                  "vVol disks cannot be read through the datastore HTTP "
                  "interface", name);
    return -1;
  case VMDK_EXTENT_VMFSRDM:
  case VMDK_EXTENT_VMFSRAW:
    nbdkit_error ("%s: this is a raw device mapping (%s extent); its data "
                  "is on a LUN, not on the datastore", name,
                  vmdk_extent_type_name (e->type));
    return -1;
  default:
    nbdkit_error ("%s: %s extents (snapshot deltas and sparse disks) are "
                  "not supported yet; read a snapshot whose disk is not a "
                  "delta, or consolidate the VM's snapshots", name,
                  vmdk_extent_type_name (e->type));
    return -1;
  }
}

/* Build the extent map, checking names and sizes, and probe the last
 * byte of each extent so that a missing or short file fails now.
 */
static int
map_extents (struct vmdk_reader *r, const struct vmdk_descriptor *d,
             const struct vmdk_location *loc, const char *ds,
             const char *dir, const char *name)
{
  uint64_t pos = 0;
  size_t i;
  char probe;

  r->extent = calloc (d->n_extents, sizeof *r->extent);
  if (!r->extent) {
    nbdkit_error ("calloc: out of memory");
    return -1;
  }
  for (i = 0; i < d->n_extents; i++) {
    const struct vmdk_extent *e = &d->extent[i];
    struct extent *x = &r->extent[r->n++];
    char *path;

    if (check_extent_type (e, name) == -1)
      return -1;
    x->start = pos;
    x->length = e->sectors * VMDK_SECTOR;
    pos += x->length;
    if (e->type == VMDK_EXTENT_ZERO)
      continue;
    if (strncmp (e->file, "vsan:", 5) == 0) {
      nbdkit_error ("%s: extent \"%s\" is on vSAN; vSAN disks cannot be "
                    "read through the datastore HTTP interface",
                    name, e->file);
      return -1;
    }
    if (!vmdk_extent_name_is_local (e->file)) {
      nbdkit_error ("%s: extent file \"%s\" is outside the disk's "
                    "directory; refusing to follow it", name, e->file);
      return -1;
    }
    if (asprintf (&path, "%s%s", dir, e->file) == -1) {
      nbdkit_error ("out of memory");
      return -1;
    }
    x->file_offset = e->offset * VMDK_SECTOR;
    x->url = vs_folder_url (loc->server, loc->dc_path, ds, path);
    if (asprintf (&x->name, "[%s] %s", ds, path) == -1)
      x->name = NULL;
    free (path);
    if (!x->url || !x->name) {
      nbdkit_error ("out of memory");
      return -1;
    }
    if (vs_http_pread (r->pool, x->url, x->name, &probe, 1,
                       x->file_offset + x->length - 1) == -1)
      return -1;
  }
  return 0;
}

struct vmdk_reader *
vmdk_reader_open (struct vs_http_pool *pool, const struct vmdk_location *loc,
                  int64_t capacity)
{
  struct vmdk_reader *r = calloc (1, sizeof *r);
  struct vmdk_descriptor d = { 0 };
  const char *path, *slash;
  char *ds = NULL, *dir = NULL, *url = NULL, *text = NULL;
  size_t len;
  uint64_t size;

  if (!r) {
    nbdkit_error ("calloc: out of memory");
    return NULL;
  }
  r->pool = pool;
  ds = vs_datastore_path_split (loc->file, &path);
  if (!ds)
    goto fail;
  slash = strrchr (path, '/');
  dir = strndup (path, slash ? slash - path + 1 : 0);
  url = vs_folder_url (loc->server, loc->dc_path, ds, path);
  if (!dir || !url) {
    nbdkit_error ("out of memory");
    goto fail;
  }
  text = vs_http_get_small (pool, url, loc->file, VMDK_DESCRIPTOR_MAX, &len);
  if (!text ||
      vmdk_descriptor_parse (text, len, loc->file, &d) == -1)
    goto fail;
  size = vmdk_descriptor_size (&d);
  if (capacity > 0 && size != (uint64_t) capacity) {
    nbdkit_error ("%s: the descriptor's extents add up to %" PRIu64
                  " bytes but vSphere says the disk holds %" PRIi64
                  " bytes; refusing to serve a disk of uncertain size",
                  loc->file, size, capacity);
    goto fail;
  }
  r->size = size;
  if (map_extents (r, &d, loc, ds, dir, loc->file) == -1)
    goto fail;
  nbdkit_debug ("%s: createType=%s, %zu extent(s), %" PRIu64 " bytes",
                loc->file, d.create_type, d.n_extents, size);
  vmdk_descriptor_free (&d);
  free (text);
  free (url);
  free (dir);
  free (ds);
  return r;

 fail:
  vmdk_descriptor_free (&d);
  free (text);
  free (url);
  free (dir);
  free (ds);
  vmdk_reader_close (r);
  return NULL;
}

int64_t
vmdk_reader_size (const struct vmdk_reader *r)
{
  return r->size;
}

static const struct extent *
find_extent (const struct vmdk_reader *r, uint64_t offset)
{
  size_t lo = 0, hi = r->n;

  while (lo < hi) {
    size_t mid = (lo + hi) / 2;

    if (offset < r->extent[mid].start)
      hi = mid;
    else if (offset >= r->extent[mid].start + r->extent[mid].length)
      lo = mid + 1;
    else
      return &r->extent[mid];
  }
  return NULL;
}

int
vmdk_reader_pread (struct vmdk_reader *r, void *buf, uint32_t count,
                   uint64_t offset)
{
  char *p = buf;

  while (count > 0) {
    const struct extent *x = find_extent (r, offset);
    uint64_t in = offset - x->start;
    uint32_t n = x->length - in < count ? x->length - in : count;

    if (!x->url)
      memset (p, 0, n);
    else if (vs_http_pread (r->pool, x->url, x->name, p, n,
                            x->file_offset + in) == -1)
      return -1;
    p += n;
    offset += n;
    count -= n;
  }
  return 0;
}

int
vmdk_reader_extents (struct vmdk_reader *r, uint32_t count, uint64_t offset,
                     struct nbdkit_extents *extents)
{
  uint64_t end = offset + count;

  while (offset < end) {
    const struct extent *x = find_extent (r, offset);
    uint64_t n = x->start + x->length - offset;

    if (nbdkit_add_extent (extents, offset, n,
                           x->url ? 0
                           : NBDKIT_EXTENT_HOLE | NBDKIT_EXTENT_ZERO) == -1)
      return -1;
    offset += n;
  }
  return 0;
}
