/* libFuzzer target: one sparse extent decoder (FUZZ_TYPE), fed the
 * input as the extent file.  Opens it with the capacity its header
 * claims, then walks the extent and checks what vmdk_sparse_map
 * returns: runs that are never empty, stay within the extent and, for
 * data, within the file if its size is known.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "fuzz-input.h"

#include "vmdk-descriptor.h"
#include "vmdk-sparse.h"

#define MAX_CALLS 512

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static uint64_t
le (const uint8_t *p, size_t n)
{
  uint64_t v = 0;

  while (n-- > 0)
    v = v << 8 | p[n];
  return v;
}

/* The capacity the header claims, so that most inputs get past the
 * check against the descriptor.
 */
static uint64_t
capacity (const uint8_t *data, size_t size)
{
  switch (FUZZ_TYPE) {
  case VMDK_EXTENT_SPARSE: return size >= 20 ? le (data + 12, 8) : 1;
  case VMDK_EXTENT_VMFSSPARSE: return size >= 16 ? le (data + 12, 4) : 1;
  default: return size >= 24 ? le (data + 16, 8) : 1;
  }
}

/* SIZE is the file size, or 0 if unknown. */
static void
walk (struct vmdk_sparse *s, uint64_t sectors, uint64_t size, uint64_t step)
{
  uint64_t off = 0, end = sectors * 512;
  struct vmdk_run run;
  int i;

  for (i = 0; i < MAX_CALLS && off < end; i++) {
    uint64_t max = end - off < step ? end - off : step;

    if (vmdk_sparse_map (s, off, max, &run) == -1)
      return;
    if (run.length == 0 || run.length > max ||
        (run.kind == VMDK_RUN_DATA && size &&
         (run.file_offset > size || run.length > size - run.file_offset)))
      abort ();
    off += run.length;
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct input in = { data, size };
  /* An odd last byte: the file size is unknown, as over some HTTP. */
  struct vmdk_file f = {
    .name = "fuzz.vmdk",
    .size = size && data[size - 1] & 1 ? 0 : size,
    .pread = mem_pread, .opaque = &in,
  };
  uint64_t sectors = capacity (data, size);
  struct vmdk_sparse *s;

  s = vmdk_sparse_open (FUZZ_TYPE, &f, sectors);
  if (s) {
    walk (s, sectors, f.size, UINT64_MAX);
    walk (s, sectors, f.size, 4097);
    vmdk_sparse_close (s);
  }

  if (FUZZ_TYPE == VMDK_EXTENT_SPARSE) {
    struct vmdk_descriptor d;
    char *text;
    size_t len;

    if (vmdk_hosted_read_descriptor (&f, &text, &len) == 0 && text) {
      if (len != strlen (text))
        abort ();
      if (vmdk_descriptor_parse (text, len, "fuzz.vmdk", &d) == 0)
        vmdk_descriptor_free (&d);
      free (text);
    }
  }
  return 0;
}
