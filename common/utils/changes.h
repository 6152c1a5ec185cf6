/* The areas of a disk that changed (or are allocated), as Changed Block
 * Tracking reports them, and the changeIds that name points of a
 * disk's CBT history.  Pure data: asking vSphere for them is
 * common/vsphere/vsphere-cbt.c's job.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VS_CHANGES_H
#define VS_CHANGES_H

#include <stddef.h>
#include <stdint.h>

#include "vector.h"

struct vs_area {
  uint64_t start, length;
};
DEFINE_VECTOR (vs_areas, struct vs_area)

/* Sorted, non-overlapping, adjacent areas merged.  Zeroed: empty. */
struct vs_changes {
  struct vs_areas areas;
  uint64_t bytes;               /* sum of lengths */
};

/* Add [START, START + LENGTH), which must not begin before the end of
 * the last area.  Returns 0, or -1 (reported).
 */
int vs_changes_add (struct vs_changes *c, uint64_t start, uint64_t length);

/* Widen every area to ALIGN boundaries (clipped to SIZE), merging
 * areas that then touch.  CBT may over-report but never under-report,
 * so this stays correct while making every extent whole blocks.
 */
void vs_changes_align (struct vs_changes *c, uint64_t align, uint64_t size);

/* OUT: the areas of BELOW before AT, then those of ABOVE from AT on.
 * Returns 0, or -1 (reported).
 */
int vs_changes_splice (const struct vs_changes *below,
                       const struct vs_changes *above, uint64_t at,
                       struct vs_changes *out);

/* Index of the first area ending after OFFSET (areas.len if none). */
size_t vs_changes_find (const struct vs_changes *c, uint64_t offset);

void vs_changes_free (struct vs_changes *c);

/* Block status of [OFFSET, END): the areas of C are data, the rest
 * holes that read as zeros.  For nbdkit modules (changes-extents.c).
 */
struct nbdkit_extents;
int vs_changes_extents (const struct vs_changes *c, uint64_t offset,
                        uint64_t end, struct nbdkit_extents *extents);

/* The "<uuid>" part of changeId "<uuid>/<sequence>", as its length, or
 * 0 if CHANGE_ID is not of that form.  Two changeIds with different
 * uuids belong to different CBT histories.
 */
size_t vs_change_id_uuid_len (const char *change_id);

#endif /* VS_CHANGES_H */
