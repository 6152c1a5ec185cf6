/* A VMDK disk on a datastore, read with ranged HTTP requests: the
 * chain of descriptors, extents and snapshot deltas down to the base.
 */
#ifndef VMDK_READER_H
#define VMDK_READER_H

#include <stdint.h>

#include "vsphere-http.h"

struct vmdk_reader;
struct nbdkit_extents;

/* Where a disk lives: the datastore file "[ds] dir/name.vmdk" in the
 * datacenter DC_PATH.  Parent hints may name a file by an absolute
 * /vmfs/volumes/VOLUME/... path: DATASTORE_FOR_VOLUME gives the name
 * of the datastore VOLUME (a name or a UUID) is, or NULL (reported).
 */
struct vmdk_location {
  const char *server;
  const char *dc_path;
  const char *file;
  char *(*datastore_for_volume) (void *opaque, const char *volume);
  void *opaque;
};

/* Open the disk and every layer below it.  CAPACITY is what vSphere
 * says the disk holds; a descriptor that disagrees is refused.
 */
struct vmdk_reader *vmdk_reader_open (struct vs_http_pool *pool,
                                      const struct vmdk_location *loc,
                                      int64_t capacity);
void vmdk_reader_close (struct vmdk_reader *r);

int64_t vmdk_reader_size (const struct vmdk_reader *r);

int vmdk_reader_pread (struct vmdk_reader *r, void *buf, uint32_t count,
                       uint64_t offset);

/* Block status of the bytes of flat extents, [OFFSET, OFFSET+LENGTH)
 * of the disk, which the VMDK layers cannot tell written from never
 * written: add their extents to EXTENTS.
 */
typedef int vmdk_flat_extents (void *opaque, uint64_t offset,
                               uint64_t length,
                               struct nbdkit_extents *extents);

/* Data where some layer has data; holes that read as zeros elsewhere.
 * FLAT, if not NULL, tells more of the bytes of flat extents, which are
 * otherwise data.
 */
int vmdk_reader_extents (struct vmdk_reader *r, uint32_t count,
                         uint64_t offset, struct nbdkit_extents *extents,
                         vmdk_flat_extents *flat, void *flat_opaque);

#endif /* VMDK_READER_H */
