/* Snapshots (vsphere-snapshot.h), all found by walking the VM's
 * snapshot tree, read in one call: by name, by moref, or by the
 * temporary snapshots' name prefix.  Taking and removing go through
 * vsphere-task.c; removal is idempotent and waits as long as any task
 * may take, since giving up would leave the snapshot behind.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include <nbdkit-plugin.h>

#include "vsphere-snapshot.h"
#include "vsphere-owner.h"
#include "vsphere-props.h"
#include "vsphere-task.h"
#include "vsphere-xml.h"

/* Call F for every snapshot in the tree under NODE, depth first. */
static void
walk_tree (xmlNodePtr node, vs_snapshot_visit *f, void *opaque)
{
  for (; node; node = vs_xml_next_same (node)) {
    char *name = vs_xml_child_text (node, "name");
    char *ref = vs_xml_child_text (node, "snapshot");
    char *desc = vs_xml_child_text (node, "description");
    char *created = vs_xml_child_text (node, "createTime");

    if (name && ref)
      f (opaque, name, ref, desc ? desc : "", created ? created : "");
    xmlFree (name);
    xmlFree (ref);
    xmlFree (desc);
    xmlFree (created);
    walk_tree (vs_xml_child (node, "childSnapshotList"), f, opaque);
  }
}

/* Call F for every snapshot of VM_REF.  -1 if vCenter could not say. */
static int
visit_all (struct vs_session *s, const char *vm_ref, vs_snapshot_visit *f,
           void *opaque)
{
  static const char *const paths[] = { "snapshot", NULL };
  xmlDocPtr doc = vs_props_get (s, "VirtualMachine", vm_ref, paths);

  if (!doc)
    return -1;
  walk_tree (vs_xml_child (vs_props_val (doc, "snapshot"), "rootSnapshotList"),
             f, opaque);
  xmlFreeDoc (doc);
  return 0;
}

struct search {
  const char *name;             /* wanted name, or NULL */
  const char *ref;              /* wanted moref, or NULL */
  char *by_name;                /* the first snapshot named NAME */
  size_t named;                 /* how many are */
  char *by_ref;                 /* the snapshot whose moref is REF */
  FILE *all;                    /* every snapshot, for messages, or NULL */
};

static void
match (void *opaque, const char *name, const char *ref,
       const char *description, const char *created)
{
  struct search *q = opaque;

  if (q->all)
    fprintf (q->all, "%s\"%s\" (moref=%s)",
             ftell (q->all) ? ", " : "", name, ref);
  if (q->name && strcmp (name, q->name) == 0 && q->named++ == 0)
    q->by_name = strdup (ref);
  if (q->ref && strcmp (ref, q->ref) == 0 && !q->by_ref)
    q->by_ref = strdup (ref);
}

/* Whether SPEC is a snapshot's moref as VDDK's snapshot= takes it bare:
 * "snapshot-N" from vCenter, "N-snapshot-N" from an ESXi host.
 */
static bool
moref_form (const char *spec)
{
  size_t digits = strspn (spec, "0123456789");

  if (digits && spec[digits] == '-')
    spec += digits + 1;
  return strncmp (spec, "snapshot-", 9) == 0 && spec[9] &&
    strspn (spec + 9, "0123456789") == strlen (spec + 9);
}

char *
vs_snapshot_find (struct vs_session *s, const char *vm_ref,
                  const char *vm_name, const char *spec)
{
  struct search q = { .name = NULL };
  char *list = NULL;
  size_t len = 0;
  int r;

  /* A bare moref names its snapshot first, a snapshot so named next. */
  if (strncmp (spec, "moref=", 6) == 0)
    q.ref = spec + 6;
  else {
    q.name = spec;
    q.ref = moref_form (spec) ? spec : NULL;
  }
  q.all = open_memstream (&list, &len);
  if (!q.all) {
    nbdkit_error ("out of memory");
    return NULL;
  }
  r = visit_all (s, vm_ref, match, &q);
  fclose (q.all);
  if (r == 0 && (q.by_ref || q.named == 1)) {
    free (list);
    if (q.by_ref) {
      free (q.by_name);
      return q.by_ref;
    }
    return q.by_name;
  }
  /* vs_props_get reported its own failure (r == -1). */
  if (r == 0 && q.named > 1)
    nbdkit_error ("snapshot=%s: %zu snapshots of VM %s have this name; "
                  "choose one with snapshot=moref=REF: %s",
                  spec, q.named, vm_name, list);
  else if (r == 0 && len == 0)
    nbdkit_error ("snapshot=%s: VM %s has no snapshots", spec, vm_name);
  else if (r == 0)
    nbdkit_error ("snapshot=%s: VM %s has no such snapshot; its snapshots "
                  "are: %s", spec, vm_name, list);
  free (q.by_name);
  free (q.by_ref);
  free (list);
  return NULL;
}

