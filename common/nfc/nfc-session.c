/* An NFC session (nfc-session.h): each step sends a frame and checks
 * that the reply is the one due, by type and opId, before anything in
 * it is used.  A read batch keeps one assembly per request, so that
 * fragments may come in any order and interleaved between requests,
 * and writes each fragment straight into the caller's buffer once the
 * assembly has accepted it.  After any error the session is marked
 * broken: what the host sends next can no longer be trusted.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "nfc-read.h"
#include "nfc-session.h"
#include "nfc-wire.h"

/* What we call ourselves in the handshake, and the version we speak:
 * ESXi 8's.
 */
#define CLIENT_NAME "nbdkit-vsphere"
#define CLIENT_OP_ID "nbdmode"
#define CLIENT_VERSION 11
#define CLIENT_FEATURES 3

struct nfc_session {
  struct nfc_stream stream;
  char *host;
  uint32_t next_op;
  uint64_t handle;
  bool disk_open;
  bool broken;
};

static int __attribute__ ((format (printf, 2, 3)))
fail (struct nfc_session *s, const char *fs, ...)
{
  char msg[NFC_WHY_MAX + 128];
  va_list args;

  va_start (args, fs);
  vsnprintf (msg, sizeof msg, fs, args);
  va_end (args);
  nbdkit_error ("NFC host %s: %s", s->host, msg);
  s->broken = true;
  return -1;
}

static int
send_bytes (struct nfc_session *s, const void *buf, size_t n)
{
  if (s->stream.write (s->stream.opaque, buf, n) == -1) {
    s->broken = true;
    return -1;
  }
  return 0;
}

static int
recv_bytes (struct nfc_session *s, void *buf, size_t n)
{
  if (s->stream.read (s->stream.opaque, buf, n) == -1) {
    s->broken = true;
    return -1;
  }
  return 0;
}

static int
send_classic (struct nfc_session *s, uint32_t type, uint32_t value)
{
  uint8_t m[NFC_CLASSIC_SIZE];

  nfc_classic_encode (m, type, value);
  return send_bytes (s, m, sizeof m);
}

/* Receive the classic message of type WANT; *VALUE from offset 4. */
static int
recv_classic (struct nfc_session *s, uint32_t want, uint32_t *value)
{
  uint8_t m[NFC_CLASSIC_SIZE];
  char why[NFC_WHY_MAX];

  if (recv_bytes (s, m, sizeof m) == -1)
    return -1;
  if (nfc_classic_check (m, want, value, why) == -1)
    return fail (s, "%s", why);
  return 0;
}

static int
handshake (struct nfc_session *s)
{
  uint8_t name[NFC_CLASSIC_SIZE + 64];
  size_t len = nfc_classic_client_name (name, sizeof name, CLIENT_NAME,
                                        CLIENT_OP_ID);
  uint32_t version;

  if (send_classic (s, NFC_CLASSIC_AUTH, 0) == -1 ||
      send_classic (s, NFC_CLASSIC_HELLO, 0) == -1 ||
      recv_classic (s, NFC_CLASSIC_HELLO_REPLY, NULL) == -1 ||
      send_classic (s, NFC_CLASSIC_VERSION, CLIENT_VERSION) == -1 ||
      recv_classic (s, NFC_CLASSIC_VERSION, &version) == -1 ||
      send_bytes (s, name, len) == -1 ||
      send_classic (s, NFC_CLASSIC_FEATURES, CLIENT_FEATURES) == -1 ||
      send_classic (s, NFC_CLASSIC_AIO_OPEN, 0) == -1 ||
      recv_classic (s, NFC_CLASSIC_AIO_OPEN, NULL) == -1)
    return -1;
  nbdkit_debug ("NFC host %s: protocol version %" PRIu32, s->host, version);
  return 0;
}

/* Read a frame header from the host, refusing a bad one; an error
 * reply is read whole and reported, saying what WHAT was.
 */
