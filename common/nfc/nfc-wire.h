/* VMware's NFC wire format (TCP 902, as VDDK's nbd and nbdssl
 * transports speak it): the fixed-size classic messages of the
 * handshake, the AIO frames that follow, and the payloads of the
 * requests a reader sends (OPEN_FILE, IO read, CLOSE_FILE) and of the
 * replies it gets.  Encoding and decoding only, no I/O: what is wrong
 * with a peer's bytes is said in WHY (a buffer of NFC_WHY_MAX bytes),
 * for the caller to report with the host's name.  All integers are
 * little-endian.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef NFC_WIRE_H
#define NFC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NFC_WHY_MAX 256

/* Classic messages: 264 bytes, the type in the first four. */
#define NFC_CLASSIC_SIZE 264
enum nfc_classic_type {
  NFC_CLASSIC_SESSION_END = 4,
  NFC_CLASSIC_HELLO = 33,       /* client, zeros */
  NFC_CLASSIC_HELLO_REPLY = 36, /* server, 1 at offset 16 */
  NFC_CLASSIC_AUTH = 43,        /* client, "PlainText" at offset 4 */
  NFC_CLASSIC_VERSION = 51,     /* both, the version at offset 4 */
  NFC_CLASSIC_AIO_OPEN = 52,    /* both: the AIO session starts */
  NFC_CLASSIC_CLIENT_NAME = 54, /* client, then the two strings */
  NFC_CLASSIC_FEATURES = 55,    /* client, 3 at offset 4 */
};

/* A classic message of TYPE into OUT, zero-padded, with VALUE (if not
 * 0) at offset 4; NFC_CLASSIC_AUTH carries "PlainText" there instead.
 */
void nfc_classic_encode (uint8_t out[NFC_CLASSIC_SIZE], uint32_t type,
                         uint32_t value);

/* The client's name message: the classic header giving the lengths of
 * NAME and OP_ID, then both, without NULs.  Returns its length, or 0
 * if CAP is too small.
 */
size_t nfc_classic_client_name (uint8_t *out, size_t cap, const char *name,
                                const char *op_id);

/* Check that IN is a classic message of type WANT.  Sets *VALUE (if
 * not NULL) to the uint32 at offset 4.  Returns 0, or -1 with WHY.
 */
int nfc_classic_check (const uint8_t in[NFC_CLASSIC_SIZE], uint32_t want,
                       uint32_t *value, char *why);

/* AIO frames: a 16-byte header, SIZE payload bytes, then for some
 * types data not counted in SIZE (an IO reply fragment's bytes).
 */
#define NFC_AIO_MAGIC 0xA100DA7A
#define NFC_AIO_HEADER_SIZE 16
enum nfc_aio_type {
  NFC_AIO_ERROR = 1,
  NFC_AIO_OPEN_SESSION = 2,
  NFC_AIO_CLOSE_SESSION = 3,
  NFC_AIO_OPEN_FILE = 4,
  NFC_AIO_CLOSE_FILE = 5,
  NFC_AIO_IO = 7,
  NFC_AIO_SET_SOCK_OPTS = 9,
  NFC_AIO_DDB_GET = 11,
  NFC_AIO_SET_RES_POOL = 22,
};

struct nfc_aio_header {
  uint32_t type;
  uint32_t size;                /* payload bytes that follow */
  uint32_t op_id;
};

/* Payloads far larger than any reply a reader expects are refused, so
 * that a hostile host cannot make one allocate without bound.
 */
#define NFC_AIO_PAYLOAD_MAX 4096

void nfc_aio_header_encode (uint8_t out[NFC_AIO_HEADER_SIZE], uint32_t type,
                            uint32_t size, uint32_t op_id);

/* Decode a header: the magic must be right, the type one a reader is
 * sent, the payload within NFC_AIO_PAYLOAD_MAX.  Returns 0, or -1 with
 * WHY.
 */
int nfc_aio_header_decode (const uint8_t in[NFC_AIO_HEADER_SIZE],
                           struct nfc_aio_header *h, char *why);

/* OPEN_FILE of PATH ("[ds] dir/name.vmdk") as a disk, read-only: the
 * whole frame (header, 60-byte payload, PATH without its NUL).
 * Returns its length, or 0 if CAP is too small or PATH too long.
 */
#define NFC_OPEN_FILE_PAYLOAD 60
size_t nfc_open_file_encode (uint8_t *out, size_t cap, uint32_t op_id,
                             const char *path);

/* The reply's payload: the file handle and the sector size (512).
 * Returns 0, or -1 with WHY.
 */
int nfc_open_file_reply (const uint8_t *payload, size_t size,
                         uint64_t *handle, uint32_t *sector_size, char *why);

/* IO read of LENGTH bytes at OFFSET of HANDLE: the whole frame. */
#define NFC_IO_PAYLOAD 44
#define NFC_IO_FRAME (NFC_AIO_HEADER_SIZE + NFC_IO_PAYLOAD)
void nfc_io_read_encode (uint8_t out[NFC_IO_FRAME], uint32_t op_id,
                         uint64_t handle, uint64_t offset, uint32_t length);

/* CLOSE_FILE of HANDLE: the whole frame. */
#define NFC_CLOSE_FILE_FRAME (NFC_AIO_HEADER_SIZE + 8)
void nfc_close_file_encode (uint8_t out[NFC_CLOSE_FILE_FRAME], uint32_t op_id,
                            uint64_t handle);

/* One fragment of an IO reply: LENGTH bytes (at most 64 KiB) that go
 * at FRAGMENT_OFFSET of the request of TOTAL bytes at REQUEST_OFFSET.
 */
#define NFC_FRAGMENT_MAX 65536
struct nfc_fragment {
  uint64_t request_offset;
  uint32_t total;
  uint32_t fragment_offset;
  uint32_t length;
};

/* Decode an IO reply's payload, of SIZE bytes.  Returns 0, or -1 with
 * WHY (a payload of the wrong size, lengths that disagree, a fragment
 * larger than 64 KiB or past the end of its request).
 */
int nfc_fragment_decode (const uint8_t *payload, size_t size,
                         struct nfc_fragment *f, char *why);

/* An error reply's payload as text for a message, into WHY. */
void nfc_error_text (const uint8_t *payload, size_t size, char *why);

#endif /* NFC_WIRE_H */
