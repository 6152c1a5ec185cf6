/* One cycle: snapshot, copy the chosen disks, record, remove the
 * snapshot.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef SYNC_CYCLE_H
#define SYNC_CYCLE_H

#include "options.h"

/* Returns the exit status: 0 when the state was written, 2 for bad
 * plugin parameters, 1 otherwise.
 */
int sync_cycle (const struct sync_options *o);

#endif /* SYNC_CYCLE_H */
