/* Shutting a VM down (vsphere-power.h): ShutdownGuest, then
 * runtime.powerState polled every 2 s.  PowerOffVM_Task is sent only
 * once force_after seconds have passed, or at once when the guest
 * cannot be asked and a power-off is allowed.  The poll's pause ends
 * early when the program stops (pause.h).
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nbdkit-plugin.h>

#include "pause.h"
#include "vsphere-power.h"
#include "vsphere-props.h"
#include "vsphere-task.h"

/* How often the power state is polled while waiting. */
#define POLL_SECONDS 2

char *
vs_vm_power_state (struct vs_session *s, const char *vm_ref)
{
  static const char *const paths[] = { "runtime.powerState", NULL };
  xmlDocPtr doc = vs_props_get (s, "VirtualMachine", vm_ref, paths);
  char *v, *r = NULL;

  if (!doc)
    return NULL;
  v = vs_props_text (doc, "runtime.powerState");
  if (v)
    r = strdup (v);
  else
    nbdkit_error ("VM %s: the server sent no runtime.powerState", vm_ref);
  xmlFree (v);
  xmlFreeDoc (doc);
  return r;
}

static int
is_off (struct vs_session *s, const char *vm_ref)
{
  char *state = vs_vm_power_state (s, vm_ref);
  int r;

  if (!state)
    return -1;
  r = strcmp (state, "poweredOff") == 0;
  free (state);
  return r;
}

static int
ask_guest (struct vs_session *s, const char *vm_ref, const char *vm_name)
{
  struct vs_fault f = { NULL, NULL };
  xmlDocPtr doc = vs_soap_call (s, "ShutdownGuest", "VirtualMachine", vm_ref,
                                "", &f);

  if (doc) {
    xmlFreeDoc (doc);
    return 0;
  }
  if (f.type && strcmp (f.type, "ToolsUnavailable") == 0)
    nbdkit_error ("VM %s: the guest cannot be asked to shut down: VMware "
                  "Tools is not running in it (ToolsUnavailable); shut the "
                  "guest down yourself and run again, or allow a power-off "
                  "(vsphere-sync --power-off-after SECONDS)", vm_name);
  else if (f.type)
    nbdkit_error ("VM %s: ShutdownGuest failed: %s: %s", vm_name, f.type,
                  f.message ? f.message : "");
  vs_fault_free (&f);
  return -1;
}

static int
power_off (struct vs_session *s, const char *vm_ref, const char *vm_name)
{
  char what[256];
  struct vs_task_call c = {
    .method = "PowerOffVM_Task", .this_type = "VirtualMachine",
    .this_ref = vm_ref, .args = "", .what = what, .busy_patience = 60,
  };

  snprintf (what, sizeof what, "powering off VM %s", vm_name);
  return vs_task_run (s, &c, NULL);
}

int
vs_vm_shut_down (struct vs_session *s, const char *vm_ref,
                 const char *vm_name, unsigned force_after, unsigned wait)
{
  time_t start = time (NULL);
  bool forced = false;
  int off = is_off (s, vm_ref);

  if (off != 0)
    return off == 1 ? 0 : -1;
  if (ask_guest (s, vm_ref, vm_name) == -1) {
    if (!force_after)
      return -1;
    nbdkit_debug ("VM %s: powering off, since the guest cannot be asked",
                  vm_name);
    return power_off (s, vm_ref, vm_name);
  }
  for (;;) {
    off = is_off (s, vm_ref);
    if (off != 0)
      return off == 1 ? 0 : -1;
    if (force_after && !forced && time (NULL) - start >= force_after) {
      nbdkit_debug ("VM %s: the guest did not shut down within %u s; "
                    "powering it off", vm_name, force_after);
      forced = true;
      if (power_off (s, vm_ref, vm_name) == -1)
        return -1;
      continue;
    }
    if (time (NULL) - start >= wait) {
      nbdkit_error ("VM %s: the guest did not shut down within %u s: shut "
                    "it down yourself, or allow a power-off after some "
                    "seconds (vsphere-sync --power-off-after SECONDS)", vm_name, wait);
      return -1;
    }
    if (!vs_pause ((struct timespec) { POLL_SECONDS, 0 })) {
      nbdkit_error ("VM %s: stopped while waiting for the guest to shut "
                    "down", vm_name);
      return -1;
    }
  }
}
