/* A VM's virtual hardware as its configuration describes it: what a
 * description of the VM for another hypervisor needs (virt-v2v's
 * libvirt XML).  Disks are in vsphere-disks.h.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_HARDWARE_H
#define VSPHERE_HARDWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vector.h"
#include "vsphere-soap.h"

enum vs_bus { VS_BUS_IDE, VS_BUS_SCSI, VS_BUS_SATA, VS_BUS_NVME };

struct vs_controller {
  int key;                      /* device key, as disks name it */
  int bus_number;               /* among controllers of its bus */
  enum vs_bus bus;
  const char *model;            /* libvirt's name: "vmpvscsi", "lsilogic",
                                   "lsisas1068", "buslogic", or NULL */
};
DEFINE_VECTOR (vs_controllers, struct vs_controller)

struct vs_nic {
  const char *model;            /* libvirt's name: "vmxnet3", "e1000", ... */
  char *mac;                    /* or NULL */
  char *network;                /* port group or network name, or NULL */
};
DEFINE_VECTOR (vs_nics, struct vs_nic)

struct vs_hardware {
  char *uuid;                   /* config.uuid, the BIOS UUID; or NULL */
  char *guest_id;               /* config.guestId, e.g. "debian12_64Guest" */
  int64_t memory_mb;
  int64_t cpus;
  int64_t cores_per_socket;     /* 0 if not given */
  bool efi;                     /* config.firmware is "efi" */
  bool secure_boot;
  struct vs_controllers controllers;
  struct vs_nics nics;
};

/* The hardware of VM_REF, or of its snapshot SNAPSHOT_REF (not NULL:
 * the snapshot keeps the configuration of its moment).  VM_NAME is for
 * messages.  Returns 0, or -1 with the error reported.
 */
int vs_hardware_get (struct vs_session *s, const char *vm_ref,
                     const char *snapshot_ref, const char *vm_name,
                     struct vs_hardware *hw);

void vs_hardware_free (struct vs_hardware *hw);

/* The controller with device key KEY, or NULL. */
const struct vs_controller *vs_hardware_controller (const struct vs_hardware *hw,
                                                    int key);

#endif /* VSPHERE_HARDWARE_H */
