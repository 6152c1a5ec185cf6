/* Temporary snapshots left by earlier runs that died (SIGKILL, power
 * loss): found when a new one is about to be taken, reported, and
 * removed when the user asks.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_STALE_H
#define VSPHERE_STALE_H

#include "vsphere-soap.h"

enum vs_stale_policy {
  VS_STALE_REPORT,              /* say so, remove nothing */
  VS_STALE_REMOVE_DEAD,         /* remove those whose run is surely over */
  VS_STALE_REMOVE_ALL,          /* also those whose run cannot be seen */
};

/* Parse remove-stale-snapshots=false|true|all. */
int vs_stale_parse (const char *value, enum vs_stale_policy *p);

/* Never removes a snapshot whose run is still alive on this host. */
void vs_stale_check (struct vs_session *s, const char *vm_ref,
                     const char *vm_name, enum vs_stale_policy p);

#endif /* VSPHERE_STALE_H */