int
vs_snapshot_present (struct vs_session *s, const char *vm_ref,
                     const char *snap_ref)
{
  struct search q = { .ref = snap_ref };
  bool present;

  if (visit_all (s, vm_ref, match, &q) == -1)
    return -1;
  present = q.by_ref != NULL;
  free (q.by_ref);
  return present;
}

int
vs_snapshot_temp_name (char *name, size_t len)
{
  unsigned char r[16];
  size_t i, n;

  if (getrandom (r, sizeof r, 0) != sizeof r) {
    nbdkit_error ("getrandom: %m");
    return -1;
  }
  n = snprintf (name, len, "%s", VS_TEMP_SNAPSHOT_PREFIX);
  for (i = 0; i < sizeof r && n + 2 < len; i++, n += 2)
    snprintf (name + n, len - n, "%02x", r[i]);
  return 0;
}

struct temporary {
  vs_snapshot_visit *f;
  void *opaque;
};

static void
only_temporary (void *opaque, const char *name, const char *ref,
                const char *description, const char *created)
{
  struct temporary *t = opaque;

  if (strncmp (name, VS_TEMP_SNAPSHOT_PREFIX,
               strlen (VS_TEMP_SNAPSHOT_PREFIX)) == 0)
    t->f (t->opaque, name, ref, description, created);
}

int
vs_snapshot_list_temporary (struct vs_session *s, const char *vm_ref,
                            vs_snapshot_visit *f, void *opaque)
{
  struct temporary t = { f, opaque };

  return visit_all (s, vm_ref, only_temporary, &t);
}

char *
vs_snapshot_create (struct vs_session *s, const char *vm_ref,
                    const char *name, bool quiesce,
                    void (*started) (void *opaque, const char *task),
                    void *opaque)
{
  struct vs_owner self;
  char owner[512], what[256];
  char *ename = vs_xml_escape (name), *eowner = NULL, *args = NULL;
  char *snap = NULL;
  struct vs_task_call c = {
    .method = "CreateSnapshot_Task", .this_type = "VirtualMachine",
    .this_ref = vm_ref, .what = what,
    .busy_patience = vs_session_server (s)->timeout,
    .restricted_hint = "take a snapshot by hand (Host Client: Snapshots > "
      "Take snapshot) and read that one (snapshot=NAME, or vsphere-sync "
      "--snapshot NAME), or shut the VM down and read its disks",
    .started = started, .opaque = opaque,
  };

  vs_owner_self (&self);
  vs_owner_format (&self, owner, sizeof owner);
  eowner = vs_xml_escape (owner);
  snprintf (what, sizeof what, "creating snapshot \"%s\" of VM %s%s",
            name, vm_ref, quiesce ? " (quiesced)" : "");
  if (!ename || !eowner ||
      asprintf (&args, "<name>%s</name><description>Temporary snapshot "
                "taken by " PACKAGE_NAME " to read a consistent image; "
                "safe to delete once that run ended. %s</description>"
                "<memory>false</memory><quiesce>%s</quiesce>",
                ename, eowner, quiesce ? "true" : "false") == -1) {
    nbdkit_error ("out of memory");
    args = NULL;
    goto out;
  }
  c.args = args;
  if (vs_task_run (s, &c, &snap) == 0 && !snap)
    nbdkit_error ("%s: the task gave no snapshot", what);

 out:
  free (args);
  free (ename);
  free (eowner);
  return snap;
}

int
vs_snapshot_remove (struct vs_session *s, const char *snap_ref)
{
  char what[256];
  struct vs_task_call c = {
    .method = "RemoveSnapshot_Task", .this_type = "VirtualMachineSnapshot",
    .this_ref = snap_ref, .what = what,
    .args = "<removeChildren>false</removeChildren>"
            "<consolidate>true</consolidate>",
    /* Giving up would leave the snapshot behind: wait as long as any
     * task may take.
     */
    .busy_patience = vs_server_task_timeout (vs_session_server (s)),
    .idempotent = true,
  };

  snprintf (what, sizeof what, "removing snapshot %s", snap_ref);
  return vs_task_run (s, &c, NULL);
}
