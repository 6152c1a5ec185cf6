/* Directory fsync (tool-durable.h): after a rename or the creation of a
 * file, the directory entry itself must reach the disk, which an fsync
 * of the file alone does not promise.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool-durable.h"
#include "tool-messages.h"
#include "tool-paths.h"

int
tool_fsync_dir_of (const char *path)
{
  char *dir = tool_dir_of (path);
  int fd = -1, r = -1;

  if (!dir)
    return -1;
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    r = fsync (fd);
    close (fd);
  }
  if (r == -1)
    tool_error ("syncing the directory of %s: %m", path);
  free (dir);
  return r;
}
