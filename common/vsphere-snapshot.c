#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nbdkit-plugin.h>

#include "vsphere-snapshot.h"
#include "vsphere-props.h"
#include "vsphere-xml.h"

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

/* Poll a task until it ends.  Returns 0 and its result (if any) in
 * *RESULT, or -1 with the task's error reported, prefixed by WHAT.
 */
static int
task_wait (struct vs_session *s, const char *task, const char *what,
           char **result)
{
  static const char *const paths[] = { "info", NULL };
  struct timespec delay = { 0, 50 * 1000 * 1000 };

  for (;;) {
    xmlDocPtr doc = vs_props_get (s, "Task", task, paths);
    xmlNodePtr info = doc ? vs_props_val (doc, "info") : NULL;
    char *state = vs_xml_child_text (info, "state");
    int done = -2;

    if (!doc)
      return -1;
    if (state && strcmp (state, "success") == 0) {
      if (result)
        *result = (char *) vs_xml_child_text (info, "result");
      done = 0;
    }
    else if (state && strcmp (state, "error") == 0) {
      xmlNodePtr err = vs_xml_child (info, "error");
      char *msg = vs_xml_child_text (err, "localizedMessage");
      char *fault = vs_xml_type (vs_xml_child (err, "fault"));

      nbdkit_error ("%s failed: %s%s%s", what, fault ? fault : "error",
                    msg && *msg ? ": " : "", msg ? msg : "");
      xmlFree (msg);
      xmlFree (fault);
      done = -1;
    }
    xmlFree (state);
    xmlFreeDoc (doc);
    if (done != -2)
      return done;
    nanosleep (&delay, NULL);
    if (delay.tv_nsec < 500 * 1000 * 1000)
      delay.tv_nsec *= 2;
  }
}

static char *
start_task (struct vs_session *s, const char *method, const char *type,
            const char *ref, const char *args, const char *what)
{
  xmlDocPtr doc = vs_soap_call (s, method, type, ref, args, NULL);
  char *task;

  if (!doc) {
    nbdkit_error ("%s failed", what);
    return NULL;
  }
  task = vs_xml_child_text (vs_soap_result (doc), "returnval");
  xmlFreeDoc (doc);
  return task;
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
  char *ename = vs_xml_escape (name), *args = NULL, *task = NULL;
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
  task = start_task (s, "CreateSnapshot_Task", "VirtualMachine", vm_ref, args,
                     what);
  if (task && task_wait (s, task, what, &snap) == -1)
    snap = NULL;
  if (task && !snap)
    nbdkit_error ("%s: the task gave no snapshot", what);
  xmlFree (task);
  free (args);
  free (ename);
  return snap;
}

int
vs_snapshot_remove (struct vs_session *s, const char *snap_ref)
{
  char what[256];
  char *task;
  int r = -1;

  snprintf (what, sizeof what, "removing snapshot %s", snap_ref);
  task = start_task (s, "RemoveSnapshot_Task", "VirtualMachineSnapshot",
                     snap_ref, "<removeChildren>false</removeChildren>"
                     "<consolidate>true</consolidate>", what);
  if (task)
    r = task_wait (s, task, what, NULL);
  xmlFree (task);
  return r;
}
