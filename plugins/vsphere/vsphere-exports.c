/* The exports (vsphere.h): a name is resolved to a disk by
 * vsphere-disks.c and checked against export=, and the disk's reader is
 * opened the first time a connection needs it, then shared by every
 * later connection to that disk.  x->lock guards the readers and is
 * held while one opens, so that no disk is ever opened twice.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "vsphere.h"

struct vs_exports {
  const struct vs_disks *disks;
  const struct vs_disk *dflt;
  const char *pattern;
  const char *vm_name;
  struct vs_http_pool *pool;
  struct vmdk_location where;
  bool over_nfc;
  struct vs_exports_nfc nfc;    /* if over_nfc */
  pthread_mutex_t lock;         /* guards sources */
  /* By disk index, NULL until first use: a vmdk_reader, or over NFC a
   * vs_nfc_disk.
   */
  void **sources;
};

struct vs_exports *
vs_exports_new (const struct vs_disks *disks, const struct vs_disk *dflt,
                const char *pattern, struct vs_http_pool *pool,
                const struct vmdk_location *where,
                const struct vs_exports_nfc *nfc, const char *vm_name)
{
  struct vs_exports *x = calloc (1, sizeof *x);

  if (!x || (x->sources = calloc (disks->len + 1, sizeof *x->sources)) == NULL) {
    nbdkit_error ("calloc: out of memory");
    free (x);
    return NULL;
  }
  x->disks = disks;
  x->dflt = dflt;
  x->pattern = pattern;
  x->vm_name = vm_name;
  x->pool = pool;
  x->where = *where;
  x->over_nfc = nfc != NULL;
  if (nfc)
    x->nfc = *nfc;
  pthread_mutex_init (&x->lock, NULL);
  return x;
}

void
vs_exports_free (struct vs_exports *x)
{
  size_t i;

  if (!x)
    return;
  for (i = 0; i < x->disks->len; i++)
    if (x->over_nfc)
      vs_nfc_disk_free (x->sources[i]);
    else
      vmdk_reader_close (x->sources[i]);
  pthread_mutex_destroy (&x->lock);
  free (x->sources);
  free (x);
}

bool
vs_exports_allowed (const struct vs_exports *x, const struct vs_disk *d)
{
  /* No FNM_PATHNAME: '*' matches across directories, as in
   * nbdkit-vddk-plugin since 1.45.11.
   */
  return !x->pattern || (d->file && fnmatch (x->pattern, d->file, 0) == 0);
}

const struct vs_disk *
vs_exports_find (const struct vs_exports *x, const char *name)
{
  const struct vs_disk *d;

  d = name[0] ? vs_disks_by_export (x->disks, name, x->vm_name) : x->dflt;
  if (d && !vs_exports_allowed (x, d)) {
    nbdkit_error ("export \"%s\" (%s) is not among the disks export=%s "
                  "allows", name, d->file ? d->file : "no file", x->pattern);
    return NULL;
  }
  return d;
}

/* Disk D's source, of the kind the transport reads. */
static void *
source (struct vs_exports *x, const struct vs_disk *d)
{
  size_t i = d - x->disks->ptr;
  void *r;

  pthread_mutex_lock (&x->lock);
  if (!x->sources[i] && x->over_nfc)
    x->sources[i] = vs_nfc_disk_new (x->nfc.session, x->nfc.vm_ref, d->file,
                                     x->nfc.host_address, x->nfc.ssl,
                                     x->nfc.connections);
  else if (!x->sources[i]) {
    struct vmdk_location loc = x->where;

    loc.file = d->file;
    x->sources[i] = vmdk_reader_open (x->pool, &loc, d->capacity);
  }
  r = x->sources[i];
  pthread_mutex_unlock (&x->lock);
  return r;
}

struct vmdk_reader *
vs_exports_reader (struct vs_exports *x, const struct vs_disk *d)
{
  return x->over_nfc ? NULL : source (x, d);
}

struct vs_nfc_disk *
vs_exports_nfc (struct vs_exports *x, const struct vs_disk *d)
{
  return x->over_nfc ? source (x, d) : NULL;
}
