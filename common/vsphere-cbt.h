/* Changed Block Tracking: the areas of a disk that changed between a
 * changeId and a snapshot (QueryChangedDiskAreas, paged to the end).
 */
#ifndef VSPHERE_CBT_H
#define VSPHERE_CBT_H

#include <stddef.h>
#include <stdint.h>

#include "vsphere-soap.h"

struct vs_area {
  uint64_t start, length;
};

/* Sorted, non-overlapping, adjacent areas merged. */
struct vs_changes {
  struct vs_area *area;
  size_t n;
  uint64_t bytes;               /* sum of lengths */
};

struct vs_cbt_query {
  const char *vm_ref;
  const char *snapshot_ref;
  int device_key;
  uint64_t capacity;
  const char *change_id;        /* or "*" for the allocated areas */
  const char *disk_name;        /* for messages */
};

/* Ask vCenter page by page until the whole disk is covered.  Refuses
 * answers that do not tile the disk exactly.  Errors are reported.
 */
int vs_cbt_query (struct vs_session *s, const struct vs_cbt_query *q,
                  struct vs_changes *out);

/* Widen every area to ALIGN boundaries (clipped to SIZE), merging
 * areas that then touch.  CBT may over-report but never under-report,
 * so this stays correct while making every extent whole blocks.
 */
void vs_changes_align (struct vs_changes *c, uint64_t align, uint64_t size);

void vs_changes_free (struct vs_changes *c);

/* OUT: the areas of BELOW before AT, then those of ABOVE from AT on.
 * Returns 0, or -1 (reported).
 */
int vs_changes_splice (const struct vs_changes *below,
                       const struct vs_changes *above, uint64_t at,
                       struct vs_changes *out);

/* Index of the first area ending after OFFSET (c->n if none). */
size_t vs_changes_find (const struct vs_changes *c, uint64_t offset);

/* The "<uuid>" part of "<uuid>/<sequence>", as its length, or 0 if
 * CHANGE_ID is not of that form.
 */
size_t vs_change_id_uuid_len (const char *change_id);

#endif /* VSPHERE_CBT_H */
