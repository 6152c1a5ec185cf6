/* Print the raw content of a local VMDK disk and its chain of parents,
 * read through the same chain code as the plugin (common/vmdk/vmdk-chain.c),
 * for comparison with qemu-img:
 *
 *   sparse-cat DISK.vmdk [OFFSET LENGTH] > disk.raw
 *
 * DISK.vmdk is a text descriptor or a monolithicSparse file.  Parents
 * are found through parentFileNameHint, relative to the directory of
 * the child's descriptor; the end of the chain reads as zeros.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include <nbdkit-plugin.h>

#include "nbdkit-shim.h"
#include "vmdk-chain.h"
#include "vmdk-descriptor.h"

#define CHUNK (1024 * 1024)

static int
local_pread (void *opaque, void *buf, size_t count, uint64_t offset)
{
  int fd = (intptr_t) opaque;
  char *p = buf;

  while (count > 0) {
    ssize_t r = pread (fd, p, count, offset);

    if (r <= 0) {
      nbdkit_error ("pread: %s", r == 0 ? "unexpected end of file"
                : strerror (errno));
      return -1;
    }
    p += r;
    count -= r;
    offset += r;
  }
  return 0;
}

/* NAME relative to the directory of FROM, like the plugin's datastore
 * files (absolute /vmfs/volumes hints have no meaning here).
 */
static int
local_open (void *opaque, const char *from, const char *name, bool parent,
            struct vmdk_file *f)
{
  const char *slash = from ? strrchr (from, '/') : NULL;
  char *path = NULL;
  struct stat st;
  int fd;

  if (from && !vmdk_extent_name_is_local (name)) {
    nbdkit_error ("%s: \"%s\" is outside the disk's directory", from, name);
    return -1;
  }
  if (asprintf (&path, "%.*s%s", slash ? (int) (slash - from + 1) : 0,
                from ? from : "", name) == -1)
    return -1;
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1 || fstat (fd, &st) == -1) {
    nbdkit_error ("%s: %m", path);
    free (path);
    if (fd >= 0)
      close (fd);
    return -1;
  }
  f->name = path;
  f->size = st.st_size;
  f->pread = local_pread;
  f->opaque = (void *) (intptr_t) fd;
  return 0;
}

static void
local_close (void *opaque, struct vmdk_file *f)
{
  close ((int) (intptr_t) f->opaque);
  free ((char *) f->name);
}

int
main (int argc, char *argv[])
{
  struct vmdk_chain_io io = { .open = local_open, .close = local_close };
  struct vmdk_chain *c;
  uint64_t offset = 0, end;
  char *buf;

  if (argc != 2 && argc != 4) {
    fprintf (stderr, "usage: sparse-cat DISK.vmdk [OFFSET LENGTH]\n");
    return 2;
  }
  c = vmdk_chain_open (&io, argv[1], -1);
  if (!c) {
    fprintf (stderr, "sparse-cat: %s\n", nbdkit_shim_last_error ());
    return 1;
  }
  end = vmdk_chain_size (c);
  if (argc == 4) {
    offset = strtoull (argv[2], NULL, 0);
    end = offset + strtoull (argv[3], NULL, 0);
  }
  buf = malloc (CHUNK);
  if (!buf)
    return 1;
  while (offset < end) {
    uint32_t n = end - offset < CHUNK ? end - offset : CHUNK;

    if (vmdk_chain_pread (c, buf, n, offset) == -1) {
      fprintf (stderr, "sparse-cat: %s\n", nbdkit_shim_last_error ());
      return 1;
    }
    if (fwrite (buf, 1, n, stdout) != n) {
      perror ("sparse-cat: write");
      return 1;
    }
    offset += n;
  }
  free (buf);
  vmdk_chain_close (c);
  return fflush (stdout) == 0 ? 0 : 1;
}
