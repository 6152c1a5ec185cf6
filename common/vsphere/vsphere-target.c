/* The target parameters and their resolution (vsphere-target.h): the VM
 * is found by vsphere-vm.c, then its name, power state, CBT flag and
 * instance UUID read in one call.  The disk is chosen from the
 * snapshot's device list when a snapshot is read, since the snapshot's
 * disks may differ from the VM's now.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "vsphere-target.h"
#include "vsphere-xml.h"
#include "vsphere-props.h"
#include "vsphere-vm.h"

int
vs_target_config (struct vs_target_config *c, const char *key,
                  const char *value)
{
  int r;

  if (strcmp (key, "vm") == 0)
    c->vm = value;
  else if (strcmp (key, "disk") == 0)
    c->disk = value;
  else if (strcmp (key, "file") == 0)
    c->file = value;
  else if (strcmp (key, "snapshot") == 0)
    c->snapshot = value;
  else if (strcmp (key, "quiesce") == 0) {
    if ((r = nbdkit_parse_bool (value)) == -1)
      return -1;
    c->quiesce = r;
  }
  else
    return 0;
  return 1;
}

int
vs_target_config_complete (struct vs_target_config *c)
{
  if (!c->vm) {
    nbdkit_error ("the vm= parameter is required "
                  "(see nbdkit-vsphere-plugin(1))");
    return -1;
  }
  if (c->disk && c->file) {
    nbdkit_error ("give disk= or file=, not both");
    return -1;
  }
  if (!c->disk && !c->file)
    c->disk = "0";
  if (c->quiesce && !vs_target_creates_snapshot (c)) {
    nbdkit_error ("quiesce=true only applies with snapshot=create");
    return -1;
  }
  return 0;
}

int
vs_target_find_vm (struct vs_session *s, const struct vs_target_config *c,
                   struct vs_target *t)
{
  static const char *const paths[] = {
    "name", "runtime.powerState", "config.changeTrackingEnabled",
    "config.instanceUuid", NULL
  };
  xmlDocPtr doc;
  char *state, *cbt;

  memset (t, 0, sizeof *t);
  t->vm_ref = vs_vm_find (s, c->vm);
  if (!t->vm_ref)
    return -1;
  doc = vs_props_get (s, "VirtualMachine", t->vm_ref, paths);
  if (!doc)
    return -1;
  t->vm_name = vs_xml_take (vs_props_text (doc, "name"));
  t->instance_uuid = vs_xml_take (vs_props_text (doc, "config.instanceUuid"));
  state = vs_props_text (doc, "runtime.powerState");
  cbt = vs_props_text (doc, "config.changeTrackingEnabled");
  t->powered_on = state && strcmp (state, "poweredOn") == 0;
  t->cbt_enabled = cbt && strcmp (cbt, "true") == 0;
  xmlFree (state);
  xmlFree (cbt);
  xmlFreeDoc (doc);
  if (!t->vm_name) {
    nbdkit_error ("vm=%s: the server sent no name for VM %s; "
                  "cannot go on without it", c->vm, t->vm_ref);
    return -1;
  }
  t->dc_path = vs_vm_dc_path (s, t->vm_ref);
  return t->dc_path ? 0 : -1;
}

int
vs_target_find_disk (struct vs_session *s, const struct vs_target_config *c,
                     struct vs_target *t, char *snapshot_ref)
{
  static const char *const paths[] = { "config.hardware.device", NULL };
  xmlDocPtr doc;
  int r;

  /* A second call (the VM's disks now, then a snapshot's) replaces
   * what the first read.
   */
  vs_disks_free (&t->disks);
  t->disk = NULL;
  free (t->snapshot_ref);
  t->snapshot_ref = snapshot_ref;
  doc = snapshot_ref
    ? vs_props_get (s, "VirtualMachineSnapshot", snapshot_ref, paths)
    : vs_props_get (s, "VirtualMachine", t->vm_ref, paths);
  if (!doc)
    return -1;
  r = vs_disks_parse (vs_props_val (doc, "config.hardware.device"),
                      t->vm_name, &t->disks);
  xmlFreeDoc (doc);
  if (r == -1)
    return -1;
  t->disk = vs_disks_select (&t->disks, c->disk, c->file, t->vm_name);
  return t->disk ? 0 : -1;
}

void
vs_target_free (struct vs_target *t)
{
  free (t->vm_ref);
  free (t->vm_name);
  free (t->instance_uuid);
  free (t->dc_path);
  free (t->snapshot_ref);
  vs_disks_free (&t->disks);
  memset (t, 0, sizeof *t);
}
