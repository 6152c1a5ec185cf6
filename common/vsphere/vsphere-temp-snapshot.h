/* A temporary snapshot of a VM, taken for one run and always removed:
 * a guardian process watches from before it is asked for, so that no
 * way of dying leaves it behind unseen.  Shared by the plugin
 * (snapshot=create) and vsphere-sync.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_TEMP_SNAPSHOT_H
#define VSPHERE_TEMP_SNAPSHOT_H

#include <stdbool.h>

#include "vsphere-server.h"
#include "vsphere-snapshot.h"
#include "vsphere-soap.h"
#include "vsphere-stale.h"

struct vs_temp_snapshot {
  char *ref;                    /* moref, NULL until taken */
  char name[VS_TEMP_SNAPSHOT_NAME_MAX];
  struct vs_guardian *guardian;
};

/* Report (or remove, by POLICY) what dead runs left on VM_REF, then
 * take the snapshot.  SRV must hold the password (for the guardian).
 * Returns 0, or -1 with the error reported; call vs_temp_snapshot_remove
 * either way.
 */
int vs_temp_snapshot_take (struct vs_temp_snapshot *t, struct vs_session *s,
                           const struct vs_server *srv, const char *vm_ref,
                           const char *vm_name, bool quiesce,
                           enum vs_stale_policy policy);

/* Remove it if it was taken, and dismiss the guardian, which goes on
 * trying after this process exits if vCenter would not.  Returns 0 when
 * the snapshot is surely gone (or was never taken), -1 otherwise, with
 * the error reported.  Safe to call twice.
 */
int vs_temp_snapshot_remove (struct vs_temp_snapshot *t,
                             struct vs_session *s, const char *vm_ref,
                             const char *vm_name);

#endif /* VSPHERE_TEMP_SNAPSHOT_H */
