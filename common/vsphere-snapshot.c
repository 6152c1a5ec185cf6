#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nbdkit-plugin.h>

#include "vsphere-snapshot.h"
#include "vsphere-props.h"
#include "vsphere-xml.h"

/* Removing waits this many times timeout= for a busy VM. */
#define REMOVE_PATIENCE 10

struct search {
  const char *name;             /* wanted name, or NULL */
  const char *ref;              /* wanted moref, or NULL */
  char *found;
  size_t matches;
  FILE *all;                    /* every snapshot, for messages */
};

static void
walk_tree (xmlNodePtr node, struct search *q)
{
  for (; node; node = vs_xml_next_same (node)) {
    char *name = vs_xml_child_text (node, "name");
    char *ref = vs_xml_child_text (node, "snapshot");

    if (name && ref) {
      fprintf (q->all, "%s\"%s\" (moref=%s)",
               ftell (q->all) ? ", " : "", name, ref);
      if ((q->name && strcmp (name, q->name) == 0) ||
          (q->ref && strcmp (ref, q->ref) == 0)) {
        if (q->matches++ == 0)
          q->found = strdup (ref);
      }
    }
    xmlFree (name);
    xmlFree (ref);
    walk_tree (vs_xml_child (node, "childSnapshotList"), q);
  }
}

char *
vs_snapshot_find (struct vs_session *s, const char *vm_ref,
                  const char *vm_name, const char *spec)
{
  static const char *const paths[] = { "snapshot", NULL };
  xmlDocPtr doc = vs_props_get (s, "VirtualMachine", vm_ref, paths);
  struct search q = { NULL, NULL, NULL, 0, NULL };
  char *list = NULL;
  size_t len = 0;

  if (!doc)
    return NULL;
  if (strncmp (spec, "moref=", 6) == 0)
    q.ref = spec + 6;
  else
    q.name = spec;
  q.all = open_memstream (&list, &len);
  if (!q.all) {
    nbdkit_error ("out of memory");
    xmlFreeDoc (doc);
    return NULL;
  }
  walk_tree (vs_xml_child (vs_props_val (doc, "snapshot"), "rootSnapshotList"),
             &q);
  fclose (q.all);
  xmlFreeDoc (doc);
  if (q.matches == 1) {
    free (list);
    return q.found;
  }
  if (q.matches > 1)
    nbdkit_error ("snapshot=%s: %zu snapshots of VM %s have this name; "
                  "choose one with snapshot=moref=REF: %s",
                  spec, q.matches, vm_name, list);
  else if (len == 0)
    nbdkit_error ("snapshot=%s: VM %s has no snapshots", spec, vm_name);
  else
    nbdkit_error ("snapshot=%s: VM %s has no such snapshot; its snapshots "
                  "are: %s", spec, vm_name, list);
  free (q.found);
  free (list);
  return NULL;
}

/* How a task ended.  BUSY: another task held the VM (TaskInProgress),
 * as while a consolidation or another client's snapshot runs.
 */
enum task_end { TASK_DONE, TASK_FAILED, TASK_BUSY };

static bool
is_busy (const char *fault_type)
{
  return fault_type && strcmp (fault_type, "TaskInProgress") == 0;
}

/* Poll a task until it ends, leaving its result (if any) in *RESULT.
 * A failure other than BUSY is reported, prefixed by WHAT.
 */
static enum task_end
task_wait (struct vs_session *s, const char *task, const char *what,
           char **result)
{
  static const char *const paths[] = { "info", NULL };
  struct timespec delay = { 0, 50 * 1000 * 1000 };

  for (;;) {
    xmlDocPtr doc = vs_props_get (s, "Task", task, paths);
    xmlNodePtr info = doc ? vs_props_val (doc, "info") : NULL;
    char *state = vs_xml_child_text (info, "state");
    int done = -1;

    if (!doc)
      return TASK_FAILED;
    if (state && strcmp (state, "success") == 0) {
      if (result)
        *result = (char *) vs_xml_child_text (info, "result");
      done = TASK_DONE;
    }
    else if (state && strcmp (state, "error") == 0) {
      xmlNodePtr err = vs_xml_child (info, "error");
      char *msg = vs_xml_child_text (err, "localizedMessage");
      char *fault = vs_xml_type (vs_xml_child (err, "fault"));

      if (is_busy (fault))
        done = TASK_BUSY;
      else {
        nbdkit_error ("%s failed: %s%s%s", what, fault ? fault : "error",
                      msg && *msg ? ": " : "", msg ? msg : "");
        done = TASK_FAILED;
      }
      xmlFree (msg);
      xmlFree (fault);
    }
    xmlFree (state);
    xmlFreeDoc (doc);
    if (done != -1)
      return done;
    nanosleep (&delay, NULL);
    if (delay.tv_nsec < 500 * 1000 * 1000)
      delay.tv_nsec *= 2;
  }
}

