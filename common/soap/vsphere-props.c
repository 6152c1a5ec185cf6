/* Reading properties (vsphere-props.h) with one RetrievePropertiesEx
 * call to the session's PropertyCollector, the property paths written
 * straight into the request.  A path the server puts in missingSet
 * fails the whole read, so that a caller never takes a property it may
 * not read for one that is unset.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "vsphere-props.h"
#include "vsphere-xml.h"

xmlDocPtr
vs_props_get (struct vs_session *s, const char *type, const char *ref,
              const char *const *paths)
{
  const struct vs_service *svc = vs_session_service (s);
  char *args = NULL, *eref = vs_xml_escape (ref);
  size_t len = 0;
  FILE *fp = open_memstream (&args, &len);
  xmlDocPtr doc = NULL;
  xmlNodePtr obj, missing;
  struct vs_fault fault = { NULL, NULL };

  if (!fp || !eref) {
    nbdkit_error ("out of memory");
    goto out;
  }
  fprintf (fp, "<specSet><propSet><type>%s</type>", type);
  for (; *paths; paths++)
    fprintf (fp, "<pathSet>%s</pathSet>", *paths);
  fprintf (fp, "</propSet><objectSet><obj type=\"%s\">%s</obj></objectSet>"
           "</specSet><options/>", type, eref);
  if (fclose (fp) == EOF) {
    fp = NULL;
    nbdkit_error ("out of memory");
    goto out;
  }
  fp = NULL;
  doc = vs_soap_call (s, "RetrievePropertiesEx", "PropertyCollector",
                      svc->property_collector, args, &fault);
  if (!doc) {
    if (fault.type)
      nbdkit_error ("%s: reading %s %s: %s: %s",
                    vs_session_server (s)->server, type, ref,
                    fault.type, fault.message);
    vs_fault_free (&fault);
    goto out;
  }
  obj = vs_xml_child (vs_xml_child (vs_soap_result (doc), "returnval"),
                      "objects");
  if (!obj) {
    nbdkit_error ("%s: %s %s: the server returned no properties",
                  vs_session_server (s)->server, type, ref);
    xmlFreeDoc (doc);
    doc = NULL;
    goto out;
  }
  missing = vs_xml_child (obj, "missingSet");
  if (missing) {
    char *path = vs_xml_child_text (missing, "path");
    char *why = vs_xml_type (vs_xml_child (vs_xml_child (missing, "fault"),
                                           "fault"));

    nbdkit_error ("%s: %s %s: cannot read property %s: %s",
                  vs_session_server (s)->server, type, ref,
                  path ? path : "?", why ? why : "unknown fault");
    xmlFree (path);
    xmlFree (why);
    xmlFreeDoc (doc);
    doc = NULL;
  }

 out:
  if (fp)
    fclose (fp);
  free (args);
  free (eref);
  return doc;
}

xmlNodePtr
vs_props_val (xmlDocPtr doc, const char *name)
{
  xmlNodePtr obj = vs_xml_child (vs_xml_child (vs_soap_result (doc),
                                               "returnval"), "objects");
  xmlNodePtr ps;

  for (ps = vs_xml_child (obj, "propSet"); ps; ps = vs_xml_next_same (ps)) {
    char *n = vs_xml_child_text (ps, "name");
    int match = n && strcmp (n, name) == 0;

    xmlFree (n);
    if (match)
      return vs_xml_child (ps, "val");
  }
  return NULL;
}

char *
vs_props_text (xmlDocPtr doc, const char *name)
{
  xmlNodePtr v = vs_props_val (doc, name);

  return v ? (char *) xmlNodeGetContent (v) : NULL;
}
