/* Outputs (output.h): a raw file or block device is written through its
 * locked fd, shared by every thread; a qcow2 image or overlay through a
 * qemu-nbd child, one NBD connection per writer.  Zeros are written as
 * cheaply as the output allows (NBD zero, BLKZEROOUT, a punched hole),
 * and spelt out only as a last resort.  A new overlay gets its name
 * only once whole.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include <libnbd.h>

#include "tool-durable.h"
#include "sync-lock.h"
#include "tool-messages.h"
#include "output.h"
#include "sync-state.h"

bool
sync_output_is_block (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0 && S_ISBLK (st.st_mode);
}

static int
check_block_size (struct sync_output *o)
{
  uint64_t bytes;

  if (ioctl (o->fd, BLKGETSIZE64, &bytes) == -1) {
    tool_error ("%s: cannot read the size of the block device: %m", o->path);
    return -1;
  }
  if (bytes < o->size) {
    tool_error ("output %s holds %" PRIu64 " bytes but the disk has %" PRIu64
                ": give a block device at least as large as the disk",
                o->path, bytes, o->size);
    return -1;
  }
  return 0;
}

static int
qemu_img_create (const char *path, const char *backing,
                 enum sync_format backing_format, uint64_t size)
{
  char sz[32];
  const char *argv[12];
  size_t i = 0;

  snprintf (sz, sizeof sz, "%" PRIu64, size);
  argv[i++] = tool_env_or ("QEMU_IMG", "qemu-img");
  argv[i++] = "create";
  argv[i++] = "-q";
  argv[i++] = "-f";
  argv[i++] = "qcow2";
  if (backing) {
    argv[i++] = "-b";
    argv[i++] = backing;
    argv[i++] = "-F";
    argv[i++] = sync_format_name (backing_format);
  }
  argv[i++] = path;
  argv[i++] = sz;
  argv[i] = NULL;
  return tool_run ((char *const *) argv);
}

static int
start_qemu_nbd (struct sync_output *o, const char *image, const char *tmpdir,
                unsigned connections)
{
  char shared[32], name[64];
  const char *argv[] = {
    tool_env_or ("QEMU_NBD", "qemu-nbd"), "-f", "qcow2", "--persistent",
    shared, "--cache=writeback", image, NULL
  };

  snprintf (shared, sizeof shared, "--shared=%u", connections + 1);
  snprintf (name, sizeof name, "qemu-nbd-%d", o->fd);
  return tool_child_start (&o->qemu_nbd, tmpdir, name, (char *const *) argv,
                           -1);
}

/* The overlay goes beside the base and names its backing file relative
 * to itself, so the chain survives moving the directory.
 */
static int
create_overlay (struct sync_output *o)
{
  char *copy = strdup (o->backing);
  int r;

  if (!copy) {
    tool_error ("strdup: %m");
    return -1;
  }
  r = qemu_img_create (o->overlay_part, basename (copy), o->backing_format,
                       o->size);
  o->overlay_created = true;
  free (copy);
  return r == 0 ? tool_fsync_dir_of (o->overlay_part) : -1;
}

