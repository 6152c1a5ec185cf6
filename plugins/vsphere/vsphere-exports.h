/* Every disk of a VM as an NBD export of one nbdkit instance, all from
 * the same snapshot.  An export is named by the disk's datastore path
 * ("[ds] dir/name.vmdk", as nbdkit-vddk-plugin names them), its index
 * or its label; "" is the default disk.  A disk's reader is opened on
 * first use, so many disks cost little until they are read.
 */
#ifndef VSPHERE_EXPORTS_H
#define VSPHERE_EXPORTS_H

#include <stdbool.h>
#include <stddef.h>

#include "vsphere-disks.h"
#include "vmdk-reader.h"

struct vs_exports;

/* Exports for the disks of DISKS (which must outlive them), with DFLT
 * the default.  PATTERN, if not NULL, is export=: a wildcard (fnmatch,
 * '*' also matching '/') on the datastore path restricting which disks
 * may be opened.  WHERE gives the server and datacenter; its file is
 * ignored.
 */
struct vs_exports *vs_exports_new (const struct vs_disks *disks,
                                   const struct vs_disk *dflt,
                                   const char *pattern,
                                   struct vs_http_pool *pool,
                                   const struct vmdk_location *where,
                                   const char *vm_name);
void vs_exports_free (struct vs_exports *x);

/* Whether export= lets disk D be opened. */
bool vs_exports_allowed (const struct vs_exports *x, const struct vs_disk *d);

/* The disk export NAME opens, or NULL (reported, listing the exports). */
const struct vs_disk *vs_exports_find (const struct vs_exports *x,
                                       const char *name);

/* The reader of disk D, opened on first use.  NULL on error (reported). */
struct vmdk_reader *vs_exports_reader (struct vs_exports *x,
                                       const struct vs_disk *d);

#endif /* VSPHERE_EXPORTS_H */
