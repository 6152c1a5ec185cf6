/* Finding a VM (vsphere-vm.h).  Paths and UUIDs are looked up in the
 * SearchIndex; a bare name has no index, so every VM's name is read
 * through a container view, page by page, and a name shared by several
 * VMs is refused.  A failed lookup says what the server's paths look
 * like (vCenter or a standalone ESXi host).  The dcPath, and the
 * inventory paths of the VMs that share a name, come from walking up
 * the parents.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "vsphere-vm.h"
#include "vsphere-props.h"
#include "vsphere-xml.h"

/* The moref in a Find* answer, which is empty when nothing matched;
 * its type in *TYPE if TYPE is not NULL.
 */
static char *
returned_ref (xmlDocPtr doc, char **type)
{
  xmlNodePtr rv = vs_xml_child (vs_soap_result (doc), "returnval");
  char *t = rv ? (char *) xmlNodeGetContent (rv) : NULL;
  char *r = t && *t ? strdup (t) : NULL;

  xmlFree (t);
  if (type) {
    t = rv ? (char *) xmlGetNoNsProp (rv, BAD_CAST "type") : NULL;
    *type = t ? strdup (t) : NULL;
    xmlFree (t);
  }
  return r;
}

/* Report a fault met while looking up vm=SPEC with METHOD. */
static void
lookup_fault (struct vs_session *s, const char *spec, const char *method,
              struct vs_fault *f)
{
  const struct vs_server *srv = vs_session_server (s);

  if (strcmp (f->type, "NotAuthenticated") == 0)
    nbdkit_error ("vm=%s: %s rejected the session of user %s during %s "
                  "(NotAuthenticated: %s): this is an authentication "
                  "problem, not a missing VM; check that the session is "
                  "still valid and that the user may view the inventory "
                  "(System.View)", spec, srv->server, srv->user, method,
                  f->message);
  else
    nbdkit_error ("vm=%s: %s: %s failed: %s: %s",
                  spec, srv->server, method, f->type, f->message);
  vs_fault_free (f);
}

/* A Find* call on the SearchIndex.  Returns the moref (its type in
 * *TYPE if not NULL), or NULL with *FAILED telling an error (reported)
 * from nothing found (not reported).
 */
static char *
find_call (struct vs_session *s, const char *spec, const char *method,
           const char *args, char **type, bool *failed)
{
  const struct vs_service *svc = vs_session_service (s);
  struct vs_fault fault = { NULL, NULL };
  xmlDocPtr doc = vs_soap_call (s, method, "SearchIndex", svc->search_index,
                                args, &fault);
  char *r;

  *failed = !doc;
  if (fault.type)
    lookup_fault (s, spec, method, &fault);
  if (!doc)
    return NULL;
  r = returned_ref (doc, type);
  xmlFreeDoc (doc);
  return r;
}

/* What an object of TYPE is, for "vm=PATH names a host". */
static const char *
describe_type (const char *type)
{
  static const char *const names[][2] = {
    { "Folder", "a folder" },
    { "Datacenter", "a datacenter" },
    { "HostSystem", "a host" },
    { "ComputeResource", "a standalone host" },
    { "ClusterComputeResource", "a cluster" },
    { "ResourcePool", "a resource pool" },
    { "VirtualApp", "a vApp" },
    { "Datastore", "a datastore" },
    { "StoragePod", "a datastore cluster" },
    { "Network", "a network" },
    { "DistributedVirtualPortgroup", "a distributed port group" },
  };
  size_t i;

  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp (type, names[i][0]) == 0)
      return names[i][1];
  return "an object";
}

/* The inventory path of VM NAME as the server lays it out. */
static const char *
path_form (struct vs_session *s)
{
  return vs_session_service (s)->esxi ? VS_ESXI_DATACENTER "/vm/"
    : "DATACENTER/vm/FOLDER/";
}

