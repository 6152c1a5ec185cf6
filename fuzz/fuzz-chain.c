/* libFuzzer target: a whole disk chain (common/vmdk/vmdk-chain.c) where
 * every file the descriptors name, the disk itself, its extents and its
 * parents, holds the input.  Exercises descriptor parsing, hosted
 * sparse embedding, parent hints, CID and loop checks together, then
 * reads and maps the disk.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "fuzz-input.h"

#include "vmdk-chain.h"

#define MAX_READ (1024 * 1024)

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
mem_open (void *opaque, const char *from, const char *name, bool parent,
          struct vmdk_file *f)
{
  struct input *in = opaque;

  f->name = strdup (name);
  if (!f->name)
    return -1;
  f->size = in->size;
  f->pread = mem_pread;
  f->opaque = in;
  return 0;
}

static void
mem_close (void *opaque, struct vmdk_file *f)
{
  free ((char *) f->name);
}

static int
check_run (void *opaque, uint64_t offset, uint64_t length,
           enum vmdk_status status)
{
  uint64_t *next = opaque;

  if (offset != *next || length == 0)
    abort ();
  *next = offset + length;
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct input in = { data, size };
  struct vmdk_chain_io io = {
    .opaque = &in, .open = mem_open, .close = mem_close,
  };
  struct vmdk_chain *c = vmdk_chain_open (&io, "disk.vmdk", -1);
  uint64_t disk, next;
  uint32_t n;
  char *buf;

  if (!c)
    return 0;
  disk = vmdk_chain_size (c);
  n = disk < MAX_READ ? disk : MAX_READ;
  buf = malloc (n ? n : 1);
  if (buf) {
    /* The start and the end of the disk. */
    vmdk_chain_pread (c, buf, n, 0);
    vmdk_chain_pread (c, buf, n, disk - n);
    next = 0;
    if (vmdk_chain_extents (c, n, 0, check_run, &next) == 0 && next < n)
      abort ();
    free (buf);
  }
  vmdk_chain_close (c);
  return 0;
}
