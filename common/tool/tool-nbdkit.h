/* nbdkit with nbdkit-vsphere-plugin serving a VM's disks from one
 * snapshot, read-only, started and stopped by a tool.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef TOOL_NBDKIT_H
#define TOOL_NBDKIT_H

#include <stdbool.h>

#include "tool-child.h"
#include "tool-params.h"
#include "vsphere-guardian.h"

struct tool_nbdkit {
  const char *vm_ref;
  const char *snapshot_ref;
  const char *filter;           /* a --filter= value, or NULL */
  const char *const *extra;     /* more KEY=VALUE, NULL-terminated, or NULL */
  bool verbose;                 /* nbdkit -v */
  struct vs_guardian *guardian; /* of the snapshot, or NULL */
};

/* Start nbdkit as CHILD (see tool_child_start for DIR and NAME), with
 * the parameters P forwards and the password through a pipe, never on
 * a command line.  $NBDKIT and $NBDKIT_VSPHERE_PLUGIN override the
 * programs.  If this process dies, the snapshot's guardian (if given)
 * kills nbdkit.  Returns 0, or -1 with the error reported.
 */
int tool_nbdkit_start (struct tool_child *child, const struct tool_params *p,
                       const struct tool_nbdkit *how, const char *dir,
                       const char *name);

/* Before any work: that nbdkit loads the plugin, and FILTER if not
 * NULL ($NBDKIT_VSPHERE_PLUGIN and the same overrides as above).
 * Returns 0, or -1 with the error reported, saying what to install.
 */
int tool_nbdkit_check (const char *filter);

/* Stop it (if running); returns 0 if it exited cleanly, else -1 with
 * the error reported.
 */
int tool_nbdkit_stop (struct tool_child *child);

#endif /* TOOL_NBDKIT_H */
