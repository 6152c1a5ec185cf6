/* VM snapshots: finding one, and taking and removing the temporary
 * one that gives a consistent image of a running VM.
 *
 * SPDX-License-Identifier: BSD-3-Clause
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

/* Whether snapshot SNAP_REF of VM_REF exists: 1 yes, 0 no, -1 vCenter
 * could not tell (reported).
 */
int vs_snapshot_present (struct vs_session *s, const char *vm_ref,
                         const char *snap_ref);

/* Temporary snapshots are named PREFIX + 32 random hex digits, unique
 * across hosts, containers and PID namespaces, and their description
 * records who took them (vsphere-owner.h).
 */
#define VS_TEMP_SNAPSHOT_PREFIX "nbdkit-vsphere-"
#define VS_TEMP_SNAPSHOT_NAME_MAX 64
int vs_snapshot_temp_name (char *name, size_t len);

/* Call F for every temporary snapshot of VM_REF, with its name, moref,
 * description and creation time (each possibly "").
 */
typedef void vs_snapshot_visit (void *opaque, const char *name,
                                const char *ref, const char *description,
                                const char *created);
int vs_snapshot_list_temporary (struct vs_session *s, const char *vm_ref,
                                vs_snapshot_visit *f, void *opaque);

/* Take a temporary snapshot without memory, recording this process as
 * its owner, and wait for it (for up to timeout= for any other task
 * holding the VM, and task-timeout= in all).  STARTED, if not NULL,
 * learns the task's moref first.  Returns the snapshot's moref.
 */
char *vs_snapshot_create (struct vs_session *s, const char *vm_ref,
                          const char *name, bool quiesce,
                          void (*started) (void *opaque, const char *task),
                          void *opaque);

/* Remove a snapshot, consolidating its disks, and wait for it, through
 * a busy VM and a vCenter that restarts, for up to task-timeout=.  A
 * snapshot that is already gone counts as removed.
 */
int vs_snapshot_remove (struct vs_session *s, const char *snap_ref);

#endif /* VSPHERE_SNAPSHOT_H */
