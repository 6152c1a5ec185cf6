/* Who took a temporary snapshot: enough to tell, from another run,
 * whether the process that took it is still alive.  It is recorded in
 * the snapshot's description, which vCenter keeps and shows.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_OWNER_H
#define VSPHERE_OWNER_H

#include <stddef.h>

struct vs_owner {
  char host[256];               /* gethostname */
  char machine[64];             /* /etc/machine-id */
  char boot[64];                /* the kernel's boot_id */
  char pidns[64];               /* the PID namespace, as /proc names it */
  long pid;
  unsigned long long start;     /* the process's start time, in ticks */
};

/* Describe this process.  Fields that cannot be read stay empty. */
void vs_owner_self (struct vs_owner *o);

/* "host=H machine=M boot=B pidns=N pid=P start=S": words without spaces. */
void vs_owner_format (const struct vs_owner *o, char *buf, size_t len);

/* Find those words in TEXT.  Returns -1 if any is missing. */
int vs_owner_parse (const char *text, struct vs_owner *o);

enum vs_owner_state {
  VS_OWNER_ALIVE,               /* that process runs now */
  VS_OWNER_DEAD,                /* it does not, or its host rebooted since */
  VS_OWNER_UNKNOWN,             /* another host or namespace: cannot tell */
};

enum vs_owner_state vs_owner_state (const struct vs_owner *o);

#endif /* VSPHERE_OWNER_H */