static char *
find_by_path (struct vs_session *s, const char *path, bool *failed)
{
  char *e = vs_xml_escape (path), *args = NULL, *r = NULL, *type = NULL;

  if (e && asprintf (&args, "<inventoryPath>%s</inventoryPath>", e) != -1)
    r = find_call (s, path, "FindByInventoryPath", args, &type, failed);
  else
    nbdkit_error ("out of memory");
  if (r && type && strcmp (type, "VirtualMachine") != 0) {
    nbdkit_error ("vm=%s names %s (%s %s), not a virtual machine; the form "
                  "is %sNAME", path, describe_type (type), type, r,
                  path_form (s));
    free (r);
    r = NULL;
    *failed = true;
  }
  free (type);
  free (args);
  free (e);
  return r;
}

static char *
find_by_uuid (struct vs_session *s, const char *spec, const char *uuid,
              bool instance, bool *failed)
{
  char *e = vs_xml_escape (uuid), *args = NULL, *r = NULL;

  if (e && asprintf (&args, "<uuid>%s</uuid><vmSearch>true</vmSearch>"
                     "<instanceUuid>%s</instanceUuid>",
                     e, instance ? "true" : "false") != -1)
    r = find_call (s, spec, "FindByUuid", args, NULL, failed);
  else
    nbdkit_error ("out of memory");
  free (args);
  free (e);
  return r;
}

static char *
check_moref (struct vs_session *s, const char *ref)
{
  static const char *const paths[] = { "name", NULL };
  xmlDocPtr doc = vs_props_get (s, "VirtualMachine", ref, paths);

  if (!doc)
    return NULL;
  xmlFreeDoc (doc);
  return strdup (ref);
}

/* A server that pages on without end is refused; vCenter's pages hold
 * a hundred objects or more, so this allows several hundred thousand
 * VMs.
 */
#define MAX_PAGES 4000

/* Every VM's name through one container view and one property query
 * (continued while the server pages), keeping those named NAME.
 */
static char *path_up (struct vs_session *s, const char *vm_ref, bool whole);

/* "PATH (REF), ..." for REFS, "REF, REF, ...", or NULL. */
static char *
inventory_paths (struct vs_session *s, const char *refs)
{
  char *copy = strdup (refs), *ref, *save = NULL, *out = NULL;
  size_t len = 0;
  FILE *fp = copy ? open_memstream (&out, &len) : NULL;

  if (!fp) {
    free (copy);
    return NULL;
  }
  for (ref = strtok_r (copy, ", ", &save); ref;
       ref = strtok_r (NULL, ", ", &save)) {
    char *path = path_up (s, ref, true);

    fprintf (fp, "%s%s (%s)", len ? ", " : "", path ? path : "?", ref);
    fflush (fp);
    free (path);
  }
  fclose (fp);
  free (copy);
  return out;
}

