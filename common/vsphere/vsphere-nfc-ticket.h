/* A ticket for one NFC connection to the host that runs a VM: the
 * NfcService that RetrieveInternalContent names (it is not in the
 * public API: "nfcService" on vCenter, "ha-nfc-service" or "ha-nfc" on
 * a standalone ESXi host), then NfcGetVmFiles on it.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_NFC_TICKET_H
#define VSPHERE_NFC_TICKET_H

#include "vsphere-soap.h"

struct vs_nfc_ticket {
  char *host;                   /* the host's name, or NULL: the host
                                   logged in to (a standalone host's) */
  int port;                     /* authd's, 902 on real hosts */
  char *ssl_thumbprint;         /* the host certificate's SHA-1, or NULL */
  char *session_id;             /* single-use */
  char *service;                /* what authd's PROXY asks for: "vpxa-nfc"
                                   through vCenter, "nfc" from a host's own
                                   service; "ssl" appended for nfcssl */
};

/* A ticket for VM_REF's files.  Returns 0, or -1 (reported). */
int vs_nfc_ticket_get (struct vs_session *s, const char *vm_ref,
                       struct vs_nfc_ticket *t);
void vs_nfc_ticket_free (struct vs_nfc_ticket *t);

#endif /* VSPHERE_NFC_TICKET_H */
