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
  pthread_mutex_t lock;         /* guards readers */
  struct vmdk_reader **readers; /* by disk index; NULL until first use */
};

struct vs_exports *
vs_exports_new (const struct vs_disks *disks, const struct vs_disk *dflt,
                const char *pattern, struct vs_http_pool *pool,
                const struct vmdk_location *where, const char *vm_name)
{
  struct vs_exports *x = calloc (1, sizeof *x);

  if (!x || (x->readers = calloc (disks->len + 1, sizeof *x->readers)) == NULL) {
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
    vmdk_reader_close (x->readers[i]);
  pthread_mutex_destroy (&x->lock);
  free (x->readers);
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

struct vmdk_reader *
vs_exports_reader (struct vs_exports *x, const struct vs_disk *d)
{
  size_t i = d - x->disks->ptr;
  struct vmdk_reader *r;

  pthread_mutex_lock (&x->lock);
  if (!x->readers[i]) {
    struct vmdk_location loc = x->where;

    loc.file = d->file;
    x->readers[i] = vmdk_reader_open (x->pool, &loc, d->capacity);
  }
  r = x->readers[i];
  pthread_mutex_unlock (&x->lock);
  return r;
}