static char *
find_by_name (struct vs_session *s, const char *name)
{
  const struct vs_service *svc = vs_session_service (s);
  xmlDocPtr doc = NULL;
  char *view = NULL, *args = NULL, *found = NULL, *list = NULL;
  size_t nfound = 0, listlen = 0;
  FILE *names = open_memstream (&list, &listlen);
  const char *method = "RetrievePropertiesEx";
  struct vs_fault fault = { NULL, NULL };
  int pages;

  if (!names)
    goto oom;
  if (asprintf (&args, "<container type=\"Folder\">%s</container>"
                "<type>VirtualMachine</type><recursive>true</recursive>",
                svc->root_folder) == -1) {
    args = NULL;
    goto oom;
  }
  doc = vs_soap_call (s, "CreateContainerView", "ViewManager",
                      svc->view_manager, args, &fault);
  free (args);
  args = NULL;
  if (!doc) {
    if (fault.type)
      lookup_fault (s, name, "CreateContainerView", &fault);
    goto out;
  }
  view = returned_ref (doc, NULL);
  xmlFreeDoc (doc);
  doc = NULL;
  if (!view) {
    nbdkit_error ("CreateContainerView returned no view");
    goto out;
  }
  if (asprintf (&args,
                "<specSet><propSet><type>VirtualMachine</type>"
                "<pathSet>name</pathSet></propSet>"
                "<objectSet><obj type=\"ContainerView\">%s</obj>"
                "<skip>true</skip><selectSet xsi:type=\"TraversalSpec\">"
                "<name>view</name><type>ContainerView</type>"
                "<path>view</path><skip>false</skip></selectSet>"
                "</objectSet></specSet><options/>", view) == -1) {
    args = NULL;
    goto oom;
  }

  for (pages = 1;; pages++) {
    xmlNodePtr rv, obj;
    char *token, *etoken;

    doc = vs_soap_call (s, method, "PropertyCollector",
                        svc->property_collector, args, &fault);
    if (!doc) {
      if (fault.type)
        lookup_fault (s, name, method, &fault);
      goto out;
    }
    rv = vs_xml_child (vs_soap_result (doc), "returnval");
    for (obj = vs_xml_child (rv, "objects"); obj; obj = vs_xml_next_same (obj)) {
      char *n = vs_xml_child_text (vs_xml_child (obj, "propSet"), "val");
      char *ref = vs_xml_child_text (obj, "obj");

      if (n && ref && strcmp (n, name) == 0) {
        fprintf (names, "%s%s", nfound ? ", " : "", ref);
        if (nfound++ == 0)
          found = strdup (ref);
      }
      xmlFree (n);
      xmlFree (ref);
    }
    token = vs_xml_child_text (rv, "token");
    xmlFreeDoc (doc);
    doc = NULL;
    free (args);
    args = NULL;
    if (!token)
      break;
    if (pages == MAX_PAGES) {
      nbdkit_error ("vm=%s: %s still had more VM names after %d pages; "
                    "refusing to read on (give an inventory path, moref=, "
                    "uuid= or instance-uuid= instead)", name,
                    vs_session_server (s)->server, MAX_PAGES);
      xmlFree (token);
      nfound = 0;
      goto out;
    }
    method = "ContinueRetrievePropertiesEx";
    etoken = vs_xml_escape (token);
    xmlFree (token);
    if (!etoken || asprintf (&args, "<token>%s</token>", etoken) == -1) {
      free (etoken);
      args = NULL;
      goto oom;
    }
    free (etoken);
  }
  fclose (names);
  names = NULL;
  if (nfound > 1) {
    char *paths = inventory_paths (s, list);

    nbdkit_error ("vm=%s: %zu VMs have this name: %s; choose one with its "
                  "inventory path or vm=moref=REF", name, nfound,
                  paths ? paths : list);
    free (paths);
    free (found);
    found = NULL;
  }
  else if (nfound == 0)
    nbdkit_error ("vm=%s: no VM has this name (searched the names of all "
                  "VMs); give an inventory path like %s%s, moref=, uuid= "
                  "or instance-uuid=", name, path_form (s), name);
  goto out;

 oom:
  nbdkit_error ("out of memory");
 out:
  if (view) {
    xmlFreeDoc (vs_soap_call (s, "DestroyView", "ContainerView", view, "",
                              NULL));
    free (view);
  }
  if (names)
    fclose (names);
  free (list);
  free (args);
  xmlFreeDoc (doc);
  if (nfound != 1) {
    free (found);
    found = NULL;
  }
  return found;
}

/* Nothing at inventory PATH: say what the server's paths look like. */
static void
no_vm_at_path (struct vs_session *s, const char *path)
{
  const char *dc = path + strspn (path, "/");
  size_t dc_len = strcspn (dc, "/");
  bool esxi = vs_session_service (s)->esxi;
  bool esxi_dc = strncmp (dc, VS_ESXI_DATACENTER "/", dc_len + 1) == 0;

  if (!esxi && esxi_dc)
    nbdkit_error ("vm=%s: no VM at this inventory path: "
                  VS_ESXI_DATACENTER " is the datacenter of a standalone "
                  "ESXi host, but %s is vCenter, whose datacenters have "
                  "names of their own: write DATACENTER/vm/FOLDER/NAME, or "
                  "connect to the ESXi host itself", path,
                  vs_session_server (s)->server);
  else if (!esxi)
    nbdkit_error ("vm=%s: no VM at this inventory path (looked up with "
                  "FindByInventoryPath; the form is "
                  "DATACENTER/vm/FOLDER/NAME, with any folders above the "
                  "datacenter first)", path);
  else if (!esxi_dc)
    nbdkit_error ("vm=%s: no VM at this inventory path: %s is a "
                  "standalone ESXi host, whose only datacenter is "
                  VS_ESXI_DATACENTER " (not \"%.*s\"); write vm="
                  VS_ESXI_DATACENTER "/vm/NAME, or connect to the vCenter "
                  "that manages the host", path,
                  vs_session_server (s)->server, (int) dc_len, dc);
  else
    nbdkit_error ("vm=%s: no VM at this inventory path (looked up with "
                  "FindByInventoryPath on the ESXi host %s, which has no "
                  "VM folders: the form is " VS_ESXI_DATACENTER "/vm/NAME)",
                  path, vs_session_server (s)->server);
}