static int
recv_header (struct nfc_session *s, struct nfc_aio_header *h,
             const char *what)
{
  uint8_t in[NFC_AIO_HEADER_SIZE], payload[NFC_AIO_PAYLOAD_MAX];
  char why[NFC_WHY_MAX];

  if (recv_bytes (s, in, sizeof in) == -1)
    return -1;
  if (nfc_aio_header_decode (in, h, why) == -1)
    return fail (s, "sent %s in reply to %s", why, what);
  if (h->type != NFC_AIO_ERROR)
    return 0;
  if (recv_bytes (s, payload, h->size) == -1)
    return -1;
  nfc_error_text (payload, h->size, why);
  return fail (s, "refused %s: %s", what, why);
}

/* Send FRAME (LEN bytes, whose opId is OP) and receive the reply of
 * type TYPE into PAYLOAD, whose size is *SIZE.
 */
static int
exchange (struct nfc_session *s, const uint8_t *frame, size_t len,
          uint32_t op, uint32_t type, const char *what,
          uint8_t payload[NFC_AIO_PAYLOAD_MAX], uint32_t *size)
{
  struct nfc_aio_header h;

  if (send_bytes (s, frame, len) == -1 || recv_header (s, &h, what) == -1)
    return -1;
  if (h.type != type || h.op_id != op)
    return fail (s, "answered %s (opId %" PRIu32 ") with a frame of type %"
                 PRIu32 " for opId %" PRIu32, what, op, h.type, h.op_id);
  if (recv_bytes (s, payload, h.size) == -1)
    return -1;
  *size = h.size;
  return 0;
}

/* A request of TYPE with PAYLOAD of SIZE bytes, its reply discarded. */
static int
simple_request (struct nfc_session *s, uint32_t type, const void *payload,
                uint32_t size, const char *what)
{
  uint8_t frame[NFC_AIO_HEADER_SIZE + 16], reply[NFC_AIO_PAYLOAD_MAX];
  uint32_t op = s->next_op++, reply_size;

  nfc_aio_header_encode (frame, type, size, op);
  memcpy (frame + NFC_AIO_HEADER_SIZE, payload, size);
  return exchange (s, frame, NFC_AIO_HEADER_SIZE + size, op, type, what,
                   reply, &reply_size);
}

struct nfc_session *
nfc_session_start (const struct nfc_stream *stream, const char *host)
{
  static const uint8_t zeros[16], one[4] = { 1 };
  struct nfc_session *s = calloc (1, sizeof *s);

  if (!s || !(s->host = strdup (host))) {
    nbdkit_error ("out of memory");
    free (s);
    return NULL;
  }
  s->stream = *stream;
  s->next_op = 1;
  /* The AIO session's settings, as VDDK sends them. */
  if (handshake (s) == -1 ||
      simple_request (s, NFC_AIO_OPEN_SESSION, zeros, 16,
                      "OPEN_SESSION") == -1 ||
      simple_request (s, NFC_AIO_SET_SOCK_OPTS, zeros, 12,
                      "SET_SOCK_OPTS") == -1 ||
      simple_request (s, NFC_AIO_SET_RES_POOL, one, 4,
                      "SET_RES_POOL") == -1) {
    nfc_session_end (s);
    return NULL;
  }
  return s;
}

int
nfc_session_open_disk (struct nfc_session *s, const char *path)
{
  size_t cap = NFC_AIO_HEADER_SIZE + NFC_OPEN_FILE_PAYLOAD + strlen (path);
  uint8_t *frame = malloc (cap), reply[NFC_AIO_PAYLOAD_MAX];
  uint32_t op = s->next_op++, size, sector;
  char what[NFC_WHY_MAX], why[NFC_WHY_MAX];
  size_t len;
  int r = -1;

  if (!frame) {
    nbdkit_error ("out of memory");
    return -1;
  }
  snprintf (what, sizeof what, "OPEN_FILE of %s", path);
  len = nfc_open_file_encode (frame, cap, op, path);
  if (len == 0)
    fail (s, "the path %s is too long to open", path);
  else if (exchange (s, frame, len, op, NFC_AIO_OPEN_FILE, what, reply,
                     &size) == 0) {
    if (nfc_open_file_reply (reply, size, &s->handle, &sector, why) == -1)
      fail (s, "answered %s with %s", what, why);
    else {
      s->disk_open = true;
      r = 0;
    }
  }
  free (frame);
  return r;
}

