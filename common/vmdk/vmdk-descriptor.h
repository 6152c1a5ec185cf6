/* Parsing VMDK text descriptors.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VMDK_DESCRIPTOR_H
#define VMDK_DESCRIPTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vector.h"

#define VMDK_SECTOR 512
/* qemu refuses larger descriptors; so do we. */
#define VMDK_DESCRIPTOR_MAX (1024 * 1024)

enum vmdk_extent_type {
  VMDK_EXTENT_FLAT,
  VMDK_EXTENT_VMFS,
  VMDK_EXTENT_ZERO,
  VMDK_EXTENT_SPARSE,
  VMDK_EXTENT_VMFSSPARSE,
  VMDK_EXTENT_SESPARSE,
  VMDK_EXTENT_VMFSRDM,
  VMDK_EXTENT_VMFSRAW,
  VMDK_EXTENT_VSANSPARSE,
};

struct vmdk_extent {
  enum vmdk_extent_type type;
  uint64_t sectors;
  char *file;                   /* relative name, NULL for ZERO */
  uint64_t offset;              /* in sectors, FLAT only */
};
DEFINE_VECTOR (vmdk_extents, struct vmdk_extent)

struct vmdk_descriptor {
  char *create_type;
  uint32_t cid, parent_cid;
  char *parent_hint;            /* parentFileNameHint, or NULL */
  /* VM Encryption: encryption.* lines, or the vmwarevmcrypt I/O
   * filter.  The extents then hold ciphertext that only the host can
   * decrypt.
   */
  bool encrypted;
  struct vmdk_extents extents;
};

/* Parse TEXT (LEN bytes).  NAME names the file in error messages. */
int vmdk_descriptor_parse (const char *text, size_t len, const char *name,
                           struct vmdk_descriptor *d);
void vmdk_descriptor_free (struct vmdk_descriptor *d);

/* Total size of the extents in bytes. */
uint64_t vmdk_descriptor_size (const struct vmdk_descriptor *d);

const char *vmdk_extent_type_name (enum vmdk_extent_type t);

/* True if an extent file name stays inside the descriptor's directory. */
bool vmdk_extent_name_is_local (const char *file);

#endif /* VMDK_DESCRIPTOR_H */
