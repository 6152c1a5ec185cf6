/* The pauses of the shared code's waits (task polls, backoff).  A
 * program may have them cut short, so that a stop signal ends a wait on
 * vCenter at once; nbdkit modules leave them whole, since nbdkit's own
 * shutdown must not cut short the removal of a snapshot.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VS_PAUSE_H
#define VS_PAUSE_H

#include <stdbool.h>
#include <time.h>

/* From now on, pauses end early once STOP returns true. */
void vs_pause_stop_when (bool (*stop) (void));

/* Sleep for D.  Returns false, at once or as soon as it is seen, if
 * the pause was cut short.
 */
bool vs_pause (struct timespec d);

/* Whether pauses are being cut short now. */
bool vs_pause_stopped (void);

#endif /* VS_PAUSE_H */
