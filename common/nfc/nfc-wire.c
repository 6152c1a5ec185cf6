/* The NFC wire format (nfc-wire.h): fixed layouts written and read
 * byte by byte in little-endian, so that nothing depends on the host's
 * byte order or on struct padding.  A decoder trusts no length it is
 * given: each is checked against what the frame can hold before use.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nfc-bytes.h"
#include "nfc-wire.h"

static int __attribute__ ((format (printf, 2, 3)))
refuse (char *why, const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  vsnprintf (why, NFC_WHY_MAX, fs, args);
  va_end (args);
  return -1;
}

void
nfc_classic_encode (uint8_t out[NFC_CLASSIC_SIZE], uint32_t type,
                    uint32_t value)
{
  memset (out, 0, NFC_CLASSIC_SIZE);
  nfc_put32 (out, type);
  if (type == NFC_CLASSIC_AUTH)
    memcpy (out + 4, "PlainText", 9);
  else if (value)
    nfc_put32 (out + 4, value);
}

size_t
nfc_classic_client_name (uint8_t *out, size_t cap, const char *name,
                         const char *op_id)
{
  size_t n = strlen (name), o = strlen (op_id);

  if (n > NFC_CLASSIC_SIZE || o > NFC_CLASSIC_SIZE ||
      cap < NFC_CLASSIC_SIZE + n + o)
    return 0;
  nfc_classic_encode (out, NFC_CLASSIC_CLIENT_NAME, 0);
  nfc_put32 (out + 4, n);
  nfc_put32 (out + 8, o);
  memcpy (out + NFC_CLASSIC_SIZE, name, n);
  memcpy (out + NFC_CLASSIC_SIZE + n, op_id, o);
  return NFC_CLASSIC_SIZE + n + o;
}

int
nfc_classic_check (const uint8_t in[NFC_CLASSIC_SIZE], uint32_t want,
                   uint32_t *value, char *why)
{
  uint32_t type = nfc_get32 (in);

  if (type != want)
    return refuse (why, "a handshake message of type %" PRIu32
                   " where type %" PRIu32 " was due", type, want);
  if (value)
    *value = nfc_get32 (in + 4);
  return 0;
}

void
nfc_aio_header_encode (uint8_t out[NFC_AIO_HEADER_SIZE], uint32_t type,
                       uint32_t size, uint32_t op_id)
{
  nfc_put32 (out, NFC_AIO_MAGIC);
  nfc_put32 (out + 4, type);
  nfc_put32 (out + 8, size);
  nfc_put32 (out + 12, op_id);
}

int
nfc_aio_header_decode (const uint8_t in[NFC_AIO_HEADER_SIZE],
                       struct nfc_aio_header *h, char *why)
{
  uint32_t magic = nfc_get32 (in);

  if (magic != NFC_AIO_MAGIC)
    return refuse (why, "a frame with magic 0x%08" PRIx32 " (not 0x%08x)",
                   magic, NFC_AIO_MAGIC);
  h->type = nfc_get32 (in + 4);
  h->size = nfc_get32 (in + 8);
  h->op_id = nfc_get32 (in + 12);
  switch (h->type) {
  case NFC_AIO_ERROR: case NFC_AIO_OPEN_SESSION: case NFC_AIO_CLOSE_SESSION:
  case NFC_AIO_OPEN_FILE: case NFC_AIO_CLOSE_FILE: case NFC_AIO_IO:
  case NFC_AIO_SET_SOCK_OPTS: case NFC_AIO_DDB_GET: case NFC_AIO_SET_RES_POOL:
    break;
  default:
    return refuse (why, "a frame of unknown type %" PRIu32 " (opId %" PRIu32
                   ")", h->type, h->op_id);
  }
  if (h->size > NFC_AIO_PAYLOAD_MAX)
    return refuse (why, "a frame of type %" PRIu32 " with a %" PRIu32
                   "-byte payload (at most %d expected)", h->type, h->size,
                   NFC_AIO_PAYLOAD_MAX);
  return 0;
}

size_t
nfc_open_file_encode (uint8_t *out, size_t cap, uint32_t op_id,
                      const char *path)
{
  size_t n = strlen (path);
  size_t len = NFC_AIO_HEADER_SIZE + NFC_OPEN_FILE_PAYLOAD + n;
  uint8_t *p = out + NFC_AIO_HEADER_SIZE;

  if (n > NFC_AIO_PAYLOAD_MAX || cap < len)
    return 0;
  /* The path is extra bytes, not counted in the payload's size. */
  nfc_aio_header_encode (out, NFC_AIO_OPEN_FILE, NFC_OPEN_FILE_PAYLOAD,
                         op_id);
  memset (p, 0, NFC_OPEN_FILE_PAYLOAD);
  nfc_put32 (p, n);
  nfc_put32 (p + 16, 2);            /* a disk, composed by the host */
  nfc_put32 (p + 20, 0x1e);         /* read-only */
  memcpy (p + NFC_OPEN_FILE_PAYLOAD, path, n);
  return len;
}

