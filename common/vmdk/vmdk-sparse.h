/* Decoding sparse VMDK extents: hosted sparse (KDMV), vmfsSparse
 * (COWD) and seSparse.  A decoder maps an offset in the extent to a
 * run of data in the extent file, zeros, or "read the parent".
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VMDK_SPARSE_H
#define VMDK_SPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "vmdk-descriptor.h"

/* How a decoder reads its file.  Each read is an HTTP request in
 * production, so headers and tables are read in few, large reads and
 * cached.
 */
struct vmdk_file {
  const char *name;             /* for messages: "[ds] dir/x-delta.vmdk" */
  uint64_t size;                /* file size in bytes if known, else 0 */
  /* Read exactly COUNT bytes; -1 on error (already reported). */
  int (*pread) (void *opaque, void *buf, size_t count, uint64_t offset);
  void *opaque;
};

enum vmdk_run_kind {
  VMDK_RUN_DATA,                /* bytes at file_offset in the file */
  VMDK_RUN_ZERO,                /* zeroed grains: read as zeros */
  VMDK_RUN_PARENT,              /* unallocated: read the parent disk */
};

struct vmdk_run {
  enum vmdk_run_kind kind;
  uint64_t length;              /* bytes, at least 1 */
  uint64_t file_offset;         /* DATA only */
};

struct vmdk_sparse;

/* Open an extent of TYPE (VMDK_EXTENT_SPARSE, _VMFSSPARSE or
 * _SESPARSE) holding EXTENT_SECTORS sectors, as the descriptor says.
 * Reads and checks the header and the grain directory.  F is copied;
 * F->opaque must outlive the decoder.
 */
struct vmdk_sparse *vmdk_sparse_open (enum vmdk_extent_type type,
                                      const struct vmdk_file *f,
                                      uint64_t extent_sectors);

/* The run starting at OFFSET (bytes within the extent), at most MAX
 * bytes and not past the extent's end.  DATA runs merge grains that
 * are adjacent in the file, so that the caller issues one request.
 * Safe to call from several threads at once.
 */
int vmdk_sparse_map (struct vmdk_sparse *s, uint64_t offset, uint64_t max,
                     struct vmdk_run *run);

void vmdk_sparse_close (struct vmdk_sparse *s);

/* The text descriptor embedded in a hosted sparse file
 * (monolithicSparse), which names the extents and the parent.  Sets
 * *TEXT to a NUL-terminated string to free, or to NULL if the file
 * has no embedded descriptor (an extent of twoGbMaxExtentSparse).
 */
int vmdk_hosted_read_descriptor (const struct vmdk_file *f, char **text,
                                 size_t *len);

#endif /* VMDK_SPARSE_H */
