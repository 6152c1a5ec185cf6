/* Changed Block Tracking queries: QueryChangedDiskAreas, a page at a
 * time or paged to the end of the disk, its answers checked before
 * they are trusted.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <inttypes.h>

#include <nbdkit-plugin.h>

#include "vsphere-cbt.h"
#include "vsphere-xml.h"

bool
vs_cbt_fault_refuses_change_id (const struct vs_fault *f)
{
  return f->type && (strcmp (f->type, "FileFault") == 0 ||
                     strcmp (f->type, "InvalidArgument") == 0);
}

static void
explain_fault (struct vs_session *s, const struct vs_cbt_query *q,
               const struct vs_fault *f)
{
  if (vs_cbt_fault_refuses_change_id (f))
    nbdkit_error ("%s: %s refused cbt-changeid=%s (%s: %s): the "
                  "changeId is unknown or no longer valid (CBT was reset, "
                  "or it comes from another disk); a full copy is needed: "
                  "use cbt-changeid=*", q->disk_name,
                  vs_session_product (s),
                  q->change_id, f->type, f->message);
  else
    nbdkit_error ("%s: QueryChangedDiskAreas failed: %s: %s",
                  q->disk_name, f->type, f->message);
}

/* Add one page's areas, at most MAX_AREAS in OUT (0: no limit); a page
 * with more is cut short after the last area kept.
 */
static int
add_page (xmlNodePtr rv, size_t max_areas, struct vs_changes *out,
          struct vs_cbt_page *page)
{
  xmlNodePtr a;
  uint64_t last_end = page->start;

  for (a = vs_xml_child (rv, "changedArea"); a; a = vs_xml_next_same (a)) {
    int64_t start, length;

    if (max_areas > 0 && out->areas.len >= max_areas && last_end > page->start) {
      page->length = last_end - page->start;
      break;
    }
    if (vs_xml_child_int64 (a, "start", &start) == -1 ||
        vs_xml_child_int64 (a, "length", &length) == -1 ||
        start < 0 || length <= 0 ||
        (uint64_t) start < last_end ||
        (uint64_t) start + length > page->start + page->length) {
      page->untrusted = "returned an area outside its page, overlapping or "
        "out of order";
      return -1;
    }
    if (vs_changes_add (out, start, length) == -1)
      return -1;
    last_end = start + length;
  }
  return 0;
}

int
vs_cbt_query_page (struct vs_session *s, const struct vs_cbt_query *q,
                   uint64_t offset, size_t max_areas, struct vs_changes *out,
                   struct vs_cbt_page *page)
{
  char *cid = vs_xml_escape (q->change_id);
  char *snap = vs_xml_escape (q->snapshot_ref);
  char *args = NULL;
  xmlDocPtr doc = NULL;
  xmlNodePtr rv;
  int64_t start, length;
  int r = -1;

  memset (page, 0, sizeof *page);
  if (!cid || !snap ||
      asprintf (&args, "<snapshot type=\"VirtualMachineSnapshot\">%s"
                "</snapshot><deviceKey>%d</deviceKey>"
                "<startOffset>%" PRIu64 "</startOffset>"
                "<changeId>%s</changeId>",
                snap, q->device_key, offset, cid) == -1) {
    args = NULL;
    nbdkit_error ("out of memory");
    goto out;
  }
  doc = vs_soap_call (s, "QueryChangedDiskAreas", "VirtualMachine",
                      q->vm_ref, args, &page->fault);
  if (!doc)
    goto out;
  rv = vs_xml_child (vs_soap_result (doc), "returnval");
  if (vs_xml_child_int64 (rv, "startOffset", &start) == -1 ||
      vs_xml_child_int64 (rv, "length", &length) == -1 ||
      (uint64_t) start != offset || length <= 0 ||
      (uint64_t) length > q->capacity - offset) {
    page->untrusted = "answered a page that does not start at the offset "
      "asked for or runs past the end of the disk";
    goto out;
  }
  page->start = start;
  page->length = length;
  r = add_page (rv, max_areas, out, page);

 out:
  xmlFreeDoc (doc);
  free (args);
  free (cid);
  free (snap);
  return r;
}

int
vs_cbt_query (struct vs_session *s, const struct vs_cbt_query *q,
              struct vs_changes *out)
{
  uint64_t offset = 0;
  unsigned pages = 0;
  /* Each page advances, but a server could make them tiny. */
  time_t deadline = time (NULL) + vs_server_task_timeout (vs_session_server (s));

  memset (out, 0, sizeof *out);
  while (offset < q->capacity) {
    struct vs_cbt_page page;

    if (vs_cbt_query_page (s, q, offset, 0, out, &page) == -1) {
      if (page.fault.type)
        explain_fault (s, q, &page.fault);
      else if (page.untrusted)
        nbdkit_error ("%s: QueryChangedDiskAreas %s (offset %" PRIu64
                      " of the %" PRIu64 "-byte disk); refusing to trust "
                      "it", q->disk_name, page.untrusted, offset,
                      q->capacity);
      vs_fault_free (&page.fault);
      goto fail;
    }
    offset += page.length;
    pages++;
    if (offset < q->capacity && time (NULL) > deadline) {
      nbdkit_error ("%s: QueryChangedDiskAreas covered only %" PRIu64 " of "
                    "%" PRIu64 " bytes in %u pages within task-timeout=; "
                    "refusing to wait longer", q->disk_name, offset,
                    q->capacity, pages);
      goto fail;
    }
  }
  nbdkit_debug ("%s: %" PRIu64 " changed bytes in %zu areas since %s "
                "(%u pages)", q->disk_name, out->bytes, out->areas.len,
                q->change_id, pages);
  return 0;

 fail:
  vs_changes_free (out);
  return -1;
}