static bool
has_prefix (const char *s, const char *prefix, const char **rest)
{
  size_t n = strlen (prefix);

  if (strncmp (s, prefix, n) != 0)
    return false;
  *rest = s + n;
  return true;
}

char *
vs_vm_find (struct vs_session *s, const char *spec)
{
  const char *v;
  char *r;
  bool failed = true;

  if (has_prefix (spec, "moref=", &v)) {
    if ((r = check_moref (s, v)) == NULL)
      nbdkit_error ("vm=%s: no VM has this managed object reference", spec);
  }
  else if (has_prefix (spec, "uuid=", &v)) {
    if ((r = find_by_uuid (s, spec, v, false, &failed)) == NULL && !failed)
      nbdkit_error ("vm=%s: no VM has this BIOS UUID "
                    "(looked up with FindByUuid)", spec);
  }
  else if (has_prefix (spec, "instance-uuid=", &v)) {
    if ((r = find_by_uuid (s, spec, v, true, &failed)) == NULL && !failed)
      nbdkit_error ("vm=%s: no VM has this instance UUID "
                    "(looked up with FindByUuid)", spec);
  }
  else if (strchr (spec, '/')) {
    if ((r = find_by_path (s, spec, &failed)) == NULL && !failed)
      no_vm_at_path (s, spec);
  }
  else
    r = find_by_name (s, spec);
  return r;
}

/* Walks up from the VM to the root folder: the names from below the
 * root folder down to the first Datacenter met (the dcPath), or down to
 * the VM (WHOLE: its inventory path).
 */
static char *
path_up (struct vs_session *s, const char *vm_ref, bool whole)
{
  static const char *const paths[] = { "name", "parent", NULL };
  enum { MAX_DEPTH = 64 };
  char *names[MAX_DEPTH];
  size_t depth = 0, dc = 0, i;
  char *type = strdup ("VirtualMachine"), *ref = strdup (vm_ref);
  char *path = NULL;
  bool found_dc = false, ok = true;

  while (type && ref && depth < MAX_DEPTH) {
    xmlDocPtr doc = vs_props_get (s, type, ref, paths);
    xmlNodePtr parent = doc ? vs_props_val (doc, "parent") : NULL;

    if (!doc) {
      ok = false;
      break;
    }
    if (!found_dc && strcmp (type, "Datacenter") == 0) {
      found_dc = true;
      dc = depth;
    }
    names[depth] = vs_props_text (doc, "name");
    if (!names[depth++]) {
      nbdkit_error ("VM %s: %s %s on its way up to the root folder has no "
                    "name in the server's answer", vm_ref, type, ref);
      ok = false;
      xmlFreeDoc (doc);
      break;
    }
    free (type);
    free (ref);
    type = parent ? (char *) xmlGetNoNsProp (parent, BAD_CAST "type") : NULL;
    ref = parent ? (char *) xmlNodeGetContent (parent) : NULL;
    xmlFreeDoc (doc);
  }
  /* names[depth-1] is the root folder, which the path leaves out. */
  if (ok && found_dc && !type) {
    size_t len = 0;
    FILE *fp = open_memstream (&path, &len);

    size_t last = whole ? 0 : dc;

    for (i = depth - 1; fp && i-- > last + 1; )
      fprintf (fp, "%s/", names[i]);
    if (fp) {
      fprintf (fp, "%s", names[last]);
      fclose (fp);
    }
  }
  for (i = 0; i < depth; i++)
    xmlFree (names[i]);
  free (type);
  free (ref);
  if (!path)
    nbdkit_error ("cannot find the datacenter of VM %s", vm_ref);
  return path;
}

char *
vs_vm_dc_path (struct vs_session *s, const char *vm_ref)
{
  return path_up (s, vm_ref, false);
}
