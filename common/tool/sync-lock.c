/* The run locks (sync-lock.h), fcntl record locks on one byte: the
 * kernel drops them when the process dies, so a crashed run leaves no
 * stale lock, and F_GETLK names the holder.  Lock files are never
 * removed, as removing one would let two runs lock two different files
 * of one name; the PID written in them is for people only.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sync-lock.h"
#include "tool-messages.h"
#include "tool-paths.h"

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
    tool_error ("locking %s: %m", path);
    return -1;
  }
  fl.l_type = F_WRLCK;
  if (fcntl (fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0)
    tool_error ("%s %s is in use by another vsphere-sync or vsphere-v2v (PID %d); wait "
                "for it to finish", what, path, (int) fl.l_pid);
  else
    tool_error ("%s %s is in use by another vsphere-sync or vsphere-v2v "
                "(in another PID namespace); wait for it to finish", what, path);
  return -1;
}

/* Lock file PATH for WHAT, WHO (for the message), and write our PID
 * into it for people.  Returns the fd, or -1 (reported).
 */
static int
lock_file (const char *path, const char *what, const char *who)
{
  char pid[32];
  int fd, len;

  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd == -1) {
    tool_error ("%s: %m", path);
    return -1;
  }
  if (try_lock (fd, 0, what, who) == -1) {
    close (fd);
    return -1;
  }
  len = snprintf (pid, sizeof pid, "%d\n", (int) getpid ());
  if (ftruncate (fd, 0) == -1 || pwrite (fd, pid, len, 0) != len)
    tool_debug ("could not write our PID into %s: %m", path);
  return fd;
}

/* S with every character but letters, digits, '.' and '-' as '_'. */
static void
file_name_safe (char *s)
{
  for (; *s; s++)
    if (!strchr ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 "0123456789.-", *s))
      *s = '_';
}

/* One directory for every run on this machine, whatever its user. */
static const char *
lock_dir (void)
{
  const char *env = getenv ("VSPHERE_SYNC_LOCK_DIR");
  struct stat st;

  if (env && *env)
    return env;
  return stat ("/run/lock", &st) == 0 && S_ISDIR (st.st_mode) ? "/run/lock"
    : "/tmp";
}

/* Lock the lock directory's vsphere-sync.NAME.lock (NAME made safe). */
static int
lock_named (char *name, const char *what, const char *who)
{
  char *path;
  int fd;

  file_name_safe (name);
  if (asprintf (&path, "%s/vsphere-sync.%s.lock", lock_dir (), name) == -1) {
    tool_error ("asprintf: %m");
    return -1;
  }
  fd = lock_file (path, what, who);
  free (path);
  return fd;
}

int
sync_lock_vm (const char *server, const char *vm_ref,
              const char *instance_uuid, const char *vm_name)
{
  char *name;
  int fd, r;

  /* The instance UUID names the VM whatever the server is called. */
  r = instance_uuid ? asprintf (&name, "%s", instance_uuid)
    : asprintf (&name, "%s_%s", server, vm_ref);
  if (r == -1) {
    tool_error ("asprintf: %m");
    return -1;
  }
  fd = lock_named (name, "VM", vm_name);
  free (name);
  return fd;
}

/* The state file is named by its directory's device and inode, which
 * every spelling of its path shares, and by its own name.
 */
int
sync_lock_state (const char *state_path)
{
  char *dir = tool_dir_of (state_path), *name = NULL;
  const char *base = strrchr (state_path, '/');
  struct stat st;
  int fd = -1;

  if (!dir)
    return -1;
  if (stat (dir, &st) == -1)
    tool_error ("the state file's directory %s: %m", dir);
  else if (asprintf (&name, "state.%ju.%ju.%s", (uintmax_t) st.st_dev,
                     (uintmax_t) st.st_ino, base ? base + 1 : state_path) == -1) {
    name = NULL;
    tool_error ("asprintf: %m");
  }
  else
    fd = lock_named (name, "state file", state_path);
  free (name);
  free (dir);
  return fd;
}

int
sync_lock_output (int fd, const char *path)
{
  return try_lock (fd, OUTPUT_LOCK_BYTE, "output", path);
}
