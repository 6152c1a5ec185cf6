/* The one snapshot a tool reads every disk of a VM from: an existing
 * one (--snapshot), or a temporary one of its own, always removed.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef TOOL_SNAPSHOT_H
#define TOOL_SNAPSHOT_H

#include <stdbool.h>

#include "tool-params.h"
#include "vsphere-soap.h"
#include "vsphere-target.h"
#include "vsphere-temp-snapshot.h"

struct tool_snapshot {
  struct vs_temp_snapshot temp; /* ours, unless an existing one is read */
  char *ref;                    /* the snapshot read; NULL until known */
  bool existing;
};

/* Find the snapshot named EXISTING, or, where EXISTING is NULL, take
 * one of our own.  Returns 0, or -1 with the error reported; call
 * tool_snapshot_remove either way.
 */
int tool_snapshot_take (struct tool_snapshot *sn, struct vs_session *s,
                        const struct tool_params *p,
                        const struct vs_target *t, const char *existing);

/* Read the snapshot's own disks into T (with their changeIds), and
 * refuse independent disks while the VM runs: the snapshot does not
 * freeze them.  Returns 0, or -1 with the error reported.
 */
int tool_snapshot_read_disks (const struct tool_snapshot *sn,
                              struct vs_session *s,
                              const struct tool_params *p,
                              struct vs_target *t);

/* Remove the snapshot if it is ours (a no-op for an existing one).
 * Returns 0 when it is gone, -1 with the error reported (the guardian
 * goes on trying).  Safe to call twice.  SN->ref stays, for reports;
 * the caller frees it.
 */
int tool_snapshot_remove (struct tool_snapshot *sn, struct vs_session *s,
                          const struct vs_target *t);

#endif /* TOOL_SNAPSHOT_H */
