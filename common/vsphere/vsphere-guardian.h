/* The guardian: a process of its own, forked before the temporary
 * snapshot is taken, that removes it if nbdkit dies before it could:
 * a crash, an assertion, SIGKILL, a signal during start-up.  nbdkit
 * tells it through a pipe what to look for; the guardian acts when
 * the pipe closes without nbdkit having said the snapshot is gone.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_GUARDIAN_H
#define VSPHERE_GUARDIAN_H

#include <stdbool.h>
#include <sys/types.h>

#include "vsphere-server.h"

struct vs_guardian;

/* Fork the guardian for VM_REF.  SRV must hold the password. */
struct vs_guardian *vs_guardian_start (const struct vs_server *srv,
                                       const char *vm_ref);

/* What to remove: the snapshot's NAME (before it is asked for), the
 * TASK taking it, then its REF.  The guardian uses the most precise.
 */
void vs_guardian_name (struct vs_guardian *g, const char *name);
void vs_guardian_task (struct vs_guardian *g, const char *task);
void vs_guardian_ref (struct vs_guardian *g, const char *ref);

/* PID, a child of ours, reads the snapshot for us: if we die, the
 * guardian kills it (SIGKILL) before it removes the snapshot.
 */
void vs_guardian_reader (struct vs_guardian *g, pid_t pid);

/* nbdkit is done with the guardian.  REMOVED: the snapshot is gone, and
 * the guardian exits at once; otherwise it goes on trying to remove it
 * once nbdkit has exited.
 */
void vs_guardian_stop (struct vs_guardian *g, bool removed);

pid_t vs_guardian_pid (const struct vs_guardian *g);

#endif /* VSPHERE_GUARDIAN_H */
