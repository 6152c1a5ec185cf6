/* libFuzzer target: what an NFC host sends a reader, as a stream of AIO
 * frames answering one 256 KiB read: headers, IO reply fragments (their
 * data copied where they say), OPEN_FILE and error replies.  Each
 * fragment's bytes must land inside the request's buffer, which ASan
 * checks.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nfc-read.h"
#include "nfc-wire.h"

#define REQUEST (256 * 1024)

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static uint8_t buf[REQUEST];
  char why[NFC_WHY_MAX];
  struct nfc_read r;
  size_t at = 0;

  nfc_read_init (&r, 1 << 20, REQUEST);
  while (!nfc_read_done (&r) && size - at >= NFC_AIO_HEADER_SIZE) {
    struct nfc_aio_header h;
    struct nfc_fragment f;
    const uint8_t *payload;
    uint64_t handle;
    uint32_t sector;

    if (nfc_aio_header_decode (data + at, &h, why) == -1)
      break;
    at += NFC_AIO_HEADER_SIZE;
    if (size - at < h.size)
      break;
    payload = data + at;
    at += h.size;
    if (h.type == NFC_AIO_ERROR)
      nfc_error_text (payload, h.size, why);
    else if (h.type == NFC_AIO_OPEN_FILE)
      nfc_open_file_reply (payload, h.size, &handle, &sector, why);
    else if (h.type == NFC_AIO_IO) {
      if (nfc_fragment_decode (payload, h.size, &f, why) == -1 ||
          size - at < f.length ||
          nfc_read_add (&r, &f, why) == -1)
        break;
      memcpy (buf + f.fragment_offset, data + at, f.length);
      at += f.length;
    }
  }
  nfc_read_free (&r);
  return 0;
}
