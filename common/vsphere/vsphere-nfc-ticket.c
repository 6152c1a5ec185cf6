/* NFC tickets (vsphere-nfc-ticket.h).  The NfcService's moref is asked
 * for each time rather than remembered: a ticket is taken per
 * connection, and the call costs one round trip.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "vsphere-nfc-ticket.h"
#include "vsphere-xml.h"

/* The NfcService's moref, or NULL (reported). */
static char *
nfc_service (struct vs_session *s)
{
  struct vs_fault fault = { 0 };
  xmlDocPtr doc = vs_soap_call (s, "RetrieveInternalContent",
                                "ServiceInstance", "ServiceInstance", "",
                                &fault);
  char *ref = NULL;

  if (doc)
    ref = vs_xml_take (vs_xml_child_text
                       (vs_xml_child (vs_soap_result (doc), "returnval"),
                        "nfcService"));
  if (!ref)
    nbdkit_error ("%s names no NfcService (RetrieveInternalContent%s%s): "
                  "it cannot serve disks over NFC",
                  vs_session_server (s)->server, fault.type ? ": " : "",
                  fault.type ? fault.type : "");
  vs_fault_free (&fault);
  xmlFreeDoc (doc);
  return ref;
}

int
vs_nfc_ticket_get (struct vs_session *s, const char *vm_ref,
                   struct vs_nfc_ticket *t)
{
  struct vs_fault fault = { 0 };
  char *service = nfc_service (s), *vm = vs_xml_escape (vm_ref);
  char *args = NULL;
  xmlDocPtr doc = NULL;
  xmlNodePtr rv;
  int64_t n;
  int r = -1;

  memset (t, 0, sizeof *t);
  if (!service || !vm ||
      asprintf (&args, "<vm type=\"VirtualMachine\">%s</vm>", vm) == -1) {
    args = NULL;
    goto out;
  }
  doc = vs_soap_call (s, "NfcGetVmFiles", "NfcService", service, args,
                      &fault);
  if (!doc) {
    if (fault.type)
      nbdkit_error ("NfcGetVmFiles for VM %s: %s: %s", vm_ref, fault.type,
                    fault.message);
    goto out;
  }
  rv = vs_xml_child (vs_soap_result (doc), "returnval");
  t->host = vs_xml_take (vs_xml_child_text (rv, "host"));
  t->ssl_thumbprint = vs_xml_take (vs_xml_child_text (rv, "sslThumbprint"));
  t->session_id = vs_xml_take (vs_xml_child_text (rv, "sessionId"));
  t->service = vs_xml_take (vs_xml_child_text (rv, "service"));
  if (!t->service)
    t->service = strdup ("vpxa-nfc");
  if (vs_xml_child_int64 (rv, "port", &n) == -1 || n < 1 || n > 65535 ||
      !t->session_id || !t->service) {
    nbdkit_error ("NfcGetVmFiles for VM %s: the ticket has no port "
                  "or sessionId", vm_ref);
    vs_nfc_ticket_free (t);
    goto out;
  }
  t->port = n;
  r = 0;

 out:
  vs_fault_free (&fault);
  xmlFreeDoc (doc);
  free (args);
  free (vm);
  free (service);
  return r;
}

void
vs_nfc_ticket_free (struct vs_nfc_ticket *t)
{
  free (t->host);
  free (t->ssl_thumbprint);
  free (t->session_id);
  free (t->service);
  memset (t, 0, sizeof *t);
}
