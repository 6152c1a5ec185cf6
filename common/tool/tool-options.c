/* The options every tool takes (tool-options.h): the version printed
 * is the package's, after the program's own name.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>

#include "tool-options.h"

bool
tool_common_option (int c, bool *quiet, bool *verbose,
                    void (*usage) (FILE *f))
{
  switch (c) {
  case 'q': *quiet = true; return true;
  case 'v': *verbose = true; return true;
  case 'V':
    printf ("%s %s\n", program_invocation_short_name, PACKAGE_VERSION);
    exit (EXIT_SUCCESS);
  case TOOL_OPT_HELP:
    usage (stdout);
    exit (EXIT_SUCCESS);
  default:
    return false;
  }
}
