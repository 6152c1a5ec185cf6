/* Unit tests of the nbdkit stand-in: booleans read as nbdkit reads
 * them, and errors kept or passed on as the program asks.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "nbdkit-shim.h"
#include "unit-test.h"

static void
test_parse_bool (void)
{
  static const char *const yes[] = {
    "1", "true", "TRUE", "t", "T", "yes", "Yes", "y", "Y", "on", "ON",
  };
  static const char *const no[] = {
    "0", "false", "False", "f", "F", "no", "NO", "n", "N", "off", "Off",
  };
  static const char *const neither[] = { "", "2", "tru", "yess", "o", " y" };
  size_t i;

  for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
    CU_ASSERT_EQUAL (nbdkit_parse_bool (yes[i]), 1);
  for (i = 0; i < sizeof no / sizeof no[0]; i++)
    CU_ASSERT_EQUAL (nbdkit_parse_bool (no[i]), 0);
  for (i = 0; i < sizeof neither / sizeof neither[0]; i++) {
    nbdkit_shim_clear_error ();
    CU_ASSERT_EQUAL (nbdkit_parse_bool (neither[i]), -1);
    CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (),
                                    "could not decipher boolean"));
  }
}

static char routed[256];

static void
route (const char *fs, va_list args)
{
  vsnprintf (routed, sizeof routed, fs, args);
}

static void
test_messages (void)
{
  nbdkit_shim_clear_error ();
  CU_ASSERT_STRING_EQUAL (nbdkit_shim_last_error (), "");
  /* Kept, with %m as the caller's errno. */
  errno = ENOENT;
  nbdkit_error ("open %s: %m", "x");
  CU_ASSERT_STRING_EQUAL (nbdkit_shim_last_error (),
                          "open x: No such file or directory");
  CU_ASSERT_EQUAL (errno, ENOENT);
  /* Passed on once the program says where. */
  nbdkit_shim_set_messages (route, route);
  errno = EACCES;
  nbdkit_error ("open %s: %m", "y");
  CU_ASSERT_STRING_EQUAL (routed, "open y: Permission denied");
  nbdkit_debug ("debug %d", 1);
  CU_ASSERT_STRING_EQUAL (routed, "debug 1");
  nbdkit_shim_set_messages (NULL, NULL);
}

static const struct unit_test tests[] = {
  { "booleans", test_parse_bool },
  { "messages", test_messages },
  { NULL }
};

int
main (void)
{
  return unit_test_run ("nbdkit stand-in", tests);
}
