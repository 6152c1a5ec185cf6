/* Running vCenter tasks (vsphere-task.h): the call is made, then the
 * task's info polled, every 50 ms at first and doubling to 500 ms.
 * Each attempt ends done, failed, busy (TaskInProgress: tried again
 * until busy_patience), unreachable (an idempotent call is made again
 * after three failed polls) or gone, all within the one task-timeout=
 * deadline.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nbdkit-plugin.h>

#include "pause.h"
#include "vsphere-task.h"
#include "vsphere-props.h"
#include "vsphere-xml.h"

#define POLL_FIRST_NS (50 * 1000 * 1000)
#define POLL_MAX_NS (500 * 1000 * 1000)
#define BACKOFF_MAX_S 16
/* Polls in a row that fail before an idempotent call is made again:
 * after a vCenter restart the task may be gone.
 */
#define UNREACHABLE_POLLS 3

/* How one step ended.  BUSY: another task holds the VM.  UNREACHABLE:
 * vCenter did not answer, or not as a server that knows us (a restart).
 * GONE: the object the call was made on no longer exists.
 */
enum step { STEP_DONE, STEP_FAILED, STEP_BUSY, STEP_UNREACHABLE, STEP_GONE };

bool
vs_task_backoff (unsigned n, time_t deadline)
{
  unsigned pause = n < 5 ? 1u << n : BACKOFF_MAX_S;
  time_t now = time (NULL);

  if (pause > BACKOFF_MAX_S)
    pause = BACKOFF_MAX_S;
  if (now >= deadline)
    return false;
  if (now + (time_t) pause > deadline)
    pause = deadline - now;
  return vs_pause ((struct timespec) { pause, 0 });
}

static bool
fault_is (const char *type, const char *name)
{
  return type && strcmp (type, name) == 0;
}

/* One look at the task.  Returns -1 while it runs. */
static int
poll_once (struct vs_session *s, const char *task, const char *what,
           char **result, char *state_out, size_t state_len, int *progress)
{
  static const char *const paths[] = { "info", NULL };
  xmlDocPtr doc = vs_props_get (s, "Task", task, paths);
  xmlNodePtr info = doc ? vs_props_val (doc, "info") : NULL;
  char *state = vs_xml_child_text (info, "state");
  int64_t pct;
  int end = -1;

  if (!doc)
    return STEP_UNREACHABLE;
  snprintf (state_out, state_len, "%s", state ? state : "unknown");
  if (vs_xml_child_int64 (info, "progress", &pct) == 0 &&
      pct >= 0 && pct <= 100)
    *progress = pct;
  if (state && strcmp (state, "success") == 0) {
    if (result)
      *result = vs_xml_child_text (info, "result");
    end = STEP_DONE;
  }
  else if (state && strcmp (state, "error") == 0) {
    xmlNodePtr err = vs_xml_child (info, "error");
    char *msg = vs_xml_child_text (err, "localizedMessage");
    char *fault = vs_xml_type (vs_xml_child (err, "fault"));

    if (fault_is (fault, "TaskInProgress"))
      end = STEP_BUSY;
    else {
      nbdkit_error ("%s failed: %s%s%s", what, fault ? fault : "error",
                    msg && *msg ? ": " : "", msg ? msg : "");
      end = STEP_FAILED;
    }
    xmlFree (msg);
    xmlFree (fault);
  }
  xmlFree (state);
  xmlFreeDoc (doc);
  return end;
}

/* Poll until the task ends or DEADLINE.  After MAX_FAILURES polls in a
 * row that vCenter did not answer, give up with STEP_UNREACHABLE.
 */
static enum step
wait_task (struct vs_session *s, const char *task, const char *what,
           time_t deadline, unsigned max_failures, char **result)
{
  const char *product = vs_session_product (s);
  struct timespec delay = { 0, POLL_FIRST_NS };
  char state[32] = "unknown";
  int progress = -1;
  unsigned failures = 0;

  for (;;) {
    int end = poll_once (s, task, what, result, state, sizeof state,
                         &progress);

    if (end == STEP_UNREACHABLE) {
      nbdkit_debug ("%s: cannot read task %s, trying again", what, task);
      if (++failures >= max_failures)
        return STEP_UNREACHABLE;
      if (!vs_task_backoff (failures - 1, deadline))
        break;
      continue;
    }
    failures = 0;
    if (end != -1)
      return end;
    if (time (NULL) >= deadline || !vs_pause (delay))
      break;
    if (delay.tv_nsec < POLL_MAX_NS)
      delay.tv_nsec *= 2;
  }
  if (vs_pause_stopped ())
    nbdkit_error ("%s: stopped while waiting for task %s (state %s); it may "
                  "still end in %s", what, task, state, product);
  else if (progress >= 0)
    nbdkit_error ("%s: task %s did not end within task-timeout= (state %s, "
                  "%d%% done); it may still end in %s: look at the "
                  "VM's recent tasks", what, task, state, progress, product);
  else
    nbdkit_error ("%s: task %s did not end within task-timeout= (state "
                  "%s); it may still end in %s: look at the VM's "
                  "recent tasks", what, task, state, product);
  return STEP_FAILED;
}

