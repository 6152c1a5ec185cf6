/* Reading a VMDK disk that lives on a datastore: its descriptor and
 * the extents it names, fetched with ranged HTTP reads.
 */
#ifndef VMDK_READER_H
#define VMDK_READER_H

#include <stdint.h>

#include "vsphere-http.h"

struct vmdk_reader;
struct nbdkit_extents;

/* Where a disk lives: the datastore file "[ds] dir/name.vmdk" in the
 * datacenter DC_PATH.
 */
struct vmdk_location {
  const char *server;
  const char *dc_path;
  const char *file;
};

/* Read and check the descriptor, and probe each extent.  CAPACITY is
 * what vSphere says the disk holds; a descriptor that disagrees is
 * refused.
 */
struct vmdk_reader *vmdk_reader_open (struct vs_http_pool *pool,
                                      const struct vmdk_location *loc,
                                      int64_t capacity);
void vmdk_reader_close (struct vmdk_reader *r);

int64_t vmdk_reader_size (const struct vmdk_reader *r);

int vmdk_reader_pread (struct vmdk_reader *r, void *buf, uint32_t count,
                       uint64_t offset);

/* Report ZERO extents as holes and everything else as data. */
int vmdk_reader_extents (struct vmdk_reader *r, uint32_t count,
                         uint64_t offset, struct nbdkit_extents *extents);

#endif /* VMDK_READER_H */
