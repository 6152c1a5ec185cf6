/* The directory of a path (tool-paths.h).
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "tool-messages.h"
#include "tool-paths.h"

char *
tool_dir_of (const char *path)
{
  char *copy = strdup (path), *dir = copy ? strdup (dirname (copy)) : NULL;

  if (!dir)
    tool_error ("out of memory");
  free (copy);
  return dir;
}
