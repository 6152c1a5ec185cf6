/* The VMDK reader (vsphere.h): vmdk-chain.c does the VMDK work, and
 * this file gives it datastore files, resolving each name a descriptor
 * writes to a "[ds] dir/file" path opened as a versioned HTTP file.
 * Names that leave the disk's directory are refused, except a parent
 * hint under /vmfs/volumes/, mapped back to its datastore; vSAN names
 * are refused outright.  A caller that can read the disk another way
 * asks to be told when the files cannot serve it (the host refuses a
 * file, the disk is encrypted or on vSAN) instead of an error.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include <nbdkit-plugin.h>

#include "vsphere.h"
#include "vmdk-chain.h"
#include "vmdk-descriptor.h"
#include "vsphere-disks.h"

struct vmdk_reader {
  struct vs_http_pool *pool;
  struct vmdk_location loc;
  struct vmdk_chain *chain;
  bool tell_refusal;            /* the caller asked for refusal */
  char *refusal;                /* why the files cannot serve the disk */
};

/* The files cannot serve the disk: keep the first reason for a caller
 * who asked, else report it.  Also the chain's refused callback.
 */
static void
refuse (void *opaque, const char *why)
{
  struct vmdk_reader *r = opaque;

  if (!r->tell_refusal)
    nbdkit_error ("%s", why);
  else if (!r->refusal)
    r->refusal = strdup (why);
}

static int
ds_pread (void *opaque, void *buf, size_t count, uint64_t offset)
{
  return vs_http_file_pread (opaque, buf, count, offset);
}

/* "[ds] dir/" of the datastore file FROM, as DS and DIR. */
static int
split_from (const char *from, char **ds, char **dir)
{
  const char *path, *slash;

  *ds = vs_datastore_path_split (from, &path);
  if (!*ds)
    return -1;
  slash = strrchr (path, '/');
  *dir = strndup (path, slash ? slash - path + 1 : 0);
  if (!*dir) {
    nbdkit_error ("strndup: out of memory");
    free (*ds);
    return -1;
  }
  return 0;
}

/* The datastore file that NAME, as written in descriptor FROM, means. */
static char *
resolve (struct vmdk_reader *r, const char *from, const char *name,
         bool parent)
{
  const char *prefix = "/vmfs/volumes/";
  char *ds = NULL, *dir = NULL, *volume, *file = NULL;
  const char *rest;

  if (strncmp (name, "vsan:", 5) == 0 || strncmp (name, "vvol:", 5) == 0) {
    char why[1024];

    snprintf (why, sizeof why, "%s: \"%s\" is a vSAN or vVol object; "
              "such disks cannot be read through the datastore HTTP "
              "interface", from, name);
    refuse (r, why);
    return NULL;
  }
  if (parent && strncmp (name, prefix, strlen (prefix)) == 0) {
    rest = strchr (name + strlen (prefix), '/');
    if (!rest || !vmdk_extent_name_is_local (rest + 1)) {
      nbdkit_error ("%s: parentFileNameHint \"%s\" is not a file under "
                    "/vmfs/volumes/DATASTORE/", from, name);
      return NULL;
    }
    volume = strndup (name + strlen (prefix), rest - name - strlen (prefix));
    ds = volume ? r->loc.datastore_for_volume (r->loc.opaque, volume) : NULL;
    free (volume);
    if (ds && asprintf (&file, "[%s] %s", ds, rest + 1) == -1)
      file = NULL;
    free (ds);
    return file;
  }
  if (!vmdk_extent_name_is_local (name)) {
    nbdkit_error ("%s: %s file \"%s\" is outside the disk's directory; "
                  "refusing to follow it", from,
                  parent ? "parent" : "extent", name);
    return NULL;
  }
  if (split_from (from, &ds, &dir) == -1)
    return NULL;
  if (asprintf (&file, "[%s] %s%s", ds, dir, name) == -1)
    file = NULL;
  free (ds);
  free (dir);
  return file;
}

