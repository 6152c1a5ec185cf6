/* Finding a virtual machine and the datacenter it lives in.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_VM_H
#define VSPHERE_VM_H

#include "vsphere-soap.h"

/* Resolve a vm= value: an inventory path (contains '/'), moref=REF,
 * uuid=BIOS-UUID, instance-uuid=UUID, or a bare VM name.  Returns the
 * VM's moref (free with free) or NULL with an error that says how the
 * VM was looked up.
 */
char *vs_vm_find (struct vs_session *s, const char *spec);

/* The dcPath of the datacenter holding VM_REF: the names from the root
 * folder down to the datacenter, joined by '/'.  Free with free.
 */
char *vs_vm_dc_path (struct vs_session *s, const char *vm_ref);

#endif /* VSPHERE_VM_H */
