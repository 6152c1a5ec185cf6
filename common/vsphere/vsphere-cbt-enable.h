/* Turning Changed Block Tracking on for a VM, when the user asks.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_CBT_ENABLE_H
#define VSPHERE_CBT_ENABLE_H

#include "vsphere-server.h"
#include "vsphere-soap.h"

/* Set config.changeTrackingEnabled on VM_REF, and make it take effect
 * on the disks by taking and removing a snapshot (a stun).  SRV must
 * hold the password (for the snapshot's guardian).  Returns 0, or -1
 * with the error reported.
 */
int vs_vm_enable_cbt (struct vs_session *s, const struct vs_server *srv,
                      const char *vm_ref, const char *vm_name);

#endif /* VSPHERE_CBT_ENABLE_H */
