/* One IO read request's reply, assembled from its fragments: they come
 * in any order, and each must fall inside the request and cover bytes
 * no other fragment covered, so that every byte of the request is
 * written exactly once before it counts as answered.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef NFC_READ_H
#define NFC_READ_H

#include <stdbool.h>
#include <stdint.h>

#include "nfc-wire.h"
#include "vector.h"

struct nfc_span {
  uint32_t start, end;          /* [start, end) within the request */
};
DEFINE_VECTOR (nfc_spans, struct nfc_span)

struct nfc_read {
  uint64_t offset;              /* of the request, in bytes */
  uint32_t length;
  uint32_t received;
  struct nfc_spans spans;       /* sorted, adjacent ones merged */
};

void nfc_read_init (struct nfc_read *r, uint64_t offset, uint32_t length);
void nfc_read_free (struct nfc_read *r);

/* Take fragment F of R's reply: its bytes then go at F->fragment_offset
 * of the request's buffer.  Returns 0, or -1 with WHY if F is not of
 * this request (another offset or length), overlaps bytes already
 * received, or memory ran out.
 */
int nfc_read_add (struct nfc_read *r, const struct nfc_fragment *f,
                  char *why);

/* Whether every byte of R was received. */
static inline bool
nfc_read_done (const struct nfc_read *r)
{
  return r->received == r->length;
}

#endif /* NFC_READ_H */
