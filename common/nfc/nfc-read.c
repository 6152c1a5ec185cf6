/* Assembling an IO reply (nfc-read.h).  The spans received are kept
 * sorted and merged, so a sequential reply holds one span and an
 * out-of-order one a few; a new fragment is checked against its
 * neighbours only.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "nfc-read.h"

void
nfc_read_init (struct nfc_read *r, uint64_t offset, uint32_t length)
{
  memset (r, 0, sizeof *r);
  r->offset = offset;
  r->length = length;
}

void
nfc_read_free (struct nfc_read *r)
{
  nfc_spans_reset (&r->spans);
}

int
nfc_read_add (struct nfc_read *r, const struct nfc_fragment *f, char *why)
{
  struct nfc_span *s = r->spans.ptr;
  uint32_t start = f->fragment_offset, end = start + f->length;
  size_t i, n = r->spans.len;

  if (f->request_offset != r->offset || f->total != r->length) {
    snprintf (why, NFC_WHY_MAX, "an IO fragment of a %" PRIu32 "-byte "
              "request at %" PRIu64 " in reply to one of %" PRIu32
              " bytes at %" PRIu64, f->total, f->request_offset,
              r->length, r->offset);
    return -1;
  }
  /* I: the first span that starts at or after START. */
  for (i = n; i > 0 && s[i - 1].start >= start; i--)
    ;
  if ((i > 0 && s[i - 1].end > start) || (i < n && s[i].start < end)) {
    snprintf (why, NFC_WHY_MAX, "an IO fragment of bytes %" PRIu32 " to %"
              PRIu32 " of the request, some of which came before", start,
              end);
    return -1;
  }
  r->received += f->length;
  if (i > 0 && s[i - 1].end == start) {
    s[i - 1].end = end;
    /* It may now touch the next span too. */
    if (i < n && s[i].start == end) {
      s[i - 1].end = s[i].end;
      memmove (&s[i], &s[i + 1], (n - i - 1) * sizeof *s);
      r->spans.len--;
    }
    return 0;
  }
  if (i < n && s[i].start == end) {
    s[i].start = start;
    return 0;
  }
  if (nfc_spans_reserve (&r->spans, 1) == -1) {
    r->received -= f->length;
    snprintf (why, NFC_WHY_MAX, "out of memory");
    return -1;
  }
  s = r->spans.ptr;
  memmove (&s[i + 1], &s[i], (n - i) * sizeof *s);
  s[i] = (struct nfc_span) { start, end };
  r->spans.len++;
  return 0;
}
