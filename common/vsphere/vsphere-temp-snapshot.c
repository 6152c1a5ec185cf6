/* The temporary snapshot (vsphere-temp-snapshot.h), where order
 * matters: the guardian is started and told the snapshot's name before
 * CreateSnapshot_Task is sent, then its task and its moref as soon as
 * each is known, so that whenever this process dies the guardian knows
 * enough to find the snapshot and remove it.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "vsphere-guardian.h"
#include "pause.h"
#include "vsphere-temp-snapshot.h"

static void
tell_guardian_task (void *opaque, const char *task)
{
  struct vs_temp_snapshot *t = opaque;

  vs_guardian_task (t->guardian, task);
}

int
vs_temp_snapshot_take (struct vs_temp_snapshot *t, struct vs_session *s,
                       const struct vs_server *srv, const char *vm_ref,
                       const char *vm_name, bool quiesce,
                       enum vs_stale_policy policy)
{
  memset (t, 0, sizeof *t);
  vs_stale_check (s, vm_ref, vm_name, policy);
  if (vs_snapshot_temp_name (t->name, sizeof t->name) == -1)
    return -1;
  t->guardian = vs_guardian_start (srv, vm_ref);
  if (!t->guardian)
    return -1;
  vs_guardian_name (t->guardian, t->name);
  t->ref = vs_snapshot_create (s, vm_ref, t->name, quiesce,
                               tell_guardian_task, t);
  if (!t->ref)
    return -1;
  vs_guardian_ref (t->guardian, t->ref);
  nbdkit_debug ("created temporary snapshot %s (%s)", t->name, t->ref);
  return 0;
}

/* T could not be removed (WHAT), and its guardian goes on trying
 * after this process exits; ADVICE says what the user can do.
 */
static void
left_to_guardian (const struct vs_temp_snapshot *t, struct vs_session *s,
                  const char *vm_name, const char *what, const char *advice)
{
  nbdkit_error ("the temporary snapshot %s (%s) of VM %s %s; the guardian "
                "(pid %d) goes on trying for task-timeout= after this "
                "process exits: %s %s", t->name, t->ref, vm_name, what,
                (int) vs_guardian_pid (t->guardian), advice,
                vs_session_product (s));
}

/* "NOT removed" is said only of a snapshot vCenter still shows. */
int
vs_temp_snapshot_remove (struct vs_temp_snapshot *t, struct vs_session *s,
                         const char *vm_ref, const char *vm_name)
{
  bool removed = false;
  int present;

  if (!t->guardian)
    return 0;
  /* Without a moref, the guardian looks for the task or the name. */
  if (t->ref) {
    removed = vs_snapshot_remove (s, t->ref) == 0;
    /* A program that stops waits no longer on vCenter (never nbdkit). */
    if (!removed && vs_pause_stopped ())
      left_to_guardian (t, s, vm_name, "is left to the guardian, as this "
                        "program is stopping", "it removes it as soon as it "
                        "reaches");
    else if (!removed) {
      present = vs_snapshot_present (s, vm_ref, t->ref);
      removed = present == 0;
      if (present == 1)
        left_to_guardian (t, s, vm_name, "was NOT removed", "if it cannot, "
                          "delete it (Snapshots > Manage) in");
      else if (present == -1)
        left_to_guardian (t, s, vm_name, "could not be removed, and "
                          "whether it is still there is unknown",
                          "check in");
    }
    if (removed)
      nbdkit_debug ("removed temporary snapshot %s", t->ref);
  }
  vs_guardian_stop (t->guardian, removed);
  t->guardian = NULL;
  free (t->ref);
  t->ref = NULL;
  return removed ? 0 : -1;
}
