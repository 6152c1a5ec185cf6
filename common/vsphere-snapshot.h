/* VM snapshots: finding one, and taking and removing the temporary
 * one that gives a consistent image of a running VM.
 */
#ifndef VSPHERE_SNAPSHOT_H
#define VSPHERE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "vsphere-soap.h"

/* Find snapshot SPEC (a name, or moref=REF) of VM_REF.  Returns its
 * moref; an unknown or ambiguous name is an error listing the VM's
 * snapshots.
 */
char *vs_snapshot_find (struct vs_session *s, const char *vm_ref,
                        const char *vm_name, const char *spec);

/* The name snapshot=create gives its snapshot: the plugin takes it and
 * the cbt filter, in the same process, finds it by this name.
 */
#define VS_TEMP_SNAPSHOT_NAME_MAX 64
void vs_snapshot_temp_name (char *name, size_t len);

/* Take a snapshot without memory and wait for it, and for up to
 * timeout= for any other task holding the VM.  Returns its moref.
 */
char *vs_snapshot_create (struct vs_session *s, const char *vm_ref,
                          const char *name, bool quiesce);

/* Remove a snapshot, consolidating its disks, and wait for it, and
 * for up to ten times timeout= for any other task holding the VM.
 */
int vs_snapshot_remove (struct vs_session *s, const char *snap_ref);

#endif /* VSPHERE_SNAPSHOT_H */