int
vs_task_wait (struct vs_session *s, const char *task, const char *what,
              time_t deadline, char **result)
{
  return wait_task (s, task, what, deadline, UINT_MAX, result) == STEP_DONE
    ? 0 : -1;
}

/* RestrictedVersion: the host's license (the free vSphere Hypervisor
 * one) lets the API read but change nothing, so trying again is useless.
 */
static void
report_restricted (struct vs_session *s, const struct vs_task_call *c,
                   const struct vs_fault *f)
{
  nbdkit_error ("%s failed: %s refused it (RestrictedVersion: %s): its "
                "license lets the vSphere API read but change nothing, as "
                "the free vSphere Hypervisor license does; %s", c->what,
                vs_session_product (s),
                f->message ? f->message : "",
                c->restricted_hint ? c->restricted_hint
                : "make the change by hand, or license the host");
}

/* Make the call; on success wait for its task. */
static enum step
call_once (struct vs_session *s, const struct vs_task_call *c,
           time_t deadline, char **result)
{
  struct vs_fault fault = { NULL, NULL };
  xmlDocPtr doc = vs_soap_call (s, c->method, c->this_type, c->this_ref,
                                c->args, &fault);
  enum step end;
  char *task;

  if (!doc) {
    if (fault_is (fault.type, "TaskInProgress"))
      end = STEP_BUSY;
    else if (!fault.type || fault_is (fault.type, "NotAuthenticated"))
      end = STEP_UNREACHABLE;
    else if (fault_is (fault.type, "ManagedObjectNotFound"))
      end = STEP_GONE;
    else if (fault_is (fault.type, "RestrictedVersion")) {
      report_restricted (s, c, &fault);
      end = STEP_FAILED;
    }
    else {
      nbdkit_error ("%s failed: %s: %s", c->what, fault.type, fault.message);
      end = STEP_FAILED;
    }
    if (end == STEP_UNREACHABLE && fault.type)
      nbdkit_debug ("%s: %s: %s", c->what, fault.type, fault.message);
    vs_fault_free (&fault);
    return end;
  }
  task = vs_xml_child_text (vs_soap_result (doc), "returnval");
  xmlFreeDoc (doc);
  if (!task) {
    nbdkit_error ("%s failed: the server returned no task", c->what);
    return STEP_FAILED;
  }
  if (c->started)
    c->started (c->opaque, task);
  end = wait_task (s, task, c->what, deadline, UNREACHABLE_POLLS, result);
  xmlFree (task);
  return end;
}

int
vs_task_run (struct vs_session *s, const struct vs_task_call *c,
             char **result)
{
  const struct vs_server *srv = vs_session_server (s);
  const char *product = vs_session_product (s);
  time_t start = time (NULL);
  time_t deadline = start + vs_server_task_timeout (srv);
  time_t busy_deadline = start + c->busy_patience;
  unsigned busy = 0, unreachable = 0;

  if (busy_deadline > deadline)
    busy_deadline = deadline;
  for (;;) {
    enum step end = call_once (s, c, deadline, result);

    switch (end) {
    case STEP_DONE:
      return 0;
    case STEP_GONE:
      if (c->idempotent) {
        nbdkit_debug ("%s: already done (the object is gone)", c->what);
        return 0;
      }
      nbdkit_error ("%s failed: the object no longer exists", c->what);
      return -1;
    case STEP_FAILED:
      return -1;
    case STEP_UNREACHABLE:
      if (!c->idempotent)
        return -1;
      nbdkit_debug ("%s: %s did not answer; trying again", c->what,
                    product);
      if (!vs_task_backoff (unreachable++, deadline)) {
        if (vs_pause_stopped ())
          nbdkit_error ("%s: stopped while %s %s did not answer",
                        c->what, product, srv->server);
        else
          nbdkit_error ("%s failed: %s %s did not answer for %ld s "
                        "(task-timeout=)", c->what, product, srv->server,
                        (long) (time (NULL) - start));
        return -1;
      }
      break;
    case STEP_BUSY:
      nbdkit_debug ("%s: another task holds the VM, trying again", c->what);
      if (!vs_task_backoff (busy++, busy_deadline)) {
        if (vs_pause_stopped ())
          nbdkit_error ("%s: stopped while another task held the VM "
                        "(TaskInProgress)", c->what);
        else
          nbdkit_error ("%s failed: another task kept the VM busy "
                        "(TaskInProgress) for %ld s; wait for it to end "
                        "(a snapshot consolidation, a backup) and try "
                        "again", c->what, c->busy_patience);
        return -1;
      }
      break;
    }
  }
}
