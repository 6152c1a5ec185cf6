/* Block status of thin disks: vSphere's allocated areas of a disk
 * (QueryChangedDiskAreas with changeId "*", as of the snapshot read)
 * say which bytes of its flat extents were ever written; the rest reads
 * as zeros.  They are asked for a page at a time where block status is
 * asked, and kept in a small cache that the disk's connections share.
 * A disk that cannot say is all data, as without them.
 */
#ifndef VSPHERE_ALLOC_H
#define VSPHERE_ALLOC_H

#include <stdint.h>

#include "vsphere-disks.h"
#include "vsphere-soap.h"

struct vs_alloc;
struct nbdkit_extents;

/* The allocated areas of disk D in snapshot SNAPSHOT_REF of VM VM_REF
 * (all of which must outlive them), or NULL if they cannot be had: no
 * snapshot, or no changeId on the disk (said with nbdkit_debug), or no
 * datastore file.
 */
struct vs_alloc *vs_alloc_new (struct vs_session *s, const char *vm_ref,
                               const char *snapshot_ref,
                               const struct vs_disk *d);
void vs_alloc_free (struct vs_alloc *a);

/* A vmdk_flat_extents for vs_alloc ALLOC: the allocated areas of
 * [OFFSET, OFFSET+LENGTH) are data, the rest holes that read as zeros.
 * Once vSphere fails to answer (said once, with nbdkit_debug), all of
 * it is data.
 */
int vs_alloc_extents (void *alloc, uint64_t offset, uint64_t length,
                      struct nbdkit_extents *extents);

#endif /* VSPHERE_ALLOC_H */
