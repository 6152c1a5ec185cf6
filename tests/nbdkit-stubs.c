/* The few nbdkit server functions the shared code calls, for unit
 * tests that run without nbdkit.  Errors are kept for the tests to
 * inspect.
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <nbdkit-plugin.h>

#include "nbdkit-stubs.h"

char stub_last_error[4096];

void
nbdkit_error (const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  vsnprintf (stub_last_error, sizeof stub_last_error, fs, args);
  va_end (args);
}

void
nbdkit_debug (const char *fs, ...)
{
}

void
nbdkit_set_error (int err)
{
}

int
nbdkit_parse_bool (const char *str)
{
  if (strcasecmp (str, "true") == 0 || strcmp (str, "1") == 0)
    return 1;
  if (strcasecmp (str, "false") == 0 || strcmp (str, "0") == 0)
    return 0;
  nbdkit_error ("could not decipher boolean (%s)", str);
  return -1;
}

int
nbdkit_read_password (const char *value, char **password)
{
  *password = strdup (value);
  return *password ? 0 : -1;
}

int
nbdkit_add_extent (struct nbdkit_extents *extents, uint64_t offset,
                   uint64_t length, uint32_t type)
{
  return 0;
}

int
nbdkit_nanosleep (unsigned sec, unsigned nsec)
{
  struct timespec ts = { .tv_sec = sec, .tv_nsec = nsec };

  return nanosleep (&ts, NULL);
}