static void
ds_close (void *opaque, struct vmdk_file *f)
{
  vs_http_file_close (f->opaque);
  free ((char *) f->name);
}

/* Every byte of the disk comes through one of these files, each of
 * which refuses to serve bytes of another version than the one opened.
 */
static int
ds_open (void *opaque, const char *from, const char *name, bool parent,
         struct vmdk_file *f)
{
  struct vmdk_reader *r = opaque;
  const char *path;
  char *file, *ds = NULL, *url = NULL;
  char refusal[1024] = "";

  memset (f, 0, sizeof *f);
  file = from ? resolve (r, from, name, parent) : strdup (name);
  if (file)
    ds = vs_datastore_path_split (file, &path);
  if (ds)
    url = vs_folder_url (r->loc.server, r->loc.dc_path, ds, path);
  if (url)
    f->opaque = vs_http_file_open (r->pool, url, file,
                                   r->tell_refusal ? refusal : NULL,
                                   sizeof refusal);
  free (ds);
  free (url);
  if (!f->opaque) {
    if (refusal[0]) {
      char why[1200];

      snprintf (why, sizeof why, "%s: %s", file, refusal);
      refuse (r, why);
    }
    free (file);
    return -1;
  }
  f->name = file;
  f->size = vs_http_file_size (f->opaque);
  f->pread = ds_pread;
  return 0;
}

struct vmdk_reader *
vmdk_reader_open (struct vs_http_pool *pool, const struct vmdk_location *loc,
                  int64_t capacity, char **refusal)
{
  struct vmdk_reader *r = calloc (1, sizeof *r);
  struct vmdk_chain_io io = { .open = ds_open, .close = ds_close };

  if (!r) {
    nbdkit_error ("calloc: out of memory");
    return NULL;
  }
  r->pool = pool;
  r->loc = *loc;
  r->tell_refusal = refusal != NULL;
  io.opaque = r;
  if (refusal)
    io.refused = refuse;
  r->chain = vmdk_chain_open (&io, loc->file, capacity);
  if (!r->chain) {
    if (refusal)
      *refusal = r->refusal;
    else
      free (r->refusal);
    free (r);
    return NULL;
  }
  free (r->refusal);
  nbdkit_debug ("%s: %u layer(s), %" PRIi64 " bytes", loc->file,
                vmdk_chain_depth (r->chain), vmdk_chain_size (r->chain));
  return r;
}

void
vmdk_reader_close (struct vmdk_reader *r)
{
  if (!r)
    return;
  vmdk_chain_close (r->chain);
  free (r);
}

int64_t
vmdk_reader_size (const struct vmdk_reader *r)
{
  return vmdk_chain_size (r->chain);
}

int
vmdk_reader_pread (struct vmdk_reader *r, void *buf, uint32_t count,
                   uint64_t offset)
{
  return vmdk_chain_pread (r->chain, buf, count, offset);
}

struct status {
  struct nbdkit_extents *extents;
  vmdk_flat_extents *flat;
  void *flat_opaque;
};

static int
add_extent (void *opaque, uint64_t offset, uint64_t length,
            enum vmdk_status status)
{
  struct status *st = opaque;

  if (status == VMDK_STATUS_FLAT && st->flat)
    return st->flat (st->flat_opaque, offset, length, st->extents);
  return nbdkit_add_extent (st->extents, offset, length,
                            status == VMDK_STATUS_ZERO
                            ? NBDKIT_EXTENT_HOLE | NBDKIT_EXTENT_ZERO : 0);
}

int
vmdk_reader_extents (struct vmdk_reader *r, uint32_t count, uint64_t offset,
                     struct nbdkit_extents *extents,
                     vmdk_flat_extents *flat, void *flat_opaque)
{
  struct status st = { extents, flat, flat_opaque };

  return vmdk_chain_extents (r->chain, count, offset, add_extent, &st);
}
