/* The libvirt domain XML of a VM (domain.h), built with libxml2 so
 * that every name and path is escaped: OS and firmware, controllers,
 * one disk per vSphere disk on its own bus and unit, NICs with their
 * MACs, and the VM's identity in our own metadata.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <libxml/tree.h>

#include "domain.h"
#include "tool-messages.h"

/* Ours, for what libvirt's schema has no place for. */
#define METADATA_NS "urn:nbdkit-vsphere:domain:1"

/* A child element with TEXT as its content (escaped), or none. */
static xmlNodePtr
add (xmlNodePtr parent, const char *name, const char *text)
{
  return xmlNewTextChild (parent, NULL, BAD_CAST name, BAD_CAST text);
}

static void
attr (xmlNodePtr node, const char *name, const char *value)
{
  xmlNewProp (node, BAD_CAST name, BAD_CAST value);
}

static void
attr_int (xmlNodePtr node, const char *name, int64_t value)
{
  char buf[32];

  snprintf (buf, sizeof buf, "%" PRIi64, value);
  attr (node, name, buf);
}

/* vSphere's guest ids say "64" for every 64-bit x86 guest. */
static const char *
guest_arch (const char *guest_id)
{
  return guest_id && strstr (guest_id, "64") ? "x86_64" : "i686";
}

/* libvirt's disk names: PREFIX then a..z, aa..zz, ... */
static void
disk_name (char *buf, size_t len, const char *prefix, unsigned index)
{
  char letters[8];
  size_t n = 0, i;

  do {
    letters[n++] = 'a' + index % 26;
    index = index / 26;
  } while (index-- > 0 && n < sizeof letters);
  i = snprintf (buf, len, "%s", prefix);
  while (n > 0 && i + 1 < len)
    buf[i++] = letters[--n];
  buf[i] = '\0';
}

static void
add_os (xmlNodePtr domain, const struct vs_hardware *hw)
{
  xmlNodePtr os = add (domain, "os", NULL), type;

  attr (os, "firmware", hw->efi ? "efi" : "bios");
  type = add (os, "type", "hvm");
  attr (type, "arch", guest_arch (hw->guest_id));
  if (hw->efi && hw->secure_boot) {
    xmlNodePtr feature = add (add (os, "firmware", NULL), "feature", NULL);

    attr (feature, "enabled", "yes");
    attr (feature, "name", "secure-boot");
    attr (add (os, "loader", NULL), "secure", "yes");
  }
}

static void
add_controllers (xmlNodePtr devices, const struct vs_hardware *hw)
{
  static const char *const bus_names[] = {
    [VS_BUS_IDE] = "ide", [VS_BUS_SCSI] = "scsi", [VS_BUS_SATA] = "sata",
    [VS_BUS_NVME] = "nvme",
  };
  size_t i;

  for (i = 0; i < hw->controllers.len; i++) {
    const struct vs_controller *c = &hw->controllers.ptr[i];
    xmlNodePtr node = add (devices, "controller", NULL);

    attr (node, "type", bus_names[c->bus]);
    attr_int (node, "index", c->bus_number);
    if (c->model)
      attr (node, "model", c->model);
  }
}

/* Disk names count per prefix, in the order of the disks. */
struct names {
  unsigned hd, sd;
};

static void
add_target (xmlNodePtr disk, const struct vs_disk *vd,
            const struct vs_controller *c, struct names *n)
{
  xmlNodePtr target = add (disk, "target", NULL), address;
  char dev[32];
  int unit = vd->unit >= 0 ? vd->unit : 0;

  switch (c->bus) {
  case VS_BUS_IDE:
    disk_name (dev, sizeof dev, "hd", n->hd++);
    break;
  case VS_BUS_NVME:
    snprintf (dev, sizeof dev, "nvme%dn%d", c->bus_number, unit + 1);
    break;
  default:
    disk_name (dev, sizeof dev, "sd", n->sd++);
  }
  attr (target, "dev", dev);
  attr (target, "bus", c->bus == VS_BUS_IDE ? "ide"
        : c->bus == VS_BUS_SATA ? "sata"
        : c->bus == VS_BUS_NVME ? "nvme" : "scsi");
  if (c->bus == VS_BUS_NVME)
    return;
  address = add (disk, "address", NULL);
  attr (address, "type", "drive");
  attr_int (address, "controller", c->bus == VS_BUS_IDE ? 0 : c->bus_number);
  attr_int (address, "bus", c->bus == VS_BUS_IDE ? c->bus_number : 0);
  attr (address, "target", "0");
  attr_int (address, "unit", unit);
}

static void
add_disk (xmlNodePtr devices, const struct vs_disk *vd,
          const struct vs_controller *c, const struct v2v_source *src,
          struct names *n)
{
  static const char *const kinds[] = {
    [V2V_NBD] = "network", [V2V_FILE] = "file", [V2V_BLOCK] = "block",
  };
  xmlNodePtr disk = add (devices, "disk", NULL), driver, source;

