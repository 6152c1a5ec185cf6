/* Unit tests of common/utils: strict numbers, the growable array and
 * the changed-areas set.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "number.h"
#include "unit-test.h"
#include "vector.h"

static void
test_parse_int64 (void)
{
  static const char *const bad[] = {
    "", "-", "+1", " 1", "1 ", "0x10", "1e3", "9223372036854775808",
    "-9223372036854775809", "11", "-11",
  };
  int64_t v;
  size_t i;

  CU_ASSERT_EQUAL (vs_parse_int64 ("0", -10, 10, &v), 0);
  CU_ASSERT_EQUAL (v, 0);
  CU_ASSERT_EQUAL (vs_parse_int64 ("-10", -10, 10, &v), 0);
  CU_ASSERT_EQUAL (v, -10);
  CU_ASSERT_EQUAL (vs_parse_int64 ("9223372036854775807", 0, INT64_MAX, &v),
                   0);
  CU_ASSERT_EQUAL (v, INT64_MAX);
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    v = 42;
    CU_ASSERT_EQUAL (vs_parse_int64 (bad[i], -10, 10, &v), -1);
    CU_ASSERT_EQUAL (v, 42);
  }
}

static void
test_parse_uint64 (void)
{
  uint64_t v = 42;

  CU_ASSERT_EQUAL (vs_parse_uint64 ("18446744073709551615", UINT64_MAX, &v), 0);
  CU_ASSERT_EQUAL (v, UINT64_MAX);
  CU_ASSERT_EQUAL (vs_parse_uint64 ("0", 0, &v), 0);
  CU_ASSERT_EQUAL (v, 0);
  v = 42;
  CU_ASSERT_EQUAL (vs_parse_uint64 ("18446744073709551616", UINT64_MAX, &v),
                   -1);
  CU_ASSERT_EQUAL (errno, ERANGE);
  CU_ASSERT_EQUAL (vs_parse_uint64 ("11", 10, &v), -1);
  CU_ASSERT_EQUAL (errno, ERANGE);
  /* strtoull would take "-1" as UINT64_MAX. */
  CU_ASSERT_EQUAL (vs_parse_uint64 ("-1", UINT64_MAX, &v), -1);
  CU_ASSERT_EQUAL (errno, EINVAL);
  CU_ASSERT_EQUAL (vs_parse_uint64 ("1 ", UINT64_MAX, &v), -1);
  CU_ASSERT_EQUAL (errno, EINVAL);
  CU_ASSERT_EQUAL (v, 42);
}

DEFINE_VECTOR (int_vector, int)

static void
test_vector (void)
{
  struct int_vector v = { 0 };
  size_t cap;
  int i;

  for (i = 0; i < 1000; i++)
    CU_ASSERT_EQUAL_FATAL (int_vector_append (&v, i), 0);
  CU_ASSERT_EQUAL (v.len, 1000);
  CU_ASSERT (v.cap >= 1000 && v.cap < 2000);
  for (i = 0; i < 1000; i++)
    CU_ASSERT_EQUAL (v.ptr[i], i);
  /* Room that is there already costs nothing. */
  cap = v.cap;
  CU_ASSERT_EQUAL (int_vector_reserve (&v, cap - v.len), 0);
  CU_ASSERT_EQUAL (v.cap, cap);
  /* An impossible size fails, leaving the array as it was. */
  CU_ASSERT_EQUAL (int_vector_reserve (&v, SIZE_MAX), -1);
  CU_ASSERT_EQUAL (errno, ENOMEM);
  CU_ASSERT_EQUAL (int_vector_reserve (&v, SIZE_MAX / sizeof (int)), -1);
  CU_ASSERT_EQUAL (v.len, 1000);
  CU_ASSERT_EQUAL (v.ptr[999], 999);
  int_vector_reset (&v);
  CU_ASSERT_PTR_NULL (v.ptr);
  CU_ASSERT_EQUAL (v.len + v.cap, 0);
}

/* C holds exactly the N areas of WANT, BYTES in all. */
static void
expect_areas (const struct vs_changes *c, const struct vs_area *want,
              size_t n, uint64_t bytes)
{
  size_t i;

  CU_ASSERT_EQUAL_FATAL (c->areas.len, n);
  for (i = 0; i < n; i++) {
    CU_ASSERT_EQUAL (c->areas.ptr[i].start, want[i].start);
    CU_ASSERT_EQUAL (c->areas.ptr[i].length, want[i].length);
  }
  CU_ASSERT_EQUAL (c->bytes, bytes);
}

static void
test_changes (void)
{
  struct vs_area a[] = {
    { 10, 20 }, { 100, 10 }, { 70000, 1 }, { 200000, 100 }, { 262100, 44 },
  };
  struct vs_changes c = { .areas = { .ptr = a, .len = 5, .cap = 5 } };

  /* 64 KiB blocks: the first two share block 0, the last is clipped. */
  vs_changes_align (&c, 65536, 262144);
  expect_areas (&c, (struct vs_area[]) { { 0, 131072 }, { 196608, 65536 } },
                2, 196608);
  CU_ASSERT_EQUAL (vs_changes_find (&c, 0), 0);
  CU_ASSERT_EQUAL (vs_changes_find (&c, 131071), 0);
  CU_ASSERT_EQUAL (vs_changes_find (&c, 131072), 1);
  CU_ASSERT_EQUAL (vs_changes_find (&c, 262144), 2);

  CU_ASSERT_EQUAL (vs_change_id_uuid_len ("52 3c ec-87 4a/446"), 14);
  CU_ASSERT_EQUAL (vs_change_id_uuid_len ("*"), 0);
  CU_ASSERT_EQUAL (vs_change_id_uuid_len ("52 3c/"), 0);
  CU_ASSERT_EQUAL (vs_change_id_uuid_len ("/5"), 0);
}

static void
test_changes_build (void)
{
  struct vs_changes below = { 0 }, above = { 0 }, out;

  /* Adjacent areas merge. */
  CU_ASSERT_EQUAL (vs_changes_add (&below, 0, 10), 0);
  CU_ASSERT_EQUAL (vs_changes_add (&below, 10, 5), 0);
  CU_ASSERT_EQUAL (vs_changes_add (&below, 100, 50), 0);
  expect_areas (&below, (struct vs_area[]) { { 0, 15 }, { 100, 50 } }, 2, 65);
  CU_ASSERT_EQUAL (vs_changes_add (&above, 20, 200), 0);

  /* Below 120 from BELOW (cut at 120), from 120 on from ABOVE. */
  CU_ASSERT_EQUAL_FATAL (vs_changes_splice (&below, &above, 120, &out), 0);
  expect_areas (&out, (struct vs_area[]) { { 0, 15 }, { 100, 120 } }, 2, 135);
  vs_changes_free (&out);
  vs_changes_free (&below);
  vs_changes_free (&above);
  CU_ASSERT_EQUAL (below.areas.len + below.bytes, 0);
}

static const struct unit_test tests[] = {
  { "strict numbers", test_parse_int64 },
  { "strict unsigned numbers", test_parse_uint64 },
  { "growable array", test_vector },
  { "changed areas", test_changes },
  { "changed areas built and spliced", test_changes_build },
  { NULL }
};

int
main (void)
{
  return unit_test_run ("utils", tests);
}
