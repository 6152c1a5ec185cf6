/* Checks before a cycle does anything that costs: that nbdkit loads the
 * plugin and the filter and that every output can be written, before
 * logging in and taking the snapshot; and, once the plan knows how
 * much each disk will write, that the outputs' file systems have room
 * for it, before any byte is written.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef SYNC_PREFLIGHT_H
#define SYNC_PREFLIGHT_H

#include "options.h"
#include "plan.h"

/* The space a cycle needs beyond what it writes: 1% of it and 4 MiB
 * per file system, for qcow2 metadata and the new state file.
 */
#define SYNC_SPACE_MARGIN_PERCENT 1
#define SYNC_SPACE_MARGIN_BYTES (4 * 1024 * 1024)

/* nbdkit loads the plugin and the cbt filter; -o DIR exists (created
 * if its parent does) and can be written; so can each --disk output
 * and the state file, or the directories they will be created in.
 * STATE_PATH may be NULL (known only once the VM is).  Returns 0, or
 * -1 with the error reported.
 */
int sync_preflight_local (const struct sync_options *o,
                          const char *state_path);

/* The outputs' file systems have room for what PLAN writes, with the
 * margin above (unless --no-space-check).  Returns 0, or -1 with the error reported.
 */
int sync_preflight_space (const struct sync_options *o,
                          const struct sync_plan *plan);

#endif /* SYNC_PREFLIGHT_H */