/* The request of REQS whose opId is OP (the first is FIRST_OP). */
static struct nfc_read *
pending (struct nfc_read *reads, size_t n, uint32_t first_op, uint32_t op)
{
  return op - first_op < n ? &reads[op - first_op] : NULL;
}

/* Take one IO reply fragment, whose header H was just read. */
static int
take_fragment (struct nfc_session *s, const struct nfc_aio_header *h,
               struct nfc_request *reqs, struct nfc_read *reads, size_t n,
               uint32_t first_op)
{
  struct nfc_read *r = pending (reads, n, first_op, h->op_id);
  uint8_t payload[NFC_AIO_PAYLOAD_MAX];
  char why[NFC_WHY_MAX];
  struct nfc_fragment f;

  if (!r)
    return fail (s, "sent a reply for opId %" PRIu32 ", which was never "
                 "asked for (reads %" PRIu32 " to %" PRIu32 " are due)",
                 h->op_id, first_op, first_op + (uint32_t) n - 1);
  if (h->type != NFC_AIO_IO)
    return fail (s, "answered a read (opId %" PRIu32 ") with a frame of "
                 "type %" PRIu32, h->op_id, h->type);
  if (recv_bytes (s, payload, h->size) == -1)
    return -1;
  if (nfc_fragment_decode (payload, h->size, &f, why) == -1 ||
      nfc_read_add (r, &f, why) == -1)
    return fail (s, "sent %s, for the read of %" PRIu32 " bytes at %"
                 PRIu64, why, r->length, r->offset);
  return recv_bytes (s, (char *) reqs[r - reads].buf + f.fragment_offset,
                     f.length);
}

int
nfc_session_read (struct nfc_session *s, struct nfc_request *reqs, size_t n)
{
  struct nfc_read reads[NFC_BATCH_MAX];
  uint32_t first_op = s->next_op;
  size_t i, done = 0;
  int r = -1;

  if (s->broken || !s->disk_open || n > NFC_BATCH_MAX) {
    nbdkit_error ("NFC host %s: no disk open to read, or too many reads "
                  "at once", s->host);
    return -1;
  }
  for (i = 0; i < n; i++) {
    uint8_t frame[NFC_IO_FRAME];

    nfc_read_init (&reads[i], reqs[i].offset, reqs[i].length);
    nfc_io_read_encode (frame, s->next_op++, s->handle, reqs[i].offset,
                        reqs[i].length);
    if (send_bytes (s, frame, sizeof frame) == -1)
      goto out;
  }
  while (done < n) {
    struct nfc_aio_header h;

    if (recv_header (s, &h, "a read") == -1 ||
        take_fragment (s, &h, reqs, reads, n, first_op) == -1)
      goto out;
    done = 0;
    for (i = 0; i < n; i++)
      done += nfc_read_done (&reads[i]);
  }
  r = 0;

 out:
  for (i = 0; i < n; i++)
    nfc_read_free (&reads[i]);
  return r;
}

void
nfc_session_end (struct nfc_session *s)
{
  static const uint8_t zero[4];
  uint8_t frame[NFC_CLOSE_FILE_FRAME];

  if (!s)
    return;
  /* Without waiting for answers: the caller closes the stream next. */
  if (!s->broken) {
    if (s->disk_open) {
      nfc_close_file_encode (frame, s->next_op++, s->handle);
      send_bytes (s, frame, sizeof frame);
    }
    nfc_aio_header_encode (frame, NFC_AIO_CLOSE_SESSION, 4, s->next_op++);
    memcpy (frame + NFC_AIO_HEADER_SIZE, zero, 4);
    if (send_bytes (s, frame, NFC_AIO_HEADER_SIZE + 4) == 0)
      send_classic (s, NFC_CLASSIC_SESSION_END, 0);
  }
  free (s->host);
  free (s);
}
