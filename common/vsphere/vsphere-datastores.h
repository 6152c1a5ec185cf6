/* Mapping the /vmfs/volumes/VOLUME names that ESXi writes in parent
 * hints back to datastores.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_DATASTORES_H
#define VSPHERE_DATASTORES_H

#include "vsphere-soap.h"

/* The name of the datastore of VM_REF that VOLUME designates: its name,
 * or the UUID in its URL (ds:///vmfs/volumes/UUID/).  Free with free.
 */
char *vs_datastore_for_volume (struct vs_session *s, const char *vm_ref,
                               const char *volume);

#endif /* VSPHERE_DATASTORES_H */
