/* Little-endian integers in NFC's byte buffers, whatever the host's
 * byte order and alignment.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef NFC_BYTES_H
#define NFC_BYTES_H

#include <stdint.h>

static inline void
nfc_put32 (uint8_t *p, uint32_t v)
{
  p[0] = v;
  p[1] = v >> 8;
  p[2] = v >> 16;
  p[3] = v >> 24;
}

static inline void
nfc_put64 (uint8_t *p, uint64_t v)
{
  nfc_put32 (p, v);
  nfc_put32 (p + 4, v >> 32);
}

static inline uint32_t
nfc_get32 (const uint8_t *p)
{
  return p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
    (uint32_t) p[3] << 24;
}

static inline uint64_t
nfc_get64 (const uint8_t *p)
{
  return nfc_get32 (p) | (uint64_t) nfc_get32 (p + 4) << 32;
}

#endif /* NFC_BYTES_H */
