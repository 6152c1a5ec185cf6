/* The exports (vsphere.h): a name is resolved to a disk by
 * vsphere-disks.c and checked against export=, and the disk's source is
 * opened the first time a connection needs it, then shared by every
 * later connection to that disk.  Under transport=auto each disk's
 * transport is chosen as its source opens: /folder when its files serve
 * the disk, NFC when the disk is encrypted or its files are refused.
 * x->lock guards the sources and is held while one opens, so that no
 * disk is ever opened twice.
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
  enum vs_via via;
  struct vs_exports_nfc nfc;    /* unless via is VS_VIA_FOLDER */
  pthread_mutex_t lock;         /* guards sources */
  struct vs_source *sources;    /* by disk index, zero until opened */
};

struct vs_exports *
vs_exports_new (const struct vs_disks *disks, const struct vs_disk *dflt,
                const char *pattern, struct vs_http_pool *pool,
                const struct vmdk_location *where, enum vs_via via,
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
  x->via = via;
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
  for (i = 0; i < x->disks->len; i++) {
    vmdk_reader_close (x->sources[i].reader);
    vs_nfc_disk_free (x->sources[i].nfc);
    free (x->sources[i].why);
  }
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

/* Open D over NFC into S, with one connection made now so that what
 * stops it shows at once.
 */
static int
open_nfc (struct vs_exports *x, const struct vs_disk *d, struct vs_source *s)
{
  s->nfc = vs_nfc_disk_new (x->nfc.session, x->nfc.vm_ref, d->file,
                            x->nfc.host_address, x->nfc.ssl,
                            x->nfc.connections);
  if (s->nfc && vs_nfc_disk_check (s->nfc) == 0) {
    s->via = VS_VIA_NFC;
    return 0;
  }
  vs_nfc_disk_free (s->nfc);
  s->nfc = NULL;
  return -1;
}

/* transport=auto: /folder if D's files serve it, else NFC. */
static int
open_auto (struct vs_exports *x, const struct vs_disk *d,
           const struct vmdk_location *loc, struct vs_source *s)
{
  char *refusal = NULL;

  if (d->encrypted) {
    s->why = strdup ("the disk is encrypted, and only the host can "
                     "decrypt it");
  }
  else {
    s->reader = vmdk_reader_open (x->pool, loc, d->capacity, &refusal);
    if (s->reader) {
      s->via = VS_VIA_FOLDER;
      s->why = strdup ("its files on the datastore serve it");
      return s->why ? 0 : -1;
    }
    if (!refusal)
      return -1;
    s->why = refusal;
  }
  if (!s->why) {
    nbdkit_error ("strdup: out of memory");
    return -1;
  }
  nbdkit_debug ("%s: transport=auto reads it over NFC: %s", d->file, s->why);
  if (open_nfc (x, d, s) == -1) {
    nbdkit_error ("disk %s of VM %s cannot be read over /folder (%s), and "
                  "NFC on port 902, the other way to read it, failed (see "
                  "the error above)", d->file, x->vm_name, s->why);
    return -1;
  }
  return 0;
}

const struct vs_source *
vs_exports_source (struct vs_exports *x, const struct vs_disk *d)
{
  struct vs_source *s = &x->sources[d - x->disks->ptr];
  struct vmdk_location loc = x->where;
  int r = 0;

  pthread_mutex_lock (&x->lock);
  loc.file = d->file;
  if (!s->reader && !s->nfc) {
    switch (x->via) {
    case VS_VIA_FOLDER:
      s->reader = vmdk_reader_open (x->pool, &loc, d->capacity, NULL);
      r = s->reader ? 0 : -1;
      break;
    case VS_VIA_NFC:
      r = open_nfc (x, d, s);
      break;
    case VS_VIA_AUTO:
      r = open_auto (x, d, &loc, s);
      break;
    }
    if (r == -1) {
      free (s->why);
      s->why = NULL;
    }
  }
  pthread_mutex_unlock (&x->lock);
  return r == 0 ? s : NULL;
}

const struct vs_source *
vs_exports_opened (struct vs_exports *x, const struct vs_disk *d)
{
  const struct vs_source *s = &x->sources[d - x->disks->ptr];
  bool open;

  pthread_mutex_lock (&x->lock);
  open = s->reader || s->nfc;
  pthread_mutex_unlock (&x->lock);
  return open ? s : NULL;
}
