/* Notices (notice.h), written straight to standard error: the prefix
 * comes from program_invocation_short_name, so the shared code needs no
 * hook into nbdkit or the tool.  Each line is written under flockfile,
 * so that threads never split one.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "notice.h"

const char *
vs_program_name (void)
{
  return program_invocation_short_name;
}

void
vs_notice (const char *fs, ...)
{
  bool in_nbdkit = strcmp (vs_program_name (), "nbdkit") == 0;
  va_list args;

  flockfile (stderr);
  fprintf (stderr, "%s: %s", vs_program_name (),
           in_nbdkit ? "vsphere: " : "");
  va_start (args, fs);
  vfprintf (stderr, fs, args);
  va_end (args);
  fputc ('\n', stderr);
  funlockfile (stderr);
}
