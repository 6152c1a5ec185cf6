/* The VM's hardware (vsphere-hardware.h), read from its config
 * property, or its snapshot's, in one call.  Controllers and NICs are
 * mapped to libvirt's model names through fixed tables; devices of
 * other kinds are skipped.  Only a NIC on a distributed port group
 * costs one more call, to learn the port group's name.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "vsphere-hardware.h"
#include "vsphere-props.h"
#include "vsphere-xml.h"

/* vSphere's device types and the names libvirt gives the same models. */
struct model {
  const char *type;
  enum vs_bus bus;
  const char *libvirt;
};

static const struct model controllers[] = {
  { "ParaVirtualSCSIController", VS_BUS_SCSI, "vmpvscsi" },
  { "VirtualLsiLogicController", VS_BUS_SCSI, "lsilogic" },
  { "VirtualLsiLogicSASController", VS_BUS_SCSI, "lsisas1068" },
  { "VirtualBusLogicController", VS_BUS_SCSI, "buslogic" },
  { "VirtualAHCIController", VS_BUS_SATA, NULL },
  { "VirtualNVMEController", VS_BUS_NVME, NULL },
  { "VirtualIDEController", VS_BUS_IDE, NULL },
};

static const struct model nics[] = {
  { "VirtualVmxnet3", 0, "vmxnet3" },
  { "VirtualVmxnet3Vrdma", 0, "vmxnet3" },
  { "VirtualVmxnet2", 0, "vmxnet2" },
  { "VirtualVmxnet", 0, "vmxnet" },
  { "VirtualE1000", 0, "e1000" },
  { "VirtualE1000e", 0, "e1000e" },
  { "VirtualPCNet32", 0, "pcnet" },
};

static const struct model *
lookup (const struct model *list, size_t n, const char *type)
{
  size_t i;

  for (i = 0; type && i < n; i++)
    if (strcmp (list[i].type, type) == 0)
      return &list[i];
  return NULL;
}

/* A number the configuration must hold, from MIN to MAX. */
static int
get_number (xmlNodePtr node, const char *name, int64_t min, int64_t max,
            const char *vm, int64_t *ret)
{
  if (vs_xml_child_int64 (node, name, ret) == -1 || *ret < min ||
      *ret > max) {
    nbdkit_error ("VM %s: its configuration has no valid %s", vm, name);
    return -1;
  }
  return 0;
}

/* The name users know a NIC's network by: a standard network's own
 * name, a distributed port group's name (its key is its moref), or an
 * NSX opaque network's id; NULL if it has none.  -1 with one error
 * reported if a distributed port group cannot be named.
 */
static int
nic_network (struct vs_session *s, xmlNodePtr dev, const char *vm,
             char **network)
{
  static const char *const paths[] = { "name", NULL };
  xmlNodePtr backing = vs_xml_child (dev, "backing");
  char *name = vs_xml_child_text (backing, "deviceName"), *key;
  xmlDocPtr doc;

  if (name) {
    *network = vs_xml_take (name);
    return 0;
  }
  key = vs_xml_child_text (vs_xml_child (backing, "port"), "portgroupKey");
  if (!key) {
    *network = vs_xml_take (vs_xml_child_text (backing, "opaqueNetworkId"));
    return 0;
  }
  /* vs_props_get explains its own failure. */
  doc = vs_props_get (s, "DistributedVirtualPortgroup", (char *) key, paths);
  *network = doc ? vs_xml_take (vs_props_text (doc, "name")) : NULL;
  if (doc && !*network)
    nbdkit_error ("VM %s: its distributed port group %s has no name",
                  vm, key);
  xmlFreeDoc (doc);
  xmlFree (key);
  return *network ? 0 : -1;
}

static int
add_device (struct vs_session *s, xmlNodePtr dev, const char *vm,
            struct vs_hardware *hw)
{
  char *type = vs_xml_type (dev);
  const struct model *m;
  int64_t key, bus;
  int r = 0;

