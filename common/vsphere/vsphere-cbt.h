/* Changed Block Tracking: the areas of a disk that changed between a
 * changeId and a snapshot (QueryChangedDiskAreas, paged to the end).
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_CBT_H
#define VSPHERE_CBT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "changes.h"
#include "vsphere-soap.h"

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

/* One answer of QueryChangedDiskAreas. */
struct vs_cbt_page {
  uint64_t start, length;       /* the part of the disk it covers */
  struct vs_fault fault;        /* vCenter's fault, if it sent one */
  const char *untrusted;        /* why the answer cannot be trusted */
};

/* Whether fault F is vCenter refusing the query's changeId (unknown,
 * or no longer valid), rather than failing otherwise.
 */
bool vs_cbt_fault_refuses_change_id (const struct vs_fault *f);

/* Ask for the one page of Q that starts at OFFSET and append its areas
 * to OUT.  With MAX_AREAS not 0, a page that would leave OUT holding
 * more areas is cut short after the last one kept, so that memory stays
 * bounded whatever the answer.  Returns -1 with PAGE->fault or
 * PAGE->untrusted set (not reported; free the fault), or with neither
 * (a transport error or out of memory, reported).
 */
int vs_cbt_query_page (struct vs_session *s, const struct vs_cbt_query *q,
                       uint64_t offset, size_t max_areas,
                       struct vs_changes *out, struct vs_cbt_page *page);

#endif /* VSPHERE_CBT_H */
