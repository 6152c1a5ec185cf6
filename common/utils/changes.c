/* The changed-areas set: building, aligning, splicing and searching
 * the sorted areas of a disk (changes.h).
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "changes.h"

int
vs_changes_add (struct vs_changes *c, uint64_t start, uint64_t length)
{
  struct vs_area *last = c->areas.len ? &c->areas.ptr[c->areas.len - 1]
    : NULL;

  if (last && last->start + last->length == start)
    last->length += length;
  else if (vs_areas_append (&c->areas,
                            (struct vs_area) { start, length }) == -1) {
    nbdkit_error ("realloc: out of memory");
    return -1;
  }
  c->bytes += length;
  return 0;
}

void
vs_changes_align (struct vs_changes *c, uint64_t align, uint64_t size)
{
  struct vs_area *a = c->areas.ptr;
  size_t i, n = 0;

  c->bytes = 0;
  for (i = 0; i < c->areas.len; i++) {
    uint64_t start = a[i].start / align * align;
    uint64_t end = a[i].start + a[i].length;

    end = (end + align - 1) / align * align;
    if (end > size)
      end = size;
    if (n > 0 && a[n - 1].start + a[n - 1].length >= start) {
      if (end > a[n - 1].start + a[n - 1].length)
        a[n - 1].length = end - a[n - 1].start;
      continue;
    }
    a[n].start = start;
    a[n].length = end - start;
    n++;
  }
  c->areas.len = n;
  for (i = 0; i < n; i++)
    c->bytes += a[i].length;
}

int
vs_changes_splice (const struct vs_changes *below,
                   const struct vs_changes *above, uint64_t at,
                   struct vs_changes *out)
{
  const struct vs_area *a;
  size_t i;

  memset (out, 0, sizeof *out);
  for (i = 0; i < below->areas.len && below->areas.ptr[i].start < at; i++) {
    uint64_t end;

    a = &below->areas.ptr[i];
    end = a->start + a->length;
    if (vs_changes_add (out, a->start, (end < at ? end : at) - a->start) == -1)
      goto fail;
  }
  for (i = vs_changes_find (above, at); i < above->areas.len; i++) {
    uint64_t start;

    a = &above->areas.ptr[i];
    start = a->start > at ? a->start : at;
    if (vs_changes_add (out, start, a->start + a->length - start) == -1)
      goto fail;
  }
  return 0;

 fail:
  vs_changes_free (out);
  return -1;
}

size_t
vs_changes_find (const struct vs_changes *c, uint64_t offset)
{
  size_t lo = 0, hi = c->areas.len;

  while (lo < hi) {
    size_t mid = (lo + hi) / 2;

    if (c->areas.ptr[mid].start + c->areas.ptr[mid].length <= offset)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

void
vs_changes_free (struct vs_changes *c)
{
  vs_areas_reset (&c->areas);
  c->bytes = 0;
}

size_t
vs_change_id_uuid_len (const char *change_id)
{
  const char *slash = strrchr (change_id, '/');

  return slash && slash > change_id && slash[1] ? (size_t) (slash - change_id)
    : 0;
}
