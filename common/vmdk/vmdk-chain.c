/* The VMDK chain (vmdk-chain.h): each layer is a parsed descriptor and
 * its opened extents, and each parent is checked (CID, size, no loop)
 * as it is opened.  Reads and block status are one walk down the layers
 * with two different actions: where a sparse layer has no grain the
 * layer below answers, and below the base disk everything reads as
 * zeros.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include <nbdkit-plugin.h>

#include "vmdk-chain.h"
#include "vmdk-descriptor.h"

#define NO_PARENT 0xffffffff
/* Enough of a file to tell a descriptor from binary data. */
#define MAGIC_BYTES 4

struct extent {
  enum vmdk_extent_type type;
  uint64_t start, length;       /* bytes of the virtual disk */
  bool has_file;
  struct vmdk_file file;
  uint64_t file_offset;         /* FLAT and VMFS: bytes */
  struct vmdk_sparse *sparse;   /* sparse types */
};

struct layer {
  char *name;                   /* the descriptor's file name */
  struct extent *extent;
  size_t n;
  uint64_t size;
  uint32_t cid, parent_cid;
};

struct vmdk_chain {
  struct vmdk_chain_io io;
  struct layer layer[VMDK_CHAIN_MAX];
  unsigned depth;
};

static void
close_layer (struct vmdk_chain *c, struct layer *l)
{
  size_t i;

  for (i = 0; i < l->n; i++) {
    vmdk_sparse_close (l->extent[i].sparse);
    if (l->extent[i].has_file)
      c->io.close (c->io.opaque, &l->extent[i].file);
  }
  free (l->extent);
  free (l->name);
}

void
vmdk_chain_close (struct vmdk_chain *c)
{
  unsigned i;

  if (!c)
    return;
  for (i = 0; i < c->depth; i++)
    close_layer (c, &c->layer[i]);
  free (c);
}

/* Say why the files cannot serve the disk, to the caller's refused
 * callback if it has one, else as an error.
 */
static void
refuse (const struct vmdk_chain *c, const char *why)
{
  if (c->io.refused)
    c->io.refused (c->io.opaque, why);
  else
    nbdkit_error ("%s", why);
}

/* Refuse extents whose data is not on the datastore or which cannot be
 * read as bytes of a file.
 */
static int
check_extent_type (const struct vmdk_chain *c, const struct vmdk_extent *e,
                   const char *name)
{
  char why[1024];

  switch (e->type) {
  case VMDK_EXTENT_VSANSPARSE:
    snprintf (why, sizeof why, "%s: this is a vSAN disk (VSANSPARSE "
              "extent); vSAN and vVol disks cannot be read through the "
              "datastore HTTP interface", name);
    refuse (c, why);
    return -1;
  case VMDK_EXTENT_VMFSRDM:
  case VMDK_EXTENT_VMFSRAW:
    nbdkit_error ("%s: this is a raw device mapping (%s extent); its data "
                  "is on a LUN, not on the datastore", name,
                  vmdk_extent_type_name (e->type));
    return -1;
  default:
    return 0;
  }
}

/* The descriptor text of file F: the file itself, or the descriptor
 * embedded in a hosted sparse file.
 */
static char *
read_descriptor (const struct vmdk_file *f, size_t *len)
{
  unsigned char magic[MAGIC_BYTES];
  char *text;

  if (f->size < MAGIC_BYTES) {
    nbdkit_error ("%s: not a VMDK descriptor (%" PRIu64 " bytes)",
                  f->name, f->size);
    return NULL;
  }
  if (f->pread (f->opaque, magic, sizeof magic, 0) == -1)
    return NULL;
  if (memcmp (magic, "KDMV", 4) == 0) {
    if (vmdk_hosted_read_descriptor (f, &text, len) == -1)
      return NULL;
    if (!text)
      nbdkit_error ("%s: a sparse extent without an embedded descriptor: "
                    "name the disk's descriptor instead", f->name);
    return text;
  }
  if (memcmp (magic, "COWD", 4) == 0 ||
      memcmp (magic, "\xbe\xba\xfe\xca", 4) == 0) {
    nbdkit_error ("%s: this is the data file of a snapshot delta, not a "
                  "VMDK descriptor: name the disk's descriptor", f->name);
    return NULL;
  }
  if (f->size > VMDK_DESCRIPTOR_MAX) {
    nbdkit_error ("%s: not a VMDK descriptor (%" PRIu64 " bytes, more than "
                  "%d); name the disk's .vmdk descriptor, not its data file",
                  f->name, f->size, VMDK_DESCRIPTOR_MAX);
    return NULL;
  }
  text = malloc (f->size + 1);
  if (!text) {
    nbdkit_error ("malloc: out of memory");
    return NULL;
  }
  if (f->pread (f->opaque, text, f->size, 0) == -1) {
    free (text);
    return NULL;
  }
  text[f->size] = '\0';
  *len = f->size;
  return text;
}

/* Descriptors may be padded with NULs (embedded ones always are); NULs
 * followed by anything else mean binary data, which the parser refuses.
 */
