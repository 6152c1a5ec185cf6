/* Unit tests of common/nfc: the layouts written byte for byte as the
 * wire notes give them (REFERENCE §9), every refusal of a peer's bad
 * bytes, and the assembly of out-of-order fragments.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include "nfc-bytes.h"
#include "nfc-read.h"
#include "nfc-wire.h"
#include "unit-test.h"

static void
test_classic (void)
{
  uint8_t m[NFC_CLASSIC_SIZE], buf[NFC_CLASSIC_SIZE + 16];
  char why[NFC_WHY_MAX];
  uint32_t v;
  size_t i;

  nfc_classic_encode (m, NFC_CLASSIC_AUTH, 0);
  CU_ASSERT_EQUAL (nfc_get32 (m), 43);
  CU_ASSERT (memcmp (m + 4, "PlainText", 9) == 0);
  for (i = 13; i < NFC_CLASSIC_SIZE; i++)
    CU_ASSERT_EQUAL_FATAL (m[i], 0);
  nfc_classic_encode (m, NFC_CLASSIC_VERSION, 11);
  CU_ASSERT_EQUAL (nfc_get32 (m + 4), 11);
  CU_ASSERT_EQUAL (nfc_classic_check (m, NFC_CLASSIC_VERSION, &v, why), 0);
  CU_ASSERT_EQUAL (v, 11);
  CU_ASSERT_EQUAL (nfc_classic_check (m, NFC_CLASSIC_AIO_OPEN, NULL, why), -1);
  CU_ASSERT_STRING_EQUAL (why, "a handshake message of type 51 where type "
                          "52 was due");

  CU_ASSERT_EQUAL (nfc_classic_client_name (buf, sizeof buf, "vddk",
                                            "nbdmode"), NFC_CLASSIC_SIZE + 11);
  CU_ASSERT_EQUAL (nfc_get32 (buf), 54);
  CU_ASSERT_EQUAL (nfc_get32 (buf + 4), 4);
  CU_ASSERT_EQUAL (nfc_get32 (buf + 8), 7);
  CU_ASSERT (memcmp (buf + NFC_CLASSIC_SIZE, "vddknbdmode", 11) == 0);
  CU_ASSERT_EQUAL (nfc_classic_client_name (buf, NFC_CLASSIC_SIZE + 10,
                                            "vddk", "nbdmode"), 0);
}

static void
test_headers (void)
{
  uint8_t h[NFC_AIO_HEADER_SIZE];
  struct nfc_aio_header d;
  char why[NFC_WHY_MAX];

  nfc_aio_header_encode (h, NFC_AIO_IO, 44, 7);
  CU_ASSERT_EQUAL (nfc_get32 (h), 0xA100DA7A);
  CU_ASSERT_EQUAL (nfc_aio_header_decode (h, &d, why), 0);
  CU_ASSERT (d.type == NFC_AIO_IO && d.size == 44 && d.op_id == 7);

  h[0] ^= 1;
  CU_ASSERT_EQUAL (nfc_aio_header_decode (h, &d, why), -1);
  CU_ASSERT_STRING_EQUAL (why, "a frame with magic 0xa100da7b (not "
                          "0xa100da7a)");
  nfc_aio_header_encode (h, 99, 0, 3);
  CU_ASSERT_EQUAL (nfc_aio_header_decode (h, &d, why), -1);
  CU_ASSERT_STRING_EQUAL (why, "a frame of unknown type 99 (opId 3)");
  nfc_aio_header_encode (h, NFC_AIO_ERROR, NFC_AIO_PAYLOAD_MAX + 1, 3);
  CU_ASSERT_EQUAL (nfc_aio_header_decode (h, &d, why), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (why, "4097-byte payload"));
}

static void
test_open_file (void)
{
  const char *path = "[ds1] web01/web01-000002.vmdk";
  uint8_t f[256], reply[NFC_OPEN_FILE_PAYLOAD] = { 0 };
  size_t n = strlen (path), len;
  char why[NFC_WHY_MAX];
  uint64_t handle;
  uint32_t sector;

  len = nfc_open_file_encode (f, sizeof f, 5, path);
  CU_ASSERT_EQUAL_FATAL (len, 16 + 60 + n);
  CU_ASSERT_EQUAL (nfc_get32 (f + 4), NFC_AIO_OPEN_FILE);
  CU_ASSERT_EQUAL (nfc_get32 (f + 8), 60);
  CU_ASSERT_EQUAL (nfc_get32 (f + 12), 5);
  CU_ASSERT_EQUAL (nfc_get32 (f + 16), n);
  CU_ASSERT_EQUAL (nfc_get32 (f + 16 + 16), 2);
  CU_ASSERT_EQUAL (nfc_get32 (f + 16 + 20), 0x1e);
  CU_ASSERT (memcmp (f + 76, path, n) == 0);
  CU_ASSERT_EQUAL (nfc_open_file_encode (f, len - 1, 5, path), 0);

  reply[8] = 0x34;
  reply[15] = 0x12;
  reply[36] = 0x00;
  reply[37] = 0x02;
  CU_ASSERT_EQUAL (nfc_open_file_reply (reply, sizeof reply, &handle,
                                        &sector, why), 0);
  CU_ASSERT_EQUAL (handle, UINT64_C (0x1200000000000034));
  CU_ASSERT_EQUAL (sector, 512);
  reply[37] = 0x10;
  CU_ASSERT_EQUAL (nfc_open_file_reply (reply, sizeof reply, &handle,
                                        &sector, why), -1);
  CU_ASSERT_STRING_EQUAL (why, "a disk of 4096-byte sectors (not 512)");
  CU_ASSERT_EQUAL (nfc_open_file_reply (reply, 16, &handle, &sector, why),
                   -1);
}

static void
test_io (void)
{
  uint8_t f[NFC_IO_FRAME], c[NFC_CLOSE_FILE_FRAME];

  nfc_io_read_encode (f, 9, 0xabcdef, UINT64_C (5) << 32, 1048576);
  CU_ASSERT_EQUAL (nfc_get32 (f + 4), NFC_AIO_IO);
  CU_ASSERT_EQUAL (nfc_get32 (f + 8), 44);
  CU_ASSERT_EQUAL (nfc_get64 (f + 16), 0xabcdef);
  CU_ASSERT_EQUAL (nfc_get64 (f + 24), 1);
  CU_ASSERT_EQUAL (nfc_get64 (f + 32), UINT64_C (5) << 32);
  CU_ASSERT_EQUAL (nfc_get64 (f + 40), 1048576);
  CU_ASSERT_EQUAL (nfc_get32 (f + 48), 1048576);
  CU_ASSERT_EQUAL (nfc_get32 (f + 52), 1048576);
  CU_ASSERT_EQUAL (nfc_get32 (f + 56), 0);
  nfc_close_file_encode (c, 10, 0xabcdef);
  CU_ASSERT_EQUAL (nfc_get32 (c + 4), NFC_AIO_CLOSE_FILE);
  CU_ASSERT_EQUAL (nfc_get32 (c + 8), 8);
  CU_ASSERT_EQUAL (nfc_get64 (c + 16), 0xabcdef);
}

/* A fragment's payload, as a host sends it. */
static void
fragment (uint8_t p[NFC_IO_PAYLOAD], uint64_t request, uint32_t total,
          uint32_t at, uint32_t len, uint32_t len2)
{
  size_t i;

  memset (p, 0, NFC_IO_PAYLOAD);
  p[8] = 1;
  for (i = 0; i < 8; i++)
    p[16 + i] = request >> (8 * i);
  for (i = 0; i < 4; i++) {
    p[24 + i] = total >> (8 * i);
    p[28 + i] = at >> (8 * i);
    p[32 + i] = len >> (8 * i);
    p[36 + i] = len2 >> (8 * i);
  }
}

