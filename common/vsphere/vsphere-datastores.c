/* Parent hints written by ESXi name a datastore by its VMFS volume
 * (vsphere-datastores.h).  Rather than search the whole inventory, only
 * the VM's own datastores are read, one property call each, and matched
 * on their name or on the UUID in their summary.url.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "vsphere-datastores.h"
#include "vsphere-props.h"
#include "vsphere-xml.h"

static bool
is_volume (xmlDocPtr ds, const char *volume)
{
  char *name = vs_props_text (ds, "name");
  char *url = vs_props_text (ds, "summary.url");
  char *want = NULL;
  bool r;

  if (asprintf (&want, "/volumes/%s/", volume) == -1)
    want = NULL;
  r = (name && strcmp (name, volume) == 0) ||
    (url && want && strstr (url, want));
  xmlFree (name);
  xmlFree (url);
  free (want);
  return r;
}

char *
vs_datastore_for_volume (struct vs_session *s, const char *vm_ref,
                         const char *volume)
{
  static const char *const vm_paths[] = { "datastore", NULL };
  static const char *const ds_paths[] = { "name", "summary.url", NULL };
  xmlDocPtr vm = vs_props_get (s, "VirtualMachine", vm_ref, vm_paths);
  xmlNodePtr ref;
  char *found = NULL;

  if (!vm)
    return NULL;
  for (ref = vs_props_val (vm, "datastore") ?
         vs_props_val (vm, "datastore")->children : NULL;
       ref && !found; ref = ref->next) {
    char *ds_ref;
    xmlDocPtr ds;

    if (ref->type != XML_ELEMENT_NODE)
      continue;
    ds_ref = (char *) xmlNodeGetContent (ref);
    ds = ds_ref ? vs_props_get (s, "Datastore", ds_ref, ds_paths) : NULL;
    if (ds && is_volume (ds, volume))
      found = vs_xml_take (vs_props_text (ds, "name"));
    xmlFreeDoc (ds);
    xmlFree (ds_ref);
  }
  xmlFreeDoc (vm);
  if (!found)
    nbdkit_error ("/vmfs/volumes/%s: none of the datastores of VM %s has "
                  "this name or UUID", volume, vm_ref);
  return found;
}