static size_t
unpadded_length (const char *text, size_t len)
{
  size_t n = strnlen (text, len), i;

  for (i = n; i < len; i++)
    if (text[i] != '\0')
      return len;
  return n;
}

static int
open_extent (struct vmdk_chain *c, struct layer *l,
             const struct vmdk_extent *e, struct extent *x)
{
  x->type = e->type;
  x->length = e->sectors * VMDK_SECTOR;
  if (check_extent_type (c, e, l->name) == -1)
    return -1;
  if (e->type == VMDK_EXTENT_ZERO)
    return 0;
  if (c->io.open (c->io.opaque, l->name, e->file, false, &x->file) == -1)
    return -1;
  x->has_file = true;
  switch (e->type) {
  case VMDK_EXTENT_FLAT:
  case VMDK_EXTENT_VMFS:
    x->file_offset = e->offset * VMDK_SECTOR;
    if (x->file.size < x->file_offset + x->length) {
      nbdkit_error ("%s: extent file %s is %" PRIu64 " bytes, shorter than "
                    "the %" PRIu64 " bytes the descriptor gives it",
                    l->name, x->file.name, x->file.size,
                    x->file_offset + x->length);
      return -1;
    }
    return 0;
  default:
    x->sparse = vmdk_sparse_open (e->type, &x->file, e->sectors);
    return x->sparse ? 0 : -1;
  }
}

/* Open the descriptor NAME (named by FROM, or the top when FROM is
 * NULL) as layer number c->depth.
 */
static int
open_layer (struct vmdk_chain *c, const char *from, const char *name,
            char **parent_hint)
{
  struct layer *l = &c->layer[c->depth];
  struct vmdk_file df;
  struct vmdk_descriptor d;
  char *text;
  size_t len, i;
  uint64_t pos = 0;
  int r = -1;

  *parent_hint = NULL;
  if (c->io.open (c->io.opaque, from, name, from != NULL, &df) == -1)
    return -1;
  memset (l, 0, sizeof *l);
  l->name = strdup (df.name);
  c->depth++;
  text = read_descriptor (&df, &len);
  c->io.close (c->io.opaque, &df);
  if (text)
    len = unpadded_length (text, len);
  if (!l->name || !text ||
      vmdk_descriptor_parse (text, len, l->name, &d) == -1) {
    free (text);
    return -1;
  }
  free (text);
  if (d.encrypted) {
    char why[1024];

    snprintf (why, sizeof why, "%s: the disk is encrypted (VM Encryption): "
              "its extents hold ciphertext, which only the host can "
              "decrypt; refusing to read them as the disk", l->name);
    refuse (c, why);
    goto out;
  }
  l->cid = d.cid;
  l->parent_cid = d.parent_cid;
  l->extent = calloc (d.extents.len, sizeof *l->extent);
  if (!l->extent) {
    nbdkit_error ("calloc: out of memory");
    goto out;
  }
  for (i = 0; i < d.extents.len; i++) {
    l->extent[i].start = pos;
    l->n++;
    if (open_extent (c, l, &d.extents.ptr[i], &l->extent[i]) == -1)
      goto out;
    pos += l->extent[i].length;
  }
  l->size = pos;
  if (d.parent_cid != NO_PARENT) {
    if (!d.parent_hint) {
      nbdkit_error ("%s: parentCID is set but parentFileNameHint is "
                    "missing: cannot find the parent disk", l->name);
      goto out;
    }
    *parent_hint = d.parent_hint;
    d.parent_hint = NULL;
  }
  r = 0;
 out:
  vmdk_descriptor_free (&d);
  return r;
}

/* Check the layer just opened against its child. */
static int
check_parent (const struct vmdk_chain *c)
{
  const struct layer *child = &c->layer[c->depth - 2];
  const struct layer *parent = &c->layer[c->depth - 1];
  unsigned i;

  for (i = 0; i + 1 < c->depth; i++)
    if (strcmp (c->layer[i].name, parent->name) == 0) {
      nbdkit_error ("%s: the chain of parents loops back to %s",
                    child->name, parent->name);
      return -1;
    }
  if (child->parent_cid != parent->cid) {
    nbdkit_error ("%s: parentCID %08x does not match the CID %08x of its "
                  "parent %s: the parent was changed after the snapshot",
                  child->name, child->parent_cid, parent->cid, parent->name);
    return -1;
  }
  if (parent->size != child->size) {
    nbdkit_error ("%s: its parent %s holds %" PRIu64 " bytes, not %" PRIu64,
                  child->name, parent->name, parent->size, child->size);
    return -1;
  }
  return 0;
}

