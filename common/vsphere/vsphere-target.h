/* Which disk to read: the vm=, disk=, file= and snapshot= parameters,
 * and their resolution against the inventory.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_TARGET_H
#define VSPHERE_TARGET_H

#include <stdbool.h>
#include <string.h>

#include "vsphere-soap.h"
#include "vsphere-disks.h"

struct vs_target_config {
  const char *vm;
  const char *disk;             /* default "0" */
  const char *file;
  const char *snapshot;         /* name, moref=REF, "create", or NULL */
  bool quiesce;
};

#define VS_TARGET_CONFIG_HELP \
  "vm=<VM>                 (required) Inventory path, moref=, uuid=,\n" \
  "                        instance-uuid= or name of the VM.\n" \
  "disk=<N>|<LABEL>        Disk by 0-based index or label (default 0).\n" \
  "file=\"[DS] DIR/X.vmdk\"  Disk by its datastore path.\n" \
  "snapshot=<NAME>         Read from a snapshot (a name or moref=REF), or\n" \
  "                        'create' a temporary one for this run.\n" \
  "quiesce=true            Quiesce the guest for snapshot=create."

/* Returns 1 if KEY was a target parameter, 0 if not, -1 on error. */
int vs_target_config (struct vs_target_config *c, const char *key,
                      const char *value);
int vs_target_config_complete (struct vs_target_config *c);

static inline bool
vs_target_creates_snapshot (const struct vs_target_config *c)
{
  return c->snapshot && strcmp (c->snapshot, "create") == 0;
}

/* A disk found in the inventory. */
struct vs_target {
  char *vm_ref;
  char *vm_name;
  char *instance_uuid;          /* or NULL if the server sent none */
  char *dc_path;
  char *snapshot_ref;           /* NULL: the live disk */
  bool powered_on;
  bool cbt_enabled;
  struct vs_disks disks;        /* of the snapshot, or of the VM */
  const struct vs_disk *disk;   /* the selected one, inside disks */
};

/* Find the VM (sets vm_ref, vm_name, dc_path, powered_on, cbt_enabled). */
int vs_target_find_vm (struct vs_session *s, const struct vs_target_config *c,
                       struct vs_target *t);

/* Read the disks, of snapshot SNAPSHOT_REF if not NULL (else of the VM
 * now), and select one; they replace those an earlier call read.
 * Takes ownership of SNAPSHOT_REF.
 */
int vs_target_find_disk (struct vs_session *s,
                         const struct vs_target_config *c,
                         struct vs_target *t, char *snapshot_ref);

void vs_target_free (struct vs_target *t);

#endif /* VSPHERE_TARGET_H */
