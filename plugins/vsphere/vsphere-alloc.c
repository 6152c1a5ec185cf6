/* Allocated areas (vsphere.h): per disk, a least-recently-used cache of
 * four pages of QueryChangedDiskAreas answers.  query_lock lets one
 * connection at a time ask vCenter, so that others wanting the same
 * page find it cached rather than ask again; lock, taken second, guards
 * the pages and the failed flag, and is never held across a call.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <inttypes.h>

#include <nbdkit-plugin.h>

#include "vsphere.h"
#include "vsphere-cbt.h"
#include "changes.h"

/* Answers kept per disk: a copy tool's connections work near one
 * another, and each answer usually covers much of the disk.
 */
#define CACHED_PAGES 4
/* Areas kept from one answer (16 bytes each): the answer for a badly
 * fragmented disk is cut short, and the rest asked for when needed.
 */
#define MAX_AREAS 65536
/* Pages are asked for from a multiple of CBT's smallest block.  Fewer
 * than MAX_AREAS areas fit before the offset asked about, so a page cut
 * short still holds it.
 */
#define QUERY_ALIGN 65536

struct page {
  uint64_t start, end;          /* what it covers; empty: unused */
  struct vs_changes areas;
  uint64_t used;                /* clock of the last use */
};

struct vs_alloc {
  struct vs_session *session;
  struct vs_cbt_query query;
  pthread_mutex_t query_lock;   /* one question to vCenter at a time */
  pthread_mutex_t lock;         /* guards what follows; taken second */
  struct page page[CACHED_PAGES];
  uint64_t clock;
  bool failed;                  /* vSphere could not say: all data */
};

struct vs_alloc *
vs_alloc_new (struct vs_session *s, const char *vm_ref,
              const char *snapshot_ref, const struct vs_disk *d)
{
  struct vs_alloc *a;

  if (!d->file)                 /* not on a datastore: never served */
    return NULL;
  if (!snapshot_ref || !d->change_id) {
    nbdkit_debug ("%s: block status of its flat extents is all data: %s",
                  d->file, !snapshot_ref
                  ? "allocated areas are known only in a snapshot"
                  : "the disk has no changeId (CBT is off)");
    return NULL;
  }
  a = calloc (1, sizeof *a);
  if (!a) {
    nbdkit_debug ("%s: calloc: out of memory: block status of its flat "
                  "extents is all data", d->file);
    return NULL;
  }
  a->session = s;
  a->query.vm_ref = vm_ref;
  a->query.snapshot_ref = snapshot_ref;
  a->query.device_key = d->key;
  a->query.capacity = d->capacity;
  a->query.change_id = "*";
  a->query.disk_name = d->file;
  pthread_mutex_init (&a->query_lock, NULL);
  pthread_mutex_init (&a->lock, NULL);
  return a;
}

void
vs_alloc_free (struct vs_alloc *a)
{
  size_t i;

  if (!a)
    return;
  for (i = 0; i < CACHED_PAGES; i++)
    vs_changes_free (&a->page[i].areas);
  pthread_mutex_destroy (&a->query_lock);
  pthread_mutex_destroy (&a->lock);
  free (a);
}

/* The cached page holding OFFSET, or NULL.  With the lock held. */
static struct page *
cached (struct vs_alloc *a, uint64_t offset)
{
  size_t i;

  for (i = 0; i < CACHED_PAGES; i++)
    if (a->page[i].start <= offset && offset < a->page[i].end) {
      a->page[i].used = ++a->clock;
      return &a->page[i];
    }
  return NULL;
}

/* Keep AREAS, covering [START, END), in place of the least recently
 * used page.  With the lock held.
 */
static void
keep (struct vs_alloc *a, uint64_t start, uint64_t end,
      struct vs_changes *areas)
{
  struct page *p = &a->page[0];
  size_t i;

  for (i = 1; i < CACHED_PAGES; i++)
    if (a->page[i].used < p->used)
      p = &a->page[i];
  vs_changes_free (&p->areas);
  p->start = start;
  p->end = end;
  p->areas = *areas;
  p->used = ++a->clock;
}

/* Say once why the disk is all data from now on. */
static void
give_up (struct vs_alloc *a, uint64_t from, const struct vs_cbt_page *page)
{
  char why[1024];

  if (page->fault.type)
    snprintf (why, sizeof why, "failed: %s: %s", page->fault.type,
              page->fault.message);
  else
    snprintf (why, sizeof why, "%s", page->untrusted ? page->untrusted
              : "failed (the error is above)");
  nbdkit_debug ("%s: block status of its flat extents is all data from "
                "now on: QueryChangedDiskAreas (changeId *) from offset %"
                PRIu64 " %s", a->query.disk_name, from, why);
  a->failed = true;
}

/* Ask vCenter for the page holding OFFSET, unless another connection
 * just did.  Any failure makes the disk all data from now on: without
 * the allocated areas, block status is what it was without them.
 */
static void
fetch (struct vs_alloc *a, uint64_t offset)
{
  uint64_t from = offset / QUERY_ALIGN * QUERY_ALIGN;
  struct vs_changes areas = { 0 };
  struct vs_cbt_page page;
  bool known;
  int r;

  pthread_mutex_lock (&a->query_lock);
  pthread_mutex_lock (&a->lock);
  known = a->failed || cached (a, offset);
  pthread_mutex_unlock (&a->lock);
  if (known) {
    pthread_mutex_unlock (&a->query_lock);
    return;
  }
  r = vs_cbt_query_page (a->session, &a->query, from, MAX_AREAS, &areas,
                         &page);
  if (r == 0 && page.start + page.length <= offset) {
    r = -1;
    page.untrusted = "held more areas before the offset asked about than "
      "are kept";
  }
  pthread_mutex_lock (&a->lock);
  if (r == 0) {
    nbdkit_debug ("%s: allocated areas from %" PRIu64 " to %" PRIu64
                  ": %" PRIu64 " bytes in %zu areas", a->query.disk_name,
                  page.start, page.start + page.length, areas.bytes,
                  areas.areas.len);
    keep (a, page.start, page.start + page.length, &areas);
  }
  else {
    give_up (a, from, &page);
    vs_changes_free (&areas);
  }
  pthread_mutex_unlock (&a->lock);
  pthread_mutex_unlock (&a->query_lock);
  vs_fault_free (&page.fault);
}

/* Add what the cache knows from OFFSET on, up to END, to EXTENTS, and
 * set *DONE to where that ends (OFFSET when a page must be fetched).
 */
static int
add_known (struct vs_alloc *a, uint64_t offset, uint64_t end,
           struct nbdkit_extents *extents, uint64_t *done)
{
  struct page *p;
  int r = 0;

  pthread_mutex_lock (&a->lock);
  *done = offset;
  if (a->failed) {
    *done = end;
    r = nbdkit_add_extent (extents, offset, end - offset, 0);
  }
  else if ((p = cached (a, offset)) != NULL) {
    *done = p->end < end ? p->end : end;
    r = vs_changes_extents (&p->areas, offset, *done, extents);
  }
  pthread_mutex_unlock (&a->lock);
  return r;
}

int
vs_alloc_extents (void *alloc, uint64_t offset, uint64_t length,
                  struct nbdkit_extents *extents)
{
  struct vs_alloc *a = alloc;
  uint64_t end = offset + length, done;

  while (offset < end) {
    if (add_known (a, offset, end, extents, &done) == -1)
      return -1;
    if (done == offset)
      fetch (a, offset);
    offset = done;
  }
  return 0;
}