struct vmdk_chain *
vmdk_chain_open (const struct vmdk_chain_io *io, const char *name,
                 int64_t capacity)
{
  struct vmdk_chain *c = calloc (1, sizeof *c);
  char *hint = NULL, *next;

  if (!c) {
    nbdkit_error ("calloc: out of memory");
    return NULL;
  }
  c->io = *io;
  if (open_layer (c, NULL, name, &hint) == -1)
    goto fail;
  if (capacity >= 0 && c->layer[0].size != (uint64_t) capacity) {
    nbdkit_error ("%s: the descriptor's extents add up to %" PRIu64
                  " bytes but vSphere says the disk holds %" PRIi64
                  " bytes; refusing to serve a disk of uncertain size",
                  c->layer[0].name, c->layer[0].size, capacity);
    goto fail;
  }
  while (hint) {
    if (c->depth == VMDK_CHAIN_MAX) {
      nbdkit_error ("%s: the chain of snapshot deltas is deeper than %d "
                    "layers", c->layer[0].name, VMDK_CHAIN_MAX);
      goto fail;
    }
    if (open_layer (c, c->layer[c->depth - 1].name, hint, &next) == -1 ||
        check_parent (c) == -1) {
      free (next);
      goto fail;
    }
    free (hint);
    hint = next;
  }
  return c;

 fail:
  free (hint);
  vmdk_chain_close (c);
  return NULL;
}

int64_t
vmdk_chain_size (const struct vmdk_chain *c)
{
  return c->layer[0].size;
}

unsigned
vmdk_chain_depth (const struct vmdk_chain *c)
{
  return c->depth;
}

static const struct extent *
find_extent (const struct layer *l, uint64_t offset)
{
  size_t lo = 0, hi = l->n;

  while (lo < hi) {
    size_t mid = (lo + hi) / 2;

    if (offset < l->extent[mid].start)
      hi = mid;
    else if (offset >= l->extent[mid].start + l->extent[mid].length)
      lo = mid + 1;
    else
      return &l->extent[mid];
  }
  return NULL;
}

/* Walk [OFFSET, OFFSET+COUNT) of layer LI, in runs: data at a file
 * offset, zeros, or (past the last layer too) the layer below.  Both
 * reads and block status are this walk with a different action.
 */
struct walk {
  /* FLAT: the bytes of a flat extent, as opposed to a sparse one's. */
  int (*data) (struct walk *w, const struct vmdk_file *f, uint64_t file_offset,
               uint64_t offset, uint64_t length, bool flat);
  int (*zero) (struct walk *w, uint64_t offset, uint64_t length);
};

static int
walk_layer (struct vmdk_chain *c, unsigned li, struct walk *w,
            uint64_t offset, uint64_t count)
{
  if (li == c->depth)
    return w->zero (w, offset, count);

  while (count > 0) {
    const struct extent *x = find_extent (&c->layer[li], offset);
    uint64_t in = offset - x->start;
    uint64_t n = x->length - in < count ? x->length - in : count;
    struct vmdk_run run;
    int r;

    switch (x->type) {
    case VMDK_EXTENT_ZERO:
      r = w->zero (w, offset, n);
      break;
    case VMDK_EXTENT_FLAT:
    case VMDK_EXTENT_VMFS:
      r = w->data (w, &x->file, x->file_offset + in, offset, n, true);
      break;
    default:
      if (vmdk_sparse_map (x->sparse, in, n, &run) == -1)
        return -1;
      n = run.length;
      r = run.kind == VMDK_RUN_DATA
        ? w->data (w, &x->file, run.file_offset, offset, n, false)
        : run.kind == VMDK_RUN_ZERO ? w->zero (w, offset, n)
        : walk_layer (c, li + 1, w, offset, n);
    }
    if (r == -1)
      return -1;
    offset += n;
    count -= n;
  }
  return 0;
}

struct read_walk {
  struct walk w;
  char *buf;
  uint64_t base;                /* disk offset of buf[0] */
};

static int
read_data (struct walk *w, const struct vmdk_file *f, uint64_t file_offset,
           uint64_t offset, uint64_t length, bool flat)
{
  struct read_walk *rw = (struct read_walk *) w;

  return f->pread (f->opaque, rw->buf + (offset - rw->base), length,
                   file_offset);
}

static int
read_zero (struct walk *w, uint64_t offset, uint64_t length)
{
  struct read_walk *rw = (struct read_walk *) w;

  memset (rw->buf + (offset - rw->base), 0, length);
  return 0;
}

int
vmdk_chain_pread (struct vmdk_chain *c, void *buf, uint32_t count,
                  uint64_t offset)
{
  struct read_walk rw = { { read_data, read_zero }, buf, offset };

  return walk_layer (c, 0, &rw.w, offset, count);
}

struct status_walk {
  struct walk w;
  vmdk_chain_add_run add;
  void *opaque;
};

static int
status_data (struct walk *w, const struct vmdk_file *f, uint64_t file_offset,
             uint64_t offset, uint64_t length, bool flat)
{
  struct status_walk *sw = (struct status_walk *) w;

  return sw->add (sw->opaque, offset, length,
                  flat ? VMDK_STATUS_FLAT : VMDK_STATUS_DATA);
}

static int
status_zero (struct walk *w, uint64_t offset, uint64_t length)
{
  struct status_walk *sw = (struct status_walk *) w;

  return sw->add (sw->opaque, offset, length, VMDK_STATUS_ZERO);
}

int
vmdk_chain_extents (struct vmdk_chain *c, uint32_t count, uint64_t offset,
                    vmdk_chain_add_run add, void *opaque)
{
  struct status_walk sw = { { status_data, status_zero }, add, opaque };

  return walk_layer (c, 0, &sw.w, offset, count);
}
