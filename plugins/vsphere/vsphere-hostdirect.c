/* transport=host (vsphere.h): the ESXi host is found from the VM's
 * runtime.host and the host's own properties, and each GET on it
 * carries a ticket from AcquireGenericServiceTicket, good for that URL
 * once.  A ticket is a credential: its id is wiped here once copied
 * into the cookie, which the caller wipes after its GET.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <nbdkit-plugin.h>

#include "vsphere.h"
#include "vsphere-props.h"
#include "vsphere-xml.h"

int
vs_vm_host (struct vs_session *s, const char *vm_ref, struct vs_vm_host *host)
{
  static const char *const vm_paths[] = { "runtime.host", NULL };
  static const char *const host_paths[] = {
    "name", "summary.config.sslThumbprint", NULL
  };
  xmlDocPtr doc = vs_props_get (s, "VirtualMachine", vm_ref, vm_paths);
  char *host_ref = doc ? vs_props_text (doc, "runtime.host") : NULL;

  host->name = host->thumbprint = NULL;
  if (doc && !host_ref)
    nbdkit_error ("VM %s runs on no host (runtime.host is unset): the "
                  "host cannot be read from directly", vm_ref);
  if (doc)
    xmlFreeDoc (doc);
  if (!host_ref)
    return -1;
  doc = vs_props_get (s, "HostSystem", host_ref, host_paths);
  xmlFree (host_ref);
  if (!doc)
    return -1;
  host->name = vs_xml_take (vs_props_text (doc, "name"));
  host->thumbprint = vs_xml_take (vs_props_text (doc,
                                                 "summary.config.sslThumbprint"));
  xmlFreeDoc (doc);
  if (!host->name) {
    nbdkit_error ("VM %s: its host has no name", vm_ref);
    vs_vm_host_clear (host);
    return -1;
  }
  return 0;
}

void
vs_vm_host_clear (struct vs_vm_host *host)
{
  free (host->name);
  free (host->thumbprint);
  host->name = host->thumbprint = NULL;
}

int
vs_service_ticket (struct vs_session *s, const char *url,
                   char *cookie, size_t len, char *msg, size_t msglen)
{
  const struct vs_service *svc = vs_session_service (s);
  char *esc = vs_xml_escape (url), *args = NULL, *id = NULL;
  struct vs_fault f = { 0 };
  xmlDocPtr doc = NULL;
  xmlNodePtr rv;
  int r = -1;

  if (!esc || asprintf (&args, "<spec xsi:type=\"SessionManagerHttp"
                        "ServiceRequestSpec\"><url>%s</url>"
                        "<method>httpGet</method></spec>", esc) == -1) {
    snprintf (msg, msglen, "out of memory");
    free (esc);
    return -1;
  }
  doc = vs_soap_call (s, "AcquireGenericServiceTicket", "SessionManager",
                      svc->session_manager, args, &f);
  rv = doc ? vs_xml_child (vs_soap_result (doc), "returnval") : NULL;
  id = rv ? vs_xml_child_text (rv, "id") : NULL;
  if (id && (size_t) snprintf (cookie, len, "vmware_cgi_ticket=%s", id) < len)
    r = 0;
  else if (f.type)
    snprintf (msg, msglen, "vCenter refused a service ticket for the host "
              "(AcquireGenericServiceTicket: %s: %s)", f.type,
              f.message ? f.message : "");
  else
    snprintf (msg, msglen, "vCenter's answer to AcquireGenericServiceTicket "
              "holds no usable ticket id");
  if (r == -1)
    explicit_bzero (cookie, len);   /* snprintf may have left part of one */
  if (id) {
    explicit_bzero (id, strlen (id));
    xmlFree (id);
  }
  vs_fault_free (&f);
  if (doc)
    xmlFreeDoc (doc);
  free (args);
  free (esc);
  return r;
}
