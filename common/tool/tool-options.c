/* The options every tool takes (tool-options.h): the version printed
 * is the package's, after the program's own name.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>

#include "tool-messages.h"
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
  case 'h': case TOOL_OPT_HELP:
    usage (stdout);
    exit (EXIT_SUCCESS);
  default:
    return false;
  }
}

bool
tool_option_again (int c, const struct option *longopts, bool *seen)
{
  const struct option *l;

  if (c == 'q' || c == 'v' || c < 0 || c >= TOOL_OPTION_MAX)
    return false;
  if (!seen[c]) {
    seen[c] = true;
    return false;
  }
  for (l = longopts; l->name && l->val != c; l++)
    ;
  if (l->name && c < 256)
    tool_error ("-%c (--%s) given twice: give it once", c, l->name);
  else if (l->name)
    tool_error ("--%s given twice: give it once", l->name);
  else
    tool_error ("-%c given twice: give it once", c);
  return true;
}

int
tool_usage_error (void)
{
  fprintf (stderr, "Try '%s --help' for more information.\n",
           program_invocation_short_name);
  return 2;
}
