#include <config.h>

#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "durable.h"
#include "messages.h"

int
sync_fsync_dir_of (const char *path)
{
  char *copy = strdup (path);
  int fd = -1, r = -1;

  if (copy)
    fd = open (dirname (copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    r = fsync (fd);
    close (fd);
  }
  if (r == -1)
    sync_error ("syncing the directory of %s: %m", path);
  free (copy);
  return r;
}
