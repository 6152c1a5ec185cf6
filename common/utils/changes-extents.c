/* The changed-areas set as nbdkit block status: apart from changes.c
 * so that programs other than nbdkit modules link no nbdkit_add_extent.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdint.h>

#include <nbdkit-plugin.h>

#include "changes.h"

int
vs_changes_extents (const struct vs_changes *c, uint64_t offset,
                    uint64_t end, struct nbdkit_extents *extents)
{
  size_t i = vs_changes_find (c, offset);

  while (offset < end) {
    const struct vs_area *a = i < c->areas.len ? &c->areas.ptr[i] : NULL;
    uint64_t n;
    uint32_t type;

    if (a && offset >= a->start) {
      n = a->start + a->length - offset;
      type = 0;
      i++;
    }
    else {
      n = (a ? a->start : end) - offset;
      type = NBDKIT_EXTENT_HOLE | NBDKIT_EXTENT_ZERO;
    }
    if (n > end - offset)
      n = end - offset;
    if (nbdkit_add_extent (extents, offset, n, type) == -1)
      return -1;
    offset += n;
  }
  return 0;
}
