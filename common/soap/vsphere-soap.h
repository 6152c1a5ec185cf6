/* A logged-in vSphere API session: SOAP calls over one keep-alive
 * connection, and the session cookie that the datastore HTTP reads
 * present.  Safe to use from several threads.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_SOAP_H
#define VSPHERE_SOAP_H

#include <stdbool.h>

#include <libxml/tree.h>

#include "vsphere-server.h"

struct vs_session;

/* Managed objects from the ServiceContent. */
struct vs_service {
  char *root_folder;
  char *property_collector;
  char *session_manager;
  char *search_index;
  char *view_manager;
  char *api_version;
  char *api_type;               /* about.apiType: "VirtualCenter", ... */
  bool esxi;                    /* apiType "HostAgent": a standalone ESXi host */
};

/* The one datacenter of a standalone ESXi host. */
#define VS_ESXI_DATACENTER "ha-datacenter"

/* A SOAP fault: TYPE is the fault's class (e.g. "NotAuthenticated"). */
struct vs_fault {
  char *type;
  char *message;
};

/* Connect, read the ServiceContent and log in.  Errors are reported. */
struct vs_session *vs_session_open (const struct vs_server *srv);

/* Log out (best effort) and free. */
void vs_session_close (struct vs_session *s);

const struct vs_service *vs_session_service (const struct vs_session *s);
const struct vs_server *vs_session_server (const struct vs_session *s);

/* What the server is, for messages: "vCenter" or "the ESXi host". */
const char *vs_session_product (const struct vs_session *s);

/* Copy the cookie header value into BUF and its generation into *GEN. */
int vs_session_cookie (struct vs_session *s, char *buf, size_t len,
                       unsigned *gen);

/* The server rejected the cookie of generation GEN: log in again,
 * unless another thread already did.
 */
int vs_session_renew (struct vs_session *s, unsigned gen);

/* Call METHOD on managed object THIS_REF of type THIS_TYPE.  ARGS is the
 * XML of the arguments (values already escaped), or "".  Returns the
 * document, whose response element vs_soap_result finds.  On a fault,
 * returns NULL: if FAULT is given the fault is stored there for the
 * caller to explain (free with vs_fault_free), otherwise it is reported.
 * Transport errors are always reported.  A NotAuthenticated fault
 * (expired session) is answered by logging in again and retrying once.
 */
xmlDocPtr vs_soap_call (struct vs_session *s, const char *method,
                        const char *this_type, const char *this_ref,
                        const char *args, struct vs_fault *fault);

/* The <returnval> elements are children of this response element. */
xmlNodePtr vs_soap_result (xmlDocPtr doc);

void vs_fault_free (struct vs_fault *f);

#endif /* VSPHERE_SOAP_H */
