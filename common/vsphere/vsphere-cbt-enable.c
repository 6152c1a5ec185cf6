/* Turning CBT on (vsphere-cbt-enable.h): one ReconfigVM_Task, then a
 * temporary snapshot taken and removed at once, since a disk starts
 * tracking only after a stun.  That snapshot is never quiesced, and has
 * its guardian like any other.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>

#include <nbdkit-plugin.h>

#include "vsphere-cbt-enable.h"
#include "vsphere-task.h"
#include "vsphere-temp-snapshot.h"

int
vs_vm_enable_cbt (struct vs_session *s, const struct vs_server *srv,
                  const char *vm_ref, const char *vm_name)
{
  struct vs_temp_snapshot stun;
  char what[256];
  struct vs_task_call c = {
    .method = "ReconfigVM_Task", .this_type = "VirtualMachine",
    .this_ref = vm_ref, .what = what, .busy_patience = 60,
    .args = "<spec><changeTrackingEnabled>true</changeTrackingEnabled>"
            "</spec>",
    .restricted_hint = "turn CBT on by hand (the VM's advanced "
      "configuration parameters: ctkEnabled = TRUE), then take and remove "
      "a snapshot so that it takes effect",
  };
  int r;

  snprintf (what, sizeof what, "turning on Changed Block Tracking on VM %s",
            vm_name);
  if (vs_task_run (s, &c, NULL) == -1)
    return -1;
  r = vs_temp_snapshot_take (&stun, s, srv, vm_ref, vm_name, false,
                             VS_STALE_REPORT);
  if (vs_temp_snapshot_remove (&stun, s, vm_ref, vm_name) == -1)
    r = -1;
  if (r == 0)
    nbdkit_debug ("Changed Block Tracking is on for VM %s", vm_name);
  return r;
}
