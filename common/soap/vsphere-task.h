/* vCenter tasks: start one, wait for it within a deadline, and ride
 * out a VM held by another task or a vCenter that is restarting.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_TASK_H
#define VSPHERE_TASK_H

#include <stdbool.h>
#include <time.h>

#include "vsphere-soap.h"

struct vs_task_call {
  const char *method;           /* e.g. "RemoveSnapshot_Task" */
  const char *this_type, *this_ref;
  const char *args;             /* XML, values escaped */
  const char *what;             /* "removing snapshot X", for messages */
  long busy_patience;           /* seconds to wait out TaskInProgress */
  /* Safe to call again after vCenter stopped answering (it cannot
   * happen twice), and ManagedObjectNotFound means it already did.
   */
  bool idempotent;
  /* What to do instead when the host's license forbids the call
   * (RestrictedVersion), or NULL.
   */
  const char *restricted_hint;
  /* Told the task's moref as soon as vCenter gives it. */
  void (*started) (void *opaque, const char *task);
  void *opaque;
};

/* Call the method and wait for its task, for up to task-timeout= in
 * all.  Leaves the task's result, if any, in *RESULT (free with
 * xmlFree).  Errors are reported.
 */
int vs_task_run (struct vs_session *s, const struct vs_task_call *c,
                 char **result);

/* Wait until DEADLINE for task TASK to end; WHAT names it in messages.
 * Polls that fail are tried again: vCenter may be restarting.
 */
int vs_task_wait (struct vs_session *s, const char *task, const char *what,
                  time_t deadline, char **result);

/* Sleep before attempt N (from 0) of something that failed: 1 s,
 * doubling, at most 16 s, and never past DEADLINE.  Returns false,
 * without sleeping, when the deadline leaves no time for another try,
 * or when the pause was cut short (vs_pause_stopped).
 */
bool vs_task_backoff (unsigned n, time_t deadline);

#endif /* VSPHERE_TASK_H */