  if ((m = lookup (controllers, sizeof controllers / sizeof controllers[0],
                   type))) {
    if (get_number (dev, "key", 0, INT_MAX, vm, &key) == -1 ||
        get_number (dev, "busNumber", 0, INT_MAX, vm, &bus) == -1)
      r = -1;
    else if (vs_controllers_append (&hw->controllers,
                                    (struct vs_controller) {
                                      .key = key, .bus_number = bus,
                                      .bus = m->bus, .model = m->libvirt,
                                    }) == -1) {
      nbdkit_error ("out of memory");
      r = -1;
    }
  }
  else if ((m = lookup (nics, sizeof nics / sizeof nics[0], type))) {
    struct vs_nic n = {
      .model = m->libvirt,
      .mac = vs_xml_take (vs_xml_child_text (dev, "macAddress")),
    };

    /* Kept before its network is looked up, so that it is freed with
     * the rest whatever happens.
     */
    if (vs_nics_append (&hw->nics, n) == -1) {
      free (n.mac);
      nbdkit_error ("out of memory");
      r = -1;
    }
    else
      r = nic_network (s, dev, vm, &hw->nics.ptr[hw->nics.len - 1].network);
  }
  xmlFree (type);
  return r;
}

static bool
text_is (xmlNodePtr node, const char *name, const char *want)
{
  char *s = vs_xml_child_text (node, name);
  bool r = s && strcmp (s, want) == 0;

  xmlFree (s);
  return r;
}

int
vs_hardware_get (struct vs_session *s, const char *vm_ref,
                 const char *snapshot_ref, const char *vm_name,
                 struct vs_hardware *hw)
{
  static const char *const paths[] = { "config", NULL };
  xmlDocPtr doc;
  xmlNodePtr config, hardware, dev;
  int r = -1;

  memset (hw, 0, sizeof *hw);
  doc = snapshot_ref
    ? vs_props_get (s, "VirtualMachineSnapshot", snapshot_ref, paths)
    : vs_props_get (s, "VirtualMachine", vm_ref, paths);
  if (!doc)
    return -1;
  config = vs_props_val (doc, "config");
  hardware = vs_xml_child (config, "hardware");
  if (!hardware) {
    nbdkit_error ("VM %s: the server sent no hardware configuration",
                  vm_name);
    goto out;
  }
  hw->uuid = vs_xml_take (vs_xml_child_text (config, "uuid"));
  hw->guest_id = vs_xml_take (vs_xml_child_text (config, "guestId"));
  hw->efi = text_is (config, "firmware", "efi");
  hw->secure_boot = text_is (vs_xml_child (config, "bootOptions"),
                             "efiSecureBootEnabled", "true");
  if (get_number (hardware, "memoryMB", 1, INT64_MAX / (1024 * 1024),
                  vm_name, &hw->memory_mb) == -1 ||
      get_number (hardware, "numCPU", 1, INT_MAX, vm_name, &hw->cpus) == -1)
    goto out;
  if (vs_xml_child_int64 (hardware, "numCoresPerSocket",
                          &hw->cores_per_socket) == -1 ||
      hw->cores_per_socket < 1 || hw->cpus % hw->cores_per_socket != 0)
    hw->cores_per_socket = 0;
  for (dev = vs_xml_child (hardware, "device"); dev;
       dev = vs_xml_next_same (dev))
    if (add_device (s, dev, vm_name, hw) == -1)
      goto out;
  r = 0;
 out:
  xmlFreeDoc (doc);
  if (r == -1)
    vs_hardware_free (hw);
  return r;
}

void
vs_hardware_free (struct vs_hardware *hw)
{
  size_t i;

  for (i = 0; i < hw->nics.len; i++) {
    free (hw->nics.ptr[i].mac);
    free (hw->nics.ptr[i].network);
  }
  vs_nics_reset (&hw->nics);
  vs_controllers_reset (&hw->controllers);
  free (hw->uuid);
  free (hw->guest_id);
  memset (hw, 0, sizeof *hw);
}

const struct vs_controller *
vs_hardware_controller (const struct vs_hardware *hw, int key)
{
  size_t i;

  for (i = 0; i < hw->controllers.len; i++)
    if (hw->controllers.ptr[i].key == key)
      return &hw->controllers.ptr[i];
  return NULL;
}