static void
test_fragments (void)
{
  uint8_t p[NFC_IO_PAYLOAD];
  struct nfc_fragment f;
  char why[NFC_WHY_MAX];

  fragment (p, 4096, 131072, 65536, 65536, 65536);
  CU_ASSERT_EQUAL (nfc_fragment_decode (p, sizeof p, &f, why), 0);
  CU_ASSERT (f.request_offset == 4096 && f.total == 131072 &&
             f.fragment_offset == 65536 && f.length == 65536);
  CU_ASSERT_EQUAL (nfc_fragment_decode (p, sizeof p - 1, &f, why), -1);
  fragment (p, 0, 131072, 0, 65536, 65535);
  CU_ASSERT_EQUAL (nfc_fragment_decode (p, sizeof p, &f, why), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (why, "lengths disagree"));
  fragment (p, 0, 262144, 0, 65537, 65537);
  CU_ASSERT_EQUAL (nfc_fragment_decode (p, sizeof p, &f, why), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (why, "65537 bytes"));
  fragment (p, 0, 0, 0, 0, 0);
  CU_ASSERT_EQUAL (nfc_fragment_decode (p, sizeof p, &f, why), -1);
  /* Overruns, including one whose end would wrap around. */
  fragment (p, 0, 100000, 65536, 65536, 65536);
  CU_ASSERT_EQUAL (nfc_fragment_decode (p, sizeof p, &f, why), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (why, "past the end"));
  fragment (p, 0, 100000, UINT32_MAX, 2, 2);
  CU_ASSERT_EQUAL (nfc_fragment_decode (p, sizeof p, &f, why), -1);
}