  attr (disk, "type", kinds[src->kind]);
  attr (disk, "device", "disk");
  driver = add (disk, "driver", NULL);
  attr (driver, "name", "qemu");
  attr (driver, "type", src->format);
  source = add (disk, "source", NULL);
  switch (src->kind) {
  case V2V_NBD: {
    /* virt-v2v 2.2 takes NBD only as TCP on the literal "localhost". */
    xmlNodePtr host;

    attr (source, "protocol", "nbd");
    host = add (source, "host", NULL);
    attr (host, "name", "localhost");
    attr_int (host, "port", src->port);
    break;
  }
  case V2V_FILE:
    attr (source, "file", src->path);
    break;
  case V2V_BLOCK:
    attr (source, "dev", src->path);
    break;
  }
  add_target (disk, vd, c, n);
}

static void
add_nics (xmlNodePtr devices, const struct vs_hardware *hw)
{
  size_t i;

  for (i = 0; i < hw->nics.len; i++) {
    const struct vs_nic *nic = &hw->nics.ptr[i];
    xmlNodePtr node = add (devices, "interface", NULL);

    attr (node, "type", "network");
    if (nic->mac)
      attr (add (node, "mac", NULL), "address", nic->mac);
    attr (add (node, "source", NULL), "network",
          nic->network ? nic->network : "");
    attr (add (node, "model", NULL), "type", nic->model);
  }
}

static void
add_metadata (xmlNodePtr domain, const struct v2v_domain *d)
{
  xmlNodePtr vm = add (add (domain, "metadata", NULL), "vm", NULL);
  xmlNsPtr ns = xmlNewNs (vm, BAD_CAST METADATA_NS, BAD_CAST "vsphere");

  xmlSetNs (vm, ns);
  xmlNewTextChild (vm, ns, BAD_CAST "server", BAD_CAST d->server);
  xmlNewTextChild (vm, ns, BAD_CAST "moref", BAD_CAST d->target->vm_ref);
  if (d->target->instance_uuid)
    xmlNewTextChild (vm, ns, BAD_CAST "instance-uuid",
                     BAD_CAST d->target->instance_uuid);
  if (d->target->snapshot_ref)
    xmlNewTextChild (vm, ns, BAD_CAST "snapshot",
                     BAD_CAST d->target->snapshot_ref);
  if (d->hw->guest_id)
    xmlNewTextChild (vm, ns, BAD_CAST "guest-id", BAD_CAST d->hw->guest_id);
}

static xmlDocPtr
build (const struct v2v_domain *d)
{
  const struct vs_hardware *hw = d->hw;
  const struct vs_disks *disks = &d->target->disks;
  xmlDocPtr doc = xmlNewDoc (BAD_CAST "1.0");
  xmlNodePtr domain, devices, features;
  struct names names = { 0, 0 };
  char number[32];
  size_t i;

  if (!doc)
    return NULL;
  domain = xmlNewNode (NULL, BAD_CAST "domain");
  xmlDocSetRootElement (doc, domain);
  attr (domain, "type", "vmware");
  add (domain, "name", d->target->vm_name);
  if (hw->uuid)
    add (domain, "uuid", hw->uuid);
  add_metadata (domain, d);
  snprintf (number, sizeof number, "%" PRIi64, hw->memory_mb * 1024);
  attr (add (domain, "memory", number), "unit", "KiB");
  snprintf (number, sizeof number, "%" PRIi64, hw->cpus);
  add (domain, "vcpu", number);
  if (hw->cores_per_socket > 0) {
    xmlNodePtr topology = add (add (domain, "cpu", NULL), "topology", NULL);

    attr_int (topology, "sockets", hw->cpus / hw->cores_per_socket);
    attr_int (topology, "cores", hw->cores_per_socket);
    attr (topology, "threads", "1");
  }
  add_os (domain, hw);
  /* Every vSphere VM has them; without them virt-v2v's output would
   * have no ACPI (no clean shutdown, one CPU).
   */
  features = add (domain, "features", NULL);
  add (features, "acpi", NULL);
  add (features, "apic", NULL);
  add (features, "pae", NULL);
  devices = add (domain, "devices", NULL);
  add_controllers (devices, hw);
  for (i = 0; i < disks->len; i++) {
    const struct vs_disk *vd = &disks->ptr[i];
    const struct vs_controller *c = vs_hardware_controller (hw,
                                                            vd->controller_key);
    static const struct vs_controller unknown = {
      .bus = VS_BUS_SCSI, .bus_number = 0,
    };

    add_disk (devices, vd, c ? c : &unknown, &d->source[i], &names);
  }
  add_nics (devices, hw);
  return doc;
}

int
v2v_domain_write (const struct v2v_domain *d, const char *path)
{
  xmlDocPtr doc = build (d);
  int r = -1;

  if (doc)
    r = xmlSaveFormatFileEnc (path, doc, "UTF-8", 1);
  xmlFreeDoc (doc);
  if (r == -1) {
    tool_error ("cannot write the domain XML to %s", path);
    return -1;
  }
  return 0;
}
