/* Reading datastore files from the ESXi host that runs the VM rather
 * than through vCenter's /folder proxy: the host's name, and the
 * single-use service tickets that open one URL on it.
 */
#ifndef VSPHERE_HOSTDIRECT_H
#define VSPHERE_HOSTDIRECT_H

#include <stddef.h>

#include "vsphere-soap.h"

/* The inventory name of the host running VM_REF (runtime.host), which
 * is how vCenter reaches the host and so how clients address it.
 * Free with free.  NULL with an error reported.
 */
char *vs_vm_host_name (struct vs_session *s, const char *vm_ref);

/* A cookie header ("vmware_cgi_ticket=...") good for one GET of URL,
 * from vCenter's AcquireGenericServiceTicket.  -1 with MSG set.
 */
int vs_service_ticket (struct vs_session *s, const char *url,
                       char *cookie, size_t len, char *msg, size_t msglen);

#endif /* VSPHERE_HOSTDIRECT_H */