/* Call METHOD and wait for its task.  While another task holds the VM,
 * try again with growing pauses for up to PATIENCE seconds.
 */
static int
run_task (struct vs_session *s, const char *method, const char *type,
          const char *ref, const char *args, const char *what,
          long patience, char **result)
{
  time_t deadline = time (NULL) + patience;
  unsigned pause = 1;

  for (;;) {
    struct vs_fault fault = { NULL, NULL };
    xmlDocPtr doc = vs_soap_call (s, method, type, ref, args, &fault);
    enum task_end end;

    if (doc) {
      char *task = vs_xml_child_text (vs_soap_result (doc), "returnval");

      xmlFreeDoc (doc);
      end = task ? task_wait (s, task, what, result) : TASK_FAILED;
      if (!task)
        nbdkit_error ("%s failed: the server returned no task", what);
      xmlFree (task);
    }
    else if (is_busy (fault.type))
      end = TASK_BUSY;
    else {
      if (fault.type)
        nbdkit_error ("%s failed: %s: %s", what, fault.type, fault.message);
      else
        nbdkit_error ("%s failed", what);
      end = TASK_FAILED;
    }
    vs_fault_free (&fault);
    if (end != TASK_BUSY)
      return end == TASK_DONE ? 0 : -1;
    if (time (NULL) + pause > deadline) {
      nbdkit_error ("%s failed: another task kept the VM busy "
                    "(TaskInProgress) for %ld s; wait for it to end "
                    "(a snapshot consolidation, a backup) and try again",
                    what, patience);
      return -1;
    }
    nbdkit_debug ("%s: another task holds the VM, trying again in %u s",
                  what, pause);
    sleep (pause);
    if (pause < 8)
      pause *= 2;
  }
}

void
vs_snapshot_temp_name (char *name, size_t len)
{
  snprintf (name, len, "nbdkit-vsphere-%ld", (long) getpid ());
}

char *
vs_snapshot_create (struct vs_session *s, const char *vm_ref,
                    const char *name, bool quiesce)
{
  char *ename = vs_xml_escape (name), *args = NULL;
  char *snap = NULL, what[256];

  snprintf (what, sizeof what, "creating snapshot \"%s\" of VM %s%s",
            name, vm_ref, quiesce ? " (quiesced)" : "");
  if (!ename ||
      asprintf (&args, "<name>%s</name><description>Temporary snapshot "
                "taken by " PACKAGE_NAME " to read a consistent image; "
                "safe to delete</description><memory>false</memory>"
                "<quiesce>%s</quiesce>",
                ename, quiesce ? "true" : "false") == -1) {
    nbdkit_error ("out of memory");
    free (ename);
    return NULL;
  }
  if (run_task (s, "CreateSnapshot_Task", "VirtualMachine", vm_ref, args,
                what, vs_session_server (s)->timeout, &snap) == 0 && !snap)
    nbdkit_error ("%s: the task gave no snapshot", what);
  free (args);
  free (ename);
  return snap;
}

int
vs_snapshot_remove (struct vs_session *s, const char *snap_ref)
{
  char what[256];

  snprintf (what, sizeof what, "removing snapshot %s", snap_ref);
  /* Giving up would leave the snapshot behind: wait longer. */
  return run_task (s, "RemoveSnapshot_Task", "VirtualMachineSnapshot",
                   snap_ref, "<removeChildren>false</removeChildren>"
                   "<consolidate>true</consolidate>", what,
                   REMOVE_PATIENCE * vs_session_server (s)->timeout, NULL);
}
