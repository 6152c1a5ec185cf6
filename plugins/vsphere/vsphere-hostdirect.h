/* Reading datastore files from the ESXi host that runs the VM rather
 * than through vCenter's /folder proxy: the host's name, and the
 * single-use service tickets that open one URL on it.
 */
#ifndef VSPHERE_HOSTDIRECT_H
#define VSPHERE_HOSTDIRECT_H

#include <stddef.h>

#include "vsphere-soap.h"

/* The host running a VM (runtime.host). */
struct vs_vm_host {
  char *name;           /* its inventory name, how vCenter and clients
                         * reach it */
  char *thumbprint;     /* of its certificate, as vCenter knows it
                         * (summary.config.sslThumbprint), or NULL */
};

/* Find the host running VM_REF.  -1 with an error reported. */
int vs_vm_host (struct vs_session *s, const char *vm_ref,
                struct vs_vm_host *host);
void vs_vm_host_clear (struct vs_vm_host *host);

/* A cookie header ("vmware_cgi_ticket=...") good for one GET of URL,
 * from vCenter's AcquireGenericServiceTicket.  -1 with MSG set.
 */
int vs_service_ticket (struct vs_session *s, const char *url,
                       char *cookie, size_t len, char *msg, size_t msglen);

#endif /* VSPHERE_HOSTDIRECT_H */
