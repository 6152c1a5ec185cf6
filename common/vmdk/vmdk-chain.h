/* A VMDK disk as a chain of layers: the descriptor of the disk, its
 * extents (flat, zero or sparse), and through parentFileNameHint the
 * layers below, down to the base disk.  Where the files come from is
 * the caller's business (HTTP ranged reads, or local files in tests).
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VMDK_CHAIN_H
#define VMDK_CHAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "vmdk-sparse.h"

/* Deeper chains are refused (vSphere allows 32 snapshots). */
#define VMDK_CHAIN_MAX 64

struct vmdk_chain_io {
  void *opaque;
  /* Open NAME: the disk's own descriptor when FROM is NULL, otherwise a
   * file named by the descriptor whose vmdk_file name is FROM: one of
   * its extents, or (PARENT true) its parentFileNameHint.  Fills *F,
   * whose name must identify the file (it detects loops) and whose size
   * must be known.  Errors are reported.
   */
  int (*open) (void *opaque, const char *from, const char *name, bool parent,
               struct vmdk_file *f);
  void (*close) (void *opaque, struct vmdk_file *f);
  /* If not NULL, told instead of an error being reported when the files
   * cannot serve the disk although the host could read it as a disk:
   * it is encrypted, or its data is a vSAN object.
   */
  void (*refused) (void *opaque, const char *why);
};

struct vmdk_chain;

/* Open the disk NAME.  CAPACITY (bytes, or -1 if unknown) is what the
 * disk must hold; a descriptor that disagrees is refused.
 */
struct vmdk_chain *vmdk_chain_open (const struct vmdk_chain_io *io,
                                    const char *name, int64_t capacity);
void vmdk_chain_close (struct vmdk_chain *c);

int64_t vmdk_chain_size (const struct vmdk_chain *c);
unsigned vmdk_chain_depth (const struct vmdk_chain *c);

int vmdk_chain_pread (struct vmdk_chain *c, void *buf, uint32_t count,
                      uint64_t offset);

/* What a run of the disk holds, as far as the VMDK layers tell. */
enum vmdk_status {
  VMDK_STATUS_DATA,             /* grains of a sparse layer */
  VMDK_STATUS_FLAT,             /* bytes of a flat extent (FLAT, VMFS):
                                   written or never, the layer cannot say */
  VMDK_STATUS_ZERO,             /* zeros */
};

/* Report what the chain knows of [OFFSET, OFFSET+COUNT): runs of data
 * (some layer has data there), saying which kind of layer, and of
 * zeros (a layer says zero, or no layer has data).  ADD is called for
 * consecutive runs.
 */
typedef int (*vmdk_chain_add_run) (void *opaque, uint64_t offset,
                                   uint64_t length, enum vmdk_status status);
int vmdk_chain_extents (struct vmdk_chain *c, uint32_t count, uint64_t offset,
                        vmdk_chain_add_run add, void *opaque);

#endif /* VMDK_CHAIN_H */
