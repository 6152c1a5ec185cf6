#ifndef VSPHERE_CBT_EXTENTS_H
#define VSPHERE_CBT_EXTENTS_H

#include <stdint.h>

#include "vsphere-cbt.h"

/* Block status of [OFFSET, END): the areas of C are data, the rest
 * holes that read as zeros.
 */
struct nbdkit_extents;
int vs_changes_extents (const struct vs_changes *c, uint64_t offset,
                        uint64_t end, struct nbdkit_extents *extents);

#endif /* VSPHERE_CBT_EXTENTS_H */