int
nfc_open_file_reply (const uint8_t *payload, size_t size, uint64_t *handle,
                     uint32_t *sector_size, char *why)
{
  if (size != NFC_OPEN_FILE_PAYLOAD)
    return refuse (why, "an OPEN_FILE reply of %zu bytes (not %d)", size,
                   NFC_OPEN_FILE_PAYLOAD);
  *handle = nfc_get64 (payload + 8);
  *sector_size = nfc_get32 (payload + 36);
  if (*sector_size != 512)
    return refuse (why, "a disk of %" PRIu32 "-byte sectors (not 512)",
                   *sector_size);
  return 0;
}

void
nfc_io_read_encode (uint8_t out[NFC_IO_FRAME], uint32_t op_id,
                    uint64_t handle, uint64_t offset, uint32_t length)
{
  uint8_t *p = out + NFC_AIO_HEADER_SIZE;

  nfc_aio_header_encode (out, NFC_AIO_IO, NFC_IO_PAYLOAD, op_id);
  memset (p, 0, NFC_IO_PAYLOAD);
  nfc_put64 (p, handle);
  nfc_put64 (p + 8, 1);             /* read, uncompressed */
  nfc_put64 (p + 16, offset);
  nfc_put64 (p + 24, length);
  nfc_put32 (p + 32, length);
  nfc_put32 (p + 36, length);
}

void
nfc_close_file_encode (uint8_t out[NFC_CLOSE_FILE_FRAME], uint32_t op_id,
                       uint64_t handle)
{
  nfc_aio_header_encode (out, NFC_AIO_CLOSE_FILE, 8, op_id);
  nfc_put64 (out + NFC_AIO_HEADER_SIZE, handle);
}

int
nfc_fragment_decode (const uint8_t *payload, size_t size,
                     struct nfc_fragment *f, char *why)
{
  if (size != NFC_IO_PAYLOAD)
    return refuse (why, "an IO reply of %zu bytes (not %d)", size,
                   NFC_IO_PAYLOAD);
  f->request_offset = nfc_get64 (payload + 16);
  f->total = nfc_get32 (payload + 24);
  f->fragment_offset = nfc_get32 (payload + 28);
  f->length = nfc_get32 (payload + 32);
  if (nfc_get32 (payload + 36) != f->length)
    return refuse (why, "an IO fragment whose two lengths disagree (%"
                   PRIu32 " and %" PRIu32 ")", f->length,
                   nfc_get32 (payload + 36));
  if (f->length == 0 || f->length > NFC_FRAGMENT_MAX)
    return refuse (why, "an IO fragment of %" PRIu32 " bytes (1 to %d "
                   "expected)", f->length, NFC_FRAGMENT_MAX);
  if (f->fragment_offset > f->total ||
      f->length > f->total - f->fragment_offset)
    return refuse (why, "an IO fragment of %" PRIu32 " bytes at %" PRIu32
                   ", past the end of its %" PRIu32 "-byte request",
                   f->length, f->fragment_offset, f->total);
  return 0;
}

void
nfc_error_text (const uint8_t *payload, size_t size, char *why)
{
  size_t i, n = 0;

  /* The host's words if it sent any, else the bytes themselves. */
  for (i = 0; i < size && n < NFC_WHY_MAX - 1; i++)
    if (payload[i] >= 0x20 && payload[i] < 0x7f)
      why[n++] = payload[i];
    else if (n > 0 && why[n - 1] != ' ')
      why[n++] = ' ';
  while (n > 0 && why[n - 1] == ' ')
    n--;
  why[n] = '\0';
  if (n >= 4)
    return;
  n = snprintf (why, NFC_WHY_MAX, "%zu bytes:", size);
  for (i = 0; i < size && i < 32 && n + 4 < NFC_WHY_MAX; i++)
    n += snprintf (why + n, NFC_WHY_MAX - n, " %02x", payload[i]);
}
