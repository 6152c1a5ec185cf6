/* Shutting a VM down for the last cycle of a migration: the guest is
 * asked first (through VMware Tools), and the power is cut only when
 * the user allowed it and the guest took too long.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_POWER_H
#define VSPHERE_POWER_H

#include "vsphere-soap.h"

/* The VM's runtime.powerState ("poweredOn", "poweredOff", "suspended"),
 * or NULL (reported).  Free it.
 */
char *vs_vm_power_state (struct vs_session *s, const char *vm_ref);

/* Ask the guest of VM_REF to shut down and wait until the VM is off.
 * After FORCE_AFTER seconds (0: never), power it off; give up after
 * WAIT seconds in all.  A VM that is off already is left as it is.
 * Returns 0 when the VM is off, -1 otherwise (reported).
 */
int vs_vm_shut_down (struct vs_session *s, const char *vm_ref,
                     const char *vm_name, unsigned force_after,
                     unsigned wait);

#endif /* VSPHERE_POWER_H */
