/* The virtual disks in a config.hardware.device list.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_DISKS_H
#define VSPHERE_DISKS_H

#include <stdbool.h>
#include <stdint.h>
#include <libxml/tree.h>

#include "vector.h"

struct vs_disk {
  int key;                      /* device key */
  char *label;                  /* "Hard disk 1" */
  char *file;                   /* "[datastore] dir/name.vmdk" */
  char *backing;                /* backing type, e.g. ...FlatVer2BackingInfo */
  char *change_id;              /* CBT changeId, or NULL */
  char *uuid;                   /* the backing's uuid (the disk's own), or NULL */
  char *mode;                   /* diskMode: "persistent", "independent_..." */
  int64_t capacity;             /* bytes */
  int controller_key;           /* the controller's device key, or -1 */
  int unit;                     /* unitNumber on it, or -1 */
  bool encrypted;               /* the backing has a keyId (VM Encryption) */
};

DEFINE_VECTOR (vs_disks, struct vs_disk)

/* Collect the VirtualDisk devices of DEVICES (the <val> of
 * config.hardware.device), in device order.  A disk without a key or
 * a valid capacity is an error naming VM and the disk.
 */
int vs_disks_parse (xmlNodePtr devices, const char *vm,
                    struct vs_disks *out);
void vs_disks_free (struct vs_disks *d);

/* Whether D is an independent disk, which snapshots do not freeze: a
 * running VM goes on writing it while a snapshot is read.
 */
bool vs_disk_independent (const struct vs_disk *d);

/* Pick a disk by disk= (0-based index or label) or file= (datastore
 * path).  On failure the error lists the VM's disks.
 */
const struct vs_disk *vs_disks_select (const struct vs_disks *d,
                                       const char *disk, const char *file,
                                       const char *vm);

/* The disk an NBD export name opens: its datastore path ("[ds] dir/
 * name.vmdk"), its index, or its label.  On failure the error lists
 * the VM's disks.
 */
const struct vs_disk *vs_disks_by_export (const struct vs_disks *d,
                                          const char *name, const char *vm);

/* The disk of device key KEY, or NULL. */
const struct vs_disk *vs_disks_by_key (const struct vs_disks *d, int key);

/* Split "[datastore] dir/name.vmdk": returns the datastore name and
 * sets *PATH to the path inside it.  Free the result with free.
 */
char *vs_datastore_path_split (const char *file, const char **path);

#endif /* VSPHERE_DISKS_H */