static struct nfc_fragment
piece (uint64_t request, uint32_t total, uint32_t at, uint32_t len)
{
  return (struct nfc_fragment) { request, total, at, len };
}

static void
test_assembly (void)
{
  struct nfc_read r;
  struct nfc_fragment f;
  char why[NFC_WHY_MAX];

  /* Four fragments out of order: done only with the last. */
  nfc_read_init (&r, 1 << 20, 4 * 65536);
  CU_ASSERT_EQUAL (nfc_read_add (&r, (f = piece (1 << 20, 4 * 65536, 131072,
                                                 65536), &f), why), 0);
  CU_ASSERT_EQUAL (nfc_read_add (&r, (f = piece (1 << 20, 4 * 65536, 0,
                                                 65536), &f), why), 0);
  CU_ASSERT_EQUAL (r.spans.len, 2);
  CU_ASSERT_EQUAL (nfc_read_add (&r, (f = piece (1 << 20, 4 * 65536, 196608,
                                                 65536), &f), why), 0);
  CU_ASSERT_FALSE (nfc_read_done (&r));
  CU_ASSERT_EQUAL (nfc_read_add (&r, (f = piece (1 << 20, 4 * 65536, 65536,
                                                 65536), &f), why), 0);
  CU_ASSERT_TRUE (nfc_read_done (&r));
  CU_ASSERT_EQUAL (r.spans.len, 1);

  /* A repeat, an overlap, and another request's fragment. */
  CU_ASSERT_EQUAL (nfc_read_add (&r, (f = piece (1 << 20, 4 * 65536, 0,
                                                 512), &f), why), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (why, "some of which came before"));
  nfc_read_free (&r);
  nfc_read_init (&r, 0, 8192);
  CU_ASSERT_EQUAL (nfc_read_add (&r, (f = piece (0, 8192, 4096, 4096), &f),
                                 why), 0);
  CU_ASSERT_EQUAL (nfc_read_add (&r, (f = piece (0, 8192, 2048, 4096), &f),
                                 why), -1);
  CU_ASSERT_EQUAL (nfc_read_add (&r, (f = piece (512, 8192, 0, 512), &f),
                                 why), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (why, "in reply to one of 8192 bytes at 0"));
  CU_ASSERT_EQUAL (r.received, 4096);
  nfc_read_free (&r);
}

static void
test_error_text (void)
{
  const uint8_t words[] = "\x01\x00\x00\x00" "File not found\0\0";
  const uint8_t bytes[] = { 1, 0, 0, 0, 2, 0 };
  char why[NFC_WHY_MAX];

  nfc_error_text (words, sizeof words - 1, why);
  CU_ASSERT_STRING_EQUAL (why, "File not found");
  nfc_error_text (bytes, sizeof bytes, why);
  CU_ASSERT_STRING_EQUAL (why, "6 bytes: 01 00 00 00 02 00");
}

static const struct unit_test tests[] = {
  { "classic messages", test_classic },
  { "AIO headers", test_headers },
  { "OPEN_FILE", test_open_file },
  { "IO and CLOSE_FILE", test_io },
  { "IO fragments", test_fragments },
  { "reply assembly", test_assembly },
  { "error replies", test_error_text },
  { NULL }
};

int
main (void)
{
  return unit_test_run ("nfc", tests);
}
