#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lock.h"
#include "messages.h"

/* qemu's image locks use bytes 100 to about 300. */
#define OUTPUT_LOCK_BYTE 4096

static int
try_lock (int fd, off_t start, const char *what, const char *path)
{
  struct flock fl = {
    .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = 1,
  };

  if (fcntl (fd, F_SETLK, &fl) == 0)
    return 0;
  if (errno != EACCES && errno != EAGAIN) {
    sync_error ("locking %s: %m", path);
    return -1;
  }
  fl.l_type = F_WRLCK;
  if (fcntl (fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0)
    sync_error ("%s %s is in use by another vsphere-sync (PID %d); wait "
                "for it to finish", what, path, (int) fl.l_pid);
  else
    sync_error ("%s %s is in use by another vsphere-sync (in another PID "
                "namespace); wait for it to finish", what, path);
  return -1;
}

int
sync_lock_state (const char *state_path)
{
  char *path, pid[32];
  int fd, len;

  if (asprintf (&path, "%s.lock", state_path) == -1) {
    sync_error ("asprintf: %m");
    return -1;
  }
  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd == -1) {
    sync_error ("%s: %m", path);
    free (path);
    return -1;
  }
  if (try_lock (fd, 0, "state file", state_path) == -1) {
    close (fd);
    free (path);
    return -1;
  }
  len = snprintf (pid, sizeof pid, "%d\n", (int) getpid ());
  if (ftruncate (fd, 0) == -1 || pwrite (fd, pid, len, 0) != len)
    sync_debug ("could not write our PID into %s: %m", path);
  free (path);
  return fd;
}

int
sync_lock_output (int fd, const char *path)
{
  return try_lock (fd, OUTPUT_LOCK_BYTE, "output", path);
}