/* Open and lock the output, creating it if CREATE. */
static int
open_and_lock (struct sync_output *o, bool create)
{
  o->fd = open (o->path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
  if (o->fd == -1 && errno == ENOENT && !create)
    return 0;
  if (o->fd == -1) {
    tool_error ("output %s: %m", o->path);
    return -1;
  }
  return sync_lock_output (o->fd, o->path);
}

int
sync_output_lock (struct sync_output *o)
{
  o->is_block = sync_output_is_block (o->path);
  if (open_and_lock (o, false) == -1)
    return -1;
  if (!o->is_block)
    return 0;
  if (o->format != SYNC_RAW || o->backing) {
    tool_error ("output %s is a block device, which holds a raw image: "
                "give -f raw and no --overlay, or a file", o->path);
    return -1;
  }
  return check_block_size (o);
}

bool
sync_output_same (const struct sync_output *a, const struct sync_output *b)
{
  struct stat sa, sb;

  if (fstat (a->fd, &sa) == -1 || fstat (b->fd, &sb) == -1)
    return false;
  if (S_ISBLK (sa.st_mode) && S_ISBLK (sb.st_mode))
    return sa.st_rdev == sb.st_rdev;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int
sync_output_prepare (struct sync_output *o, const char *tmpdir,
                     unsigned connections)
{
  if (o->fd == -1 && open_and_lock (o, true) == -1)
    return -1;
  if (o->backing)
    return create_overlay (o) == 0
      ? start_qemu_nbd (o, o->overlay_part, tmpdir, connections) : -1;
  if (o->full && !o->resume && !o->is_block) {
    if (o->format == SYNC_RAW) {
      if (ftruncate (o->fd, 0) == -1 || ftruncate (o->fd, o->size) == -1) {
        tool_error ("output %s: %m", o->path);
        return -1;
      }
    }
    else if (qemu_img_create (o->path, NULL, SYNC_RAW, o->size) == -1)
      return -1;
    o->fresh = true;
    if (tool_fsync_dir_of (o->path) == -1)
      return -1;
  }
  if (o->format == SYNC_QCOW2)
    return start_qemu_nbd (o, o->path, tmpdir, connections);
  return 0;
}

struct sync_writer {
  struct sync_output *o;
  struct nbd_handle *nbd;       /* to qemu-nbd; NULL: write to o->fd */
};

struct sync_writer *
sync_writer_new (struct sync_output *o)
{
  struct sync_writer *w = calloc (1, sizeof *w);

  if (!w) {
    tool_error ("calloc: %m");
    return NULL;
  }
  w->o = o;
  if (!o->qemu_nbd.socket)
    return w;
  w->nbd = nbd_create ();
  if (!w->nbd || nbd_connect_unix (w->nbd, o->qemu_nbd.socket) == -1) {
    tool_error ("connecting to qemu-nbd for %s: %s",
                o->overlay ? o->overlay_part : o->path, nbd_get_error ());
    sync_writer_free (w);
    return NULL;
  }
  return w;
}

void
sync_writer_free (struct sync_writer *w)
{
  if (!w)
    return;
  if (w->nbd) {
    nbd_shutdown (w->nbd, 0);
    nbd_close (w->nbd);
  }
  free (w);
}

static const char *
writer_target (const struct sync_writer *w)
{
  return w->o->overlay ? w->o->overlay_part : w->o->path;
}

/* All of LEN bytes to or from FD, through short transfers. */
static int
fd_transfer (bool writing, int fd, char *p, uint64_t len, uint64_t offset)
{
  ssize_t r;

  while (len > 0) {
    r = writing ? pwrite (fd, p, len, offset) : pread (fd, p, len, offset);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0) {
      if (r == 0)
        errno = EIO;
      return -1;
    }
    p += r;
    len -= r;
    offset += r;
  }
  return 0;
}

int
sync_writer_pwrite (struct sync_writer *w, const void *buf, uint64_t len,
                    uint64_t offset)
{
  __atomic_store_n (&w->o->written, true, __ATOMIC_RELAXED);
  if (w->nbd) {
    if (nbd_pwrite (w->nbd, buf, len, offset, 0) == -1) {
      tool_error ("writing %s: %s", writer_target (w), nbd_get_error ());
      return -1;
    }
  }
  else if (fd_transfer (true, w->o->fd, (char *) buf, len, offset) == -1) {
    tool_error ("writing %s at offset %" PRIu64 ": %m", writer_target (w),
                offset);
    return -1;
  }
  return 0;
}

int
sync_writer_pread (struct sync_writer *w, void *buf, uint64_t len,
                   uint64_t offset)
{
  if (w->nbd) {
    if (nbd_pread (w->nbd, buf, len, offset, 0) == -1) {
      tool_error ("reading back %s: %s", writer_target (w), nbd_get_error ());
      return -1;
    }
  }
  else if (fd_transfer (false, w->o->fd, buf, len, offset) == -1) {
    tool_error ("reading back %s at offset %" PRIu64 ": %m",
                writer_target (w), offset);
    return -1;
  }
  return 0;
}

/* Zeros, written out, where nothing faster is possible. */
static int
write_zeros (struct sync_writer *w, uint64_t len, uint64_t offset)
{
  static const char zeros[65536];
  uint64_t n;

  for (; len > 0; len -= n, offset += n) {
    n = len < sizeof zeros ? len : sizeof zeros;
    if (sync_writer_pwrite (w, zeros, n, offset) == -1)
      return -1;
  }
  return 0;
}

int
sync_writer_zero (struct sync_writer *w, uint64_t len, uint64_t offset)
{
  uint64_t range[2] = { offset, len };

  __atomic_store_n (&w->o->written, true, __ATOMIC_RELAXED);
  if (w->nbd) {
    /* No trimming: in an overlay a trimmed block would show its backing. */
    if (nbd_zero (w->nbd, len, offset, 0) == -1) {
      tool_error ("writing zeros to %s: %s", writer_target (w),
                  nbd_get_error ());
      return -1;
    }
    return 0;
  }
  if (w->o->is_block) {
    if (ioctl (w->o->fd, BLKZEROOUT, range) == 0)
      return 0;
  }
  else if (fallocate (w->o->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                      offset, len) == 0)
    return 0;
  return write_zeros (w, len, offset);
}

int
sync_output_flush (struct sync_output *o)
{
  struct sync_writer *w;
  int r = 0;

  if (!o->qemu_nbd.pid) {
    if (fdatasync (o->fd) == -1) {
      tool_error ("output %s: flushing: %m", o->path);
      return -1;
    }
    return 0;
  }
  w = sync_writer_new (o);
  if (!w || nbd_flush (w->nbd, 0) == -1) {
    if (w)
      tool_error ("flushing %s: %s", writer_target (w), nbd_get_error ());
    r = -1;
  }
  sync_writer_free (w);
  return r;
}

int
sync_output_finish (struct sync_output *o)
{
  char how[128];
  int status, r;

  r = sync_output_flush (o);
  if (!o->qemu_nbd.pid)
    return r;
  status = tool_child_stop (&o->qemu_nbd, 60);
  if (status != 0) {
    tool_child_describe (status, how, sizeof how);
    tool_error ("qemu-nbd writing %s %s", o->overlay ? o->overlay_part : o->path,
                how);
    r = -1;
  }
  /* Only a whole overlay takes the name of one. */
  if (r == 0 && o->overlay) {
    if (rename (o->overlay_part, o->overlay) == -1) {
      tool_error ("renaming %s to %s: %m", o->overlay_part, o->overlay);
      return -1;
    }
    o->overlay_created = false;
    o->overlay_named = true;
    r = tool_fsync_dir_of (o->overlay);
  }
  return r;
}

void
sync_output_abort (struct sync_output *o)
{
  const char *unfinished = o->overlay_named ? o->overlay : o->overlay_part;

  tool_child_stop (&o->qemu_nbd, 10);
  if ((o->overlay_created || o->overlay_named) &&
      unlink (unfinished) == -1 && errno != ENOENT)
    tool_error ("removing the unfinished overlay %s: %m", unfinished);
}

void
sync_output_close (struct sync_output *o)
{
  tool_child_stop (&o->qemu_nbd, 10);
  if (o->fd >= 0)
    close (o->fd);
  o->fd = -1;
}
