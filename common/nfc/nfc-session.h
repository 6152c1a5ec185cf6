/* An NFC session on a stream already through authd (raw TCP after
 * "ha-nfc", TLS after "ha-nfcssl"): the classic handshake, the AIO
 * session, a disk opened read-only, and reads with several requests in
 * flight.  The stream is a pair of callbacks, so that this layer does
 * no TLS and no socket I/O of its own and is tested over a socketpair.
 * Errors are reported (nbdkit_error), naming the host and what it sent.
 * A session is used by one thread at a time.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef NFC_SESSION_H
#define NFC_SESSION_H

#include <stddef.h>
#include <stdint.h>

struct nfc_stream {
  void *opaque;
  /* Exactly N bytes, or -1 (reported: a timeout, the peer gone). */
  int (*read) (void *opaque, void *buf, size_t n);
  int (*write) (void *opaque, const void *buf, size_t n);
};

struct nfc_session;

/* Handshake on STREAM with HOST (for messages), as client NAME.
 * Returns NULL on failure (reported).
 */
struct nfc_session *nfc_session_start (const struct nfc_stream *stream,
                                       const char *host);

/* Open the disk at datastore path PATH ("[ds] dir/name.vmdk") read-only:
 * the host composes its snapshot chain and decrypts it.  Returns 0, or
 * -1 (reported).
 */
int nfc_session_open_disk (struct nfc_session *s, const char *path);

/* One read of a batch: LENGTH bytes at OFFSET into BUF. */
struct nfc_request {
  void *buf;
  uint64_t offset;
  uint32_t length;
};

/* Send every request of REQS, then take their replies in whatever
 * order the host sends them, each byte written once.  Returns 0 when
 * all are whole, or -1 (reported) at the first error: the session is
 * then unusable, its stream in an unknown state.
 */
#define NFC_BATCH_MAX 16
int nfc_session_read (struct nfc_session *s, struct nfc_request *reqs,
                      size_t n);

/* Close the disk and the session politely (errors ignored), and free
 * S; the stream is the caller's to close.
 */
void nfc_session_end (struct nfc_session *s);

#endif /* NFC_SESSION_H */
